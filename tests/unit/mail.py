"""Reading a peer's mailbox in unit tests, as its own session would."""

from __future__ import annotations

from signaling.store import Store


def sid_of(store: Store, peer: str) -> str:
    sid = store.redis.hget(store.peer_keys(peer)[0], "sid")
    return sid.decode() if sid else ""


def entries(store: Store, peer: str, cursor: str = "0", ack: bool = True, count: int = 100) -> list[tuple[str, str]]:
    """``(id, envelope JSON)`` in ``peer``'s mailbox after ``cursor`` (none once its session ended)."""
    return store.read(peer, sid_of(store, peer), cursor, count, ack=ack).entries
