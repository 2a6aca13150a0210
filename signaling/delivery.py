"""Reading the mailbox: Server-Sent Events and long-polling.

Both follow the hub's rule: register the waiter (subscription confirmed),
then read, then wait; every wait is bounded and followed by a read, because
a wake-up is only a hint and the stream is the truth. No request holds a
Redis connection while it waits.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from werkzeug.wrappers import Request

from . import disconnect, metrics, notes
from . import validation as v
from .auth import authenticate, bearer_token, ended, signed_session
from .config import Settings
from .errors import Problem, problem_response
from .mailboxes import Mail
from .sessions import Session
from .state import Signaling, signaling
from .sweep import Sweep, Watched

bp = Blueprint("delivery", __name__, url_prefix="/v1")
log = logging.getLogger(__name__)
READ_COUNT = 100
BUSY_RETRY_AFTER = 5  # seconds a refused stream is told to wait (the client adds jitter)


def refusal() -> Problem:
    """What a stream or long-poll beyond STREAM_LIMIT is answered."""
    return Problem(
        503,
        "too-many-streams",
        "Too many waiting clients",
        "This instance holds as many streams as it can; retry after the given delay",
        headers={"Retry-After": str(BUSY_RETRY_AFTER)},
    )


class Slots:
    """How many SSE streams and long-polls this process holds; the rest are refused at once.

    A refused client gets 503 + Retry-After instead of sitting in the accept
    queue until it times out, and the worker keeps connections free for short
    requests (register, send, heartbeat), which are never counted here.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    @property
    def full(self) -> bool:
        return self.used >= self.limit

    def take(self) -> None:
        if self.full:
            raise refusal()
        self.used += 1

    def give(self) -> None:
        self.used -= 1


OPEN_QUEUE_SECONDS = 60.0  # how long a new stream may wait for its turn to open before a 503
NEVER = float("inf")
BUSY_READ_RETRY = 1.0  # seconds before an open stream retries a read the busy pool could not serve


