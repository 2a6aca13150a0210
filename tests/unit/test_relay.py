"""The relay without HTTP: who receives a send, what each message's receipt says, and refusals."""

from __future__ import annotations

import json

import pytest
import redis

from signaling.relay import NotAMember, OutcomeUnknown, Outgoing, relay
from signaling.sessions import Session
from tests.unit.mail import entries


@pytest.fixture
def store(make_app):
    store = make_app(mailbox_maxlen=2).extensions["signaling"].store
    for peer in ("alice", "bob", "carol", "dave"):
        store.register(peer.title(), peer)
    return store


ALICE = Session("alice", "sid", "Alice")


def to(peer: str, n: int, cid: str = "") -> Outgoing:
    return Outgoing(peer, None, "note", {"n": n}, cid)


def test_a_room_message_reaches_every_other_member_with_one_receipt(store):
    for peer in ("alice", "bob", "carol"):
        store.join_room("r", peer, peer.title())
    relayed = relay(store, ALICE, [Outgoing(None, "r", "chat", "hi", "")])
    receipt = relayed.receipts[0]
    assert sorted(receipt.recipients) == ["bob", "carol"] and receipt.id in receipt.recipients.values()
    assert not relayed.refused
    chats = [json.loads(e) for _, e in entries(store, "carol") if json.loads(e)["type"] == "chat"]
    assert chats == [{**chats[0], "type": "chat", "data": "hi", "from": "alice", "room": "r"}]


def test_a_room_the_sender_is_not_in_stores_nothing(store):
    store.join_room("r", "bob", "Bob")
    with pytest.raises(NotAMember) as raised:
        relay(store, ALICE, [to("carol", 1), Outgoing(None, "r", "chat", "hi", "")])
    assert raised.value.room == "r"
    assert entries(store, "carol") == [], "the room is checked before anything is stored"


def test_offline_and_full_recipients_are_both_named(store):
    store.deliver({"carol": ["{}", "{}"]})  # carol's mailbox (maxlen 2) is full
    relayed = relay(store, ALICE, [to("bob", 1), to("nobody", 2), to("carol", 3)])
    assert relayed.offline == ["nobody"] and relayed.full == ["carol"] and not relayed.over_share
    assert relayed.accepted[0] == relayed.receipts[0].id is not None, "bob's message was stored"
    assert relayed.accepted[1:] == [None, None]


def test_a_lost_reply_is_outcome_unknown(store, monkeypatch):
    def lost(*args, **kwargs):
        raise redis.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(store, "deliver", lost)
    with pytest.raises(OutcomeUnknown):
        relay(store, ALICE, [to("bob", 1)])
