"""The Python client (signaling_client) round-trips through real gunicorn + redis-server.

Over SSE and long-poll: single and batched sends arrive in order, a reader
that stops resumes from its cursor without loss or duplicates (on the same
instance, on another one, and across a server restart), an idle SSE reader
keeps its session with heartbeats, and leaving ends the session.
"""

from __future__ import annotations

import pytest

from signaling_client import Client, Outgoing, SessionEnded, SignalingError

TRANSPORTS = ["sse", "longpoll"]


def client(server, name: str, **kwargs) -> Client:
    peer = Client(server.base, timeout=5)
    peer.register(name, **kwargs)
    return peer


def take(reader, count: int) -> list:
    """``count`` messages from an open reader (its idle timeout bounds the wait)."""
    out = []
    for message in reader:
        out.append(message)
        if len(out) == count:
            break
    return out


def numbers(messages) -> list:
    return [m.data["n"] for m in messages]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_single_and_batched_sends_arrive_in_order_with_sender(app, transport):
    alice, bob = client(app, "Alice"), client(app, "Bob")
    sent = alice.send(bob.peer_id, "note", {"n": 0})
    assert sent["recipients"] == {bob.peer_id: sent["id"]}
    batch = alice.send_batch(Outgoing("note", {"n": n}, to=bob.peer_id) for n in (1, 2, 3))
    assert len(batch["ids"]) == 3
    got = take(bob.messages(transport, idle_timeout=10), 4)
    assert numbers(got) == [0, 1, 2, 3]
    assert {(m.sender, m.sender_name, m.type) for m in got} == {(alice.peer_id, "Alice", "note")}
    assert [m.id for m in got] == [sent["id"], *batch["ids"]] and bob.cursor == got[-1].id


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_reader_resumes_from_its_cursor_here_and_on_another_instance(two_apps, transport):
    first, second = two_apps
    alice, bob = client(first, "Alice"), client(first, "Bob")
    for n in range(4):
        alice.send(bob.peer_id, "note", {"n": n})
    reader = bob.messages(transport, idle_timeout=10)
    assert numbers(take(reader, 2)) == [0, 1]
    reader.close()  # the reader goes away after two (SSE: the connection is dropped)
    assert numbers(take(bob.messages(transport, idle_timeout=10), 1)) == [2]
    bob.base_url = second.base  # a balancer sends the next connection elsewhere
    alice.send(bob.peer_id, "note", {"n": 4})
    assert numbers(take(bob.messages(transport, idle_timeout=10), 2)) == [3, 4]
    assert list(bob.messages(transport, idle_timeout=1)) == []  # nothing twice


def test_the_default_transport_is_the_first_the_server_advertises(app_server_factory):
    app = app_server_factory({"TRANSPORTS": "longpoll"})
    alice, bob = client(app, "Alice"), client(app, "Bob")
    alice.send(bob.peer_id, "note", {"n": 7})
    assert bob.session["transports"] == ["longpoll"]
    reader = bob.messages(idle_timeout=10)
    assert reader.__name__ == "longpoll_messages" and numbers(take(reader, 1)) == [7]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_reader_reconnects_after_a_server_restart_without_loss(own_app, transport):
    app = own_app  # restarted below, so not the module's shared server
    alice, bob = client(app, "Alice"), client(app, "Bob")
    alice.send(bob.peer_id, "note", {"n": 0})
    reader = bob.messages(transport, idle_timeout=20)
    assert numbers(take(reader, 1)) == [0]
    app.restart()  # same port, same Redis: the open connection dies, the mailbox stays
    alice.send(bob.peer_id, "note", {"n": 1})
    alice.send(bob.peer_id, "note", {"n": 2})
    assert numbers(take(reader, 2)) == [1, 2]
    reader.close()


def test_an_idle_sse_reader_keeps_its_session_with_heartbeats(app_server_factory):
    app = app_server_factory({"PRESENCE_TTL": "3", "HEARTBEAT_INTERVAL": "1", "SSE_KEEPALIVE": "0.5"})
    bob = client(app, "Bob")
    assert list(bob.messages("sse", idle_timeout=5)) == []  # > PRESENCE_TTL without a message
    alice = client(app, "Alice")
    alice.send(bob.peer_id, "note", {"n": 1})
    assert numbers(take(bob.messages("sse", idle_timeout=5), 1)) == [1]


def test_register_listed_heartbeat_and_leave(app):
    alice, bob = client(app, "Alice"), client(app, "Bob", listed=True)
    assert bob.session["name"] == "Bob" and bob.token
    bob.heartbeat()
    assert bob.peer_id in [p["peer_id"] for p in alice.peers()["peers"]]
    gone, token = bob.peer_id, bob.token
    bob.leave()
    assert bob.session == {}
    stale = Client(app.base, timeout=5)
    stale.session = {"peer_id": gone, "name": "Bob", "token": token}
    with pytest.raises(SessionEnded):
        stale.heartbeat()
    with pytest.raises(SignalingError) as offline:
        alice.send(gone, "note", {"n": 1})
    assert offline.value.status == 404 and offline.value.type == "peer-offline"
