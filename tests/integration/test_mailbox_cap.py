"""The mailbox cap (MAILBOX_MAXLEN) is meant for readers that stopped reading, not for ones that keep up."""

from __future__ import annotations

import pytest

from tests.support.peers import Peer

CAP = 20


def test_long_poll_reader_that_keeps_up_never_fills_its_mailbox(app_server_factory):
    app = app_server_factory({"MAILBOX_MAXLEN": str(CAP), "MAX_BATCH": str(CAP)})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    for i in range(3 * CAP):
        alice.send_ok(bob.id, i)
        assert [m["data"] for m in bob.poll(wait=5)["messages"]] == [i]


def test_a_reader_that_stopped_reading_fills_up_and_the_sender_is_told(app_server_factory):
    app = app_server_factory({"MAILBOX_MAXLEN": str(CAP), "MAX_BATCH": str(CAP)})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    for i in range(CAP):
        alice.send_ok(bob.id, i)
    refused = alice.send(bob.id, "one too many")
    assert refused.status_code == 429
    assert refused.json()["full"] == [bob.id]
    assert int(refused.headers["Retry-After"]) >= 1
    # Reading (and acknowledging with the next cursor) makes room again.
    assert len(bob.poll(wait=0)["messages"]) == CAP
    bob.poll(wait=0)
    alice.send_ok(bob.id, "room again")


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,  # the 429 on send_ok, not a setup error
    reason="known bug: an SSE stream acknowledges nothing until the client reconnects, so after "
    "MAILBOX_MAXLEN messages within one stream (<= STREAM_MAX_DURATION) senders get 429 mailbox-full "
    "although every message was delivered",
)
def test_sse_reader_that_keeps_up_never_fills_its_mailbox(app_server_factory):
    app = app_server_factory({"MAILBOX_MAXLEN": str(CAP), "MAX_BATCH": str(CAP)})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    with bob.sse() as stream:
        assert stream.next_event().event == "ready"
        for i in range(3 * CAP):
            alice.send_ok(bob.id, i)
            event = stream.next_message()
            assert event is not None and event.json()["data"] == i
