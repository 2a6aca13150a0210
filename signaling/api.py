"""The v1 HTTP API: sessions, directory, rooms and sending. Views translate HTTP to store calls."""

from __future__ import annotations

from typing import NamedTuple

import redis
from flask import Blueprint, Response, jsonify, request

from . import metrics
from . import validation as v
from .auth import bearer_token, unauthorized
from .errors import Problem
from .ice import ice_servers
from .state import signaling
from .store import FULL, OFFLINE, OVER_SHARE, PeerTaken, RoomFull, Session, envelope, envelope_prefix

bp = Blueprint("api", __name__, url_prefix="/v1")


def authenticate(cost: int = 0) -> Session:
    """The caller's live session (refreshing its presence), or a 401."""
    state = signaling()
    parsed = state.tokens.parse(bearer_token(request))
    if parsed is None:
        raise unauthorized("The session token is not valid")
    session = state.store.touch(parsed[0], parsed[1], cost)
    if session is None:
        raise unauthorized("The session has ended; register again")
    return session


def _members(pairs: list[tuple[str, str]]) -> list[dict]:
    return [{"peer_id": p, "name": n} for p, n in pairs]


# sessions -----------------------------------------------------------------
@bp.post("/sessions")
def register():
    body = v.json_object(request)
    name = v.display_name(body.get("name"))
    wanted = body.get("peer_id")
    if wanted is not None:
        wanted = v.peer_id(wanted)
    listed = v.flag(body.get("listed", False), "listed")
    state = signaling()
    wait = state.store.allow_registration(request.remote_addr or "unknown", state.settings.register_rate)
    if wait:
        raise Problem(
            429,
            "rate-limited",
            "Too many sessions",
            "Too many sessions from this address; retry later",
            headers={"Retry-After": str(wait)},
        )
    try:
        peer, sid = state.store.register(name, wanted, listed)
    except PeerTaken:
        raise Problem(409, "peer-id-taken", "Peer id taken", "A live session holds this peer id") from None
    s = state.settings
    response = jsonify(
        peer_id=peer,
        name=name,
        listed=listed,
        token=state.tokens.issue(peer, sid),
        ice_servers=ice_servers(s, peer),
        transports=list(s.transports),
        heartbeat_interval=s.heartbeat_interval,
        presence_ttl=s.presence_ttl,
        longpoll_max_wait=s.longpoll_max_wait,
    )
    response.status_code = 201
    response.headers["Location"] = "/v1/sessions/me"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessions/me")
def whoami():
    session = authenticate()
    return jsonify(peer_id=session.peer_id, name=session.name, listed=session.listed)


@bp.delete("/sessions/me")
def leave():
    session = authenticate()
    signaling().store.end_session(session.peer_id, session.sid)
    return Response(status=204)


@bp.post("/sessions/me/heartbeat")
def heartbeat():
    """Keep the session alive; ``{"ack": id}`` also drops the mail up to ``id``.

    An SSE reader acknowledges this way while it streams, so a reader that
    keeps up never leaves a full mailbox behind for senders to hit.
    """
    ack = "0"
    if request.content_length or request.mimetype:
        value = v.json_object(request).get("ack")
        if value is not None and not isinstance(value, str):
            raise v.bad_request("'ack' must be a message id or null", field="ack")
        ack = v.cursor(value, field="ack")
    session = authenticate()
    state = signaling()
    state.store.acknowledge(session.peer_id, ack)
    s = state.settings
    return jsonify(heartbeat_interval=s.heartbeat_interval, presence_ttl=s.presence_ttl)


@bp.get("/ice-servers")
def ice():
    session = authenticate()
    return jsonify(ice_servers=ice_servers(signaling().settings, session.peer_id))


# directory ----------------------------------------------------------------
@bp.get("/peers")
def peers():
    """A page of the listed sessions; ``If-None-Match`` with the last ETag answers 304 when nothing changed."""
    state = signaling()
    limit = v.whole_number(request.args.get("limit"), "limit", 50, 1, state.settings.peers_page_max)
    after = v.directory_cursor(request.args.get("after") or "")
    query = v.search_prefix(request.args.get("q") or "")
    authenticate()
    if request.if_none_match:
        # The cheap check first: one GET, no page built.
        etag = str(state.store.directory.version())
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"', "Cache-Control": "no-cache"})
    page = state.store.peers(after, limit, query)
    response = jsonify(peers=_members(page.peers), total=page.total, next=page.next, version=page.version)
    response.headers["ETag"] = f'"{page.version}"'
    response.headers["Cache-Control"] = "no-cache"
    return response


