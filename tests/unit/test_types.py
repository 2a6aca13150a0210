"""``mypy --strict`` passes on signaling/ (configuration: [tool.mypy] in pyproject.toml).

Run by the suite, so scripts/test.sh (the README's test command) type-checks
the server. A missing mypy fails loudly: requirements-dev.txt pins it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict_passes_on_signaling():
    try:
        import mypy  # noqa: F401 - only to fail with a clear message
    except ImportError as error:  # pragma: no cover - a broken environment
        raise AssertionError("mypy is not installed: pip install -r requirements-dev.txt") from error
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "signaling"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert result.returncode == 0, result.stdout + result.stderr
