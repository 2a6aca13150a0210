"""Scale benchmark: relayed msg/s with 1, 2 and 4 app processes on one Redis and on a 3-master cluster.

One command, from the repository root:

    .venv/bin/python bench/scale.py [--seconds 4] [--pairs 8] [--batch 10] [--workers 1,2,4]

It starts a throwaway redis-server, a 6-node Redis Cluster (3 masters + 3
replicas, tests/support/cluster.py) and ``gunicorn main:app`` with
WEB_CONCURRENCY = 1, 2, 4 gevent workers on each, all on 127.0.0.1. For each
run, ``--pairs`` senders post ``--batch`` messages per request to their own
long-polling reader for ``--seconds``; it prints:

* relayed msg/s (messages the readers got / time to the last arrival), and
  the ratio to the 1-process, one-Redis run of the same invocation (the
  baseline);
* per Redis master: CPU (INFO cpu user+sys delta) per relayed message and
  its share of the SEND scripts and sharded publishes (INFO commandstats), to
  show the cluster spreads mailboxes and pub/sub across all masters;
* the cost of REDIS_WAIT_REPLICAS=1 on the cluster: p50/p99 latency of one
  send, without and with WAIT, measured back to back;
* Redis memory per idle session (MEMORY USAGE of its keys plus its share of
  the directory), the figure docs/SCALING.md plans with.

Load generator, app and Redis share the machine's cores, so the absolute
numbers are for comparing runs on one machine; the ratios are the result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from relay import SECRET, Client, Inbox  # noqa: E402

from tests.support.cluster import Cluster  # noqa: E402
from tests.support.processes import AppServer, RedisServer  # noqa: E402

FAST = {"SEND_RATE": "100000", "SEND_BURST": "100000", "MAILBOX_MAXLEN": "100000", "REGISTER_RATE": "0"}


def cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def calls(client: redis.Redis, command: str) -> int:
    return int(client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


def snapshot(masters: list[redis.Redis]) -> list[tuple[float, int, int]]:
    return [
        (cpu(m), calls(m, "evalsha") + calls(m, "eval"), calls(m, "spublish") + calls(m, "publish")) for m in masters
    ]


def relay(port: int, pairs: int, seconds: float, batch: int) -> tuple[int, float]:
    """(messages relayed, msg/s): ``pairs`` senders blasting batches to their own long-poll readers."""
    senders = [Client(port, f"s{i}") for i in range(pairs)]
    readers = [Client(port, f"r{i}") for i in range(pairs)]
    inboxes = [Inbox(r, "longpoll") for r in readers]
    sent = [0] * pairs
    start = time.perf_counter()
    end = start + seconds

    def blast(i: int) -> None:
        while time.perf_counter() < end:
            sent[i] += senders[i].send_batch(readers[i].id, list(range(sent[i], sent[i] + batch)))

    threads = [threading.Thread(target=blast, args=(i,)) for i in range(pairs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last = start
    for inbox, n in zip(inboxes, sent, strict=True):
        arrival = inbox.wait_count(n, timeout=60)
        if arrival is None:
            raise RuntimeError(f"only {inbox.count()} of {n} arrived")
        last = max(last, arrival)
    for c in [*inboxes]:
        c.close()
    for c in senders + readers:
        c.close()
    total = sum(sent)
    return total, total / (last - start)


def send_latency(port: int, count: int) -> tuple[float, float]:
    """p50/p99 ms of one send (batch of one) to a live peer."""
    a, b = Client(port, "lat-a"), Client(port, "lat-b")
    samples = []
    for n in range(count):
        t = time.perf_counter()
        a.send(b.id, n)
        samples.append((time.perf_counter() - t) * 1000)
    a.close()
    b.close()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def idle_session_bytes(url: str, port: int, prefix: str, count: int = 300) -> float:
    """Redis bytes per idle listed session: its keys' MEMORY USAGE plus its share of the directory."""
    client = redis.Redis.from_url(url, decode_responses=True)
    peers = [Client(port, f"idle{i}") for i in range(count)]
    for p in peers:
        p.request("POST", "/v1/sessions/me/heartbeat", {}, p.auth)  # whatever the app does on a refresh
    own = sum(client.memory_usage(k) or 0 for p in peers for k in client.scan_iter(f"{prefix}{{peer:{p.id}}}:*"))
    shared = sum(client.memory_usage(k) or 0 for k in client.scan_iter(f"{prefix}{{dir}}*"))
    for p in peers:
        p.close()
    return (own + shared) / count


