"""Prometheus metrics: the counters, the per-request timing and the exposition text.

``/metrics`` itself is served by :mod:`signaling.ops`. Counting points elsewhere call the small functions below (``sent``,
``delivered``, ``redis_error``, ``waiting_changed``); everything about
Prometheus stays in this module.

Several gunicorn workers: each worker is its own process with its own
counters. When ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn.conf.py sets it
to a fresh temporary directory whenever it runs more than one worker),
prometheus-client keeps the values in files there and ``/metrics`` sums
every worker's, whichever worker answers the scrape.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from flask import Flask, Response, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest

REQUESTS = Counter(
    "signaling_http_requests_total",
    "HTTP requests answered, by route, method and status",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "signaling_http_request_duration_seconds",
    "Time to the response headers, by route (a long-poll includes its wait; an SSE stream only its start)",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30),
)
SENT = Counter("signaling_messages_sent_total", "Messages accepted into a recipient's mailbox (one per recipient)")
DELIVERED = Counter("signaling_messages_delivered_total", "Messages handed to a reader, by transport", ["transport"])
DELIVERY_DELAY = Histogram(
    "signaling_delivery_delay_seconds",
    "From messages entering the mailbox (their stream id's time) to being handed to a reader; "
    "one sample per millisecond of storing (a batch sent at once counts once)",
    ["transport"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WAITING = Gauge(
    "signaling_waiting_clients", "SSE streams and long-polls waiting for mail right now", multiprocess_mode="livesum"
)
HUB_RECONNECTS = Counter("signaling_hub_reconnects_total", "Times the hub's pub/sub connection was re-established")
REDIS_ERRORS = Counter("signaling_redis_errors_total", "Redis failures seen by requests, by exception", ["error"])


# counting points ------------------------------------------------------------
def sent(results: Mapping[str, list[str] | int]) -> None:
    """Count the mailbox entries a ``Store.deliver`` result accepted."""
    SENT.inc(sum(len(r) for r in results.values() if isinstance(r, list)))


def delivered(transport: str, entries: list[tuple[str, str]]) -> None:
    """Count messages handed out and how long each waited in its mailbox."""
    if not entries:
        return
    counter, histogram = _delivery_children(transport)
    counter.inc(len(entries))
    now_ms = time.time() * 1000
    last = ""
    for stream_id, _ in entries:
        stamp = stream_id.partition("-")[0]
        if stamp == last:
            continue  # stored in the same millisecond (one send's batch): one sample for them all
        last = stamp
        try:
            stamped = int(stamp)
        except ValueError:
            continue
        # Redis's clock stamps the id; a little skew against ours is clamped to zero.
        histogram.observe(max(0.0, (now_ms - stamped) / 1000))


_transport_children: dict[str, tuple[Counter, Histogram]] = {}


def _delivery_children(transport: str) -> tuple[Counter, Histogram]:
    found = _transport_children.get(transport)
    if found is None:
        found = _transport_children[transport] = (DELIVERED.labels(transport), DELIVERY_DELAY.labels(transport))
    return found


def redis_error(error: BaseException) -> None:
    REDIS_ERRORS.labels(type(error).__name__).inc()


def waiting_changed(delta: int) -> None:
    WAITING.inc(delta)


# wiring ---------------------------------------------------------------------
def init_app(app: Flask) -> None:
    """Count every request and its latency, and the hub's reconnects and waiters."""
    state = app.extensions["signaling"]
    previous = state.hub.on_reconnect

    def on_reconnect() -> None:
        HUB_RECONNECTS.inc()
        if previous is not None:
            previous()

    state.hub.on_reconnect = on_reconnect
    state.hub.on_wait_change = waiting_changed
    app.before_request(_start)
    app.after_request(_count)


def _start() -> None:
    g.metrics_started = time.perf_counter()


# prometheus-client's .labels() validates and locks on every call; the label
# sets are few (routes x methods x statuses), so each child is looked up once.
_request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def _children(endpoint: str, method: str, status: int) -> tuple[Counter, Histogram]:
    key = (endpoint, method, status)
    found = _request_children.get(key)
    if found is None:
        found = _request_children[key] = (
            REQUESTS.labels(endpoint, method, str(status)),
            LATENCY.labels(endpoint, method),
        )
    return found


def count_request(endpoint: str, method: str, status: int, started: float | None) -> None:
    """One answered request and, when its start is known, its time to the response."""
    counter, latency = _children(endpoint, method, status)
    counter.inc()
    if started is not None:
        latency.observe(time.perf_counter() - started)


def _count(response: Response) -> Response:
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else "unmatched"
    count_request(endpoint, request.method, response.status_code, g.get("metrics_started"))
    return response


def generate_latest() -> bytes:
    """The exposition text: this process's registry, or every worker's when multiprocess."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return _generate_latest(registry)
    return _generate_latest(REGISTRY)
