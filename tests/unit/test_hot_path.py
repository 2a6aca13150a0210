"""What the per-message optimisations could break: revocation with the token cache, idle streams not reading."""

from __future__ import annotations

from signaling.tokens import Tokens
from tests.unit.conftest import checked_client, register_on
from tests.unit.test_sse import Stream


def test_a_cached_token_is_still_refused_right_after_leaving(client, register):
    """The cache remembers signatures only; the session check still runs on every request."""
    _, headers, _ = register()
    for _ in range(3):
        assert client.get("/v1/sessions/me", headers=headers).status_code == 200
    assert client.delete("/v1/sessions/me", headers=headers).status_code == 204
    assert client.get("/v1/sessions/me", headers=headers).status_code == 401
    assert client.post("/v1/sessions/me/heartbeat", headers=headers).status_code == 401


def test_a_re_registered_peer_id_does_not_accept_the_old_token(client, register):
    peer, old, _ = register("Alice", "alice-1")
    assert client.get("/v1/sessions/me", headers=old).status_code == 200
    assert client.delete("/v1/sessions/me", headers=old).status_code == 204
    _, new, _ = register("Alice again", peer)
    assert client.get("/v1/sessions/me", headers=old).status_code == 401
    assert client.get("/v1/sessions/me", headers=new).status_code == 200


def test_the_token_cache_keeps_forgeries_out_and_stays_bounded():
    tokens = Tokens("k" * 32, cache_size=4)
    good = [tokens.issue(f"p{i}", f"s{i}") for i in range(10)]
    assert [tokens.parse(t) for t in good] == [(f"p{i}", f"s{i}") for i in range(10)]
    assert tokens.parse(good[0] + "x") is None
    assert tokens.parse(Tokens("other-key" * 4).issue("p0", "s0")) is None
    assert len(tokens._cache) <= 4
    assert good[0] + "x" not in tokens._cache


def test_keep_alives_of_an_idle_stream_do_not_read_the_mailbox(make_app, monkeypatch):
    app = make_app(keepalive_interval=0.02, stream_max_duration=120.0, presence_ttl=10.0)
    client = checked_client(app)
    _, headers, _ = register_on(client)
    store = app.extensions["signaling"].store
    reads = []
    original = store.read
    monkeypatch.setattr(store, "read", lambda *a, **k: reads.append(1) or original(*a, **k))
    stream = Stream(client.get("/v1/events", headers=headers))
    try:
        stream.frame()
        assert [stream.frame() for _ in range(5)] == [": keep-alive"] * 5
        assert len(reads) == 1, "only the first read; keep-alives alone must not read"
    finally:
        stream.close()


def test_a_woken_idle_stream_reads_and_delivers_in_order(make_app):
    app = make_app(keepalive_interval=0.02, stream_max_duration=120.0, presence_ttl=10.0)
    client = checked_client(app)
    bob_id, bob, _ = register_on(client, "Bob")
    _, alice, _ = register_on(client, "Alice")
    stream = Stream(client.get("/v1/events", headers=bob))
    try:
        stream.frame()
        assert stream.frame() == ": keep-alive"
        for i in range(5):
            assert (
                client.post("/v1/messages", json={"to": bob_id, "type": "x", "data": i}, headers=alice).status_code
                == 202
            )
        got = []
        while len(got) < 5:
            frame = stream.frame()
            if frame.startswith("id: "):
                got.append(int(frame.split('"data":')[1].split(",")[0]))
        assert got == [0, 1, 2, 3, 4]
    finally:
        stream.close()


def test_delivery_delay_is_sampled_once_per_stored_millisecond():
    """A batch stored by one send shares its millisecond: one histogram sample, every message counted."""
    from prometheus_client import REGISTRY

    from signaling import metrics

    def values() -> tuple[float, float]:
        labels = {"transport": "unit"}
        return (
            REGISTRY.get_sample_value("signaling_messages_delivered_total", labels) or 0.0,
            REGISTRY.get_sample_value("signaling_delivery_delay_seconds_count", labels) or 0.0,
        )

    before = values()
    metrics.delivered("unit", [("1000-0", "{}"), ("1000-1", "{}"), ("1000-2", "{}"), ("1001-0", "{}")])
    after = values()
    assert (after[0] - before[0], after[1] - before[1]) == (4, 2)
