"""Integration fixtures: real redis-server, real ``gunicorn -k gevent``, over loopback HTTP."""

from __future__ import annotations

import pytest

from tests.support.peers import Peer
from tests.support.processes import RedisServer


@pytest.fixture
def app_server_factory(app_server_factory):
    """The shared factory, with a short GRACEFUL_TIMEOUT unless a test sets its own.

    Stopping a server waits for idle keep-alive connections up to that long,
    and urllib3 can keep one open after its session is closed (after an
    error answer); tests of shutdown itself set a long one.
    """

    def start(env: dict[str, str] | None = None, **kwargs):
        return app_server_factory({"GRACEFUL_TIMEOUT": "2", **(env or {})}, **kwargs)

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
