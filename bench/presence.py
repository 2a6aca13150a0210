"""Presence cost against how many are online: does each operation stay O(log N + page)?

Starts its own redis-server on a free loopback port, fills it with 1,000,
10,000 and 100,000 listed sessions (through the store's own scripts,
pipelined), and at each size times the presence operations through
:class:`signaling.store.Store`:

* register (listed), leave, heartbeat (a touch that refreshes the listing),
  room join and leave, a directory page (50), a prefix search
* Redis CPU per operation: the sum of ``INFO commandstats`` usec over the run
  divided by the operations (execution time inside Redis, no network)
* client-side latency p50 / p99 (one round trip or two, on loopback)
* memory per idle listed session: ``MEMORY USAGE`` of its keys plus its
  share of the directory (``used_memory`` delta per session while filling)

The ratio column is each operation's Redis CPU at N against its value at
1,000, measured in the same run. Target: every ratio at 100,000 <= 1.5.

    .venv/bin/python bench/presence.py [--sizes 1000,10000,100000] [--ops 300]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402

from signaling.clock import now_ms  # noqa: E402
from signaling.config import load  # noqa: E402
from signaling.store import Store  # noqa: E402
from tests.support.processes import RedisServer  # noqa: E402

NAMES = ["Alice", "Bob", "Carol", "Dave", "Eve", "Ren", "Yuki", "Hana", "Sora", "Kenji", "María", "Zoë"]


def cpu_usec(client: redis.Redis) -> int:
    return sum(int(v["usec"]) for v in client.info("commandstats").values())


def fill(store: Store, start: int, count: int) -> None:
    """``count`` listed sessions, through the same scripts as register, 1,000 per pipeline."""
    register = store.space.scripts["REGISTER"]
    store.redis.script_load(register.script)
    store.redis.script_load(store.directory._upsert.script)
    ttl = 3_600_000
    for base in range(start, start + count, 1000):
        pipe = store.redis.pipeline(transaction=False)
        now = now_ms()
        for i in range(base, min(base + 1000, start + count)):
            peer, name = f"{i:08d}", f"{random.choice(NAMES)} {i}"
            pipe.evalsha(register.sha, 3, *store.peer_keys(peer), "sid", name, now, ttl, 1)
            pipe.evalsha(
                store.directory._upsert.sha,
                5,
                *store.directory.keys,
                now,
                peer,
                name,
                f"n:{name.casefold()}\0{peer}",
                now + ttl,
            )
        pipe.execute()


def timed(client: redis.Redis, ops: int, step) -> tuple[float, float, float]:
    """(Redis usec per op, client p50 ms, p99 ms) of ``ops`` calls of ``step(i)``."""
    before = cpu_usec(client)
    lat = []
    for i in range(ops):
        t = time.perf_counter()
        step(i)
        lat.append((time.perf_counter() - t) * 1000)
    used = cpu_usec(client) - before - 1  # the INFO call itself counts a little
    lat.sort()
    return used / ops, statistics.median(lat), lat[int(len(lat) * 0.99) - 1]


def measure(store: Store, size: int, ops: int) -> dict[str, tuple[float, float, float]]:
    r = store.redis
    tag = f"b{size}-"
    sids: dict[str, str] = {}
    out = {}

    def register(i: int) -> None:
        peer = f"{tag}{i}"
        sids[peer] = store.register(f"{random.choice(NAMES)} {i}", peer, listed=True)[1]

    out["register (listed)"] = timed(r, ops, register)
    peers = list(sids)

    def heartbeat(i: int) -> None:
        r.hset(store.peer_keys(peers[i])[0], "seen", 0)  # make the listing refresh due
        store.touch(peers[i], sids[peers[i]])

    out["heartbeat (refresh listing)"] = timed(r, ops, heartbeat)
    out["room join"] = timed(r, ops, lambda i: store.join_room(f"{tag}room{i // 4}", peers[i], "x"))
    out["room leave"] = timed(r, ops, lambda i: store.leave_room(f"{tag}room{i // 4}", peers[i]))
    out["directory page (50)"] = timed(r, ops, lambda i: store.peers("", 50))
    out["directory page 2 (50)"] = timed(r, ops, lambda i: store.peers("n:m", 50))
    out["search (prefix)"] = timed(r, ops, lambda i: store.peers("", 20, random.choice(NAMES)[:2]))
    out["leave"] = timed(r, ops, lambda i: store.end_session(peers[i], sids[peers[i]]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--ops", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    server = RedisServer()
    try:
        client = redis.Redis(port=server.port)
        settings = dataclasses.replace(load({}), key_prefix="bench:")
        store = Store(client, settings)
        results, memory = {}, {}
        filled = 0
        for size in sizes:
            before = client.info("memory")["used_memory"]
            fill(store, filled, size - filled)
            if size > filled:
                memory[size] = (client.info("memory")["used_memory"] - before) / (size - filled)
            filled = size
            results[size] = measure(store, size, args.ops)
            print(f"... {size:,} listed: measured", file=sys.stderr)
        one = client.memory_usage(store.peer_keys("00000001")[0]) or 0
        print(f"\nredis-server {client.info('server')['redis_version']}, {args.ops} operations each\n")
        header = "| operation | " + " | ".join(f"{s:,}: Redis µs · p50 · p99 ms" for s in sizes)
        print(header + f" | ratio {sizes[-1]:,} / {sizes[0]:,} |")
        print("|" + " --- |" * (len(sizes) + 2))
        for op in results[sizes[0]]:
            cells = [f"{results[s][op][0]:.1f} · {results[s][op][1]:.2f} · {results[s][op][2]:.2f}" for s in sizes]
            base = results[sizes[0]][op][0]
            ratio = results[sizes[-1]][op][0] / base if base else float("nan")
            print(f"| {op} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
        print()
        for size, per in memory.items():
            print(f"memory per listed idle session while filling to {size:,}: {per:,.0f} bytes")
        print(f"MEMORY USAGE of one session hash: {one} bytes")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
