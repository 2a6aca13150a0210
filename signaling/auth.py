"""Session tokens: who is calling, proven without storing the token anywhere.

A token is the peer id and the session id, signed with ``SECRET_KEY``
(itsdangerous). The signature proves the server issued it; the session id
must still match the live session in Redis, so leaving (or the session
expiring, or someone re-registering the id later) revokes it at once.
"""

from __future__ import annotations

from flask import Request
from itsdangerous import BadSignature, URLSafeSerializer

from .errors import Problem


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="signaling-session")

    def issue(self, peer_id: str, sid: str) -> str:
        return self._serializer.dumps([peer_id, sid])

    def parse(self, token: str) -> tuple[str, str] | None:
        """``(peer_id, sid)`` from a token, or None if it is not one of ours."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            return None
        return value[0], value[1]


def bearer_token(request: Request) -> str:
    """The token from ``Authorization: Bearer`` or, for EventSource, ``?token=``."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = request.args.get("token", "")
    if token:
        return token
    raise unauthorized("Missing session token (Authorization: Bearer <token>)")


def unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})
