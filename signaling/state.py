"""What one app instance holds: settings, the Redis clients, the store, the hub, tokens.

``REDIS_URL`` may name one Redis or any node of a Redis Cluster; which one is
asked at start-up (``INFO cluster``) unless ``REDIS_CLUSTER`` says.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlparse

import redis
from flask import current_app
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisError
from redis.retry import Retry

from .config import Settings
from .departures import Departures
from .hub import ClusterNodes, Hub, Locator, SingleNode
from .store import Store
from .tokens import Tokens

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Signaling:
    settings: Settings
    store: Store
    hub: Hub
    tokens: Tokens
    store_kind: str
    departures: Departures
    draining: threading.Event = field(default_factory=threading.Event)

    def drain(self) -> None:
        """Stop waiting, for a shutdown: SSE streams end with ``retry:``, long-polls answer now, /readyz turns 503.

        The one drain every server calls on SIGTERM (gunicorn.conf.py's
        workers, main.py under the Functions Framework). Messages are never
        at risk: they live in Redis, and clients resume from their cursor.
        """
        self.draining.set()
        self.hub.wake_all()


class SafeRetry(Retry):
    """Retries a command only when it provably never reached Redis.

    redis-py's ``Retry`` re-sends a command after any connection error or
    timeout, but a timeout after sending says nothing about whether Redis ran
    it: re-running ``SEND`` then delivers a message twice. Only a failed
    connect (refused, or timed out while connecting) is retried; anything
    else surfaces, and the app answers 503 + Retry-After.
    """

    def call_with_retry(
        self,
        do: Callable[[], T],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        return super().call_with_retry(do, fail, never_sent, with_failure_count)


def never_sent(error: BaseException) -> bool:
    """True for errors raised while connecting, before any command bytes left."""
    if not isinstance(error, RedisError):
        return True  # a raw socket error: only connect() lets those out
    text = str(error)
    return "connecting to" in text or text.startswith("Timeout connecting")


def _url(settings: Settings) -> str:
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set: the embedded store needs no Redis client")
    return settings.redis_url


def _options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 3, "health_check_interval": 30}
    if _url(settings).startswith("rediss://"):
        # Heroku Key-Value Store presents a self-signed certificate.
        options["ssl_cert_reqs"] = settings.redis_ssl_cert_reqs
    return options


def is_cluster(settings: Settings) -> bool:
    """REDIS_CLUSTER if set, else ask the node at REDIS_URL (``INFO cluster``)."""
    if settings.redis_cluster is not None:
        return settings.redis_cluster
    probe = redis.Redis.from_url(_url(settings), retry=SafeRetry(NoBackoff(), 3), **_options(settings))
    try:
        return int(probe.info("cluster").get("cluster_enabled", 0)) == 1
    except RedisError as error:
        # Starting anyway keeps an app that boots during a Redis blip alive
        # (it answers 503 until Redis is back), as on one Redis.
        log.warning(
            "cannot ask REDIS_URL whether it is a cluster (%s): assuming one Redis; set REDIS_CLUSTER=1 or 0",
            type(error).__name__,
        )
        return False
    finally:
        probe.close()


def redis_clients(settings: Settings) -> tuple[redis.Redis | RedisCluster, redis.Redis | Locator, str]:
    """A pooled client for commands and what the hub's pub/sub needs.

    Pools block with a small cap (per node on a cluster): requests borrow a
    connection for one round trip and give it back, so thousands of waiting
    clients share a handful of connections.
    """
    if settings.embedded:
        import fakeredis

        server = fakeredis.FakeServer()
        log.warning("REDIS_URL is not set: using the embedded in-process store (one process only)")
        return fakeredis.FakeRedis(server=server), fakeredis.FakeRedis(server=server), "embedded"
    options = _options(settings)
    # A failed connect is retried twice, quickly; more would turn an outage
    # into hung requests instead of a prompt 503.
    retry = SafeRetry(ExponentialWithJitterBackoff(cap=0.2, base=0.02), 2)
    # The hub handles pub/sub failures itself (reconnect, resubscribe, wake all).
    no_retry = Retry(NoBackoff(), 0)
    if is_cluster(settings):
        # The cluster client re-runs a command after any connection error or
        # timeout, so its own retries are off; MOVED/ASK redirections (the
        # command did not run) are still followed.
        cluster = RedisCluster.from_url(
            _url(settings),
            retry=Retry(NoBackoff(), 0),
            connection_pool_class=redis.BlockingConnectionPool,
            max_connections=settings.redis_max_connections,
            **options,
        )

        def connect(host: str, port: int) -> redis.Redis:
            return redis.Redis(host=host, port=port, retry=no_retry, **_node_options(settings, options))

        return cluster, ClusterNodes(cluster, connect), "cluster"
    pool = redis.BlockingConnectionPool.from_url(
        _url(settings), max_connections=settings.redis_max_connections, timeout=5, retry=retry, **options
    )
    commands = redis.Redis(connection_pool=pool)
    pubsub = redis.Redis.from_url(_url(settings), retry=no_retry, **options)
    return commands, pubsub, "redis"


def _node_options(settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """Connection options for a cluster node (password and TLS come from REDIS_URL)."""
    url = urlparse(_url(settings))
    extra = dict(options)
    if url.password:
        extra["password"] = unquote(url.password)
    if url.username:
        extra["username"] = unquote(url.username)
    if url.scheme == "rediss":
        extra["ssl"] = True
    return extra


def build(
    settings: Settings,
    client: redis.Redis | RedisCluster | None = None,
    pubsub_client: redis.Redis | Locator | None = None,
) -> Signaling:
    kind = "custom"
    if client is None:
        client, pubsub_client, kind = redis_clients(settings)
    store = Store(client, settings)
    pubsub = pubsub_client or client
    locator: Locator
    if isinstance(pubsub, ClusterNodes):
        locator = pubsub
    else:
        locator = SingleNode(cast(redis.Redis, pubsub), sharded=None)
    hub = Hub(None, store.channel, store.peer_of_channel, locator)
    secret = settings.secret_key or secrets.token_hex(32)
    return Signaling(settings, store, hub, Tokens(secret), kind, Departures(store.depart))


def signaling() -> Signaling:
    return cast(Signaling, current_app.extensions["signaling"])
