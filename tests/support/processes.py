"""Real redis-server and gunicorn processes for integration and browser tests.

Missing binaries fail the test loudly: these tests exist to prove the real
components work, so a skip would hide exactly what they check.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float = 15.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # noqa: BLE001 - keep polling until the deadline
            last_error = error
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what} (last error: {last_error!r})")


class RedisServer:
    """A throwaway redis-server on a free loopback port."""

    def __init__(self, port: int | None = None) -> None:
        """``port``: reuse one (e.g. to bring a stopped server back where clients expect it)."""
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server is not installed: run scripts/test.sh (it apt-installs redis-server)")
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-test-")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--maxclients",
                "10000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        wait_until(lambda: self.client().ping(), what="redis-server")

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class AppServer:
    """``gunicorn main:app`` (gevent worker, our gunicorn.conf.py) on a free port."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        port: int | None = None,
        wait: bool = True,
    ):
        """``wait=False``: return once gunicorn is spawned; ``wait_ready()`` later (see tests/support/spares.py)."""
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "STUN_URLS": "",
            # Every test client registers from 127.0.0.1; tests of this limit set their own.
            "REGISTER_RATE": "0",
            "WEB_CONCURRENCY": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        # A None value removes the variable (e.g. WEB_CONCURRENCY, to get gunicorn.conf.py's default).
        self.env = {k: v for k, v in self.env.items() if v is not None}
        self.command = command or [str(VENV_BIN / "gunicorn"), "main:app"]
        self.log = tempfile.NamedTemporaryFile(prefix="app-", suffix=".log", delete=False)
        self.process: subprocess.Popen | None = None
        self.start(wait)

    def start(self, wait: bool = True) -> None:
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        wait_until(self._healthy, timeout=30, what=f"app on port {self.port}")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"app exited with {self.process.returncode}:\n{self.output()}")
        return requests.get(self.base + "/healthz", timeout=2).status_code == 200

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        os.killpg(self.process.pid, sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(5)

    def discard(self) -> None:
        """Teardown: gunicorn's quick shutdown (SIGQUIT). A graceful stop waits up to
        GRACEFUL_TIMEOUT for every idle keep-alive connection (about 2 s per server in
        the suite); tests of shutdown itself call ``stop()`` in their body instead."""
        self.stop(signal.SIGQUIT, timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()
