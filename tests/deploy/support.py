"""Deploy-test helpers: platform command lines and a signaling round trip on the shared test client."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from tests.support.peers import Peer
from tests.support.processes import ROOT, VENV_BIN
from tests.support.sse import SSEStream

READ_TIMEOUT = 20
# An idle keep-alive connection holds a stopping gunicorn worker until GRACEFUL_TIMEOUT;
# tests that stop servers should not wait for that, so every request closes its connection.
CLOSE = {"Connection": "close"}


def procfile_command(process: str = "web") -> str:
    """The command line the Procfile gives ``process`` (what Heroku/buildpacks run with ``bash -c``)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() == process:
            return command.strip()
    raise AssertionError(f"Procfile has no {process!r} process")


def shell_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for running a platform command line: the venv's scripts first on PATH, like a deployed app."""
    return {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(extra or {})}


def split(command: str) -> list[str]:
    return shlex.split(command)


def register(server, name: str) -> Peer:
    """A new session whose requests and streams all close their connections (see ``CLOSE``)."""
    return Peer(server, name, keep_alive=False)


def frames_until_end(stream: SSEStream) -> list[dict]:
    """Every frame left on ``stream`` until the server ends it (TimeoutError if it does not)."""
    frames = []
    while (frame := stream.next_frame(READ_TIMEOUT)) is not None:
        frames.append(frame)
    return frames


def round_trip(base: str, transports: tuple[str, ...] = ("sse", "longpoll")) -> None:
    """The signaling a call needs: register two peers, offer over SSE, answer over long-poll, ICE list."""
    alice = register(base, "Alice")
    bob = register(base, "Bob")
    assert tuple(alice.session["transports"]) == transports
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
    if "sse" in transports:
        stream = bob.sse(query_token=False)
        assert stream.next_frame()["event"] == "ready"
        sent = alice.send_ok(bob.id, offer, "offer")
        message = stream.next_message(READ_TIMEOUT).json()
        stream.close()
    else:
        sent = alice.send_ok(bob.id, offer, "offer")
        message = bob.poll(cursor="0", wait=5)["messages"][0]
    assert message["id"] == sent
    assert (message["type"], message["data"], message["from"]) == ("offer", offer, alice.id)

    answer_id = bob.send_ok(alice.id, {"type": "answer", "sdp": "v=0\r\n"}, "answer")
    polled = alice.poll(cursor="0", wait=5)
    assert [m["id"] for m in polled["messages"]] == [answer_id]
    assert polled["cursor"] == answer_id
    assert alice.poll(cursor=polled["cursor"], wait=0)["messages"] == []

    ice = alice.get("/v1/ice-servers")
    assert ice.status_code == 200 and "ice_servers" in ice.json()


def env_names_in(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", text))


def read(path: str) -> str:
    return (Path(ROOT) / path).read_text()
