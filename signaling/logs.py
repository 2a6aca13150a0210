"""Access logs: one line per request (JSON on a platform), never a token, query or body.

Query strings are left out on purpose: EventSource has to carry its token in
``?token=``. The request id comes from ``X-Request-ID`` / ``X-Cloud-Trace-Context``
when a platform sets one, otherwise it is made up, and is echoed back.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time

from flask import Flask, g, request

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
    handler.signaling_format = fmt
    root.handlers[:] = [handler]
    root.setLevel(level)


def _request_id() -> str:
    given = request.headers.get("X-Request-ID") or request.headers.get("X-Cloud-Trace-Context", "").split("/")[0]
    return given if given and _REQUEST_ID.fullmatch(given) else secrets.token_hex(8)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = _request_id()
        g.started = time.perf_counter()

    @app.after_request
    def _log(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        fields = {
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
        }
        access.info("%s %s %s", request.method, request.path, response.status_code, extra={"fields": fields})
        return response
