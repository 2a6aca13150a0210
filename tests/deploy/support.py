"""A tiny signaling client for the deploy tests: sessions, sending, long-poll and an SSE reader."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import requests

from tests.support.processes import ROOT, VENV_BIN

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


class Peer:
    """One registered session against an app's base URL."""

    def __init__(self, base: str, name: str, **fields) -> None:
        self.base = base
        response = requests.post(f"{base}/v1/sessions", json={"name": name, **fields}, headers=CLOSE, timeout=10)
        assert response.status_code == 201, response.text
        self.session = response.json()
        self.peer_id = self.session["peer_id"]
        self.token = self.session["token"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **CLOSE}

    def get(self, path: str, base: str | None = None, **kwargs) -> requests.Response:
        return requests.get(f"{base or self.base}{path}", headers=self.auth, timeout=READ_TIMEOUT, **kwargs)

    def send(self, to: str, kind: str, data, base: str | None = None) -> str:
        response = requests.post(
            f"{base or self.base}/v1/messages",
            json={"to": to, "type": kind, "data": data},
            headers=self.auth,
            timeout=10,
        )
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def poll(self, cursor: str = "0", wait: float = 0, base: str | None = None) -> dict:
        response = self.get(f"/v1/messages?cursor={cursor}&wait={wait}", base=base)
        assert response.status_code == 200, response.text
        return response.json()

    def stream(self, base: str | None = None, last_event_id: str | None = None, token_in_query: bool = False):
        return SSE(self, base or self.base, last_event_id, token_in_query)


class SSE:
    """Reads an event stream frame by frame (each frame: a dict of its fields, comments under ``":"``)."""

    def __init__(self, peer: Peer, base: str, last_event_id: str | None, token_in_query: bool) -> None:
        headers = {"Accept": "text/event-stream", **CLOSE}
        url = f"{base}/v1/events"
        if token_in_query:
            url += f"?token={peer.token}"
        else:
            headers.update(peer.auth)
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.response = requests.get(url, headers=headers, stream=True, timeout=(5, READ_TIMEOUT))
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self._chunks = self.response.iter_content(chunk_size=None)
        self._buffer = ""
        self.eof = False

    def next_frame(self) -> dict | None:
        """The next frame, or None once the server has ended the stream."""
        while "\n\n" not in self._buffer:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.eof = True
                return None
            self._buffer += chunk.decode()
        raw, self._buffer = self._buffer.split("\n\n", 1)
        frame: dict = {}
        for line in raw.split("\n"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data" and "data" in frame:
                frame["data"] += "\n" + value
            elif name == "":
                frame.setdefault(":", []).append(value)
            else:
                frame[name] = value
        return frame

    def next_message(self) -> dict | None:
        """The next envelope (skipping keep-alives and ``ready``), or None at the end of the stream."""
        while True:
            frame = self.next_frame()
            if frame is None:
                return None
            if "id" in frame and "data" in frame:
                return json.loads(frame["data"])

    def close(self) -> None:
        self.response.close()


def round_trip(base: str, transports: tuple[str, ...] = ("sse", "longpoll")) -> None:
    """The signaling a call needs: register two peers, offer over SSE, answer over long-poll, ICE list."""
    alice = Peer(base, "Alice")
    bob = Peer(base, "Bob")
    assert tuple(alice.session["transports"]) == transports
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
    if "sse" in transports:
        stream = bob.stream()
        assert stream.next_frame()["event"] == "ready"
        sent = alice.send(bob.peer_id, "offer", offer)
        message = stream.next_message()
        stream.close()
    else:
        sent = alice.send(bob.peer_id, "offer", offer)
        message = bob.poll(wait=5)["messages"][0]
    assert message["id"] == sent
    assert (message["type"], message["data"], message["from"]) == ("offer", offer, alice.peer_id)

    answer_id = bob.send(alice.peer_id, "answer", {"type": "answer", "sdp": "v=0\r\n"})
    polled = alice.poll(wait=5)
    assert [m["id"] for m in polled["messages"]] == [answer_id]
    assert polled["cursor"] == answer_id
    assert alice.poll(cursor=polled["cursor"], wait=0)["messages"] == []

    ice = alice.get("/v1/ice-servers")
    assert ice.status_code == 200 and "ice_servers" in ice.json()


def env_names_in(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", text))


def read(path: str) -> str:
    return (Path(ROOT) / path).read_text()
