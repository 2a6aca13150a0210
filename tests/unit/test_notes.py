"""Wake-ups that carry the new mail: a reader takes them only when its read would have returned exactly them."""

from __future__ import annotations

import pytest

from signaling import notes
from signaling.envelope import envelope
from signaling.hub import NOTES_MAX, Waiter


@pytest.fixture
def store(make_app):
    store = make_app().extensions["signaling"].store
    store.register("Alice", "alice")
    store.register("Bob", "bob")
    return store


@pytest.fixture
def wakeups(store):
    """The payloads published on bob's wake-up channel, in order."""
    pubsub = store.redis.pubsub()
    pubsub.ssubscribe(store.channel("bob"))  # SEND publishes with SPUBLISH
    pubsub.get_message(timeout=1)  # the subscribe confirmation

    def received() -> list:
        out = []
        while (message := pubsub.get_message(timeout=0.2)) is not None:
            out.append(message["data"])
        return out

    yield received
    pubsub.close()


def sid_of(store, peer: str) -> str:
    return store.redis.hget(store.peer_keys(peer)[0], "sid").decode()


def send(store, *numbers: int) -> list[str]:
    return store.deliver({"bob": [envelope("note", n, "alice", "Alice") for n in numbers]}, "alice")["bob"]


def test_a_note_carries_exactly_what_a_read_returns(store, wakeups):
    sid = sid_of(store, "bob")
    send(store, 1, 2)
    send(store, 3)
    carried = notes.follow(wakeups(), "0", sid)
    assert not carried.need_read
    assert carried.entries == store.read("bob", sid, "0", ack=False).entries
    assert carried.cursor == carried.entries[-1][0]
    act, conn = store.marks("bob")
    assert (carried.activity, carried.connection) == (act, conn)


def test_a_gap_before_the_note_means_read(store, wakeups):
    sid = sid_of(store, "bob")
    first = send(store, 1)
    wakeups()  # the reader missed the first wake-up
    second = send(store, 2)
    pending = wakeups()
    carried = notes.follow(pending, "0", sid)
    assert carried.need_read and carried.entries == []
    # A reader whose cursor is the first message takes the same note.
    carried = notes.follow(pending, first[0], sid)
    assert not carried.need_read and [e[0] for e in carried.entries] == second


def test_after_a_good_note_a_bad_one_keeps_the_good_entries_and_asks_for_a_read(store, wakeups):
    sid = sid_of(store, "bob")
    ids = send(store, 1)
    pending = wakeups() + [None]  # e.g. a hang-up or a hub reconnect
    carried = notes.follow(pending, "0", sid)
    assert [e[0] for e in carried.entries] == ids
    assert carried.need_read and carried.cursor == ids[-1]


def test_notes_already_read_are_skipped(store, wakeups):
    sid = sid_of(store, "bob")
    ids = send(store, 1, 2)
    carried = notes.follow(wakeups(), ids[-1], sid)
    assert carried.entries == [] and not carried.need_read


def test_a_note_for_another_session_of_the_same_peer_means_read(store, wakeups):
    send(store, 1)
    carried = notes.follow(wakeups(), "0", "someone-else-entirely")
    assert carried.need_read and carried.entries == []


@pytest.mark.parametrize("payload", [None, b"0", b"1712345678901-0", b"1\nx", b"1\nabcdefgh\n1\n1\n-\nnot-an-id\n{}"])
def test_plain_or_malformed_wakeups_mean_read(payload):
    carried = notes.follow([payload], "0", "abcdefgh-sid")
    assert carried.need_read and carried.entries == []


def test_no_wakeup_payload_at_all_means_read():
    assert notes.follow([], "5-0", "sid").need_read


def test_large_sends_wake_without_the_envelopes(store, wakeups):
    big = envelope("offer", "x" * 20000, "alice", "Alice")
    ids = store.deliver({"bob": [big]}, "alice")["bob"]
    assert wakeups() == [ids[-1].encode()]


def test_a_waiter_that_falls_behind_reads_instead():
    waiter = Waiter("bob")
    for n in range(NOTES_MAX + 1):
        waiter.wake(b"note %d" % n)
    assert waiter.take() == [None]
    assert waiter.take() == []
