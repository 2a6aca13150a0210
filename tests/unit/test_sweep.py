"""The process-wide sweep (signaling/sweep.py) delivers mail whose wake-up was lost, and wakes no one else.

Wake-ups are dropped for real (the hub's dispatch discards them), the
message is stored through the API, and the sweep is run by hand, so nothing
here depends on the sweep's interval.
"""

from __future__ import annotations

import threading

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from signaling.sweep import Sweep, Watched
from tests.unit import test_sse
from tests.unit.test_sse import message, send

open_stream, peers = test_sse.open_stream, test_sse.peers  # the SSE tests' fixtures


@pytest.fixture
def sweep(app) -> Sweep:
    return app.extensions["signaling.sweep"]


def lose_wakeups(monkeypatch, state) -> None:
    """From now on the hub receives wake-ups but wakes nobody (as if pub/sub had dropped them)."""
    monkeypatch.setattr(state.hub, "_wake", lambda channel, note=None: None)


def next_frame_in_background(stream) -> tuple[threading.Thread, list[str]]:
    got: list[str] = []
    thread = threading.Thread(target=lambda: got.append(stream.frame()), daemon=True)
    thread.start()
    return thread, got


def streaming(client, stream, alice, bob) -> str:
    """Open ``stream`` past its first read (one message delivered); returns that message's id."""
    stream.frame()  # ready
    first = send(client, alice, bob, "first")
    assert message(stream.frame())[0] == first
    return first


def test_a_message_whose_wakeup_was_lost_arrives_at_the_next_sweep(
    client, open_stream, peers, state, sweep, monkeypatch
):
    alice, bob, bob_h = peers
    stream = open_stream(bob_h)
    streaming(client, stream, alice, bob)
    assert len(sweep) == 1
    lose_wakeups(monkeypatch, state)
    thread, got = next_frame_in_background(stream)
    lost = send(client, alice, bob, "lost wake-up")
    thread.join(0.5)
    assert not got, "no wake-up arrived, so the stream is still waiting (keep-alive is 15 s away)"
    sweep.sweep()
    thread.join(10)
    assert got and message(got[0])[0] == lost
    assert sweep.woken == 1


def waiting_without_wakeups(client, open_stream, peers, state, monkeypatch):
    """Bob's stream, caught up and waiting for its next frame in a thread, with every wake-up dropped."""
    alice, bob, bob_h = peers
    stream = open_stream(bob_h)
    streaming(client, stream, alice, bob)
    lose_wakeups(monkeypatch, state)
    return next_frame_in_background(stream)


def test_the_sweep_wakes_no_stream_that_is_up_to_date(client, open_stream, peers, state, sweep):
    alice, bob, bob_h = peers
    stream = open_stream(bob_h)
    streaming(client, stream, alice, bob)
    sweep.sweep()
    sweep.sweep()
    assert sweep.woken == 0 and sweep.sweeps == 2


def test_a_session_ended_with_its_wakeup_lost_ends_the_stream_at_the_sweep(
    client, open_stream, peers, state, sweep, monkeypatch
):
    alice, bob, bob_h = peers
    thread, got = waiting_without_wakeups(client, open_stream, peers, state, monkeypatch)
    assert client.delete("/v1/sessions/me", headers=bob_h).status_code == 204
    sweep.sweep()
    thread.join(10)
    assert got == ["event: session-ended\ndata: {}"]


def test_a_sweep_redis_cannot_answer_makes_the_streams_read_themselves(
    client, open_stream, peers, state, sweep, monkeypatch
):
    alice, bob, bob_h = peers
    thread, got = waiting_without_wakeups(client, open_stream, peers, state, monkeypatch)
    lost = send(client, alice, bob, "lost wake-up")

    class Broken:
        def hget(self, *args, **kwargs):
            pass

        xrevrange = hget

        def execute(self, raise_on_error=True):
            raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(sweep, "_client", type("Client", (), {"pipeline": lambda self, transaction: Broken()})())
    sweep.sweep()
    thread.join(10)
    assert got and message(got[0])[0] == lost, "woken by the failed sweep, the stream read by itself"


def test_a_closed_stream_leaves_the_sweep(client, open_stream, peers, sweep):
    alice, bob, bob_h = peers
    stream = open_stream(bob_h)
    streaming(client, stream, alice, bob)
    assert len(sweep) == 1
    stream.close()
    assert len(sweep) == 0


def test_behind_compares_stream_ids_as_numbers():
    watched = Watched("p", "sid", "999-9", lambda: None)
    assert Sweep._behind(watched, b"sid", [[b"1000-0", {}]])
    assert not Sweep._behind(watched, b"sid", [[b"999-9", {}]])
    assert not Sweep._behind(watched, b"sid", [])
    assert Sweep._behind(watched, b"other", [])
    assert Sweep._behind(watched, None, [])
