"""Sessions and presence: registering, keeping alive, listing and ending a peer's session.

A session is the hash ``{peer:ID}:s``; every request runs TOUCH on it, which
checks the session id, extends the peer's keys and charges the send rate,
and every ``heartbeat_interval`` also asks for the peer's directory listing
and room scores to be refreshed (done here, pruning peers that vanished).
Ending a session, by leaving or because its connection closed (see
:meth:`Sessions.depart`), unlists it and tells its rooms.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from . import clock
from .directory import Directory, Page
from .keyspace import Keyspace, text
from .mailboxes import Delivery, Mail, Mailboxes, delivery, mail_of, read_args
from .rooms import Rooms


class PeerTaken(Exception):
    """A live session already holds the requested peer id."""


@dataclass
class Session:
    peer_id: str
    sid: str
    name: str
    retry_after_ms: int = 0
    rooms: list[str] = field(default_factory=list)
    listed: bool = False


class Sessions:
    """Every read and write of a session and of its presence in the directory and rooms."""

    def __init__(self, space: Keyspace, directory: Directory, rooms: Rooms, mailboxes: Mailboxes) -> None:
        self.space = space
        self.redis = space.redis
        self.settings = space.settings
        self.directory = directory
        self.rooms = rooms
        self.mailboxes = mailboxes

    def register(self, name: str, peer_id: str | None = None, listed: bool = False) -> tuple[str, str]:
        """Create a session; returns ``(peer_id, sid)``. Raises :class:`PeerTaken`.

        Only a ``listed`` session appears in the public directory.
        """
        sid = secrets.token_urlsafe(18)
        for _ in range(5 if peer_id is None else 1):
            peer = peer_id or f"{secrets.randbelow(10**8):08d}"
            now = clock.now_ms()
            if self.space.run("REGISTER", self.space.peer_keys(peer), [sid, name, now, self.space.ttl_ms, int(listed)]):
                if listed:
                    self.directory.upsert(now, peer, name, now + self.space.listed_ms)
                else:
                    # An earlier, listed session of this id may still be listed.
                    self.directory.remove(now, peer)
                return peer, sid
        raise PeerTaken(peer_id or "")

    def allow_registration(self, client: str, per_minute: int) -> int:
        """Count a registration from ``client``; 0 if allowed, else seconds to wait."""
        if per_minute <= 0:
            return 0
        key = self.space.registrations_key(client, clock.now_ms() // 60000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.pexpire(key, 61000)
        count = pipe.execute()[0]
        return 0 if count <= per_minute else 60 - (clock.now_ms() // 1000) % 60

    def touch(self, peer: str, sid: str, cost: int = 0) -> Session | None:
        """Validate ``sid`` and keep the session alive; ``None`` when it is not live.

        With ``cost`` > 0 the peer's send-rate bucket is charged; a refused
        charge shows as ``retry_after_ms`` > 0. Every third of the presence TTL
        this also refreshes the directory and room scores and prunes peers
        that vanished, telling the rooms they left.
        """
        now = clock.now_ms()
        reply = self.space.run("TOUCH", self.space.peer_keys(peer), self._touch_args(sid, now, cost))
        return self._touched(peer, sid, reply, now)

    def touch_read(
        self, peer: str, sid: str, cursor: str, count: int, ack: bool = True, opening: bool = False
    ) -> tuple[Session | None, Mail]:
        """:meth:`touch` then ``Mailboxes.read``, in one script call (a poll's first round trip).

        The polling peer's keys share its slot, so this holds on a cluster
        too. The session is ``None`` (and the mail not alive) when it is not live.
        """
        now = clock.now_ms()
        args = self._touch_args(sid, now, 0) + read_args(sid, cursor, count, ack, opening)
        reply = self.space.run("TOUCH_READ", self.space.peer_keys(peer), args)
        session = self._touched(peer, sid, reply, now)
        if session is None:
            return None, Mail(False)
        return session, mail_of(reply[6])

    @property
    def one_round_trip(self) -> bool:
        """Whether :meth:`touch_send` may run: one Redis (not a cluster) and no WAIT for replicas."""
        return not hasattr(self.redis, "get_node_from_key") and not self.settings.redis_wait_replicas

    def touch_send(
        self, peer: str, sid: str, cost: int, recipient: str, items: list[tuple[str, str]]
    ) -> tuple[Session | None, Delivery | None]:
        """:meth:`touch` then ``Mailboxes.deliver`` to one recipient, in one script call (see ``one_round_trip``).

        ``items`` are ``(client id, envelope prefix)``: :func:`envelope_prefix`
        output, which the script completes with the sender's name from its
        session. Returns the session (``None``: not live) and the delivery
        result, ``None`` when nothing was sent (no session, or the rate
        charge was refused: ``retry_after_ms`` > 0).
        """
        now = clock.now_ms()
        args = self._touch_args(sid, now, cost) + self.mailboxes.send_head()
        args[9] = self.space.channel(recipient)
        for cid, prefix in items:
            args += [f"{peer}/{cid}" if cid else "", prefix]
        keys = self.space.peer_keys(peer) + self.space.send_keys(recipient, peer)
        reply = self.space.run("TOUCH_SEND", keys, args)
        session = self._touched(peer, sid, reply, now)
        if session is None or len(reply) < 7:
            return session, None
        return session, delivery(reply[6])

    def _touch_args(self, sid: str, now: int, cost: int) -> list[Any]:
        s = self.settings
        return [sid, self.space.ttl_ms, now, cost, s.send_rate / 1000.0, s.send_burst, int(s.heartbeat_interval * 1000)]

    def _touched(self, peer: str, sid: str, reply: Any, now: int) -> Session | None:
        """The session from TOUCH's reply, after the directory/room refresh it asked for."""
        if not reply or reply[0] == 0:
            return None
        session = Session(peer, sid, text(reply[1]), int(reply[3]), [text(r) for r in reply[4]], text(reply[5]) == "1")
        if reply[2]:
            self._refresh(session, now)
        return session

    def _refresh(self, session: Session, now: int) -> None:
        expiry = now + self.space.listed_ms
        if session.listed:
            self.directory.upsert(now, session.peer_id, session.name, expiry)
        for room in session.rooms:
            self.rooms.refresh(room, session.peer_id, session.name, expiry, now)

    def end_session(self, peer: str, sid: str) -> bool:
        """Drop the session, mailbox and listing, then tell its rooms it left."""
        return self._end(peer, [sid, "", ""], "left")

    def depart(self, peer: str, sid: str, activity: str, connection: str) -> bool:
        """End a session whose connection closed, unless the peer has been heard from since.

        ``activity``/``connection`` are the session's marks when its stream
        closed (or its long-poll answered): any request since, or a new stream
        or poll on any instance, changes them and keeps the session.
        """
        return self._end(peer, [sid, activity, connection], "disconnected")

    def _end(self, peer: str, args: list[str], reason: str) -> bool:
        reply = self.space.run("END", self.space.peer_keys(peer), args)
        if not reply or reply[0] == 0:
            return False
        name, listed, rooms = text(reply[1]), text(reply[2]) == "1", [text(r) for r in reply[3]]
        # A stream still open for this session (another tab, a stale
        # connection) reads at once and learns that the session ended.
        self.mailboxes.wake(peer)
        if listed:
            self.directory.remove(clock.now_ms(), peer)
        for room in rooms:
            self.rooms.leave_room(room, peer, reason=reason, name=name)
        return True

    def peers(self, after: bytes | str, limit: int, query: str = "") -> Page:
        return self.directory.page(clock.now_ms(), after, limit, query)

    def is_online(self, peer: str) -> bool:
        return bool(self.redis.exists(self.space.peer_keys(peer)[0]))

    def marks(self, peer: str) -> tuple[str, str]:
        """The session's ``(activity, connection)`` marks now (see :meth:`depart`)."""
        act, conn = self.redis.hmget(self.space.peer_keys(peer)[0], ["act", "conn"])
        return text(act or b"0"), text(conn or b"0")
