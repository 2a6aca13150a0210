"""Relay benchmark: how fast one gunicorn gevent worker relays messages between two HTTP clients.

One command, from the repository root:

    .venv/bin/python bench/relay.py [--round-trips 1000] [--seconds 4] [--batch 50] [--json out.json]

It starts its own throwaway redis-server and one ``gunicorn main:app``
(gevent worker, the production gunicorn.conf.py; REDIS_MAX_CONNECTIONS=8) on
127.0.0.1, reusing tests/support/processes.py, and stops both when done
(about a minute; a watchdog ends it after --limit seconds, 150 by default).
Loopback only. It prints:

* one-way latency p50/p90/p99 over SSE and over long-poll: two peers play
  ping-pong --round-trips times (after a short warm-up); every message carries
  the sender's ``perf_counter()`` taken just before its POST, and the receiver
  (same process, same clock) subtracts it on arrival. So one-way = POST +
  server relay + delivery to the waiting reader, both directions counted;
* sustained messages/s: a sender blasts for --seconds, one message per POST
  and --batch messages per POST, to a reader on SSE and on long-poll;
  rate = messages the reader got / time from first send to last arrival;
* Redis commands per relayed message for each phase, from ``INFO
  commandstats`` deltas (commands run inside Lua scripts are counted too,
  and shown apart from the script calls, which are the round trips);
* a baseline measured in the same run without HTTP: the same ping-pong and
  blast between two redis-py clients, once with XADD + XREAD BLOCK (a durable
  mailbox, closest to what the server does) and once with PUBLISH/SUBSCRIBE,
  printed as "overhead vs raw Redis = Nx".

The send-rate limit and mailbox cap are raised for the run (SEND_RATE,
SEND_BURST, MAILBOX_MAXLEN) so they do not throttle the blast; everything
else is the production configuration, access logging included. Clients are
plain http.client keep-alive connections and raw-socket SSE readers, in
threads of this process, on the same 2 cores as the server: numbers are for
comparing runs on one machine, not absolute capacity.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from tests.support.processes import AppServer, RedisServer, free_port  # noqa: E402
from tests.support.sse import SSEStream  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef"


# HTTP clients ------------------------------------------------------------------
class Client:
    """One peer over a keep-alive http.client connection (low client-side overhead)."""

    def __init__(self, port: int, name: str) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        status, body = self.request("POST", "/v1/sessions", {"name": name})
        assert status == 201, body
        self.id, self.token = body["peer_id"], body["token"]
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.cursor = "0"

    def clone(self) -> Client:
        """The same peer over a second connection (a reader thread must not share the sender's)."""
        other = Client.__new__(Client)
        other.__dict__.update(self.__dict__, conn=http.client.HTTPConnection("127.0.0.1", self.port, timeout=60))
        return other

    def request(self, method: str, path: str, body=None, headers=None):
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        self.conn.request(method, path, body=data, headers=all_headers)
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)

    def send(self, to: str, data) -> None:
        status, body = self.request("POST", "/v1/messages", {"to": to, "type": "bench", "data": data}, self.auth)
        if status != 202:
            raise RuntimeError(f"send: {status} {body}")

    def send_batch(self, to: str, items: list) -> int:
        messages = [{"to": to, "type": "bench", "data": d} for d in items]
        status, body = self.request("POST", "/v1/messages", {"messages": messages}, self.auth)
        if status == 429:
            time.sleep(0.01)
            return 0
        if status != 202:
            raise RuntimeError(f"send: {status} {body}")
        return len(items)

    def poll(self, wait: float = 25) -> list[dict]:
        status, body = self.request("GET", f"/v1/messages?cursor={self.cursor}&wait={wait}", headers=self.auth)
        if status != 200:
            raise RuntimeError(f"poll: {status} {body}")
        self.cursor = body["cursor"]
        return body["messages"]

    def sse(self) -> SSEStream:
        stream = SSEStream(f"http://127.0.0.1:{self.port}", f"/v1/events?token={quote(self.token)}", timeout=30)
        assert stream.status == 200
        assert stream.next_event(10).event == "ready"
        return stream

    def close(self) -> None:
        self.conn.close()


