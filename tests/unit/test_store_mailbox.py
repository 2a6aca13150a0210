"""Mailboxes in the store: bounded, all-or-nothing per recipient, acknowledged by cursor, stamped."""

from __future__ import annotations

import json

import pytest

from signaling.envelope import envelope
from signaling.mailboxes import FULL, OFFLINE, next_id
from tests.unit.mail import entries


@pytest.fixture
def store(make_app):
    store = make_app(mailbox_maxlen=10).extensions["signaling"].store
    for peer in ("alice", "bob", "carol"):
        store.register(peer.title(), peer)
    return store


def note(n: int) -> str:
    return envelope("note", {"n": n}, "alice", "Alice")


def numbers(store, peer: str, cursor: str = "0", ack: bool = False) -> list[int]:
    return [json.loads(e)["data"]["n"] for _, e in entries(store, peer, cursor, ack=ack)]


def test_a_full_mailbox_refuses_and_keeps_what_it_has(store):
    results = store.deliver({"bob": [note(i) for i in range(10)]})
    assert len(results["bob"]) == 10
    assert store.deliver({"bob": [note(10)]}) == {"bob": FULL}
    assert numbers(store, "bob") == list(range(10)), "nothing trimmed to make room"


def test_a_batch_is_all_or_nothing_per_recipient(store):
    store.deliver({"bob": [note(i) for i in range(8)]})
    results = store.deliver({"bob": [note(8), note(9), note(10)], "carol": [note(1), note(2)]})
    assert results["bob"] == FULL
    assert numbers(store, "bob") == list(range(8)), "no part of the refused batch landed"
    assert len(results["carol"]) == 2
    assert numbers(store, "carol") == [1, 2]


def test_offline_recipients_are_refused_and_get_no_mailbox(store):
    results = store.deliver({"nobody": [note(1)], "bob": [note(2)]})
    assert results["nobody"] == OFFLINE
    assert store.redis.exists(store.peer_keys("nobody")[1]) == 0
    assert numbers(store, "bob") == [2]


def test_ids_are_in_order_and_returned_per_recipient(store):
    ids = store.deliver({"bob": [note(1), note(2), note(3)]})["bob"]
    assert [i for i, _ in entries(store, "bob", "0", ack=False)] == ids
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))


def test_reading_with_a_cursor_trims_up_to_and_including_it(store):
    ids = store.deliver({"bob": [note(1), note(2), note(3)]})["bob"]
    assert numbers(store, "bob", ids[1], ack=True) == [3]
    assert store.redis.xlen(store.peer_keys("bob")[1]) == 1
    assert numbers(store, "bob") == [3], "1 and 2 are gone for good once acknowledged"


def test_reading_without_ack_trims_nothing(store):
    ids = store.deliver({"bob": [note(1), note(2), note(3)]})["bob"]
    assert numbers(store, "bob", ids[1], ack=False) == [3]
    assert numbers(store, "bob", "0") == [1, 2, 3]


def test_reading_from_zero_acknowledges_nothing(store):
    store.deliver({"bob": [note(1)]})
    assert numbers(store, "bob", "0", ack=True) == [1]
    assert numbers(store, "bob", "0", ack=True) == [1]


def test_acknowledging_frees_room_in_a_full_mailbox(store):
    ids = store.deliver({"bob": [note(i) for i in range(10)]})["bob"]
    entries(store, "bob", ids[4])
    assert len(store.deliver({"bob": [note(i) for i in range(5)]})["bob"]) == 5


def test_envelopes_are_stamped_with_id_time_sender_and_room(store):
    store.deliver({"bob": [envelope("chat", {"text": "héllo"}, "alice", "Alice", "r1"), note(7)]})
    (first_id, first), (second_id, second) = entries(store, "bob", "0", ack=False)
    chat, plain = json.loads(first), json.loads(second)
    assert chat == {
        "id": first_id,
        "ts": int(first_id.split("-")[0]),
        "type": "chat",
        "data": {"text": "héllo"},
        "from": "alice",
        "from_name": "Alice",
        "room": "r1",
    }
    assert "room" not in plain and plain["id"] == second_id


@pytest.mark.parametrize(
    ("stream_id", "following"),
    [
        ("5-0", "5-1"),
        ("5", "5-1"),
        ("5-18446744073709551615", "6-0"),
        ("18446744073709551615-18446744073709551615", "18446744073709551615-18446744073709551615"),
    ],
)
def test_next_id_stays_within_64_bits(stream_id, following):
    assert next_id(stream_id) == following


def test_a_cursor_with_the_largest_sequence_reads_and_acknowledges(store):
    ids = store.deliver({"bob": [note(1)]})["bob"]
    ms = ids[0].split("-")[0]
    assert entries(store, "bob", f"{ms}-18446744073709551615") == []
    assert numbers(store, "bob") == [], "everything before the cursor was acknowledged"
