"""RFC 9457 problem details for every error the API can answer.

Views raise :class:`Problem`; the handlers registered by :func:`init_app`
turn it, Werkzeug's HTTP errors and Redis outages into
``application/problem+json`` responses, so no input ever produces an HTML
error page or a bare 500.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from redis.exceptions import (
    ClusterDownError,
    ReadOnlyError,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from . import metrics

PROBLEM_BASE = "urn:http-signaling:problem:"
log = logging.getLogger(__name__)


class Problem(Exception):
    """An error answer: status, a stable machine-readable slug and a detail."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(problem: Problem) -> Response:
    body = {"type": PROBLEM_BASE + problem.slug, "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.path
    body.update(problem.extra)
    response = Response(json.dumps(body), problem.status, mimetype="application/problem+json")
    response.headers.update(problem.headers)
    return response


def bad_request(detail: str, **extra: object) -> Problem:
    return Problem(400, "invalid-request", "Invalid request", detail, None, **extra)


_SLUGS = {
    400: "invalid-request",
    401: "unauthorized",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
}


def _http_error(error: HTTPException) -> Response:
    slug = _SLUGS.get(error.code or 500, "http-error")
    detail = error.description if error.code != 404 else f"No such endpoint: {request.path}"
    problem = Problem(error.code or 500, slug, error.name, detail)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        problem.headers["Allow"] = ", ".join(error.valid_methods)
    return problem_response(problem)


# Redis could not be reached, or said "not now": retrying shortly can succeed.
# ConnectionError covers refused/reset/loading (BusyLoadingError) and a full
# pool; the other three are a cluster in failover (CLUSTERDOWN, TRYAGAIN, a
# demoted primary's READONLY), the gap that tests/integration/test_failover.py
# proves is answered 503. Any other RedisError (a script error, a wrong type,
# OOM) is a fault of ours or of the deployment: a retry cannot fix it.
UNAVAILABLE: tuple[type[RedisError], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,
    TryAgainError,
    ReadOnlyError,
)


def store_unavailable() -> Problem:
    """503 + Retry-After: the store did not answer and nothing was accepted."""
    return Problem(
        503,
        "store-unavailable",
        "Message store unavailable",
        "The message store did not answer; nothing was accepted. Retry shortly.",
        headers={"Retry-After": "2"},
    )


def _redis_error(error: RedisError) -> Response:
    """An outage is a 503 the client retries; any other Redis error is our bug: a 500 with its traceback."""
    metrics.redis_error(error)
    if not isinstance(error, UNAVAILABLE):
        log.error("redis error: %s", type(error).__name__, exc_info=error)
        return problem_response(Problem(500, "internal-error", "Internal server error"))
    log.warning("redis unavailable: %s", type(error).__name__)
    return problem_response(store_unavailable())


def _unexpected(error: Exception) -> Response:
    log.exception("unhandled error")
    return problem_response(Problem(500, "internal-error", "Internal server error"))


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RedisError, _redis_error)
    app.register_error_handler(Exception, _unexpected)
