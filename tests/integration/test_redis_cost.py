"""What one send costs in Redis round trips, counted on a redis-server of its own (INFO commandstats)."""

from __future__ import annotations

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
