"""schemathesis over the served /openapi.yaml: every operation, every check, a fixed seed.

The app runs in-process (WSGI) on fakeredis, with short long-poll waits and
streams so that each case ends quickly; /openapi.yaml states this
deployment's limits (signaling/apispec.py), so generated data respects the
same maxima the server enforces. Each case gets a fresh session, so
``DELETE /v1/sessions/me`` cannot revoke a token other cases use.

Beyond schemathesis's own checks, every event of ``GET /v1/events`` has its
``data`` parsed and checked against the spec's schema for its event type.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import fakeredis
import jsonschema
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from werkzeug.test import Client

from signaling import create_app
from signaling.config import load

SEED = 20240610
EXAMPLES = 150
MIN_REQUESTS = 2000
CONFIG = schemathesis.Config.from_dict(
    {"seed": SEED, "checks": {"enabled": True}, "generation": {"max-examples": EXAMPLES}}
)


def _app():
    server = fakeredis.FakeServer()
    limits = dict(
        stun_urls=(),
        secret_key="contract-test-secret-0123456789",
        register_rate=10**6,
        send_rate=10**6,
        send_burst=10**6,
        longpoll_max_wait=0.05,
        stream_max_duration=0.05,
        peers_page_max=20,
    )
    app = create_app(
        dataclasses.replace(load({}), **limits),
        client=fakeredis.FakeRedis(server=server),
        pubsub_client=fakeredis.FakeRedis(server=server),
    )
    app.testing = True
    return app


APP = _app()
SPEC = yaml.safe_load(Client(APP).get("/openapi.yaml").get_data(as_text=True))
schema = schemathesis.openapi.from_wsgi("/openapi.yaml", APP, config=CONFIG)
requests: Counter = Counter()


@schema.auth(refresh_interval=None)
class FreshSession:
    """A new session for every case: a case may end its own session (DELETE /v1/sessions/me)."""

    def get(self, case, context):
        response = Client(APP).post("/v1/sessions", json={"name": "Fuzz", "listed": True})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["token"]

    def set(self, case, token, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"


EVENT_DATA = {"ready": "ReadyEvent", "message": "Envelope", "end": "EndEvent"}


@schemathesis.check
def sse_event_data(ctx, response, case):
    """Each event's ``data`` is JSON of the shape its event type promises (SseEvent's contentSchema)."""
    if response.status_code != 200 or not response.headers.get("Content-Type", [""])[0].startswith("text/event-stream"):
        return None
    events = [frame for frame in response.text.split("\n\n") if "data:" in frame]
    assert events and events[0].split("\n")[1] == "event: ready", response.text[:200]
    for frame in events:
        fields = dict(line.split(": ", 1) for line in frame.split("\n") if not line.startswith(":"))
        kind = fields.get("event", "message")
        name = EVENT_DATA.get(kind)
        target = {"$ref": f"#/components/schemas/{name}"} if name else {"type": "object", "maxProperties": 0}
        jsonschema.Draft202012Validator({**target, "components": SPEC["components"]}).validate(
            json.loads(fields["data"])
        )
    return None


@pytest.fixture(scope="module", autouse=True)
def enough_requests():
    """At least MIN_REQUESTS over every operation, when the whole module ran."""
    yield
    operations = {result.ok().label for result in schema.get_all_operations()}
    if set(requests) == operations:
        assert sum(requests.values()) >= MIN_REQUESTS, requests


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_the_server_keeps_the_contract(case):
    requests[case.operation.label] += 1
    case.call_and_validate(additional_checks=[sse_event_data])
