"""Settings, read from the environment in this one place.

Everything the server can be told comes through :func:`load`, which turns
environment variables into a frozen :class:`Settings`. A missing or malformed
value raises :class:`ConfigError` with one line that names the variable, so a
deploy with a typo stops with a readable message instead of a stack trace.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlparse


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for humans."""


@dataclass(frozen=True)
class Settings:
    redis_url: str | None = None
    redis_max_connections: int = 8
    redis_ssl_cert_reqs: str = "none"
    redis_cluster: bool | None = None  # None: detect (INFO cluster)
    redis_wait_replicas: int = 0
    redis_wait_timeout_ms: int = 100
    secret_key: str = ""
    key_prefix: str = "sig:"

    presence_ttl: float = 45.0
    heartbeat_interval: float = 15.0
    keepalive_interval: float = 30.0
    stream_max_duration: float = 300.0
    sse_retry_ms: int = 2000
    longpoll_max_wait: float = 25.0
    hub_recheck_interval: float = 30.0
    stream_limit: int = 12000
    departure_grace: float = 5.0

    mailbox_maxlen: int = 1000
    # One sender may hold at most this many unread messages in a mailbox, so
    # another sender (a friend's call offer) still gets in; 0 = half the mailbox.
    mailbox_sender_share: int = 0
    # A resend with the same client message id within this window is stored once.
    dedup_window: float = 300.0
    # An SSE write that cannot finish in this long ends the stream; a stream
    # reads at most this many bytes of mail at a time (what a stalled reader pins).
    sse_write_timeout: float = 10.0
    sse_buffer_bytes: int = 262144
    max_body_bytes: int = 65536
    max_batch: int = 100
    send_rate: float = 40.0
    send_burst: int = 200
    room_capacity: int = 6
    peers_page_max: int = 200
    register_rate: int = 60
    proxy_hops: int = 0

    transports: tuple[str, ...] = ("sse", "longpoll")
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    turn_ttl: int = 86400

    log_level: str = "INFO"
    log_format: str = "text"
    platform: str | None = None

    @property
    def embedded(self) -> bool:
        """True when no Redis URL is set and the in-process store is used."""
        return not self.redis_url


N = TypeVar("N", int, float)


def _parsed(env: Mapping[str, str], name: str, default: N, kind: Callable[[str], N], minimum: N) -> N:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {getattr(kind, '__name__', 'number')}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} must be a finite number")
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    """A decimal setting, e.g. seconds (``ConfigError`` if malformed, not finite or below ``minimum``)."""
    return _parsed(env, name, float(default), float, float(minimum))