class Inbox:
    """A reader thread turning SSE events or long-poll answers into (data, arrival time) items."""

    def __init__(self, client: Client, transport: str) -> None:
        self.client, self.transport = client.clone(), transport
        self.items: list = []
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self.stream = self.client.sse() if transport == "sse" else None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            if self.stream is not None:
                event = self.stream.next_message(timeout=0.5)
                got = [] if event is None else [json.loads(event.data)["data"]]
            else:
                got = [m["data"] for m in self.client.poll(wait=1)]
            if got:
                now = time.perf_counter()
                with self.cond:
                    self.items.extend((d, now) for d in got)
                    self.cond.notify_all()

    def take(self, timeout: float = 10.0):
        """The next item, in arrival order."""
        with self.cond:
            if not self.cond.wait_for(lambda: self.items, timeout):
                raise TimeoutError(f"nothing arrived over {self.transport} within {timeout} s")
            return self.items.pop(0)

    def count(self) -> int:
        with self.cond:
            return len(self.items)

    def wait_count(self, n: int, timeout: float) -> float | None:
        """Arrival time of the n-th item, or None if fewer came within ``timeout``."""
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.items) >= n, timeout):
                return None
            return self.items[n - 1][1]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        if self.stream is not None:
            self.stream.close()
        self.client.close()


# measurements -------------------------------------------------------------------
def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"n": len(ordered), "p50": q[49], "p90": q[89], "p99": q[98], "max": ordered[-1]}


def commandstats(r: redis.Redis) -> dict[str, int]:
    return {k.removeprefix("cmdstat_"): v["calls"] for k, v in r.info("commandstats").items()}


def command_delta(before: dict, after: dict, messages: int) -> dict:
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    delta = {k: v for k, v in delta.items() if v > 0 and k != "info"}
    scripts = sum(v for k, v in delta.items() if k.startswith(("evalsha", "eval", "fcall")))
    total = sum(delta.values())
    top = sorted(delta.items(), key=lambda kv: -kv[1])[:8]
    return {
        "messages": messages,
        "commands_per_message": total / max(messages, 1),
        "script_calls_per_message": scripts / max(messages, 1),
        "breakdown_per_message": {k: round(v / max(messages, 1), 2) for k, v in top},
    }


def ping_pong_http(port: int, transport: str, round_trips: int, warmup: int, cpu=None) -> dict:
    """One-way latencies of ``round_trips`` pings and pongs between two peers, checked for loss/order."""
    a, b = Client(port, f"ping-{transport}"), Client(port, f"pong-{transport}")
    inbox_a, inbox_b = Inbox(a, transport), Inbox(b, transport)
    samples: list[float] = []
    done = threading.Event()
    wrong = [0, 0]  # pongs out of order / lost (timed out), pings seen twice

    def responder():
        answered = -1
        while not done.is_set():
            try:
                data, arrived = inbox_b.take(timeout=1)
            except TimeoutError:
                continue
            if data["i"] <= answered:
                wrong[1] += 1  # a duplicate ping: do not answer it twice
                continue
            answered = data["i"]
            if data["i"] >= warmup:
                samples.append(arrived - data["t"])
            b.send(a.id, {"i": data["i"], "t": time.perf_counter()})

    thread = threading.Thread(target=responder, daemon=True)
    thread.start()
    cpu_before = cpu() if cpu else 0.0
    try:
        for i in range(warmup + round_trips):
            a.send(b.id, {"i": i, "t": time.perf_counter()})
            data, arrived = inbox_a.take(timeout=30)
            if data["i"] != i:
                wrong[0] += 1
            if i >= warmup:
                samples.append(arrived - data["t"])
        time.sleep(0.2)
        cpu_used = (cpu() - cpu_before) if cpu else 0.0
        extra = inbox_a.count()
    finally:
        done.set()
        thread.join(5)
        inbox_a.close()
        inbox_b.close()
        for c in (a, b):
            c.close()
    stats = percentiles(samples)
    relayed = 2 * (warmup + round_trips)
    stats.update(
        lost=0,  # a lost message would have stopped the game (TimeoutError)
        duplicated=wrong[1] + extra,
        out_of_order=wrong[0],
        cpu_ms_per_message=1000 * cpu_used / relayed,
    )
    return stats


