"""STREAM_LIMIT: excess streams and long-polls are refused at once; short requests and freed slots still work."""

from __future__ import annotations

import pytest

from signaling.delivery import Openings
from tests.unit.conftest import checked_client, register_on
from tests.unit.test_sse import Stream


def assert_told_to_retry(refused) -> None:
    """503 too-many-streams with a Retry-After: the client waits and retries (not store-unavailable: Redis is fine)."""
    assert refused.status_code == 503
    assert refused.get_json()["type"].endswith("too-many-streams")
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.fixture
def tight(make_app):
    """One waiting request per process."""
    return checked_client(make_app(stream_limit=1))


def test_a_stream_over_the_limit_gets_503_with_retry_after(tight):
    _, alice, _ = register_on(tight, "Alice")
    _, bob, _ = register_on(tight, "Bob")
    first = Stream(tight.get("/v1/events", headers=alice))
    try:
        first.frame()
        refused = tight.get("/v1/events", headers=bob)
        assert_told_to_retry(refused)
        assert refused.mimetype == "application/problem+json"
    finally:
        first.close()


def test_at_the_limit_a_new_stream_is_refused_before_flask_or_redis_run(tight, monkeypatch):
    """The refusal is the cheap front door (RefuseWhenFull): no token check, no store call."""
    app = tight.application
    _, alice, _ = register_on(tight, "Alice")
    first = Stream(tight.get("/v1/events", headers=alice))
    try:
        first.frame()

        def no_store_work(*args, **kwargs):
            raise AssertionError("a refused stream reached the store")

        monkeypatch.setattr(app.extensions["signaling"].store, "touch", no_store_work)
        refused = tight.get("/v1/events?token=forged")  # through Flask this would be 401
        assert_told_to_retry(refused)
        assert refused.get_json()["instance"] == "/v1/events"
        assert app.extensions["signaling.front"].refused == 1
    finally:
        first.close()
    monkeypatch.undo()
    again = Stream(tight.get("/v1/events", headers=alice))  # a freed slot opens the door again
    again.frame()
    again.close()


def test_short_requests_are_served_while_streams_are_at_the_limit(tight):
    bob_id, _, _ = register_on(tight, "Bob")
    _, alice, _ = register_on(tight, "Alice")
    first = Stream(tight.get("/v1/events", headers=alice))
    try:
        first.frame()
        assert tight.post("/v1/messages", json={"to": bob_id, "type": "x", "data": 1}, headers=alice).status_code == 202
        assert tight.post("/v1/sessions/me/heartbeat", headers=alice).status_code == 200
        assert tight.get("/v1/messages?wait=0", headers=alice).status_code == 200  # a short poll does not wait
        assert tight.get("/v1/messages?wait=1", headers=alice).status_code == 503  # a long-poll does
    finally:
        first.close()


def test_a_closed_stream_gives_its_slot_back(tight):
    _, alice, _ = register_on(tight, "Alice")
    for _ in range(3):
        stream = Stream(tight.get("/v1/events", headers=alice))
        stream.frame()
        stream.close()
    assert tight.get("/v1/messages?wait=0.05", headers=alice).status_code == 200


def test_a_refused_token_does_not_hold_a_slot(tight):
    assert tight.get("/v1/events?token=forged").status_code == 401
    _, alice, _ = register_on(tight, "Alice")
    stream = Stream(tight.get("/v1/events", headers=alice))
    stream.frame()
    stream.close()


@pytest.fixture
def narrow(make_app, monkeypatch):
    """One stream may be opening at a time, and a turn is waited for briefly."""
    monkeypatch.setattr("signaling.delivery.OPEN_QUEUE_SECONDS", 0.2)
    app = make_app()
    assert app.extensions["signaling.openings"].width == 4 * app.extensions["signaling"].settings.redis_max_connections
    app.extensions["signaling.openings"] = Openings(1)
    return checked_client(app)


def test_a_stream_waiting_too_long_for_its_turn_to_open_is_refused_clearly(narrow):
    _, alice, _ = register_on(narrow, "Alice")
    _, bob, _ = register_on(narrow, "Bob")
    first = Stream(narrow.get("/v1/events", headers=alice))
    try:
        first.frame()  # ready sent; its first read (the end of its opening) not yet done
        refused = narrow.get("/v1/events", headers=bob)
        assert_told_to_retry(refused)
    finally:
        first.close()
    second = Stream(narrow.get("/v1/events", headers=bob))  # the closed stream gave its turn back
    second.frame()
    second.close()


def test_a_stream_gives_its_turn_back_after_its_first_read(narrow):
    bob_id, bob, _ = register_on(narrow, "Bob")
    _, alice, _ = register_on(narrow, "Alice")
    first = Stream(narrow.get("/v1/events", headers=bob))
    try:
        first.frame()
        assert (
            narrow.post("/v1/messages", json={"to": bob_id, "type": "x", "data": 1}, headers=alice).status_code == 202
        )
        assert '"data":1' in first.frame()  # it has read its mailbox
        other = Stream(narrow.get("/v1/events", headers=alice))
        other.frame()
        other.close()
    finally:
        first.close()


def test_a_refused_token_gives_its_turn_back(narrow):
    for _ in range(3):
        assert narrow.get("/v1/events?token=forged").status_code == 401
    _, alice, _ = register_on(narrow, "Alice")
    assert narrow.delete("/v1/sessions/me", headers=alice).status_code == 204
    for _ in range(3):
        assert narrow.get("/v1/events", headers=alice).status_code == 401
    _, carol, _ = register_on(narrow, "Carol")
    stream = Stream(narrow.get("/v1/events", headers=carol))
    stream.frame()
    stream.close()


def test_drain_ends_readiness_and_wakes_every_waiter(client, state):
    """state.drain() is the one drain gunicorn.conf.py and main.py call on SIGTERM."""
    woken = []
    state.hub.wake_all = lambda: woken.append(True)
    state.drain()
    assert client.get("/readyz").status_code == 503
    assert state.draining.is_set() and woken == [True]


@pytest.mark.parametrize("error, opens", [("No connection available.", True), ("Connection refused", False)])
def test_an_opening_stream_waits_out_a_busy_pool_but_not_an_outage(client, monkeypatch, error, opens):
    """A busy pool (every connection in use, nothing sent to Redis) is tried again; a real outage is a 503."""
    import redis as redis_module

    monkeypatch.setattr("signaling.delivery.BUSY_READ_RETRY", 0.01)
    app = client.application
    _, alice, _ = register_on(client, "Alice")
    store = app.extensions["signaling"].store
    real_touch, failures = store.touch, []

    def touch(*args, **kwargs):
        if len(failures) < 2:
            failures.append(error)
            raise redis_module.ConnectionError(error)
        return real_touch(*args, **kwargs)

    monkeypatch.setattr(store, "touch", touch)
    response = client.get("/v1/events", headers=alice)
    if opens:
        stream = Stream(response)
        assert "event: ready" in stream.frame()
        stream.close()
        assert len(failures) == 2
    else:
        assert response.status_code == 503
        assert response.get_json()["type"].endswith("store-unavailable")
        assert failures == [error], "an outage is answered at once, not retried"
