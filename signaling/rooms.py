"""Rooms: who is in a room, joining and leaving, and telling the others.

A room is two keys on its own slot (``{room:NAME}:z`` member -> expiry,
``:n`` member -> name); each peer also keeps the rooms it is in
(``{peer:ID}:r``) so its session's refresh and end can reach them. Members
whose expiry passed are pruned by whichever request reads the room next and
announced to the rest as ``peer-left`` (``timeout``): no background worker.
Joins and leaves reach the other members as server envelopes in their
mailboxes.
"""

from __future__ import annotations

from . import clock
from .envelope import envelope
from .keyspace import Keyspace, pairs, text
from .mailboxes import Mailboxes


class RoomFull(Exception):
    """The room is at capacity."""


class Rooms:
    """Every read and write of room membership."""

    def __init__(self, space: Keyspace, mailboxes: Mailboxes) -> None:
        self.space = space
        self.redis = space.redis
        self.mailboxes = mailboxes

    def join_room(self, room: str, peer: str, name: str) -> list[tuple[str, str]]:
        """Add ``peer`` to ``room``; returns the members. Raises :class:`RoomFull`."""
        now = clock.now_ms()
        status, was, members, gone = self.space.run(
            "UPSERT",
            self.space.room_keys(room),
            [now, peer, name, now + self.space.listed_ms, self.space.settings.room_capacity, 0, 1],
        )
        members = pairs(members)
        self._announce_gone(room, pairs(gone), members)
        if status == 0:
            raise RoomFull(room)
        # The room set expires with the session (TOUCH refreshes it), even if
        # this join is the peer's last request.
        rooms_key = self.space.peer_keys(peer)[2]
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(rooms_key, room)
        pipe.pexpire(rooms_key, self.space.ttl_ms)
        added = pipe.execute()[0]
        if was and added:
            # Listed, but not by this session: an earlier session of this peer
            # id expired (listings outlast it by a heartbeat) and the id was
            # registered again. Tell the room the old one timed out.
            members = self._replace_stale(room, peer, name)
        if not was or added:
            event = envelope("peer-joined", {"peer_id": peer, "name": name}, peer, name, room)
            self.mailboxes.fan_out([m for m, _ in members if m != peer], event)
        return members if members else self.room_members(room)

    def _replace_stale(self, room: str, peer: str, name: str) -> list[tuple[str, str]]:
        names = self.space.room_keys(room)[1]
        old = text(self.redis.hget(names, peer) or b"")
        self.redis.hset(names, peer, name)
        members = self.room_members(room)
        event = envelope("peer-left", {"peer_id": peer, "name": old, "reason": "timeout"}, peer, old, room)
        self.mailboxes.fan_out([m for m, _ in members if m != peer], event)
        return members

    def refresh(self, room: str, peer: str, name: str, expiry: int, now: int) -> None:
        """Extend a live member's score (never adding one the room dropped), pruning the vanished."""
        status, _, members, gone = self.space.run(
            "UPSERT", self.space.room_keys(room), [now, peer, name, expiry, 0, 1, 1]
        )
        if status == 2:
            self.redis.srem(self.space.peer_keys(peer)[2], room)
        self._announce_gone(room, pairs(gone), pairs(members))

    def leave_room(self, room: str, peer: str, reason: str = "left", name: str | None = None) -> bool:
        removed, members, gone = self.space.run("REMOVE", self.space.room_keys(room), [clock.now_ms(), peer])
        self.redis.srem(self.space.peer_keys(peer)[2], room)
        members = pairs(members)
        self._announce_gone(room, pairs(gone), members)
        if removed:
            name = self._name_of(peer) if name is None else name
            event = envelope("peer-left", {"peer_id": peer, "name": name, "reason": reason}, peer, name, room)
            self.mailboxes.fan_out([m for m, _ in members], event)
        return bool(removed)

    def room_members(self, room: str) -> list[tuple[str, str]]:
        members, gone = self.space.run("MEMBERS", self.space.room_keys(room), [clock.now_ms()])
        members = pairs(members)
        self._announce_gone(room, pairs(gone), members)
        return members

    def _name_of(self, peer: str) -> str:
        return text(self.redis.hget(self.space.peer_keys(peer)[0], "name") or b"")

    def _announce_gone(self, room: str, gone: list[tuple[str, str]], members: list[tuple[str, str]]) -> None:
        """Tell the remaining members about peers whose presence expired."""
        if not gone:
            return
        gone_ids = {g for g, _ in gone}
        recipients = [m for m, _ in members if m not in gone_ids]
        for peer, name in gone:
            self.redis.srem(self.space.peer_keys(peer)[2], room)
            event = envelope("peer-left", {"peer_id": peer, "name": name, "reason": "timeout"}, peer, name, room)
            self.mailboxes.fan_out(recipients, event)
