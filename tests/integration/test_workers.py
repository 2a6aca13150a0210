"""gunicorn.conf.py's default worker count: every core with Redis, one on the embedded store (not a failure)."""

from __future__ import annotations

import os
import subprocess

from tests.support.processes import AppServer, wait_until


def workers_of(app: AppServer) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(app.process.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def test_the_default_is_one_worker_per_core_with_redis(app_server_factory):
    cores = len(os.sched_getaffinity(0))
    app = app_server_factory({"WEB_CONCURRENCY": None})
    assert wait_until(lambda: len(workers_of(app)) == cores, what=f"{cores} workers")


def test_the_embedded_store_defaults_to_one_worker_instead_of_failing():
    env = {"WEB_CONCURRENCY": None, "REDIS_URL": None, "REDIS_TLS_URL": None, "GRACEFUL_TIMEOUT": "1"}
    app = AppServer(env)
    try:
        assert len(workers_of(app)) == 1
    finally:
        app.stop()
