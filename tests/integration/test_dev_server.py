"""``python main.py``: the README's first command, on the embedded store (no Redis).

The dev server is gevent's WSGI server on the same app, so it must relay
over SSE and long-poll and hold many open streams at once.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.peers import Peer
from tests.support.processes import AppServer


@pytest.fixture
def dev_server():
    env = {"REDIS_URL": "", "REDIS_TLS_URL": "", "SECRET_KEY": ""}
    server = AppServer(env, command=[sys.executable, "main.py"])
    yield server
    Peer.hang_up_all()
    server.stop()


def test_dev_server_reports_the_embedded_store(dev_server):
    health = Peer(dev_server, "Probe").get("/healthz").json()
    assert health["store"] == "embedded"


def test_dev_server_relays_over_sse_and_long_poll(dev_server):
    alice, bob = Peer(dev_server, "Alice"), Peer(dev_server, "Bob")
    with bob.sse() as stream:
        assert stream.next_event().event == "ready"
        sent = alice.send_ok(bob.id, {"sdp": "v=0"}, "offer")
        message = stream.next_message()
        assert message.id == sent
        assert message.json()["from"] == alice.id
    sent = alice.send_ok(bob.id, "candidate-1", "candidate")
    body = bob.poll(wait=5)
    assert sent in [m["id"] for m in body["messages"]]


def test_dev_server_holds_many_streams_at_once(dev_server):
    """Each open stream is a greenlet: 200 at once, then every one gets its message."""
    sender = Peer(dev_server, "Sender")
    peers = [Peer(dev_server, f"P{i}") for i in range(200)]
    streams = [p.sse() for p in peers]
    try:
        for stream in streams:
            assert stream.next_event().event == "ready"
        for peer in peers:
            sender.send_ok(peer.id, peer.id, "ping")
        for peer, stream in zip(peers, streams, strict=True):
            assert stream.next_message().json()["data"] == peer.id
    finally:
        for stream in streams:
            stream.close()
