"""Rooms in the store: membership, capacity, and the peer-joined / peer-left events members get."""

from __future__ import annotations

import json

import pytest

from signaling.rooms import RoomFull
from signaling.store import Store
from tests.unit.mail import entries, sid_of


@pytest.fixture
def store(state):
    return state.store


def inbox(store: Store, peer: str) -> list[dict]:
    return [json.loads(e) for _, e in entries(store, peer, "0", ack=False)]


def events(store: Store, peer: str, kind: str) -> list[dict]:
    return [e for e in inbox(store, peer) if e["type"] == kind]


def join(store: Store, room: str, *peers: str):
    for peer in peers:
        store.register(peer.title(), peer, listed=True)
        store.join_room(room, peer, peer.title())


def test_joining_lists_members_and_tells_the_others(store):
    join(store, "r", "alice")
    store.register("Bob", "bob")
    assert store.join_room("r", "bob", "Bob") == [("alice", "Alice"), ("bob", "Bob")]
    (joined,) = events(store, "alice", "peer-joined")
    assert joined["data"] == {"peer_id": "bob", "name": "Bob"}
    assert (joined["from"], joined["from_name"], joined["room"]) == ("bob", "Bob", "r")
    assert inbox(store, "bob") == [], "the joiner is not told about itself"


def test_joining_again_is_quiet(store):
    join(store, "r", "alice", "bob")
    store.join_room("r", "bob", "Bob")
    assert len(events(store, "alice", "peer-joined")) == 1


def test_a_full_room_refuses_newcomers_but_not_members(store, state):
    capacity = state.settings.room_capacity
    peers = [f"p{i}" for i in range(capacity)]
    join(store, "r", *peers)
    store.register("Late", "late")
    with pytest.raises(RoomFull):
        store.join_room("r", "late", "Late")
    assert len(store.join_room("r", "p0", "P0")) == capacity
    assert "late" not in [p for p, _ in store.room_members("r")]


def test_leaving_tells_the_remaining_members(store):
    join(store, "r", "alice", "bob")
    assert store.leave_room("r", "bob") is True
    (left,) = events(store, "alice", "peer-left")
    assert left["data"] == {"peer_id": "bob", "name": "Bob", "reason": "left"}
    assert store.room_members("r") == [("alice", "Alice")]
    assert store.leave_room("r", "bob") is False
    assert len(events(store, "alice", "peer-left")) == 1


def test_ending_a_session_leaves_its_rooms(store):
    join(store, "r", "alice", "bob")
    join(store, "s", "carol")
    store.join_room("s", "bob", "Bob")
    store.end_session("bob", sid_of(store, "bob"))
    for peer, room in [("alice", "r"), ("carol", "s")]:
        (left,) = events(store, peer, "peer-left")
        assert (left["room"], left["data"]["peer_id"], left["data"]["reason"]) == (room, "bob", "left")


def test_a_vanished_peer_is_pruned_and_reported_as_timeout(store, state, clock):
    """Bob stops refreshing (closed laptop); the room notices on its next read, no worker needed."""
    join(store, "r", "alice", "bob")
    store.redis.delete(*store.peer_keys("bob"))  # his keys expired
    alice_sid = store.redis.hget(store.peer_keys("alice")[0], "sid").decode()
    s = state.settings
    for _ in range(int(s.presence_ttl // s.heartbeat_interval) + 2):
        clock.advance(s.heartbeat_interval)
        assert store.touch("alice", alice_sid) is not None  # Alice keeps polling
    assert store.room_members("r") == [("alice", "Alice")]
    (left,) = events(store, "alice", "peer-left")
    assert left["data"] == {"peer_id": "bob", "name": "Bob", "reason": "timeout"}
    assert left["room"] == "r"


def test_a_vanished_peer_is_reported_once_by_whichever_read_comes_first(store, state, clock):
    join(store, "r", "alice", "bob", "carol")
    listed_for = state.settings.presence_ttl + state.settings.heartbeat_interval
    clock.advance(listed_for / 2)
    for peer in ("alice", "carol"):
        store.join_room("r", peer, peer.title())  # refresh their scores, not Bob's
    clock.advance(listed_for / 2 + 1)
    assert [p for p, _ in store.room_members("r")] == ["alice", "carol"]
    store.room_members("r")
    for peer in ("alice", "carol"):
        timeouts = [e for e in events(store, peer, "peer-left") if e["data"]["reason"] == "timeout"]
        assert [e["data"]["peer_id"] for e in timeouts] == ["bob"]


def test_capacity_counts_only_live_members(make_app, clock):
    app = make_app(room_capacity=2)
    store = app.extensions["signaling"].store
    join(store, "r", "alice", "bob")
    s = app.extensions["signaling"].settings
    clock.advance(s.presence_ttl + s.heartbeat_interval + 1)
    store.register("Carol", "carol")
    store.join_room("r", "carol", "Carol")  # both others timed out, so there is room
    assert store.room_members("r") == [("carol", "Carol")]


def test_a_live_peer_is_never_pruned_from_its_room(store, state, clock):
    """While a session is alive its peer must stay in its rooms, however its requests are spaced.

    Bob's requests come at 10 s and 50 s: 40 s apart, under the 45 s presence
    TTL, so his session never lapses. Alice polls every 5 s meanwhile; nobody
    may be told that Bob timed out.
    """
    assert (state.settings.presence_ttl, state.settings.heartbeat_interval) == (45.0, 15.0)
    join(store, "r", "alice", "bob")
    sids = {p: store.redis.hget(store.peer_keys(p)[0], "sid").decode() for p in ("alice", "bob")}
    for second in range(5, 65, 5):
        clock.advance(5)
        assert store.touch("alice", sids["alice"]) is not None
        if second in (10, 50):
            assert store.touch("bob", sids["bob"]) is not None
        assert sorted(p for p, _ in store.room_members("r")) == ["alice", "bob"], f"at {second} s"
        assert sorted(p for p, _ in store.peers("", 10).peers) == ["alice", "bob"], f"at {second} s"
    assert events(store, "alice", "peer-left") == []


def test_a_peer_id_registered_again_rejoins_as_a_new_member(store, state, clock):
    """Bob's laptop slept past his session; he registers the same id again and rejoins.

    His old room entry may still be listed (listings outlast sessions by a
    heartbeat), yet Alice must learn that the old Bob timed out and a new one
    joined, or she keeps a dead connection and never calls the new Bob.
    """
    s = state.settings
    join(store, "r", "alice", "bob")
    alice_sid = store.redis.hget(store.peer_keys("alice")[0], "sid").decode()
    store.redis.delete(*store.peer_keys("bob"))  # his session expired...
    clock.advance(s.presence_ttl + 1)  # ...but his listing has not yet
    assert store.touch("alice", alice_sid) is not None
    store.register("Bob (laptop)", "bob")
    store.join_room("r", "bob", "Bob (laptop)")
    seen = [(e["type"], e["data"].get("reason"), e["from_name"]) for e in inbox(store, "alice")]
    assert seen == [
        ("peer-joined", None, "Bob"),
        ("peer-left", "timeout", "Bob"),
        ("peer-joined", None, "Bob (laptop)"),
    ]
    assert dict(store.room_members("r"))["bob"] == "Bob (laptop)"
