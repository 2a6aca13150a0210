"""The fast paths keep every guarantee: the sender's TOUCH+SEND in one script, readers fed by the wake-ups.

Each test runs on one redis-server, where a single-recipient send is one
TOUCH_SEND call, and on the cluster, where it stays TOUCH then SEND. On both,
a waiting SSE stream or long-poll takes small messages from the wake-up
instead of reading its mailbox when nothing can be missing (signaling/notes.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.peers import Peer

pytestmark = pytest.mark.usefixtures("backend")


def _inbox(peer: Peer) -> list[dict]:
    return peer.poll(cursor="0")["messages"]


def test_a_client_id_is_stored_once_through_singles_and_batches(app):
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    first = alice.send(bob.id, {"n": 1}, cid="c-1")
    again = alice.send(bob.id, {"n": 1}, cid="c-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    batch = alice._call(
        "POST",
        "/v1/messages",
        json={
            "messages": [
                {"to": bob.id, "type": "note", "data": n, "cid": c} for n, c in ((1, "c-1"), (2, "c-2"), (2, "c-2"))
            ]
        },
    )
    assert batch.status_code == 202, batch.text
    ids = batch.json()["ids"]
    assert ids[0] == first.json()["id"] and ids[1] == ids[2] != ids[0]
    # Another sender's identical client id is its own message.
    carol = Peer(app, "Carol")
    other = carol.send(bob.id, "x", cid="c-1")
    assert other.status_code == 202 and other.json()["id"] not in ids
    got = _inbox(bob)
    assert [(m["from"], m["data"]) for m in got] == [(alice.id, {"n": 1}), (alice.id, 2), (carol.id, "x")]
    assert [m["from_name"] for m in got] == ["Alice", "Alice", "Carol"]


def test_singles_arrive_in_order_with_the_sender_name_exactly(app):
    name = 'Zoë "Z" / Ünal'
    alice, bob = Peer(app, name), Peer(app, "Bob")
    sent = [alice.send_ok(bob.id, {"n": n}, "candidate") for n in range(40)]
    got = _inbox(bob)
    assert [m["id"] for m in got] == sent
    assert [m["data"]["n"] for m in got] == list(range(40))
    assert {(m["from"], m["from_name"], m["type"]) for m in got} == {(alice.id, name, "candidate")}
    assert all("room" not in m for m in got)


def test_over_the_rate_is_429_and_stores_nothing(app_server_factory):
    app = app_server_factory({"SEND_RATE": "0.1", "SEND_BURST": "3", "MAX_BATCH": "3"})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    ok = [alice.send_ok(bob.id, n) for n in range(3)]
    refused = alice.send(bob.id, 3)
    assert refused.status_code == 429, refused.text
    assert refused.json()["type"].endswith("rate-limited")
    assert int(refused.headers["Retry-After"]) >= 1
    assert [m["id"] for m in _inbox(bob)] == ok


def test_after_leaving_a_token_sends_nothing_and_an_ended_recipient_is_offline(app):
    alice, bob, carol = Peer(app, "Alice"), Peer(app, "Bob"), Peer(app, "Carol")
    assert alice._call("DELETE", "/v1/sessions/me").status_code == 204
    gone = alice.send(bob.id, "after leave")
    assert gone.status_code == 401, gone.text
    assert _inbox(bob) == []
    assert bob._call("DELETE", "/v1/sessions/me").status_code == 204
    offline = carol.send(bob.id, "to nobody")
    assert offline.status_code == 404, offline.text
    assert offline.json()["offline"] == [bob.id]


def test_a_sender_over_its_share_of_a_mailbox_is_refused(app_server_factory):
    app = app_server_factory({"MAILBOX_MAXLEN": "20", "MAILBOX_SENDER_SHARE": "4", "MAX_BATCH": "4"})
    alice, bob, carol = Peer(app, "Alice"), Peer(app, "Bob"), Peer(app, "Carol")
    for n in range(4):
        alice.send_ok(bob.id, n)
    full = alice.send(bob.id, 4)
    assert full.status_code == 429 and full.json()["full"] == [bob.id], full.text
    carol.send_ok(bob.id, "others still get through")
    assert len(_inbox(bob)) == 5


def _send_all(senders: list[Peer], to: str, count: int) -> dict[str, list[str]]:
    """Each sender posts ``count`` numbered messages, all senders at once; returns the ids per sender."""

    def run(sender: Peer) -> list[str]:
        return [sender.send_ok(to, {"n": n}) for n in range(count)]

    with ThreadPoolExecutor(len(senders)) as pool:
        return dict(zip([s.id for s in senders], pool.map(run, senders), strict=True))


def _check_order(got: list[dict], sent: dict[str, list[str]]) -> None:
    ids = [m["id"] for m in got]
    assert len(ids) == len(set(ids)) == sum(len(v) for v in sent.values()), "lost or duplicated"
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-")))), "not in stream order"
    for sender, expected in sent.items():
        assert [m["id"] for m in got if m["from"] == sender] == expected
        assert [m["data"]["n"] for m in got if m["from"] == sender] == list(range(len(expected)))


def test_concurrent_senders_reach_an_sse_stream_complete_and_in_order(app):
    bob = Peer(app, "Bob")
    senders = [Peer(app, f"S{n}") for n in range(4)]
    with bob.sse() as stream:
        assert stream.next_event().event == "ready"
        sent = _send_all(senders, bob.id, 30)
        got = [e.json() for e in stream.messages(120)]
        _check_order(got, sent)
        last = got[-1]["id"]
    # Resuming after the last one delivered finds nothing again, and the next message only.
    marker = senders[0].send_ok(bob.id, "marker")
    with bob.sse(last_event_id=last) as again:
        assert again.next_event().event == "ready"
        nxt = again.next_message()
        assert nxt is not None and nxt.id == marker


def test_concurrent_senders_reach_a_long_poller_complete_and_in_order(app):
    bob = Peer(app, "Bob")
    senders = [Peer(app, f"S{n}") for n in range(4)]
    got: list[dict] = []
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(_send_all, senders, bob.id, 30)
        for _ in range(200):
            if len(got) >= 120:
                break
            got += bob.poll(wait=5)["messages"]
        sent = sending.result()
    _check_order(got, sent)
    assert bob.poll(wait=0)["messages"] == []
