"""Sessions over HTTP: register, who-am-I, heartbeat, ICE servers, leave, and token checks."""

from __future__ import annotations

import base64
import hashlib
import hmac

from tests.unit.conftest import checked_client, register_on


def test_register_answers_201_with_everything_a_client_needs(client):
    response = client.post("/v1/sessions", json={"name": "  Alice  "})
    assert response.status_code == 201
    assert response.headers["Location"] == "/v1/sessions/me"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["name"] == "Alice", "the name is trimmed"
    assert body["transports"] == ["sse", "longpoll"]
    assert body["heartbeat_interval"] < body["presence_ttl"]
    assert body["token"]


def test_a_wanted_peer_id_is_granted_then_taken(client, register):
    peer, _, _ = register("Bob", "bob")
    assert peer == "bob"
    response = client.post("/v1/sessions", json={"name": "Mallory", "peer_id": "bob"})
    assert response.status_code == 409
    assert response.get_json()["type"].endswith(":peer-id-taken")


def test_who_am_i_and_heartbeat(client, register):
    peer, headers, _ = register("Alice")
    assert client.get("/v1/sessions/me", headers=headers).get_json() == {
        "peer_id": peer,
        "name": "Alice",
        "listed": False,
    }
    beat = client.post("/v1/sessions/me/heartbeat", headers=headers)
    assert beat.status_code == 200 and beat.get_json()["presence_ttl"] > 0


def test_leaving_revokes_the_token_and_frees_the_id(client, register):
    _, headers, _ = register("Bob", "bob")
    assert client.delete("/v1/sessions/me", headers=headers).status_code == 204
    again = client.get("/v1/sessions/me", headers=headers)
    assert again.status_code == 401
    assert again.headers["WWW-Authenticate"] == "Bearer"
    register("Bob", "bob")
    assert client.get("/v1/sessions/me", headers=headers).status_code == 401, "old token stays dead"


def test_missing_and_forged_tokens_are_401(client, register):
    _, headers, body = register("Alice")
    assert client.get("/v1/sessions/me").status_code == 401
    forged = body["token"][:-2] + ("AA" if not body["token"].endswith("AA") else "BB")
    assert client.get("/v1/sessions/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert client.get("/v1/sessions/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get("/v1/sessions/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_a_token_from_another_deployment_is_401(make_app, client):
    """Same peer id and session id format, different SECRET_KEY: the signature gives it away."""
    other = checked_client(make_app(secret_key="another-secret-0123456789", key_prefix="other:"))
    _, headers, _ = register_on(other, "Alice", "alice")
    register_on(client, "Alice", "alice")
    assert client.get("/v1/sessions/me", headers=headers).status_code == 401


def test_the_token_may_ride_in_the_query_for_event_source(client, register):
    peer, _, body = register("Alice")
    response = client.get(f"/v1/sessions/me?token={body['token']}")
    assert response.status_code == 200 and response.get_json()["peer_id"] == peer


def test_ice_servers_mint_turn_rest_credentials(make_app):
    secret = "turn-shared-secret"
    app = make_app(stun_urls=("stun:stun.example:3478",), turn_urls=("turn:turn.example:3478",), turn_secret=secret)
    client = checked_client(app)
    peer, headers, registered = register_on(client)
    stun, turn = client.get("/v1/ice-servers", headers=headers).get_json()["ice_servers"]
    assert stun == {"urls": ["stun:stun.example:3478"]}
    expiry, _, user = turn["username"].partition(":")
    assert user == peer and int(expiry) > 0
    expected = base64.b64encode(hmac.new(secret.encode(), turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected
    assert registered["ice_servers"][1]["urls"] == ["turn:turn.example:3478"]


def test_too_many_registrations_from_one_address_are_429(make_app, clock):
    """The clock is frozen so the per-minute window cannot roll over mid-test."""
    client = checked_client(make_app(register_rate=2))
    register_on(client, "A")
    register_on(client, "B")
    response = client.post("/v1/sessions", json={"name": "C"})
    assert response.status_code == 429
    assert response.get_json()["type"].endswith(":rate-limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    other = client.post("/v1/sessions", json={"name": "D"}, environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 201, "the limit is per address"
