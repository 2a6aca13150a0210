"""A real Redis Cluster (3 masters + 3 replicas) of Debian's redis-server on loopback ports.

Started once per test session (see :func:`redis_cluster`); tests isolate
themselves by key prefix instead of restarting it. Missing binaries fail
loudly: the point is to prove the app works on a real cluster.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from tests.support.processes import free_port, wait_until

NODE_TIMEOUT_MS = 2000


def cluster_port() -> int:
    """A free port whose cluster-bus port (port + 10000) is free and valid too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def _binary(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} is not installed: run scripts/test.sh (it apt-installs redis-server)")
    return path


class ClusterNode:
    """One cluster-enabled redis-server; can be killed and started again on its port."""

    def __init__(self, port: int, root: str) -> None:
        self.port = port
        self.dir = Path(root) / str(port)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                _binary("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--maxclients",
                "10000",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: self.client().ping(), what=f"cluster node {self.port}")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=5)

    def kill(self) -> None:
        """kill -9: no goodbye to clients or to the other nodes."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def role(self) -> str:
        return self.client().info("replication")["role"]


class Cluster:
    """Six nodes joined with ``redis-cli --cluster create --cluster-replicas 1``."""

    def __init__(self, size: int = 6) -> None:
        self.root = tempfile.mkdtemp(prefix="redis-cluster-")
        self.nodes = [ClusterNode(cluster_port(), self.root) for _ in range(size)]
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(
            [_binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=60,
        )
        self.wait_ok()
        self.url = f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Every live node sees ``cluster_state:ok`` and every slot has a reachable master."""

        def ok() -> bool:
            for node in self.nodes:
                if node.alive and node.client().cluster("info")["cluster_state"] != "ok":
                    return False
            # A replica that has not synced yet refuses to take over (its data is "too old").
            for node in self.nodes:
                if node.alive and node.role() == "slave":
                    if node.client().info("replication").get("master_link_status") != "up":
                        return False
            return len(self.masters()) == 3

        wait_until(ok, timeout=timeout, interval=0.2, what="cluster_state:ok")

    def client(self) -> RedisCluster:
        node = next(n for n in self.nodes if n.alive)
        return RedisCluster(host="127.0.0.1", port=node.port, decode_responses=True)

    def masters(self) -> list[ClusterNode]:
        return [n for n in self.nodes if n.alive and n.role() == "master"]

    def node_of(self, key: str) -> ClusterNode:
        """The live master that owns ``key``'s slot."""
        port = self.client().get_node_from_key(key).port
        return next(n for n in self.nodes if n.port == port)

    def restore(self) -> None:
        """Bring killed nodes back (they rejoin as replicas) and wait for a healthy cluster."""
        for node in self.nodes:
            if not node.alive:
                node.start()
        self.wait_ok(timeout=60)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster():
    """A 6-node Redis Cluster for the whole session (about 3 s to start)."""
    started = time.monotonic()
    cluster = Cluster()
    print(f"redis cluster up in {time.monotonic() - started:.1f}s on ports {[n.port for n in cluster.nodes]}")
    yield cluster
    cluster.stop()
