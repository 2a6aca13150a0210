"""Server-Sent Events (GET /v1/events) through the test client, frame by frame.

The stream is a generator: the test pulls frames one at a time, and the
server only runs between pulls, so each step is deterministic. Streams that
must end do so by STREAM_MAX_DURATION / session end; nothing here is timed.
"""

from __future__ import annotations

import json

import pytest

from signaling import hub as hub_module
from tests.unit.conftest import checked_client, register_on
from tests.unit.mail import entries


class Stream:
    """Reads an event-stream response one frame (text between blank lines) at a time."""

    def __init__(self, response) -> None:
        assert response.status_code == 200
        assert response.mimetype == "text/event-stream"
        self.response = response
        self._chunks = iter(response.response)
        self._buffer = ""

    def frame(self) -> str:
        while "\n\n" not in self._buffer:
            chunk = next(self._chunks)
            self._buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        frame, self._buffer = self._buffer.split("\n\n", 1)
        return frame

    def rest(self) -> list[str]:
        """Every remaining frame, until the server ends the stream."""
        frames = []
        while True:
            try:
                frames.append(self.frame())
            except StopIteration:
                assert self._buffer == "", "the stream ended mid-frame"
                return frames

    def close(self) -> None:
        self.response.close()


def message(frame: str) -> tuple[str, dict]:
    """(id line, envelope) of a message frame."""
    id_line, data_line = frame.split("\n")
    assert id_line.startswith("id: ") and data_line.startswith("data: ")
    return id_line[4:], json.loads(data_line[6:])


@pytest.fixture
def open_stream(client):
    streams = []

    def do(headers=None, query="", app_client=None):
        stream = Stream((app_client or client).get(f"/v1/events{query}", headers=headers or {}))
        streams.append(stream)
        return stream

    yield do
    for stream in streams:
        stream.close()


@pytest.fixture
def peers(client, register):
    """Alice (sender) and Bob (reader): (alice headers, bob id, bob headers)."""
    _, alice, _ = register("Alice")
    bob, bob_h, _ = register("Bob")
    return alice, bob, bob_h


def send(client, headers, to, data) -> str:
    response = client.post("/v1/messages", headers=headers, json={"to": to, "type": "note", "data": data})
    assert response.status_code == 202
    return response.get_json()["id"]


def mailbox_ids(state, peer) -> list[str]:
    return [i for i, _ in entries(state.store, peer, "0", ack=False)]


def test_the_first_frame_is_retry_and_ready_before_any_wait(open_stream, peers, monkeypatch):
    waits = []
    monkeypatch.setattr(hub_module.Waiter, "wait", lambda self, timeout: waits.append(timeout) or False)
    _, bob, bob_h = peers
    stream = open_stream(bob_h)
    retry, event, data = stream.frame().split("\n")
    assert retry == "retry: 2000" and event == "event: ready"
    assert json.loads(data[len("data: ") :]) == {"peer_id": bob, "cursor": "0", "keepalive": 30.0}
    assert waits == [], "ready is sent at once, not after a wait"
    assert stream.response.headers["Cache-Control"] == "no-store"
    assert stream.response.headers["X-Accel-Buffering"] == "no"


def test_messages_arrive_as_id_and_data_frames(client, open_stream, peers):
    alice, bob, bob_h = peers
    before = send(client, alice, bob, "before")
    stream = open_stream(bob_h)
    stream.frame()
    event_id, envelope = message(stream.frame())
    assert event_id == envelope["id"] == before and envelope["data"] == "before"
    after = send(client, alice, bob, "after")  # while the stream is open
    event_id, envelope = message(stream.frame())
    assert event_id == envelope["id"] == after and envelope["from_name"] == "Alice"


def test_messages_written_to_the_stream_stay_until_acknowledged(client, open_stream, peers, state):
    """A frame written to a socket may never arrive; only the next Last-Event-ID acknowledges it."""
    alice, bob, bob_h = peers
    ids = [send(client, alice, bob, n) for n in range(2)]
    stream = open_stream(bob_h)
    stream.frame()
    assert [message(stream.frame())[0] for _ in ids] == ids
    send(client, alice, bob, 2)
    stream.frame()
    assert mailbox_ids(state, bob)[:2] == ids


@pytest.mark.parametrize("where", ["header", "query"])
def test_last_event_id_resumes_after_it_and_acknowledges_up_to_it(client, open_stream, peers, state, where):
    alice, bob, bob_h = peers
    ids = [send(client, alice, bob, n) for n in range(3)]
    if where == "header":
        stream = open_stream({**bob_h, "Last-Event-ID": ids[0]})
    else:
        stream = open_stream(bob_h, f"?last_event_id={ids[0]}")
    assert json.loads(stream.frame().split("data: ")[1])["cursor"] == ids[0]
    assert [message(stream.frame())[0] for _ in range(2)] == ids[1:]
    assert mailbox_ids(state, bob) == ids[1:], "the first was acknowledged and trimmed"


