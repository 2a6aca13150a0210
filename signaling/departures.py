"""Ending sessions whose client went away, a short grace after its connection closed.

A crashed tab sends no goodbye. Waiting for its presence TTL leaves a ghost
in rooms and the phone's contacts for most of a minute, so the instance that
served the peer's stream (or long-poll) schedules a check here when it ends.
The check runs one atomic script (:meth:`Store.depart`): it ends the session
only if the peer made no request and opened no stream or poll anywhere since
the marks were taken, so a reconnect to any instance keeps the session.

The checks live in this process only: if the process dies first, the
presence TTL remains the backstop. One thread (a greenlet under gevent) runs
them all from a heap, so a thousand closed streams cost a thousand heap
entries, not a thousand timers.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# (peer, sid, activity mark, connection mark) -> ended?
Check = Callable[[str, str, str, str], bool]


class Departures:
    def __init__(self, check: Check) -> None:
        self._check = check
        self._heap: list[tuple[float, int, tuple[str, str, str, str]]] = []
        self._order = itertools.count()
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.ended = 0  # sessions this process ended (metrics, tests)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._heap)

    def schedule(self, delay: float, peer: str, sid: str, activity: str, connection: str) -> None:
        """Check, ``delay`` seconds from now, whether the peer came back since these marks."""
        with self._lock:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), (peer, sid, activity, connection)))
            self._lock.notify()
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="signaling-departures", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._heap.clear()
            self._lock.notify()

    def _next_due(self) -> tuple[str, str, str, str] | None:
        with self._lock:
            while not self._stopping:
                if not self._heap:
                    self._lock.wait(60.0)
                    continue
                due = self._heap[0][0] - time.monotonic()
                if due <= 0:
                    return heapq.heappop(self._heap)[2]
                self._lock.wait(due)
            return None

    def _run(self) -> None:
        while True:
            item = self._next_due()
            if item is None:
                return
            try:
                if self._check(*item):
                    self.ended += 1
            except RedisError as error:
                # The presence TTL ends the session anyway; nothing to retry.
                log.warning("departure check failed: %s", type(error).__name__)
            except Exception:  # noqa: BLE001 - one bad check must not stop the others
                log.exception("departure check failed")
