"""Many idle SSE clients on ONE gevent worker: memory, idle CPU, latency beside them, the stream limit.

One command, from the repository root (as root, or with a hard fd limit of 50,000+):

    .venv/bin/python bench/streams.py [--clients 10000] [--idle-seconds 32] [--json out.json]

It starts a throwaway redis-server and one ``gunicorn main:app`` with the
production gunicorn.conf.py and default settings (one worker, so
STREAM_LIMIT and WORKER_CONNECTIONS are the defaults unless --stream-limit
is given), then:

1. ping-pong between two SSE clients with no idle clients (the baseline);
2. opens --clients idle SSE streams (raw non-blocking sockets in one selector
   loop; sessions are created through the store with the server's key, which
   is faster than 10,000 POSTs and gives the same tokens) and waits until
   every one got its ``ready`` event;
3. measures the worker's RSS growth per stream, its CPU over --idle-seconds
   (covering at least two keep-alive rounds) and the Redis commands issued
   meanwhile;
4. the same ping-pong again, beside the idle streams;
5. opens as many streams again (2x the limit in all when --clients is the
   limit): counts how many are refused with 503 + Retry-After and how fast,
   while a thread registers, sends and heartbeats and times those answers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from relay import SECRET, Client, ping_pong_http  # noqa: E402

from signaling import config  # noqa: E402
from signaling.store import Store  # noqa: E402
from signaling.tokens import Tokens  # noqa: E402
from tests.support.processes import AppServer, RedisServer  # noqa: E402


class Swarm:
    """Raw SSE clients on non-blocking sockets, pumped by one selector loop."""

    def __init__(self, port: int, close_refused: bool = False) -> None:
        self.port = port
        self.close_refused = close_refused
        self.selector = selectors.DefaultSelector()
        self.state: dict[socket.socket, dict] = {}

    def open(self, token: str) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", self.port))
        request = f"GET /v1/events?token={quote(token)} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
        entry = {"out": request.encode(), "in": bytearray(), "opened": time.perf_counter(), "answered": None}
        self.state[sock] = entry
        self.selector.register(sock, selectors.EVENT_WRITE, entry)

    def pump(self, seconds: float, until=None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            for key, mask in self.selector.select(timeout=0.1):
                sock, entry = key.fileobj, key.data
                try:
                    if mask & selectors.EVENT_WRITE:
                        entry["out"] = entry["out"][sock.send(entry["out"]) :]
                        if not entry["out"]:
                            self.selector.modify(sock, selectors.EVENT_READ, entry)
                    elif mask & selectors.EVENT_READ:
                        data = sock.recv(65536)
                        if not data:
                            self._drop(sock)
                            continue
                        if entry["answered"] is None:
                            entry["answered"] = time.perf_counter()
                        entry["in"] += data[:4096] if len(entry["in"]) < 4096 else b""
                        if (
                            self.close_refused
                            and entry["in"].startswith(b"HTTP/1.1 503")
                            and b"\r\n\r\n" in entry["in"]
                        ):
                            self._drop(sock)
                except OSError:
                    self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()
        self.state[sock]["closed"] = True

    def pending(self) -> int:
        return sum(1 for e in self.state.values() if e["answered"] is None)

    def ready(self) -> int:
        return sum(1 for e in self.state.values() if b"event: ready" in e["in"])

    def refused(self) -> list[dict]:
        return [e for e in self.state.values() if e["in"].startswith(b"HTTP/1.1 503")]

    def refusals(self) -> dict[str, int]:
        """Refused streams by problem type (``too-many-streams``, ``store-unavailable``, ...)."""
        kinds: dict[str, int] = {}
        for entry in self.refused():
            kind = problem_type(bytes(entry["in"]))
            kinds[kind] = kinds.get(kind, 0) + 1
        return kinds

    def close(self) -> None:
        for sock in list(self.state):
            try:
                sock.close()
            except OSError:
                pass
        self.selector.close()


def problem_type(response: bytes) -> str:
    """The last part of a problem+json answer's ``type`` (what kind of 503 it was), '?' if unreadable."""
    body = response.partition(b"\r\n\r\n")[2]
    start = body.find(b"{")
    try:
        return json.loads(body[start : body.rfind(b"}") + 1])["type"].rsplit(":", 1)[-1]
    except (ValueError, KeyError, TypeError, AttributeError):
        return "?"


def worker_of(app: AppServer) -> int:
    out = subprocess.run(["pgrep", "-P", str(app.process.pid)], capture_output=True, text=True).stdout.split()
    return int(out[0])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def commands(r) -> int:
    return sum(v["calls"] for k, v in r.info("commandstats").items() if k != "cmdstat_info")


def sessions(url: str, count: int) -> list[str]:
    """``count`` live sessions made through the store (real Redis), with tokens the server accepts."""
    settings = config.load({"REDIS_URL": url, "SECRET_KEY": SECRET, "PRESENCE_TTL": "3600"})
    import redis

    store, tokens = Store(redis.Redis.from_url(url), settings), Tokens(SECRET)
    out = []
    for i in range(count):
        peer, sid = store.register(f"idle-{i}")
        out.append(tokens.issue(peer, sid))
    return out


