"""Session tokens never reach the logs, even though EventSource must carry them in the URL."""

from __future__ import annotations

import requests

from tests.support.peers import Peer
from tests.support.processes import wait_until


def test_token_never_logged(app_server_factory):
    app = app_server_factory({"LOG_LEVEL": "DEBUG"})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    with bob.sse() as stream:  # ?token=
        assert stream.next_event().event == "ready"
        alice.send_ok(bob.id, "hi")
        assert stream.next_message() is not None
    with bob.sse(query_token=False):  # Authorization: Bearer
        pass
    bob.poll(wait=0)
    alice.send_ok(bob.id, "again")
    alice.get("/v1/peers")
    # Error paths log too: a bad signature, a token in a 404's query, a malformed cursor.
    requests.get(app.url("/v1/events"), params={"token": alice.token + "x"}, timeout=5)
    requests.get(app.url("/v1/nowhere"), params={"token": alice.token}, timeout=5)
    requests.get(app.url("/v1/messages"), params={"token": bob.token, "cursor": "bad"}, timeout=5)
    assert alice.http.delete(app.url("/v1/sessions/me"), headers=alice.auth, timeout=5).status_code == 204
    assert alice.get("/v1/sessions/me").status_code == 401  # a revoked token used again

    # The requests were logged (so this test looks at real log output)...
    wait_until(lambda: app.output().count("/v1/events") >= 3, what="access log lines for /v1/events")
    log = app.output()
    assert "/v1/nowhere" in log and "/v1/messages" in log
    # ...and no token, nor its signature or payload part, is anywhere in them.
    for token in (alice.token, bob.token):
        payload, _, signature = token.rpartition(".")
        assert token not in log
        assert signature not in log
        assert payload not in log
    assert "token=" not in log
