"""A gunicorn started ahead of time, so a test that needs a fresh server need not wait for one.

Starting ``gunicorn main:app`` takes a second or two (imports in the master
and the worker). The browser tests each want a server of their own (their
own key prefix: no phone directory or room left over from another test), so
while one test runs, the next one's server is already booting; the test only
checks it is healthy. Isolation is unchanged: every server serves one test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from tests.support.processes import AppServer


class SpareApps:
    """``take()`` hands out a started server and spawns the next one in the background."""

    def __init__(self, env: Callable[[int], dict[str, str]]) -> None:
        """``env(n)``: the settings of the n-th server (e.g. its own KEY_PREFIX)."""
        self._env = env
        self._count = itertools.count()
        self._spare: AppServer | None = None

    def _spawn(self) -> AppServer:
        return AppServer(self._env(next(self._count)), wait=False)

    def take(self) -> AppServer:
        server = self._spare or self._spawn()
        self._spare = None
        server.wait_ready()
        self._spare = self._spawn()
        return server

    def close(self) -> None:
        if self._spare is not None:
            self._spare.discard()
            self._spare = None