def whole_number(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    """The one integer-setting parser (``ConfigError`` if malformed or below ``minimum``).

    gunicorn.conf.py (PORT, WEB_CONCURRENCY, ...) and main.py's dev server use it too.
    """
    return _parsed(env, name, default, int, minimum)


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _on_app_engine_standard(env: Mapping[str, str]) -> bool:
    """App Engine standard buffers responses, so SSE cannot stream there."""
    return bool(env.get("GAE_ENV") == "standard" or env.get("GAE_APPLICATION"))


# (variables that must all be set, platform), checked in this order. Cloud Functions
# sets K_SERVICE like Cloud Run plus FUNCTION_TARGET; FUNCTION_TARGET alone is the
# Functions Framework on a developer's machine (it sets that variable itself).
PLATFORM_VARIABLES = (
    (("GAE_ENV",), "App Engine"),
    (("GAE_APPLICATION",), "App Engine"),
    (("FUNCTION_TARGET", "K_SERVICE"), "Cloud Functions"),
    (("K_SERVICE",), "Cloud Run"),
    (("DYNO",), "Heroku"),
)


def platform(env: Mapping[str, str]) -> str | None:
    """The hosting platform these variables betray, or None on a developer's machine."""
    return next((name for names, name in PLATFORM_VARIABLES if all(env.get(n) for n in names)), None)


def _check_production(where: str, redis_url: str | None, secret_key: str) -> None:
    """On a platform, instances come and go: the embedded store and a made-up secret would split state.

    Each instance (and each worker) would keep its own mailboxes, and tokens
    signed by one would be refused by the next: 401 loops for every client.
    """
    if not redis_url:
        raise ConfigError(
            f"running on {where} needs REDIS_URL (the embedded store lives in one process and would "
            "give every instance its own mailboxes); see docs/DEPLOY.md"
        )
    if len(secret_key) < 16:
        raise ConfigError(f"running on {where} needs SECRET_KEY (16+ characters, the same on every instance)")


def _log_format(env: Mapping[str, str], where: str | None) -> str:
    raw = env.get("LOG_FORMAT", "").strip().lower()
    if not raw:
        return "json" if where else "text"
    if raw not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT={raw!r} must be text or json")
    return raw


def _behind_platform_proxy(env: Mapping[str, str]) -> bool:
    """App Engine, Cloud Run/Functions and Heroku put one proxy in front that sets X-Forwarded-For."""
    return any(env.get(name) for name in ("GAE_ENV", "GAE_APPLICATION", "K_SERVICE", "DYNO"))


def _check_redis_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"REDIS_URL must start with redis://, rediss:// or unix:// (got {parsed.scheme or 'no'} scheme)"
        )
    if parsed.scheme != "unix" and not parsed.hostname:
        raise ConfigError("REDIS_URL has no host")


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    redis_url = (env.get("REDIS_URL") or env.get("REDIS_TLS_URL") or "").strip() or None
    if redis_url:
        _check_redis_url(redis_url)
    secret_key = env.get("SECRET_KEY", "")
    where = platform(env)
    if where:
        _check_production(where, redis_url, secret_key)
    if redis_url and len(secret_key) < 16:
        raise ConfigError(
            "SECRET_KEY must be set (16+ characters) when REDIS_URL is used; "
            'generate one with: python -c "import secrets; print(secrets.token_hex(32))"'
        )

    presence_ttl = _number(env, "PRESENCE_TTL", 45.0, minimum=3)
    heartbeat = _number(env, "HEARTBEAT_INTERVAL", presence_ttl / 3, minimum=1)
    # Keep-alives only keep proxies from closing an idle stream (Heroku's router
    # and most load balancers close after 55-60 s of silence); at 10,000 idle
    # streams they are most of a worker's idle CPU (bench/README.md), so no more often than needed.
    keepalive = _number(env, "SSE_KEEPALIVE", min(30.0, presence_ttl * 2 / 3), minimum=0.1)
    if heartbeat >= presence_ttl or keepalive >= presence_ttl:
        raise ConfigError("HEARTBEAT_INTERVAL and SSE_KEEPALIVE must be shorter than PRESENCE_TTL")

    longpoll_max_wait = _number(env, "LONGPOLL_MAX_WAIT", min(25.0, presence_ttl * 2 / 3), minimum=0)
    if longpoll_max_wait >= presence_ttl:
        # Only requests refresh presence: a poll must end (and the next begin)
        # before the session it was made in expires.
        raise ConfigError("LONGPOLL_MAX_WAIT must be shorter than PRESENCE_TTL")

    transports = _list(env, "TRANSPORTS", ())
    if not transports:
        transports = ("longpoll",) if _on_app_engine_standard(env) else ("sse", "longpoll")
    unknown = set(transports) - {"sse", "longpoll"}
    if unknown:
        raise ConfigError(f"TRANSPORTS has unknown values: {', '.join(sorted(unknown))}")

    cert_reqs = env.get("REDIS_SSL_CERT_REQS", "none").lower()
    if cert_reqs not in ("none", "optional", "required"):
        raise ConfigError("REDIS_SSL_CERT_REQS must be none, optional or required")

    max_batch = whole_number(env, "MAX_BATCH", 100, 1)
    send_burst = whole_number(env, "SEND_BURST", 200, 1)
    mailbox_maxlen = whole_number(env, "MAILBOX_MAXLEN", 1000, 10)
    if max_batch > min(send_burst, mailbox_maxlen):
        # Such a batch is refused every time (429), and its sender retries forever.
        raise ConfigError("MAX_BATCH must not exceed SEND_BURST or MAILBOX_MAXLEN")
    sender_share = whole_number(env, "MAILBOX_SENDER_SHARE", 0, 0) or max(max_batch, mailbox_maxlen // 2)
    if not max_batch <= sender_share <= mailbox_maxlen:
        raise ConfigError("MAILBOX_SENDER_SHARE must be between MAX_BATCH and MAILBOX_MAXLEN")

    turn_urls = _list(env, "TURN_URLS", ())
    turn_secret = env.get("TURN_SECRET", "")
    if turn_urls and not turn_secret:
        raise ConfigError("TURN_URLS is set but TURN_SECRET is empty")

    cluster = env.get("REDIS_CLUSTER", "").strip().lower()
    if cluster not in ("", "0", "1", "true", "false", "auto"):
        raise ConfigError("REDIS_CLUSTER must be 1, 0 or auto")

    return Settings(
        redis_url=redis_url,
        redis_cluster=None if cluster in ("", "auto") else cluster in ("1", "true"),
        redis_wait_replicas=whole_number(env, "REDIS_WAIT_REPLICAS", 0, 0),
        redis_wait_timeout_ms=whole_number(env, "REDIS_WAIT_TIMEOUT_MS", 100, 1),
        redis_max_connections=whole_number(env, "REDIS_MAX_CONNECTIONS", 8, 2),
        redis_ssl_cert_reqs=cert_reqs,
        secret_key=secret_key,
        key_prefix=env.get("KEY_PREFIX", "sig:"),
        presence_ttl=presence_ttl,
        heartbeat_interval=heartbeat,
        keepalive_interval=keepalive,
        stream_max_duration=_number(env, "STREAM_MAX_DURATION", 300.0, minimum=1),
        sse_retry_ms=whole_number(env, "SSE_RETRY_MS", 2000, 100),
        longpoll_max_wait=longpoll_max_wait,
        hub_recheck_interval=_number(env, "HUB_RECHECK_INTERVAL", 30.0, minimum=0.05),
        stream_limit=whole_number(env, "STREAM_LIMIT", 12000, 1),
        departure_grace=_number(env, "DEPARTURE_GRACE", 5.0, minimum=0.1),
        mailbox_maxlen=mailbox_maxlen,
        mailbox_sender_share=sender_share,
        dedup_window=_number(env, "DEDUP_WINDOW", 300.0, minimum=1),
        sse_write_timeout=_number(env, "SSE_WRITE_TIMEOUT", 10.0, minimum=0.1),
        sse_buffer_bytes=whole_number(env, "SSE_BUFFER_BYTES", 262144, 1024),
        max_body_bytes=whole_number(env, "MAX_BODY_BYTES", 65536, 1024),
        max_batch=max_batch,
        send_rate=_number(env, "SEND_RATE", 40.0, minimum=0.1),
        send_burst=send_burst,
        room_capacity=whole_number(env, "ROOM_CAPACITY", 6, 2),
        peers_page_max=whole_number(env, "PEERS_PAGE_MAX", 200, 1),
        register_rate=whole_number(env, "REGISTER_RATE", 60, 0),
        proxy_hops=whole_number(env, "PROXY_HOPS", 1 if _behind_platform_proxy(env) else 0, 0),
        transports=transports,
        stun_urls=_list(env, "STUN_URLS", ("stun:stun.l.google.com:19302",)),
        turn_urls=turn_urls,
        turn_secret=turn_secret,
        turn_ttl=whole_number(env, "TURN_TTL", 86400, 60),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        log_format=_log_format(env, where),
        platform=where,
    )
