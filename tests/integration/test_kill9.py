"""``kill -9`` of one of two instances while 10,000 numbered messages flow: none lost, none doubled, order kept.

The sender posts single messages and batches of ten, each message with a
client id, alternating instances; when a request fails (connection refused
or reset, 5xx) it resends the same body to the other instance, as the
browser client does. One receiver reads over SSE (acknowledging with
heartbeats), the other long-polls; both switch instance when theirs dies.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time

import pytest
import requests

from tests.support.peers import Peer
from tests.support.processes import wait_until

TOTAL = 10_000
BATCH = 10
ROOM = "kill9"
ENV = {"SEND_RATE": "100000", "SEND_BURST": "100000", "PRESENCE_TTL": "30"}


class Sender:
    def __init__(self, peer: Peer, servers: list) -> None:
        self.peer = peer
        self.servers = servers
        self.sent = 0
        self.resends = 0
        self.turn = itertools.cycle(range(2))

    def post(self, body: dict) -> None:
        """Until 202: the same body (same cids) to one instance, then the other."""
        deadline = time.monotonic() + 60
        index = next(self.turn)
        while time.monotonic() < deadline:
            server = self.servers[index]
            try:
                response = self.peer.http.post(
                    server.url("/v1/messages"), json=body, headers=self.peer.auth, timeout=10
                )
                if response.status_code == 202:
                    return
                assert response.status_code in (429, 502, 503), response.text
                time.sleep(0.05 if response.status_code != 429 else 0.2)
            except requests.RequestException:
                pass
            self.resends += 1
            index = 1 - index
        raise AssertionError(f"could not send {body!r}")

    def run(self) -> None:
        n = 0
        while n < TOTAL:
            self.post({"room": ROOM, "type": "n", "data": n, "cid": f"m{n}"})
            n += 1
            batch = [{"room": ROOM, "type": "n", "data": i, "cid": f"m{i}"} for i in range(n, min(TOTAL, n + BATCH))]
            if batch:
                self.post({"messages": batch})
                n += len(batch)
            self.sent = n


class Received:
    """What one receiver saw: numbers in arrival order, after dropping repeated message ids (as clients do)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.numbers: list[int] = []
        self.switches = 0

    def add(self, envelope: dict) -> None:
        if envelope["type"] != "n" or envelope["id"] in self.ids:
            return
        self.ids.add(envelope["id"])
        self.numbers.append(envelope["data"])

    @property
    def done(self) -> bool:
        return len(set(self.numbers)) >= TOTAL


def read_sse(peer: Peer, servers: list, out: Received, stop: threading.Event) -> None:
    index, last, acked = 0, None, None
    while not stop.is_set() and not out.done:
        server = servers[index]
        try:
            stream = peer.sse(via=server, last_event_id=last)
        except (OSError, AssertionError):
            index, out.switches = 1 - index, out.switches + 1
            time.sleep(0.1)
            continue
        with stream:
            while not stop.is_set() and not out.done:
                event = stream.next_event(timeout=1)
                if event is None:
                    if stream.eof:
                        break
                    continue
                if event.id:
                    out.add(event.json())
                    last = event.id
                if last and last != acked and len(out.numbers) % 200 == 0:
                    try:
                        peer.http.post(
                            server.url("/v1/sessions/me/heartbeat"), json={"ack": last}, headers=peer.auth, timeout=5
                        )
                        acked = last
                    except requests.RequestException:
                        break
        if stream.eof:
            index = 1 - index  # this instance may be gone; the other one resumes from Last-Event-ID
            out.switches += 1


def read_longpoll(peer: Peer, servers: list, out: Received, stop: threading.Event) -> None:
    index = 0
    while not stop.is_set() and not out.done:
        try:
            body = peer.poll(wait=2, via=servers[index], timeout=8)
        except (requests.RequestException, AssertionError):
            index, out.switches = 1 - index, out.switches + 1
            time.sleep(0.1)
            continue
        for envelope in body["messages"]:
            out.add(envelope)


@pytest.mark.timeout(240)
def test_kill_9_of_one_instance_loses_and_doubles_nothing(app_server_factory):
    one, two = app_server_factory(ENV), app_server_factory(ENV)
    servers = [one, two]
    sender = Sender(Peer(one, "Sender"), servers)
    on_sse, on_poll = Peer(one, "SSE reader"), Peer(one, "Poller")
    for peer in (sender.peer, on_sse, on_poll):
        assert peer.join(ROOM).status_code == 200
    got_sse, got_poll = Received(), Received()
    stop = threading.Event()
    readers = [
        threading.Thread(target=read_sse, args=(on_sse, servers, got_sse, stop), daemon=True),
        threading.Thread(target=read_longpoll, args=(on_poll, servers, got_poll, stop), daemon=True),
    ]
    for reader in readers:
        reader.start()
    sending = threading.Thread(target=sender.run, daemon=True)
    sending.start()
    wait_until(lambda: sender.sent >= TOTAL // 3, timeout=120, what="a third of the messages sent")
    one.stop(signal.SIGKILL)
    sending.join(180)
    assert sender.sent == TOTAL
    try:
        wait_until(lambda: got_sse.done and got_poll.done, timeout=60, interval=0.2, what="every message received")
    finally:
        stop.set()
        for reader in readers:
            reader.join(10)

    for got in (got_sse, got_poll):
        assert sorted(set(got.numbers)) == list(range(TOTAL)), "lost: %d" % (TOTAL - len(set(got.numbers)))
        assert len(got.numbers) == TOTAL, "the same number under two message ids (a duplicate by cid)"
        assert got.numbers == sorted(got.numbers), "order"
        assert got.switches >= 1, "the reader never had to move to the surviving instance"
    print(
        f"\nkill -9: sent {TOTAL}, sender resends {sender.resends}, lost 0, duplicates 0, "
        f"reader switches sse={got_sse.switches} longpoll={got_poll.switches}"
    )
