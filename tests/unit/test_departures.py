"""Departure: a peer whose stream closed (or whose long-poll was not followed by another) is ended after a grace.

The store's check is exact (it compares the session's request and
connection counts with marks taken when the connection closed); the
scheduler runs it a grace later; the SSE view marks and schedules when a
stream ends. Over HTTP the grace is 50 ms here, so these tests wait that long.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from signaling.departures import Departures
from tests.unit.conftest import checked_client, register_on
from tests.unit.mail import entries, sid_of
from tests.unit.test_sse import Stream


@pytest.fixture
def store(state):
    return state.store


def left_events(store, peer: str) -> list[dict]:
    return [json.loads(e)["data"] for _, e in entries(store, peer, ack=False) if json.loads(e)["type"] == "peer-left"]


def in_a_room(store, *peers: str) -> dict[str, str]:
    for peer in peers:
        store.register(peer.title(), peer, listed=True)
        store.join_room("r", peer, peer.title())
    return {p: sid_of(store, p) for p in peers}


def test_departure_ends_a_silent_session_and_tells_its_rooms(store):
    sids = in_a_room(store, "alice", "bob")
    marks = store.marks("bob")
    assert store.depart("bob", sids["bob"], *marks)
    assert not store.is_online("bob")
    assert left_events(store, "alice") == [{"peer_id": "bob", "name": "Bob", "reason": "disconnected"}]
    assert store.peers("", 10).peers == [("alice", "Alice")], "unlisted at once"


def test_any_request_since_the_mark_keeps_the_session(store):
    sids = in_a_room(store, "alice", "bob")
    marks = store.marks("bob")
    assert store.touch("bob", sids["bob"]) is not None  # a heartbeat, a send...
    assert not store.depart("bob", sids["bob"], *marks)
    assert store.is_online("bob") and left_events(store, "alice") == []


def test_a_new_stream_or_poll_since_the_mark_keeps_the_session(store):
    """The reconnect may reach another instance: the count lives in Redis."""
    sids = in_a_room(store, "alice", "bob")
    marks = store.marks("bob")
    store.read("bob", sids["bob"], "0", opening=True)
    assert not store.depart("bob", sids["bob"], *marks)
    assert store.is_online("bob")


def test_a_departure_check_for_an_old_session_does_nothing(store):
    sids = in_a_room(store, "alice", "bob")
    marks = store.marks("bob")
    store.end_session("bob", sids["bob"])
    store.register("Bob again", "bob")
    assert not store.depart("bob", sids["bob"], *marks)
    assert store.is_online("bob")


def test_a_refreshing_peer_pruned_from_its_room_is_announced(store, state, clock):
    """It used to be lost: the pruning call listed no members to tell."""
    sids = in_a_room(store, "alice", "bob")
    s = state.settings
    listed_for = s.presence_ttl + s.heartbeat_interval
    clock.advance(listed_for - 5)
    store.redis.hset(store.peer_keys("alice")[0], "seen", 0)
    assert store.touch("alice", sids["alice"]) is not None  # Alice's listing is renewed
    clock.advance(10)  # Bob's room listing lapsed...
    store.redis.hset(store.peer_keys("bob")[0], "seen", 0)  # ...his refresh is due...
    assert store.touch("bob", sids["bob"]) is not None  # ...and his own refresh prunes him
    assert [e["peer_id"] for e in left_events(store, "alice")] == ["bob"]


def test_the_scheduler_runs_each_check_once_its_delay_has_passed():
    ran = []
    done = threading.Event()

    def check(*item):
        ran.append(item)
        if len(ran) == 2:
            done.set()
        return True

    departures = Departures(check)
    departures.schedule(0.2, "late", "s", "1", "1")
    departures.schedule(0.01, "early", "s", "1", "1")
    assert done.wait(5)
    assert [item[0] for item in ran] == ["early", "late"]
    assert departures.ended == 2 and departures.pending == 0
    departures.stop()


@pytest.fixture
def quick_app(make_app):
    return make_app(departure_grace=0.05, keepalive_interval=0.02, stream_max_duration=120.0, presence_ttl=10.0)


def wait_for(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_a_closed_stream_ends_the_session_after_the_grace(quick_app):
    client = checked_client(quick_app)
    store = quick_app.extensions["signaling"].store
    _, alice_h, _ = register_on(client, "Alice", "alice")
    _, bob_h, _ = register_on(client, "Bob", "bob")
    for headers in (alice_h, bob_h):
        assert client.post("/v1/rooms/r/members", headers=headers).status_code == 200
    stream = Stream(client.get("/v1/events", headers=bob_h))
    stream.frame()
    stream.close()  # the tab crashed
    assert wait_for(lambda: not store.is_online("bob")), "ended after the grace"
    assert client.get("/v1/sessions/me", headers=bob_h).status_code == 401
    assert [e["reason"] for e in left_events(store, "alice")] == ["disconnected"]


def test_a_stream_reopened_within_the_grace_keeps_the_session(quick_app):
    client = checked_client(quick_app)
    state = quick_app.extensions["signaling"]
    _, bob_h, _ = register_on(client, "Bob", "bob")
    first = Stream(client.get("/v1/events", headers=bob_h))
    first.frame()
    first.close()
    second = Stream(client.get("/v1/events", headers=bob_h))  # EventSource reconnects
    second.frame()
    assert wait_for(lambda: state.departures.pending == 0)
    time.sleep(0.1)
    assert state.store.is_online("bob")
    second.close()


def test_a_long_poll_not_followed_by_another_ends_the_session(quick_app):
    client = checked_client(quick_app)
    store = quick_app.extensions["signaling"].store
    _, bob_h, _ = register_on(client, "Bob", "bob")
    assert client.get("/v1/messages?wait=0.05", headers=bob_h).status_code == 200
    assert store.is_online("bob")
    assert wait_for(lambda: not store.is_online("bob")), "no poll within wait + grace"


def test_polling_on_keeps_a_long_poll_session(make_app):
    # A grace long enough that a loaded test machine always polls again in time.
    app = make_app(departure_grace=2.0, presence_ttl=10.0)
    client = checked_client(app)
    store = app.extensions["signaling"].store
    _, bob_h, _ = register_on(client, "Bob", "bob")
    for _ in range(6):
        assert client.get("/v1/messages?wait=0.05", headers=bob_h).status_code == 200
    assert store.is_online("bob")
