"""Per-process wake-ups: one pub/sub connection per Redis node, shared by every waiting request.

A request that waits for mail (SSE or long-poll) calls :meth:`Hub.watch`,
which registers a :class:`Waiter` and returns only once Redis has confirmed
the subscription to that peer's wake-up channel. Only then does the request
read the mailbox, so a message that lands between the read and the wait has
already set the waiter's event and is not missed. A wake-up is only a hint:
waits are bounded and the mailbox is read again after each one.

On one Redis there is one connection. On a Redis Cluster, wake-ups use
sharded pub/sub (``SSUBSCRIBE``): a channel lives on the node that owns its
slot, so the hub keeps one connection (a :class:`_Link`) per master it
needs and subscribes each channel on its owner. When a link breaks (node
killed, failover, ``MOVED``, the server dropping a shard channel) the hub
refreshes the topology, subscribes that link's channels on their new owners
and wakes every waiter, which re-reads its mailbox.

The hub uses ``threading`` primitives, which gevent's monkey-patching turns
into greenlet-friendly ones under gunicorn's gevent worker and ``main.py``;
unit tests run it on plain threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis
from redis.cluster import RedisCluster

log = logging.getLogger(__name__)

IDLE_UNSUBSCRIBE_AFTER = 60.0
CONFIRM_TIMEOUT = 2.0
LINK_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError, ValueError, AttributeError)


NOTES_MAX = 64  # wake-up payloads a waiter keeps; past that it just reads its mailbox
Note = bytes | str | None  # a wake-up's payload (signaling/notes.py); None: none, read


class Waiter:
    """One waiting request; :meth:`wait` returns early when its mailbox may have grown.

    It also keeps the wake-ups' payloads (signaling/notes.py) until the
    request takes them: ``None`` stands for a wake-up without one (a read).
    The list exists only while it holds something (idle streams stay small).
    """

    __slots__ = ("peer", "_event", "_notes")

    def __init__(self, peer: str) -> None:
        self.peer = peer
        self._event = threading.Event()
        self._notes: list[Note] | None = None

    def wake(self, note: Note = None) -> None:
        notes = self._notes
        if notes is None:
            self._notes = [note]
        elif len(notes) < NOTES_MAX:
            notes.append(note)
        else:
            self._notes = [None]  # too many to follow: the reader reads instead
        self._event.set()

    def take(self) -> list[Note]:
        """The payloads received since the last take, oldest first."""
        notes, self._notes = self._notes, None
        return notes or []

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True if woken. Resets for the next wait."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class Locator(Protocol):
    """Where a channel lives: the name of its node and a client to open pub/sub on it."""

    @property
    def sharded(self) -> bool: ...

    def locate(self, channel: str) -> tuple[str, redis.Redis]: ...

    def refresh(self) -> None: ...


class SingleNode:
    """One Redis: every channel on one connection; sharded pub/sub when the server has it (7+).

    ``sharded=None`` asks the server on first use, as the SEND script does
    (it falls back to PUBLISH where SPUBLISH is unknown), so both sides agree.
    """

    def __init__(self, client: redis.Redis, sharded: bool | None = False) -> None:
        self.client = client
        self._sharded = sharded

    @property
    def sharded(self) -> bool:
        return bool(self._sharded)

    def locate(self, channel: str) -> tuple[str, redis.Redis]:
        if self._sharded is None:
            self._sharded = has_sharded_pubsub(self.client)
        return "redis", self.client

    def refresh(self) -> None:
        """Nothing to learn: the one server is where it was."""


def has_sharded_pubsub(client: redis.Redis) -> bool:
    """Redis 7 added SPUBLISH/SSUBSCRIBE (raises while Redis is unreachable).

    Asked by trying it, like the SEND script does: INFO is not everywhere
    (fakeredis, some managed services rename or hide it).
    """
    try:
        client.execute_command("SPUBLISH", "signaling:probe", "")  # type: ignore[no-untyped-call]
    except redis.ResponseError:
        return False
    return True


class ClusterNodes:
    """A Redis Cluster: a channel lives on the master that owns its slot."""

    sharded = True

    def __init__(self, cluster: RedisCluster, connect: Callable[[str, int], redis.Redis]) -> None:
        self.cluster = cluster
        self._connect = connect
        self._clients: dict[str, redis.Redis] = {}

    def locate(self, channel: str) -> tuple[str, redis.Redis]:
        slot = self.cluster.keyslot(channel)  # type: ignore[no-untyped-call]
        node = self.cluster.nodes_manager.get_node_from_slot(slot)
        client = self._clients.get(node.name)
        if client is None:
            client = self._clients[node.name] = self._connect(node.host, int(node.port))
        return node.name, client

    def refresh(self) -> None:
        """Re-read the slot map (after a failover the replica owns the slots)."""
        try:
            self.cluster.nodes_manager.initialize()
        except Exception as error:  # noqa: BLE001 - retried on the next failure
            log.warning("hub: cluster topology refresh failed: %s", type(error).__name__)


class _Link:
    """One pub/sub connection to one node and the thread that reads it."""

    def __init__(self, name: str, client: redis.Redis, backoff: float = 0.1) -> None:
        self.name = name
        self.pubsub = client.pubsub(ignore_subscribe_messages=False)  # type: ignore[no-untyped-call]
        self.channels: set[str] = set()
        self.backoff = backoff
        self.closed = False
        self.thread: threading.Thread | None = None

    def close(self) -> None:
        self.closed = True
        try:
            self.pubsub.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


class Hub:
    """Multiplexes wake-up channels for all local waiters over one connection per node."""

    def __init__(
        self,
        client: redis.Redis | None,
        channel_of: Callable[[str], str],
        peer_of: Callable[[str], str],
        locator: Locator | None = None,
    ) -> None:
        if locator is None:
            if client is None:
                raise ValueError("Hub needs a Redis client or a locator")
            locator = SingleNode(client)
        self._locator = locator
        self._channel_of = channel_of
        self._peer_of = peer_of
        self._lock = threading.RLock()
        self._waiters: dict[str, set[Waiter]] = {}
        self._confirmed: dict[str, threading.Event] = {}
        self._idle_since: dict[str, float] = {}
        self._links: dict[str, _Link] = {}
        self._link_of: dict[str, _Link] = {}
        self._stopping = False
        self.reconnects = 0
        self.on_reconnect: Callable[[], None] | None = None
        self.on_wait_change: Callable[[int], None] | None = None  # +1/-1 per waiter (metrics)

    # public -------------------------------------------------------------
    @property
    def waiting(self) -> int:
        """How many requests are waiting on this process right now."""
        with self._lock:
            return sum(len(w) for w in self._waiters.values())

    @property
    def links(self) -> dict[str, _Link]:
        """The open pub/sub connections by node name (for tests and metrics)."""
        with self._lock:
            return dict(self._links)

    def watch(self, peer: str) -> Waiter:
        """Register a waiter for ``peer`` and wait (bounded) for the subscription to be confirmed."""
        self._stopping = False
        waiter = Waiter(peer)
        channel = self._channel_of(peer)
        with self._lock:
            self._waiters.setdefault(peer, set()).add(waiter)
            self._idle_since.pop(channel, None)
            confirmed = self._confirmed.get(channel)
            if confirmed is None:
                confirmed = self._confirmed[channel] = threading.Event()
                try:
                    self._subscribe(channel)
                except Exception as error:  # noqa: BLE001 - the bounded wait below covers it
                    log.warning("hub: cannot subscribe a channel: %s", type(error).__name__)
                    del self._confirmed[channel]  # the next watch tries again
        if self.on_wait_change:
            self.on_wait_change(1)
        confirmed.wait(CONFIRM_TIMEOUT)
        return waiter

    def release(self, waiter: Waiter) -> None:
        """Forget a waiter; its channel stays subscribed a while for the next poll."""
        with self._lock:
            waiters = self._waiters.get(waiter.peer)
            if waiters is None or waiter not in waiters:
                return
            waiters.discard(waiter)
            if not waiters:
                del self._waiters[waiter.peer]
                self._idle_since[self._channel_of(waiter.peer)] = time.monotonic()
        if self.on_wait_change:
            self.on_wait_change(-1)

    def wake_all(self) -> None:
        """Wake every local waiter (they re-read their mailboxes)."""
        with self._lock:
            waiters = [w for ws in self._waiters.values() for w in ws]
        for waiter in waiters:
            waiter.wake()

    def stop(self) -> None:
        """End the listeners and wake everyone (used at shutdown and in tests)."""
        self._stopping = True
        self.wake_all()
        with self._lock:
            links = list(self._links.values())
        for link in links:
            link.close()

    # subscribing --------------------------------------------------------
    def _subscribe(self, channel: str, backoff: float = 0.1) -> None:
        """Subscribe ``channel`` on the link to its node (caller holds the lock).

        Raises whatever locating the node raises (e.g. no master owns the
        slot mid-failover); :meth:`_recover` retries that.
        """
        name, client = self._locator.locate(channel)
        link = self._links.get(name)
        if link is None or link.closed:
            link = self._links[name] = _Link(name, client, backoff)
        link.channels.add(channel)
        self._link_of[channel] = link
        self._send(link, "subscribe", channel)
        if link.thread is None:
            # Started after the first subscribe was sent, so the thread never
            # sees a link that wants channels but has no connection yet.
            link.thread = threading.Thread(target=self._run, args=(link,), name=f"hub-{name}", daemon=True)
            link.thread.start()

    def _send(self, link: _Link, command: str, channel: str) -> None:
        """Send (un)subscribe; on a broken connection the link's thread recovers."""
        if self._locator.sharded:
            command = "s" + command
        try:
            getattr(link.pubsub, command)(channel)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            log.warning("hub %s failed: %s", command, type(error).__name__)

    # reading ------------------------------------------------------------
    def _run(self, link: _Link) -> None:
        try:
            self._listen(link)
        except LINK_ERRORS as error:
            if self._stopping or link.closed:
                return
            log.warning("hub connection lost (%s, node %s); reconnecting", type(error).__name__, link.name)
            time.sleep(link.backoff)
            self._recover(link)

    def _listen(self, link: _Link) -> None:
        pubsub = link.pubsub
        while not self._stopping and not link.closed:
            if pubsub.connection is None:
                if link.channels:
                    raise redis.ConnectionError("channels wanted but the pub/sub connection is gone")
                time.sleep(0.05)  # nothing subscribed yet, so nothing to read from
                message = None
            else:
                message = pubsub.get_message(timeout=1.0)
                link.backoff = 0.1  # the connection works
            if message is not None:
                self._dispatch(link, message)
            self._unsubscribe_idle()

    def _dispatch(self, link: _Link, message: dict[str, Any]) -> None:
        raw = message.get("channel")
        channel = raw.decode() if isinstance(raw, bytes) else str(raw)
        kind = message.get("type")
        if kind in ("message", "smessage"):
            self._wake(channel, message.get("data"))
        elif kind in ("subscribe", "ssubscribe"):
            with self._lock:
                confirmed = self._confirmed.get(channel)
            if confirmed is None:
                return
            if confirmed.is_set():
                # redis-py reconnected and resubscribed by itself: messages may
                # have been published meanwhile, so those waiters re-read.
                self._wake(channel)
            confirmed.set()
        elif kind == "sunsubscribe":
            with self._lock:
                wanted = channel in self._confirmed and self._link_of.get(channel) is link
            if wanted:
                # The server dropped it: its slot moved to another node.
                raise redis.ConnectionError("a shard channel moved")

    def _wake(self, channel: str, note: Note = None) -> None:
        with self._lock:
            waiters = list(self._waiters.get(self._peer_of(channel), ()))
        for waiter in waiters:
            waiter.wake(note)

    def _unsubscribe_idle(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [c for c, since in self._idle_since.items() if now - since > IDLE_UNSUBSCRIBE_AFTER]
            for channel in idle:
                del self._idle_since[channel]
                self._confirmed.pop(channel, None)
                link = self._link_of.pop(channel, None)
                if link is not None:
                    link.channels.discard(channel)
                    self._send(link, "unsubscribe", channel)

    # recovering ---------------------------------------------------------
    def _recover(self, link: _Link) -> None:
        """Drop a broken link, re-learn the topology, resubscribe its channels on their owners, wake all."""
        link.close()
        with self._lock:
            if self._links.get(link.name) is link:
                del self._links[link.name]
            self.reconnects += 1
            channels = [c for c in link.channels if c in self._confirmed]
            for channel in channels:
                self._confirmed[channel] = threading.Event()
                self._link_of.pop(channel, None)
        backoff = link.backoff
        while channels and not self._stopping:
            self._locator.refresh()
            try:
                with self._lock:
                    for channel in channels:
                        if channel in self._confirmed and channel not in self._link_of:
                            self._subscribe(channel, min(backoff * 2, 5.0))
                break
            except Exception as error:  # noqa: BLE001 - no owner yet: the failover is still running
                log.warning("hub: resubscribe failed (%s); retrying", type(error).__name__)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        if self.on_reconnect:
            self.on_reconnect()
        self.wake_all()
