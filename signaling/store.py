"""The Redis data model: sessions, mailboxes, the directory and rooms.

Nothing here knows about Flask. Keys that belong to one peer share the hash
tag ``{peer:<id>}`` so each per-peer script runs on one Redis Cluster slot:

* ``<p>{peer:ID}:s``  hash: sid, name, created, last refresh, rate bucket
* ``<p>{peer:ID}:m``  stream: the mailbox; entry id = message id = cursor
* ``<p>{peer:ID}:r``  set: the rooms the peer is in
* ``<p>{dir}:...``  the public directory of listed sessions (signaling/directory.py)
* ``<p>{room:NAME}:z`` / ``:n``    room members: expiry scores / names
* ``<p>{peer:ID}:w``  sharded pub/sub channel (SPUBLISH, same slot as the
  peer's keys, so a cluster publishes it on one node): the mailbox grew

All of a peer's keys expire together, ``presence_ttl`` after its last request.
Sorted-set members whose expiry passed are pruned by whichever request reads
the set next, so vanished peers disappear without a background worker; a
peer whose connection closed is ended sooner, by :meth:`Store.depart`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import AskError, MovedError, NoScriptError

from . import lua
from .config import Settings
from .directory import Directory, Page
from .envelope import delivered, envelope


class PeerTaken(Exception):
    """A live session already holds the requested peer id."""


class RoomFull(Exception):
    """The room is at capacity."""


OFFLINE = 0  # deliver(): the recipient has no live session
FULL = -1  # deliver(): the recipient's mailbox holds mailbox_maxlen unread messages
OVER_SHARE = -2  # deliver(): the sender already holds its share of that mailbox


@dataclass
class Session:
    peer_id: str
    sid: str
    name: str
    retry_after_ms: int = 0
    rooms: list[str] = field(default_factory=list)
    listed: bool = False


@dataclass
class Mail:
    """What one mailbox read found: the session's liveness marks and the entries."""

    alive: bool
    activity: str = "0"  # the session's request count ('act'), for departure checks
    connection: str = "0"  # how many streams/polls it opened ('conn'), ditto
    entries: list[tuple[str, str]] = field(default_factory=list)


def now_ms() -> int:
    return int(time.time() * 1000)


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


