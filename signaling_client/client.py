"""The session: register, send, heartbeat, leave; reading is in :mod:`signaling_client.receive`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import requests

from . import receive
from .errors import SessionEnded, SignalingError, raise_for_problem
from .messages import Message, Outgoing

RETRYABLE = (502, 503, 504)


class Client:
    """One peer's session with a signaling server.

    ``http`` may be a shared :class:`requests.Session` (connection reuse,
    custom headers). ``cursor`` is the id of the last message handed out; the
    readers resume after it, on any instance, after any reconnect.
    """

    def __init__(self, base_url: str, *, http: requests.Session | None = None, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.http = http or requests.Session()
        self.timeout = timeout
        self.session: dict[str, Any] = {}
        self.cursor = "0"

    # identity -----------------------------------------------------------
    @property
    def peer_id(self) -> str:
        return self.session["peer_id"]

    @property
    def name(self) -> str:
        return self.session["name"]

    @property
    def token(self) -> str:
        return self.session["token"]

    @property
    def heartbeat_interval(self) -> float:
        return float(self.session.get("heartbeat_interval", 15.0))

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.session else {}

    # plumbing -----------------------------------------------------------
    def request(self, method: str, path: str, *, base: str | None = None, **kwargs: Any) -> requests.Response:
        """One authenticated call as it is answered (no error raised); ``base`` targets another instance."""
        headers = {**self.auth, **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", self.timeout)
        return self.http.request(method, (base or self.base_url).rstrip("/") + path, headers=headers, **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Like :meth:`request`, but a problem answer raises :class:`SignalingError`."""
        response = self.request(method, path, **kwargs)
        raise_for_problem(response)
        return response

    # session ------------------------------------------------------------
    def register(self, name: str, peer_id: str | None = None, listed: bool = False) -> dict[str, Any]:
        """Start a session (``POST /v1/sessions``); ``listed`` puts it in the directory of ``GET /v1/peers``."""
        body: dict[str, Any] = {"name": name, "listed": listed}
        if peer_id is not None:
            body["peer_id"] = peer_id
        response = self.http.post(self.base_url + "/v1/sessions", json=body, timeout=self.timeout)
        raise_for_problem(response)
        self.session = response.json()
        self.cursor = "0"
        return self.session

    def heartbeat(self) -> None:
        """Stay present while reading over SSE (an open stream alone does not keep a session alive)."""
        self.call("POST", "/v1/sessions/me/heartbeat")

    def leave(self) -> None:
        """End the session at once (the token is revoked); a session already over is not an error."""
        try:
            self.call("DELETE", "/v1/sessions/me")
        except SessionEnded:
            pass
        self.session = {}

    def peers(self, **params: Any) -> dict[str, Any]:
        """One page of the directory (``limit``, ``after``, ``q``)."""
        return self.call("GET", "/v1/peers", params=params).json()

    def join(self, room: str) -> dict[str, Any]:
        return self.call("POST", f"/v1/rooms/{room}/members").json()

    def part(self, room: str) -> None:
        self.call("DELETE", f"/v1/rooms/{room}/members/me")

    # sending ------------------------------------------------------------
    def send(self, to: str | None, type: str, data: Any, *, room: str | None = None, retries: int = 2) -> dict:
        """Send one message; returns ``{id, recipients}``. Retries keep the message's ``cid``."""
        return self.post(Outgoing(type=type, data=data, to=to, room=room).body(), retries)

    def send_batch(self, messages: Iterable[Outgoing], retries: int = 2) -> dict:
        """Send several messages in one request, in order; returns ``{ids, recipients}``."""
        return self.post({"messages": [m.body() for m in messages]}, retries)

    def post(self, body: dict, retries: int = 2) -> dict:
        """POST /v1/messages, retrying lost answers and 502-504 with the same body (so the same cids)."""
        for attempt in range(retries + 1):
            try:
                response = self.request("POST", "/v1/messages", json=body)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == retries:
                    raise
            else:
                if response.status_code not in RETRYABLE or attempt == retries:
                    raise_for_problem(response)
                    return response.json()
            time.sleep(min(2.0, 0.2 * 2**attempt))
        raise AssertionError("unreachable")

    # reading ------------------------------------------------------------
    def poll(self, wait: float = 0.0) -> list[Message]:
        """One (long-)poll from :attr:`cursor`; advances it past what it returns."""
        return receive.poll_once(self, wait)

    def messages(self, transport: str | None = None, idle_timeout: float | None = None) -> Iterator[Message]:
        """Every message from :attr:`cursor` on, reconnecting and resuming as needed.

        ``transport`` is ``"sse"`` or ``"longpoll"``; by default the first one
        the server advertised at registration (App Engine: long-poll). While
        the caller holds a message, nothing is read and no heartbeat is sent:
        hand slow work to another thread. The iterator ends when no
        message came for ``idle_timeout`` seconds (never, if None) and raises
        :class:`SessionEnded` when the server ends the session.
        """
        transport = transport or (self.session.get("transports") or ["sse"])[0]
        if transport == "sse":
            return receive.sse_messages(self, idle_timeout)
        if transport == "longpoll":
            return receive.longpoll_messages(self, idle_timeout)
        raise ValueError(f"unknown transport {transport!r}")


__all__ = ["Client", "SignalingError", "SessionEnded"]
