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

from flask import Blueprint, Response, request
from redis.exceptions import RedisError

from . import metrics
from . import validation as v
from .api import authenticate
from .state import Signaling, signaling

bp = Blueprint("delivery", __name__, url_prefix="/v1")
log = logging.getLogger(__name__)
READ_COUNT = 100


@bp.get("/messages")
def poll():
    """Long-poll (``wait`` > 0) or short poll: answers as soon as there is mail."""
    cursor = v.cursor(request.args.get("cursor"))
    state = signaling()
    wait = v.bounded_number(request.args.get("wait"), "wait", 0.0, state.settings.longpoll_max_wait)
    session = authenticate()
    if wait > 0:
        entries = _wait_for_mail(state, session.peer_id, session.sid, cursor, wait)
    else:
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
    session = authenticate()
    state = signaling()
    stream = _bounded(_stream(state, session.peer_id, session.sid, cursor), request.environ, state.settings)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(stream, mimetype="text/event-stream", headers=headers)


def _bounded(frames, environ: dict, settings):
    """Give every write of ``frames`` a deadline, so a reader that stops reading cannot hold the stream.

    gunicorn's gevent worker writes what the generator yields with a blocking
    ``sendall``; a client that never reads would park that write (and the
    frames it holds) forever, past STREAM_MAX_DURATION. A send timeout on the
    client socket, set before each frame is handed over, ends such a stream:
    the write raises, gunicorn drops the connection and closes this
    generator. The deadline is the shorter of SSE_WRITE_TIMEOUT and what is
    left of the stream's maximum duration.
    """
    sock = environ.get("gunicorn.socket")
    if sock is None or not hasattr(sock, "settimeout"):
        yield from frames
        return
    before = sock.gettimeout()
    end = time.monotonic() + settings.stream_max_duration + settings.sse_write_timeout
    try:
        for frame in frames:
            left = end - time.monotonic()
            sock.settimeout(max(0.05, min(settings.sse_write_timeout, left)))
            yield frame
    finally:
        frames.close()
        try:
            sock.settimeout(before)
        except OSError:
            pass


def _read_count(settings) -> int:
    """Entries per SSE read: at most SSE_BUFFER_BYTES of the largest envelopes held at once."""
    return max(1, min(READ_COUNT, settings.sse_buffer_bytes // settings.max_body_bytes))


def _stream(state: Signaling, peer: str, sid: str, cursor: str):
    """Yield SSE frames until the stream's time is up, the session ends or the server drains."""
    s = state.settings
    retry = f"retry: {s.sse_retry_ms}\n\n"
    deadline = time.monotonic() + s.stream_max_duration
    count = _read_count(s)
    waiter = state.hub.watch(peer)
    try:
        ready = json.dumps({"peer_id": peer, "cursor": cursor, "keepalive": s.keepalive_interval})
        yield f"retry: {s.sse_retry_ms}\nevent: ready\ndata: {ready}\n\n"
        ack = True
        unacknowledged = 0
        next_keepalive = time.monotonic() + s.keepalive_interval
        while True:
            entries = state.store.read(peer, cursor, count, ack=ack)
            ack = False
            if entries:
                cursor = entries[-1][0]
                metrics.delivered("sse", entries)
                yield from _frames(entries, s.sse_buffer_bytes)
                unacknowledged += len(entries)
                if unacknowledged >= max(1, s.mailbox_maxlen // 2):
                    # The client acknowledges with heartbeats ({"ack": id}) or, at
                    # the latest, with its next Last-Event-ID. If its mail still
                    # fills half the mailbox it is not acking: end the stream so
                    # the reconnect acknowledges, before senders see mailbox-full.
                    unacknowledged = state.store.unread(peer)
                    if unacknowledged >= max(1, s.mailbox_maxlen // 2):
                        yield retry
                        return
                if len(entries) == count:
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
            waiter.wait(min(next_keepalive, deadline) - now)
    except RedisError as error:
        metrics.redis_error(error)
        log.warning("stream ended: store unavailable (%s)", type(error).__name__)
        yield retry
    finally:
        state.hub.release(waiter)


def _frames(entries: list[tuple[str, str]], limit: int):
    """SSE frames for ``entries``, joined into writes of about ``limit`` bytes."""
    chunk: list[str] = []
    size = 0
    for stream_id, body in entries:
        frame = f"id: {stream_id}\ndata: {body}\n\n"
        chunk.append(frame)
        size += len(frame)
        if size >= limit:
            yield "".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk)
