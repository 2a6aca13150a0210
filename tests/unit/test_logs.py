"""Access logs: one record per request that never carries a token, and a request id echoed back."""

from __future__ import annotations

import json
import logging

from signaling.logs import JsonFormatter


def access_lines(caplog) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records if r.name == "signaling.access"]


def test_tokens_in_the_query_never_reach_the_log(client, register, caplog):
    """EventSource must put its token in the URL; the log keeps the path only."""
    _, _, body = register()
    token = body["token"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="signaling.access"):
        client.get(f"/v1/sessions/me?token={token}")
        client.get("/v1/sessions/me", headers={"Authorization": f"Bearer {token}"})
    lines = access_lines(caplog)
    assert len(lines) == 2
    assert all(token not in line and "token=" not in line for line in lines)
    assert json.loads(lines[0])["path"] == "/v1/sessions/me"


def test_a_request_id_is_echoed_or_made_up(client):
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    odd = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert odd.headers["X-Request-ID"] not in ("", "<script>alert(1)</script>")
    assert client.get("/healthz").headers["X-Request-ID"]
