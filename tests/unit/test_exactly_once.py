"""Client message ids (``cid``): a resend is stored once; per-sender shares; acks; input answers."""

from __future__ import annotations

from tests.unit.conftest import checked_client, register_on


def inbox(client, headers, cursor: str = "0") -> list[dict]:
    return client.get(f"/v1/messages?cursor={cursor}", headers=headers).get_json()["messages"]


def test_a_resend_with_the_same_cid_returns_the_original_id_and_stores_nothing(client, register):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    message = {"to": bob, "type": "offer", "data": {"n": 1}, "cid": "c-1"}
    first = client.post("/v1/messages", headers=alice_h, json=message)
    again = client.post("/v1/messages", headers=alice_h, json=message)
    assert first.status_code == again.status_code == 202
    assert again.get_json()["id"] == first.get_json()["id"]
    assert [m["id"] for m in inbox(client, bob_h)] == [first.get_json()["id"]]


def test_a_resend_after_the_reader_acknowledged_is_still_not_stored_again(client, register):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    message = {"to": bob, "type": "note", "data": 1, "cid": "x"}
    sent = client.post("/v1/messages", headers=alice_h, json=message).get_json()["id"]
    assert [m["id"] for m in inbox(client, bob_h)] == [sent]
    assert inbox(client, bob_h, sent) == []  # acknowledged and trimmed
    assert client.post("/v1/messages", headers=alice_h, json=message).get_json()["id"] == sent
    assert inbox(client, bob_h, sent) == []


def test_without_cid_a_resend_is_a_second_message(client, register):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    message = {"to": bob, "type": "note", "data": 1}
    client.post("/v1/messages", headers=alice_h, json=message)
    client.post("/v1/messages", headers=alice_h, json=message)
    assert len(inbox(client, bob_h)) == 2


def test_the_same_cid_from_another_sender_is_another_message(client, register):
    _, alice_h, _ = register("Alice")
    _, carol_h, _ = register("Carol")
    bob, bob_h, _ = register("Bob")
    for headers in (alice_h, carol_h):
        assert client.post("/v1/messages", headers=headers, json={"to": bob, "type": "t", "data": 0, "cid": "same"})
    assert [m["from_name"] for m in inbox(client, bob_h)] == ["Alice", "Carol"]


def test_a_partly_resent_batch_stores_only_the_new_messages_in_order(client, register):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    first = [{"to": bob, "type": "c", "data": i, "cid": f"m{i}"} for i in range(3)]
    ids = client.post("/v1/messages", headers=alice_h, json={"messages": first}).get_json()["ids"]
    more = first + [{"to": bob, "type": "c", "data": i, "cid": f"m{i}"} for i in range(3, 5)]
    again = client.post("/v1/messages", headers=alice_h, json={"messages": more}).get_json()["ids"]
    assert again[:3] == ids
    assert [m["data"] for m in inbox(client, bob_h)] == [0, 1, 2, 3, 4]
    assert [m["id"] for m in inbox(client, bob_h)] == again


def test_a_cid_repeated_inside_one_batch_is_stored_once(client, register):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    batch = [{"to": bob, "type": "c", "data": i, "cid": "dup"} for i in range(2)]
    ids = client.post("/v1/messages", headers=alice_h, json={"messages": batch}).get_json()["ids"]
    assert ids[0] == ids[1]
    assert [m["data"] for m in inbox(client, bob_h)] == [0]


def test_a_cid_is_forgotten_after_the_window(client, register, clock):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    message = {"to": bob, "type": "note", "data": 1, "cid": "late"}
    first = client.post("/v1/messages", headers=alice_h, json=message).get_json()["id"]
    clock.advance(301)
    # Keep both sessions alive across the jump (TTLs are Redis-side, the window is the store's clock).
    second = client.post("/v1/messages", headers=alice_h, json=message).get_json()["id"]
    assert second != first


def test_a_cid_of_an_earlier_session_of_the_recipient_does_not_swallow_a_message(make_app):
    client = checked_client(make_app())
    _, alice_h, _ = register_on(client, "Alice")
    bob, bob_h, _ = register_on(client, "Bob", "bob")
    message = {"to": bob, "type": "note", "data": 1, "cid": "k"}
    client.post("/v1/messages", headers=alice_h, json=message)
    client.delete("/v1/sessions/me", headers=bob_h)
    _, bob_h, _ = register_on(client, "Bob", "bob")
    assert client.post("/v1/messages", headers=alice_h, json=message).status_code == 202
    assert [m["data"] for m in inbox(client, bob_h)] == [1]


def test_malformed_cids_are_400(client, register):
    _, alice_h, _ = register("Alice")
    bob, _, _ = register("Bob")
    for cid in ["", "x" * 65, "a b", 7, None.__class__.__name__ + "/", {"a": 1}]:
        response = client.post("/v1/messages", headers=alice_h, json={"to": bob, "type": "t", "data": 0, "cid": cid})
        assert response.status_code == 400, cid
        assert response.get_json()["field"] == "cid"


