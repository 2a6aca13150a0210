"""The spec checker itself: it must catch a server that drifts from openapi.yaml, or it proves nothing."""

from __future__ import annotations

import pytest

from signaling import api, auth, validation
from tests.unit.spec_check import check_exchange


def test_a_response_off_the_schema_is_caught(client, register, monkeypatch):
    """ice_servers[].urls must be a list; a string there is drift the checker must report."""
    _, headers, _ = register()
    monkeypatch.setattr(api, "ice_servers", lambda settings, peer: [{"urls": "stun:example.org"}])
    with pytest.raises(AssertionError, match="does not match the spec"):
        client.get("/v1/ice-servers", headers=headers)


def test_an_undocumented_status_is_caught(client, register, monkeypatch):
    """GET /v1/sessions/me documents no 202."""
    _, headers, _ = register()
    monkeypatch.setattr(api, "jsonify", lambda **kw: ({**kw}, 202))
    with pytest.raises(AssertionError, match="does not match the spec"):
        client.get("/v1/sessions/me", headers=headers)


def test_a_request_the_spec_refuses_must_be_refused(client, register, monkeypatch):
    """If the server took limit=abc, spec and server would disagree about valid input."""
    _, headers, _ = register()
    monkeypatch.setattr(validation, "whole_number", lambda *args: 5)
    with pytest.raises(AssertionError, match="spec rejects the request"):
        client.get("/v1/peers?limit=abc", headers=headers)


def test_unknown_paths_must_answer_problem_404(raw_client):
    check_exchange(raw_client.get("/v1/nowhere"))
    response = raw_client.get("/static/../../etc/passwd")
    assert response.status_code == 404
    check_exchange(response)


def test_a_missing_required_header_is_caught(client, monkeypatch):
    """401 must carry WWW-Authenticate: Bearer; dropping it is drift too."""
    real = auth.unauthorized

    def without_header(detail):
        problem = real(detail)
        problem.headers = {}
        return problem

    monkeypatch.setattr(auth, "unauthorized", without_header)
    with pytest.raises(AssertionError, match="WWW-Authenticate"):
        client.get("/v1/sessions/me", headers={"Authorization": "Bearer forged"})
