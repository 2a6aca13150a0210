"""A frozen SSE client (SIGSTOP) leaves within 2 x PRESENCE_TTL: only client requests keep a session alive.

Its stream's keep-alives still land in kernel buffers, so they must not
count as presence (see the cross-team contract in docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.support.peers import Peer
from tests.support.processes import ROOT, wait_until

TTL = 3.0

CLIENT = r"""
import sys, threading, time
sys.path.insert(0, sys.argv[1])
from tests.support.peers import Peer
peer = Peer(sys.argv[2], "Frozen")
assert peer.join("freezer").status_code == 200
stream = peer.sse()
print(peer.id, flush=True)
def beat():
    while True:
        peer.http.post(sys.argv[2] + "/v1/sessions/me/heartbeat", headers=peer.auth, timeout=5)
        time.sleep(float(sys.argv[3]))
threading.Thread(target=beat, daemon=True).start()
while True:
    stream.next_event(timeout=60)
"""


def test_a_frozen_sse_client_leaves_its_room_within_two_presence_ttls(app_server_factory):
    app = app_server_factory({"PRESENCE_TTL": str(TTL)})
    watcher = Peer(app, "Watcher")
    assert watcher.join("freezer").status_code == 200
    interval = watcher.session["heartbeat_interval"]
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(ROOT), app.base, str(interval)], stdout=subprocess.PIPE, text=True
    )
    try:
        frozen = client.stdout.readline().strip()
        assert frozen, "the client did not start"
        # Alive and well for longer than a TTL: its heartbeats keep it (the watcher's polls keep the watcher).
        until = time.monotonic() + TTL * 1.5
        while time.monotonic() < until:
            watcher.poll(wait=0.5)
        assert frozen in {m["peer_id"] for m in watcher.get("/v1/rooms/freezer").json()["members"]}
        os.kill(client.pid, signal.SIGSTOP)
        stopped = time.monotonic()
        events: list = []

        def left() -> bool:
            events.extend(watcher.poll(wait=0.5)["messages"])
            return any(e["type"] == "peer-left" and e["data"]["peer_id"] == frozen for e in events)

        wait_until(left, timeout=2 * TTL + 1, interval=0.05, what="peer-left for the frozen client")
        departure = time.monotonic() - stopped
        print(f"\nfrozen SSE client left after {departure:.1f} s (PRESENCE_TTL {TTL} s)")
        assert departure <= 2 * TTL
        assert watcher.send(frozen, "anyone?").status_code == 404
    finally:
        os.kill(client.pid, signal.SIGKILL)
        client.wait(5)
