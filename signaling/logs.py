"""Structured access logs: one JSON line per request, never a token, query or body.

Query strings are left out on purpose: EventSource has to carry its token in
``?token=``. The request id comes from ``X-Request-ID`` / ``X-Cloud-Trace-Context``
when a platform sets one, otherwise it is made up, and is echoed back.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time

from flask import Flask, g, request

access = logging.getLogger("signaling.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._/-]{1,128}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "severity": record.levelname,  # what Google Cloud Logging reads from a JSON line
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str) -> None:
    """JSON lines on stderr for the whole process (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
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
