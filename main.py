"""Entry points: WSGI ``app`` (gunicorn, App Engine), ``handle`` (Cloud Functions),
and ``python main.py``: a gevent dev server on the embedded store.

Run ``python main.py`` with no REDIS_URL and the API serves from an in-process
store on http://127.0.0.1:8080 (``HOST``/``PORT`` change that).
"""

from __future__ import annotations

if __name__ == "__main__":
    # Before anything imports sockets or threads: one greenlet per waiting client.
    from gevent import monkey

    monkey.patch_all()

import os
import sys

from signaling import create_app
from signaling.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.stderr.write(f"signaling: configuration error: {error}\n")
    raise SystemExit(2) from None


def handle(request):
    """Cloud Functions (Functions Framework) entry point: ``--target=handle``."""
    with app.request_context(request.environ):
        return app.full_dispatch_request()


def serve() -> None:
    """The development server: gevent's WSGI server, same code path as gunicorn's gevent worker."""
    from gevent.pywsgi import WSGIServer

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8080"))
    server = WSGIServer((host, port), app, log=None)
    sys.stderr.write(f"signaling: serving on http://{host}:{port} (Ctrl-C to stop)\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    serve()
