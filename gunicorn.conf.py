"""gunicorn settings: gevent workers, so a waiting SSE/long-poll client costs a greenlet.

Read by gunicorn from the working directory for every `gunicorn main:app`
(Procfile, app.yaml, Dockerfile, tests). Platform variables respected:
PORT, WEB_CONCURRENCY; our own: HOST, WORKER_CONNECTIONS, GRACEFUL_TIMEOUT.

Defaults use the machine: one gevent worker per core when Redis is
configured (the embedded store lives in one process, so it gets one), and
each worker accepts room for its STREAM_LIMIT waiting streams plus the
keep-alive and short requests of the same clients.

Start-up checks happen here, in the master, before any worker boots: a bad
setting prints one line and exits 2. (A worker that failed on it instead
would be restarted by the master forever.)
"""

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from gunicorn import glogging


def _fail(message: str) -> None:
    sys.stderr.write(f"signaling: configuration error: {message}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def _load(module: str):
    """Import signaling/<module>.py by path: the master must not import Flask, redis and the rest
    before the gevent workers fork and monkey-patch (config.py and logformat.py use only the
    standard library). If loading by path ever fails, the package is imported the ordinary way.
    """
    spec = importlib.util.spec_from_file_location(
        f"_signaling_{module}", Path(__file__).parent / "signaling" / f"{module}.py"
    )
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # dataclasses look their module up there
    try:
        spec.loader.exec_module(loaded)
    except ImportError:
        loaded = importlib.import_module(f"signaling.{module}")
    return loaded


_config = _load("config")
_logformat = _load("logformat")


def _int(name: str, default: int, minimum: int = 1) -> int:
    """Integer settings go through config.py's one parser; a bad one stops the master with one line."""
    try:
        return _config.whole_number(os.environ, name, default, minimum)
    except _config.ConfigError as error:
        _fail(str(error))


def _check_settings():
    """Run signaling/config.py's checks in the master, before any worker boots."""
    try:
        return _config.load()
    except _config.ConfigError as error:
        _fail(str(error))


def _cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _default_workers(embedded: bool) -> int:
    return 1 if embedded else _cores()


def _raise_fd_limit(wanted: int) -> None:
    """Each connection is a file descriptor; lift the soft limit toward what the worker may hold."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ImportError, ValueError, OSError):
        pass


_settings = _check_settings()

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8080)}"
# gevent, with gunicorn's own 400/414/431 answers as problem+json (signaling/worker.py).
worker_class = _load("worker").ProblemGeventWorker
workers = _int("WEB_CONCURRENCY", _default_workers(_settings.embedded))
# A browser holds its stream and a keep-alive connection for its POSTs; the
# extra 1,000 keep short requests (register, send, heartbeat) served while
# streams are at their limit (excess streams are refused with 503 at once).
worker_connections = _int("WORKER_CONNECTIONS", 2 * _settings.stream_limit + 1000)
_raise_fd_limit(worker_connections + 200)
# Open streams end at once on SIGTERM (see post_worker_init), so this is only
# for idle keep-alive connections. Cloud Run kills 10 s after SIGTERM, Heroku 30 s.
graceful_timeout = _int("GRACEFUL_TIMEOUT", 10, 0)
timeout = 30
keepalive = 75
# No runtime control socket: nothing on a platform uses it, and every instance
# on one machine (tests, several apps) would fight over the same path in $HOME.
control_socket_disable = True
# The app writes its own access log without query strings (tokens ride in them).
accesslog = None
errorlog = "-"


class _Logger(glogging.Logger):
    """gunicorn's logger without its access log.

    With ``logconfig_dict`` set, gunicorn builds every access-log line (its
    atoms, a strftime) even though the ``gunicorn.access`` logger has no
    handler: a measurable share of each request, thrown away.
    """

    def _compute_access_log_enabled(self) -> bool:
        return False


logger_class = _Logger

_metrics_dir = None
if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Each worker counts for itself; prometheus-client sums them from files here.
    # Set before any worker imports prometheus_client (the app loads in the workers).
    _metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="signaling-metrics-")


logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
    "handlers": {
        "error_console": {"class": "logging.StreamHandler", "formatter": "signaling", "stream": "ext://sys.stderr"},
    },
    # The app's own format (text in development, JSON on a platform), from the same module.
    "formatters": {"signaling": {"()": _logformat.formatter, "kind": _settings.log_format}},
}


def on_starting(server):
    """Refuse several workers on the embedded store: each would hold its own private copy."""
    if not (os.environ.get("REDIS_URL") or os.environ.get("REDIS_TLS_URL")) and server.cfg.workers > 1:
        _fail(
            "the embedded store lives inside one process; set REDIS_URL to run "
            f"{server.cfg.workers} workers (or use WEB_CONCURRENCY=1)"
        )


def post_worker_init(worker):
    """On SIGTERM, end open SSE streams and long-polls at once instead of holding shutdown.

    gunicorn waits up to graceful_timeout for requests in flight, and a waiting
    stream never finishes by itself: without this every deploy or scale-down
    would stall, then cut streams without the ``retry:`` that tells clients
    when to reconnect (to another instance). Messages are never at risk: they
    live in Redis, and the client resumes from its ``Last-Event-ID``/cursor.
    """
    import logging
    import signal

    import gevent

    # gevent records where every greenlet was spawned (a chain of frame records
    # per greenlet, for debugging tools): about 1 KB per open stream, unused.
    gevent.config.track_greenlet_tree = False
    # Nothing logs thread names, and asking for one makes threading keep a
    # _DummyThread (about 0.5 KB) for every greenlet that logged, e.g. each stream.
    logging.logThreads = False

    state = getattr(worker.wsgi, "extensions", {}).get("signaling")
    if state is None:
        return

    def on_term(sig, frame):
        gevent.spawn(state.drain)  # signaling/state.py: the one drain
        worker.handle_exit(sig, frame)

    signal.signal(signal.SIGTERM, on_term)
    signal.siginterrupt(signal.SIGTERM, False)


def on_exit(server):
    if _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def child_exit(server, worker):
    """Forget a dead worker's live gauges (multiprocess metrics)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
