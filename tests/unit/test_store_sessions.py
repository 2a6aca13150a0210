"""Sessions and the directory in the store: ids, presence TTLs, revocation and lazy pruning."""

from __future__ import annotations

import pytest

from signaling.store import PeerTaken


@pytest.fixture
def store(state):
    return state.store


def test_register_picks_an_id_or_takes_the_wanted_one(store):
    peer, sid = store.register("Alice")
    assert peer.isdigit() and len(peer) == 8
    assert store.register("Bob", "bob")[0] == "bob"
    assert store.touch(peer, sid).name == "Alice"


def test_a_live_peer_id_cannot_be_taken(store):
    store.register("Bob", "bob")
    with pytest.raises(PeerTaken):
        store.register("Mallory", "bob")


def test_an_ended_peer_id_can_be_taken_again_and_the_old_session_is_dead(store):
    _, old = store.register("Bob", "bob")
    store.end_session("bob")
    _, new = store.register("Bob again", "bob")
    assert store.touch("bob", old) is None
    assert store.touch("bob", new).name == "Bob again"


def test_touch_refreshes_the_presence_ttl(store, state):
    peer, sid = store.register("Alice")
    session_key, mailbox, rooms = store.peer_keys(peer)
    store.redis.pexpire(session_key, 1000)
    assert store.touch(peer, sid) is not None
    ttl_ms = int(state.settings.presence_ttl * 1000)
    assert store.redis.pttl(session_key) > ttl_ms - 5000


def test_touch_with_a_wrong_session_id_is_refused_and_refreshes_nothing(store):
    peer, _ = store.register("Alice")
    session_key = store.peer_keys(peer)[0]
    store.redis.pexpire(session_key, 1000)
    assert store.touch(peer, "forged") is None
    assert store.redis.pttl(session_key) <= 1000


def test_leaving_revokes_the_session_and_removes_its_keys(store):
    peer, sid = store.register("Alice")
    store.end_session(peer)
    assert store.touch(peer, sid) is None
    assert not store.is_online(peer)
    assert store.redis.exists(*store.peer_keys(peer)) == 0
    assert store.directory("", 10) == (0, [])


def test_directory_pages_in_peer_id_order(store):
    for peer in ["c", "a", "e", "b", "d"]:
        store.register(peer.upper(), peer)
    total, first = store.directory("", 2)
    assert total == 5
    assert first == [("a", "A"), ("b", "B")]
    assert store.directory("b", 2)[1] == [("c", "C"), ("d", "D")]
    assert store.directory("d", 2)[1] == [("e", "E")]
    assert store.directory("e", 2)[1] == []


def test_directory_prunes_peers_whose_presence_expired(store, state, clock):
    """No background worker: the next reader drops a peer that stopped refreshing."""
    store.register("Alice", "alice")
    _, bob_sid = store.register("Bob", "bob")
    # A listing outlasts the session by up to one heartbeat (see test_a_live_peer_is_never_pruned...).
    clock.advance(state.settings.presence_ttl + state.settings.heartbeat_interval + 1)
    store.touch("bob", bob_sid)  # Bob is still around; Alice went quiet
    assert store.directory("", 10) == (1, [("bob", "Bob")])


def test_a_peer_id_registered_again_is_listed_under_its_new_name(store, state, clock):
    """The old listing may outlive the old session by a heartbeat; the new name must still show."""
    store.register("Bob", "bob")
    store.redis.delete(*store.peer_keys("bob"))  # the session expired
    clock.advance(state.settings.presence_ttl + 1)
    store.register("Bob (laptop)", "bob")
    assert store.directory("", 10) == (1, [("bob", "Bob (laptop)")])
