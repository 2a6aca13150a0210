"""The browser apps' pages, the API reference and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from . import apispec
from .errors import Problem
from .state import signaling
from .validation import room_name

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
bp = Blueprint("pages", __name__)

PAGES = {"/": "index.html", "/phone": "phone.html", "/manual": "manual.html", "/devices": "devices.html"}


def _page(filename: str) -> Response:
    return send_from_directory(STATIC, filename, max_age=0)


for _path, _file in PAGES.items():
    bp.add_url_rule(_path, f"page_{_file.split('.')[0]}", lambda _file=_file: _page(_file))


@bp.get("/room")
@bp.get("/room/")
@bp.get("/room/<path:room>")
def room_page(room: str = "") -> Response:
    """The room app for any /room/... address.

    A name the API would refuse (empty, 'bad name!', a/b) still gets the room
    page, with status 404: the page itself explains the problem in the
    visitor's language and links back home, instead of raw problem+json.
    """
    response = _page("room.html")
    try:
        room_name(room)
    except Problem:
        if response.status_code == 200:
            response.status_code = 404
    return response


# Only what the vendored Swagger UI needs: its script, its stylesheet, the spec
# (a fetch), and data: images for its icons; all from this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@bp.get("/docs")
def docs() -> Response:
    """The API reference (static/docs.html + vendored Swagger UI), under a CSP of its own."""
    response = _page("docs.html")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """openapi.yaml stating this deployment's limits (see :mod:`signaling.apispec`)."""
    body = apispec.document(signaling().settings)
    return Response(body, mimetype="application/yaml", headers={"Cache-Control": "no-cache"})