def run_one(url: str, masters: list[redis.Redis], workers: int, args, prefix: str) -> dict:
    env = {"REDIS_URL": url, "SECRET_KEY": SECRET, "KEY_PREFIX": prefix, "WEB_CONCURRENCY": str(workers), **FAST}
    app = AppServer(env)
    try:
        relay(app.port, 2, 0.5, args.batch)  # warm-up: scripts loaded, pools filled
        before = snapshot(masters)
        total, rate = relay(app.port, args.pairs, args.seconds, args.batch)
        after = snapshot(masters)
    finally:
        app.stop()
    nodes = []
    for (c0, e0, p0), (c1, e1, p1) in zip(before, after, strict=True):
        nodes.append({"cpu_us_per_msg": (c1 - c0) * 1e6 / total, "scripts": e1 - e0, "publishes": p1 - p0})
    return {"messages": total, "rate": rate, "nodes": nodes}


def show(label: str, result: dict, baseline: float) -> None:
    scripts = sum(n["scripts"] for n in result["nodes"]) or 1
    publishes = sum(n["publishes"] for n in result["nodes"]) or 1
    per_node = "  ".join(
        f"[{n['cpu_us_per_msg']:.1f} us/msg, scripts {100 * n['scripts'] / scripts:.0f}%, "
        f"pub {100 * n['publishes'] / publishes:.0f}%]"
        for n in result["nodes"]
    )
    print(f"{label:<24} {result['rate']:8.0f} msg/s  x{result['rate'] / baseline:4.2f}   {per_node}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--latency-sends", type=int, default=300)
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]

    single, cluster = RedisServer(), Cluster()
    try:
        single_masters = [single.client()]
        cluster_masters = [m.client() for m in cluster.masters()]
        print(f"{args.pairs} sender/reader pairs, batches of {args.batch}, {args.seconds:.0f} s per run")
        print(f"{'run':<24} {'relayed':>14}  vs 1 proc/1 Redis   per Redis master")
        baseline = None
        for n in workers:
            for kind, url, masters in (
                ("1 Redis", single.url, single_masters),
                ("cluster", cluster.url, cluster_masters),
            ):
                result = run_one(url, masters, n, args, f"b{n}{kind[0]}:")
                baseline = baseline or result["rate"]
                show(f"{n} proc, {kind}", result, baseline)

        app = AppServer({"REDIS_URL": cluster.url, "SECRET_KEY": SECRET, "KEY_PREFIX": "lat0:", **FAST})
        app_wait = AppServer(
            {"REDIS_URL": cluster.url, "SECRET_KEY": SECRET, "KEY_PREFIX": "lat1:", "REDIS_WAIT_REPLICAS": "1", **FAST}
        )
        try:
            send_latency(app.port, 50)
            send_latency(app_wait.port, 50)
            p50, p99 = send_latency(app.port, args.latency_sends)
            w50, w99 = send_latency(app_wait.port, args.latency_sends)
        finally:
            app.stop()
            app_wait.stop()
        print(f"send latency on the cluster: p50 {p50:.2f} ms p99 {p99:.2f} ms;"
              f" with REDIS_WAIT_REPLICAS=1: p50 {w50:.2f} ms (x{w50 / p50:.2f}) p99 {w99:.2f} ms (x{w99 / p99:.2f})")  # fmt: skip

        app = AppServer({"REDIS_URL": single.url, "SECRET_KEY": SECRET, "KEY_PREFIX": "mem:", **FAST})
        try:
            print(f"Redis memory per idle session: {idle_session_bytes(single.url, app.port, 'mem:'):.0f} bytes")
        finally:
            app.stop()
    finally:
        single.stop()
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
