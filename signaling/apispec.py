"""The OpenAPI document as this deployment serves it: openapi.yaml with its own limits.

openapi.yaml states the defaults; a deployment may set PEERS_PAGE_MAX,
LONGPOLL_MAX_WAIT or MAX_BATCH otherwise, and the document at /openapi.yaml
then states those, so clients (and contract tests) see the limits the server
enforces, not the defaults.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .config import Settings

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def _parameter(operation: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = next(p for p in operation["parameters"] if p.get("name") == name)["schema"]
    return schema


def with_limits(spec: dict[str, Any], peers_page_max: int, longpoll_max_wait: float, max_batch: int) -> dict[str, Any]:
    """``spec`` (changed in place) stating the deployment's maxima."""
    limit = _parameter(spec["paths"]["/v1/peers"]["get"], "limit")
    limit["maximum"] = peers_page_max
    limit["default"] = min(limit["default"], peers_page_max)
    _parameter(spec["paths"]["/v1/messages"]["get"], "wait")["maximum"] = longpoll_max_wait
    spec["components"]["schemas"]["Batch"]["properties"]["messages"]["maxItems"] = max_batch
    return spec


@cache
def _render(peers_page_max: int, longpoll_max_wait: float, max_batch: int) -> str:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    spec = with_limits(spec, peers_page_max, longpoll_max_wait, max_batch)
    text: str = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=120)
    return text


def document(settings: Settings) -> str:
    """The YAML served at /openapi.yaml (rendered once per set of limits)."""
    return _render(settings.peers_page_max, settings.longpoll_max_wait, settings.max_batch)
