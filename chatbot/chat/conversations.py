"""The conversation service: the one place that changes a conversation's state (bot / queued / agent / closed).

Namespaces validate a payload and call one method here, directly or through
the desk and the router, which check who may act; this service builds every
change from the lifecycle's table (``chatbot.chat.lifecycle.change``), asks the bot
and the store, then tells the rooms through the emitter. Data flows one way:
event → namespace → (desk) → service → bot / store → emit.

Tested in tests/test_visitor_chat.py, tests/test_agents.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from chatbot.bot.answers import Bot, Reply
from chatbot.chat import notices, transcripts
from chatbot.chat.emitter import Emitter
from chatbot.chat.hours import BusinessHours
from chatbot.chat.lifecycle import OPEN, Reason, State, change
from chatbot.chat.locks import KeyedLocks
from chatbot.chat.metrics import Metrics
from chatbot.chat.protocol import (
    ChatError,
    agent_ref,
    conversation_json,
    message_json,
    summary_json,
)
from chatbot.chat.waiting import WaitEstimator
from chatbot.content.passages import Passages
from chatbot.shared.presence import Presence
from chatbot.shared.ratelimit import RateLimiter
from chatbot.store import Appended, BotAnswer, NewMessage, Store
from chatbot.store.models import Conversation, Message, utcnow

log = logging.getLogger(__name__)

LANG_CACHE_SIZE = 50_000
"""Languages remembered per process (about 100 bytes each): more than the open conversations of one process."""


class ConversationService:
    """Visitor-side rules: opening, messages, bot replies, handoff, typing and closing."""

    def __init__(
        self,
        store: Store,
        bot: Bot,
        emitter: Emitter,
        presence: Presence,
        limiter: RateLimiter,
        transcripts_dir: Path,
        hours: BusinessHours | None = None,
        *,
        metrics: Metrics,
        passages: Passages | None = None,
    ) -> None:
        self.store = store
        self.bot = bot  # replaced whole on reload; each message uses the bot it started with
        self.emitter = emitter
        self.presence = presence
        self.limiter = limiter
        self.transcripts_dir = transcripts_dir
        self.metrics = metrics
        self.hours = hours or BusinessHours()  # replaced whole on reload, like the bot
        self.passages = passages if passages is not None else Passages(())  # agent assist when no intent is sure
        self.clock: Callable[[], datetime] = utcnow  # tests move time without sleeping
        self.wait = WaitEstimator(store)
        self._locks = KeyedLocks()
        self._langs: OrderedDict[str, str] = OrderedDict()  # conversation id -> language, most recent last

    async def settle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until no visitor message is being handled."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._locks.busy():
            if asyncio.get_running_loop().time() >= deadline:
                log.warning("stopping with messages still being handled")
                return
            await asyncio.sleep(0.02)

    # -- opening -------------------------------------------------------------

    async def resume(self, token: str) -> Conversation | None:
        """The conversation this token opens, if any; never someone else's."""
        conversation = await self.store.conversation_by_token(token)
        if conversation is not None:
            self._remember_lang(conversation.id, conversation.lang)
        return conversation

    async def start(self, lang: str, name: str | None, page: str | None) -> tuple[Conversation, str]:
        """A new conversation in state ``bot``, and its token."""
        conversation, token = await self.store.create_conversation(lang, name, page)
        self._remember_lang(conversation.id, conversation.lang)
        log.info("conversation %s started (%s)", conversation.id, lang)
        return conversation, token

    async def existing(self, conversation_id: str) -> Conversation:
        """The conversation, or ``not_found``."""
        conversation = await self.store.conversation(conversation_id)
        if conversation is None:
            raise ChatError("not_found")
        return conversation

    async def snapshot(self, conversation_id: str, token: str | None = None) -> dict[str, Any]:
        """The ``conversation`` event: state and the whole history, oldest first."""
        conversation = await self.existing(conversation_id)
        return conversation_json(conversation, await self.store.messages(conversation_id), token)

    # -- visitor messages ----------------------------------------------------

    async def visitor_message(self, conversation_id: str, text: str, client_id: str | None) -> Message:
        """Store the visitor's message (once per ``client_id``), and the bot's reply if the bot still speaks.

        The reply is worked out first, then the message and a confident reply are
        stored in one transaction, which keeps the reply only if the conversation
        is still with the bot; a handoff, rarer, takes its own.
        """
        if not await self.limiter.allow(conversation_id):
            raise ChatError("rate_limited")
        async with self._locks.hold(conversation_id):
            bot = self.bot  # one bot for the whole turn, even if a reload swaps it meanwhile
            reply = self._match(bot, text, await self._lang(conversation_id))
            answer = BotAnswer(self._said(reply), reply.lang) if reply.handoff_reason is None else None
            turn = await self.store.add_client_message(
                conversation_id, NewMessage(sender="visitor", text=text, client_id=client_id), answer
            )
            message = turn.message
            if message is None:
                self._langs.pop(conversation_id, None)
                raise ChatError("closed")
            if not turn.created:
                return message
            if turn.state == State.BOT:
                self._remember_lang(conversation_id, reply.lang)
            self.metrics.message("visitor")
            await self.emitter.to_conversation("message", message_json(message), conversation_id)
            await self._suggest(conversation_id, message, bot, reply)
            await self._send(conversation_id, turn.replies)
            if turn.state == State.BOT and reply.handoff_reason is not None:
                await self.hand_off(conversation_id, reply.handoff_reason, [self._said(reply)], lang=reply.lang)
        return message

    async def _lang(self, conversation_id: str) -> str:
        """The conversation's language, the bot's default for a message that does not show its own.

        Remembered per process from the conversation's start and each reply, read
        from the store otherwise (after a restart, or a conversation another
        process started). Another process's language switch is seen at its next
        start or miss here: it only decides the language of ambiguous one-word messages.
        """
        lang = self._langs.get(conversation_id)
        if lang is None:
            conversation = await self.store.conversation(conversation_id)
            lang = conversation.lang if conversation is not None else "en"
            self._remember_lang(conversation_id, lang)
        else:
            self._langs.move_to_end(conversation_id)
        return lang

    def _remember_lang(self, conversation_id: str, lang: str) -> None:
        self._langs[conversation_id] = lang
        self._langs.move_to_end(conversation_id)
        if len(self._langs) > LANG_CACHE_SIZE:
            self._langs.popitem(last=False)

    def _match(self, bot: Bot, text: str, lang: str) -> Reply:
        started = time.perf_counter()
        reply = bot.reply(text, lang)
        self.metrics.match_seconds(time.perf_counter() - started)
        return reply

    async def _suggest(self, conversation_id: str, message: Message, bot: Bot, reply: Reply) -> None:
        """Agent assist: the top approved answers, to the representatives who hold or watch the conversation; and
        when no intent is confident, the site's passages that best match the message, with their links.
        Nothing is worked out when nobody follows the conversation (the passage search is not free)."""
        if not self.emitter.followed(conversation_id):
            return
        suggestions = [s.__dict__ for s in bot.suggestions(reply)]
        unsure = reply.handoff_reason == "low_confidence"
        passages = [p.__dict__ for p in self.passages.search(message.text)] if unsure else []
        event = {"conversation_id": conversation_id, "message_id": message.id, "suggestions": suggestions,
                 "passages": passages}
        await self.emitter.to_followers("suggestions", event, conversation_id)

    async def leave_contact(self, conversation_id: str, name: str, email: str | None, phone: str | None) -> None:
        """Keep the visitor's contact details with the conversation, for a representative to call back.

        Each call stores a notice, so it spends the conversation's message allowance (``rate_limited``).
        """
        if not await self.limiter.allow(conversation_id):
            raise ChatError("rate_limited")
        nobody = await self.presence.online() == 0 or not self.hours.is_open(self.clock())
        if not await self.store.save_contact(conversation_id, name, email, phone, notify=nobody):
            raise ChatError("closed")
        conversation = await self.store.conversation(conversation_id)
        assert conversation is not None
        await self.say(conversation_id, notices.notice("contact_saved", conversation.lang, name=name))
        if conversation.state == State.BOT and not self.hours.is_open(self.clock()):
            # Left out of hours: queue it so the first representative in finds it.
            appended = await self.store.append(conversation_id, [], change(Reason.AFTER_HOURS))
            if appended is not None:
                self.metrics.handoff(Reason.AFTER_HOURS)
            await self.publish(appended)
            conversation.state = State.QUEUED
        if conversation.state == State.QUEUED:
            # Representatives see the new contact details; no visitor's place in line changed.
            await self.queue_moved(places_changed=False)

    # -- after the conversation ---------------------------------------------

    async def rate(self, conversation_id: str, score: int, comment: str | None) -> None:
        """The visitor's rating of a closed conversation with a representative; once."""
        conversation = await self.existing(conversation_id)
        if conversation.state != State.CLOSED:
            raise ChatError("not_closed")
        if not await self.store.had_representative(conversation_id):
            raise ChatError("no_agent")
        if not await self.store.save_rating(conversation_id, score, comment):
            raise ChatError("already_rated")
        await self.write_transcript(conversation_id)
        log.info("conversation %s rated %d", conversation_id, score)

    async def transcript_for(self, token: str) -> str:
        """The plain-text transcript of the conversation ``token`` opens (and nothing else)."""
        conversation = await self.store.conversation_by_token(token)
        if conversation is None:
            raise ChatError("not_found")
        return transcripts.render(conversation, await self.store.messages(conversation.id))

    @staticmethod
    def _said(reply: Reply) -> NewMessage:
        """The bot's message for ``reply``."""
        return NewMessage(
            sender="bot",
            text=reply.text,
            intent=reply.intent,
            confidence=reply.confidence,
            quick_replies=reply.quick_replies,
            intents=reply.intents,
            urgent=reply.handoff_reason == Reason.URGENT,
            form_offer=reply.form_offer,
        )

    async def hand_off(
        self, conversation_id: str, reason: str, said: Sequence[NewMessage] = (), lang: str | None = None
    ) -> None:
        """Queue the conversation for a person, telling the visitor their place or who to call."""
        if not self.hours.is_open(self.clock()):
            await self._after_hours(conversation_id, reason, said, lang)
            return
        online = await self.presence.online()
        # An urgent handoff with nobody online is emailed to the clinic too, in the handoff's transaction.
        transition = change(Reason(reason), event_data={"agents_online": online},
                            notify=reason == Reason.URGENT and online == 0)
        appended = await self.store.append(conversation_id, list(said), transition, lang=lang)
        if appended is None:
            return
        self.metrics.handoff(reason)
        await self.publish(appended)
        conversation = appended.conversation
        position = await self.store.queue_position(conversation)
        text = notices.queued(conversation.lang, position, online)
        await self.say(conversation_id, text)
        await self.queue_moved(places_changed=False)
        log.info("conversation %s handed off (%s)", conversation_id, reason)

    async def _after_hours(
        self, conversation_id: str, reason: str, said: Sequence[NewMessage], lang: str | None
    ) -> None:
        """Outside business hours nobody would come: the bot keeps the conversation and answers on.

        The visitor hears once when representatives are back, with the phone line and
        the contact form — again only if they ask for a person outright.
        """
        keep = [] if reason == Reason.REQUESTED else list(said)
        appended = await self.store.append(conversation_id, keep, require=(State.BOT,), lang=lang)
        if appended is None:
            return
        await self.publish(appended)
        first_time = await self.store.mark_after_hours_notice(conversation_id)
        if not first_time and reason != Reason.REQUESTED:
            return
        conversation = appended.conversation
        back = self.hours.next_open(self.clock())
        await self.say(conversation_id, notices.after_hours(conversation.lang, back))
        event = {
            **await self.state_event(conversation),
            "reason": Reason.AFTER_HOURS,
            "back_at": back.isoformat() if back else None,
        }
        await self.emitter.to_visitor("state", event, conversation_id)

    async def say(self, conversation_id: str, text: str) -> None:
        """A system notice in the conversation, stored and shown to both sides."""
        await self.publish(await self.store.append(conversation_id, [NewMessage(sender="system", text=text)]))

    async def summaries(self, conversations: Sequence[Conversation]) -> list[dict[str, Any]]:
        """Conversation summaries as the console lists them, each with its last message (one query for all)."""
        last = await self.store.last_messages([c.id for c in conversations])
        return [summary_json(c, last.get(c.id)) for c in conversations]

    async def queue_moved(self, places_changed: bool = True) -> None:
        """Send representatives the new queue, and every waiting visitor their new place in line.

        A handoff joins the back of the line (``places_changed=False``): nobody's place
        changes, and the newcomer has just had theirs from ``publish``, so visitors
        are not sent the same place again.
        """
        queued = await self.store.queued()
        await self.emitter.to_agents("queue", await self.summaries(queued))
        if not places_changed:
            return
        online = await self.presence.online()
        for position, conversation in enumerate(queued, start=1):
            event = {
                "conversation_id": conversation.id,
                "state": State.QUEUED,
                "reason": conversation.reason,
                "queue_position": position,
                "agents_online": online,
                "estimated_wait_seconds": await self.wait.estimate(position, online),
            }
            await self.emitter.to_visitor("state", event, conversation.id)

    # -- typing and closing --------------------------------------------------

    async def agent_message(self, conversation_id: str, new: NewMessage) -> Message:
        """A representative's message, stored once per ``client_id`` and shown to both sides (the desk checks who)."""
        turn = await self.store.add_client_message(conversation_id, new)
        message = turn.message
        if message is None:
            raise ChatError("closed")
        if turn.created:
            self.metrics.message("agent")
            await self.emitter.to_conversation("message", message_json(message), conversation_id)
        return message

    async def agent_typing(self, conversation_id: str, typing: bool) -> None:
        await self.emitter.to_visitor(
            "typing", {"conversation_id": conversation_id, "sender": "agent", "typing": typing}, conversation_id
        )

    async def visitor_typing(self, conversation_id: str, typing: bool) -> None:
        await self.emitter.to_followers(
            "typing", {"conversation_id": conversation_id, "sender": "visitor", "typing": typing}, conversation_id
        )

    async def close(self, conversation_id: str, reason: str, agent_name: str | None = None) -> None:
        """Close from any open state, tell both sides, and write the transcript."""
        conversation = await self.existing(conversation_id)
        text = notices.notice(reason, conversation.lang, name=agent_name or "")
        transition = change(Reason(reason), OPEN, agent_id=conversation.agent_id, agent_name=conversation.agent_name)
        appended = await self.store.append(conversation_id, [NewMessage(sender="system", text=text)], transition)
        if appended is None:
            raise ChatError("closed")
        await self.write_transcript(conversation_id)
        await self.publish(appended)
        if conversation.state == State.QUEUED:
            await self.queue_moved()

    # -- representatives ------------------------------------------------------

    async def take(self, conversation: Conversation, agent_id: str, agent_name: str, offered: bool = False
                   ) -> Appended | None:
        """A representative holds the conversation; None when someone or something else won the race.

        From ``bot`` it is a takeover, from ``queued`` an assignment; ``offered``
        (auto-routing's accept) requires the live offer to be theirs, and the queue.
        """
        reason = Reason.TAKEOVER if conversation.state == State.BOT else Reason.ASSIGNED
        conditions: dict[str, Any] = {"agent_id": agent_id, "agent_name": agent_name}
        if offered:
            transition = change(Reason.ASSIGNED, {State.QUEUED}, expect_offer_to=agent_id, **conditions)
        else:
            transition = change(reason, **conditions)
        joined = NewMessage(sender="system", text=notices.notice("agent_joined", conversation.lang, name=agent_name))
        appended = await self.store.append(conversation.id, [joined], transition)
        if appended is None:
            return None
        if transition.reason == Reason.TAKEOVER:
            self.metrics.handoff(Reason.TAKEOVER)
        await self.publish(appended)
        if conversation.state == State.QUEUED:
            await self.queue_moved()
        log.info("representative %s took conversation %s (%s)", agent_id, conversation.id, transition.reason)
        return appended

    async def release(self, conversation: Conversation, agent_id: str, agent_name: str) -> Appended | None:
        """Back to the queue, keeping the visitor's place in line; None when they no longer held it."""
        note = NewMessage(sender="system", text=notices.notice("released", conversation.lang, name=agent_name))
        appended = await self.store.append(conversation.id, [note], change(Reason.RELEASED, expect_agent=agent_id))
        if appended is not None:
            await self.publish(appended)
            await self.queue_moved()
        return appended

    async def hand_back(self, conversation: Conversation, agent_id: str) -> Appended | None:
        """Back to the bot (reason ``handback``), which answers again; None when they no longer held it."""
        note = NewMessage(sender="system", text=notices.notice("handback", conversation.lang))
        appended = await self.store.append(conversation.id, [note], change(Reason.HANDBACK, expect_agent=agent_id))
        if appended is not None:
            await self.publish(appended)
        return appended

    async def write_transcript(self, conversation_id: str) -> Path | None:
        conversation = await self.store.conversation(conversation_id)
        if conversation is None:
            return None
        try:
            return await transcripts.write(
                self.transcripts_dir, conversation, await self.store.messages(conversation_id)
            )
        except OSError:
            log.exception("could not write the transcript of %s", conversation_id)
            return None

    # -- telling the rooms ---------------------------------------------------

    async def state_event(self, conversation: Conversation) -> dict[str, Any]:
        """The ``state`` event for a conversation as it is now."""
        event: dict[str, Any] = {
            "conversation_id": conversation.id,
            "state": conversation.state,
            "reason": conversation.reason,
            "agents_online": await self.presence.online(),
        }
        agent = agent_ref(conversation.agent_id, conversation.agent_name)
        if agent is not None:
            event["agent"] = agent
        position = await self.store.queue_position(conversation)
        if position is not None:
            event["queue_position"] = position
            event["estimated_wait_seconds"] = await self.wait.estimate(position, event["agents_online"])
        return event

    async def publish(self, appended: Appended | None) -> None:
        """Send what a write produced: each message in order, then the new state if it changed."""
        if appended is None:
            return
        conversation_id = appended.conversation.id
        await self._send(conversation_id, appended.messages)
        if appended.transitioned:
            await self.emitter.to_conversation("state", await self.state_event(appended.conversation), conversation_id)

    async def _send(self, conversation_id: str, messages: Sequence[Message]) -> None:
        """Show stored messages to both sides, in order."""
        for message in messages:
            self.metrics.message(message.sender)
            await self.emitter.to_conversation("message", message_json(message), conversation_id)
