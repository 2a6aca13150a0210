"""Reading the mailbox: an SSE reader and a long-poll reader with the same behaviour.

Both resume from ``client.cursor`` (``Last-Event-ID`` / ``?cursor=``), skip
anything at or before it, reconnect with a bounded backoff after a dropped
connection or a 5xx, and end with :class:`SessionEnded` when the session is
over. The SSE reader also sends the heartbeats an open stream needs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import requests

from .errors import SessionEnded, SignalingError, raise_for_problem
from .messages import Message, is_after
from .sse import EventStreamParser

if TYPE_CHECKING:
    from .client import Client

BACKOFF_MAX = 5.0


class _Clock:
    """Idle deadline (reset by each message) and reconnect backoff."""

    def __init__(self, idle_timeout: float | None):
        self.idle_timeout = idle_timeout
        self.failures = 0
        self.reset()

    def reset(self) -> None:
        self.deadline = None if self.idle_timeout is None else time.monotonic() + self.idle_timeout

    def left(self, cap: float) -> float:
        """Seconds to wait at most now: ``cap``, or less when the idle deadline is nearer."""
        return cap if self.deadline is None else max(0.0, min(cap, self.deadline - time.monotonic()))

    @property
    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def backoff(self, hint: float | None = None) -> None:
        self.failures += 1
        time.sleep(self.left(hint if hint is not None else min(BACKOFF_MAX, 0.1 * 2**self.failures)))


def _take(client: Client, message: Message) -> bool:
    """Advance the cursor; False for a message already handed out (a resume overlapping)."""
    if not is_after(message.id, client.cursor):
        return False
    client.cursor = message.id
    return True


def _transient(error: SignalingError) -> bool:
    return error.status >= 500 or error.type == "rate-limited"


def fetch(client: Client, wait: float = 0.0) -> list[Message]:
    """One (long-)poll from the cursor, which it leaves alone (see :func:`_take`)."""
    params = {"cursor": client.cursor, "wait": wait}
    response = client.request("GET", "/v1/messages", params=params, timeout=wait + client.timeout)
    raise_for_problem(response)
    return [Message.from_json(m) for m in response.json()["messages"]]


def poll_once(client: Client, wait: float = 0.0) -> list[Message]:
    """One (long-)poll; the cursor moves past everything it returns."""
    return [m for m in fetch(client, wait) if _take(client, m)]


def longpoll_messages(client: Client, idle_timeout: float | None) -> Iterator[Message]:
    clock = _Clock(idle_timeout)
    cap = float(client.session.get("longpoll_max_wait", 25.0))
    while not clock.expired:
        try:
            batch = fetch(client, clock.left(cap))
        except (requests.ConnectionError, requests.Timeout):
            clock.backoff()
            continue
        except SignalingError as error:
            if isinstance(error, SessionEnded) or not _transient(error):
                raise
            clock.backoff(error.retry_after)
            continue
        clock.failures = 0
        for message in batch:
            if _take(client, message):  # only what was handed out counts as read
                clock.reset()
                yield message


def sse_messages(client: Client, idle_timeout: float | None) -> Iterator[Message]:
    clock = _Clock(idle_timeout)
    next_heartbeat = time.monotonic() + client.heartbeat_interval
    while not clock.expired:
        retry_ms: int | None = None
        try:
            for kind, value in _stream(client, clock):
                if kind == "message":
                    clock.reset()
                    yield value
                elif kind == "retry":
                    retry_ms = value
                if time.monotonic() >= next_heartbeat:
                    client.heartbeat()
                    next_heartbeat = time.monotonic() + client.heartbeat_interval
            clock.failures = 0
            time.sleep(clock.left((retry_ms or 0) / 1000))  # the server ended the stream: reconnect after retry:
        except (requests.ConnectionError, requests.Timeout):
            clock.backoff()
        except SignalingError as error:
            if isinstance(error, SessionEnded) or not _transient(error):
                raise
            clock.backoff(error.retry_after)


def _stream(client: Client, clock: _Clock) -> Iterator[tuple[str, object]]:
    """One ``GET /v1/events`` from the cursor: yields ("message", Message), ("retry", ms) and ("alive", None)."""
    headers = {"Accept": "text/event-stream"}
    if client.cursor != "0":
        headers["Last-Event-ID"] = client.cursor
    # Keep-alives come well within PRESENCE_TTL; a quieter connection is dead. With an idle
    # deadline, the read gives up then instead (and the loop above notices it expired).
    quiet = max(0.5, clock.left(float(client.session.get("presence_ttl", 45.0))))
    response = client.request("GET", "/v1/events", headers=headers, stream=True, timeout=(client.timeout, quiet))
    with response:
        raise_for_problem(response)
        parser = EventStreamParser()
        for chunk in response.iter_content(chunk_size=None):
            for frame, event in parser.feed(chunk):
                if event is not None and event.event == "session-ended":
                    raise SessionEnded(401, {"type": "session-ended", "detail": "The server ended the session"})
                if event is not None and event.id is not None:
                    message = Message.from_json(event.data)
                    if _take(client, message):
                        yield "message", message
                elif "retry" in frame:
                    yield "retry", parser.retry
                else:
                    yield "alive", None
            if clock.expired:
                return
