"""Two apps that do no work, served by the same gunicorn worker as the product: the HTTP floor.

``bench/relay.py`` posts the same single messages to them as to the server,
so the floor of its own run says what any request costs on this machine
before the app does anything: gunicorn's parsing, gevent, two system calls
(read the request, write the answer).

* ``noop``: plain WSGI; reads the body and answers ``202 {"id": "0-1"}``.
* ``flask_noop``: the same as a Flask view with ``request.get_json()`` and
  ``jsonify``, no hooks, no Redis: what Flask itself adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask, jsonify, request

ANSWER = b'{"id":"0-1","recipients":1}'


def noop(environ: dict, start_response: Callable) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    status = "202 Accepted" if environ["REQUEST_METHOD"] == "POST" else "200 OK"
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(ANSWER)))])
    return [ANSWER]


flask_noop = Flask(__name__)


@flask_noop.post("/v1/messages")
def _send():
    request.get_json()
    return jsonify(id="0-1", recipients=1), 202


@flask_noop.get("/healthz")
def _health():
    return jsonify(status="ok")
