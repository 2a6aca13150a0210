"""Integration fixtures: real redis-server, real ``gunicorn -k gevent``, over loopback HTTP."""

from __future__ import annotations

import pytest
import requests

from tests.support.cluster import redis_cluster  # noqa: F401 - a session fixture for these tests
from tests.support.peers import Peer
from tests.support.processes import RedisServer


@pytest.fixture(params=["redis", "cluster"])
def backend(request) -> str:
    """Modules that use this run each test on one redis-server and on the 6-node cluster.

    The cluster is started once per session; tests keep apart by key prefix.
    """
    if request.param == "cluster":
        request.getfixturevalue("redis_cluster")
    return request.param


@pytest.fixture
def app_server_factory(app_server_factory, request):
    """The shared factory, with a short GRACEFUL_TIMEOUT unless a test sets its own.

    Stopping a server waits for idle keep-alive connections up to that long,
    and urllib3 can keep one open after its session is closed (after an
    error answer); tests of shutdown itself set a long one. In a test that
    uses ``backend``, REDIS_URL points at the cluster when it is "cluster".
    """
    cluster_env = {}
    if "backend" in request.fixturenames and request.getfixturevalue("backend") == "cluster":
        cluster_env = {"REDIS_URL": request.getfixturevalue("redis_cluster").url}

    def start(env: dict[str, str] | None = None, **kwargs):
        server = app_server_factory({"GRACEFUL_TIMEOUT": "2", **cluster_env, **(env or {})}, **kwargs)
        if cluster_env and "REDIS_URL" not in (env or {}):
            assert requests.get(server.url("/healthz"), timeout=5).json()["store"] == "cluster"
        return server

    return start


@pytest.fixture(autouse=True)
def _hang_up(app_server_factory):
    """Before the test's servers stop, clients hang up, so gunicorn need not wait out idle keep-alives."""
    yield
    Peer.hang_up_all()


@pytest.fixture
def app(app_server_factory):
    """One gunicorn gevent instance on the session's redis-server."""
    return app_server_factory()


@pytest.fixture
def two_apps(app_server_factory):
    """Two instances on two ports sharing one Redis (and one key prefix)."""
    return app_server_factory(), app_server_factory()


@pytest.fixture
def own_redis():
    """A redis-server of this test's own, for tests that stop it or count its clients."""
    server = RedisServer()
    yield server
    server.stop()
