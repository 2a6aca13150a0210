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

from flask import Flask, Response, g, request

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


# Made-up request ids only need to be unique, not secret: a per-process random
# prefix and a counter cost nothing, where secrets.token_hex was a syscall per request.
_PREFIX = os.urandom(4).hex()
_COUNTER = count(1)


def _new_prefix() -> None:
    global _PREFIX
    _PREFIX = os.urandom(4).hex()


os.register_at_fork(after_in_child=_new_prefix)  # workers forked after import get their own


def _request_id() -> str:
    headers = request.headers
    given = headers.get("X-Request-ID") or headers.get("X-Cloud-Trace-Context", "").split("/")[0]
    if given and _REQUEST_ID.fullmatch(given):
        return given
    return f"{_PREFIX}{next(_COUNTER):08x}"


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = _request_id()
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        fields = {
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
        }
        if access.isEnabledFor(logging.INFO):
            access.info("%s %s %s", request.method, request.path, response.status_code, extra={"fields": fields})
        return response
