"""Redis goes away and comes back: clients are told (503, Retry-After), then everything works again."""

from __future__ import annotations

import threading

import requests

from tests.support.peers import Peer
from tests.support.processes import RedisServer, wait_until


def _is_problem_503(response: requests.Response) -> bool:
    assert response.status_code == 503, f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["status"] == 503
    response.close()  # urllib3 keeps a connection for an error answer even after its session closes
    return True


def _waiting(app, http: requests.Session) -> int:
    return http.get(app.url("/healthz"), timeout=5).json()["waiting"]


def test_redis_outage_then_recovery(app_server_factory, own_redis):
    # Waits re-check the mailbox only every 60 s, and clients give up after 15 s: an
    # answer in time can only come from the hub's wake-up (or its reconnect).
    app = app_server_factory({"REDIS_URL": own_redis.url, "HUB_RECHECK_INTERVAL": "60"})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob", peer_id="bob-outage")
    carol = Peer(app, "Carol")
    stream = carol.sse()
    assert stream.next_event().event == "ready"

    polled = {}

    def long_poll():
        polled["response"] = bob.http.get(app.url("/v1/messages"), params={"wait": 25}, headers=bob.auth, timeout=15)

    poller = threading.Thread(target=long_poll)
    poller.start()
    wait_until(lambda: _waiting(app, alice.http) == 2, what="bob and carol waiting")

    own_redis.stop()

    # Whoever was waiting hears about it instead of hanging on.
    poller.join(20)
    assert _is_problem_503(polled["response"])
    stream.read_until_closed(timeout=15)
    assert stream.eof, "the SSE stream stayed open while Redis was gone"
    assert b"retry:" in bytes(stream.body).split(b"event: ready", 1)[1]
    stream.close()

    # New requests are refused with a problem, nothing accepted then lost.
    assert _is_problem_503(alice.send(bob.id, "anyone?"))
    assert _is_problem_503(alice.http.get(app.url("/healthz"), timeout=10))
    assert _is_problem_503(alice.http.post(app.url("/v1/sessions"), json={"name": "Dave"}, timeout=10))
    events = alice.http.get(app.url("/v1/events"), params={"token": carol.token}, timeout=10, stream=True)
    assert _is_problem_503(events)

    back = RedisServer(port=own_redis.port)  # same address, empty data
    try:
        wait_until(lambda: alice.http.get(app.url("/healthz"), timeout=5).status_code == 200, what="healthz 200")
        # The hub reconnected and resubscribed, by itself, the channel bob waited on before the outage.
        redis_client = back.client()
        wait_until(
            lambda: redis_client.pubsub_shardchannels("*{peer:bob-outage}:w"),
            what="the hub to resubscribe bob's channel",
        )
        redis_client.close()
        # The data went with the server, so sessions start over: old tokens are refused...
        assert alice.get("/v1/sessions/me").status_code == 401
        # ...and the same peer id can be taken again, on the channel the hub watched before the outage.
        alice2, bob2 = Peer(app, "Alice"), Peer(app, "Bob", peer_id="bob-outage")
        result = {}
        poller = threading.Thread(target=lambda: result.update(body=bob2.poll(wait=25, timeout=15)))
        poller.start()
        wait_until(lambda: _waiting(app, alice.http) == 1, what="bob waiting again")
        sent = alice2.send_ok(bob2.id, "you're back")
        poller.join(20)
        assert [m["id"] for m in result["body"]["messages"]] == [sent], "the hub did not wake the waiter"

        # SSE too (resuming after what the poll returned).
        with bob2.sse(last_event_id=bob2.cursor) as again:
            assert again.next_event().event == "ready"
            sent = alice2.send_ok(bob2.id, "streaming again")
            event = again.next_message(timeout=15)
            assert event is not None and event.id == sent
        # Error paths (503s, streams cut by the outage, ?token= on /v1/events) log no token either.
        log = app.output()
        assert "redis unavailable" in log and "stream ended: store unavailable" in log and "hub connection lost" in log
        for peer in (alice, bob, carol, alice2, bob2):
            assert peer.token not in log
            assert peer.token.rpartition(".")[2] not in log
    finally:
        back.stop()


def test_hub_reconnects_when_only_its_pubsub_connection_drops(app_server_factory, own_redis):
    """Redis stays up but kills the hub's connection (a proxy idle timeout, a failover, CLIENT KILL)."""
    app = app_server_factory({"REDIS_URL": own_redis.url, "HUB_RECHECK_INTERVAL": "60"})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    redis_client = own_redis.client()
    channel = f"*{{peer:{bob.id}}}:w"

    def poll_and_wake(text: str) -> None:
        result = {}
        poller = threading.Thread(target=lambda: result.update(body=bob.poll(wait=25, timeout=15)))
        poller.start()
        wait_until(lambda: _waiting(app, alice.http) == 1, what="bob waiting")
        sent = alice.send_ok(bob.id, text)
        poller.join(20)
        assert [m["id"] for m in result["body"]["messages"]] == [sent], "the waiter was not woken"

    try:
        poll_and_wake("before")
        assert redis_client.pubsub_shardchannels(channel)
        assert redis_client.client_kill_filter(_type="pubsub") == 1
        wait_until(lambda: redis_client.pubsub_shardchannels(channel), what="the hub to resubscribe")
        poll_and_wake("after")
    finally:
        redis_client.close()
