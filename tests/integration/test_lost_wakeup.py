"""A message stored without its wake-up still reaches the open SSE stream (signaling/sweep.py).

The entry is written into the mailbox exactly as SEND stores it, but no
wake-up is published, as when pub/sub drops one. Open streams no longer
re-read by themselves; only the process-wide sweep can find it, within
HUB_RECHECK_INTERVAL (1 s here; without the sweep the stream would wait for
its STREAM_MAX_DURATION). Real gunicorn + gevent, real Redis and Cluster.
"""

from __future__ import annotations

import redis

from signaling.envelope import envelope
from tests.support.peers import Peer


def _client(backend: str, request) -> redis.Redis:
    if backend == "cluster":
        return redis.RedisCluster.from_url(request.getfixturevalue("redis_cluster").url)
    return redis.Redis.from_url(request.getfixturevalue("redis_server").url)


def test_a_message_whose_wakeup_was_lost_reaches_the_open_stream(app_server_factory, backend, request):
    app = app_server_factory({"HUB_RECHECK_INTERVAL": "1"})
    store = _client(backend, request)
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    with bob.sse() as stream:
        assert stream.next_event().event == "ready"
        first = alice.send_ok(bob.id, "with its wake-up")
        assert stream.next_message().id == first  # past the stream's first read: now in the sweep

        mailbox = f"{app.env['KEY_PREFIX']}{{peer:{bob.id}}}:m"
        lost = store.xadd(mailbox, {"e": envelope("note", "no wake-up", alice.id, "Alice")}).decode()

        got = stream.next_message(timeout=10)
        assert got is not None and got.id == lost
        assert got.json()["data"] == "no wake-up"
        # Nothing twice: the next message is the next one.
        marker = alice.send_ok(bob.id, "marker")
        assert stream.next_message().id == marker
    store.close()
