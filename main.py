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
import threading

from flask import Response

from signaling import create_app
from signaling.config import ConfigError, whole_number

try:
    app = create_app()
except ConfigError as error:
    sys.stderr.write(f"signaling: configuration error: {error}\n")
    # 3 is gunicorn's "worker failed to boot": its master stops instead of respawning
    # workers. (gunicorn.conf.py checks the settings in the master first anyway.)
    raise SystemExit(3) from None


def handle(request):
    """Cloud Functions (Functions Framework) entry point: ``--target=handle``.

    The whole WSGI app runs on the request's environ (so ProxyFix and every
    hook apply) and its body is passed on unbuffered: SSE streams through.
    """
    return Response.from_app(app.wsgi_app, request.environ)


def _drain_on_sigterm_under_functions_framework() -> None:
    """The Functions Framework serves through its own gunicorn (threads, no gunicorn.conf.py).

    Its workers get SIGTERM when Cloud Run scales in or redeploys; without
    this, open streams would hold the worker until it is killed. The worker
    class is patched before the master forks the worker that inherits it.
    """
    if "functions_framework" not in sys.modules:
        return
    import signal

    from gunicorn.workers.base import Worker

    original = Worker.init_signals

    def init_signals(worker) -> None:
        original(worker)
        exit_handler = worker.handle_exit

        def on_term(sig, frame):
            drain = app.extensions["signaling"].drain
            threading.Thread(target=drain, name="signaling-drain", daemon=True).start()
            exit_handler(sig, frame)

        signal.signal(signal.SIGTERM, on_term)

    Worker.init_signals = init_signals


_drain_on_sigterm_under_functions_framework()


def serve() -> None:
    """The development server: gevent's WSGI server, same code path as gunicorn's gevent worker."""
    from gevent.pywsgi import WSGIHandler, WSGIServer

    class Handler(WSGIHandler):
        """Hands the client socket to the app, as gunicorn does, so streams notice a hang-up."""

        def get_environ(self):
            environ = super().get_environ()
            environ["signaling.socket"] = self.socket
            return environ

    host = os.environ.get("HOST", "127.0.0.1")
    port = whole_number(os.environ, "PORT", 8080)
    server = WSGIServer((host, port), app, log=None, handler_class=Handler)
    sys.stderr.write(f"signaling: serving on http://{host}:{port} (Ctrl-C to stop)\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    serve()
