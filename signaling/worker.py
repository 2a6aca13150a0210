"""The gunicorn worker: gevent, with problem+json error pages and one socket write per small response.

gunicorn.conf.py loads this module by path, in the master, so it imports
nothing of the app (only gunicorn and the standard library).

* **Errors as problems.** gunicorn answers a request it cannot parse (a
  malformed request line, a URL over ``limit_request_line``, too many or too
  large headers) itself, before the app runs, with a small HTML page written
  by ``gunicorn.util.write_error``. It offers no hook for that body, so this
  worker, in its own process, replaces that one function with one that writes
  the same status as an RFC 9457 problem.
* **One write per response.** gunicorn sends a response's head and its body
  in two ``sendall`` calls. On loopback each one is a system call that also
  runs the receiver's TCP path, and profiling the relay benchmark showed the
  head's own send at about 14 % of a ``POST /v1/messages``' CPU (bench/README.md).
  :class:`OneWriteResponse` keeps the head until the first body bytes and
  sends both together; an SSE stream's first event leaves with its head too.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.ggevent import GeventWorker

SLUGS = {400: "invalid-request", 403: "forbidden", 414: "uri-too-long", 417: "expectation-failed",
         431: "headers-too-large", 500: "internal-error", 501: "not-implemented"}  # fmt: skip


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """What ``gunicorn.util.write_error`` writes, as application/problem+json."""
    slug = SLUGS.get(status_int, "invalid-request" if status_int < 500 else "internal-error")
    problem: dict[str, object] = {"type": f"urn:http-signaling:problem:{slug}", "title": reason, "status": status_int}
    if mesg:
        problem["detail"] = mesg
    body = json.dumps(problem).encode()  # ASCII: json.dumps escapes the rest
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class OneWriteResponse(wsgi.Response):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's response, writing its head together with the first body bytes.

    Only ``write`` and ``close`` hold the head back, and both send it before
    they return, so what is on the wire when they return is what gunicorn
    would have sent; every other caller of ``send_headers`` (``sendfile``)
    still sends it at once.
    """

    _holding = False
    _head: bytes | None = None
    headers_sent: bool  # gunicorn's, set in its __init__

    def send_headers(self) -> None:
        if not self._holding:
            super().send_headers()
            return
        if self.headers_sent:
            return
        lines = self.default_headers()
        lines.extend(f"{k}: {v}\r\n" for k, v in self.headers)
        self._head = ("".join(lines) + "\r\n").encode("latin-1")
        self.headers_sent = True

    def _emit_body(self, data: bytes) -> None:
        head, self._head = self._head, None
        if head is None:
            super()._emit_body(data)
        elif self.chunked:
            self.sock.sendall(b"%s%X\r\n%s\r\n" % (head, len(data), data))
        else:
            self.sock.sendall(head + data)

    def write(self, arg: bytes) -> None:
        self._holding = True
        try:
            super().write(arg)
        finally:
            self._holding = False
        self._send_held_head()  # no body bytes went out (empty, or a response without a body)

    def close(self) -> None:
        self._holding = True
        try:
            if not self.headers_sent:
                self.send_headers()
        finally:
            self._holding = False
        head, self._head = self._head, None
        if self.chunked:
            self.sock.sendall((head or b"") + b"0\r\n\r\n")
        elif head is not None:
            self.sock.sendall(head)

    def _send_held_head(self) -> None:
        head, self._head = self._head, None
        if head is not None:
            self.sock.sendall(head)


class ProblemGeventWorker(GeventWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's gevent worker, answering its own errors as problem+json, one write per response."""

    def init_process(self) -> None:
        util.write_error = write_problem
        # wsgi.create() builds ``Response(...)`` by its module-level name.
        wsgi.Response = OneWriteResponse
        super().init_process()
