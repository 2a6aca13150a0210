"""Parsing ``text/event-stream`` the way a browser's EventSource does.

The parser is incremental (feed it bytes as they arrive) and reports every
frame, including ``retry:``-only and comment-only ones (keep-alives), so a
caller can watch the connection's liveness, not just its events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Event:
    """One dispatched event (``data`` lines joined with newlines, as EventSource does)."""

    id: str | None = None
    event: str = "message"
    data: str = ""
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


Frame = dict[str, Any]


@dataclass
class EventStreamParser:
    """Turns bytes into ``(frame, event)`` pairs; lines end with LF (CR LF tolerated).

    ``frame`` is the lines up to a blank line as a dict of fields (``data``
    lines joined, comment lines listed under ``":"``); ``event`` is the
    :class:`Event` it dispatches, or None for a frame of only ``retry:`` or
    comments, which EventSource does not dispatch. ``retry`` is sticky, as in
    the browser: the last value seen applies to later events.
    """

    buffer: bytearray = field(default_factory=bytearray)
    frame: Frame = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    data: list[str] = field(default_factory=list)
    comments: int = 0
    retry: int | None = None

    def feed(self, chunk: bytes) -> list[tuple[Frame, Event | None]]:
        self.buffer += chunk
        out: list[tuple[Frame, Event | None]] = []
        while True:
            end = self.buffer.find(b"\n")
            if end < 0:
                return out
            line = self.buffer[:end].decode().rstrip("\r")
            del self.buffer[: end + 1]
            if line == "":
                self._dispatch(out)
            else:
                self._field(line)

    def _dispatch(self, out: list[tuple[Frame, Event | None]]) -> None:
        event = None
        if self.data or self.fields:
            event = Event(
                id=self.fields.get("id"),
                event=self.fields.get("event", "message"),
                data="\n".join(self.data),
                retry=self.retry,
            )
        if self.frame:
            out.append((self.frame, event))
        self.frame, self.fields, self.data = {}, {}, []

    def _field(self, line: str) -> None:
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "":
            self.comments += 1
            self.frame.setdefault(":", []).append(value)
        elif name == "data":
            self.data.append(value)
            self.frame["data"] = "\n".join(self.data)
        else:
            self.frame[name] = value
            if name == "retry" and value.isdigit():
                self.retry = int(value)
            elif name != "retry":
                self.fields[name] = value