class Openings:
    """Lets a bounded number of new streams run their opening round trips at once; the rest wait their turn.

    A burst of new streams (thousands of clients reconnecting after a
    restart) would otherwise all ask the Redis pool for a connection at the
    same moment: with REDIS_MAX_CONNECTIONS connections and a saturated
    worker, most waited past the pool's timeout and were answered 503
    store-unavailable although Redis was fine. Here at most ``width`` streams
    (4 per pooled connection: each holds one only for a round trip, and spends
    the rest of its opening subscribing and writing) authenticate and read at
    once, so none waits long in the pool; the others wait here, without a
    connection, up to OPEN_QUEUE_SECONDS, then get 503 too-many-streams +
    Retry-After.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.active = 0
        self._queue: deque[threading.Event] = deque()
        # Held only for a few operations, never while waiting: thousands of
        # waiters on one lock (a Semaphore's) stalled the gevent worker.
        self._lock = threading.Lock()

    def enter(self) -> Callable[[], None]:
        """Wait for a turn (first come, first served); returns the (idempotent) call that gives it back."""
        with self._lock:
            if self.active < self.width and not self._queue:
                self.active += 1
                return self._leaver()
            turn = threading.Event()
            self._queue.append(turn)
        if not turn.wait(OPEN_QUEUE_SECONDS):
            with self._lock:
                if not turn.is_set():  # not handed a turn meanwhile: give up the place in the queue
                    turn.set()  # a set entry in the queue is skipped by leave()
                    raise Problem(
                        503,
                        "too-many-streams",
                        "Too many streams opening",
                        "This instance is opening many streams at once; retry after the given delay",
                        headers={"Retry-After": str(BUSY_RETRY_AFTER)},
                    )
        return self._leaver()

    def _leaver(self) -> Callable[[], None]:
        done = False

        def leave() -> None:
            nonlocal done
            if done:
                return
            done = True
            with self._lock:
                while self._queue:
                    turn = self._queue.popleft()
                    if not turn.is_set():
                        turn.set()  # the turn passes on; ``active`` stays
                        return
                self.active -= 1

        return leave


class RefuseWhenFull:
    """WSGI front door: while every slot is taken, a new event stream is refused before Flask runs.

    When thousands of clients reconnect at once (2x the limit in
    bench/streams.py), each refusal through Flask (request context, routing,
    error handler, access log) cost the one worker CPU that short requests
    (register, send, heartbeat) then waited for. Here it is a check and a
    prepared answer, the same 503 problem+json + Retry-After that
    :meth:`Slots.take` gives, and no Redis work. (Not checked first: a
    malformed ``Last-Event-ID`` is then 503 rather than 400; the retry says 400.)
    """

    PATH = "/v1/events"

    def __init__(self, app: Callable[..., Any], slots: Slots) -> None:
        self.app = app
        self.slots = slots
        self.refused = 0
        # Slots.take's refusal, rendered once (problem_response needs no request given the path).
        answer = problem_response(refusal(), self.PATH)
        self._body = answer.get_data()
        self._headers = [(k, v) for k, v in answer.headers.items()]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.slots.full and environ.get("PATH_INFO") == self.PATH and environ.get("REQUEST_METHOD") == "GET":
            self.refused += 1
            start_response("503 SERVICE UNAVAILABLE", list(self._headers))
            return [self._body]
        return self.app(environ, start_response)


@bp.record_once
def _make_slots(setup: BlueprintSetupState) -> None:
    settings = setup.app.extensions["signaling"].settings
    slots = setup.app.extensions["signaling.slots"] = Slots(settings.stream_limit)
    app = cast(Flask, setup.app)
    front = app.extensions["signaling.front"] = RefuseWhenFull(app.wsgi_app, slots)
    app.wsgi_app = front  # type: ignore[method-assign]
    setup.app.extensions["signaling.openings"] = Openings(4 * settings.redis_max_connections)
    store = setup.app.extensions["signaling"].store
    setup.app.extensions["signaling.sweep"] = Sweep(
        store.redis, lambda peer: tuple(store.peer_keys(peer)[:2]), settings.hub_recheck_interval
    )


def _slots() -> Slots:
    return cast(Slots, current_app.extensions["signaling.slots"])


@bp.get("/messages")
def poll() -> Response:
    """Reached only without signaling.shortcut.Shortcut in front (which serves this route itself)."""
    return poll_messages(signaling(), _slots(), request)


def poll_messages(state: Signaling, slots: Slots, request: Request) -> Response:
    """Long-poll (``wait`` > 0) or short poll: answers as soon as there is mail.

    Needs no Flask context (:mod:`signaling.shortcut` calls it from WSGI, as
    each long-polled message costs one of these requests); errors are raised.
    """
    cursor = v.cursor(request.args.get("cursor"))
    wait = v.bounded_number(request.args.get("wait"), "wait", 0.0, state.settings.longpoll_max_wait)
    peer, sid = signed_session(state, bearer_token(request))
    waiting = wait > 0
    if waiting:
        slots.take()
    try:
        if waiting:
            mail = _long_poll(state, peer, sid, cursor, wait)
        else:
            mail = state.store.touch_read(peer, sid, cursor, READ_COUNT)[1]
    finally:
        if waiting:
            slots.give()
    if not mail.alive:
        raise ended()
    entries = mail.entries
    metrics.delivered("longpoll", entries)
    last = entries[-1][0] if entries else cursor
    body = '{"messages":[%s],"cursor":%s}' % (",".join(e for _, e in entries), json.dumps(last))
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})


def _long_poll(state: Signaling, peer: str, sid: str, cursor: str, wait: float) -> Mail:
    started = time.monotonic()
    mail = _wait_for_mail(state, peer, sid, cursor, wait)
    if mail.alive:
        # The next poll is due by this one's start + wait + the grace
        # (right after this answer, for a poll that waited it all out).
        grace = state.settings.departure_grace
        delay = max(grace, started + wait + grace - time.monotonic())
        state.departures.schedule(delay, peer, sid, mail.activity, mail.connection)
    return mail


def _wait_for_mail(state: Signaling, peer: str, sid: str, cursor: str, wait: float) -> Mail:
    s = state.settings
    deadline = time.monotonic() + wait
    # Watch before the first read: that one round trip (TOUCH_READ) then
    # authenticates the poll, acknowledges the cursor and is the
    # check-after-subscribe. The channel usually is still subscribed from the
    # previous poll. The poll itself was a request, so presence is fresh for
    # PRESENCE_TTL, which outlasts LONGPOLL_MAX_WAIT (config.py checks).
    waiter = state.hub.watch(peer)
    first, woken = True, False
    try:
        while True:
            pending = waiter.take()
            carried = notes.follow(pending, cursor, sid) if woken else None
            if carried is not None and carried.entries and not carried.need_read:
                # The wake-up carried exactly what a read would return (notes.py).
                return Mail(True, carried.activity, carried.connection, carried.entries)
            if first:
                mail = state.store.touch_read(peer, sid, cursor, READ_COUNT, ack=True, opening=True)[1]
                first = False
            else:
                mail = state.store.read(peer, sid, cursor, READ_COUNT, ack=False)
            remaining = deadline - time.monotonic()
            if mail.entries or not mail.alive or remaining <= 0 or state.draining.is_set():
                return mail
            woken = waiter.wait(min(remaining, s.hub_recheck_interval))
    finally:
        state.hub.release(waiter)


@bp.get("/events")
def events() -> Response:
    """The caller's mailbox as an event stream; ``Last-Event-ID`` resumes exactly."""
    # Both are checked (a malformed one is 400 even when the other wins): the header wins.
    query = v.cursor(request.args.get("last_event_id"), field="last_event_id")
    header = request.headers.get("Last-Event-ID")
    cursor = v.cursor(header, field="Last-Event-ID") if header else query
    slots = _slots()
    slots.take()
    opened = None
    try:
        opened = current_app.extensions["signaling.openings"].enter()
        session = _authenticate_opening()
        state = signaling()
        sweep = cast(Sweep, current_app.extensions["signaling.sweep"])
        frames = _stream(state, session.peer_id, session.sid, cursor, request.environ, opened, sweep)
        body = Writes(frames, _write_timer(request.environ), state.settings, (slots.give, opened))
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        # ``body`` yields bytes and closes itself: passed through as it is, without
        # werkzeug's encoding generator and closing wrapper (see Writes).
        return Response(body, mimetype="text/event-stream", headers=headers, direct_passthrough=True)
    except BaseException:
        if opened is not None:
            opened()
        slots.give()
        raise


