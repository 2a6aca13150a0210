"""Checks every test-client exchange against openapi.yaml (openapi-core).

The spec and the server must agree both ways:

* a request the spec rejects must be refused by the server (4xx), so the
  spec is never looser than the code, and a request the server accepts (2xx)
  must conform to the spec, so the spec is never stricter;
* every response must be documented for its operation and match its schema
  (status, content type, headers, body). Unknown paths and methods are not
  operations: they must answer 404/405 problem+json.

Event streams are checked on status and content type only: reading their
body here would consume the stream the test wants to read.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
import yaml
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
STREAM = "text/event-stream"


@cache
def spec_dict() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@cache
def openapi() -> OpenAPI:
    deserializers = {
        "application/problem+json": json.loads,
        "application/yaml": lambda body, **_: body.decode() if isinstance(body, bytes) else body,
    }
    return OpenAPI.from_dict(spec_dict(), config=Config(extra_media_type_deserializers=deserializers))


def check_problem(response: TestResponse) -> None:
    """The body is an RFC 9457 problem as the spec's Problem schema says."""
    assert response.mimetype == "application/problem+json", (response.status_code, response.mimetype)
    schema = {"$ref": "#/components/schemas/Problem", "components": spec_dict()["components"]}
    body = response.get_json(force=True)
    jsonschema.Draft202012Validator(schema).validate(body)
    assert body["status"] == response.status_code


def _replayable_request(response: TestResponse) -> Request:
    """A fresh Request over the same environ, its body rewound (the app consumed the first one)."""
    environ = response.request.environ
    stream = environ.get("wsgi.input")
    if hasattr(stream, "seek"):
        stream.seek(0)
    return Request(environ)


def _describe(request: Request, response: TestResponse) -> str:
    body = "<stream>" if response.mimetype == STREAM else response.get_data(as_text=True)[:300]
    return f"{request.method} {request.full_path} -> {response.status_code} {response.mimetype}: {body}"


def _check_stream(request: Request, response: TestResponse) -> None:
    operation = spec_dict()["paths"][request.path][request.method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, "undocumented status: " + _describe(request, response)
    assert STREAM in documented.get("content", {}), "undocumented content type: " + _describe(request, response)


def check_exchange(response: TestResponse) -> None:
    """Assert the request/response pair agrees with openapi.yaml (see the module docstring)."""
    spec = openapi()
    request = _replayable_request(response)
    openapi_request = WerkzeugOpenAPIRequest(request)
    try:
        spec.validate_request(openapi_request)
        request_error = None
    except (PathNotFound, OperationNotFound):
        assert response.status_code in (404, 405), "not in the spec: " + _describe(request, response)
        check_problem(response)
        return
    except (OpenAPIError, ValueError, RecursionError) as error:
        request_error = error
    if request_error is not None:
        assert 400 <= response.status_code < 500, (
            f"spec rejects the request ({request_error!r}) but the server took it: " + _describe(request, response)
        )
        if response.status_code == 404 and response.get_json(force=True)["type"].endswith(":not-found"):
            check_problem(response)  # e.g. an empty path segment: no route, so no operation
            return
    if response.mimetype == STREAM:
        _check_stream(request, response)
        return
    try:
        spec.validate_response(openapi_request, WerkzeugOpenAPIResponse(response))
    except OpenAPIError as error:
        detail = getattr(error, "__cause__", None) or error
        raise AssertionError(
            f"response does not match the spec ({detail!r}): " + _describe(request, response)
        ) from None
    if response.status_code >= 400:
        check_problem(response)


class SpecCheckedClient(FlaskClient):
    """A Flask test client whose every exchange goes through :func:`check_exchange`."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        check_exchange(response)
        return response
