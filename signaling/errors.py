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


def problem_response(problem: Problem, path: str | None = None) -> Response:
    """The problem+json answer; ``path`` (the ``instance``) defaults to the current request's."""
    body = {"type": PROBLEM_BASE + problem.slug, "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.path if path is None else path
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


def http_error_response(error: HTTPException, path: str) -> Response:
    """Werkzeug's HTTP errors (404, 405, 413, ...) as problems."""
    slug = _SLUGS.get(error.code or 500, "http-error")
    detail = error.description if error.code != 404 else f"No such endpoint: {path}"
    problem = Problem(error.code or 500, slug, error.name, detail)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        problem.headers["Allow"] = ", ".join(error.valid_methods)
    return problem_response(problem, path)


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


def redis_error_response(error: RedisError, path: str) -> Response:
    """An outage is a 503 the client retries; any other Redis error is our bug: a 500 with its traceback."""
    metrics.redis_error(error)
    if not isinstance(error, UNAVAILABLE):
        log.error("redis error: %s", type(error).__name__, exc_info=error)
        return problem_response(Problem(500, "internal-error", "Internal server error"), path)
    log.warning("redis unavailable: %s", type(error).__name__)
    return problem_response(store_unavailable(), path)


def unexpected_response(error: Exception, path: str) -> Response:
    log.error("unhandled error", exc_info=error)
    return problem_response(Problem(500, "internal-error", "Internal server error"), path)


def error_response(error: Exception, path: str) -> Response:
    """What any error raised by a view becomes; the same mapping as the handlers :func:`init_app` registers."""
    if isinstance(error, Problem):
        return problem_response(error, path)
    if isinstance(error, HTTPException):
        return http_error_response(error, path)
    if isinstance(error, RedisError):
        return redis_error_response(error, path)
    return unexpected_response(error, path)


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(HTTPException, lambda error: http_error_response(error, request.path))
    app.register_error_handler(RedisError, lambda error: redis_error_response(error, request.path))
    app.register_error_handler(Exception, lambda error: unexpected_response(error, request.path))
