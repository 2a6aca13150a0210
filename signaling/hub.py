"""Per-process wake-ups: one pub/sub connection shared by every waiting request.

A request that waits for mail (SSE or long-poll) calls :meth:`Hub.watch`,
which registers a :class:`Waiter` and returns only once Redis has confirmed
the subscription to that peer's wake-up channel. Only then does the request
read the mailbox, so a message that lands between the read and the wait has
already set the waiter's event and is not missed. A wake-up is only a hint:
waits are bounded and the mailbox is read again after each one.

The hub uses ``threading`` primitives, which gevent's monkey-patching turns
into greenlet-friendly ones under gunicorn's gevent worker and ``main.py``;
unit tests run it on plain threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

log = logging.getLogger(__name__)

IDLE_UNSUBSCRIBE_AFTER = 60.0
CONFIRM_TIMEOUT = 2.0


class Waiter:
    """One waiting request; :meth:`wait` returns early when its mailbox may have grown."""

    __slots__ = ("peer", "_event")

    def __init__(self, peer: str) -> None:
        self.peer = peer
        self._event = threading.Event()

    def wake(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True if woken. Resets for the next wait."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class Hub:
    """Multiplexes wake-up channels for all local waiters over one pub/sub connection."""

    def __init__(self, client: redis.Redis, channel_of: Callable[[str], str], peer_of: Callable[[str], str]):
        self._client = client
        self._channel_of = channel_of
        self._peer_of = peer_of
        self._lock = threading.RLock()
        self._waiters: dict[str, set[Waiter]] = {}
        self._confirmed: dict[str, threading.Event] = {}
        self._idle_since: dict[str, float] = {}
        self._pubsub: redis.client.PubSub | None = None
        self._thread: threading.Thread | None = None
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

    def watch(self, peer: str) -> Waiter:
        """Register a waiter for ``peer`` and wait (bounded) for the subscription to be confirmed."""
        self._ensure_running()
        waiter = Waiter(peer)
        channel = self._channel_of(peer)
        with self._lock:
            self._waiters.setdefault(peer, set()).add(waiter)
            self._idle_since.pop(channel, None)
            confirmed = self._confirmed.get(channel)
            if confirmed is None:
                confirmed = self._confirmed[channel] = threading.Event()
                self._send("subscribe", channel)
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
        """End the listener and wake everyone (used at shutdown and in tests)."""
        self._stopping = True
        self.wake_all()
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    # internals ----------------------------------------------------------
    def _ensure_running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._pubsub = self._client.pubsub(ignore_subscribe_messages=False)
            self._thread = threading.Thread(target=self._run, name="signaling-hub", daemon=True)
            self._thread.start()

    def _send(self, command: str, channel: str) -> None:
        """Send (un)subscribe; on a broken connection the listener resubscribes."""
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            getattr(pubsub, command)(channel)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            log.warning("hub %s failed: %s", command, type(error).__name__)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                self._listen()
                backoff = 0.1
            except (redis.ConnectionError, redis.TimeoutError, OSError, ValueError, AttributeError) as error:
                if self._stopping:
                    return
                log.warning("hub connection lost (%s); reconnecting", type(error).__name__)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self._reconnect()

    def _listen(self) -> None:
        pubsub = self._pubsub
        while not self._stopping:
            if pubsub.connection is None:
                if self._confirmed:
                    raise redis.ConnectionError("channels wanted but the pub/sub connection is gone")
                # Nothing subscribed yet, so nothing to read from.
                time.sleep(0.05)
                message = None
            else:
                message = pubsub.get_message(timeout=1.0)
            if message is not None:
                self._dispatch(message)
            self._unsubscribe_idle()

    def _dispatch(self, message: dict) -> None:
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        kind = message.get("type")
        if kind == "message":
            with self._lock:
                waiters = list(self._waiters.get(self._peer_of(channel), ()))
            for waiter in waiters:
                waiter.wake()
        elif kind == "subscribe":
            with self._lock:
                confirmed = self._confirmed.get(channel)
            if confirmed is None:
                return
            if confirmed.is_set():
                # redis-py reconnected and resubscribed by itself: messages may
                # have been published meanwhile, so those waiters re-read.
                with self._lock:
                    waiters = list(self._waiters.get(self._peer_of(channel), ()))
                for waiter in waiters:
                    waiter.wake()
            confirmed.set()

    def _unsubscribe_idle(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [c for c, since in self._idle_since.items() if now - since > IDLE_UNSUBSCRIBE_AFTER]
            for channel in idle:
                del self._idle_since[channel]
                self._confirmed.pop(channel, None)
                self._send("unsubscribe", channel)

    def _reconnect(self) -> None:
        """Open a fresh pub/sub, resubscribe every channel and wake all waiters."""
        old = self._pubsub
        try:
            old.close()
        except Exception:  # noqa: BLE001 - the old connection is already broken
            pass
        with self._lock:
            self.reconnects += 1
            self._pubsub = self._client.pubsub(ignore_subscribe_messages=False)
            channels = list(self._confirmed)
            for channel in channels:
                self._confirmed[channel] = threading.Event()
            if channels:
                try:
                    self._pubsub.subscribe(*channels)
                except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                    log.warning("hub resubscribe failed: %s", type(error).__name__)
        if self.on_reconnect:
            self.on_reconnect()
        self.wake_all()
