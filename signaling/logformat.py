"""The one log line format for the whole process: app loggers and gunicorn's own.

JSON lines on a platform (Cloud Logging and Heroku's drains read ``severity``
and fields from them) or with ``LOG_FORMAT=json``; one readable line per record
in development. This module imports only the standard library, so
gunicorn.conf.py can load it in the master without importing Flask before the
gevent workers fork.
"""

from __future__ import annotations

import json
import logging
from typing import Any

FORMATS = ("text", "json")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """Structured fields a caller attached with ``extra={"fields": {...}}``."""
    return getattr(record, "fields", None) or {}


class _SecondStamps(logging.Formatter):
    """Formats the timestamp once per second, not per line (it showed in the per-message profile, bench/README.md)."""

    _second = -1
    _stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802  # logging's name
        second = int(record.created)
        if second != self._second:
            self._stamp = super().formatTime(record, datefmt)
            self._second = second
        return self._stamp


class JsonFormatter(_SecondStamps):
    """One JSON object per line: time, level, severity, logger, message, pid and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "severity": record.levelname,  # what Google Cloud Logging reads from a JSON line
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        entry.update(_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(_SecondStamps):
    """``12:00:01 INFO signaling.access: GET /v1/events 200  ms=1.2 request_id=...`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        if fields:
            extra = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("method", "path", "status"))
            line = f"{line}  {extra}" if extra else line
        return line


def formatter(kind: str) -> logging.Formatter:
    """The formatter for ``kind`` (a :data:`FORMATS` value, as settled by signaling/config.py)."""
    return JsonFormatter() if kind == "json" else TextFormatter()
