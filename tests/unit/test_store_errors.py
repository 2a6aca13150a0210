"""Which Redis failures are an outage (503, retry) and which are a bug (500, traceback logged)."""

from __future__ import annotations

import logging

import pytest
from redis._parsers import BaseParser
from redis.exceptions import ResponseError

from tests.unit.conftest import register_on


def test_a_script_error_is_a_500_with_a_logged_traceback(raw_client, state, caplog):
    """A corrupt session key makes TOUCH fail with WRONGTYPE: retrying cannot help, so no 503."""
    peer, headers, _ = register_on(raw_client)
    session_key = state.store.peer_keys(peer)[0]
    state.store.redis.delete(session_key)
    state.store.redis.set(session_key, "not a hash")
    with caplog.at_level(logging.ERROR, logger="signaling.errors"):
        response = raw_client.get("/v1/sessions/me", headers=headers)
    assert response.status_code == 500, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith(":internal-error")
    assert "Retry-After" not in response.headers
    logged = [r for r in caplog.records if r.exc_info]
    assert logged, "the script error's traceback must be logged"
    assert isinstance(logged[0].exc_info[1], ResponseError)


@pytest.mark.parametrize("reply", ["CLUSTERDOWN The cluster is down", "TRYAGAIN Multiple keys", "READONLY replica"])
def test_a_cluster_in_failover_is_a_503(raw_client, state, monkeypatch, reply):
    """A cluster mid-failover says "not now" (the error redis-py makes of each reply): retry shortly."""
    _, headers, _ = register_on(raw_client)
    error = BaseParser.parse_error(reply)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(state.store, "touch", fail)
    response = raw_client.get("/v1/sessions/me", headers=headers)
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["type"].endswith(":store-unavailable")
    assert response.headers["Retry-After"]
