"""Where signaling state lives in Redis: key names, the Lua scripts, presence lifetimes.

Shared by the store's three jobs (signaling/sessions.py, rooms.py,
mailboxes.py), so each names keys and calls scripts the same way. Keys that
belong to one peer share the hash tag ``{peer:<id>}`` so each per-peer script
runs on one Redis Cluster slot:

* ``<p>{peer:ID}:s``  hash: sid, name, created, last refresh, rate bucket
* ``<p>{peer:ID}:m``  stream: the mailbox; entry id = message id = cursor
* ``<p>{peer:ID}:r``  set: the rooms the peer is in
* ``<p>{peer:ID}:cz`` / ``:ch`` / ``:o:<sender>``  client-id dedup and
  per-sender shares of the mailbox (see signaling/lua.py's SEND)
* ``<p>{dir}:...``  the public directory of listed sessions (signaling/directory.py)
* ``<p>{room:NAME}:z`` / ``:n``    room members: expiry scores / names
* ``<p>{peer:ID}:w``  sharded pub/sub channel (SPUBLISH, same slot as the
  peer's keys, so a cluster publishes it on one node): the mailbox grew
* ``<p>{client:ADDR}:reg:<minute>``  registrations from one address

All of a peer's keys expire together, ``presence_ttl`` after its last request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
from redis.cluster import RedisCluster

from . import lua
from .config import Settings

SCRIPTS = ("REGISTER", "TOUCH", "SEND", "TOUCH_SEND", "READ", "TOUCH_READ", "END", "UPSERT", "REMOVE", "MEMBERS")


class Keyspace:
    """The client, the key and channel names, and the registered scripts of one store."""

    def __init__(self, client: redis.Redis | RedisCluster, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self.prefix = settings.key_prefix
        self.ttl_ms = int(settings.presence_ttl * 1000)
        # Directory/room scores are refreshed only every heartbeat_interval
        # (TOUCH's 'due'), while every request extends the session itself; a
        # score must outlast the session, or a live peer whose requests come
        # 30-45 s apart is pruned from its rooms and announced as timed out.
        self.listed_ms = self.ttl_ms + int(settings.heartbeat_interval * 1000)
        self.scripts = {name: client.register_script(getattr(lua, name)) for name in SCRIPTS}

    def peer_keys(self, peer: str) -> list[str]:
        """The peer's session hash, mailbox stream and room set."""
        tag = f"{self.prefix}{{peer:{peer}}}"
        return [f"{tag}:s", f"{tag}:m", f"{tag}:r"]

    def room_keys(self, room: str) -> list[str]:
        """The room's member expiries and member names."""
        tag = f"{self.prefix}{{room:{room}}}"
        return [f"{tag}:z", f"{tag}:n"]

    def send_keys(self, peer: str, sender: str) -> list[str]:
        """SEND's keys: session, mailbox, client-id expiries and ids, ``sender``'s unread ids."""
        tag = f"{self.prefix}{{peer:{peer}}}"
        return [f"{tag}:s", f"{tag}:m", f"{tag}:cz", f"{tag}:ch", f"{tag}:o:{sender}"]

    def registrations_key(self, client: str, minute: int) -> str:
        return f"{self.prefix}{{client:{client}}}:reg:{minute}"

    def channel(self, peer: str) -> str:
        return f"{self.prefix}{{peer:{peer}}}:w"

    def peer_of_channel(self, channel: str) -> str:
        return channel[len(self.prefix) + 6 : -3]

    def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """One script call (EVALSHA, loading the script on NOSCRIPT): one round trip."""
        return self.scripts[name](keys=keys, args=args)


def text(value: object) -> str:
    """A reply value as text (Redis answers bytes unless decode_responses is on)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def pairs(flat: Sequence[object]) -> list[tuple[str, str]]:
    """A flat ``[id, name, id, name, ...]`` reply as ``(id, name)`` pairs."""
    return [(text(flat[i]), text(flat[i + 1])) for i in range(0, len(flat), 2)]
