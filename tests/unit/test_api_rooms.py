"""Directory and rooms over HTTP: paging, joining, capacity and the events members receive."""

from __future__ import annotations

from tests.unit.conftest import checked_client, register_on


def poll(client, headers) -> list[dict]:
    response = client.get("/v1/messages", headers=headers)
    assert response.status_code == 200
    return response.get_json()["messages"]


def test_peers_pages_through_everyone_listed(client, register):
    _, headers, _ = register("A", "a", listed=True)
    for peer in ("b", "c", "d", "e"):
        register(peer.upper(), peer, listed=True)
    register("Not listed", "z")
    seen, after = [], ""
    while True:
        page = client.get(f"/v1/peers?limit=2&after={after}", headers=headers).get_json()
        assert page["total"] == 5
        seen += [p["peer_id"] for p in page["peers"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == ["a", "b", "c", "d", "e"]


def test_peers_rejects_bad_paging(client, register):
    _, headers, _ = register()
    for query in ("limit=0", "limit=201", "limit=ten", "limit=-1", "after=%20x", "after=" + "x" * 513, "q=a%01"):
        response = client.get(f"/v1/peers?{query}", headers=headers)
        assert response.status_code == 400, query
        assert response.get_json()["field"] in ("limit", "after", "q")


def test_peers_answers_304_until_the_directory_changes(client, register):
    _, headers, _ = register("Alice", "alice", listed=True)
    first = client.get("/v1/peers", headers=headers)
    etag = first.headers["ETag"]
    assert etag == f'"{first.get_json()["version"]}"'
    same = client.get("/v1/peers", headers={**headers, "If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""
    register("Bob", "bob", listed=True)
    changed = client.get("/v1/peers", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert [p["peer_id"] for p in changed.get_json()["peers"]] == ["alice", "bob"]
    assert changed.headers["ETag"] != etag


def test_peers_searches_by_prefix(client, register):
    _, headers, _ = register("Alice", "11", listed=True)
    register("Bob", "22", listed=True)
    found = client.get("/v1/peers?q=bO", headers=headers).get_json()
    assert found["peers"] == [{"peer_id": "22", "name": "Bob"}] and found["total"] == 1
    by_id = client.get("/v1/peers?q=1", headers=headers).get_json()
    assert by_id["peers"] == [{"peer_id": "11", "name": "Alice"}]


def test_join_look_leave(client, register):
    _, alice, _ = register("Alice", "alice")
    _, bob, _ = register("Bob", "bob")
    assert client.post("/v1/rooms/lobby/members", headers=alice).get_json()["members"] == [
        {"peer_id": "alice", "name": "Alice"}
    ]
    joined = client.post("/v1/rooms/lobby/members", headers=bob).get_json()
    assert [m["peer_id"] for m in joined["members"]] == ["alice", "bob"]
    assert joined["capacity"] == 6
    (event,) = poll(client, alice)
    assert (event["type"], event["room"], event["data"]) == ("peer-joined", "lobby", {"peer_id": "bob", "name": "Bob"})
    assert client.delete("/v1/rooms/lobby/members/me", headers=bob).status_code == 204
    (event,) = [e for e in poll(client, alice) if e["type"] == "peer-left"]
    assert event["data"] == {"peer_id": "bob", "name": "Bob", "reason": "left"}
    assert client.get("/v1/rooms/lobby", headers=bob).get_json()["members"] == [{"peer_id": "alice", "name": "Alice"}]


def test_a_full_room_is_409_with_its_capacity(make_app):
    client = checked_client(make_app(room_capacity=2))
    first, second, third = (register_on(client, name)[1] for name in ("A", "B", "C"))
    for headers in (first, second):
        assert client.post("/v1/rooms/r/members", headers=headers).status_code == 200
    response = client.post("/v1/rooms/r/members", headers=third)
    assert response.status_code == 409
    assert response.get_json()["capacity"] == 2
    assert response.get_json()["type"].endswith(":room-full")
    assert client.post("/v1/rooms/r/members", headers=second).status_code == 200, "members may rejoin"


def test_bad_room_names_are_400(client, register):
    _, headers, _ = register()
    for room in ("a.b", "x" * 65, "a%E2%80%AEb", "%20", "%EF%BF%BD"):
        assert client.post(f"/v1/rooms/{room}/members", headers=headers).status_code == 400, room
        assert client.get(f"/v1/rooms/{room}", headers=headers).status_code == 400, room
        assert client.delete(f"/v1/rooms/{room}/members/me", headers=headers).status_code == 400, room