class Store:
    """Every read and write of signaling state, each a single round trip where it matters."""

    def __init__(self, client: redis.Redis | RedisCluster, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self.prefix = settings.key_prefix
        self.unreplicated = 0  # SEND batches WAIT gave up on (REDIS_WAIT_REPLICAS)
        self._ttl_ms = int(settings.presence_ttl * 1000)
        # Directory/room scores are refreshed only every heartbeat_interval
        # (TOUCH's 'due'), while every request extends the session itself; a
        # score must outlast the session, or a live peer whose requests come
        # 30-45 s apart is pruned from its rooms and announced as timed out.
        self._listed_ms = self._ttl_ms + int(settings.heartbeat_interval * 1000)
        self._scripts = {
            name: client.register_script(getattr(lua, name))
            for name in ("REGISTER", "TOUCH", "SEND", "TOUCH_SEND", "READ", "END", "UPSERT", "REMOVE", "MEMBERS")
        }
        self.directory = Directory(client, self.prefix)

    # keys ---------------------------------------------------------------
    def peer_keys(self, peer: str) -> list[str]:
        tag = f"{self.prefix}{{peer:{peer}}}"
        return [f"{tag}:s", f"{tag}:m", f"{tag}:r"]

    def _room_keys(self, room: str) -> list[str]:
        tag = f"{self.prefix}{{room:{room}}}"
        return [f"{tag}:z", f"{tag}:n"]

    def channel(self, peer: str) -> str:
        return f"{self.prefix}{{peer:{peer}}}:w"

    def peer_of_channel(self, channel: str) -> str:
        return channel[len(self.prefix) + 6 : -3]

    def _run(self, name: str, keys: list[str], args: list[Any], client: Any = None) -> Any:
        return self._scripts[name](keys=keys, args=args, client=client)

    # sessions -----------------------------------------------------------
    def register(self, name: str, peer_id: str | None = None, listed: bool = False) -> tuple[str, str]:
        """Create a session; returns ``(peer_id, sid)``. Raises :class:`PeerTaken`.

        Only a ``listed`` session appears in the public directory.
        """
        sid = secrets.token_urlsafe(18)
        for _ in range(5 if peer_id is None else 1):
            peer = peer_id or f"{secrets.randbelow(10**8):08d}"
            now = now_ms()
            if self._run("REGISTER", self.peer_keys(peer), [sid, name, now, self._ttl_ms, int(listed)]):
                if listed:
                    self.directory.upsert(now, peer, name, now + self._listed_ms)
                else:
                    # An earlier, listed session of this id may still be listed.
                    self.directory.remove(now, peer)
                return peer, sid
        raise PeerTaken(peer_id or "")

    def allow_registration(self, client: str, per_minute: int) -> int:
        """Count a registration from ``client``; 0 if allowed, else seconds to wait."""
        if per_minute <= 0:
            return 0
        window = now_ms() // 60000
        key = f"{self.prefix}{{client:{client}}}:reg:{window}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.pexpire(key, 61000)
        count = pipe.execute()[0]
        return 0 if count <= per_minute else 60 - (now_ms() // 1000) % 60

    def touch(self, peer: str, sid: str, cost: int = 0) -> Session | None:
        """Validate ``sid`` and keep the session alive; ``None`` when it is not live.

        With ``cost`` > 0 the peer's send-rate bucket is charged; a refused
        charge shows as ``retry_after_ms`` > 0. Every third of the presence TTL
        this also refreshes the directory and room scores and prunes peers
        that vanished, telling the rooms they left.
        """
        now = now_ms()
        reply = self._run("TOUCH", self.peer_keys(peer), self._touch_args(sid, now, cost))
        return self._touched(peer, sid, reply, now)

    def _touch_args(self, sid: str, now: int, cost: int) -> list[Any]:
        s = self.settings
        return [sid, self._ttl_ms, now, cost, s.send_rate / 1000.0, s.send_burst, int(s.heartbeat_interval * 1000)]

    def _touched(self, peer: str, sid: str, reply: Any, now: int) -> Session | None:
        """The session from TOUCH's reply, after the directory/room refresh it asked for."""
        if not reply or reply[0] == 0:
            return None
        session = Session(
            peer, sid, _text(reply[1]), int(reply[3]), [_text(r) for r in reply[4]], _text(reply[5]) == "1"
        )
        if reply[2]:
            self._refresh(session, now)
        return session

    def _refresh(self, session: Session, now: int) -> None:
        expiry = now + self._listed_ms
        if session.listed:
            self.directory.upsert(now, session.peer_id, session.name, expiry)
        for room in session.rooms:
            status, _, members, gone = self._run(
                "UPSERT", self._room_keys(room), [now, session.peer_id, session.name, expiry, 0, 1, 1]
            )
            if status == 2:
                self.redis.srem(self.peer_keys(session.peer_id)[2], room)
            self._announce_gone(room, _pairs(gone), _pairs(members))

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
        reply = self._run("END", self.peer_keys(peer), args)
        if not reply or reply[0] == 0:
            return False
        name, listed, rooms = _text(reply[1]), _text(reply[2]) == "1", [_text(r) for r in reply[3]]
        # A stream still open for this session (another tab, a stale
        # connection) reads at once and learns that the session ended.
        self.wake(peer)
        if listed:
            self.directory.remove(now_ms(), peer)
        for room in rooms:
            self.leave_room(room, peer, reason=reason, name=name)
        return True

    def wake(self, peer: str) -> None:
        """Hint the peer's waiting readers to read their mailbox now (sharded, like SEND's)."""
        try:
            self.redis.spublish(self.channel(peer), "0")
        except redis.ResponseError:  # Redis < 7: no sharded pub/sub, and the hub uses SUBSCRIBE
            self.redis.publish(self.channel(peer), "0")

    def peers(self, after: bytes | str, limit: int, query: str = "") -> Page:
        return self.directory.page(now_ms(), after, limit, query)

    def is_online(self, peer: str) -> bool:
        return bool(self.redis.exists(self.peer_keys(peer)[0]))

    # rooms --------------------------------------------------------------
    def join_room(self, room: str, peer: str, name: str) -> list[tuple[str, str]]:
        """Add ``peer`` to ``room``; returns the members. Raises :class:`RoomFull`."""
        now = now_ms()
        status, was, members, gone = self._run(
            "UPSERT",
            self._room_keys(room),
            [now, peer, name, now + self._listed_ms, self.settings.room_capacity, 0, 1],
        )
        members = _pairs(members)
        self._announce_gone(room, _pairs(gone), members)
        if status == 0:
            raise RoomFull(room)
        # The room set expires with the session (TOUCH refreshes it), even if
        # this join is the peer's last request.
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(self.peer_keys(peer)[2], room)
        pipe.pexpire(self.peer_keys(peer)[2], self._ttl_ms)
        added = pipe.execute()[0]
        if was and added:
            # Listed, but not by this session: an earlier session of this peer
            # id expired (listings outlast it by a heartbeat) and the id was
            # registered again. Tell the room the old one timed out.
            members = self._replace_stale(room, peer, name)
        if not was or added:
            event = envelope("peer-joined", {"peer_id": peer, "name": name}, peer, name, room)
            self.fan_out([m for m, _ in members if m != peer], event)
        return members if members else self.room_members(room)

    def _replace_stale(self, room: str, peer: str, name: str) -> list[tuple[str, str]]:
        names = self._room_keys(room)[1]
        old = _text(self.redis.hget(names, peer) or b"")
        self.redis.hset(names, peer, name)
        members = self.room_members(room)
        event = envelope("peer-left", {"peer_id": peer, "name": old, "reason": "timeout"}, peer, old, room)
        self.fan_out([m for m, _ in members if m != peer], event)
        return members

    def leave_room(self, room: str, peer: str, reason: str = "left", name: str | None = None) -> bool:
        removed, members, gone = self._run("REMOVE", self._room_keys(room), [now_ms(), peer])
        self.redis.srem(self.peer_keys(peer)[2], room)
        members = _pairs(members)
        self._announce_gone(room, _pairs(gone), members)
        if removed:
            name = self._name_of(peer) if name is None else name
            event = envelope("peer-left", {"peer_id": peer, "name": name, "reason": reason}, peer, name, room)
            self.fan_out([m for m, _ in members], event)
        return bool(removed)

    def room_members(self, room: str) -> list[tuple[str, str]]:
        members, gone = self._run("MEMBERS", self._room_keys(room), [now_ms()])
        members = _pairs(members)
        self._announce_gone(room, _pairs(gone), members)
        return members

    def _name_of(self, peer: str) -> str:
        return _text(self.redis.hget(self.peer_keys(peer)[0], "name") or b"")

    def _announce_gone(self, room: str, gone: list[tuple[str, str]], members: list[tuple[str, str]]) -> None:
        """Tell the remaining members about peers whose presence expired."""
        if not gone:
            return
        gone_ids = {g for g, _ in gone}
        recipients = [m for m, _ in members if m not in gone_ids]
        for peer, name in gone:
            self.redis.srem(self.peer_keys(peer)[2], room)
            event = envelope("peer-left", {"peer_id": peer, "name": name, "reason": "timeout"}, peer, name, room)
            self.fan_out(recipients, event)

    # mailboxes ----------------------------------------------------------
    def deliver(
        self, batches: Mapping[str, Sequence[str | tuple[str, str]]], sender: str = ""
    ) -> dict[str, list[str] | int]:
        """Append envelopes to each recipient's mailbox, one script call per recipient.

        An item is an envelope, or ``(client id, envelope)``: a client id that
        ``sender`` already used with this recipient within ``dedup_window``
        gets the original message id back and nothing is stored again. Each
        recipient's list is all-or-nothing. The result maps a recipient to its
        message ids, or to :data:`OFFLINE`, :data:`FULL` or :data:`OVER_SHARE`.
        """
        if not batches:
            return {}
        head = self._send_head()
        calls: list[tuple[list[str], list[Any]]] = []
        for peer, items in batches.items():
            args = [*head]
            args[2] = self.channel(peer)
            for item in items:
                cid, stored = item if isinstance(item, tuple) else ("", item)
                args += [f"{sender}/{cid}" if cid else "", stored]
            calls.append((self.send_keys(peer, sender), args))
        if len(calls) == 1 and not self.settings.redis_wait_replicas:
            keys, args = calls[0]
            results = [self._scripts["SEND"](keys=keys, args=args)]
        else:
            results = self._pipelined(self._scripts["SEND"], calls)
        out = {}
        for peer, result in zip(batches, results, strict=True):
            out[peer] = [_text(i) for i in result] if isinstance(result, list) else int(result)
        return out

    def _send_head(self) -> list[Any]:
        """SEND's arguments before the channel (a placeholder here) and the envelopes."""
        s = self.settings
        share = s.mailbox_sender_share or max(s.max_batch, s.mailbox_maxlen // 2)
        return [
            s.mailbox_maxlen,
            self._ttl_ms,
            None,
            now_ms(),
            int(s.dedup_window * 1000),
            2 * s.mailbox_maxlen,
            share,
        ]

    @property
    def one_round_trip(self) -> bool:
        """Whether :meth:`touch_send` may run: one Redis (not a cluster) and no WAIT for replicas."""
        return not hasattr(self.redis, "get_node_from_key") and not self.settings.redis_wait_replicas

    def touch_send(
        self, peer: str, sid: str, cost: int, recipient: str, items: list[tuple[str, str]]
    ) -> tuple[Session | None, list[str] | int | None]:
        """:meth:`touch` then :meth:`deliver` to one recipient, in one script call (see ``one_round_trip``).

        ``items`` are ``(client id, envelope prefix)``: :func:`envelope_prefix`
        output, which the script completes with the sender's name from its
        session. Returns the session (``None``: not live) and the delivery
        result, ``None`` when nothing was sent (no session, or the rate
        charge was refused: ``retry_after_ms`` > 0).
        """
        now = now_ms()
        args = self._touch_args(sid, now, cost) + self._send_head()
        args[9] = self.channel(recipient)
        for cid, prefix in items:
            args += [f"{peer}/{cid}" if cid else "", prefix]
        keys = self.peer_keys(peer) + self.send_keys(recipient, peer)
        reply = self._run("TOUCH_SEND", keys, args)
        session = self._touched(peer, sid, reply, now)
        if session is None or len(reply) < 7:
            return session, None
        result = reply[6]
        return session, [_text(i) for i in result] if isinstance(result, list) else int(result)

    def send_keys(self, peer: str, sender: str) -> list[str]:
        """SEND's keys: session, mailbox, client-id expiries and ids, ``sender``'s unread ids."""
        tag = f"{self.prefix}{{peer:{peer}}}"
        return [f"{tag}:s", f"{tag}:m", f"{tag}:cz", f"{tag}:ch", f"{tag}:o:{sender}"]

    def acknowledge(self, peer: str, cursor: str) -> None:
        """Drop every message up to ``cursor`` (an SSE reader's ack between reconnects)."""
        if cursor != "0":
            self.redis.xtrim(self.peer_keys(peer)[1], minid=next_id(cursor), approximate=False)

    def unread(self, peer: str) -> int:
        """How many messages the mailbox holds (delivered but unacknowledged ones included)."""
        return int(self.redis.xlen(self.peer_keys(peer)[1]))

    def _pipelined(self, script: Script, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        """Run one script many times: one pipeline of EVALSHAs per Redis node.

        redis-py's own script pipelining sends SCRIPT EXISTS first, a second
        round trip on every fan-out; its cluster pipeline re-sends a command
        that timed out (a duplicate message). Here a call is rerun only when
        Redis provably did not run it: NOSCRIPT (Redis restarted or failed
        over: the script is loaded on that node) or MOVED/ASK (the slot moved:
        the slot map is re-read). With ``REDIS_WAIT_REPLICAS`` each node's
        pipeline ends with WAIT, so the writes reached a replica.
        """
        results: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))
        for _ in range(3):
            rerun: list[int] = []
            for client, indexes in self._by_node(calls, pending):
                rerun += self._pipeline_on(client, script, calls, indexes, results)
            pending = rerun
            if not pending:
                break
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    def _by_node(self, calls: list[tuple[list[str], list[Any]]], indexes: list[int]) -> list[tuple[Any, list[int]]]:
        """Group calls by the node owning their first key (one group on a single Redis)."""
        if not hasattr(self.redis, "get_node_from_key"):
            return [(self.redis, indexes)]
        groups: dict[str, tuple[Any, list[int]]] = {}
        for i in indexes:
            node = self.redis.get_node_from_key(calls[i][0][0])
            groups.setdefault(node.name, (node.redis_connection, []))[1].append(i)
        return list(groups.values())

    def _pipeline_on(
        self,
        client: Any,
        script: Script,
        calls: list[tuple[list[str], list[Any]]],
        indexes: list[int],
        results: list[Any],
    ) -> list[int]:
        """One pipeline on one node; returns the indexes to run again."""
        pipe = client.pipeline(transaction=False)
        for i in indexes:
            keys, args = calls[i]
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        waiting = self.settings.redis_wait_replicas
        if waiting:
            pipe.execute_command("WAIT", waiting, self.settings.redis_wait_timeout_ms)
        replies = pipe.execute(raise_on_error=False)
        if waiting and isinstance(replies[-1], int) and replies[-1] < waiting:
            self.unreplicated += 1
        rerun = []
        for i, reply in zip(indexes, replies, strict=False):
            results[i] = reply
            if isinstance(reply, (NoScriptError, MovedError, AskError)):
                rerun.append(i)
        if any(isinstance(results[i], NoScriptError) for i in rerun):
            client.script_load(script.script)
        if any(isinstance(results[i], (MovedError, AskError)) for i in rerun):
            cast(RedisCluster, self.redis).nodes_manager.initialize()
        return rerun

    def fan_out(self, recipients: list[str], stored: str) -> dict[str, list[str]]:
        """Deliver one envelope to many peers, skipping those that went offline."""
        results = self.deliver({p: [stored] for p in recipients})
        return {p: r for p, r in results.items() if isinstance(r, list)}

    def read(self, peer: str, sid: str, cursor: str, count: int = 100, ack: bool = True, opening: bool = False) -> Mail:
        """Entries ``(id, envelope JSON)`` after ``cursor``; with ``ack``, drop what precedes it.

        SSE reads with ``ack=False`` after its first read: a message written to
        a socket is not yet received, so only the client's next cursor
        (``Last-Event-ID``) may acknowledge it. ``opening`` counts a new stream
        or poll (see :meth:`depart`). A session that is not live reads nothing.
        """
        keep = next_id(cursor) if ack and cursor != "0" else ""
        keys = self.peer_keys(peer)
        reply = self._run("READ", [keys[1], keys[0]], [cursor, keep, count, sid, int(opening)])
        if not reply or reply[0] == 0:
            return Mail(False)
        out = []
        for stream_id, fields in reply[3]:
            stream_id = _text(stream_id)
            stored = _text(fields[1]) if isinstance(fields, list) else _text(fields[b"e"])
            out.append((stream_id, delivered(stream_id, stored)))
        return Mail(True, _text(reply[1]), _text(reply[2]), out)

    def marks(self, peer: str) -> tuple[str, str]:
        """The session's ``(activity, connection)`` marks now (see :meth:`depart`)."""
        act, conn = self.redis.hmget(self.peer_keys(peer)[0], ["act", "conn"])
        return _text(act or b"0"), _text(conn or b"0")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: Sequence[object]) -> list[tuple[str, str]]:
    return [(_text(flat[i]), _text(flat[i + 1])) for i in range(0, len(flat), 2)]
