"""The hub: one pub/sub connection per process waking local waiters, and surviving its loss.

Waits here are bounded (``BOUND`` seconds) only so that a broken hub fails
the test instead of hanging it; assertions are on *whether* a waiter was
woken, never on how long anything took.
"""

from __future__ import annotations

import time

import fakeredis
import pytest
import redis

from signaling import hub as hub_module
from signaling.hub import Hub

BOUND = 5.0


def channel_of(peer: str) -> str:
    return f"wake:{peer}"


@pytest.fixture
def pubsub_client(fake_server):
    return fakeredis.FakeRedis(server=fake_server)


@pytest.fixture
def publisher(fake_server):
    client = fakeredis.FakeRedis(server=fake_server)
    return lambda peer: client.publish(channel_of(peer), "1-0")


@pytest.fixture
def hub(pubsub_client):
    hub = Hub(pubsub_client, channel_of, lambda channel: channel[len("wake:") :])
    yield hub
    hub.stop()


def eventually(predicate, bound: float = BOUND) -> bool:
    """Poll ``predicate`` until true or ``bound`` seconds pass (for background-thread effects)."""
    end = time.monotonic() + bound
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_a_publish_wakes_the_waiter(hub, publisher):
    waiter = hub.watch("alice")
    publisher("alice")
    assert waiter.wait(BOUND) is True


def test_a_wake_up_received_before_the_wait_is_kept(hub, publisher):
    """The race the design warns about: mail lands after the read, before wait() is called."""
    waiter = hub.watch("alice")
    publisher("alice")
    assert eventually(lambda: waiter._event.is_set())
    assert waiter.wait(0) is True
    assert waiter.wait(0) is False, "each wake-up is consumed once"


def test_wake_ups_for_one_peer_do_not_wake_another(hub, publisher):
    alice, bob, marker = hub.watch("alice"), hub.watch("bob"), hub.watch("marker")
    publisher("alice")
    publisher("marker")  # dispatched after alice's, in order: once it arrives, alice's is done
    assert marker.wait(BOUND) is True
    assert alice.wait(0) is True
    assert bob.wait(0) is False


def test_every_waiter_of_a_peer_is_woken(hub, publisher):
    """A peer may have a tab on SSE and another long-polling."""
    first, second = hub.watch("alice"), hub.watch("alice")
    publisher("alice")
    assert first.wait(BOUND) and second.wait(BOUND)


def test_waiting_counts_and_release_forgets(hub, publisher):
    first, second = hub.watch("alice"), hub.watch("bob")
    assert hub.waiting == 2
    hub.release(first)
    hub.release(first)  # twice is harmless
    assert hub.waiting == 1
    publisher("alice")
    publisher("bob")
    assert second.wait(BOUND)
    assert first.wait(0) is False, "a released waiter is not woken"


def test_idle_channels_are_unsubscribed_and_resubscribed_on_demand(hub, publisher, monkeypatch):
    monkeypatch.setattr(hub_module, "IDLE_UNSUBSCRIBE_AFTER", 0.0)
    hub.release(hub.watch("alice"))
    assert eventually(lambda: channel_of("alice").encode() not in hub._pubsub.channels)
    waiter = hub.watch("alice")
    publisher("alice")
    assert waiter.wait(BOUND) is True


def test_a_released_channel_stays_subscribed_for_the_next_poll(hub):
    """Long-polls come back within a second; unsubscribing between them would churn."""
    hub.release(hub.watch("alice"))
    assert channel_of("alice").encode() in hub._pubsub.channels


def test_wake_all_wakes_everyone(hub):
    waiters = [hub.watch(peer) for peer in ("alice", "bob", "carol")]
    hub.wake_all()
    assert all(w.wait(0) for w in waiters)


def test_stop_wakes_everyone(hub):
    waiter = hub.watch("alice")
    hub.stop()
    assert waiter.wait(0) is True


def _broken_get_message(*args, **kwargs):
    raise redis.ConnectionError("connection reset by peer")


@pytest.mark.parametrize("how", ["get_message raises", "connection closed"])
def test_after_losing_the_connection_it_resubscribes_and_wakes_everyone(hub, publisher, how):
    alice, bob = hub.watch("alice"), hub.watch("bob")
    reconnected = []
    hub.on_reconnect = lambda: reconnected.append(True)
    broken = hub._pubsub
    if how == "get_message raises":
        broken.get_message = _broken_get_message
    else:
        broken.close()
    assert alice.wait(BOUND) is True, "woken to re-read: mail may have come while disconnected"
    assert bob.wait(BOUND) is True
    assert hub.reconnects == 1 and reconnected == [True]
    assert hub._pubsub is not broken
    publisher("alice")
    assert alice.wait(BOUND) is True, "the new connection is subscribed to alice's channel"
    assert bob.wait(0) is False


def test_one_pubsub_connection_serves_every_waiter(pubsub_client, hub, publisher, monkeypatch):
    opened = []
    real = pubsub_client.pubsub
    monkeypatch.setattr(pubsub_client, "pubsub", lambda **kw: opened.append(real(**kw)) or opened[-1])
    waiters = [hub.watch(f"peer{i}") for i in range(30)] + [hub.watch("peer0") for _ in range(10)]
    assert hub.waiting == 40
    assert len(opened) == 1
    assert len(opened[0].channels) == 30
    publisher("peer29")
    assert waiters[29].wait(BOUND) is True
