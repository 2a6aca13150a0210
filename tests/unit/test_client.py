"""signaling_client without a signaling server: ids, errors, the event-stream parser, retries keep the cid."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from signaling_client import Client, Outgoing, SessionEnded, SignalingError
from signaling_client.messages import Message, is_after
from signaling_client.sse import EventStreamParser


def test_every_outgoing_message_gets_its_own_cid():
    a, b = Outgoing("note", 1, to="p1"), Outgoing("note", 1, to="p1")
    assert a.cid != b.cid and len(a.cid) >= 20
    assert a.body() == {"type": "note", "data": 1, "cid": a.cid, "to": "p1"}
    assert Outgoing("chat", "hi", room="r").body()["room"] == "r"
    with pytest.raises(ValueError):
        Outgoing("note", 1).body()


def test_stream_ids_order_numerically():
    assert is_after("10-0", "9-5") and is_after("5-10", "5-9") and is_after("1-0", "0")
    assert not is_after("5-1", "5-1")


def test_message_from_the_envelope():
    m = Message.from_json('{"id":"5-1","ts":5,"type":"offer","data":{"sdp":"x"},"from":"p1","from_name":"A"}')
    assert (m.id, m.type, m.data, m.sender, m.sender_name, m.ts, m.room) == (
        "5-1",
        "offer",
        {"sdp": "x"},
        "p1",
        "A",
        5,
        None,
    )


def test_parser_handles_split_chunks_comments_and_retry():
    parser = EventStreamParser()
    out = parser.feed(b"retry: 2000\nevent: ready\nda")
    assert out == []
    out += parser.feed(b"ta: {}\n\n: keep-alive\n\nid: 1-0\ndata: a\r\ndata: b\n\nretry: 500\n\n")
    frames = [f for f, _ in out]
    events = [e for _, e in out]
    assert events[0].event == "ready" and events[0].retry == 2000
    assert frames[1] == {":": ["keep-alive"]} and events[1] is None
    assert (events[2].id, events[2].data) == ("1-0", "a\nb")
    assert frames[3] == {"retry": "500"} and events[3] is None and parser.retry == 500
    assert parser.comments == 1


class _Flaky(BaseHTTPRequestHandler):
    """Answers the first POST with 503, the next with 202; remembers the bodies."""

    bodies: list[dict] = []
    answers: list[tuple[int, dict]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        status, body = type(self).answers.pop(0)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    _Flaky.bodies, _Flaky.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = Client(f"http://127.0.0.1:{server.server_port}", timeout=5)
    client.session = {"peer_id": "me", "name": "Me", "token": "t"}
    yield client, _Flaky
    server.shutdown()
    server.server_close()


def test_a_retried_send_repeats_the_same_cid(flaky):
    client, handler = flaky
    handler.answers = [(503, {"type": "urn:x:problem:store-unavailable"}), (202, {"id": "1-0", "recipients": {}})]
    assert client.send("p2", "note", {"n": 1}) == {"id": "1-0", "recipients": {}}
    first, second = handler.bodies
    assert first == second and first["cid"]


def test_problems_become_typed_errors(flaky):
    client, handler = flaky
    handler.answers = [(404, {"type": "urn:http-signaling:problem:peer-offline", "detail": "gone"})]
    with pytest.raises(SignalingError) as error:
        client.send("p2", "note", 1, retries=0)
    assert (error.value.status, error.value.type, error.value.detail) == (404, "peer-offline", "gone")
    handler.answers = [(401, {"type": "urn:http-signaling:problem:unauthorized"})]
    with pytest.raises(SessionEnded):
        client.send("p2", "note", 1)
    assert len(handler.bodies) == 2  # neither was retried