def test_the_header_wins_over_the_query(client, open_stream, peers):
    alice, bob, bob_h = peers
    ids = [send(client, alice, bob, n) for n in range(3)]
    stream = open_stream({**bob_h, "Last-Event-ID": ids[1]}, f"?last_event_id={ids[0]}")
    stream.frame()
    assert message(stream.frame())[0] == ids[2]


def test_event_source_may_pass_the_token_in_the_query(open_stream, register):
    _, _, body = register("Carol")
    stream = open_stream(query=f"?token={body['token']}")
    assert json.loads(stream.frame().split("data: ")[1])["peer_id"] == body["peer_id"]


@pytest.fixture
def lively_app(make_app):
    """Keep-alive every 20 ms (keepalive < presence_ttl); streams long enough never to time out here."""
    return make_app(keepalive_interval=0.02, stream_max_duration=120.0, presence_ttl=10.0)


def test_the_stream_ends_with_retry_after_its_time(make_app, open_stream):
    app = make_app(keepalive_interval=0.02, stream_max_duration=0.1, presence_ttl=10.0)
    client = checked_client(app)
    _, headers, _ = register_on(client)
    stream = open_stream(headers, app_client=client)
    assert "event: ready" in stream.frame()
    frames = stream.rest()
    assert frames[-1] == "retry: 2000", "tells EventSource when to come back"
    assert frames[-2] == 'event: end\ndata: {"reason":"duration"}', "a routine end: the client comes back at once"
    assert set(frames[:-2]) <= {": keep-alive"}


def test_an_idle_stream_sends_keep_alive_comments(lively_app, open_stream):
    client = checked_client(lively_app)
    _, headers, _ = register_on(client)
    stream = open_stream(headers, app_client=client)
    stream.frame()
    assert [stream.frame() for _ in range(3)] == [": keep-alive"] * 3


def test_keep_alives_do_not_refresh_presence(lively_app, open_stream):
    """Only the client's own requests prove it is alive: a frozen tab's stream still takes keep-alives."""
    client = checked_client(lively_app)
    peer, headers, _ = register_on(client)
    store = lively_app.extensions["signaling"].store
    stream = open_stream(headers, app_client=client)
    stream.frame()
    store.redis.pexpire(store.peer_keys(peer)[0], 60000)
    assert stream.frame() == ": keep-alive"
    assert store.redis.pttl(store.peer_keys(peer)[0]) <= 60000


def test_a_stream_whose_session_ended_says_so_and_stops(lively_app, open_stream):
    client = checked_client(lively_app)
    _, headers, _ = register_on(client)
    stream = open_stream(headers, app_client=client)
    stream.frame()
    assert client.delete("/v1/sessions/me", headers=headers).status_code == 204
    frames = stream.rest()
    assert frames[-1] == "event: session-ended\ndata: {}"
    assert "retry: 2000" not in frames, "no invitation to reconnect with a dead token"


def test_a_store_outage_mid_stream_ends_it_with_retry(open_stream, peers, fake_server, client):
    alice, bob, bob_h = peers
    stream = open_stream(bob_h)
    stream.frame()
    fake_server.connected = False
    assert stream.rest() == ["retry: 2000"]


def test_the_stream_releases_its_waiter_when_closed(open_stream, peers, state):
    _, _, bob_h = peers
    stream = open_stream(bob_h)
    stream.frame()
    assert state.hub.waiting == 1
    stream.close()
    assert state.hub.waiting == 0


def test_a_draining_server_ends_streams_with_retry(open_stream, peers, state):
    """On shutdown streams end at once, and EventSource reconnects to another instance."""
    _, _, bob_h = peers
    stream = open_stream(bob_h)
    stream.frame()
    state.draining.set()
    assert stream.rest() == ["retry: 2000"]


def test_a_busy_pool_does_not_end_an_open_stream(open_stream, peers, state, monkeypatch):
    """'No connection available' (every pooled connection in use) is a busy worker, not a Redis outage."""
    import redis as redis_module

    from signaling.envelope import envelope as make_envelope

    monkeypatch.setattr("signaling.delivery.BUSY_READ_RETRY", 0.05)
    _, bob, bob_h = peers
    real_read, failed = state.store.read, []

    def read(peer, sid, cursor, count=100, ack=True, opening=False):
        if not opening and not failed:
            failed.append(cursor)
            raise redis_module.ConnectionError("No connection available.")
        mail = real_read(peer, sid, cursor, count, ack=ack, opening=opening)
        if opening:  # after the stream's first read: too big for the wake-up, so it must be read
            state.store.deliver({bob: [make_envelope("note", "x" * 20000, "alice", "Alice")]}, "alice")
        return mail

    monkeypatch.setattr(state.store, "read", read)
    stream = open_stream(bob_h)
    assert "event: ready" in stream.frame()
    _, got = message(stream.frame())
    assert failed and got["data"] == "x" * 20000
