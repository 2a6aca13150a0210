"""Session tokens: who is calling, proven without storing the token anywhere.

A token is the peer id and the session id, signed with ``SECRET_KEY``
(itsdangerous). The signature proves the server issued it; the session id
must still match the live session in Redis, so leaving (or the session
expiring, or someone re-registering the id later) revokes it at once.

Checking the signature (base64, HMAC, JSON) was a measurable share of every
request, and a client sends the same token for its whole session; so a
token's parse result is remembered in-process. That is safe without any
revocation bound: whether a string carries a valid signature never changes
for a given key, and revocation is the session-id check, which still runs
against Redis on every request.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

CACHE_SIZE = 8192  # tokens whose parse result is remembered (about 150 bytes each)


class Tokens:
    """Issues and checks signed ``(peer id, session id)`` tokens, remembering good ones."""

    def __init__(self, secret_key: str, cache_size: int = CACHE_SIZE) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="signaling-session")
        self._cache: dict[str, tuple[str, str]] = {}
        self._cache_size = cache_size

    def issue(self, peer_id: str, sid: str) -> str:
        return self._serializer.dumps([peer_id, sid])

    def parse(self, token: str) -> tuple[str, str] | None:
        """``(peer_id, sid)`` from a token, or None if it is not one of ours."""
        found = self._cache.get(token)
        if found is None:
            found = self._verify(token)
            # Only good tokens are remembered: forged ones cannot push them out.
            if found is not None:
                if len(self._cache) >= self._cache_size:
                    self._cache.clear()  # crude but bounded; a miss costs one verification
                self._cache[token] = found
        return found

    def _verify(self, token: str) -> tuple[str, str] | None:
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            return None
        return value[0], value[1]
