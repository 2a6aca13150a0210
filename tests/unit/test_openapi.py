"""openapi.yaml is a valid OpenAPI 3.1 document that lists exactly the app's API routes."""

from __future__ import annotations

import re

import yaml
from openapi_spec_validator import validate

from tests.unit.spec_check import SPEC_PATH, spec_dict

IGNORED_METHODS = {"HEAD", "OPTIONS"}
OPERATIONS_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.yaml")


def _app_operations(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        if path.startswith("/v1/") or path in OPERATIONS_PATHS:
            out |= {(path, m.lower()) for m in rule.methods - IGNORED_METHODS}
    return out


def _spec_operations() -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(path, m) for path, item in spec_dict()["paths"].items() for m in item if m in methods}


def test_the_spec_is_valid_openapi():
    validate(spec_dict())
    assert spec_dict()["openapi"].startswith("3.1")


def test_every_route_is_in_the_spec_and_every_operation_is_a_route(app):
    assert _app_operations(app) == _spec_operations()


def test_the_app_serves_this_spec(client):
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert yaml.safe_load(response.get_data(as_text=True)) == yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def test_every_error_response_is_a_problem():
    """RFC 9457 everywhere: no operation documents an error body other than problem+json."""
    for path, item in spec_dict()["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if "$ref" in response:
                    response = spec_dict()["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (path, method, status)


def test_operations_endpoints_match_the_spec(client, state):
    assert client.get("/readyz").get_json()["status"] == "ready"
    assert client.get("/metrics").status_code == 200
    state.draining.set()
    assert client.get("/readyz").status_code == 503


def test_the_served_spec_states_this_deployments_limits(make_app):
    """PEERS_PAGE_MAX, LONGPOLL_MAX_WAIT and MAX_BATCH are settings: /openapi.yaml states the ones in force."""
    app = make_app(peers_page_max=30, longpoll_max_wait=5.0, max_batch=7)
    served = yaml.safe_load(app.test_client().get("/openapi.yaml").get_data(as_text=True))

    def param(path: str, name: str) -> dict:
        return next(p for p in served["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]

    assert param("/v1/peers", "limit")["maximum"] == 30
    assert param("/v1/messages", "wait")["maximum"] == 5.0
    assert served["components"]["schemas"]["Batch"]["properties"]["messages"]["maxItems"] == 7
    client = app.test_client()
    token = client.post("/v1/sessions", json={"name": "A"}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/peers?limit=30", headers=auth).status_code == 200
    assert client.get("/v1/peers?limit=31", headers=auth).status_code == 400
    assert client.get("/v1/messages?wait=5.5", headers=auth).status_code == 400
