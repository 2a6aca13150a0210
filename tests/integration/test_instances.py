"""Two gunicorn instances on two ports sharing one Redis: any instance serves any request."""

from __future__ import annotations

import threading

import pytest

from tests.support.peers import Peer
from tests.support.processes import wait_until

# One redis-server and the 6-node Redis Cluster.
pytestmark = pytest.mark.usefixtures("backend")


def test_send_on_one_instance_receive_on_the_other(two_apps):
    one, two = two_apps
    alice = Peer(one, "Alice")
    bob_sse = Peer(two, "Bob")
    carol_poll = Peer(two, "Carol")

    with bob_sse.sse(via=two) as stream:
        assert stream.next_event().event == "ready"
        sent = alice.send_ok(bob_sse.id, {"sdp": "offer"}, "offer", via=one)
        event = stream.next_message()
        assert event is not None and event.id == sent
        assert event.json()["from"] == alice.id

    # A long-poll already waiting on instance 2 is woken by a send on instance 1.
    result = {}
    poller = threading.Thread(target=lambda: result.update(body=carol_poll.poll(wait=25, via=two, timeout=15)))
    poller.start()
    wait_until(lambda: carol_poll.get("/healthz", via=two).json()["waiting"] >= 1, what="carol waiting on two")
    sent = alice.send_ok(carol_poll.id, "hello", via=one)
    poller.join(20)
    assert [m["id"] for m in result["body"]["messages"]] == [sent]
    assert result["body"]["messages"][0]["from_name"] == "Alice"


def test_room_join_on_one_instance_is_seen_through_the_other(two_apps):
    one, two = two_apps
    alice, bob = Peer(one, "Alice"), Peer(two, "Bob")
    assert bob.join("lobby", via=two).status_code == 200
    with bob.sse(via=two) as stream:
        assert stream.next_event().event == "ready"
        joined = alice.join("lobby", via=one)
        assert joined.status_code == 200
        assert {m["peer_id"] for m in joined.json()["members"]} == {alice.id, bob.id}

        event = stream.next_message()
        assert event is not None
        envelope = event.json()
        assert envelope["type"] == "peer-joined"
        assert envelope["room"] == "lobby"
        assert envelope["data"] == {"peer_id": alice.id, "name": "Alice"}

        # Room messages go through too, tagged with the room, not echoed to the sender.
        response = alice.send_room("lobby", {"text": "hi all"}, "chat", via=one)
        assert response.status_code == 202, response.text
        event = stream.next_message()
        assert event.json()["room"] == "lobby"
        assert event.json()["data"] == {"text": "hi all"}
        assert alice.poll(wait=0, via=two)["messages"] == []

    # Both instances list the same members.
    for server in (one, two):
        room = alice.get("/v1/rooms/lobby", via=server).json()
        assert {m["peer_id"] for m in room["members"]} == {alice.id, bob.id}
