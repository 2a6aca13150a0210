"""How long a vanished peer stays a ghost: connection gone -> the room's peer-left.

Default settings (PRESENCE_TTL 45 s, DEPARTURE_GRACE 5 s, LONGPOLL_MAX_WAIT
25 s), real redis-server and ``gunicorn main:app`` (gevent), loopback. Three
ways to vanish, each timed from the moment it happened to the moment Alice
(long-polling in the same room) receives ``peer-left``:

* SSE: the stream's socket is closed with no goodbye (a closed or crashed tab)
* long-poll: the peer answers its last poll (wait 25 s) and never polls again
* frozen: the stream stays open but the client sends nothing (SIGSTOP-like);
  the presence TTL is the bound here, as nothing closed

The baseline is the TTL-only departure the server had before (45 s TTL plus
up to a heartbeat of listing slack), printed beside each figure.

    .venv/bin/python bench/departure.py [--runs 3] [--skip-frozen]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.peers import Peer  # noqa: E402
from tests.support.processes import AppServer, RedisServer  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"


def ghost_seconds(app: AppServer, vanish, room: str) -> float:
    alice, bob = Peer(app, "Alice"), Peer(app, "Bob")
    assert alice.join(room).status_code == 200 and bob.join(room).status_code == 200
    stream = bob.sse()
    stream.next_event()
    alice.poll(wait=0)
    start = time.monotonic()
    vanish(bob, stream)
    while time.monotonic() < start + 120:
        for event in alice.poll(wait=5)["messages"]:
            if event["type"] == "peer-left" and event["data"]["peer_id"] == bob.id:
                stream.close()
                return time.monotonic() - start
    raise AssertionError("no peer-left within 120 s")


def closed_stream(bob: Peer, stream) -> None:
    stream.close()


def stopped_polling(bob: Peer, stream) -> None:
    stream.close()
    bob.poll(wait=25)  # the last poll: it waits its full 25 s (nothing arrives), then silence


def frozen(bob: Peer, stream) -> None:
    pass  # the stream stays open; no heartbeat ever comes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-frozen", action="store_true")
    args = parser.parse_args()
    redis_server = RedisServer()
    app = AppServer({"REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, "KEY_PREFIX": "bench:"})
    try:
        cases = [("SSE stream closed", closed_stream), ("long-poll stopped (wait 25 s)", stopped_polling)]
        if not args.skip_frozen:
            cases.append(("frozen client, stream open", frozen))
        print("| how the peer vanished | ghost for (median of runs) | runs | TTL-only baseline |")
        print("| --- | --- | --- | --- |")
        for label, vanish in cases:
            runs = 1 if vanish is frozen else args.runs
            took = [ghost_seconds(app, vanish, f"r{i}{label[:3]}") for i in range(runs)]
            print(f"| {label} | {statistics.median(took):.1f} s | {', '.join(f'{t:.1f}' for t in took)} | 45-60 s |")
    finally:
        Peer.hang_up_all()
        app.stop()
        redis_server.stop()


if __name__ == "__main__":
    main()
