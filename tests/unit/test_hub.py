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
from signaling.hub import Hub, SingleNode

BOUND = 5.0


def channel_of(peer: str) -> str:
    return f"wake:{peer}"


@pytest.fixture
def pubsub_client(fake_server):
    return fakeredis.FakeRedis(server=fake_server)


@pytest.fixture(params=[False, True], ids=["pubsub", "sharded"])
def sharded(request) -> bool:
    """Every test runs with classic pub/sub (Redis < 7) and sharded pub/sub (7+, cluster)."""
    return request.param


@pytest.fixture
def publisher(fake_server, sharded):
    client = fakeredis.FakeRedis(server=fake_server)
    publish = client.spublish if sharded else client.publish
    return lambda peer: publish(channel_of(peer), "1-0")


@pytest.fixture
def hub(pubsub_client, sharded):
    hub = Hub(None, channel_of, peer_of, SingleNode(pubsub_client, sharded))
    yield hub
    hub.stop()


def peer_of(channel: str) -> str:
    return channel[len("wake:") :]


def the_pubsub(hub: Hub):
    """The one pub/sub connection of a single-Redis hub."""
    (link,) = hub.links.values()
    return link.pubsub


def subscribed(pubsub) -> set[bytes]:
    return set(pubsub.channels) | set(pubsub.shard_channels)


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
    assert eventually(lambda: channel_of("alice").encode() not in subscribed(the_pubsub(hub)))
    waiter = hub.watch("alice")
    publisher("alice")
    assert waiter.wait(BOUND) is True


def test_a_released_channel_stays_subscribed_for_the_next_poll(hub):
    """Long-polls come back within a second; unsubscribing between them would churn."""
    hub.release(hub.watch("alice"))
    assert channel_of("alice").encode() in subscribed(the_pubsub(hub))


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
    broken = the_pubsub(hub)
    if how == "get_message raises":
        broken.get_message = _broken_get_message
    else:
        broken.close()
    assert alice.wait(BOUND) is True, "woken to re-read: mail may have come while disconnected"
    assert bob.wait(BOUND) is True
    assert hub.reconnects == 1 and reconnected == [True]
    assert eventually(lambda: the_pubsub(hub) is not broken)
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
    assert len(subscribed(opened[0])) == 30
    publisher("peer29")
    assert waiters[29].wait(BOUND) is True


class TwoNodes:
    """A stand-in for a cluster's slot map: each channel lives on node "a" or "b" (a real fakeredis each)."""

    sharded = True

    def __init__(self) -> None:
        self.servers = {"a": fakeredis.FakeServer(), "b": fakeredis.FakeServer()}
        self.owner: dict[str, str] = {}
        self.refreshes = 0

    def locate(self, channel: str):
        name = self.owner.get(channel, "a")
        return name, fakeredis.FakeRedis(server=self.servers[name])

    def refresh(self) -> None:
        self.refreshes += 1

    def publish(self, peer: str) -> int:
        """SPUBLISH on the node that owns the peer's channel now; returns how many heard it."""
        _, client = self.locate(channel_of(peer))
        return client.spublish(channel_of(peer), "1-0")


@pytest.fixture
def nodes():
    return TwoNodes()


@pytest.fixture
def cluster_hub(nodes):
    hub = Hub(None, channel_of, peer_of, nodes)
    yield hub
    hub.stop()


def test_channels_are_subscribed_on_their_own_node_one_connection_each(nodes, cluster_hub):
    nodes.owner.update({channel_of("bob"): "b", channel_of("dan"): "b"})
    waiters = {p: cluster_hub.watch(p) for p in ("alice", "bob", "carol", "dan")}
    links = cluster_hub.links
    assert sorted(links) == ["a", "b"]
    assert subscribed(links["a"].pubsub) == {b"wake:alice", b"wake:carol"}
    assert subscribed(links["b"].pubsub) == {b"wake:bob", b"wake:dan"}
    assert nodes.publish("dan") == 1
    assert waiters["dan"].wait(BOUND) is True
    assert waiters["alice"].wait(0) is False


def test_after_a_failover_channels_move_to_the_new_owner_and_everyone_rereads(nodes, cluster_hub):
    """Node a dies; its slots now belong to b (the promoted replica): resubscribe there, wake all."""
    alice, bob = cluster_hub.watch("alice"), cluster_hub.watch("bob")
    dead = cluster_hub.links["a"]
    nodes.owner.update({channel_of("alice"): "b", channel_of("bob"): "b"})
    dead.pubsub.get_message = _broken_get_message
    assert alice.wait(BOUND) is True and bob.wait(BOUND) is True
    assert nodes.refreshes >= 1, "the topology is re-read before resubscribing"
    assert eventually(lambda: sorted(cluster_hub.links) == ["b"])
    assert eventually(lambda: subscribed(cluster_hub.links["b"].pubsub) == {b"wake:alice", b"wake:bob"})
    assert nodes.publish("alice") == 1
    assert alice.wait(BOUND) is True
    assert bob.wait(0) is False


def test_a_moved_reply_to_a_subscription_resubscribes_on_the_owner(nodes, cluster_hub):
    """SSUBSCRIBE sent to a node that lost the slot answers MOVED: re-learn and go to the owner."""
    alice = cluster_hub.watch("alice")
    link = cluster_hub.links["a"]
    nodes.owner[channel_of("alice")] = "b"

    def moved(*args, **kwargs):
        raise redis.ResponseError("MOVED 1234 127.0.0.1:7001")

    link.pubsub.get_message = moved
    assert alice.wait(BOUND) is True
    assert eventually(lambda: b"wake:alice" in subscribed(cluster_hub.links.get("b", link).pubsub))
    assert nodes.publish("alice") == 1
    assert alice.wait(BOUND) is True


def test_the_server_dropping_a_shard_channel_moves_it(nodes, cluster_hub):
    """Redis 7 sends SUNSUBSCRIBE to subscribers when a slot leaves a node."""
    alice = cluster_hub.watch("alice")
    link = cluster_hub.links["a"]
    nodes.owner[channel_of("alice")] = "b"
    real = link.pubsub.get_message
    sent = []

    def dropped(*args, **kwargs):
        if not sent:
            sent.append(True)
            return {"type": "sunsubscribe", "channel": b"wake:alice", "data": 0}
        return real(*args, **kwargs)

    link.pubsub.get_message = dropped
    assert alice.wait(BOUND) is True
    assert eventually(lambda: "b" in cluster_hub.links)
    assert nodes.publish("alice") == 1
    assert alice.wait(BOUND) is True


def test_while_no_node_owns_the_slot_it_keeps_trying(nodes, cluster_hub, monkeypatch):
    """Mid-failover the slot has no master: locating fails a few times, then the replica is promoted."""
    alice = cluster_hub.watch("alice")
    link = cluster_hub.links["a"]
    failures = [3]
    real = nodes.locate

    def locate(channel):
        if failures[0] > 0:
            failures[0] -= 1
            raise redis.exceptions.SlotNotCoveredError("no owner")
        return real(channel)

    monkeypatch.setattr(nodes, "locate", locate)
    nodes.owner[channel_of("alice")] = "b"
    link.pubsub.get_message = _broken_get_message
    assert alice.wait(BOUND) is True
    assert eventually(lambda: "b" in cluster_hub.links)
    assert eventually(lambda: nodes.publish("alice") == 1)
    assert alice.wait(BOUND) is True
