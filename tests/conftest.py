"""Fixtures shared by every test layer."""

from __future__ import annotations

import pytest

from tests.support.processes import AppServer, RedisServer

SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server on a free loopback port, for the whole session."""
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def app_server_factory(redis_server):
    """Start ``gunicorn main:app`` instances sharing ``redis_server``; all stopped after the test."""
    started: list[AppServer] = []

    def start(env: dict[str, str] | None = None, **kwargs) -> AppServer:
        # Instances in one test share a key prefix (so they share mailboxes); tests don't.
        base = {"REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, "KEY_PREFIX": f"t{id(started)}:"}
        server = AppServer({**base, **(env or {})}, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.discard()