OPEN_BUSY_ATTEMPTS = 3  # tries of an opening stream's token check while the pool is busy


def _authenticate_opening() -> Session:
    """:func:`authenticate`, trying again shortly while every pooled connection is in use.

    When thousands of streams open at once on a saturated worker, a few
    waited past the pool's timeout for a connection (10,000 at once: 21
    answered 503 store-unavailable although Redis was fine). Nothing was sent
    to Redis then, so trying again is safe; a real failure is not retried.
    """
    for attempt in range(OPEN_BUSY_ATTEMPTS):
        try:
            return authenticate()
        except RedisConnectionError as error:
            if not _pool_busy(error) or attempt == OPEN_BUSY_ATTEMPTS - 1:
                raise
            time.sleep(BUSY_READ_RETRY)
    raise AssertionError("unreachable")


class Writes:
    """The event stream's body: ``frames`` as bytes, each write with a deadline; closing runs ``on_close``.

    Deadline: gunicorn's gevent worker writes what it gets with a blocking
    ``sendall``; a client that never reads would park that write (and the
    frames it holds) forever, past STREAM_MAX_DURATION. A gevent timer armed
    as a frame is handed over and cancelled when the next one is asked for
    covers exactly that write: if it fires, the write raises a socket
    timeout, gunicorn drops the connection and closes this body. The
    deadline is the shorter of SSE_WRITE_TIMEOUT and what is left of the
    stream's maximum duration. (A timer, not a socket timeout, which would
    stay on a kept-alive connection after the stream.)

    An iterator object rather than a generator wrapped by werkzeug's encoder
    and ClosingIterator: every idle stream's greenlet keeps its stack while
    it waits, and each of those levels was part of it. ``close`` runs when
    the server closes the response, even one never iterated, so the stream's
    slot and opening turn always come back.
    """

    __slots__ = ("_frames", "_timer", "_deadline", "_end", "_timeout", "_on_close")

    def __init__(
        self,
        frames: Generator[str, None, None],
        timer: Callable[..., Any] | None,
        settings: Settings,
        on_close: tuple[Callable[[], None], ...],
    ) -> None:
        self._frames = frames
        self._timer = timer
        self._deadline: Any = None
        self._timeout = settings.sse_write_timeout
        self._end = time.monotonic() + settings.stream_max_duration + settings.sse_write_timeout
        self._on_close = on_close

    def __iter__(self) -> Writes:
        return self

    def __next__(self) -> bytes:
        self._disarm()  # the previous frame was written
        frame = next(self._frames)
        if self._timer is not None:
            left = max(0.05, min(self._timeout, self._end - time.monotonic()))
            self._deadline = self._timer(left, TimeoutError("SSE write timed out"))
        return frame.encode()

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def close(self) -> None:
        self._disarm()
        try:
            self._frames.close()
        finally:
            for call in self._on_close:
                call()


def _write_timer(environ: dict[str, Any]) -> Callable[..., Any] | None:
    """``gevent.Timeout.start_new`` when this request runs in a gevent worker, else None."""
    if "gunicorn.socket" not in environ and "signaling.socket" not in environ:
        return None
    try:
        from gevent import Timeout, monkey
    except ImportError:
        return None
    return Timeout.start_new if monkey.is_module_patched("socket") else None


