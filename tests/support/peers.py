"""The signaling API as a test or benchmark peer sees it, on top of the Python client.

Registration, authentication and URLs come from :mod:`signaling_client`; the
methods here return the raw :class:`requests.Response` so tests can check
statuses and headers, and every message carries a fresh client id (``cid``).

Every call takes an optional ``via`` (an :class:`AppServer` or a base URL) so
one peer can talk to several instances that share a Redis. A peer made with
``keep_alive=False`` sends ``Connection: close`` on every request and stream,
so a server being stopped never waits for its idle connections.
"""

from __future__ import annotations

import weakref
from urllib.parse import quote

import requests

from signaling_client import Client, SignalingError
from signaling_client.messages import new_cid

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
        self.client = Client(self.server, http=self.http, timeout=10)
        try:
            self.session = self.client.register(name, peer_id, listed=listed)
        except SignalingError as error:
            raise AssertionError(f"register {name!r}: {error.status} {error.problem}") from None
        self.id: str = self.session["peer_id"]
        self.name: str = self.session["name"]
        self.token: str = self.session["token"]
        self.cursor = "0"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _url(self, path: str, via) -> str:
        return (base_of(via) if via is not None else self.server) + path

    def _call(self, method: str, path: str, via=None, **kwargs) -> requests.Response:
        """One request as this peer (its current token), to its server or to ``via``."""
        base = base_of(via) if via is not None else None
        return self.client.request(method, path, base=base, headers=self.auth, **kwargs)

    def send(self, to: str, data, kind: str = "note", via=None, **extra) -> requests.Response:
        body = {"to": to, "type": kind, "data": data, "cid": new_cid(), **extra}
        return self._call("POST", "/v1/messages", via, json=body)

    def send_ok(self, to: str, data, kind: str = "note", via=None) -> str:
        """Send and insist on 202; returns the message id."""
        response = self.send(to, data, kind, via)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def send_room(self, room: str, data, kind: str = "note", via=None) -> requests.Response:
        body = {"room": room, "type": kind, "data": data, "cid": new_cid()}
        return self._call("POST", "/v1/messages", via, json=body)

    def poll(self, cursor: str | None = None, wait: float = 0, via=None, timeout: float | None = None) -> dict:
        """One long-poll (or short poll); advances :attr:`cursor`."""
        cursor = self.cursor if cursor is None else cursor
        params = {"cursor": cursor, "wait": wait}
        response = self._call("GET", "/v1/messages", via, params=params, timeout=timeout or wait + 10)
        assert response.status_code == 200, response.text
        body = response.json()
        self.cursor = body["cursor"]
        return body

    def join(self, room: str, via=None) -> requests.Response:
        return self._call("POST", f"/v1/rooms/{room}/members", via)

    def get(self, path: str, via=None) -> requests.Response:
        return self._call("GET", path, via)

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