def short_requests(port: int, stop: threading.Event, results: list) -> None:
    """Register, send and heartbeat in a loop while the streams storm in; records (what, status, ms)."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            a, b = Client(port, "short-a"), Client(port, "short-b")
            results.append(("register", 201, (time.perf_counter() - started) * 1000))
            t = time.perf_counter()
            status, _ = a.request("POST", "/v1/messages", {"to": b.id, "type": "x", "data": 1}, a.auth)
            results.append(("send", status, (time.perf_counter() - t) * 1000))
            t = time.perf_counter()
            status, _ = a.request("POST", "/v1/sessions/me/heartbeat", {}, a.auth)
            results.append(("heartbeat", status, (time.perf_counter() - t) * 1000))
            a.close()
            b.close()
        except Exception as error:  # noqa: BLE001 - a failure is a result here
            results.append(("error", type(error).__name__, (time.perf_counter() - started) * 1000))
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--stream-limit", type=int, help="STREAM_LIMIT for the server (default: its own default)")
    parser.add_argument("--idle-seconds", type=float, default=32.0)
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--json")
    args = parser.parse_args()
    want = 2 * max(args.clients, args.stream_limit or config.load({}).stream_limit) + 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # The server's worker and this process each hold about one fd per idle stream;
    # the 2x storm is opened in waves and each refused socket closed at once.
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    results: dict = {"config": vars(args)}
    redis_server = RedisServer()
    env = {"REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, "PRESENCE_TTL": "3600", "WEB_CONCURRENCY": "1"}
    if args.stream_limit:
        env["STREAM_LIMIT"] = str(args.stream_limit)
    app = AppServer(env)
    swarm = Swarm(app.port)
    try:
        worker, r = worker_of(app), redis_server.client()
        base = ping_pong_http(app.port, "sse", args.round_trips, 20)
        print(f"ping-pong SSE p50, no idle clients:       {base['p50'] * 1000:.2f} ms")
        tokens = sessions(redis_server.url, args.clients)
        rss0, started = rss_kb(worker), time.monotonic()
        for token in tokens:
            swarm.open(token)
        swarm.pump(600, until=lambda: swarm.ready() + len(swarm.refused()) >= args.clients)
        ready = swarm.ready()
        rss1 = rss_kb(worker)
        opened_in = time.monotonic() - started
        waits = sorted((e["answered"] - e["opened"]) for e in swarm.state.values() if e["answered"] is not None)
        print(
            f"idle SSE streams served: {ready} of {args.clients} in {opened_in:.0f} s "
            f"(first byte p50 {statistics.median(waits) if waits else 0:.1f} s, max {max(waits, default=0):.1f} s); "
            f"refused: {swarm.refusals() or 'none'}"
        )
        results.update(open_seconds=opened_in, open_refusals=swarm.refusals())
        print(f"worker memory: +{(rss1 - rss0) / 1024:.0f} MB, {(rss1 - rss0) / max(ready, 1):.1f} KB per stream")
        c0, n0, t0 = cpu_s(worker), commands(r), time.monotonic()
        swarm.pump(args.idle_seconds)
        idle_cores = (cpu_s(worker) - c0) / (time.monotonic() - t0)
        idle_commands = commands(r) - n0
        print(f"idle for {args.idle_seconds:g} s: worker CPU {idle_cores:.3f} cores, {idle_commands} Redis commands")
        loaded = ping_pong_http(app.port, "sse", args.round_trips, 20)
        ratio = loaded["p50"] / base["p50"]
        print(f"ping-pong SSE p50 beside them:            {loaded['p50'] * 1000:.2f} ms ({ratio:.2f}x)")
        results.update(
            served=ready,
            kb_per_stream=(rss1 - rss0) / max(ready, 1),
            idle_cores=idle_cores,
            idle_redis_commands=idle_commands,
            pingpong_p50_ms=[base["p50"] * 1000, loaded["p50"] * 1000],
        )

        stop, short = threading.Event(), []
        thread = threading.Thread(target=short_requests, args=(app.port, stop, short), daemon=True)
        thread.start()
        limit = args.stream_limit or config.load({}).stream_limit
        more = max(0, 2 * limit - args.clients)
        extra = Swarm(app.port, close_refused=True)
        storm_until = time.monotonic() + 300
        while len(extra.state) < more and time.monotonic() < storm_until:
            for _ in range(min(1000, more - len(extra.state))):
                extra.open(tokens[(len(extra.state)) % len(tokens)])
            extra.pump(30, until=lambda: extra.pending() == 0)
        extra.pump(30, until=lambda: extra.pending() == 0)
        stop.set()
        thread.join(30)
        refused = extra.refused()
        waits = sorted((e["answered"] - e["opened"]) * 1000 for e in refused)
        with_retry = sum(1 for e in refused if b"Retry-After:" in e["in"] or b"retry-after:" in e["in"])
        print(
            f"{more} more streams (2x the limit of {limit} in all): {len(refused)} refused with 503 "
            f"({with_retry} with Retry-After; {extra.refusals()}), "
            f"{extra.ready()} admitted; answered in p50 {statistics.median(waits) if waits else 0:.0f} ms, "
            f"max {max(waits) if waits else 0:.0f} ms"
        )
        ok = [s for s in short if s[1] in (201, 202, 200)]
        slow = max((s[2] for s in short), default=0)
        failed: dict[str, int] = {}
        for what, status, _ in short:
            if status not in (201, 202, 200):
                failed[f"{what} {status}"] = failed.get(f"{what} {status}", 0) + 1
        print(
            f"short requests meanwhile: {len(ok)} of {len(short)} answered OK "
            f"(p50 {statistics.median(s[2] for s in short) if short else 0:.0f} ms, slowest {slow:.0f} ms); "
            f"not OK: {failed or 'none'}"
        )
        results.update(
            refused=len(refused),
            refused_with_retry_after=with_retry,
            storm_refusals=extra.refusals(),
            short_ok=len(ok),
            short=len(short),
            short_failed=failed,
        )
        extra.close()
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
        return 0
    finally:
        swarm.close()
        app.stop()
        redis_server.stop()


if __name__ == "__main__":
    sys.exit(main())
