"""Namespace ``/agent``: the representatives' console. Thin: authenticate, check the payload, call the desk."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio

from chatbot.chat.desk import Desk, Representative
from chatbot.chat.emitter import AGENT, AGENTS_ROOM, FOLLOWERS_PREFIX, agent_room, followers_room
from chatbot.chat.lifecycle import State
from chatbot.chat.protocol import (
    ChatError,
    acked,
    error,
    flag,
    message_json,
    message_text,
    ok,
    optional_str,
    payload,
    refusal,
)
from chatbot.chat.routing import Router
from chatbot.chat.staff import Role, Staff, cookie_token
from chatbot.chat.teamwork import Teamwork
from chatbot.shared.cluster import Channel
from chatbot.shared.guard import Guard
from chatbot.shared.shapes import storable
from chatbot.store import StoreUnavailable, token_digest

log = logging.getLogger(__name__)

STATES = tuple(State)
RECHECK_SECONDS = 30.0
"""How often each process re-checks its consoles on its own (without Redis, the only way it learns of a change
made by ``chatbot users``)."""


def _conversation_id(data: Any) -> str:
    conversation_id = optional_str(payload(data), "conversation_id", 64)
    if conversation_id is None:
        raise ChatError("bad_request", "'conversation_id' is required.")
    return conversation_id


def _has_token(auth: Any) -> bool:
    return isinstance(auth, dict) and "token" in auth


class AgentNamespace(socketio.AsyncNamespace):  # type: ignore[misc]  # python-socketio ships no types
    """One socket per console tab; a representative is online while any of their tabs is."""

    def __init__(self, desk: Desk, guard: Guard, router: Router | None, staff: Staff, teamwork: Teamwork,
                 channel: Channel | None = None) -> None:
        super().__init__(AGENT)
        self.desk = desk
        self.teamwork = teamwork
        self.channel = channel
        self._sids: set[str] = set()
        self.guard = guard
        self.router = router
        self.staff = staff

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Refuse (``unauthorized``, nothing sent) without a valid token or session cookie; slow down guessing.

        A token in ``auth`` is used when given (headless clients); otherwise the staff session cookie that
        ``POST /auth/login`` set, which the browser sends with the handshake."""
        address = self.guard.address(environ)
        if not self.guard.may_sign_in(address):
            raise refusal("rate_limited", "Too many failed sign-ins from your address; wait a minute.")
        try:
            rep = await self._sign_in(auth) if _has_token(auth) else await self._session(environ)
        except StoreUnavailable:
            raise refusal("unavailable", "The service is temporarily unavailable.") from None
        if rep is None:
            await self.guard.sign_in_failed(address)
            raise refusal("unauthorized", "A valid representative token or staff sign-in is required.")
        if not self.guard.open_socket(address):
            raise refusal("too_many_connections", "Too many open connections from your address.")
        await self.save_session(sid, {"rep": rep, "address": address})
        self._sids.add(sid)
        self.server.start_background_task(self._welcome, sid, rep)

    async def _sign_in(self, auth: Any) -> Representative | None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not 0 < len(token) <= 200 or not storable(token):
            return None
        return await self.desk.sign_in(token)

    async def _session(self, environ: dict[str, Any]) -> Representative | None:
        request = environ.get("aiohttp.request")
        token = cookie_token(request.cookies) if request is not None else None
        member = await self.staff.member(token) if token is not None else None
        if member is None or token is None:
            return None
        return Representative(member.id, member.name, token_digest(token), role=member.role.value, session=True,
                              email=member.email)

    async def _welcome(self, sid: str, rep: Representative) -> None:
        try:
            await self.enter_room(sid, AGENTS_ROOM)
            await self.enter_room(sid, agent_room(rep.id))
            for conversation_id in await self.desk.connected(rep, sid):
                await self.enter_room(sid, followers_room(conversation_id))
            await self.emit("queue", await self.desk.queue(), to=sid)
        except (StoreUnavailable, KeyError) as exc:
            log.warning("could not welcome representative socket %s: %s", sid, exc)

    async def on_disconnect(self, sid: str, *reason: Any) -> None:
        self._sids.discard(sid)
        session = await self.get_session(sid)
        if "address" in session:
            self.guard.close_socket(session["address"])
        rep = session.get("rep")
        if rep is not None:
            try:
                await self.desk.disconnected(rep, sid)
            except StoreUnavailable:
                log.warning("database unavailable while %s disconnected", rep.id)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Every event of a signed-in socket first checks that its sign-in still holds: a rotated or removed
        token, or a session that ended, expired, went idle, lost its user or changed role, is answered
        ``unauthorized`` and its socket is disconnected."""
        if event in ("connect", "disconnect") or await self._signed_in(args[0]):
            return await super().trigger_event(event, *args)
        self.server.start_background_task(self.disconnect, args[0])
        return error("unauthorized")

    async def recheck(self) -> None:
        """Drop this process's consoles whose sign-in ended (a disabled user, a role change, a reset password),
        and take agents out of the conversations another representative now holds. Run every
        ``RECHECK_SECONDS``, when another process or ``chatbot users`` announces a change on the cluster channel,
        and after a take or a transfer here."""
        for sid in list(self._sids):
            try:
                if not await self._signed_in(sid, touch=False):
                    log.info("representative socket %s dropped: its sign-in ended", sid)
                    await self.disconnect(sid)
                else:
                    await self._evict(sid)
            except (StoreUnavailable, KeyError) as exc:
                log.warning("could not re-check representative socket %s: %s", sid, exc)

    async def _evict(self, sid: str) -> None:
        """An agent follows only conversations nobody holds or they hold: out of every other one's room."""
        rep: Representative = (await self.get_session(sid))["rep"]
        if rep.role != Role.AGENT:
            return
        for room in self.rooms(sid):
            if not room.startswith(FOLLOWERS_PREFIX):
                continue
            conversation_id = room.removeprefix(FOLLOWERS_PREFIX)
            if not await self.desk.may_follow(rep, conversation_id):
                await self.leave_room(sid, room)
                await self.emit("unwatched", {"conversation_id": conversation_id, "reason": "taken"}, to=sid)

    async def recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            await self.recheck()

    async def _changed_hands(self) -> None:
        """A conversation changed hands: re-check here now, and tell the other processes to."""
        self.server.start_background_task(self.recheck)
        if self.channel is not None:
            await self.channel.publish()

    async def _signed_in(self, sid: str, touch: bool = True) -> bool:
        rep = (await self.get_session(sid)).get("rep")
        try:
            if rep is not None and rep.session:
                member = await self.staff.member_by_digest(rep.token_hash, touch=touch)
                return member is not None and member.role.value == rep.role
            return rep is not None and await self.desk.still_signed_in(rep)
        except StoreUnavailable:
            return True  # the event's own handler answers unavailable; an outage must not sign everyone out

    async def _rep(self, sid: str) -> Representative:
        session = await self.get_session(sid)
        rep: Representative = session["rep"]
        return rep

    @acked
    async def on_conversations(self, sid: str, data: Any) -> dict[str, Any]:
        body = payload(data)
        state = body.get("state")
        limit = body.get("limit", 50)
        if state is not None and state not in STATES:
            raise ChatError("bad_request", f"'state' must be one of {', '.join(STATES)}.")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 200:
            raise ChatError("bad_request", "'limit' must be a whole number from 1 to 200.")
        return ok(conversations=await self.desk.conversations(state, limit))

    @acked
    async def on_watch(self, sid: str, data: Any) -> dict[str, Any]:
        conversation_id = _conversation_id(data)
        address = (await self.get_session(sid)).get("address", "")
        conversation = await self.desk.watch(await self._rep(sid), conversation_id, address)
        await self.enter_room(sid, followers_room(conversation_id))
        return ok(conversation={**conversation, "notes": await self.teamwork.notes(conversation_id)})

    @acked
    async def on_unwatch(self, sid: str, data: Any) -> dict[str, Any]:
        await self.leave_room(sid, followers_room(_conversation_id(data)))
        return ok()

    @acked
    async def on_take(self, sid: str, data: Any) -> dict[str, Any]:
        conversation_id = _conversation_id(data)
        conversation = await self.desk.take(await self._rep(sid), conversation_id, address=await self._address(sid))
        await self.enter_room(sid, followers_room(conversation_id))
        await self._changed_hands()
        return ok(conversation={**conversation, "notes": await self.teamwork.notes(conversation_id)})

    @acked
    async def on_message(self, sid: str, data: Any) -> dict[str, Any]:
        conversation_id = _conversation_id(data)
        body = payload(data)
        text = message_text(body)
        client_id = optional_str(body, "client_id", 64)
        message = await self.desk.message(await self._rep(sid), conversation_id, text, client_id)
        return ok(message=message_json(message))

    @acked
    async def on_note(self, sid: str, data: Any) -> dict[str, Any]:
        """A private note on the conversation, for staff only."""
        conversation_id = _conversation_id(data)
        text = message_text(payload(data))
        note = await self.teamwork.add_note(await self._rep(sid), conversation_id, text, await self._address(sid))
        return ok(note=note)

    @acked
    async def on_transfer(self, sid: str, data: Any) -> dict[str, Any]:
        """Hand the conversation to another online representative (``to``), with an optional private note."""
        conversation_id = _conversation_id(data)
        body = payload(data)
        to_id = optional_str(body, "to", 64)
        if to_id is None:
            raise ChatError("bad_request", "'to' (the representative's id) is required.")
        note = message_text(body, "note") if body.get("note") not in (None, "") else None
        conversation = await self.teamwork.transfer(await self._rep(sid), conversation_id, to_id, note,
                                                    await self._address(sid))
        await self._changed_hands()
        return ok(conversation=conversation)

    @acked
    async def on_holders(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Supervisors' live view: every representative online or holding, with what they hold."""
        return ok(representatives=await self.teamwork.holders(await self._rep(sid)))

    @acked
    async def on_representatives(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Who is online, to transfer to."""
        return ok(representatives=await self.teamwork.representatives())

    async def _address(self, sid: str) -> str:
        address: str = (await self.get_session(sid)).get("address", "")
        return address

    @acked
    async def on_release(self, sid: str, data: Any) -> dict[str, Any]:
        await self.desk.release(await self._rep(sid), _conversation_id(data))
        return ok()

    def _router(self) -> Router:
        if self.router is None:
            raise ChatError("routing_off")
        return self.router

    @acked
    async def on_accept(self, sid: str, data: Any) -> dict[str, Any]:
        """Auto-assignment: take the conversation that was offered to this representative."""
        conversation_id = _conversation_id(data)
        conversation = await self._router().accept(await self._rep(sid), conversation_id, await self._address(sid))
        await self.enter_room(sid, followers_room(conversation_id))
        await self._changed_hands()
        return ok(conversation=conversation)

    @acked
    async def on_decline(self, sid: str, data: Any) -> dict[str, Any]:
        await self._router().decline(await self._rep(sid), _conversation_id(data))
        return ok()

    @acked
    async def on_handback(self, sid: str, data: Any) -> dict[str, Any]:
        await self.desk.hand_back(await self._rep(sid), _conversation_id(data))
        return ok()

    @acked
    async def on_close(self, sid: str, data: Any) -> dict[str, Any]:
        await self.desk.close(await self._rep(sid), _conversation_id(data))
        return ok()

    @acked
    async def on_typing(self, sid: str, data: Any) -> dict[str, Any]:
        conversation_id = _conversation_id(data)
        await self.desk.typing(await self._rep(sid), conversation_id, flag(payload(data), "typing"))
        return ok()
