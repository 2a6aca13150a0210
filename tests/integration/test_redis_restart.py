"""Redis killed and restarted on the same port, with AOF on and off: accepted messages and sessions."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile

import pytest
import redis

from tests.support.peers import Peer
from tests.support.processes import free_port, wait_until


class DurableRedis:
    """redis-server with its own data directory, so a restart on the same port finds its AOF."""

    def __init__(self, aof: bool) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-aof-")
        self.aof = aof
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: redis.Redis.from_url(self.url).ping(), what="redis-server")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(params=[True, False], ids=["aof", "no-aof"])
def durable_redis(request):
    server = DurableRedis(aof=request.param)
    yield server
    server.stop()


def test_a_redis_kill_and_restart_loses_nothing_accepted_with_aof(app_server_factory, durable_redis):
    app = app_server_factory({"REDIS_URL": durable_redis.url})
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob", peer_id="bob-restart")
    accepted = []
    for n in range(50):
        response = alice.send(bob.id, n, cid=f"r{n}")
        assert response.status_code == 202, response.text
        accepted.append(response.json()["id"])

    durable_redis.kill()
    assert alice.send(bob.id, "during", cid="down").status_code == 503
    durable_redis.start()

    def answers() -> bool:
        return bob.get("/v1/sessions/me").status_code in (200, 401)

    wait_until(answers, timeout=15, what="the app answering again")
    if durable_redis.aof:
        # Sessions survived, and every accepted message is still waiting, in order.
        assert bob.get("/v1/sessions/me").status_code == 200
        assert [m["id"] for m in bob.poll(cursor="0")["messages"]] == accepted
        # A resend of an accepted message is still recognised after the restart.
        again = alice.send(bob.id, 0, cid="r0")
        assert again.status_code == 202 and again.json()["id"] == accepted[0]
    else:
        # Without persistence the sessions are gone: tokens answer 401 and the
        # clients register again (signaling.js does so with the same peer id).
        assert bob.get("/v1/sessions/me").status_code == 401
        assert alice.get("/v1/sessions/me").status_code == 401
        bob, alice = Peer(app, "Bob", peer_id="bob-restart"), Peer(app, "Alice")
    sent = alice.send(bob.id, "after", cid="after")
    assert sent.status_code == 202, sent.text
    assert sent.json()["id"] in [m["id"] for m in bob.poll(cursor="0")["messages"]]