def integrity(items: list, senders: int) -> dict:
    """Lost, duplicated and out-of-order counts of {"s": sender, "n": seq} items against what was sent."""
    seen: set = set()
    last = [-1] * senders
    duplicated = out_of_order = 0
    for data, _ in items:
        key = (data["s"], data["n"])
        if key in seen:
            duplicated += 1
            continue
        seen.add(key)
        if data["n"] < last[data["s"]]:
            out_of_order += 1
        last[data["s"]] = data["n"]
    return {"unique": len(seen), "duplicated": duplicated, "out_of_order": out_of_order}


def blast_http(port: int, transport: str, seconds: float, batch: int, in_flight: int = 1, cpu=None) -> dict:
    """One reader; ``in_flight`` sender connections each posting ``batch`` messages per request for ``seconds``."""
    a, b = Client(port, f"blast-{transport}"), Client(port, f"sink-{transport}")
    senders = [a] + [a.clone() for _ in range(in_flight - 1)]
    inbox = Inbox(b, transport)
    counts = [0] * in_flight
    start = time.perf_counter()
    end = start + seconds
    cpu_before = cpu() if cpu else 0.0

    def run(k: int) -> None:
        client, n = senders[k], 0
        while time.perf_counter() < end:
            if batch == 1:
                client.send(b.id, {"s": k, "n": n})
                n += 1
            else:
                n += client.send_batch(b.id, [{"s": k, "n": i} for i in range(n, n + batch)])
        counts[k] = n

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(in_flight)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 60)
        sent = sum(counts)
        last = inbox.wait_count(sent, timeout=30)
        time.sleep(0.2)  # let duplicates, if any, arrive before counting
        cpu_used = (cpu() - cpu_before) if cpu else 0.0
        with inbox.cond:
            items = list(inbox.items)
        checks = integrity(items, in_flight)
        finished = last if last is not None else items[-1][1] if items else time.perf_counter()
        return {
            "sent": sent,
            "per_second": checks["unique"] / (finished - start),
            "lost": sent - checks["unique"],
            "duplicated": checks["duplicated"],
            "out_of_order": checks["out_of_order"],
            "cpu_ms_per_message": 1000 * cpu_used / max(checks["unique"], 1),
        }
    finally:
        inbox.close()
        for c in senders:
            c.close()
        b.close()


def ping_pong_redis(url: str, mode: str, round_trips: int, warmup: int) -> list[float]:
    """The same ping-pong between two redis-py clients, no HTTP: XADD + XREAD BLOCK, or PUBLISH/SUBSCRIBE."""
    a, b = redis.Redis.from_url(url), redis.Redis.from_url(url)
    samples: list[float] = []
    ready = threading.Event()

    if mode == "stream":
        a.delete("bench:raw:a", "bench:raw:b")

        def receive(client, key, last):
            while True:
                got = client.xread({key: last[0]}, block=5000, count=1)
                if got:
                    entry_id, fields = got[0][1][0]
                    last[0] = entry_id
                    return json.loads(fields[b"d"]), time.perf_counter()

        def send(client, key, data):
            client.xadd(key, {"d": json.dumps(data)})

        a_last, b_last = [b"0"], [b"0"]

        def a_receive():
            return receive(a, "bench:raw:a", a_last)

        def b_receive():
            return receive(b, "bench:raw:b", b_last)

        ready.set()
    else:
        pa, pb = a.pubsub(), b.pubsub()
        pa.subscribe("bench:raw:a")
        pb.subscribe("bench:raw:b")
        for p in (pa, pb):
            while p.get_message(timeout=5) is None:
                pass

        def receive_pubsub(p):
            while True:
                message = p.get_message(timeout=5)
                if message and message["type"] == "message":
                    return json.loads(message["data"]), time.perf_counter()

        def send(client, key, data):
            client.publish(key, json.dumps(data))

        def a_receive():
            return receive_pubsub(pa)

        def b_receive():
            return receive_pubsub(pb)

        ready.set()

    sender_b = redis.Redis.from_url(url)

    def responder():
        for _ in range(warmup + round_trips):
            data, arrived = b_receive()
            if data["i"] >= warmup:
                samples.append(arrived - data["t"])
            send(sender_b, "bench:raw:a", {"i": data["i"], "t": time.perf_counter()})

    thread = threading.Thread(target=responder, daemon=True)
    thread.start()
    sender_a = redis.Redis.from_url(url)
    for i in range(warmup + round_trips):
        send(sender_a, "bench:raw:b", {"i": i, "t": time.perf_counter()})
        data, arrived = a_receive()
        assert data["i"] == i
        if i >= warmup:
            samples.append(arrived - data["t"])
    thread.join(10)
    for c in (a, b, sender_a, sender_b):
        c.close()
    return samples


