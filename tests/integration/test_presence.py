"""Presence without a background worker: a peer that stops polling drops out on its own."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.peers import Peer
from tests.support.processes import wait_until

TTL = 3.0

# One redis-server and the 6-node Redis Cluster.
pytestmark = pytest.mark.usefixtures("backend")


def test_silent_peer_times_out_of_directory_and_room(app_server_factory):
    app = app_server_factory({"PRESENCE_TTL": str(TTL)})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
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


def test_a_peer_waiting_in_a_long_poll_stays_online(app_server_factory):
    """A long-poll may wait longer than PRESENCE_TTL (LONGPOLL_MAX_WAIT is 25 s): the waiting peer is not gone."""
    app = app_server_factory({"PRESENCE_TTL": str(TTL)})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    assert bob.session["longpoll_max_wait"] > TTL  # the server lets him wait this long
    result = {}
    poller = threading.Thread(target=lambda: result.update(body=bob.poll(wait=4 * TTL, timeout=4 * TTL + 10)))
    started = time.monotonic()
    poller.start()
    wait_until(lambda: alice.get("/healthz").json()["waiting"] == 1, what="bob waiting")
    while time.monotonic() < started + 2 * TTL:  # well past his TTL, still inside his poll
        assert alice.http.post(app.url("/v1/sessions/me/heartbeat"), headers=alice.auth, timeout=5).ok
        time.sleep(0.5)
    assert poller.is_alive(), "the poll ended early"
    assert bob.id in {p["peer_id"] for p in alice.get("/v1/peers").json()["peers"]}
    sent = alice.send(bob.id, "are you there?")
    assert sent.status_code == 202, sent.text
    poller.join(10)
    assert [m["id"] for m in result["body"]["messages"]] == [sent.json()["id"]]
    assert bob.get("/v1/sessions/me").status_code == 200
