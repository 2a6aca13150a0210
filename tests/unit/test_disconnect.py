"""The hang-up watcher (signaling/disconnect.py) on real gevent sockets: it sees a close and only a close."""

from __future__ import annotations

import gevent
from gevent import socket

from signaling.disconnect import HangUpWatcher


def until(condition, seconds: float = 5.0) -> bool:
    with gevent.Timeout(seconds, False):
        while not condition():
            gevent.sleep(0.01)
    return condition()


def test_a_client_that_closes_its_end_is_noticed_at_once():
    server, client = socket.socketpair()
    calls = []
    watcher = HangUpWatcher(server, lambda: calls.append(1))
    try:
        gevent.sleep(0.05)
        assert calls == [] and not watcher.hung_up, "an open, silent client is not a hang-up"
        client.close()
        assert until(lambda: calls == [1]) and watcher.hung_up
    finally:
        watcher.stop()
        server.close()


def test_data_from_the_client_is_not_a_hang_up_and_is_left_unread():
    server, client = socket.socketpair()
    calls = []
    watcher = HangUpWatcher(server, lambda: calls.append(1))
    try:
        client.sendall(b"x")
        gevent.sleep(0.05)
        client.close()
        gevent.sleep(0.05)
        assert calls == [] and not watcher.hung_up
        assert server.recv(1) == b"x", "peeked, not consumed"
    finally:
        watcher.stop()
        server.close()


def test_a_stopped_watcher_calls_nothing():
    server, client = socket.socketpair()
    calls = []
    HangUpWatcher(server, lambda: calls.append(1)).stop()
    client.close()
    gevent.sleep(0.05)
    assert calls == []
    server.close()
