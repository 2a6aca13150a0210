"""HTTP signaling for WebRTC: Flask endpoints over Redis mailboxes, SSE and long-poll."""

from __future__ import annotations

import redis
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api, config, delivery, errors, logs, metrics, ops, pages, state
from .config import Settings
from .headers import security_headers
from .shortcut import SendShortcut
from .version import __version__

__all__ = ["create_app", "__version__"]


def create_app(
    settings: Settings | None = None,
    client: redis.Redis | None = None,
    pubsub_client: redis.Redis | None = None,
) -> Flask:
    """Build the WSGI app; settings default to the environment (see :mod:`signaling.config`)."""
    settings = settings or config.load()
    logs.configure(settings.log_level, settings.log_format)
    app = Flask(__name__, static_folder=str(pages.STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider's setting
    # '/v1/rooms//members' would get Werkzeug's 308 HTML redirect (to another
    # route); an API answers an unknown path with a 404 problem instead.
    app.url_map.merge_slashes = False
    app.extensions["signaling"] = state.build(settings, client, pubsub_client)
    errors.init_app(app)
    logs.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(delivery.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(ops.bp)
    metrics.init_app(app)
    app.after_request(security_headers)
    # POST /v1/messages, the one request per relayed message, skips Flask's per-request machinery.
    app.wsgi_app = SendShortcut(app.wsgi_app, app.extensions["signaling"])  # type: ignore[method-assign]
    if settings.proxy_hops:
        # The platform's proxy appends the client address to X-Forwarded-For.
        proxied = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]
    return app
