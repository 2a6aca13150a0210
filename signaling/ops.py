"""Operations endpoints: liveness at ``/healthz``, readiness at ``/readyz``, Prometheus at ``/metrics``.

They live together, apart from the API and the pages, because they answer
the platform (load balancer, orchestrator, scraper), not the clients, and
none of them needs a session.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from .errors import Problem
from .metrics import generate_latest
from .state import signaling
from .version import __version__

bp = Blueprint("ops", __name__)


def _draining() -> Problem:
    return Problem(503, "draining", "Shutting down", "This instance is shutting down", headers={"Retry-After": "1"})


@bp.get("/healthz")
def healthz() -> Response:
    """200 when the store answers a PING, 503 (problem+json) otherwise."""
    state = signaling()
    state.store.redis.ping()
    if state.draining.is_set():
        raise _draining()
    return jsonify(status="ok", version=__version__, store=state.store_kind, waiting=state.hub.waiting)


@bp.get("/readyz")
def readyz() -> Response:
    """Ready for traffic: this process is not shutting down and the store answers a PING."""
    state = signaling()
    if state.draining.is_set():
        raise _draining()
    state.store.redis.ping()
    return jsonify(status="ready", store=state.store_kind)


@bp.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
