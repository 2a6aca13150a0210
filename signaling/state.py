"""What one app instance holds: settings, the Redis clients, the store, the hub, tokens."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field

import redis
from flask import current_app
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.retry import Retry

from .auth import Tokens
from .config import Settings
from .departures import Departures
from .hub import Hub
from .store import Store

log = logging.getLogger(__name__)


@dataclass
class Signaling:
    settings: Settings
    store: Store
    hub: Hub
    tokens: Tokens
    store_kind: str
    departures: Departures
    draining: threading.Event = field(default_factory=threading.Event)


def redis_clients(settings: Settings) -> tuple[redis.Redis, redis.Redis, str]:
    """A pooled client for commands and a separate one for the hub's pub/sub.

    The pool is a blocking one with a small cap: requests borrow a connection
    for one round trip and give it back, so thousands of waiting clients share
    a handful of connections.
    """
    if settings.embedded:
        import fakeredis

        server = fakeredis.FakeServer()
        log.warning("REDIS_URL is not set: using the embedded in-process store (one process only)")
        return fakeredis.FakeRedis(server=server), fakeredis.FakeRedis(server=server), "embedded"
    options = {"socket_timeout": 5, "socket_connect_timeout": 3, "health_check_interval": 30}
    if settings.redis_url.startswith("rediss://"):
        # Heroku Key-Value Store presents a self-signed certificate.
        options["ssl_cert_reqs"] = settings.redis_ssl_cert_reqs
    # A couple of quick retries ride out a failover; more would turn an outage
    # into hung requests instead of a prompt 503.
    retry = Retry(ExponentialWithJitterBackoff(cap=0.2, base=0.02), 2)
    pool = redis.BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_max_connections, timeout=5, retry=retry, **options
    )
    commands = redis.Redis(connection_pool=pool)
    # The hub handles pub/sub failures itself (reconnect, resubscribe, wake all).
    pubsub = redis.Redis.from_url(settings.redis_url, retry=Retry(NoBackoff(), 0), **options)
    return commands, pubsub, "redis"


def build(settings: Settings, client: redis.Redis | None = None, pubsub_client: redis.Redis | None = None) -> Signaling:
    kind = "custom"
    if client is None:
        client, pubsub_client, kind = redis_clients(settings)
    store = Store(client, settings)
    hub = Hub(pubsub_client or client, store.channel, store.peer_of_channel)
    secret = settings.secret_key or secrets.token_hex(32)
    return Signaling(settings, store, hub, Tokens(secret), kind, Departures(store.depart))


def signaling() -> Signaling:
    return current_app.extensions["signaling"]
