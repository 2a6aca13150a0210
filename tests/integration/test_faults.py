"""Redis replies delayed, stalled or cut (a TCP proxy between gunicorn and redis-server): each message stored once."""

from __future__ import annotations

import hashlib

import pytest

from signaling import lua
from tests.support.faultproxy import FaultProxy
from tests.support.peers import Peer


@pytest.fixture
def proxy(redis_server):
    proxy = FaultProxy(redis_server.port)
    yield proxy
    proxy.stop()


@pytest.fixture
def app(app_server_factory, proxy):
    """One instance whose every Redis connection (commands and pub/sub) goes through the proxy."""
    return app_server_factory({"REDIS_URL": proxy.url})


# The faults hit the reply of the script that stores the message. On one Redis
# a send to one peer is a single TOUCH_SEND call (the sender's TOUCH and the
# SEND together, signaling/lua.py).
SEND_SHA = hashlib.sha1(lua.TOUCH_SEND.encode()).hexdigest().encode()


def stored(peer: Peer, via) -> list:
    """Everything in ``peer``'s mailbox, read without acknowledging anything."""
    return [m["data"] for m in peer.poll(cursor="0", via=via)["messages"]]


def test_a_slow_send_reply_stores_the_message_once(app, proxy):
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    fault = proxy.arm(SEND_SHA, "delay", seconds=1.5)
    response = alice.send(bob.id, "slow")  # no cid: a slow reply alone must not duplicate
    assert fault.hits == 1
    assert response.status_code == 202, response.text
    assert stored(bob, app) == ["slow"]


def test_a_send_reply_slower_than_the_socket_timeout_is_stored_once_per_cid(app, proxy):
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    fault = proxy.arm(SEND_SHA, "delay", seconds=6.5)  # longer than the client's 5 s socket timeout
    first = alice.send(bob.id, "late", cid="late-1")
    assert fault.hits == 1
    assert first.status_code in (202, 503), first.text
    if first.status_code == 503:
        assert first.json()["outcome"] == "unknown"
    again = alice.send(bob.id, "late", cid="late-1")
    assert again.status_code == 202, again.text
    if first.status_code == 202:
        assert again.json()["id"] == first.json()["id"]
    assert stored(bob, app) == ["late"]


def test_a_reply_lost_with_its_connection_is_a_safe_retry_with_the_same_cid(app, proxy):
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    fault = proxy.arm(SEND_SHA, "cut")
    first = alice.send(bob.id, {"n": 1}, "offer", cid="cut-1")
    assert fault.hits == 1, "the script ran; only its reply was lost"
    assert first.status_code in (202, 503), first.text
    if first.status_code == 503:
        assert first.json()["outcome"] == "unknown"
        assert first.headers["Retry-After"]
    again = alice.send(bob.id, {"n": 1}, "offer", cid="cut-1")
    assert again.status_code == 202, again.text
    assert stored(bob, app) == [{"n": 1}]


def test_a_send_that_never_reaches_redis_is_a_503_and_stores_nothing(app, proxy):
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    proxy.arm(SEND_SHA, "refuse", times=10)  # every attempt, retries included
    response = alice.send(bob.id, "lost", cid="never")
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    proxy.disarm()
    assert stored(bob, app) == []
    assert alice.send(bob.id, "lost", cid="never").status_code == 202
    assert stored(bob, app) == ["lost"]


def test_a_batch_whose_reply_was_cut_is_resent_whole_and_stored_once_in_order(app, proxy):
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    batch = {"messages": [{"to": bob.id, "type": "c", "data": i, "cid": f"b{i}"} for i in range(5)]}
    proxy.arm(SEND_SHA, "cut")
    first = alice.http.post(app.url("/v1/messages"), json=batch, headers=alice.auth, timeout=20)
    assert first.status_code in (202, 503), first.text
    again = alice.http.post(app.url("/v1/messages"), json=batch, headers=alice.auth, timeout=20)
    assert again.status_code == 202, again.text
    assert stored(bob, app) == [0, 1, 2, 3, 4]
