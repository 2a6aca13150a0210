"""What goes out (:class:`Outgoing`, with its client id) and what comes in (:class:`Message`)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any


def new_cid() -> str:
    """A fresh client message id: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Outgoing:
    """One message to send: to a peer (``to``), to a room, or both (then stamped with the room)."""

    type: str
    data: Any
    to: str | None = None
    room: str | None = None
    cid: str = field(default_factory=new_cid)

    def body(self) -> dict[str, Any]:
        """The JSON object the API takes; a retry of this message sends the same ``cid``."""
        if self.to is None and self.room is None:
            raise ValueError("a message needs 'to' or 'room'")
        out: dict[str, Any] = {"type": self.type, "data": self.data, "cid": self.cid}
        if self.to is not None:
            out["to"] = self.to
        if self.room is not None:
            out["room"] = self.room
        return out


@dataclass(frozen=True)
class Message:
    """A message from the mailbox. ``id`` is its stream id: the resume point."""

    id: str
    type: str
    data: Any
    sender: str
    sender_name: str
    ts: int = 0
    room: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: dict | str) -> Message:
        body = json.loads(value) if isinstance(value, str) else value
        return cls(
            id=body["id"],
            type=body["type"],
            data=body.get("data"),
            sender=body.get("from", ""),
            sender_name=body.get("from_name", ""),
            ts=int(body.get("ts", 0)),
            room=body.get("room"),
            raw=body,
        )


def id_key(stream_id: str) -> tuple[int, int]:
    """Order stream ids (``<ms>-<seq>``) numerically; ``"0"`` sorts first."""
    ms, _, seq = stream_id.partition("-")
    return int(ms or 0), int(seq or 0)


def is_after(stream_id: str, cursor: str) -> bool:
    return id_key(stream_id) > id_key(cursor)
