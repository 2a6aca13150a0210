"""A tiny HTTP client for the signaling API, as a test or benchmark peer sees it.

Every call takes an optional ``via`` (an :class:`AppServer` or a base URL) so
one peer can talk to several instances that share a Redis. A peer made with
``keep_alive=False`` sends ``Connection: close`` on every request and stream,
so a server being stopped never waits for its idle connections.
"""

from __future__ import annotations

import weakref
from urllib.parse import quote

import requests

from .sse import SSEStream


def base_of(server) -> str:
    return server if isinstance(server, str) else server.base


class Peer:
    """One registered session: its id, name and token, and the API calls it makes."""

    live: weakref.WeakSet[Peer] = weakref.WeakSet()

    @classmethod
    def hang_up_all(cls) -> None:
        """Close every peer's idle keep-alive connections (gunicorn waits for them when it stops)."""
        for peer in list(cls.live):
            peer.http.close()

    def __init__(
        self,
        server,
        name: str,
        peer_id: str | None = None,
        http: requests.Session | None = None,
        keep_alive: bool = True,
        listed: bool = False,
    ):
        self.server = base_of(server)
        self.http = http or requests.Session()
        self.keep_alive = keep_alive
        if not keep_alive:
            self.http.headers["Connection"] = "close"
        Peer.live.add(self)
        body: dict = {"name": name} if peer_id is None else {"name": name, "peer_id": peer_id}
        if listed:
            body["listed"] = True
        response = self.http.post(self.server + "/v1/sessions", json=body, timeout=10)
        if response.status_code != 201:
            raise AssertionError(f"register {name!r}: {response.status_code} {response.text}")
        self.session = response.json()
        self.id: str = self.session["peer_id"]
        self.name: str = self.session["name"]
        self.token: str = self.session["token"]
        self.cursor = "0"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _url(self, path: str, via) -> str:
        return (base_of(via) if via is not None else self.server) + path

    def send(self, to: str, data, kind: str = "note", via=None, **extra) -> requests.Response:
        body = {"to": to, "type": kind, "data": data, **extra}
        return self.http.post(self._url("/v1/messages", via), json=body, headers=self.auth, timeout=10)

    def send_ok(self, to: str, data, kind: str = "note", via=None) -> str:
        """Send and insist on 202; returns the message id."""
        response = self.send(to, data, kind, via)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def send_room(self, room: str, data, kind: str = "note", via=None) -> requests.Response:
        body = {"room": room, "type": kind, "data": data}
        return self.http.post(self._url("/v1/messages", via), json=body, headers=self.auth, timeout=10)

    def poll(self, cursor: str | None = None, wait: float = 0, via=None, timeout: float | None = None) -> dict:
        """One long-poll (or short poll); advances :attr:`cursor`."""
        cursor = self.cursor if cursor is None else cursor
        response = self.http.get(
            self._url("/v1/messages", via),
            params={"cursor": cursor, "wait": wait},
            headers=self.auth,
            timeout=timeout or wait + 10,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        self.cursor = body["cursor"]
        return body

    def join(self, room: str, via=None) -> requests.Response:
        return self.http.post(self._url(f"/v1/rooms/{room}/members", via), headers=self.auth, timeout=10)

    def get(self, path: str, via=None) -> requests.Response:
        return self.http.get(self._url(path, via), headers=self.auth, timeout=10)

    def sse(self, via=None, last_event_id: str | None = None, query_token: bool = True) -> SSEStream:
        """Open ``GET /v1/events`` the way EventSource does (token in the query string)."""
        headers = {} if query_token else dict(self.auth)
        if not self.keep_alive:
            headers["Connection"] = "close"
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        path = "/v1/events" + (f"?token={quote(self.token)}" if query_token else "")
        stream = SSEStream(base_of(via) if via is not None else self.server, path, headers)
        assert stream.status == 200, f"{stream.status} {bytes(stream.body)!r}"
        assert stream.headers.get("content-type", "").startswith("text/event-stream"), stream.headers
        return stream
