"""1,000 clients waiting on ONE gevent worker share a handful of Redis connections, and still get their mail.

The clients are raw non-blocking sockets driven by one ``selectors`` loop in
the test process: half long-poll, half SSE, each a separate peer.
"""

from __future__ import annotations

import json
import resource
import selectors
import socket
import time
from dataclasses import dataclass, field

import pytest
import requests

from tests.support.peers import Peer

CLIENTS = 1000
POOL_CAP = 8  # REDIS_MAX_CONNECTIONS for the server under test
SAMPLE = 25  # per kind, for delivery


@dataclass
class Client:
    peer_id: str
    kind: str  # "poll" or "sse"
    request: bytes
    sent: int = 0
    received: bytearray = field(default_factory=bytearray)
    closed: bool = False


class Swarm:
    """Many HTTP clients on non-blocking sockets, pumped by one selector loop."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.selector = selectors.DefaultSelector()
        self.clients: list[Client] = []
        self.sockets: list[socket.socket] = []

    def open(self, client: Client) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", self.port))
        self.selector.register(sock, selectors.EVENT_WRITE, client)
        self.clients.append(client)
        self.sockets.append(sock)

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            for key, mask in self.selector.select(timeout=min(remaining, 0.2)):
                sock, client = key.fileobj, key.data
                if mask & selectors.EVENT_WRITE:
                    try:
                        client.sent += sock.send(client.request[client.sent :])
                    except (BlockingIOError, InterruptedError):
                        continue
                    if client.sent == len(client.request):
                        self.selector.modify(sock, selectors.EVENT_READ, client)
                elif mask & selectors.EVENT_READ:
                    try:
                        data = sock.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if data:
                        client.received += data
                    else:
                        client.closed = True
                        self.selector.unregister(sock)

    def pump_until(self, check, timeout: float, what: str, every: float = 0.25):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(every)
            result = check()
            if result:
                return result
        raise TimeoutError(f"timed out waiting for {what}")

    def close(self) -> None:
        for sock in self.sockets:
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
        self.selector.close()


def _app_connections(redis_client) -> list[dict]:
    """CLIENT LIST of the test's own redis-server, minus the connection asking."""
    me = redis_client.client_id()
    return [c for c in redis_client.client_list() if int(c["id"]) != me]


def _body_json(raw: bytes) -> dict:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return json.loads(body)


@pytest.mark.timeout(120)
def test_thousand_waiting_clients_one_worker_few_redis_connections(app_server_factory, own_redis):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * CLIENTS:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8 * CLIENTS), hard))
    app = app_server_factory(
        {
            "REDIS_URL": own_redis.url,
            "REDIS_MAX_CONNECTIONS": str(POOL_CAP),
            "WEB_CONCURRENCY": "1",
            "WORKER_CONNECTIONS": str(4 * CLIENTS),
            "LONGPOLL_MAX_WAIT": "60",
            "PRESENCE_TTL": "180",
        }
    )
    http = requests.Session()
    peers = []
    for i in range(CLIENTS):
        response = http.post(app.url("/v1/sessions"), json={"name": f"waiter {i}"}, timeout=10)
        assert response.status_code == 201, response.text
        peers.append(response.json())
    http.close()
    sender = Peer(app, "Sender")

    swarm = Swarm(app.port)
    host = f"Host: 127.0.0.1:{app.port}\r\n"
    for i, peer in enumerate(peers):
        if i % 2 == 0:
            request = (
                f"GET /v1/messages?wait=55 HTTP/1.1\r\n{host}"
                f"Authorization: Bearer {peer['token']}\r\nConnection: close\r\n\r\n"
            )
            swarm.open(Client(peer["peer_id"], "poll", request.encode()))
        else:
            request = f"GET /v1/events?token={peer['token']} HTTP/1.1\r\n{host}Accept: text/event-stream\r\n\r\n"
            swarm.open(Client(peer["peer_id"], "sse", request.encode()))
        if i % 100 == 99:
            swarm.pump(0.05)  # let the accept queue drain between bursts

    redis_client = own_redis.client()
    probe = requests.Session()
    peak = 0

    def all_waiting() -> bool:
        nonlocal peak
        peak = max(peak, len(_app_connections(redis_client)))
        return probe.get(app.url("/healthz"), timeout=10).json()["waiting"] == CLIENTS

    try:
        swarm.pump_until(all_waiting, timeout=45, what=f"{CLIENTS} clients waiting on the worker")
        assert not any(c.closed for c in swarm.clients), "a waiting client was answered or dropped early"

        connections = _app_connections(redis_client)
        peak = max(peak, len(connections))
        # Wake-ups are sharded pub/sub (SSUBSCRIBE, counted as "ssub") on Redis 7.
        subscribed = sorted(int(c.get("ssub", 0)) + int(c["sub"]) for c in connections)
        # One pub/sub connection carries every waiter's wake-up channel...
        assert subscribed[-1] == CLIENTS, subscribed
        assert subscribed[-2] == 0, subscribed
        # ...and the rest is the bounded command pool, however many clients wait.
        assert len(connections) <= POOL_CAP + 1, connections
        assert peak <= POOL_CAP + 1, f"peak {peak} Redis connections while clients connected"

        polls = [c for c in swarm.clients if c.kind == "poll"]
        streams = [c for c in swarm.clients if c.kind == "sse"]
        sample = polls[:: len(polls) // SAMPLE][:SAMPLE] + streams[:: len(streams) // SAMPLE][:SAMPLE]
        marker = {c.peer_id: f"marker-{c.peer_id}" for c in sample}
        batch = [{"to": c.peer_id, "type": "note", "data": marker[c.peer_id]} for c in sample]
        response = sender.http.post(app.url("/v1/messages"), json={"messages": batch}, headers=sender.auth, timeout=10)
        assert response.status_code == 202, response.text
        ids = dict(zip((c.peer_id for c in sample), response.json()["ids"], strict=True))

        def delivered() -> bool:
            return all(
                (c.closed if c.kind == "poll" else f"id: {ids[c.peer_id]}\n".encode() in c.received) for c in sample
            )

        swarm.pump_until(delivered, timeout=30, what="the sampled clients to get their message")
        for client in sample:
            if client.kind == "poll":
                body = _body_json(bytes(client.received))
                assert [m["data"] for m in body["messages"]] == [marker[client.peer_id]]
                assert body["cursor"] == ids[client.peer_id]
            else:
                assert f'"data":"{marker[client.peer_id]}"'.encode() in client.received
                assert f'"from":"{sender.id}"'.encode() in client.received
        # Everybody else is still waiting, with nothing delivered to them.
        others = [c for c in swarm.clients if c not in sample]
        assert not any(c.closed for c in others)
        assert not any(b"\nid: " in c.received for c in others if c.kind == "sse")
        assert probe.get(app.url("/healthz"), timeout=10).json()["waiting"] == CLIENTS - SAMPLE
        assert len(_app_connections(redis_client)) <= POOL_CAP + 1
    finally:
        swarm.close()
        redis_client.close()
        probe.close()
