"""gunicorn's own answers to requests it cannot parse are problem+json (signaling/worker.py).

Raw sockets, because a well-behaved HTTP client would not send these.
"""

from __future__ import annotations

import json
import socket

import pytest


def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is; the status, headers and body of the answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


CASES = {
    "url over limit_request_line": (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "a header over limit_request_field_size": (
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        431,
    ),
    "over limit_request_fields headers": (
        b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n",
        431,
    ),
    "a malformed request line": (b"GET\r\n\r\n", 400),
    "a bad HTTP version": (b"GET / HTTP/9.x\r\nHost: x\r\n\r\n", 400),
}


@pytest.mark.parametrize("name", CASES)
def test_gunicorn_parse_errors_are_problems(app, name):
    request, status = CASES[name]
    got, headers, body = raw_exchange(app.port, request)
    assert got == status, (got, body[:200])
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["type"].startswith("urn:http-signaling:problem:")
    assert problem["title"]


def test_the_app_still_answers_after_them(app):
    raw_exchange(app.port, CASES["a malformed request line"][0])
    status, headers, body = raw_exchange(app.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body)["status"] == "ok"
