"""Long-poll and short poll (GET /v1/messages): cursors acknowledge, waits wake on mail.

Timeouts in these tests are set far beyond what a passing run needs, so a
poll that missed its wake-up is caught by the assertions on *why* it
returned (a counted, successful wake-up), not by timing it.
"""

from __future__ import annotations

import threading

import pytest

from signaling import hub as hub_module
from signaling.envelope import envelope
from tests.unit.conftest import checked_client, register_on


class Waits(list):
    """Every Waiter.wait() result, in order (True = woken by a wake-up); ``entered`` is set on the first."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()


@pytest.fixture
def waits(monkeypatch):
    results = Waits()
    real = hub_module.Waiter.wait

    def counted(self, timeout):
        results.entered.set()
        woken = real(self, timeout)
        results.append(woken)
        return woken

    monkeypatch.setattr(hub_module.Waiter, "wait", counted)
    return results


def send(client, headers, to, data):
    response = client.post("/v1/messages", headers=headers, json={"to": to, "type": "note", "data": data})
    assert response.status_code == 202
    return response.get_json()["id"]


def test_a_short_poll_answers_at_once(client, register):
    _, headers, _ = register()
    response = client.get("/v1/messages?wait=0", headers=headers)
    assert response.get_json() == {"messages": [], "cursor": "0"}
    assert response.headers["Cache-Control"] == "no-store"


def test_the_cursor_acknowledges_up_to_and_including_itself(client, register):
    _, alice, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    ids = [send(client, alice, bob, n) for n in range(3)]
    first = client.get("/v1/messages", headers=bob_h).get_json()
    assert [m["id"] for m in first["messages"]] == ids and first["cursor"] == ids[-1]
    after_second = client.get(f"/v1/messages?cursor={ids[1]}", headers=bob_h).get_json()
    assert [m["data"] for m in after_second["messages"]] == [2]
    again = client.get("/v1/messages?cursor=0", headers=bob_h).get_json()
    assert [m["data"] for m in again["messages"]] == [2], "0 and 1 were acknowledged and removed"


def test_an_empty_poll_echoes_the_cursor(client, register):
    _, alice, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    last = send(client, alice, bob, 0)
    assert client.get(f"/v1/messages?cursor={last}", headers=bob_h).get_json() == {"messages": [], "cursor": last}


def test_a_long_poll_times_out_empty_and_releases_its_waiter(client, register, state):
    _, headers, _ = register()
    response = client.get("/v1/messages?wait=0.05&cursor=0", headers=headers)
    assert response.get_json() == {"messages": [], "cursor": "0"}
    assert state.hub.waiting == 0


def test_a_long_poll_is_woken_by_a_send_from_another_request(make_app, waits):
    app = make_app(hub_recheck_interval=20.0)
    client = checked_client(app)
    _, alice, _ = register_on(client, "Alice")
    bob, bob_h, _ = register_on(client, "Bob")

    def sender():
        assert waits.entered.wait(20)
        send(checked_client(app), alice, bob, "wake up")

    thread = threading.Thread(target=sender)
    thread.start()
    body = client.get("/v1/messages?wait=20", headers=bob_h).get_json()
    thread.join()
    assert [m["data"] for m in body["messages"]] == ["wake up"]
    assert waits == [True], "answered because of a wake-up, not the 20 s recheck"


def test_a_message_sent_between_the_check_and_the_wait_is_delivered_without_waiting(make_app, waits):
    """The race from the design: the waiter checks the stream (empty), then mail lands, then it waits.

    With the waiter subscribed *before* the check, the wake-up is already
    pending when it waits, so the first wait returns woken. With the recheck
    interval and the poll's wait both at 20 s, a missed wake-up would show as
    a timed-out wait (False) instead.
    """
    app = make_app(hub_recheck_interval=20.0)
    state = app.extensions["signaling"]
    client = checked_client(app)
    _, _, _ = register_on(client, "Alice", "alice")
    bob, bob_h, _ = register_on(client, "Bob")
    real_check = state.store.touch_read  # the poll's first round trip: authenticate and read
    injected = []

    def check_then_send(peer, sid, cursor, count=100, ack=True, opening=False):
        session, mail = real_check(peer, sid, cursor, count, ack, opening)
        if state.hub.waiting and not mail.entries and not injected:
            injected.append(state.store.deliver({bob: [envelope("offer", "sdp", "alice", "Alice")]}))
        return session, mail

    state.store.touch_read = check_then_send
    body = client.get("/v1/messages?wait=20", headers=bob_h).get_json()
    assert injected, "the message went out right after the waiter's empty check"
    assert [m["data"] for m in body["messages"]] == ["sdp"]
    assert body["messages"][0]["id"] == injected[0][bob][0]
    assert waits == [True], "exactly one wait, ended by the wake-up"


def test_a_draining_server_answers_long_polls_without_waiting(client, register, state, waits):
    _, headers, _ = register()
    state.draining.set()
    assert client.get("/v1/messages?wait=20", headers=headers).get_json()["messages"] == []
    assert waits == [], "no wait once the instance is shutting down"