def blast_redis(url: str, seconds: float) -> tuple[int, float]:
    """XADD one message per round trip to an XREAD BLOCK reader: messages/s."""
    writer, reader = redis.Redis.from_url(url), redis.Redis.from_url(url)
    writer.delete("bench:raw:blast")
    received = [0, 0.0]

    def read():
        last = "0"
        while True:
            got = reader.xread({"bench:raw:blast": last}, block=2000, count=1000)
            if not got:
                return
            entries = got[0][1]
            last = entries[-1][0]
            if entries[-1][1][b"d"] == b"end":
                received[0] += len(entries) - 1
                received[1] = time.perf_counter()
                return
            received[0] += len(entries)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    start = time.perf_counter()
    sent = 0
    while time.perf_counter() < start + seconds:
        writer.xadd("bench:raw:blast", {"d": "x"})
        sent += 1
    writer.xadd("bench:raw:blast", {"d": "end"})
    thread.join(30)
    writer.close()
    reader.close()
    assert received[0] == sent, (received, sent)
    return sent, sent / (received[1] - start)


# report -------------------------------------------------------------------------
def http_floor(seconds: float) -> dict:
    """Singles (16 in flight) POSTed to apps that do no work (bench/http_floor.py), same worker class."""
    print("\nHTTP floor (apps that do no work, the product's gunicorn worker class, 1 worker)")
    floor = {}
    for app in ("noop", "flask_noop"):
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--worker-class", "signaling.worker.ProblemGeventWorker",
            "--workers", "1",
            "--bind", "127.0.0.1:{port}",
            "--pythonpath", str(ROOT / "bench"),
            f"http_floor:{app}",
        ]  # fmt: skip
        server = Server.floor(command)
        try:
            stats = post_blast(server.port, seconds, server.cpu)
        finally:
            server.stop()
        floor[app] = stats
        print(
            f"  {app:<12} 1 msg/POST, 16 in flight {stats['per_second']:>8,.0f} req/s  CPU {stats['cpu_ms']:.3f} ms/req"
        )
    return floor


