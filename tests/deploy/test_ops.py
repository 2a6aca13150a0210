"""Operations against real gunicorn + redis-server: metrics, logs, readiness, TURN credentials, App Engine env."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time

import redis
import requests
from prometheus_client import REGISTRY

from signaling import create_app
from signaling.config import load
from tests.deploy.support import CLOSE, register, round_trip
from tests.support.processes import free_port

TURN_SECRET = "deploy-test-turn-secret-0123456789"


def scrape(base: str) -> dict[str, float]:
    """``/metrics`` as {sample name with labels: value}."""
    response = requests.get(f"{base}/metrics", headers=CLOSE, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_count_a_round_trip(app_server_factory):
    app = app_server_factory()
    round_trip(app.base)
    m = scrape(app.base)
    assert m['signaling_http_requests_total{endpoint="/v1/sessions",method="POST",status="201"}'] == 2
    assert m['signaling_http_requests_total{endpoint="/v1/messages",method="POST",status="202"}'] == 2
    assert m["signaling_messages_sent_total"] == 2
    assert m['signaling_messages_delivered_total{transport="sse"}'] == 1
    assert m['signaling_messages_delivered_total{transport="longpoll"}'] == 1
    assert m['signaling_delivery_delay_seconds_count{transport="sse"}'] == 1
    assert m['signaling_http_request_duration_seconds_count{endpoint="/v1/messages",method="GET"}'] == 2
    assert m["signaling_hub_reconnects_total"] == 0
    assert not any(name.startswith("signaling_redis_errors_total{") for name in m)


def test_metrics_count_waiting_clients(app_server_factory):
    app = app_server_factory()
    bob = register(app.base, "Bob")
    stream = bob.sse(query_token=False)
    assert stream.next_frame()["event"] == "ready"
    assert scrape(app.base)["signaling_waiting_clients"] == 1
    stream.close()


def test_metrics_sum_every_worker(app_server_factory, tmp_path):
    # gunicorn.conf.py picks a directory by itself; naming one lets the test see who wrote to it.
    app = app_server_factory({"WEB_CONCURRENCY": "3", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    alice, bob = register(app.base, "Alice"), register(app.base, "Bob")
    sent = 0
    # Each send on a new connection, until the kernel has handed some to another worker.
    while len(list(tmp_path.glob("counter_*.db"))) < 2 and sent < 300:
        response = alice.send(bob.id, sent, "n")
        assert response.status_code == 202, response.text
        sent += 1
    assert len(list(tmp_path.glob("counter_*.db"))) >= 2, "300 connections all went to one worker"
    for _ in range(4):  # whichever worker answers the scrape, it reports all of them
        assert scrape(app.base)["signaling_messages_sent_total"] == sent


def test_metrics_directory_is_made_for_several_workers(app_server_factory):
    app = app_server_factory({"WEB_CONCURRENCY": "2"})
    alice, bob = register(app.base, "Alice"), register(app.base, "Bob")
    for n in range(10):
        alice.send_ok(bob.id, n, "n")
    for _ in range(3):
        assert scrape(app.base)["signaling_messages_sent_total"] == 10


def test_readyz_and_healthz(app_server_factory):
    app = app_server_factory()
    ready = requests.get(app.url("/readyz"), headers=CLOSE, timeout=5)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert requests.get(app.url("/healthz"), headers=CLOSE, timeout=5).status_code == 200


def test_logs_are_json_with_request_ids_and_no_tokens_or_bodies(app_server_factory):
    app = app_server_factory({"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"})
    alice, bob = register(app.base, "Alice"), register(app.base, "Bob")
    sdp = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=secret-sdp-marker\r\n"
    stream = bob.sse(query_token=True)  # EventSource puts the token in the URL
    assert stream.next_frame()["event"] == "ready"
    sent = alice.http.post(
        app.url("/v1/messages"),
        json={"to": bob.id, "type": "offer", "data": {"type": "offer", "sdp": sdp}},
        headers={**alice.auth, "X-Request-ID": "trace-abc.123"},
        timeout=10,
    )
    assert sent.status_code == 202 and sent.headers["X-Request-ID"] == "trace-abc.123"
    assert stream.next_message().json()["data"]["sdp"] == sdp
    stream.close()
    assert requests.get(app.url("/v1/messages?token=" + bob.token), headers=CLOSE, timeout=5).status_code == 200
    assert app.stop() == 0

    output = app.output()
    lines = [line for line in output.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line, gunicorn's too, is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(e["logger"].startswith("gunicorn") for e in entries)
    access = [e for e in entries if e["logger"] == "signaling.access"]
    assert {"request_id": "trace-abc.123", "path": "/v1/messages", "status": 202}.items() <= next(
        e for e in access if e["request_id"] == "trace-abc.123"
    ).items()
    assert len({e["request_id"] for e in access}) == len(access)  # made up when not given, one per request
    for secret in (alice.token, bob.token, "secret-sdp-marker", "4611731400430051336", "token="):
        assert secret not in output, secret


def test_app_engine_standard_advertises_long_poll_only(app_server_factory):
    app = app_server_factory({"GAE_ENV": "standard", "GAE_APPLICATION": "e~signaling-test"})
    round_trip(app.base, transports=("longpoll",))


def coturn_accepts(secret: str, username: str, credential: str, now: float) -> bool:
    """What coturn does with ``use-auth-secret``: the HMAC must match and the expiry must be ahead."""
    expiry, _, _ = username.partition(":")
    expected = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(expected, credential) and int(expiry) > now


def test_turn_credentials_verify_independently_and_expire(app_server_factory):
    urls = "turn:127.0.0.1:3478?transport=udp,turns:127.0.0.1:5349?transport=tcp"
    app = app_server_factory({"TURN_URLS": urls, "TURN_SECRET": TURN_SECRET, "TURN_TTL": "600"})
    before = int(time.time())
    alice = register(app.base, "Alice")
    servers = alice.get("/v1/ice-servers").json()["ice_servers"]
    after = int(time.time())
    turn = [s for s in servers if any(u.startswith("turn") for u in s["urls"])]
    assert len(turn) == 1 and turn[0]["urls"] == urls.split(",")
    username, credential = turn[0]["username"], turn[0]["credential"]
    match = re.fullmatch(r"(\d+):(.+)", username)
    assert match and match.group(2) == alice.id
    expiry = int(match.group(1))
    assert before + 600 <= expiry <= after + 600
    assert coturn_accepts(TURN_SECRET, username, credential, now=expiry - 1)
    assert not coturn_accepts(TURN_SECRET, username, credential, now=expiry)  # expired
    assert not coturn_accepts("another-secret", username, credential, now=expiry - 1)
    # Registration hands out the same kind of credential.
    registered = [s for s in alice.session["ice_servers"] if "username" in s]
    assert coturn_accepts(TURN_SECRET, registered[0]["username"], registered[0]["credential"], now=before)
    assert TURN_SECRET not in json.dumps(servers) + json.dumps(alice.session)


def test_readyz_fails_while_draining_or_without_redis():
    """In-process: readiness turns 503 on drain (SIGTERM) and when Redis is gone; Redis errors are counted."""
    app = create_app(load({}))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    app.extensions["signaling"].draining.set()
    draining = client.get("/readyz")
    assert draining.status_code == 503 and draining.mimetype == "application/problem+json"
    assert draining.json["type"].endswith(":draining") and draining.headers["Retry-After"]

    gone = redis.Redis(port=free_port(), socket_connect_timeout=1, socket_timeout=1)
    app = create_app(load({}), gone, gone)
    counted = 'signaling_redis_errors_total{error="ConnectionError"}'

    def errors() -> float:
        return REGISTRY.get_sample_value("signaling_redis_errors_total", {"error": "ConnectionError"}) or 0.0

    before = errors()
    down = app.test_client().get("/readyz")
    assert down.status_code == 503 and down.json["type"].endswith(":store-unavailable")
    assert errors() == before + 1
    assert counted in app.test_client().get("/metrics").text
