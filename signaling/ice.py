"""STUN/TURN servers for RTCPeerConnection, with per-session TURN credentials.

TURN credentials follow the TURN REST scheme that coturn implements with
``use-auth-secret``/``static-auth-secret``: the username is
``<expiry unix time>:<peer id>`` and the password is
``base64(HMAC-SHA1(secret, username))``. The secret never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from .config import Settings


def turn_credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(settings: Settings, peer_id: str, now: float | None = None) -> list[dict[str, object]]:
    """The ``iceServers`` list for ``peer_id``, in RTCConfiguration's shape."""
    servers: list[dict[str, object]] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls and settings.turn_secret:
        expiry = int(now if now is not None else time.time()) + settings.turn_ttl
        username = f"{expiry}:{peer_id}"
        servers.append(
            {
                "urls": list(settings.turn_urls),
                "username": username,
                "credential": turn_credential(settings.turn_secret, username),
            }
        )
    return servers