# rooms --------------------------------------------------------------------
@bp.post("/rooms/<room>/members")
def join(room: str):
    v.room_name(room)
    session = authenticate()
    state = signaling()
    try:
        members = state.store.join_room(room, session.peer_id, session.name)
    except RoomFull:
        raise Problem(
            409,
            "room-full",
            "Room is full",
            f"The room holds at most {state.settings.room_capacity} people",
            capacity=state.settings.room_capacity,
        ) from None
    return jsonify(room=room, members=_members(members), capacity=state.settings.room_capacity)


@bp.delete("/rooms/<room>/members/me")
def part(room: str):
    v.room_name(room)
    session = authenticate()
    signaling().store.leave_room(room, session.peer_id, reason="left")
    return Response(status=204)


@bp.get("/rooms/<room>")
def room_info(room: str):
    v.room_name(room)
    authenticate()
    state = signaling()
    members = state.store.room_members(room)
    return jsonify(room=room, members=_members(members), capacity=state.settings.room_capacity)


# sending ------------------------------------------------------------------
class Outgoing(NamedTuple):
    """One parsed message of a send: its target, type, data and client id ('' = none)."""

    to: str | None
    room: str | None
    kind: str
    data: object
    cid: str


def _parse_message(item) -> Outgoing:
    if not isinstance(item, dict):
        raise v.bad_request("Each message must be a JSON object")
    to, room = item.get("to"), item.get("room")
    for key in ("to", "room"):
        if key in item and item[key] is None:
            raise v.bad_request(f"'{key}' must be a string when present", field=key)
    if to is None and room is None:
        raise v.bad_request("A message needs 'to' (a peer id) or 'room'")
    if to is not None:
        v.peer_id(to, "to")
    if room is not None:
        v.room_name(room)
    if "data" not in item:
        raise v.bad_request("A message needs 'data' (any JSON value, null allowed)", field="data")
    return Outgoing(to, room, v.message_type(item.get("type")), item["data"], v.client_id(item.get("cid")))


@bp.post("/messages")
def send():
    body = v.json_object(request)
    state = signaling()
    batch = "messages" in body
    items = body["messages"] if batch else [body]
    if not isinstance(items, list) or not 1 <= len(items) <= state.settings.max_batch:
        raise v.bad_request(f"'messages' must be a list of 1 to {state.settings.max_batch} messages")
    parsed = [_parse_message(item) for item in items]
    recipient = _only_recipient(parsed)
    if recipient is not None and state.store.one_round_trip:
        results = _touch_and_deliver(state, parsed, recipient)
        targets = [[(recipient, i)] for i in range(len(parsed))]
    else:
        results, targets = _authenticate_and_deliver(state, parsed)
    metrics.sent(results)
    ids = [_ids_of(slots, results) for slots in targets]
    _refuse_undelivered(parsed, results, ids)
    if batch:
        return jsonify(ids=[i["id"] for i in ids], recipients=[i["recipients"] for i in ids]), 202
    return jsonify(ids[0]), 202


def _only_recipient(parsed: list[Outgoing]) -> str | None:
    """The one peer every message goes to directly (the common send), else None."""
    first = parsed[0].to
    if first is None or any(m.to != first for m in parsed):
        return None
    return first


def _touch_and_deliver(state, parsed: list[Outgoing], recipient: str) -> dict:
    """Authenticate, charge the rate and deliver in one round trip (one Redis, one recipient).

    The same checks in the same order as :func:`_authenticate_and_deliver`:
    401 for a session that is not live, 429 when over the rate; nothing is
    stored in either case.
    """
    token = state.tokens.parse(bearer_token(request))
    if token is None:
        raise unauthorized("The session token is not valid")
    peer, sid = token
    items = [(m.cid, envelope_prefix(m.kind, m.data, peer)) for m in parsed]
    try:
        session, result = state.store.touch_send(peer, sid, len(parsed), recipient, items)
    except (redis.TimeoutError, redis.ConnectionError) as error:
        raise _outcome_unknown(error) from None
    if session is None:
        raise unauthorized("The session has ended; register again")
    _check_rate(session)
    return {recipient: result}


