"""What one send costs in Redis round trips, counted on a redis-server of its own (INFO commandstats)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.support.peers import Peer


def _calls(client) -> dict[str, int]:
    return {k.removeprefix("cmdstat_"): v["calls"] for k, v in client.info("commandstats").items()}


def test_a_send_is_one_script_call_on_one_redis(app_server_factory, own_redis):
    app = app_server_factory({"REDIS_URL": own_redis.url, "PRESENCE_TTL": "300"})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    alice.send_ok(bob.id, "warm-up")  # scripts loaded, connections open
    stats = own_redis.client()

    before = _calls(stats)
    alice.send_ok(bob.id, {"sdp": "offer"}, "offer")
    after = _calls(stats)
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) and k != "info"}
    # One TOUCH_SEND (who is sending, rate limit, check online, XADD, PUBLISH): nothing else on the wire.
    assert delta.get("evalsha") == 1, delta
    assert "script|exists" not in delta, delta
    assert delta.get("xadd") == 1 and delta.get("spublish", 0) + delta.get("publish", 0) == 1, delta
    stats.close()


def test_a_waiting_reader_takes_small_messages_from_the_wakeup_without_reading(app_server_factory, own_redis):
    """Per message: the sender's one script call, and no mailbox read by the SSE stream or the long-poll."""
    app = app_server_factory({"REDIS_URL": own_redis.url, "PRESENCE_TTL": "300"})
    alice, bob, carol = Peer(app, "Alice"), Peer(app, "Bob"), Peer(app, "Carol")
    alice.send_ok(bob.id, "warm-up")
    stats = own_redis.client()
    with bob.sse() as stream:
        assert stream.next_event().event == "ready"
        assert stream.next_message() is not None  # the warm-up, read by the stream's first read
        before = _calls(stats)
        for n in range(10):
            sent = alice.send_ok(bob.id, n)
            got = stream.next_message()
            assert got is not None and got.id == sent
        delta = _calls(stats).get("evalsha", 0) - before.get("evalsha", 0)
    assert delta == 10, f"{delta} script calls for 10 messages: the stream read its mailbox"

    carol.poll(wait=0)
    with ThreadPoolExecutor(1) as pool:
        start = _calls(stats).get("evalsha", 0)
        waiting = pool.submit(carol.poll, None, 10)
        for _ in range(200):  # until the poll has authenticated and read its empty mailbox (one TOUCH_READ)
            before = _calls(stats)
            if before.get("evalsha", 0) - start >= 1:
                break
            time.sleep(0.05)
        sent = alice.send_ok(carol.id, "wake")
        answer = waiting.result()
        delta = _calls(stats).get("evalsha", 0) - before.get("evalsha", 0)
    assert [m["id"] for m in answer["messages"]] == [sent]
    assert delta == 1, f"{delta} script calls: the long-poll read its mailbox again after the wake-up"
    stats.close()


def test_a_poll_is_one_script_call(app_server_factory, own_redis):
    """Authenticating the poll, acknowledging its cursor and reading are one TOUCH_READ, not TOUCH then READ."""
    app = app_server_factory({"REDIS_URL": own_redis.url, "PRESENCE_TTL": "300"})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    alice.send_ok(bob.id, "warm-up")
    bob.poll(wait=0)
    stats = own_redis.client()
    sent = alice.send_ok(bob.id, "mail")
    before = _calls(stats)
    answer = bob.poll(wait=0)
    delta = {k: v - before.get(k, 0) for k, v in _calls(stats).items() if v - before.get(k, 0) and k != "info"}
    assert [m["id"] for m in answer["messages"]] == [sent]
    assert delta.get("evalsha") == 1, delta
    stats.close()
