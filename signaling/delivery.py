"""Reading the mailbox: Server-Sent Events and long-polling.

Both follow the hub's rule: register the waiter (subscription confirmed),
then read, then wait; every wait is bounded and followed by a read, because
a wake-up is only a hint and the stream is the truth. No request holds a
Redis connection while it waits.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, current_app, request
from redis.exceptions import RedisError

from . import metrics
from . import validation as v
from .api import authenticate
from .errors import Problem
from .state import Signaling, signaling

bp = Blueprint("delivery", __name__, url_prefix="/v1")
log = logging.getLogger(__name__)
READ_COUNT = 100
BUSY_RETRY_AFTER = 5  # seconds a refused stream is told to wait (the client adds jitter)


class Slots:
    """How many SSE streams and long-polls this process holds; the rest are refused at once.

    A refused client gets 503 + Retry-After instead of sitting in the accept
    queue until it times out, and the worker keeps connections free for short
    requests (register, send, heartbeat), which are never counted here.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise Problem(
                503,
                "too-many-streams",
                "Too many waiting clients",
                "This instance holds as many streams as it can; retry after the given delay",
                headers={"Retry-After": str(BUSY_RETRY_AFTER)},
            )
        self.used += 1

    def give(self) -> None:
        self.used -= 1


@bp.record_once
def _make_slots(setup) -> None:
    setup.app.extensions["signaling.slots"] = Slots(setup.app.extensions["signaling"].settings.stream_limit)


def _slots() -> Slots:
    return current_app.extensions["signaling.slots"]


@bp.get("/messages")
def poll():
    """Long-poll (``wait`` > 0) or short poll: answers as soon as there is mail."""
    cursor = v.cursor(request.args.get("cursor"))
    state = signaling()
    wait = v.bounded_number(request.args.get("wait"), "wait", 0.0, state.settings.longpoll_max_wait)
    if wait > 0:
        slots = _slots()
        slots.take()
        try:
            session = authenticate()
            entries = _wait_for_mail(state, session.peer_id, session.sid, cursor, wait)
        finally:
            slots.give()
    else:
        session = authenticate()
        entries = state.store.read(session.peer_id, cursor, READ_COUNT)
    metrics.delivered("longpoll", entries)
    last = entries[-1][0] if entries else cursor
    body = '{"messages":[%s],"cursor":%s}' % (",".join(e for _, e in entries), json.dumps(last))
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})


def _wait_for_mail(state: Signaling, peer: str, sid: str, cursor: str, wait: float) -> list[tuple[str, str]]:
    s = state.settings
    deadline = time.monotonic() + wait
    # A wait may outlast PRESENCE_TTL (LONGPOLL_MAX_WAIT does not depend on it):
    # refresh the session before it could expire, as an SSE keep-alive does,
    # or a peer sitting in a long-poll drops out of the directory and its rooms.
    refresh_every = s.presence_ttl - s.heartbeat_interval
    next_refresh = time.monotonic() + refresh_every
    # Watch before the first read: that read then both acknowledges the cursor
    # and is the check-after-subscribe, one round trip instead of two. The
    # channel usually is still subscribed from the previous poll.
    waiter = state.hub.watch(peer)
    ack = True
    try:
        while True:
            entries = state.store.read(peer, cursor, READ_COUNT, ack=ack)
            ack = False
            now = time.monotonic()
            remaining = deadline - now
            if entries or remaining <= 0 or state.draining.is_set():
                return entries
            if now >= next_refresh:
                if state.store.touch(peer, sid) is None:
                    return entries  # the session ended meanwhile
                next_refresh = now + refresh_every
            waiter.wait(min(remaining, s.hub_recheck_interval, next_refresh - now))
    finally:
        state.hub.release(waiter)


@bp.get("/events")
def events():
    """The caller's mailbox as an event stream; ``Last-Event-ID`` resumes exactly."""
    resume = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    cursor = v.cursor(resume)
    slots = _slots()
    slots.take()
    try:
        session = authenticate()
        state = signaling()
        stream = _stream(state, session.peer_id, session.sid, cursor)
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        response = Response(stream, mimetype="text/event-stream", headers=headers)
    except BaseException:
        slots.give()
        raise
    # Runs when the server closes the response, even one never iterated.
    response.call_on_close(slots.give)
    return response


def _stream(state: Signaling, peer: str, sid: str, cursor: str):
    """Yield SSE frames until the stream's time is up, the session ends or the server drains."""
    s = state.settings
    retry = f"retry: {s.sse_retry_ms}\n\n"
    deadline = time.monotonic() + s.stream_max_duration
    waiter = state.hub.watch(peer)
    try:
        ready = json.dumps({"peer_id": peer, "cursor": cursor, "keepalive": s.keepalive_interval})
        yield f"retry: {s.sse_retry_ms}\nevent: ready\ndata: {ready}\n\n"
        ack = True
        unacknowledged = 0
        now = time.monotonic()
        next_keepalive = now + s.keepalive_interval
        check = True  # read the mailbox: first pass, a wake-up, or the backstop recheck
        while True:
            if check:
                entries = state.store.read(peer, cursor, READ_COUNT, ack=ack)
                ack = False
                next_check = time.monotonic() + s.hub_recheck_interval
                if entries:
                    cursor = entries[-1][0]
                    metrics.delivered("sse", entries)
                    # Everything pending goes out in one socket write.
                    yield "".join(f"id: {i}\ndata: {e}\n\n" for i, e in entries)
                    unacknowledged += len(entries)
                    if unacknowledged >= max(1, s.mailbox_maxlen // 2):
                        # Only the client's next Last-Event-ID acknowledges what this
                        # stream delivered; end it before that backlog fills the mailbox
                        # (senders would get 429 mailbox-full while the reader keeps up).
                        yield retry
                        return
                    if len(entries) == READ_COUNT:
                        continue
            now = time.monotonic()
            if now >= deadline or state.draining.is_set():
                yield retry
                return
            if now >= next_keepalive:
                if state.store.touch(peer, sid) is None:
                    yield "event: session-ended\ndata: {}\n\n"
                    return
                yield ": keep-alive\n\n"
                next_keepalive = now + s.keepalive_interval
            # A keep-alive alone does not read: the mailbox is read when the hub
            # wakes this stream, and every hub_recheck_interval as a backstop.
            woken = waiter.wait(min(next_keepalive, deadline, next_check) - now)
            check = woken or time.monotonic() >= next_check
    except RedisError as error:
        metrics.redis_error(error)
        log.warning("stream ended: store unavailable (%s)", type(error).__name__)
        yield retry
    finally:
        state.hub.release(waiter)