def _authenticate_and_deliver(state, parsed: list[Outgoing]) -> tuple[dict, list[list[tuple[str, int]]]]:
    """The general send: TOUCH, then the room lists, then one SEND per recipient (pipelined)."""
    session = authenticate(cost=len(parsed))
    _check_rate(session)
    rooms = _room_recipients(state, session.peer_id, parsed)
    batches: dict[str, list[tuple[str, str]]] = {}
    targets: list[list[tuple[str, int]]] = []  # per message: (recipient, index in its batch)
    for message in parsed:
        stored = envelope(message.kind, message.data, session.peer_id, session.name, message.room)
        recipients = [message.to] if message.to is not None else rooms[message.room]
        slots = []
        for peer in recipients:
            batches.setdefault(peer, []).append((message.cid, stored))
            slots.append((peer, len(batches[peer]) - 1))
        targets.append(slots)
    return _deliver(state, batches, session.peer_id), targets


def _check_rate(session: Session) -> None:
    if session.retry_after_ms:
        seconds = max(1, -(-session.retry_after_ms // 1000))
        raise Problem(
            429, "rate-limited", "Too many messages", "Slow down and retry", headers={"Retry-After": str(seconds)}
        )


def _room_recipients(state, me: str, parsed: list[Outgoing]) -> dict[str, list[str]]:
    rooms: dict[str, list[str]] = {}
    for message in parsed:
        room = message.room
        if room is not None and room not in rooms:
            members = [p for p, _ in state.store.room_members(room)]
            if me not in members:
                raise Problem(403, "not-a-member", "Not a room member", f"Join room '{room}' before sending to it")
            rooms[room] = [p for p in members if p != me]
    return rooms


def _deliver(state, batches: dict, sender: str) -> dict:
    """Run the SEND scripts; a lost reply is a 503 that says the outcome is unknown.

    The script may have run before the connection broke or timed out, so the
    sender cannot be told "nothing was stored". Messages with a ``cid`` are
    safe to resend as they are (stored once); without one a resend may duplicate.
    """
    try:
        return state.store.deliver(batches, sender)
    except (redis.TimeoutError, redis.ConnectionError) as error:
        raise _outcome_unknown(error) from None


def _outcome_unknown(error: Exception) -> Problem:
    metrics.redis_error(error)
    return Problem(
        503,
        "store-unavailable",
        "Message store unavailable",
        "The message store did not answer; the messages may or may not have been stored. "
        "Resend with the same 'cid' values: each is stored at most once.",
        headers={"Retry-After": "2"},
        outcome="unknown",
    )


def _refuse_undelivered(parsed: list[Outgoing], results: dict, ids: list[dict]) -> None:
    """404 if a direct recipient is offline, 429 if one is full; the body names both kinds.

    ``ids`` then lists, per message, its id when every direct recipient took
    it, else null: those messages were not accepted and may be resent.
    """
    direct = {m.to for m in parsed if m.to is not None}
    offline = sorted(p for p in direct if results.get(p) == OFFLINE)
    full = sorted(p for p in direct if results.get(p) in (FULL, OVER_SHARE))
    if not offline and not full:
        return
    refused = set(offline) | set(full)
    accepted = [None if m.to in refused else i["id"] for m, i in zip(parsed, ids, strict=True)]
    extra = {"offline": offline, "full": full, "ids": accepted}
    if offline:
        raise Problem(404, "peer-offline", "Recipient offline", "No live session for: " + ", ".join(offline), **extra)
    share = any(results.get(p) == OVER_SHARE for p in full)
    raise Problem(
        429,
        "mailbox-full",
        "Recipient mailbox full",
        "You hold your share of the recipient's unread messages; retry shortly"
        if share
        else "The recipient is not reading its messages",
        headers={"Retry-After": "2"},
        **extra,
    )


def _ids_of(slots: list[tuple[str, int]], results: dict) -> dict:
    recipients = {peer: results[peer][index] for peer, index in slots if isinstance(results.get(peer), list)}
    first = next(iter(recipients.values()), None)
    return {"id": first, "recipients": recipients}
