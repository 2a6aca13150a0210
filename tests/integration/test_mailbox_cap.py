"""The mailbox cap (MAILBOX_MAXLEN) is meant for readers that stopped reading, not for ones that keep up."""

from __future__ import annotations

from tests.support.peers import Peer

CAP = 20


def test_long_poll_reader_that_keeps_up_never_fills_its_mailbox(shared_app_server):
    app = shared_app_server({"MAILBOX_MAXLEN": str(CAP), "MAX_BATCH": str(CAP)})[0]
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    for i in range(3 * CAP):
        alice.send_ok(bob.id, i)
        assert [m["data"] for m in bob.poll(wait=5)["messages"]] == [i]


def test_a_reader_that_stopped_reading_fills_up_and_the_sender_is_told(shared_app_server):
    app = shared_app_server({"MAILBOX_MAXLEN": str(CAP), "MAX_BATCH": str(CAP)})[0]
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


def test_sse_reader_that_keeps_up_never_fills_its_mailbox(shared_app_server):
    """Only the next Last-Event-ID acknowledges what a stream delivered, so the stream must come to an end
    (and the client back, as EventSource does) before its unacknowledged messages fill the mailbox."""
    app = shared_app_server({"MAILBOX_MAXLEN": str(CAP), "MAX_BATCH": str(CAP)})[0]
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    stream = bob.sse()
    assert stream.next_event().event == "ready"
    received, reconnects, last_id = [], 0, None
    try:
        for i in range(3 * CAP):
            alice.send_ok(bob.id, i)  # never 429: the reader keeps up
            event = stream.next_message(timeout=5)
            if event is None and stream.eof:  # the server ended the stream: come back from the last id
                stream.close()
                stream = bob.sse(last_event_id=last_id)
                reconnects += 1
                event = stream.next_message()
            assert event is not None, f"message {i} did not arrive"
            received.append(event.json()["data"])
            last_id = event.id
    finally:
        stream.close()
    assert received == list(range(3 * CAP))  # each exactly once, in order
    assert reconnects >= 1
