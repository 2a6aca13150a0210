"""A gevent worker whose own error answers (400, 414, 431, ...) are problem+json, not HTML.

gunicorn answers a request it cannot parse (a malformed request line, a URL
over ``limit_request_line``, too many or too large headers) itself, before
the app runs, with a small HTML page written by ``gunicorn.util.write_error``.
It offers no hook for that body, so this worker, in its own process, replaces
that one function with one that writes the same status as an RFC 9457
problem. gunicorn.conf.py loads this module by path, in the master, so it
imports nothing of the app (only gunicorn and the standard library).
"""

from __future__ import annotations

import json
import socket

from gunicorn import util
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


class ProblemGeventWorker(GeventWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's gevent worker, answering its own errors as problem+json."""

    def init_process(self) -> None:
        util.write_error = write_problem
        super().init_process()
