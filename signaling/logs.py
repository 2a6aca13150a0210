"""Access logs: one line per request (JSON on a platform), never a token, query or body.

Query strings are left out on purpose: EventSource has to carry its token in
``?token=``. The request id comes from ``X-Request-ID`` / ``X-Cloud-Trace-Context``
when a platform sets one, otherwise it is made up, and is echoed back.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from itertools import count

from flask import Flask, g, request
from werkzeug.datastructures import EnvironHeaders, Headers
from werkzeug.wrappers import Response

from .logformat import JsonFormatter, formatter

__all__ = ["JsonFormatter", "configure", "init_app"]

access = logging.getLogger("signaling.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._/-]{1,128}")


def configure(level: str, fmt: str = "text") -> None:
    """One stderr handler for the whole process, in ``fmt`` (see :mod:`signaling.logformat`); idempotent."""
    root = logging.getLogger()
    if any(getattr(h, "signaling_format", None) == fmt for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.signaling_format = fmt  # type: ignore[attr-defined]
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Record fields no formatter here prints, skipped as the logging HOWTO's
    # "Optimization" section describes: every request writes an access line.
    logging.logThreads = False  # thread names (every greenlet is in MainThread anyway)
    logging._srcfile = None  # caller's file and line: a stack walk per record


# Made-up request ids only need to be unique, not secret: a per-process random
# prefix and a counter cost nothing, where secrets.token_hex was a syscall per request.
_PREFIX = os.urandom(4).hex()
_COUNTER = count(1)


def _new_prefix() -> None:
    global _PREFIX
    _PREFIX = os.urandom(4).hex()


os.register_at_fork(after_in_child=_new_prefix)  # workers forked after import get their own


def request_id(headers: Headers | EnvironHeaders) -> str:
    """The platform's id for this request if it gave a sane one, else a new one."""
    given = headers.get("X-Request-ID") or headers.get("X-Cloud-Trace-Context", "").split("/")[0]
    if given and _REQUEST_ID.fullmatch(given):
        return given
    return f"{_PREFIX}{next(_COUNTER):08x}"


def finish(response: Response, rid: str, method: str, path: str, started: float) -> None:
    """Echo the request id and write the access line (shared by Flask's hook and the send shortcut)."""
    response.headers["X-Request-ID"] = rid
    if access.isEnabledFor(logging.INFO):
        status = response.status_code
        fields = {
            "request_id": rid,
            "method": method,
            "path": path,
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        access.info("%s %s %s", method, path, status, extra={"fields": fields})


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request_id(request.headers)
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        finish(response, g.get("request_id", ""), request.method, request.path, g.get("started", time.perf_counter()))
        return response
