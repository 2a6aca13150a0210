"""Who is calling: the bearer token of a request, checked against the live session.

The token itself (signed peer id and session id) is :mod:`signaling.tokens`;
this module reads it from the request and asks the store whether that
session is still live, so views get a :class:`Session` or a 401.
"""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Request

from .errors import Problem
from .sessions import Session
from .state import Signaling, signaling


def authenticate(cost: int = 0) -> Session:
    """The caller's live session (refreshing its presence), or a 401.

    ``cost`` charges the session's send-rate bucket (messages in a send).
    """
    return session_of(signaling(), bearer_token(request), cost)


def session_of(state: Signaling, token: str, cost: int = 0) -> Session:
    """:func:`authenticate` for a token already taken from the request."""
    peer, sid = signed_session(state, token)
    session = state.store.touch(peer, sid, cost)
    if session is None:
        raise ended()
    return session


def signed_session(state: Signaling, token: str) -> tuple[str, str]:
    """The (peer id, session id) a token was signed for, or a 401; whether it is still live is the store's to say.

    For the paths that check liveness inside their own script (TOUCH_SEND, TOUCH_READ).
    """
    parsed = state.tokens.parse(token)
    if parsed is None:
        raise unauthorized("The session token is not valid")
    return parsed


def ended() -> Problem:
    return unauthorized("The session has ended; register again")


def bearer_token(req: Request) -> str:
    """The token from ``Authorization: Bearer`` or, for EventSource, ``?token=``."""
    header = req.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = req.args.get("token", "")
    if token:
        return token
    raise unauthorized("Missing session token (Authorization: Bearer <token>)")


def unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})
