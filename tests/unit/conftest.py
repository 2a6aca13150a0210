"""Unit-test fixtures: the app on fakeredis (with Lua), driven by Flask's test client."""

from __future__ import annotations

import dataclasses

import fakeredis
import pytest

from signaling import create_app
from signaling.config import load


@pytest.fixture
def fake_server():
    return fakeredis.FakeServer()


@pytest.fixture
def settings():
    """Defaults from an empty environment; tests override with ``dataclasses.replace``."""
    return dataclasses.replace(load({}), stun_urls=(), secret_key="unit-test-secret-0123456789")


@pytest.fixture
def make_app(fake_server, settings):
    apps = []

    def make(**overrides):
        app = create_app(
            dataclasses.replace(settings, **overrides),
            client=fakeredis.FakeRedis(server=fake_server),
            pubsub_client=fakeredis.FakeRedis(server=fake_server),
        )
        app.testing = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["signaling"].hub.stop()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def register(client):
    """Register a peer; returns ``(peer_id, auth headers, full body)``."""

    def do(name: str = "Alice", peer_id: str | None = None):
        body = {"name": name} if peer_id is None else {"name": name, "peer_id": peer_id}
        response = client.post("/v1/sessions", json=body)
        assert response.status_code == 201, response.get_json()
        data = response.get_json()
        return data["peer_id"], {"Authorization": f"Bearer {data['token']}"}, data

    return do
