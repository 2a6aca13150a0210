"""signaling/worker.py's OneWriteResponse: the bytes gunicorn would send, in fewer socket writes."""

from __future__ import annotations

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.http.wsgi import Response

from signaling.worker import OneWriteResponse


class Sock:
    """Records each sendall (one system call each on a real socket)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))


class Req:
    def __init__(self, method: str = "POST") -> None:
        self.method, self.version = method, (1, 1)

    def should_close(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch):
    monkeypatch.setattr(util, "http_date", lambda *a: "Thu, 03 Dec 2026 19:00:00 GMT")


def play(cls, method: str, status: str, headers: list[tuple[str, str]], body: list[bytes]) -> list[bytes]:
    sock = Sock()
    response = cls(Req(method), sock, Config())
    response.start_response(status, headers)
    for item in body:
        response.write(item)
    response.close()
    return sock.writes


CASES = {
    "json with a length": ("POST", "202 Accepted", [("Content-Type", "application/json"), ("Content-Length", "9")],
                           [b'{"id":"1"}'[:9]]),
    "a stream (chunked), three events": ("GET", "200 OK", [("Content-Type", "text/event-stream")],
                                         [b"event: ready\n\n", b"data: 1\n\n", b"data: 2\n\n"]),
    "a stream whose app yields an empty string first": ("GET", "200 OK", [("Content-Type", "text/event-stream")],
                                                        [b"", b"data: 1\n\n"]),
    "204 without a body": ("DELETE", "204 No Content", [], []),
    "HEAD (the body is dropped)": ("HEAD", "200 OK", [("Content-Length", "5")], [b"hello"]),
    "304 with an ETag": ("GET", "304 Not Modified", [("ETag", '"7"')], [b""]),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_same_bytes_as_gunicorn(name):
    method, status, headers, body = CASES[name]
    assert b"".join(play(OneWriteResponse, method, status, headers, body)) == b"".join(
        play(Response, method, status, headers, body)
    )


def test_a_small_response_is_one_write():
    method, status, headers, body = CASES["json with a length"]
    assert len(play(Response, method, status, headers, body)) == 2  # what gunicorn does: head, then body
    (only,) = play(OneWriteResponse, method, status, headers, body)
    assert only.startswith(b"HTTP/1.1 202 Accepted\r\n") and only.endswith(b'\r\n\r\n{"id":"1"')


def test_a_stream_sends_its_head_with_the_first_event_and_each_event_at_once():
    method, status, headers, body = CASES["a stream (chunked), three events"]
    writes = play(OneWriteResponse, method, status, headers, body)
    assert len(writes) == 4  # head + event 1, event 2, event 3, the last chunk
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"E\r\nevent: ready\n\n\r\n")
    assert writes[1] == b"9\r\ndata: 1\n\n\r\n"


def test_the_head_is_on_the_wire_when_write_returns_even_without_body_bytes():
    """An SSE view may yield b"" to flush its head: the client must see the 200 then, not at the first event."""
    sock = Sock()
    response = OneWriteResponse(Req("GET"), sock, Config())
    response.start_response("200 OK", [("Content-Type", "text/event-stream")])
    response.write(b"")
    assert len(sock.writes) == 1 and sock.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")


def test_send_headers_outside_write_still_sends_at_once():
    """gunicorn's sendfile() calls send_headers() and then writes the file itself."""
    sock = Sock()
    response = OneWriteResponse(Req("GET"), sock, Config())
    response.start_response("200 OK", [("Content-Length", "3")])
    response.send_headers()
    assert len(sock.writes) == 1 and sock.writes[0].endswith(b"\r\n\r\n")
