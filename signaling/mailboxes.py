"""Mailboxes: appending envelopes for a peer, reading and acknowledging them.

A peer's mailbox is a Redis stream (``{peer:ID}:m``) whose entry ids are the
message ids and the readers' cursors; every append publishes a wake-up on
the peer's channel (signaling/hub.py wakes the waiting readers). Appends
are the SEND script, one call per recipient; many recipients go through
signaling/pipelining.py in one pipeline per node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from . import clock
from .envelope import delivered
from .keyspace import Keyspace, text
from .pipelining import ScriptPipeline

OFFLINE = 0  # deliver(): the recipient has no live session
FULL = -1  # deliver(): the recipient's mailbox holds mailbox_maxlen unread messages
OVER_SHARE = -2  # deliver(): the sender already holds its share of that mailbox

Delivery = list[str] | int  # one recipient's message ids, or OFFLINE / FULL / OVER_SHARE


@dataclass
class Mail:
    """What one mailbox read found: the session's liveness marks and the entries."""

    alive: bool
    activity: str = "0"  # the session's request count ('act'), for departure checks
    connection: str = "0"  # how many streams/polls it opened ('conn'), ditto
    entries: list[tuple[str, str]] = field(default_factory=list)


def next_id(stream_id: str) -> str:
    """The smallest stream id greater than ``stream_id`` (for XTRIM MINID).

    Both parts are 64-bit: a full sequence carries into the milliseconds, and
    the largest id has no successor (trimming below it drops all before it).
    """
    ms, _, seq = stream_id.partition("-")
    top = 2**64 - 1
    if int(seq or 0) < top:
        return f"{ms}-{int(seq or 0) + 1}"
    return f"{int(ms) + 1}-0" if int(ms) < top else stream_id


def delivery(reply: Any) -> Delivery:
    """SEND's reply (the new ids, or an integer status when it stored nothing) as :data:`Delivery`."""
    return [text(i) for i in reply] if isinstance(reply, list) else int(reply)


class Mailboxes:
    """Every mailbox write and read."""

    def __init__(self, space: Keyspace, pipeline: ScriptPipeline) -> None:
        self.space = space
        self.redis = space.redis
        self.settings = space.settings
        self.pipeline = pipeline

    def deliver(self, batches: Mapping[str, Sequence[str | tuple[str, str]]], sender: str = "") -> dict[str, Delivery]:
        """Append envelopes to each recipient's mailbox, one script call per recipient.

        An item is an envelope, or ``(client id, envelope)``: a client id that
        ``sender`` already used with this recipient within ``dedup_window``
        gets the original message id back and nothing is stored again. Each
        recipient's list is all-or-nothing. The result maps a recipient to its
        message ids, or to :data:`OFFLINE`, :data:`FULL` or :data:`OVER_SHARE`.
        """
        if not batches:
            return {}
        head = self.send_head()
        calls: list[tuple[list[str], list[Any]]] = []
        for peer, items in batches.items():
            args = [*head]
            args[2] = self.space.channel(peer)
            for item in items:
                cid, stored = item if isinstance(item, tuple) else ("", item)
                args += [f"{sender}/{cid}" if cid else "", stored]
            calls.append((self.space.send_keys(peer, sender), args))
        script = self.space.scripts["SEND"]
        if len(calls) == 1 and not self.settings.redis_wait_replicas:
            keys, args = calls[0]
            results = [script(keys=keys, args=args)]
        else:
            results = self.pipeline.run(script, calls)
        return {peer: delivery(result) for peer, result in zip(batches, results, strict=True)}

    def send_head(self) -> list[Any]:
        """SEND's arguments before the channel (a placeholder here) and the envelopes."""
        s = self.settings
        share = s.mailbox_sender_share or max(s.max_batch, s.mailbox_maxlen // 2)
        return [
            s.mailbox_maxlen,
            self.space.ttl_ms,
            None,
            clock.now_ms(),
            int(s.dedup_window * 1000),
            2 * s.mailbox_maxlen,
            share,
        ]

    def fan_out(self, recipients: list[str], stored: str) -> dict[str, list[str]]:
        """Deliver one envelope to many peers, skipping those that went offline."""
        results = self.deliver({p: [stored] for p in recipients})
        return {p: r for p, r in results.items() if isinstance(r, list)}

    def wake(self, peer: str) -> None:
        """Hint the peer's waiting readers to read their mailbox now (sharded, like SEND's)."""
        try:
            self.redis.spublish(self.space.channel(peer), "0")
        except redis.ResponseError:  # Redis < 7: no sharded pub/sub, and the hub uses SUBSCRIBE
            self.redis.publish(self.space.channel(peer), "0")

    def acknowledge(self, peer: str, cursor: str) -> None:
        """Drop every message up to ``cursor`` (an SSE reader's ack between reconnects)."""
        if cursor != "0":
            self.redis.xtrim(self.space.peer_keys(peer)[1], minid=next_id(cursor), approximate=False)

    def unread(self, peer: str) -> int:
        """How many messages the mailbox holds (delivered but unacknowledged ones included)."""
        return int(self.redis.xlen(self.space.peer_keys(peer)[1]))

    def read(self, peer: str, sid: str, cursor: str, count: int = 100, ack: bool = True, opening: bool = False) -> Mail:
        """Entries ``(id, envelope JSON)`` after ``cursor``; with ``ack``, drop what precedes it.

        SSE reads with ``ack=False`` after its first read: a message written to
        a socket is not yet received, so only the client's next cursor
        (``Last-Event-ID``) may acknowledge it. ``opening`` counts a new stream
        or poll (see signaling/sessions.py's ``depart``). A session that is not
        live reads nothing.
        """
        keys = self.space.peer_keys(peer)
        reply = self.space.run("READ", [keys[1], keys[0]], read_args(sid, cursor, count, ack, opening))
        return mail_of(reply)


def read_args(sid: str, cursor: str, count: int, ack: bool, opening: bool) -> list[Any]:
    """READ's arguments (also the tail of TOUCH_READ's)."""
    keep = next_id(cursor) if ack and cursor != "0" else ""
    return [cursor, keep, count, sid, int(opening)]


def mail_of(reply: Any) -> Mail:
    """The :class:`Mail` in READ's reply."""
    if not reply or reply[0] == 0:
        return Mail(False)
    out = []
    for stream_id, fields in reply[3]:
        stream_id = text(stream_id)
        stored = text(fields[1]) if isinstance(fields, list) else text(fields[b"e"])
        out.append((stream_id, delivered(stream_id, stored)))
    return Mail(True, text(reply[1]), text(reply[2]), out)
