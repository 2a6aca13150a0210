"""SSE resume: a client that drops, misses messages and reconnects with Last-Event-ID gets exactly those."""

from __future__ import annotations

import pytest

from tests.support.peers import Peer
from tests.support.sse import SSEStream

# One redis-server and the 6-node Redis Cluster.
pytestmark = pytest.mark.usefixtures("backend")


def _ids(events) -> list[str]:
    return [e.id for e in events]


@pytest.mark.parametrize("resume_on", ["same", "other"])
def test_reconnect_with_last_event_id_gets_exactly_the_missed_messages(two_apps, resume_on):
    one, two = two_apps
    back = one if resume_on == "same" else two
    alice, bob = Peer(one, "Alice"), Peer(one, "Bob")

    stream = bob.sse(via=one)
    assert stream.next_event().event == "ready"
    seen = [alice.send_ok(bob.id, {"n": n}) for n in range(3)]
    received = stream.messages(3)
    assert _ids(received) == seen
    last_event_id = received[-1].id
    stream.close()  # gone without a goodbye, e.g. the network dropped

    missed = [alice.send_ok(bob.id, {"n": n}) for n in range(3, 8)]

    with bob.sse(via=back, query_token=False, last_event_id=last_event_id) as resumed:
        ready = resumed.next_event()
        assert ready.event == "ready"
        assert ready.json()["cursor"] == last_event_id
        got = resumed.messages(len(missed))
        assert _ids(got) == missed
        assert [e.json()["data"] for e in got] == [{"n": n} for n in range(3, 8)]
        # Nothing else was queued before this marker: no re-sent old ones, no duplicates.
        marker = alice.send_ok(bob.id, "marker")
        after = resumed.next_message()
        assert after is not None and after.id == marker

    # The cursor acknowledged what came before it; a later reader starts after the missed ones.
    with bob.sse(via=back, last_event_id=missed[-1]) as again:
        assert again.next_event().event == "ready"
        nxt = again.next_message()
        assert nxt is not None and nxt.id == marker


def test_resume_from_the_query_parameter_too(app):
    """EventSource's own reconnect sends the header; a page reload can only pass it in the URL."""
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    first = alice.send_ok(bob.id, 1)
    second = alice.send_ok(bob.id, 2)

    with SSEStream(app.base, f"/v1/events?token={bob.token}&last_event_id={first}") as stream:
        assert stream.status == 200
        got = stream.next_message()
        assert got is not None and got.id == second
