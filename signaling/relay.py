"""Sending: fan a sender's messages out to their recipients' mailboxes.

No Flask here. The view parses a request into :class:`Outgoing` messages and
maps the :class:`Relayed` result (or the exceptions below) to an HTTP status;
this module decides who receives what and runs the store's SEND scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import redis

from . import metrics
from .envelope import envelope, envelope_prefix
from .mailboxes import FULL, OFFLINE, OVER_SHARE
from .sessions import Session
from .store import Store


class Outgoing(NamedTuple):
    """One parsed message of a send: its target, type, data and client id ('' = none)."""

    to: str | None
    room: str | None
    kind: str
    data: object
    cid: str


class NotAMember(Exception):
    """The sender addressed a room it has not joined."""

    def __init__(self, room: str) -> None:
        super().__init__(room)
        self.room = room


class OutcomeUnknown(Exception):
    """The store's reply was lost: the messages may or may not have been stored.

    The script may have run before the connection broke or timed out, so the
    sender cannot be told "nothing was stored". Messages with a ``cid`` are
    safe to resend as they are (stored once); without one a resend may duplicate.
    """


@dataclass
class Receipt:
    """One message's outcome: its id (the first recipient's) and every recipient's id."""

    id: str | None
    recipients: dict[str, str]


@dataclass
class Relayed:
    """What a send did: a receipt per message, and the direct recipients that refused.

    ``offline`` have no live session; ``full`` have a full mailbox, or the
    sender already holds its share of it (then ``over_share``). Messages to
    a refused direct recipient were not stored (their ``accepted`` id is None)
    and may be resent; everything else was stored.
    """

    receipts: list[Receipt]
    offline: list[str] = field(default_factory=list)
    full: list[str] = field(default_factory=list)
    over_share: bool = False
    accepted: list[str | None] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.offline or self.full)


def relay(store: Store, sender: Session, messages: list[Outgoing]) -> Relayed:
    """Store every message in each recipient's mailbox: a direct one's ``to``, a room's other members.

    Raises :class:`NotAMember` before storing anything, :class:`OutcomeUnknown`
    when the store's reply is lost.
    """
    rooms = _room_recipients(store, sender.peer_id, messages)
    batches: dict[str, list[tuple[str, str]]] = {}
    targets: list[list[tuple[str, int]]] = []  # per message: (recipient, index in its batch)
    for message in messages:
        stored = envelope(message.kind, message.data, sender.peer_id, sender.name, message.room)
        recipients = [message.to] if message.to is not None else rooms[message.room or ""]
        slots = []
        for peer in recipients:
            batch = batches.setdefault(peer, [])
            batch.append((message.cid, stored))
            slots.append((peer, len(batch) - 1))
        targets.append(slots)
    results = _deliver(store, batches, sender.peer_id)
    metrics.sent(results)
    receipts = [_receipt(slots, results) for slots in targets]
    return _with_refusals(messages, results, receipts)


def only_recipient(messages: list[Outgoing]) -> str | None:
    """The one peer every message goes to directly (the common send), else None."""
    first = messages[0].to
    if first is None or any(m.to != first for m in messages):
        return None
    return first


def relay_direct(
    store: Store, peer: str, sid: str, messages: list[Outgoing], recipient: str
) -> tuple[Session | None, Relayed | None]:
    """Authenticate, charge the rate and store, all in one round trip (``store.one_round_trip``).

    For messages that all go to ``recipient`` (:func:`only_recipient`). The
    same checks in the same order as the view's authenticate + :func:`relay`:
    the session (``None``: not live) and, only when the rate charge was
    accepted (``retry_after_ms`` == 0), what was stored. Raises
    :class:`OutcomeUnknown` when the store's reply is lost.
    """
    items = [(m.cid, envelope_prefix(m.kind, m.data, peer)) for m in messages]
    try:
        session, result = store.touch_send(peer, sid, len(messages), recipient, items)
    except (redis.TimeoutError, redis.ConnectionError) as error:
        metrics.redis_error(error)
        raise OutcomeUnknown() from error
    if session is None or result is None:
        return session, None
    results: dict[str, list[str] | int] = {recipient: result}
    metrics.sent(results)
    receipts = [_receipt([(recipient, i)], results) for i in range(len(messages))]
    return session, _with_refusals(messages, results, receipts)


def _room_recipients(store: Store, me: str, messages: list[Outgoing]) -> dict[str, list[str]]:
    rooms: dict[str, list[str]] = {}
    for message in messages:
        room = message.room
        if room is not None and room not in rooms:
            members = [p for p, _ in store.room_members(room)]
            if me not in members:
                raise NotAMember(room)
            rooms[room] = [p for p in members if p != me]
    return rooms


def _deliver(store: Store, batches: dict[str, list[tuple[str, str]]], sender: str) -> dict[str, list[str] | int]:
    try:
        return store.deliver(batches, sender)
    except (redis.TimeoutError, redis.ConnectionError) as error:
        metrics.redis_error(error)
        raise OutcomeUnknown() from error


def _receipt(slots: list[tuple[str, int]], results: dict[str, list[str] | int]) -> Receipt:
    recipients = {}
    for peer, index in slots:
        result = results.get(peer)
        if isinstance(result, list):
            recipients[peer] = result[index]
    return Receipt(next(iter(recipients.values()), None), recipients)


def _with_refusals(messages: list[Outgoing], results: dict[str, list[str] | int], receipts: list[Receipt]) -> Relayed:
    """Name the direct recipients that refused (both kinds) and which messages were accepted."""
    direct = {m.to for m in messages if m.to is not None}
    offline = sorted(p for p in direct if results.get(p) == OFFLINE)
    full = sorted(p for p in direct if results.get(p) in (FULL, OVER_SHARE))
    refused = set(offline) | set(full)
    accepted = [None if m.to in refused else r.id for m, r in zip(messages, receipts, strict=True)]
    over_share = any(results.get(p) == OVER_SHARE for p in full)
    return Relayed(receipts, offline, full, over_share, accepted)
