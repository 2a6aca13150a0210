"""The store: signaling state in Redis, one object composed of its three jobs.

Nothing here knows about Flask. The jobs live in their own modules and
share :class:`~signaling.keyspace.Keyspace` (key names, scripts, lifetimes):

* signaling/sessions.py   sessions and presence (register, touch, end, directory)
* signaling/rooms.py      room membership and its join/leave announcements
* signaling/mailboxes.py  appending, reading and acknowledging messages
  (signaling/pipelining.py runs a fan-out's scripts per node)

:class:`Store` is what the views and workers hold (``state.store``): it
exposes each job's operations under one name, so a caller needs one object
and a test can replace one operation on it.
"""

from __future__ import annotations

import redis
from redis.cluster import RedisCluster

from .config import Settings
from .directory import Directory
from .keyspace import Keyspace
from .mailboxes import Mailboxes
from .pipelining import ScriptPipeline
from .rooms import Rooms
from .sessions import Sessions


class Store:
    """Every read and write of signaling state, each a single round trip where it matters."""

    def __init__(self, client: redis.Redis | RedisCluster, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self.space = space = Keyspace(client, settings)
        self.directory = Directory(client, settings.key_prefix)
        self.pipeline = ScriptPipeline(client, settings)
        self.mailboxes = mailboxes = Mailboxes(space, self.pipeline)
        self.rooms = rooms = Rooms(space, mailboxes)
        self.sessions = sessions = Sessions(space, self.directory, rooms, mailboxes)
        # keys
        self.peer_keys = space.peer_keys
        self.channel = space.channel
        self.peer_of_channel = space.peer_of_channel
        # sessions and presence
        self.register = sessions.register
        self.allow_registration = sessions.allow_registration
        self.touch = sessions.touch
        self.touch_send = sessions.touch_send
        self.touch_read = sessions.touch_read
        self.end_session = sessions.end_session
        self.depart = sessions.depart
        self.peers = sessions.peers
        self.is_online = sessions.is_online
        self.marks = sessions.marks
        # rooms
        self.join_room = rooms.join_room
        self.leave_room = rooms.leave_room
        self.room_members = rooms.room_members
        # mailboxes
        self.deliver = mailboxes.deliver
        self.fan_out = mailboxes.fan_out
        self.wake = mailboxes.wake
        self.acknowledge = mailboxes.acknowledge
        self.unread = mailboxes.unread
        self.read = mailboxes.read

    @property
    def one_round_trip(self) -> bool:
        """Whether ``touch_send`` may run: one Redis (not a cluster) and no WAIT for replicas."""
        return self.sessions.one_round_trip

    @property
    def unreplicated(self) -> int:
        """Send pipelines whose WAIT gave up before a replica confirmed (REDIS_WAIT_REPLICAS)."""
        return self.pipeline.unreplicated
