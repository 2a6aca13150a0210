"""SIGTERM on one instance: its SSE stream ends with ``retry:``, the client resumes on another, nothing is lost."""

from __future__ import annotations

import json
import os
import signal

import requests

from tests.deploy.support import Peer


def try_send(peer: Peer, base: str, to: str, n: int) -> str | None:
    """Send through ``base``; the id if it was accepted, None if the instance refused or was gone."""
    try:
        response = requests.post(
            f"{base}/v1/messages", json={"to": to, "type": "n", "data": n}, headers=peer.auth, timeout=10
        )
    except requests.ConnectionError:
        return None
    assert response.status_code == 202 or response.status_code >= 500, response.text
    return response.json()["id"] if response.status_code == 202 else None


def test_sigterm_ends_the_stream_with_retry_and_the_client_resumes_elsewhere(app_server_factory):
    leaving = app_server_factory({"SSE_RETRY_MS": "1000"})
    # A stream that missed a message would end after 30 s instead of hanging the test.
    staying = app_server_factory({"STREAM_MAX_DURATION": "30"})
    alice = Peer(staying.base, "Alice")
    bob = Peer(leaving.base, "Bob")
    stream = bob.stream()
    assert stream.next_frame()["event"] == "ready"
    sent = [alice.send(bob.peer_id, "n", 0)]
    received = [stream.next_message()["id"]]
    assert received == sent

    # Messages around the shutdown: just before SIGTERM, at once after it through the leaving
    # instance itself (accepted or refused, never accepted and lost), and through the other one.
    sent.append(alice.send(bob.peer_id, "n", 1))
    os.killpg(leaving.process.pid, signal.SIGTERM)
    accepted = try_send(alice, leaving.base, bob.peer_id, 2)
    sent += [accepted] if accepted else []
    sent.append(alice.send(bob.peer_id, "n", 3))

    frames = []
    while (frame := stream.next_frame()) is not None:
        frames.append(frame)
    assert frames and frames[-1] == {"retry": "1000"}, frames
    received += [json.loads(f["data"])["id"] for f in frames if "id" in f]
    assert leaving.process.wait(20) == 0
    output = leaving.output()
    assert "graceful timeout" not in output.lower(), output  # ended by draining, not by the kill

    sent.append(alice.send(bob.peer_id, "n", 4))
    # EventSource reconnects with the last id it saw; the balancer sends it to the other instance.
    resumed = bob.stream(base=staying.base, last_event_id=received[-1])
    assert resumed.next_frame()["event"] == "ready"
    while len(received) < len(sent):
        message = resumed.next_message()
        assert message is not None, f"stream ended; still missing {sorted(set(sent) - set(received))}"
        received.append(message["id"])
    resumed.close()
    assert received == sent  # every accepted message exactly once, in order
