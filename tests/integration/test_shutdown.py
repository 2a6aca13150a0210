"""Stopping an instance ends its open streams promptly, with ``retry:``, instead of hanging until killed."""

from __future__ import annotations

import signal
import threading

from tests.support.peers import Peer
from tests.support.processes import wait_until


def test_sigterm_ends_streams_and_polls_with_retry(app_server_factory):
    # A long grace period: without draining, the stop would hang this long and our reads would time out.
    app = app_server_factory({"GRACEFUL_TIMEOUT": "60", "SSE_RETRY_MS": "1234"})
    bob = Peer(app, "Bob")
    carol = Peer(app, "Carol")
    stream = bob.sse()
    assert stream.next_event().event == "ready"
    poll = {}

    def long_poll():
        poll["body"] = carol.poll(wait=25, timeout=20)

    poller = threading.Thread(target=long_poll)
    poller.start()

    wait_until(lambda: bob.get("/healthz").json()["waiting"] == 2, what="both clients waiting")
    # An idle keep-alive connection would hold gunicorn's graceful exit (that is gunicorn's own wait).
    bob.http.close()

    stopper = threading.Thread(target=app.stop, kwargs={"sig": signal.SIGTERM, "timeout": 30})
    stopper.start()
    rest = stream.read_until_closed(timeout=15)
    assert stream.eof, "the stream was not ended on SIGTERM"
    assert rest == []
    assert b"retry: 1234" in bytes(stream.body).split(b"event: ready", 1)[1]
    poller.join(15)
    assert poll["body"]["messages"] == []
    # Both connections are now idle keep-alives that gunicorn would keep; the clients hang up.
    stream.close()
    carol.http.close()
    stopper.join(20)
    assert not stopper.is_alive()
    assert app.process.returncode == 0
