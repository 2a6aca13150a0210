"""The safety re-read of every open stream in one pipelined step per process per interval.

A wake-up is only a hint (signaling/hub.py): one can be lost (a pub/sub
reconnect, a full note queue), so every open SSE stream must notice stored
mail without it. Each stream used to re-read its mailbox (the READ script)
every HUB_RECHECK_INTERVAL: at 10,000 idle streams, 330 scripts and greenlet
wake-ups per second for nothing. Now one greenlet per process asks Redis,
every interval and in pipelined chunks, for each stream's newest mailbox
entry and its session's sid, and wakes only the streams that are behind
(newest entry after the cursor they delivered up to) or whose session is no
longer theirs; a woken stream reads as after any wake-up.

Bound: a message whose wake-up was lost reaches its open stream at most
HUB_RECHECK_INTERVAL (plus the time one sweep takes) after it was stored,
as before. A sweep that Redis cannot answer wakes the streams of that chunk,
which then read (and end with ``retry:`` if Redis is really down), as their
own periodic read used to.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHUNK = 500  # streams per pipelined round trip; the loop runs other greenlets between chunks


class Watched:
    """One open stream as the sweep sees it; the stream moves ``cursor`` as it delivers."""

    __slots__ = ("peer", "sid", "cursor", "wake")

    def __init__(self, peer: str, sid: str, cursor: str, wake: Callable[[], None]) -> None:
        self.peer = peer
        self.sid = sid
        self.cursor = cursor
        self.wake = wake


def _order(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Sweep:
    """Periodically checks all open streams of this process with one pipeline per chunk.

    ``keys_of(peer)`` gives ``(session key, mailbox key)``; both share the
    peer's hash tag, so on a Redis Cluster each stream's two commands go to
    one node (redis-py's cluster pipeline routes them).
    """

    def __init__(self, client: Any, keys_of: Callable[[str], tuple[str, str]], interval: float) -> None:
        self._client = client
        self._keys_of = keys_of
        self.interval = interval
        self._streams: set[Watched] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.sweeps = 0  # completed sweeps (tests, metrics)
        self.woken = 0  # streams woken because they were behind or their session changed

    def __len__(self) -> int:
        return len(self._streams)

    def add(self, watched: Watched) -> None:
        with self._lock:
            self._streams.add(watched)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="signaling-sweep", daemon=True)
                self._thread.start()

    def remove(self, watched: Watched) -> None:
        with self._lock:
            self._streams.discard(watched)

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                if not self._streams:
                    self._thread = None
                    return
                streams = list(self._streams)
            self.sweep(streams)

    def sweep(self, streams: list[Watched] | None = None) -> None:
        """Check ``streams`` (default: all open ones) now; wake those that must read."""
        if streams is None:
            with self._lock:
                streams = list(self._streams)
        for start in range(0, len(streams), CHUNK):
            self._check(streams[start : start + CHUNK])
            time.sleep(0)  # let the greenlets that serve requests run between chunks
        self.sweeps += 1

    def _check(self, chunk: list[Watched]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for watched in chunk:
            session, mailbox = self._keys_of(watched.peer)
            pipe.hget(session, "sid")
            pipe.xrevrange(mailbox, "+", "-", count=1)
        try:
            replies = pipe.execute(raise_on_error=False)
        except RedisError as error:
            log.warning("stream sweep failed (%s); those streams read themselves", type(error).__name__)
            replies = [error] * (2 * len(chunk))
        for i, watched in enumerate(chunk):
            if self._behind(watched, replies[2 * i], replies[2 * i + 1]):
                self.woken += 1
                watched.wake()

    @staticmethod
    def _behind(watched: Watched, sid: Any, newest: Any) -> bool:
        if isinstance(sid, Exception) or isinstance(newest, Exception):
            return True
        if sid is None or _text(sid) != watched.sid:
            return True  # the session ended or was replaced: the read says so
        if not newest:
            return False
        return _order(_text(newest[0][0])) > _order(watched.cursor)
