"""/docs is served from vendored files (pinned, with their licence) under a CSP of its own."""

from __future__ import annotations

import hashlib
import re

from signaling import create_app
from signaling.config import load
from signaling.pages import DOCS_CSP
from tests.support.processes import ROOT

VENDOR = ROOT / "static" / "vendor" / "swagger-ui"


def test_vendored_swagger_ui_is_pinned_with_its_licence():
    source = (VENDOR / "SOURCE.md").read_text()
    assert "swagger-ui-dist@5.35.0" in source
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert f"{digest}  {name}" in source, name
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert (VENDOR / "NOTICE").exists() and (VENDOR / "swagger-ui-bundle.js.LICENSE.txt").exists()


def test_docs_page_loads_only_local_files_under_a_strict_csp():
    html = (ROOT / "static" / "docs.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must load nothing from elsewhere"
    assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP allows none
    client = create_app(load({})).test_client()
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == DOCS_CSP
    policy = dict(part.strip().split(" ", 1) for part in DOCS_CSP.split(";"))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'" and "unsafe" not in DOCS_CSP
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/js/api-docs.js", "/openapi.yaml"):
        assert client.get(asset).status_code == 200, asset


def test_the_landing_page_links_to_the_docs_once():
    assert (ROOT / "static" / "index.html").read_text().count('href="/docs"') == 1
