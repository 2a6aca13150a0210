"""The message envelope: what a mailbox entry holds and what a reader receives.

A sender's message is stored as compact JSON without ``id``/``ts``: both
come from the Redis stream id when it is read, so the stored text never
needs rewriting. Server events (``SERVER_EVENTS``) use the same envelope
with the peer they are about as ``from``; clients cannot send those types.
"""

from __future__ import annotations

import json

SERVER_EVENTS = frozenset({"peer-joined", "peer-left", "session-ended"})

# json.dumps builds a new encoder on every call unless all its options are the
# defaults; one envelope per message made that a fifth of a batch's time.
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def envelope(kind: str, data: object, sender: str, sender_name: str, room: str | None = None) -> str:
    """Serialise an envelope without its ``id``/``ts``, which come from the stream id."""
    body: dict[str, object] = {"type": kind, "data": data, "from": sender, "from_name": sender_name}
    if room is not None:
        body["room"] = room
    return _compact(body)


def envelope_prefix(kind: str, data: object, sender: str) -> str:
    """A direct envelope without its name and closing brace, which TOUCH_SEND adds from the session.

    The completed envelope is :func:`envelope` ``(kind, data, sender, name)``.
    ``kind`` and ``sender`` are validated tokens (``validation.TYPE`` and
    ``PEER_ID``: letters, digits and ``._:-``), so they need no escaping and
    only ``data`` goes through the encoder: this runs once per message sent.
    """
    return '{"type":"%s","data":%s,"from":"%s"' % (kind, _compact(data), sender)


def delivered(stream_id: str, stored: str) -> str:
    """The envelope as JSON text, stamped with its id and timestamp (ms), without re-parsing it."""
    ts = stream_id.partition("-")[0]
    return '{"id":"%s","ts":%s,%s' % (stream_id, ts, stored[1:])
