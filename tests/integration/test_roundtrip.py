"""One instance: a message goes in over POST and comes out over SSE and over long-poll."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.peers import Peer
from tests.support.processes import wait_until

# One redis-server and the 6-node Redis Cluster.
pytestmark = pytest.mark.usefixtures("backend")


def _check_envelope(envelope: dict, sent_id: str, sender: Peer, kind: str, data, before_ms: int) -> None:
    assert envelope["id"] == sent_id
    assert envelope["type"] == kind
    assert envelope["data"] == data
    # Stamped by the server, whatever the sender claimed.
    assert envelope["from"] == sender.id
    assert envelope["from_name"] == sender.name
    assert isinstance(envelope["ts"], int)
    assert envelope["ts"] == int(sent_id.split("-")[0])
    assert before_ms - 5000 <= envelope["ts"] <= int(time.time() * 1000) + 5000
    assert "room" not in envelope


def test_sse_round_trip(app):
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    with bob.sse() as stream:
        ready = stream.next_event()
        assert ready is not None and ready.event == "ready"
        assert ready.json()["peer_id"] == bob.id
        assert stream.headers["content-type"].startswith("text/event-stream")

        before = int(time.time() * 1000)
        data = {"sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1", "n": [1, 2.5, None, True], "text": "こんにちは"}
        response = alice.send(bob.id, data, "offer", **{"from": "mallory", "from_name": "Mallory"})
        assert response.status_code == 202, response.text
        sent_id = response.json()["id"]

        event = stream.next_message()
        assert event is not None, "no message over SSE"
        assert event.id == sent_id
        assert event.event == "message"
        _check_envelope(event.json(), sent_id, alice, "offer", data, before)

        # And the reply travels the other way.
        reply_id = bob.send_ok(alice.id, {"sdp": "answer"}, "answer")
        body = alice.poll(wait=5)
        assert [m["id"] for m in body["messages"]] == [reply_id]
        assert body["messages"][0]["from"] == bob.id


def test_long_poll_round_trip(app):
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    assert bob.poll(wait=0)["messages"] == []

    before = int(time.time() * 1000)
    ids = [alice.send_ok(bob.id, {"candidate": f"c{i}"}, "candidate") for i in range(3)]
    body = bob.poll(wait=5)
    assert [m["id"] for m in body["messages"]] == ids
    assert body["cursor"] == ids[-1]
    for sent_id, message, i in zip(ids, body["messages"], range(3), strict=True):
        _check_envelope(message, sent_id, alice, "candidate", {"candidate": f"c{i}"}, before)

    # The cursor acknowledges: the same messages are not handed out again.
    assert bob.poll(wait=0)["messages"] == []


def test_long_poll_is_woken_by_a_send(app):
    """A poll already waiting when the message is sent answers with it (not only at its deadline)."""
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    result = {}

    def wait_for_mail():
        # The client gives up long before the server's 25 s wait would end by itself.
        result["body"] = bob.poll(wait=25, timeout=15)

    waiter = threading.Thread(target=wait_for_mail)
    waiter.start()
    wait_until(lambda: alice.get("/healthz").json()["waiting"] == 1, what="bob's poll to be waiting")
    sent_id = alice.send_ok(bob.id, "ring", "ring")
    waiter.join(20)
    assert not waiter.is_alive()
    assert [m["id"] for m in result["body"]["messages"]] == [sent_id]
