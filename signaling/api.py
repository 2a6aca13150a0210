"""The v1 HTTP API: sessions, directory, rooms and sending. Views translate HTTP to store calls."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Request

from . import validation as v
from .auth import authenticate, bearer_token, ended, session_of, signed_session
from .errors import Problem, bad_request
from .ice import ice_servers
from .relay import NotAMember, OutcomeUnknown, Outgoing, Relayed, only_recipient, relay, relay_direct
from .rooms import RoomFull
from .sessions import PeerTaken, Session
from .state import Signaling, signaling

bp = Blueprint("api", __name__, url_prefix="/v1")
# What jsonify writes (compact, ASCII), without a new encoder per call.
_compact = json.JSONEncoder(separators=(",", ":")).encode


def _members(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"peer_id": p, "name": n} for p, n in pairs]


# sessions -----------------------------------------------------------------
@bp.post("/sessions")
def register() -> ResponseReturnValue:
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
def whoami() -> ResponseReturnValue:
    session = authenticate()
    return jsonify(peer_id=session.peer_id, name=session.name, listed=session.listed)


@bp.delete("/sessions/me")
def leave() -> ResponseReturnValue:
    session = authenticate()
    signaling().store.end_session(session.peer_id, session.sid)
    return Response(status=204)


@bp.post("/sessions/me/heartbeat")
def heartbeat() -> ResponseReturnValue:
    """Keep the session alive; ``{"ack": id}`` also drops the mail up to ``id``.

    An SSE reader acknowledges this way while it streams, so a reader that
    keeps up never leaves a full mailbox behind for senders to hit.
    """
    ack = "0"
    if request.content_length or request.mimetype:
        value = v.json_object(request).get("ack")
        if value is not None and not isinstance(value, str):
            raise bad_request("'ack' must be a message id or null", field="ack")
        ack = v.cursor(value, field="ack")
    session = authenticate()
    state = signaling()
    state.store.acknowledge(session.peer_id, ack)
    s = state.settings
    return jsonify(heartbeat_interval=s.heartbeat_interval, presence_ttl=s.presence_ttl)


@bp.get("/ice-servers")
def ice() -> ResponseReturnValue:
    session = authenticate()
    return jsonify(ice_servers=ice_servers(signaling().settings, session.peer_id))


# directory ----------------------------------------------------------------
@bp.get("/peers")
def peers() -> ResponseReturnValue:
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
def join(room: str) -> ResponseReturnValue:
    room = v.room_name(room)
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
def part(room: str) -> ResponseReturnValue:
    room = v.room_name(room)
    session = authenticate()
    signaling().store.leave_room(room, session.peer_id, reason="left")
    return Response(status=204)


@bp.get("/rooms/<room>")
def room_info(room: str) -> ResponseReturnValue:
    room = v.room_name(room)
    authenticate()
    state = signaling()
    members = state.store.room_members(room)
    return jsonify(room=room, members=_members(members), capacity=state.settings.room_capacity)


# sending ------------------------------------------------------------------
def _parse_message(item: object) -> Outgoing:
    if not isinstance(item, dict):
        raise bad_request("Each message must be a JSON object")
    to, room = item.get("to"), item.get("room")
    for key in ("to", "room", "cid"):
        if key in item and item[key] is None:
            raise bad_request(f"'{key}' must be a string when present", field=key)
    if to is None and room is None:
        raise bad_request("A message needs 'to' (a peer id) or 'room'")
    if to is not None:
        v.peer_id(to, "to")
    if room is not None:
        room = v.room_name(room)
    if "data" not in item:
        raise bad_request("A message needs 'data' (any JSON value, null allowed)", field="data")
    return Outgoing(to, room, v.message_type(item.get("type")), item["data"], v.client_id(item.get("cid")))


@bp.post("/messages")
def send() -> ResponseReturnValue:
    """Reached only without signaling.shortcut.Shortcut in front (which serves this route itself)."""
    return send_messages(signaling(), request)


def send_messages(state: Signaling, request: Request) -> Response:
    """One message (``{to|room, type, data}``) or a batch (``{messages: [...]}``): 202 when all were stored.

    Needs no Flask context: :class:`signaling.shortcut.Shortcut` calls it
    straight from WSGI. Errors are raised (Problem, Redis errors) for the
    caller to map with :func:`signaling.errors.error_response`.
    """
    body = v.json_object(request)
    batch = "messages" in body
    items = body["messages"] if batch else [body]
    if not isinstance(items, list) or not 1 <= len(items) <= state.settings.max_batch:
        raise bad_request(f"'messages' must be a list of 1 to {state.settings.max_batch} messages")
    parsed = [_parse_message(item) for item in items]
    try:
        recipient = only_recipient(parsed)
        if recipient is not None and state.store.one_round_trip:
            relayed = _relay_direct(state, request, parsed, recipient)
        else:
            _check_rate(session := session_of(state, bearer_token(request), cost=len(parsed)))
            relayed = relay(state.store, session, parsed)
    except NotAMember as error:
        raise Problem(
            403, "not-a-member", "Not a room member", f"Join room '{error.room}' before sending to it"
        ) from None
    except OutcomeUnknown:
        raise _outcome_unknown() from None
    if relayed.refused:
        raise _refused(relayed)
    receipts = relayed.receipts
    if batch:
        answer: dict[str, object] = {"ids": [r.id for r in receipts], "recipients": [r.recipients for r in receipts]}
    else:
        answer = {"id": receipts[0].id, "recipients": receipts[0].recipients}
    return Response(_compact(answer) + "\n", 202, mimetype="application/json")


def _relay_direct(state: Signaling, request: Request, parsed: list[Outgoing], recipient: str) -> Relayed:
    """The sender's TOUCH and SEND in one round trip (one Redis, one recipient): 401 and 429 as usual."""
    peer, sid = signed_session(state, bearer_token(request))
    session, relayed = relay_direct(state.store, peer, sid, parsed, recipient)
    if session is None:
        raise ended()
    _check_rate(session)
    assert relayed is not None  # stored whenever the rate charge was accepted
    return relayed


def _check_rate(session: Session) -> None:
    if session.retry_after_ms:
        seconds = max(1, -(-session.retry_after_ms // 1000))
        raise Problem(
            429, "rate-limited", "Too many messages", "Slow down and retry", headers={"Retry-After": str(seconds)}
        )


def _outcome_unknown() -> Problem:
    return Problem(
        503,
        "store-unavailable",
        "Message store unavailable",
        "The message store did not answer; the messages may or may not have been stored. "
        "Resend with the same 'cid' values: each is stored at most once.",
        headers={"Retry-After": "2"},
        outcome="unknown",
    )


def _refused(relayed: Relayed) -> Problem:
    """404 if a direct recipient is offline, else 429 (full); the body names both kinds.

    ``ids`` lists, per message, its id when every direct recipient took it,
    else null: those messages were not accepted and may be resent.
    """
    offline, full, ids = relayed.offline, relayed.full, relayed.accepted
    if relayed.offline:
        detail = "No live session for: " + ", ".join(relayed.offline)
        return Problem(404, "peer-offline", "Recipient offline", detail, offline=offline, full=full, ids=ids)
    return Problem(
        429,
        "mailbox-full",
        "Recipient mailbox full",
        "You hold your share of the recipient's unread messages; retry shortly"
        if relayed.over_share
        else "The recipient is not reading its messages",
        headers={"Retry-After": "2"},
        offline=offline,
        full=full,
        ids=ids,
    )
