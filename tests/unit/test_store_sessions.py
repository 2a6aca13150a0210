"""Sessions and the directory in the store: ids, presence TTLs, revocation and lazy pruning."""

from __future__ import annotations

import pytest

from signaling.directory import decode_cursor, encode_cursor
from signaling.sessions import PeerTaken


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
    store.end_session("bob", old)
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
    peer, sid = store.register("Alice", listed=True)
    store.end_session(peer, sid)
    assert store.touch(peer, sid) is None
    assert not store.is_online(peer)
    assert store.redis.exists(*store.peer_keys(peer)) == 0
    assert listing(store) == (0, [])


def listing(store, limit: int = 10, query: str = "") -> tuple[int, list[tuple[str, str]]]:
    page = store.peers("", limit, query)
    return page.total, page.peers


def pages(store, limit: int, query: str = "") -> list[list[tuple[str, str]]]:
    out, after = [], ""
    while True:
        page = store.peers(after, limit, query)
        out.append(page.peers)
        if page.next is None:
            return out
        after = decode_cursor(page.next)


def test_the_directory_pages_by_name_then_id(store):
    for peer, name in [("c", "carol"), ("a", "Alice"), ("e", "eve"), ("b", "Bob"), ("d", "dave"), ("x", "alice")]:
        store.register(name, peer, listed=True)
    assert listing(store, 2)[0] == 6
    assert pages(store, 2) == [
        [("a", "Alice"), ("x", "alice")],
        [("b", "Bob"), ("c", "carol")],
        [("d", "dave"), ("e", "eve")],
        [],
    ]


def test_only_listed_sessions_are_in_the_directory(store):
    store.register("Phone", "phone", listed=True)
    store.register("In a room", "roomie")
    assert listing(store) == (1, [("phone", "Phone")])


def test_a_search_matches_the_start_of_a_name_or_an_id_ignoring_case(store):
    store.register("Ren Tanaka", "1234", listed=True)
    store.register("renée", "5678", listed=True)
    store.register("Bob", "1299", listed=True)
    store.register("アリス", "7777", listed=True)
    assert listing(store, query="REN") == (2, [("1234", "Ren Tanaka"), ("5678", "renée")])
    assert listing(store, query="12") == (2, [("1234", "Ren Tanaka"), ("1299", "Bob")])
    assert listing(store, query="アリ") == (1, [("7777", "アリス")])
    assert listing(store, query="zz") == (0, [])
    assert pages(store, 1, "12") == [[("1234", "Ren Tanaka")], [("1299", "Bob")], []]


def test_the_version_changes_with_who_is_listed_not_with_refreshes(store, state, clock):
    _, sid = store.register("Alice", "alice", listed=True)
    version = store.directory.version()
    clock.advance(state.settings.heartbeat_interval + 1)
    assert store.touch("alice", sid) is not None  # refreshes the listing's expiry
    assert store.directory.version() == version
    _, bob = store.register("Bob", "bob", listed=True)
    assert store.directory.version() > version
    version = store.directory.version()
    store.end_session("bob", bob)
    assert store.directory.version() > version


def test_a_cursor_is_a_position_and_only_malformed_ones_are_refused(store):
    """Any unpadded base64url string is a position in the index: a forged one pages from there."""
    assert decode_cursor("not base64!") is None
    assert decode_cursor("abcde") is None  # 5 characters: no base64 string is that long
    assert decode_cursor("ab+c") is None  # the standard alphabet, not the URL-safe one
    assert decode_cursor(encode_cursor(b"n:alice\0a")) == b"n:alice\0a"
    for peer, name in [("a", "Alice"), ("b", "Bob")]:
        store.register(name, peer, listed=True)
    assert store.peers(decode_cursor(encode_cursor(b"n:b")), 10).peers == [("b", "Bob")]
    assert store.peers(decode_cursor(encode_cursor(b"\xff\xfe")), 10).peers == []
    assert store.peers(decode_cursor("AAAA"), 10).peers == [("a", "Alice"), ("b", "Bob")]


def test_directory_prunes_peers_whose_presence_expired(store, state, clock):
    """No background worker: the next reader drops a peer that stopped refreshing."""
    store.register("Alice", "alice", listed=True)
    _, bob_sid = store.register("Bob", "bob", listed=True)
    # A listing outlasts the session by up to one heartbeat (see test_a_live_peer_is_never_pruned...).
    clock.advance(state.settings.presence_ttl + state.settings.heartbeat_interval + 1)
    store.touch("bob", bob_sid)  # Bob is still around; Alice went quiet
    assert listing(store) == (1, [("bob", "Bob")])


def test_a_peer_id_registered_again_is_listed_under_its_new_name(store, state, clock):
    """The old listing may outlive the old session by a heartbeat; the new name must still show."""
    store.register("Bob", "bob", listed=True)
    store.redis.delete(*store.peer_keys("bob"))  # the session expired
    clock.advance(state.settings.presence_ttl + 1)
    store.register("Bob (laptop)", "bob", listed=True)
    assert listing(store) == (1, [("bob", "Bob (laptop)")])