def post_blast(port: int, seconds: float, cpu, in_flight: int = 16) -> dict:
    """``in_flight`` keep-alive connections POSTing one relay-sized message each, answers not read back."""
    body = json.dumps({"to": "x" * 22, "type": "bench", "data": {"s": 0, "n": 0}}).encode()
    counts = [0] * in_flight
    end = time.perf_counter() + seconds

    def run(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
        while time.perf_counter() < end:
            conn.request("POST", "/v1/messages", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 202, response.status
            counts[k] += 1
        conn.close()

    cpu_before, start = cpu(), time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(in_flight)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    elapsed, used = time.perf_counter() - start, cpu() - cpu_before
    return {"per_second": sum(counts) / elapsed, "cpu_ms": 1000 * used / max(sum(counts), 1)}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


class Server:
    """One ``gunicorn main:app`` under test, with its workers' CPU time from /proc."""

    def __init__(self, redis_url: str, workers: int | None, tree: Path | None = None, hiredis: bool = True):
        env = {
            "REDIS_URL": redis_url,
            "SECRET_KEY": SECRET,
            "KEY_PREFIX": "bench:",
            "REDIS_MAX_CONNECTIONS": "8",
            "SEND_RATE": "1000000",
            "SEND_BURST": "1000000",
            "MAILBOX_MAXLEN": "1000000",
            "WEB_CONCURRENCY": str(workers) if workers else None,  # None: gunicorn.conf.py's default
        }
        if not hiredis:
            env["PYTHONPATH"] = str(_no_hiredis())
        command = None
        if tree is not None:
            gunicorn = str(Path(sys.executable).parent / "gunicorn")
            command = [gunicorn, "-c", str(tree / "gunicorn.conf.py"), "--chdir", str(tree), "main:app"]
        self.app = AppServer(env, command=command)
        self.port = self.app.port
        self._find_workers(workers or 1)

    @classmethod
    def floor(cls, command: list[str]) -> Server:
        """A gunicorn running one of bench/http_floor.py's apps (``{port}`` in ``command`` is filled in)."""
        server = cls.__new__(cls)
        port = free_port()
        server.app = AppServer({}, command=[part.format(port=port) for part in command], port=port)
        server.port = port
        server._find_workers(1)
        return server

    def _find_workers(self, expected: int) -> None:
        wait_for_workers = time.monotonic() + 20
        while True:
            self.workers = [
                int(p)
                for p in subprocess.run(
                    ["pgrep", "-P", str(self.app.process.pid)], capture_output=True, text=True
                ).stdout.split()
            ]
            if len(self.workers) >= expected or time.monotonic() > wait_for_workers:
                break
            time.sleep(0.2)

    def cpu(self) -> float:
        """CPU seconds (user + system) the workers have used so far."""
        total = 0
        for pid in self.workers:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.app.stop()


def _no_hiredis() -> Path:
    """A PYTHONPATH entry whose ``hiredis`` fails to import, so redis-py uses its Python parser."""
    folder = Path(tempfile.mkdtemp(prefix="no-hiredis-")) / "hiredis"
    folder.mkdir()
    (folder / "__init__.py").write_text("raise ImportError('hiredis disabled for the before column')\n")
    return folder.parent


def checkout(ref: str) -> Path:
    """The repository at ``ref`` in a temporary directory (git archive: no worktree, no index change)."""
    target = Path(tempfile.mkdtemp(prefix="relay-before-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def run_server(server: Server, label: str, args, full: bool) -> dict:
    """Latency (ping-pong) and throughput phases against one server; prints a line per phase."""
    out: dict = {"latency": {}, "throughput": {}}
    if full:
        for transport in ("sse", "longpoll"):
            stats = ping_pong_http(server.port, transport, args.round_trips, args.warmup, server.cpu)
            out["latency"][transport] = stats
            print(
                f"  {label:<28} ping-pong {transport:<8} p50 {ms(stats['p50'])}  p99 {ms(stats['p99'])}  "
                f"CPU {stats['cpu_ms_per_message']:.3f} ms/msg  {_faults(stats)}"
            )
    shapes = [(1, 1), (1, 16), (args.batch, 1), (args.batch, 16)] if full else [(1, 16), (args.batch, 16)]
    for transport in ("sse", "longpoll") if full else ("sse",):
        for batch, in_flight in shapes:
            name = f"{transport}, {batch} msg/POST, {in_flight} in flight"
            stats = blast_http(server.port, transport, args.seconds, batch, in_flight, server.cpu)
            out["throughput"][name] = stats
            print(
                f"  {label:<28} {name:<34} {stats['per_second']:>8,.0f} msg/s  "
                f"CPU {stats['cpu_ms_per_message']:.3f} ms/msg  {_faults(stats)}"
            )
    return out


def _faults(stats: dict) -> str:
    return f"lost {stats['lost']} dup {stats['duplicated']} out-of-order {stats['out_of_order']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-trips", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each throughput blast")
    parser.add_argument("--batch", type=int, default=50, help="messages per POST in the batch blasts")
    parser.add_argument("--before", help="also measure the server at this git ref (e.g. main~5), Python parser")
    parser.add_argument(
        "--before-hiredis", action="store_true", help="run the --before tree with hiredis (a ref after the first pass)"
    )
    parser.add_argument("--limit", type=int, default=600, help="watchdog: give up after this many seconds")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    def watchdog(signum, frame):
        raise SystemExit(f"relay.py: gave up after {args.limit} s (watchdog)")

    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(args.limit)
    started = time.monotonic()
    results: dict = {"config": vars(args), "cores": os.cpu_count()}
    redis_server = RedisServer()
    try:
        r = redis_server.client()
        print(f"relay benchmark: redis-server {r.info('server')['redis_version']}, gunicorn gevent, 127.0.0.1, ")
        print(f"{os.cpu_count()} CPUs; {args.round_trips} round trips, {args.seconds:g} s blasts\n")
        results["floor"] = floor = raw_floor(redis_server.url, args)
        results["http_floor"] = http_floor(args.seconds)
        runs = [("after, 1 worker", 1, None, True, True)]
        runs.append((f"after, default ({os.cpu_count()} workers)", None, None, True, False))
        if args.before:
            runs.append((f"before ({args.before}), 1 worker", 1, checkout(args.before), args.before_hiredis, True))
        print("\nthe server (one-way latency is ping-pong, both directions; CPU is the workers' /proc time)")
        for label, workers, tree, hiredis, full in runs:
            server = Server(redis_server.url, workers, tree, hiredis)
            try:
                before = commandstats(r)
                results[label] = run_server(server, label, args, full)
                results[label]["redis_commands"] = command_delta(before, commandstats(r), 1)["breakdown_per_message"]
            finally:
                server.stop()
        summary(results, floor, runs)
        results["elapsed_s"] = time.monotonic() - started
        print(f"\ndone in {results['elapsed_s']:.0f} s")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2, default=str))
        return 0
    finally:
        signal.alarm(0)
        redis_server.stop()


def raw_floor(url: str, args) -> dict:
    """Raw Redis between two redis-py clients, no HTTP: the floor, measured in this run."""
    print("raw Redis floor (no HTTP)")
    floor = {}
    for mode, name in (("stream", "XADD+XREAD BLOCK"), ("pubsub", "PUBLISH/SUBSCRIBE")):
        stats = percentiles(ping_pong_redis(url, mode, args.round_trips, args.warmup))
        floor[name] = stats
        print(f"  ping-pong {name:<22} p50 {ms(stats['p50'])}  p99 {ms(stats['p99'])}")
    sent, rate = blast_redis(url, args.seconds)
    floor["blast"] = {"messages": sent, "per_second": rate}
    print(f"  XADD -> XREAD BLOCK blast, 1 in flight   {rate:>8,.0f} msg/s")
    return floor


def summary(results: dict, floor: dict, runs) -> None:
    raw = floor["XADD+XREAD BLOCK"]["p50"]
    print("\nsummary (ratios within this run)")
    for label, *_ in runs:
        res = results[label]
        if res["latency"]:
            sse, lp = res["latency"]["sse"], res["latency"]["longpoll"]
            print(
                f"  {label}: SSE p50 = {sse['p50'] / raw:.1f}x raw XADD+XREAD ping-pong; "
                f"long-poll p50 = {lp['p50'] / sse['p50']:.2f}x SSE's"
            )
    one, default = results[runs[0][0]]["throughput"], results[runs[1][0]]["throughput"]
    key = "sse, 1 msg/POST, 16 in flight"
    for app, floor_stats in results["http_floor"].items():
        print(
            f"  1 worker, SSE singles 16 in flight: CPU per relayed message = "
            f"{one[key]['cpu_ms_per_message'] / floor_stats['cpu_ms']:.1f}x a POST to {app} "
            f"({floor_stats['cpu_ms']:.3f} ms), msg/s = {one[key]['per_second'] / floor_stats['per_second']:.2f}x its req/s"
        )
    print(
        f"  default workers / 1 worker, SSE singles 16 in flight: {default[key]['per_second'] / one[key]['per_second']:.2f}x"
    )
    if len(runs) > 2:
        before = results[runs[2][0]]
        for name in ("sse, 1 msg/POST, 16 in flight", "sse, 1 msg/POST, 1 in flight"):
            ratio = one[name]["cpu_ms_per_message"] / max(before["throughput"][name]["cpu_ms_per_message"], 1e-9)
            speed = one[name]["per_second"] / before["throughput"][name]["per_second"]
            print(f"  after / before, {name}: {speed:.2f}x msg/s, {ratio:.2f}x CPU per message")
        ratio = results[runs[0][0]]["latency"]["sse"]["p50"] / before["latency"]["sse"]["p50"]
        print(f"  after / before, SSE ping-pong p50: {ratio:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
