"""Presence: a peer that goes silent drops out on its own; one whose connection closes, within seconds."""

from __future__ import annotations

import time

import pytest

from tests.support.peers import Peer

TTL = 3.0

# One redis-server and the 6-node Redis Cluster.
pytestmark = pytest.mark.usefixtures("backend")


def test_silent_peer_times_out_of_directory_and_room(app_server_factory):
    app = app_server_factory({"PRESENCE_TTL": str(TTL)})
    alice, bob = Peer(app, "Alice", listed=True), Peer(app, "Bob", listed=True)
    assert alice.join("standup").status_code == 200
    assert bob.join("standup").status_code == 200
    listed = {p["peer_id"] for p in alice.get("/v1/peers").json()["peers"]}
    assert {alice.id, bob.id} <= listed
    assert alice.poll(wait=0)["messages"][0]["type"] == "peer-joined"

    bob_last_request = time.monotonic()  # from here on Bob says nothing
    deadline = bob_last_request + 2 * TTL
    events = []
    while time.monotonic() < deadline:
        # Alice stays alive by polling; her polls are what notices Bob's silence.
        events += alice.poll(wait=min(1.0, max(0.05, deadline - time.monotonic())))["messages"]
        if any(e["type"] == "peer-left" for e in events):
            break
    left = [e for e in events if e["type"] == "peer-left"]
    assert left, f"no peer-left within 2 x PRESENCE_TTL; got {events}"
    assert left[0]["room"] == "standup"
    assert left[0]["data"] == {"peer_id": bob.id, "name": "Bob", "reason": "timeout"}
    assert left[0]["from"] == bob.id

    # Gone from the directory and the room, seen through any request...
    listed = {p["peer_id"] for p in alice.get("/v1/peers").json()["peers"]}
    assert bob.id not in listed and alice.id in listed
    members = {m["peer_id"] for m in alice.get("/v1/rooms/standup").json()["members"]}
    assert members == {alice.id}
    # ...and the session itself is over: the old token no longer works, nothing can be sent to him.
    assert bob.get("/v1/sessions/me").status_code == 401
    assert alice.send(bob.id, "still there?").status_code == 404
    # Announced once, not again by later requests that prune.
    assert not [e for e in alice.poll(wait=1.5)["messages"] if e["type"] == "peer-left"]


def test_a_peer_polling_back_to_back_stays_online(app_server_factory):
    """Long-polls are requests: a peer that keeps polling is never timed out or departed."""
    app = app_server_factory({"PRESENCE_TTL": str(TTL), "DEPARTURE_GRACE": "0.5"})
    alice, bob = Peer(app, "Alice", listed=True), Peer(app, "Bob", listed=True)
    wait = bob.session["longpoll_max_wait"]
    assert 0 < wait < TTL, "the server keeps every poll inside the presence TTL"
    started = time.monotonic()
    while time.monotonic() < started + 3 * TTL:
        bob.poll(wait=wait)
        assert alice.http.post(app.url("/v1/sessions/me/heartbeat"), headers=alice.auth, timeout=5).ok
    assert bob.id in {p["peer_id"] for p in alice.get("/v1/peers").json()["peers"]}
    assert alice.send(bob.id, "still there?").status_code == 202
    assert bob.get("/v1/sessions/me").status_code == 200


def _departure(app, alice: Peer, bob: Peer, hang_up) -> tuple[float, dict]:
    """Seconds from ``hang_up()`` to Alice's peer-left for Bob, and that event."""
    assert alice.join("standup").status_code == 200
    assert bob.join("standup").status_code == 200
    alice.poll(wait=0)
    gone = time.monotonic()
    hang_up()
    while time.monotonic() < gone + 30:
        for event in alice.poll(wait=1)["messages"]:
            if event["type"] == "peer-left":
                return time.monotonic() - gone, event
    raise AssertionError("no peer-left within 30 s")


def test_a_closed_event_stream_ends_the_session_within_seconds(app_server_factory):
    """A crashed tab: its stream's socket closes with no goodbye. The default TTL is 45 s; this takes the grace."""
    app = app_server_factory({"DEPARTURE_GRACE": "1"})
    alice, bob = Peer(app, "Alice", listed=True), Peer(app, "Bob", listed=True)
    stream = bob.sse()
    stream.next_event()  # ready
    took, event = _departure(app, alice, bob, stream.close)
    assert event["data"] == {"peer_id": bob.id, "name": "Bob", "reason": "disconnected"}
    assert took < 45, "well before the presence TTL"
    assert bob.get("/v1/sessions/me").status_code == 401
    assert alice.send(bob.id, "hello?").status_code == 404, "offline at once"
    assert bob.id not in {p["peer_id"] for p in alice.get("/v1/peers").json()["peers"]}


def test_a_long_poll_peer_that_stops_polling_is_ended_after_wait_plus_grace(app_server_factory):
    app = app_server_factory({"DEPARTURE_GRACE": "1"})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    took, event = _departure(app, alice, bob, lambda: bob.poll(wait=1))
    assert event["data"]["reason"] == "disconnected"


def test_a_reconnect_to_the_other_instance_within_the_grace_keeps_the_session(app_server_factory):
    first = app_server_factory({"DEPARTURE_GRACE": "2"})
    second = app_server_factory({"DEPARTURE_GRACE": "2"})
    alice, bob = Peer(first, "Alice"), Peer(first, "Bob")
    assert alice.join("standup").status_code == 200 and bob.join("standup").status_code == 200
    stream = bob.sse()
    stream.next_event()
    stream.close()
    again = bob.sse(via=second)  # EventSource reconnects through the balancer
    again.next_event()
    time.sleep(4)
    assert bob.get("/v1/sessions/me").status_code == 200
    assert not [e for e in alice.poll(wait=0)["messages"] if e["type"] == "peer-left"]
    again.close()
