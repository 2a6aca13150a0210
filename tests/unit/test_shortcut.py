"""signaling/shortcut.py: POST /v1/messages without Flask's machinery answers exactly as the Flask view does."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY
from werkzeug.test import Client

from signaling.shortcut import SendShortcut
from tests.unit.conftest import register_on


@pytest.fixture
def both(app):
    """(through the shortcut, straight to Flask): two clients of the same app and store."""
    assert isinstance(app.wsgi_app, SendShortcut)
    return app.test_client(), Client(app.wsgi_app.app)


def _peers(client, n: int):
    return [register_on(client, f"P{i}") for i in range(n)]


def _comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in ("X-Request-ID", "Content-Length")}
    body = response.get_json()
    if isinstance(body, dict):  # ids differ between two stores' sends; their shape must not
        body = {k: (type(v).__name__ if k in ("id", "ids", "recipients") else v) for k, v in body.items()}
    return response.status_code, headers, body


CASES = {
    "one message": lambda to: {"json": {"to": to, "type": "offer", "data": {"sdp": "x"}}},
    "a batch": lambda to: {"json": {"messages": [{"to": to, "type": "candidate", "data": i} for i in range(3)]}},
    "to an unknown peer": lambda to: {"json": {"to": "nobody-here", "type": "offer", "data": 1}},
    "no data": lambda to: {"json": {"to": to, "type": "offer"}},
    "not JSON": lambda to: {"data": "to=x", "content_type": "application/x-www-form-urlencoded"},
    "broken JSON": lambda to: {"data": "{", "content_type": "application/json"},
    "NaN": lambda to: {"data": '{"to": "%s", "type": "t", "data": NaN}' % to, "content_type": "application/json"},
    "too large": lambda to: {"json": {"to": to, "type": "t", "data": "x" * 300_000}},
    "null cid": lambda to: {"json": {"to": to, "type": "t", "data": 1, "cid": None}},
}


@pytest.mark.parametrize("name", CASES)
def test_same_answer_as_the_flask_view(both, name):
    answers = []
    for client in both:
        (sender, auth, _), (to, _, _) = _peers(client, 2)
        answers.append(_comparable(client.post("/v1/messages", headers=auth, **CASES[name](to))))
    assert answers[0] == answers[1]
    assert answers[0][0] != 500


def test_bad_or_missing_token_is_the_same_401(both):
    for headers in ({}, {"Authorization": "Bearer forged"}):
        answers = [
            _comparable(c.post("/v1/messages", headers=headers, json={"to": "x", "type": "t", "data": 1})) for c in both
        ]
        assert answers[0] == answers[1] and answers[0][0] == 401
        assert answers[0][1]["WWW-Authenticate"] == "Bearer"


def test_it_logs_counts_and_echoes_the_request_id(both, caplog):
    client = both[0]
    (_, auth, _), (to, _, _) = _peers(client, 2)
    counted = {"endpoint": "/v1/messages", "method": "POST", "status": "202"}
    before = REGISTRY.get_sample_value("signaling_http_requests_total", counted) or 0.0
    with caplog.at_level(logging.INFO, logger="signaling.access"):
        response = client.post(
            "/v1/messages", headers={**auth, "X-Request-ID": "abc-123"}, json={"to": to, "type": "t", "data": 1}
        )
    assert response.status_code == 202
    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert REGISTRY.get_sample_value("signaling_http_requests_total", counted) == before + 1
    (line,) = [r for r in caplog.records if r.name == "signaling.access" and r.fields["path"] == "/v1/messages"]
    assert line.fields["method"] == "POST" and line.fields["status"] == 202
    assert line.fields["request_id"] == "abc-123"
    assert "Bearer" not in line.getMessage() and auth["Authorization"][7:] not in str(line.fields)


def test_other_requests_still_go_through_flask(both):
    client = both[0]
    (_, auth, _), _ = _peers(client, 2)
    assert client.get("/v1/messages?wait=0", headers=auth).status_code == 200  # the long-poll: Flask's view
    refused = client.put("/v1/messages", headers=auth, json={})
    assert refused.status_code == 405 and "POST" in refused.headers["Allow"]
