"""Integration fixtures: real redis-server, real ``gunicorn -k gevent``, over loopback HTTP."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import SECRET
from tests.support.cluster import redis_cluster  # noqa: F401 - a session fixture for these tests
from tests.support.peers import Peer
from tests.support.processes import AppServer, RedisServer


@pytest.fixture(params=["redis", "cluster"])
def backend(request) -> str:
    """Modules that use this run each test on one redis-server and on the 6-node cluster.

    The cluster is started once per session; tests keep apart by key prefix.
    """
    if request.param == "cluster":
        request.getfixturevalue("redis_cluster")
    return request.param


def _cluster_env(request) -> dict[str, str]:
    """REDIS_URL of the cluster when the test runs with ``backend`` == "cluster", else nothing."""
    if "backend" in request.fixturenames and request.getfixturevalue("backend") == "cluster":
        return {"REDIS_URL": request.getfixturevalue("redis_cluster").url}
    return {}


def _checked(server: AppServer, cluster_env: dict[str, str], env: dict[str, str] | None) -> AppServer:
    if cluster_env and "REDIS_URL" not in (env or {}):
        assert requests.get(server.url("/healthz"), timeout=5).json()["store"] == "cluster"
    return server


@pytest.fixture
def app_server_factory(app_server_factory, request):
    """The shared factory, with a short GRACEFUL_TIMEOUT unless a test sets its own.

    Stopping a server waits for idle keep-alive connections up to that long,
    and urllib3 can keep one open after its session is closed (after an
    error answer); tests of shutdown itself set a long one. In a test that
    uses ``backend``, REDIS_URL points at the cluster when it is "cluster".
    Each call starts a server of the test's own, stopped after the test.
    """
    cluster_env = _cluster_env(request)

    def start(env: dict[str, str] | None = None, **kwargs):
        server = app_server_factory({"GRACEFUL_TIMEOUT": "2", **cluster_env, **(env or {})}, **kwargs)
        return _checked(server, cluster_env, env)

    return start


@pytest.fixture(scope="module")
def _module_servers(redis_server):
    """Servers shared by the tests of one module, by settings; stopped when the module is done.

    Starting gunicorn costs each test a second or more (much more on a busy
    machine), so tests that only talk to a server, and neither stop it nor
    read its log, share one per module and setting. They keep apart by
    registering fresh peers (random ids); a module's servers have a key
    prefix of their own.
    """
    started: dict[tuple[tuple[str, str], ...], list[AppServer]] = {}
    prefix = f"m{id(started)}:"

    def get(env: dict[str, str], count: int = 1) -> list[AppServer]:
        key = tuple(sorted(env.items())) + (("#", str(count)),)
        if key not in started:
            base = {"REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, "KEY_PREFIX": prefix, "GRACEFUL_TIMEOUT": "2"}
            started[key] = [AppServer({**base, **env}) for _ in range(count)]
        return started[key]

    yield get
    Peer.hang_up_all()
    for servers in started.values():
        for server in servers:
            server.discard()


@pytest.fixture
def shared_app_server(_module_servers, request):
    """``shared_app_server(env)``: this module's server with these settings (started once), for tests that
    neither stop it nor read its log. Honours ``backend`` like ``app_server_factory``."""
    cluster_env = _cluster_env(request)

    def get(env: dict[str, str] | None = None, count: int = 1) -> list[AppServer]:
        servers = _module_servers({**cluster_env, **(env or {})}, count)
        for server in servers:
            server_check = server.process
            if server_check is None or server_check.poll() is not None:
                raise RuntimeError(f"a shared server has exited:\n{server.output()}")
            _checked(server, cluster_env, env)
        return servers

    return get


@pytest.fixture(autouse=True)
def _hang_up(app_server_factory):
    """Before the test's servers stop, clients hang up, so gunicorn need not wait out idle keep-alives."""
    yield
    Peer.hang_up_all()


@pytest.fixture
def app(shared_app_server):
    """One gunicorn gevent instance on the session's redis-server, shared by the module's tests."""
    return shared_app_server()[0]


@pytest.fixture
def two_apps(shared_app_server):
    """Two instances on two ports sharing one Redis (and one key prefix), shared by the module's tests."""
    first, second = shared_app_server(count=2)
    return first, second


@pytest.fixture
def own_app(app_server_factory):
    """One instance of this test's own, for tests that stop or restart it or read its log."""
    return app_server_factory()


@pytest.fixture
def own_redis():
    """A redis-server of this test's own, for tests that stop it or count its clients."""
    server = RedisServer()
    yield server
    server.stop()
