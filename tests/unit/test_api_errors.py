"""Errors over HTTP: every refusal is problem+json with the right status, and no input gives 500."""

from __future__ import annotations

import json
import random
import socket

import pytest
import redis

from signaling import create_app
from tests.unit.conftest import checked_client


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"].startswith("urn:http-signaling:problem:")
    assert body["instance"] == response.request.path
    return body


def test_unknown_paths_are_404_problems(client):
    body = problem(client.get("/v1/nothing-here"), 404)
    assert body["type"].endswith(":not-found")
    problem(client.post("/v1/rooms/a/b/c"), 404)
    problem(client.post("/v1/rooms//members"), 404)  # not an HTML redirect to another route


def test_wrong_methods_are_405_problems_with_allow(client):
    response = client.put("/v1/sessions", json={"name": "A"})
    problem(response, 405)
    assert "POST" in response.headers["Allow"]
    problem(client.patch("/v1/messages"), 405)
    problem(client.post("/healthz"), 405)


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"not json", b"[]", b'"name"', b"null", b"[" * 20000, b"\xff\xfe{", b'{"name": "A"} trailing'],
)
def test_a_body_that_is_not_a_json_object_is_400(client, raw):
    problem(client.post("/v1/sessions", data=raw, content_type="application/json"), 400)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": 42},
        {"name": ["A"]},
        {"name": "x" * 65},
        {"name": "tab\there"},
        {"name": "A", "peer_id": ""},
        {"name": "A", "peer_id": "has space"},
        {"name": "A", "peer_id": 12345678},
        {"name": "A", "peer_id": "x" * 65},
    ],
)
def test_bad_registrations_are_400_naming_the_field(client, body):
    assert problem(client.post("/v1/sessions", json=body), 400).get("field") in (None, "name", "peer_id")


def test_a_body_over_max_body_bytes_is_413(client, register):
    _, headers, _ = register()
    huge = json.dumps({"name": "A", "pad": "x" * 70_000})
    problem(client.post("/v1/sessions", data=huge, content_type="application/json"), 413)
    message = json.dumps({"to": "a", "type": "chat", "data": "x" * 70_000})
    problem(client.post("/v1/messages", headers=headers, data=message, content_type="application/json"), 413)


@pytest.mark.parametrize(
    "query", ["cursor=abc", "cursor=1-", "cursor=-1", "cursor=1-2-3", "cursor=99999999999999999999-0"]
)
def test_a_bad_cursor_is_400_not_503(client, register, query):
    """A cursor past 64 bits once reached Redis and came back as 'store unavailable'."""
    _, headers, _ = register()
    assert problem(client.get(f"/v1/messages?{query}", headers=headers), 400)["field"] == "cursor"
    resume = query.replace("cursor=", "last_event_id=")
    assert problem(client.get(f"/v1/events?{resume}", headers=headers), 400)["field"] == "last_event_id"


@pytest.mark.parametrize("wait", ["-1", "26", "soon", "nan", "inf", "1e400"])
def test_a_bad_wait_is_400(client, register, wait):
    _, headers, _ = register()
    assert problem(client.get(f"/v1/messages?wait={wait}", headers=headers), 400)["field"] == "wait"


def test_store_down_is_503_with_retry_after(client, register, fake_server):
    """Nothing is accepted and then lost: the sender hears at once that it must retry."""
    peer, headers, _ = register()
    fake_server.connected = False
    attempts = [
        client.get("/healthz"),
        client.post("/v1/sessions", json={"name": "B"}),
        client.post("/v1/messages", headers=headers, json={"to": peer, "type": "x", "data": 1}),
        client.get("/v1/messages", headers=headers),
        client.get("/v1/events", headers=headers),
        client.get("/v1/peers", headers=headers),
        client.post("/v1/rooms/r/members", headers=headers),
    ]
    for response in attempts:
        assert problem(response, 503)["type"].endswith(":store-unavailable")
        assert int(response.headers["Retry-After"]) >= 1
    fake_server.connected = True
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_while_draining(client, state):
    state.draining.set()
    response = client.get("/healthz")
    assert problem(response, 503)["type"].endswith(":draining")


def _fuzz_values(rng: random.Random) -> list:
    pieces = ["", "0", "-1", "1-1", "a", "%", "\u0000", "é", "²", "9" * 30, "../", " ", "null", "{}", "🙂"]
    return [rng.choice(pieces) + rng.choice(pieces) for _ in range(40)] + [None, True, 3.5, [], {}, ["x"], {"a": 1}]


def test_no_input_gives_500(make_app, fake_server):
    """A seeded sweep of odd values through every parameter and body field of every endpoint."""
    client = checked_client(make_app(send_rate=1000.0, send_burst=100000, register_rate=0))
    rng = random.Random(20261121)
    token = client.post("/v1/sessions", json={"name": "Fuzz", "peer_id": "fuzz"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    statuses = set()
    for value in _fuzz_values(rng):
        text = value if isinstance(value, str) else json.dumps(value)
        quoted = "".join(c if c.isalnum() else f"%{ord(c):02X}" if ord(c) < 128 else c for c in text)
        requests = [
            ("post", "/v1/sessions", {"json": {"name": value, "peer_id": value}}),
            ("post", "/v1/sessions", {"json": {"name": "N", "peer_id": value}}),
            ("get", f"/v1/peers?limit={quoted}&after={quoted}", {"headers": headers}),
            ("post", f"/v1/rooms/{quoted or 'x'}/members", {"headers": headers}),
            ("get", f"/v1/rooms/{quoted or 'x'}", {"headers": headers}),
            ("post", "/v1/messages", {"headers": headers, "json": {"to": value, "type": "t", "data": value}}),
            ("post", "/v1/messages", {"headers": headers, "json": {"to": "fuzz", "type": value, "data": 1}}),
            ("post", "/v1/messages", {"headers": headers, "json": {"messages": value}}),
            ("post", "/v1/messages", {"headers": headers, "json": {"messages": [value]}}),
            ("get", f"/v1/messages?cursor={quoted}&wait={quoted}", {"headers": headers}),
            ("get", "/v1/sessions/me", {"headers": {"Authorization": f"Bearer {text}"}}),
            ("get", f"/v1/sessions/me?token={quoted}", {}),
            ("get", f"/v1/events?last_event_id={quoted}", {"headers": headers}),
            ("get", "/v1/events", {"headers": {**headers, "Last-Event-ID": text}}),
        ]
        for method, path, kwargs in requests:
            response = getattr(client, method)(path, **kwargs)
            assert response.status_code < 500, (method, path, kwargs, response.status_code)
            statuses.add(response.status_code)
            response.close()
        client.get("/v1/messages?cursor=0", headers=headers)  # keep the mailbox from filling
    assert {200, 400, 401, 404} <= statuses, "the sweep reached past validation"


def test_a_redis_that_refuses_connections_is_503(settings):
    """The real client's errors (connection refused on a closed loopback port) map to 503 too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, retry=None)
    app = create_app(settings, client=dead, pubsub_client=dead)
    client = checked_client(app)
    problem(client.get("/healthz"), 503)
    response = client.post("/v1/sessions", json={"name": "A"})
    assert problem(response, 503)["type"].endswith(":store-unavailable")
    assert response.headers["Retry-After"]
