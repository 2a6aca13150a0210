"""The client's version: the distribution's, which pyproject.toml takes from signaling/version.py.

Read without importing :mod:`signaling` (that would pull in Flask and redis,
which a client does not need).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path


def _version() -> str:
    source = Path(__file__).resolve().parent.parent / "signaling" / "version.py"
    if source.exists():  # a source checkout: the one place the version is written
        return re.search(r'__version__ = "([^"]+)"', source.read_text()).group(1)
    return metadata.version("http-signaling")


__version__ = _version()
