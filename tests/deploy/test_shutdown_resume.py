"""SIGTERM on one instance: its SSE stream ends with ``retry:``, the client resumes on another, nothing is lost."""

from __future__ import annotations

import json
import os
import signal

import requests

from tests.deploy.support import READ_TIMEOUT, frames_until_end, register
from tests.support.peers import Peer


def try_send(peer: Peer, base: str, to: str, n: int) -> str | None:
    """Send through ``base``; the id if it was accepted, None if the instance refused or was gone."""
    try:
        response = peer.send(to, n, "n", via=base)
    except requests.ConnectionError:
        return None
    assert response.status_code == 202 or response.status_code >= 500, response.text
    return response.json()["id"] if response.status_code == 202 else None


def test_sigterm_ends_the_stream_with_retry_and_the_client_resumes_elsewhere(app_server_factory):
    leaving = app_server_factory({"SSE_RETRY_MS": "1000"})
    # A stream that missed a message would end after 30 s instead of hanging the test.
    staying = app_server_factory({"STREAM_MAX_DURATION": "30"})
    alice = register(staying.base, "Alice")
    bob = register(leaving.base, "Bob")
    stream = bob.sse(query_token=False)
    assert stream.next_frame()["event"] == "ready"
    sent = [alice.send_ok(bob.id, 0, "n")]
    received = [stream.next_message().json()["id"]]
    assert received == sent

    # Messages around the shutdown: just before SIGTERM, at once after it through the leaving
    # instance itself (accepted or refused, never accepted and lost), and through the other one.
    sent.append(alice.send_ok(bob.id, 1, "n"))
    os.killpg(leaving.process.pid, signal.SIGTERM)
    accepted = try_send(alice, leaving.base, bob.id, 2)
    sent += [accepted] if accepted else []
    sent.append(alice.send_ok(bob.id, 3, "n"))

    frames = frames_until_end(stream)
    assert frames and frames[-1] == {"retry": "1000"}, frames
    received += [json.loads(f["data"])["id"] for f in frames if "id" in f]
    assert leaving.process.wait(20) == 0
    output = leaving.output()
    assert "graceful timeout" not in output.lower(), output  # ended by draining, not by the kill

    sent.append(alice.send_ok(bob.id, 4, "n"))
    # EventSource reconnects with the last id it saw; the balancer sends it to the other instance.
    resumed = bob.sse(via=staying.base, last_event_id=received[-1], query_token=False)
    assert resumed.next_frame()["event"] == "ready"
    while len(received) < len(sent):
        message = resumed.next_message(READ_TIMEOUT)
        assert message is not None, f"stream ended; still missing {sorted(set(sent) - set(received))}"
        received.append(message.json()["id"])
    resumed.close()
    assert received == sent  # every accepted message exactly once, in order
