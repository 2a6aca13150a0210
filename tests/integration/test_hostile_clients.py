"""Clients that stop reading: bounded worker memory per stalled SSE stream, ended on time."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.peers import Peer
from tests.support.processes import wait_until

STALLED = 20
STREAM_MAX = 4.0
WRITE_TIMEOUT = 2.0
BIG = "x" * 60_000
PER_MAILBOX = 96  # 5.5 MB a mailbox: more than the kernel buffers, so the server's writes block


def worker_pid(app) -> int:
    children = Path(f"/proc/{app.process.pid}/task/{app.process.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def stalled_reader(app, peer: Peer) -> socket.socket:
    """Open /v1/events with a tiny receive window and never read from it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", app.port))
    request = f"GET /v1/events?token={quote(peer.token)} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
    sock.sendall(request.encode())
    return sock


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Drain what the kernel holds; True once the stream has ended (last chunk, EOF or reset).

    A stream that had already written everything into kernel buffers ends
    with its last chunk and leaves an idle keep-alive connection; one whose
    write timed out is cut.
    """
    sock.settimeout(timeout)
    tail = b""
    try:
        while data := sock.recv(1 << 20):
            tail = (tail + data)[-7:]
            if tail.endswith(b"\r\n0\r\n\r\n"):
                return True
    except TimeoutError:
        return False
    except OSError:
        pass
    return True


@pytest.mark.timeout(120)
def test_stalled_sse_readers_cost_bounded_memory_and_end_at_stream_max_duration(app_server_factory):
    app = app_server_factory(
        {
            "STREAM_MAX_DURATION": str(STREAM_MAX),
            "SSE_WRITE_TIMEOUT": str(WRITE_TIMEOUT),
            "MAILBOX_MAXLEN": "100",
            "MAX_BATCH": "16",
            "MAILBOX_SENDER_SHARE": "100",
            "MAX_BODY_BYTES": str(1 << 20),
            "SEND_RATE": "100000",
            "SEND_BURST": "100000",
            "PRESENCE_TTL": "60",
        }
    )
    sender = Peer(app, "Sender")
    readers = [Peer(app, f"Stalled {i}") for i in range(STALLED)]
    for reader in readers:
        batch = [{"to": reader.id, "type": "blob", "data": BIG} for _ in range(16)]
        for _ in range(PER_MAILBOX // 16):
            response = sender.http.post(app.url("/v1/messages"), json={"messages": batch}, headers=sender.auth)
            assert response.status_code == 202, response.text
    pid = worker_pid(app)
    time.sleep(0.5)
    baseline = rss_kb(pid)
    peak = [baseline]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    opened = time.monotonic()
    sockets = [stalled_reader(app, reader) for reader in readers]
    try:
        time.sleep(STREAM_MAX + WRITE_TIMEOUT + 1)
        ended = [closed_by_server(sock, timeout=3) for sock in sockets]
        took = time.monotonic() - opened
    finally:
        sampling.set()
        sampler.join(2)
        for sock in sockets:
            sock.close()
    per_stream_kb = (peak[0] - baseline) / STALLED
    mailbox_kb = PER_MAILBOX * len(BIG) / 1024
    print(
        f"\nstalled SSE readers: {STALLED}, mailbox {mailbox_kb:.0f} KB each, worker RSS {baseline} -> "
        f"peak {peak[0]} KB, {per_stream_kb:.0f} KB per stalled stream; all ended within {took:.1f} s"
    )
    assert all(ended), f"streams still open past STREAM_MAX_DURATION + SSE_WRITE_TIMEOUT: {ended.count(False)}"
    # A stream holds at most SSE_BUFFER_BYTES (256 KB) of mail or one envelope; the mailbox is 5.5 MB.
    assert per_stream_kb < 1024, per_stream_kb
    wait_until(lambda: sender.get("/healthz").json()["waiting"] == 0, timeout=10, what="stalled waiters released")
    # The server is fine afterwards (the cut readers' sessions end: a dropped
    # stream is a departure): a new reader gets its mail.
    fresh = Peer(app, "Fresh")
    sender.send_ok(fresh.id, "hello")
    assert [m["data"] for m in fresh.poll(wait=0)["messages"]] == ["hello"]
