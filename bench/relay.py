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
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from tests.support.processes import AppServer, RedisServer  # noqa: E402
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


def ping_pong_http(port: int, transport: str, round_trips: int, warmup: int) -> list[float]:
    """One-way latencies (s) of ``round_trips`` pings and pongs between two peers."""
    a, b = Client(port, f"ping-{transport}"), Client(port, f"pong-{transport}")
    inbox_a, inbox_b = Inbox(a, transport), Inbox(b, transport)
    samples: list[float] = []
    done = threading.Event()

    def responder():
        while not done.is_set():
            try:
                data, arrived = inbox_b.take(timeout=1)
            except TimeoutError:
                continue
            if data["i"] >= warmup:
                samples.append(arrived - data["t"])
            b.send(a.id, {"i": data["i"], "t": time.perf_counter()})

    thread = threading.Thread(target=responder, daemon=True)
    thread.start()
    try:
        for i in range(warmup + round_trips):
            a.send(b.id, {"i": i, "t": time.perf_counter()})
            data, arrived = inbox_a.take(timeout=30)
            assert data["i"] == i, (data, i)
            if i >= warmup:
                samples.append(arrived - data["t"])
    finally:
        done.set()
        thread.join(5)
        inbox_a.close()
        inbox_b.close()
        for c in (a, b):
            c.close()
    return samples


def blast_http(port: int, transport: str, seconds: float, batch: int) -> tuple[int, float]:
    """(messages delivered, messages/s) with one sender posting ``batch`` per request."""
    a, b = Client(port, f"blast-{transport}"), Client(port, f"sink-{transport}")
    inbox = Inbox(b, transport)
    sent = 0
    start = time.perf_counter()
    end = start + seconds
    try:
        while time.perf_counter() < end:
            if batch == 1:
                a.send(b.id, sent)
                sent += 1
            else:
                sent += a.send_batch(b.id, list(range(sent, sent + batch)))
        last = inbox.wait_count(sent, timeout=60)
        if last is None:
            raise RuntimeError(f"only {inbox.count()} of {sent} messages arrived over {transport}")
        return sent, sent / (last - start)
    finally:
        inbox.close()
        a.close()
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
def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-trips", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each throughput blast")
    parser.add_argument("--batch", type=int, default=50, help="messages per POST in the batch blast")
    parser.add_argument("--limit", type=int, default=150, help="watchdog: give up after this many seconds")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    def watchdog(signum, frame):
        raise SystemExit(f"relay.py: gave up after {args.limit} s (watchdog)")

    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(args.limit)
    started = time.monotonic()
    results: dict = {"config": vars(args)}
    redis_server = RedisServer()
    app = None
    try:
        app = AppServer(
            {
                "REDIS_URL": redis_server.url,
                "SECRET_KEY": SECRET,
                "KEY_PREFIX": "bench:",
                "REDIS_MAX_CONNECTIONS": "8",
                "SEND_RATE": "1000000",
                "SEND_BURST": "1000000",
                "MAILBOX_MAXLEN": "1000000",
                "WEB_CONCURRENCY": "1",
            }
        )
        r = redis_server.client()
        print(f"relay benchmark: redis-server {r.info('server')['redis_version']} and gunicorn (1 gevent worker)")
        print(f"on 127.0.0.1, {os.cpu_count()} CPUs; {args.round_trips} round trips, {args.seconds:g} s blasts\n")

        print("one-way latency (ping-pong, both directions; p50 / p90 / p99 / max)")
        latency = {}
        for name, run in (
            (
                "raw redis XADD+XREAD BLOCK",
                lambda: ping_pong_redis(redis_server.url, "stream", args.round_trips, args.warmup),
            ),
            (
                "raw redis PUBLISH/SUBSCRIBE",
                lambda: ping_pong_redis(redis_server.url, "pubsub", args.round_trips, args.warmup),
            ),
            ("HTTP SSE", lambda: ping_pong_http(app.port, "sse", args.round_trips, args.warmup)),
            ("HTTP long-poll", lambda: ping_pong_http(app.port, "longpoll", args.round_trips, args.warmup)),
        ):
            before = commandstats(r)
            samples = run()
            stats = percentiles(samples)
            if name.startswith("HTTP"):
                relayed = 2 * (args.warmup + args.round_trips)  # pings and pongs, warm-up included
                stats["redis"] = command_delta(before, commandstats(r), relayed)
            latency[name] = stats
            print(f"  {name:<30} {ms(stats['p50'])} / {ms(stats['p90'])} / {ms(stats['p99'])} / {ms(stats['max'])}")
        results["latency"] = latency
        raw = latency["raw redis XADD+XREAD BLOCK"]["p50"]
        raw_pubsub = latency["raw redis PUBLISH/SUBSCRIBE"]["p50"]
        for name in ("HTTP SSE", "HTTP long-poll"):
            p50 = latency[name]["p50"]
            print(
                f"  {name}: overhead vs raw Redis = {p50 / raw:.1f}x (XADD+XREAD BLOCK), "
                f"{p50 / raw_pubsub:.1f}x (PUBLISH/SUBSCRIBE), p50"
            )

        print(f"\nsustained throughput (one sender, {args.seconds:g} s)")
        throughput = {}
        sent, rate = blast_redis(redis_server.url, args.seconds)
        throughput["raw redis XADD -> XREAD BLOCK"] = {"messages": sent, "per_second": rate}
        print(f"  {'raw redis XADD -> XREAD BLOCK':<36} {rate:>9,.0f} msg/s  ({sent:,} messages)")
        for transport in ("sse", "longpoll"):
            for batch in (1, args.batch):
                name = f"HTTP {transport}, {batch} msg/POST"
                before = commandstats(r)
                sent, rate = blast_http(app.port, transport, args.seconds, batch)
                redis_cost = command_delta(before, commandstats(r), sent)
                throughput[name] = {"messages": sent, "per_second": rate, "redis": redis_cost}
                print(
                    f"  {name:<36} {rate:>9,.0f} msg/s  ({sent:,} messages; "
                    f"{redis_cost['commands_per_message']:.2f} Redis commands/msg, "
                    f"{redis_cost['script_calls_per_message']:.2f} script calls/msg)"
                )
        results["throughput"] = throughput
        single = throughput["HTTP sse, 1 msg/POST"]["per_second"]
        print(
            f"  HTTP SSE singles: overhead vs raw Redis = {throughput['raw redis XADD -> XREAD BLOCK']['per_second'] / single:.1f}x"
        )

        print("\nRedis commands per relayed message (INFO commandstats deltas; includes commands inside Lua scripts)")
        for name, stats in [(k, v["redis"]) for k, v in latency.items() if "redis" in v] + [
            (k, v["redis"]) for k, v in throughput.items() if "redis" in v
        ]:
            label = f"ping-pong {name}" if name in latency else name
            print(f"  {label:<36} {stats['commands_per_message']:5.2f}  {stats['breakdown_per_message']}")

        results["elapsed_s"] = time.monotonic() - started
        print(f"\ndone in {results['elapsed_s']:.0f} s")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
        return 0
    finally:
        signal.alarm(0)
        if app is not None:
            app.stop()
        redis_server.stop()


if __name__ == "__main__":
    sys.exit(main())
