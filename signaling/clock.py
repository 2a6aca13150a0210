"""The store's clock: milliseconds since the epoch, read by every store module.

One function in one place so a test can freeze and move time for all of
them at once (tests/unit/conftest.py's ``clock`` patches ``clock.now_ms``);
the store modules therefore call ``clock.now_ms()``, never a copy of it.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    return int(time.time() * 1000)
