"""Hot reload of the intent and form files: validate the new set, then swap the whole bot in one assignment.

The new ``Bot`` is built off the event loop (loading and indexing take a
moment) from files that passed every check; only then does it replace the
running one. A broken file therefore changes nothing, and a message being
answered keeps the bot it started with. With several processes (Redis), the
process that reloaded tells the others on the cluster's pub/sub channel
(``shared/cluster.py``), and each reloads the same folder itself.

Tested in tests/test_admin.py, tests/test_admin_cli.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chatbot.bot.answers import Bot
from chatbot.bot.forms import load_forms
from chatbot.bot.intents import IntentError, load_intents
from chatbot.bot.matcher.encoder import SentenceEncoder
from chatbot.bot.yamlcheck import Problem
from chatbot.chat.conversations import ConversationService
from chatbot.chat.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reloaded:
    """What a reload did: swapped in (``ok``) with the ids added and removed, or refused with the problems."""

    ok: bool
    intents: int = 0
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: Sequence[Problem] = ()


class Reloader:
    """Reloads one service's bot from one folder; reloads run one at a time."""

    def __init__(
        self, service: ConversationService, directory: Path, threshold: float | None, metrics: Metrics,
        encoder: SentenceEncoder | None = None, forms_dir: Path | None = None,
    ) -> None:
        self.service = service
        self.directory = directory
        self.forms_dir = forms_dir
        self.threshold = threshold
        self.metrics = metrics
        self.encoder = encoder
        self._lock = asyncio.Lock()

    def _build(self) -> Bot:
        """The intents and their forms, checked together: a broken form refuses the reload like a broken intent."""
        intents = load_intents(self.directory)
        forms = load_forms(self.forms_dir, intents) if self.forms_dir is not None else {}
        return Bot(intents, self.threshold, self.encoder, forms)

    async def reload(self) -> Reloaded:
        """Validate and swap; the running bot stays as it was unless every file is valid."""
        async with self._lock:
            try:
                bot = await asyncio.to_thread(self._build)
            except IntentError as exc:
                self.metrics.reload(ok=False)
                log.warning("intent reload refused: %d problem(s) in %s", len(exc.problems), self.directory)
                return Reloaded(ok=False, problems=list(exc.problems))
            before, after = set(self.service.bot.intents), set(bot.intents)
            self.service.bot = bot
        self.metrics.reload(ok=True)
        log.info("intents reloaded from %s: %d intents", self.directory, len(after))
        return Reloaded(ok=True, intents=len(after), added=sorted(after - before), removed=sorted(before - after))

    async def on_request(self) -> None:
        """Another process reloaded: reload the same folder here."""
        result = await self.reload()
        log.info("reloaded at another process's request: %s", "ok" if result.ok else "refused")
