"""Sending over HTTP: 202 bodies, stamping, rooms, and every refusal the sender must hear about."""

from __future__ import annotations

from tests.unit.conftest import checked_client, register_on


def inbox(client, headers) -> list[dict]:
    return client.get("/v1/messages", headers=headers).get_json()["messages"]


def test_one_message_is_202_with_its_id_and_arrives_stamped(client, register):
    alice, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    sent = {"to": bob, "type": "offer", "data": {"sdp": "v=0"}, "from": "mallory", "from_name": "Eve"}
    response = client.post("/v1/messages", headers=alice_h, json=sent)
    assert response.status_code == 202
    body = response.get_json()
    assert body["recipients"] == {bob: body["id"]}
    (message,) = inbox(client, bob_h)
    assert message == {
        "id": body["id"],
        "ts": int(body["id"].split("-")[0]),
        "type": "offer",
        "data": {"sdp": "v=0"},
        "from": alice,
        "from_name": "Alice",
    }, "from/from_name are the server's, never the sender's"


def test_a_batch_is_202_with_ids_in_order(client, register):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    batch = [{"to": bob, "type": "candidate", "data": i} for i in range(3)]
    response = client.post("/v1/messages", headers=alice_h, json={"messages": batch})
    assert response.status_code == 202
    ids = response.get_json()["ids"]
    assert [m["id"] for m in inbox(client, bob_h)] == ids
    assert response.get_json()["recipients"] == [{bob: i} for i in ids]


def test_room_messages_reach_the_other_members_only(client, register):
    _, alice_h, _ = register("Alice", "alice")
    _, bob_h, _ = register("Bob", "bob")
    for headers in (alice_h, bob_h):
        client.post("/v1/rooms/r/members", headers=headers)
    response = client.post("/v1/messages", headers=alice_h, json={"room": "r", "type": "chat", "data": "hi"})
    assert response.status_code == 202
    assert list(response.get_json()["recipients"]) == ["bob"]
    (chat,) = [m for m in inbox(client, bob_h) if m["type"] == "chat"]
    assert (chat["room"], chat["from"], chat["data"]) == ("r", "alice", "hi")
    assert [m["type"] for m in inbox(client, alice_h)] == ["peer-joined"], "no echo to the sender"


def test_sending_to_a_room_you_are_not_in_is_403_and_sends_nothing(client, register):
    _, alice_h, _ = register("Alice")
    _, bob_h, _ = register("Bob")
    client.post("/v1/rooms/r/members", headers=bob_h)
    response = client.post("/v1/messages", headers=alice_h, json={"room": "r", "type": "chat", "data": 1})
    assert response.status_code == 403
    assert response.get_json()["type"].endswith(":not-a-member")
    assert inbox(client, bob_h) == []


def test_an_offline_recipient_is_404_naming_it(client, register):
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    batch = [{"to": "ghost", "type": "offer", "data": 1}, {"to": bob, "type": "offer", "data": 2}]
    response = client.post("/v1/messages", headers=alice_h, json={"messages": batch})
    assert response.status_code == 404
    problem = response.get_json()
    assert problem["offline"] == ["ghost"]
    assert problem["ids"][0] is None
    assert [m["id"] for m in inbox(client, bob_h)] == [problem["ids"][1]], "the problem says what did go out"


def test_sending_too_fast_is_429_with_retry_after_and_sends_nothing(make_app):
    client = checked_client(make_app(send_rate=0.5, send_burst=3))
    _, alice_h, _ = register_on(client, "Alice")
    bob, bob_h, _ = register_on(client, "Bob")
    message = {"to": bob, "type": "chat", "data": 0}
    assert client.post("/v1/messages", headers=alice_h, json={"messages": [message] * 3}).status_code == 202
    response = client.post("/v1/messages", headers=alice_h, json=message)
    assert response.status_code == 429
    assert response.get_json()["type"].endswith(":rate-limited")
    assert int(response.headers["Retry-After"]) >= 1
    assert len(inbox(client, bob_h)) == 3


def test_a_full_mailbox_is_429_and_loses_nothing(make_app):
    client = checked_client(make_app(mailbox_maxlen=10))
    _, alice_h, _ = register_on(client, "Alice")
    bob, bob_h, _ = register_on(client, "Bob")
    batch = [{"to": bob, "type": "chat", "data": i} for i in range(10)]
    assert client.post("/v1/messages", headers=alice_h, json={"messages": batch}).status_code == 202
    response = client.post("/v1/messages", headers=alice_h, json={"to": bob, "type": "chat", "data": 10})
    assert response.status_code == 429
    assert response.get_json()["full"] == [bob]
    assert response.headers["Retry-After"]
    assert [m["data"] for m in inbox(client, bob_h)] == list(range(10))


def test_reserved_and_malformed_messages_are_400(client, register):
    _, alice_h, _ = register("Alice")
    bob, _, _ = register("Bob")
    bad = [
        {"to": bob, "type": "peer-joined", "data": {}},
        {"to": bob, "type": "peer-left", "data": {}},
        {"to": bob, "type": "session-ended", "data": {}},
        {"to": bob, "type": "offer"},
        {"type": "offer", "data": 1},
        {"to": 7, "type": "offer", "data": 1},
        {"to": bob, "type": "", "data": 1},
        {"to": bob, "type": "9lives", "data": 1},
        {"to": bob, "type": ["offer"], "data": 1},
        {"to": bob, "room": "a b", "type": "offer", "data": 1},
        {"messages": []},
        {"messages": {"to": bob}},
        {"messages": [{"to": bob, "type": "offer", "data": 1}] * 101},
        {"messages": [{"to": bob, "type": "offer", "data": 1}, "offer"]},
    ]
    for body in bad:
        response = client.post("/v1/messages", headers=alice_h, json=body)
        assert response.status_code == 400, body


def test_json_that_no_client_could_read_is_400(client, register):
    """NaN and lone surrogates parse in Python but would poison the recipient's mailbox."""
    _, alice_h, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    for data in ("NaN", "Infinity", '"\\ud800"', '{"\\udc00": 1}'):
        raw = '{"to": "%s", "type": "x", "data": %s}' % (bob, data)
        response = client.post("/v1/messages", headers=alice_h, data=raw, content_type="application/json")
        assert response.status_code == 400, data
    assert inbox(client, bob_h) == []
