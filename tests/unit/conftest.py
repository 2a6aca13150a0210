"""Unit-test fixtures: the app on fakeredis (with Lua), driven by Flask's test client."""

from __future__ import annotations

import dataclasses
import time

import fakeredis
import pytest

from signaling import clock as clock_module
from signaling import create_app
from signaling.config import load
from tests.unit.spec_check import SpecCheckedClient


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
    """The test client; every exchange is checked against openapi.yaml (see ``spec_check``)."""
    return checked_client(app)


@pytest.fixture
def register(client):
    """Register a peer; returns ``(peer_id, auth headers, full body)``."""

    def do(name: str = "Alice", peer_id: str | None = None, listed: bool = False):
        return register_on(client, name, peer_id, listed)

    return do


def register_on(client, name: str = "Alice", peer_id: str | None = None, listed: bool = False):
    """Register a peer through ``client``; returns ``(peer_id, auth headers, full body)``."""
    body: dict = {"name": name} if peer_id is None else {"name": name, "peer_id": peer_id}
    if listed:
        body["listed"] = True
    response = client.post("/v1/sessions", json=body)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    return data["peer_id"], {"Authorization": f"Bearer {data['token']}"}, data


def checked_client(app) -> SpecCheckedClient:
    """A spec-checked test client for an app made with ``make_app(...)``."""
    return SpecCheckedClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def state(app):
    """The app's :class:`signaling.state.Signaling` (store, hub, settings)."""
    return app.extensions["signaling"]


@pytest.fixture
def clock(monkeypatch):
    """The store's clock (``now_ms``), frozen and moved by hand: ``clock.advance(seconds)``."""

    class Clock:
        def __init__(self) -> None:
            self.ms = int(time.time() * 1000)

        def advance(self, seconds: float) -> None:
            self.ms += int(seconds * 1000)

    fake = Clock()
    monkeypatch.setattr(clock_module, "now_ms", lambda: fake.ms)
    return fake


@pytest.fixture
def raw_client(app):
    """A plain Flask test client, for exchanges that must not be checked against the spec."""
    return app.test_client()
