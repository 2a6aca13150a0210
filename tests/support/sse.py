"""A Server-Sent Events client on a raw socket, for integration tests and benchmarks.

It speaks HTTP/1.1 (chunked bodies, as gunicorn streams them) so the test
sees exactly the bytes a browser's EventSource would, including ``id:``,
``event:``, ``retry:`` and comment lines. It closes its socket abruptly on
:meth:`SSEStream.close`, like a browser tab going away.
"""

from __future__ import annotations

import socket
import time
from collections import deque
from urllib.parse import urlsplit

from signaling_client.sse import Event, EventStreamParser

__all__ = ["Event", "SSEStream"]


# The parser and Event are the Python client's (one copy); the old names stay for existing tests.
_Parser = EventStreamParser


class SSEStream:
    """``GET`` an event stream and read its events one at a time with bounded waits."""

    def __init__(self, base: str, path: str, headers: dict[str, str] | None = None, timeout: float = 10.0):
        parts = urlsplit(base)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        lines = [f"GET {path} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._raw = bytearray()
        self._chunk_left = 0  # bytes of chunk data still to come
        self._crlf_left = 0  # bytes of the CR LF after a chunk still to come
        self.eof = False
        self.body = bytearray()  # decoded body bytes (kept for non-200 answers and debugging)
        self._parser = EventStreamParser()
        self._frames: deque[tuple[dict, Event | None]] = deque()
        self.status, self.headers = self._read_head(time.monotonic() + timeout)
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        if self._raw:
            leftover, self._raw = bytes(self._raw), bytearray()
            self._feed(leftover)

    # reading ------------------------------------------------------------
    def _read_head(self, deadline: float) -> tuple[int, dict[str, str]]:
        while b"\r\n\r\n" not in self._raw:
            if not self._recv(deadline):
                raise ConnectionError(f"no response head; got {bytes(self._raw)!r}")
        head, _, rest = bytes(self._raw).partition(b"\r\n\r\n")
        self._raw = bytearray(rest)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), headers

    def _recv(self, deadline: float) -> bool:
        """Read what the socket has (waiting until ``deadline``); False at EOF or timeout."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.eof:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        except OSError:
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        if self.status_known:
            self._feed(data)
        else:
            self._raw += data
        return True

    @property
    def status_known(self) -> bool:
        return hasattr(self, "chunked")

    def _feed(self, data: bytes) -> None:
        if not self.chunked:
            self._body_bytes(data)
            return
        self._raw += data
        out = bytearray()
        while self._raw:
            if self._crlf_left:
                take = min(self._crlf_left, len(self._raw))
                del self._raw[:take]
                self._crlf_left -= take
                continue
            if self._chunk_left == 0:
                end = self._raw.find(b"\r\n")
                if end < 0:
                    break
                size = int(bytes(self._raw[:end]).split(b";")[0], 16)
                del self._raw[: end + 2]
                if size == 0:
                    self.eof = True
                    break
                self._chunk_left = size
            take = min(self._chunk_left, len(self._raw))
            out += self._raw[:take]
            del self._raw[:take]
            self._chunk_left -= take
            if self._chunk_left == 0:
                self._crlf_left = 2
        self._body_bytes(bytes(out))

    def _body_bytes(self, data: bytes) -> None:
        self.body += data
        if self.status == 200:
            self._frames.extend(self._parser.feed(data))

    # public -------------------------------------------------------------
    @property
    def comments(self) -> int:
        """How many comment lines (keep-alives) arrived so far."""
        return self._parser.comments

    def next_event(self, timeout: float = 10.0) -> Event | None:
        """The next event of any kind, or None if none came within ``timeout`` (or the stream ended)."""
        deadline = time.monotonic() + timeout
        while True:
            while not self._frames:
                if not self._recv(deadline):
                    return None
            _, event = self._frames.popleft()
            if event is not None:
                return event

    def next_frame(self, timeout: float = 10.0) -> dict | None:
        """The next frame as sent, ``retry:``-only and comment-only ones included (see :class:`_Parser`).

        None once the server has ended the stream; :class:`TimeoutError` if no
        whole frame came within ``timeout`` while the stream was still open.
        """
        deadline = time.monotonic() + timeout
        while not self._frames:
            if not self._recv(deadline):
                if self.eof:
                    return None
                raise TimeoutError(f"no SSE frame within {timeout} s")
        return self._frames.popleft()[0]

    def next_message(self, timeout: float = 10.0) -> Event | None:
        """The next mailbox message (an event with an ``id:``), skipping ``ready`` and friends."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None or event.id is not None:
                return event

    def messages(self, count: int, timeout: float = 10.0) -> list[Event]:
        """Exactly ``count`` messages, or fewer if they did not all come within ``timeout``."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < count:
            event = self.next_message(max(0.0, deadline - time.monotonic()))
            if event is None:
                break
            out.append(event)
        return out

    def read_until_closed(self, timeout: float = 10.0) -> list[Event]:
        """Every remaining event until the server ends the stream (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None:
                out.extend(e for _, e in self._frames if e is not None)
                self._frames.clear()
                return out
            out.append(event)

    def close(self) -> None:
        """Drop the connection at once (no goodbye), like a tab being closed."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> SSEStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