def test_one_sender_cannot_take_more_than_its_share_so_a_friend_still_gets_in(make_app):
    client = checked_client(make_app(mailbox_maxlen=10, mailbox_sender_share=5, max_batch=5))
    _, spam_h, _ = register_on(client, "Spammer")
    _, friend_h, _ = register_on(client, "Friend")
    bob, bob_h, _ = register_on(client, "Bob")
    codes = [
        client.post("/v1/messages", headers=spam_h, json={"to": bob, "type": "t", "data": i}).status_code
        for i in range(7)
    ]
    assert codes == [202] * 5 + [429] * 2
    refused = client.post("/v1/messages", headers=spam_h, json={"to": bob, "type": "t", "data": 9})
    assert refused.get_json()["type"].endswith("mailbox-full")
    assert refused.get_json()["ids"] == [None]
    offer = client.post("/v1/messages", headers=friend_h, json={"to": bob, "type": "offer", "data": "sdp"})
    assert offer.status_code == 202
    # Once Bob reads (and so acknowledges), the spammer's share is free again.
    last = inbox(client, bob_h)[-1]["id"]
    inbox(client, bob_h, last)
    assert client.post("/v1/messages", headers=spam_h, json={"to": bob, "type": "t", "data": 10}).status_code == 202


def test_a_batch_with_an_offline_and_a_full_recipient_names_both_and_accepts_only_the_rest(make_app):
    client = checked_client(make_app(mailbox_maxlen=10, mailbox_sender_share=5, max_batch=5))
    _, alice_h, _ = register_on(client, "Alice")
    full, _, _ = register_on(client, "Full")
    fine, fine_h, _ = register_on(client, "Fine")
    for i in range(5):
        client.post("/v1/messages", headers=alice_h, json={"to": full, "type": "t", "data": i})
    batch = [
        {"to": "nobody-here", "type": "t", "data": 0},
        {"to": full, "type": "t", "data": 1},
        {"to": fine, "type": "t", "data": 2},
    ]
    response = client.post("/v1/messages", headers=alice_h, json={"messages": batch})
    assert response.status_code == 404
    body = response.get_json()
    assert body["offline"] == ["nobody-here"] and body["full"] == [full]
    (delivered,) = inbox(client, fine_h)
    assert body["ids"] == [None, None, delivered["id"]]


def test_a_heartbeat_ack_trims_the_mailbox(client, register, state):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    ids = [
        client.post("/v1/messages", headers=alice_h, json={"to": bob, "type": "t", "data": i}).get_json()["id"]
        for i in range(3)
    ]
    assert state.store.unread(bob) == 3
    assert client.post("/v1/sessions/me/heartbeat", headers=bob_h, json={"ack": ids[1]}).status_code == 200
    assert state.store.unread(bob) == 1
    assert [m["id"] for m in inbox(client, bob_h)] == ids[2:]
    assert client.post("/v1/sessions/me/heartbeat", headers=bob_h).status_code == 200
    assert client.post("/v1/sessions/me/heartbeat", headers=bob_h, json={}).status_code == 200
    bad = client.post("/v1/sessions/me/heartbeat", headers=bob_h, json={"ack": "soon"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "ack"


def test_json_endpoints_refuse_other_content_types_with_415(client, register):
    _, alice_h, _ = register("Alice")
    for path, headers in [("/v1/sessions", {}), ("/v1/messages", alice_h), ("/v1/sessions/me/heartbeat", alice_h)]:
        for kind in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]:
            response = client.post(path, headers={**headers, "Content-Type": kind}, data='{"name": "x"}')
            assert response.status_code == 415, (path, kind)
            assert response.mimetype == "application/problem+json"


def test_cursors_redis_cannot_read_after_are_400_not_503(client, register):
    _, bob_h, _ = register("Bob")
    top = 2**64 - 1
    for cursor in [f"{top}-{top}", f"{top + 1}-0", f"0-{top + 1}"]:
        response = client.get(f"/v1/messages?cursor={cursor}", headers=bob_h)
        assert response.status_code == 400, cursor
        events = client.get("/v1/events", headers={**bob_h, "Last-Event-ID": cursor})
        assert events.status_code == 400, cursor
    # 19 digits a part: always under Redis's limit, and what openapi.yaml's pattern states.
    assert client.get(f"/v1/messages?cursor={'9' * 19}-{'9' * 19}", headers=bob_h).status_code == 200
    assert client.get(f"/v1/messages?cursor={'1' * 20}-0", headers=bob_h).status_code == 400


def test_an_explicit_null_cid_is_refused_like_any_value_of_the_wrong_type(client, register):
    """The contract says cid is a string when present (schemathesis found null accepted in a batch)."""
    _, alice, _ = register("Alice", "alice")
    register("Bob", "bob")
    for body in (
        {"to": "bob", "type": "note", "data": 1, "cid": None},
        {"messages": [{"to": "bob", "type": "note", "data": 1, "cid": None}]},
    ):
        response = client.post("/v1/messages", json=body, headers=alice)
        assert response.status_code == 400, body
        assert response.get_json()["field"] == "cid"
