"""Presence without a background worker: a peer that stops polling drops out on its own."""

from __future__ import annotations

import time

from tests.support.peers import Peer

TTL = 3.0


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