def _read_count(settings: Settings) -> int:
    """Entries per SSE read: at most SSE_BUFFER_BYTES of the largest envelopes held at once."""
    return max(1, min(READ_COUNT, settings.sse_buffer_bytes // settings.max_body_bytes))


def _stream(
    state: Signaling,
    peer: str,
    sid: str,
    cursor: str,
    environ: dict[str, Any],
    opened: Callable[[], None],
    sweep: Sweep,
) -> Generator[str, None, None]:
    """Yield SSE frames until the stream's time is up, the session ends, the client hangs up or the server drains.

    The stream does not keep the session alive: the client's own requests
    (heartbeats) do, so a frozen or vanished client leaves. When the stream
    ends for any reason but the session's end or a drain, the peer's
    departure is checked a grace period later (signaling/departures.py).
    ``opened`` gives back the stream's turn to open (:class:`Openings`)
    once its first read is done. After that read the stream does not re-read
    by itself: ``sweep`` wakes it if mail was stored and its wake-up lost.
    """
    s = state.settings
    retry = f"retry: {s.sse_retry_ms}\n\n"
    deadline = time.monotonic() + s.stream_max_duration
    count = _read_count(s)
    waiter = state.hub.watch(peer)
    hangup = disconnect.watch(environ, waiter.wake)
    watched: Watched | None = None
    ended = False
    try:
        ready = json.dumps({"peer_id": peer, "cursor": cursor, "keepalive": s.keepalive_interval})
        yield f"retry: {s.sse_retry_ms}\nevent: ready\ndata: {ready}\n\n"
        ack, opening = True, True
        unacknowledged = 0
        next_keepalive = time.monotonic() + s.keepalive_interval
        retry_read = NEVER  # set only while a read waits for a busy pool
        woken = True
        while True:
            if hangup is not None and hangup.hung_up:
                return
            due = time.monotonic() >= retry_read
            if woken or due:
                pending = waiter.take()
                if opening or due:
                    carried = notes.Carried(cursor, need_read=True)
                else:
                    carried = notes.follow(pending, cursor, sid)
                entries, more = carried.entries, False
                try:
                    mail = (
                        state.store.read(peer, sid, carried.cursor, count, ack=ack, opening=opening)
                        if carried.need_read
                        else None
                    )
                except RedisConnectionError as error:
                    if opening or not _pool_busy(error):
                        raise
                    # Every pooled connection is in use (a busy worker), Redis is fine:
                    # keep the stream and read again shortly instead of ending it.
                    mail, retry_read = None, time.monotonic() + BUSY_READ_RETRY
                if mail is not None:
                    if opening:
                        opened()
                        # From here the process-wide sweep (signaling/sweep.py) stands in
                        # for a periodic read: it wakes this stream if mail waits unnoticed.
                        watched = Watched(peer, sid, cursor, waiter.wake)
                        sweep.add(watched)
                    ack = opening = False
                    retry_read = NEVER
                    if not mail.alive:
                        ended = True
                        yield "event: session-ended\ndata: {}\n\n"
                        return
                    entries = entries + mail.entries if entries else mail.entries
                    more = len(mail.entries) == count
                if entries:
                    cursor = entries[-1][0]
                    if watched is not None:
                        watched.cursor = cursor
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
                            yield _routine_end("unacknowledged", retry)
                            return
                    if more:
                        continue
            now = time.monotonic()
            if state.draining.is_set():
                yield retry  # no invitation to come back at once: this instance is going away
                return
            if now >= deadline:
                yield _routine_end("duration", retry)
                return
            if now >= next_keepalive:
                # Keeps proxies from closing an idle stream; it does not refresh presence.
                yield ": keep-alive\n\n"
                next_keepalive = now + s.keepalive_interval
            woken = waiter.wait(min(next_keepalive, deadline, retry_read) - now)
    except RedisError as error:
        metrics.redis_error(error)
        log.warning("stream ended: store unavailable (%s)", type(error).__name__)
        yield retry
    finally:
        opened()
        if watched is not None:
            sweep.remove(watched)
        if hangup is not None:
            hangup.stop()
        state.hub.release(waiter)

        if not ended and not state.draining.is_set():
            _schedule_departure(state, peer, sid)


def _pool_busy(error: RedisConnectionError) -> bool:
    """Whether the error is redis-py's pool timing out with every connection in use (not Redis failing)."""
    return str(error) == "No connection available."


def _routine_end(reason: str, retry: str) -> str:
    """The last write of a stream that ends routinely: ``event: end``, then the ``retry:`` frame.

    The browser client reconnects at once on ``end`` (from its cursor, which
    acknowledges what it got) instead of probing and backing off as after a
    failure; EventSource without a listener for it just honours ``retry:``.
    """
    return f'event: end\ndata: {{"reason":"{reason}"}}\n\n{retry}'


def _schedule_departure(state: Signaling, peer: str, sid: str) -> None:
    """Mark the session now; if nothing changes it within the grace, the peer has gone."""
    try:
        activity, connection = state.store.marks(peer)
    except RedisError:
        return  # the presence TTL ends it instead
    state.departures.schedule(state.settings.departure_grace, peer, sid, activity, connection)


def _frames(entries: list[tuple[str, str]], limit: int) -> Iterator[str]:
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
