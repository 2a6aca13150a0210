"""Noticing at once that an event-stream client hung up.

A server that only writes to a socket learns that the client is gone when a
write fails, which for an idle stream is the next keep-alive, many seconds
later (or never, while the kernel still buffers). An EventSource client
never sends anything after its request, so the socket becoming readable
means the client closed it (or reset it): a greenlet waiting for exactly
that wakes the stream, which ends and schedules the peer's departure.

Only under gevent (gunicorn's gevent worker and ``python main.py``), where
the WSGI environ carries the client socket. Elsewhere (the Functions
Framework, unit tests) there is no watcher and a failed write still ends the
stream.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

SOCKET_KEYS = ("gunicorn.socket", "signaling.socket")


class HangUpWatcher:
    """Calls ``on_hangup`` once when the client closes its end of the connection.

    A libev read watcher on the socket with a callback, not a greenlet
    blocked in ``recv``: with 10,000 idle streams a greenlet each cost about
    6 KB (its saved stack and spawn record) for nothing but waiting. The
    callback runs in gevent's hub, so it must not block: it peeks without
    waiting (MSG_DONTWAIT on the underlying socket).
    """

    __slots__ = ("hung_up", "_sock", "_on_hangup", "_io")

    def __init__(self, sock: socket.socket, on_hangup: Callable[[], None]) -> None:
        from gevent import get_hub

        self.hung_up = False
        self._sock = getattr(sock, "_sock", sock)  # gevent's socket wraps the real one
        self._on_hangup = on_hangup
        self._io = get_hub().loop.io(sock.fileno(), 1)  # 1: readable
        self._io.start(self._readable)

    def _readable(self) -> None:
        try:
            data = self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return  # woken without data (spurious): keep watching
        except OSError:
            data = b""
        self._io.stop()
        if data:
            return  # the client sent something (pipelining); not a hang-up
        self.hung_up = True
        self._on_hangup()

    def stop(self) -> None:
        self._io.stop()
        self._io.close()


def watch(environ: dict[str, Any], on_hangup: Callable[[], None]) -> HangUpWatcher | None:
    """A watcher for this request's client socket, or None where there is none (or no gevent)."""
    sock = next((environ[k] for k in SOCKET_KEYS if k in environ), None)
    if sock is None:
        return None
    try:
        from gevent import monkey
    except ImportError:
        return None
    if not monkey.is_module_patched("socket"):
        return None
    return HangUpWatcher(sock, on_hangup)
