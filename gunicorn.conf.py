"""gunicorn settings: gevent workers, so a waiting SSE/long-poll client costs a greenlet.

Read by gunicorn from the working directory for every `gunicorn main:app`
(Procfile, app.yaml, Dockerfile, tests). Platform variables respected:
PORT, WEB_CONCURRENCY; our own: HOST, WORKER_CONNECTIONS, GRACEFUL_TIMEOUT.
"""

import os
import sys

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "4000"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))
timeout = 30
keepalive = 75
# The app writes its own JSON access log without query strings (tokens ride in them).
accesslog = None
errorlog = "-"


def on_starting(server):
    """Refuse several workers on the embedded store: each would hold its own private copy."""
    if not (os.environ.get("REDIS_URL") or os.environ.get("REDIS_TLS_URL")) and server.cfg.workers > 1:
        sys.stderr.write(
            "signaling: the embedded store lives inside one process; set REDIS_URL to run "
            f"{server.cfg.workers} workers (or use WEB_CONCURRENCY=1)\n"
        )
        sys.exit(1)
