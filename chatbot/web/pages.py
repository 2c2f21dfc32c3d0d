"""The browser side: the demo page at ``/``, the embeddable ``/widget.js`` and the console at ``/console``.

Scripts are assembled once, when the app is built, in memory: the official
Socket.IO client from ``node_modules`` (``npm ci`` installs it from
package-lock.json) followed by our own files, all inside one function so that
nothing leaks into the globals of the page that embeds the widget. Every asset
is kept plain and gzipped with an ETag, so serving it costs nothing. Without
``node_modules`` the server still starts and the two scripts answer 503.

Security headers, the pages' Content-Security-Policy and CORS (which lets a
site load ``/widget.js`` with ``integrity`` + ``crossorigin``) are not set
here: ``chatbot/web/safety.py`` decides them for every response.

Tested in tests/test_browser.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from aiohttp import web

from chatbot.bot.answers import Bot
from chatbot.bot.intents import LANGUAGES
from chatbot.chat.conversations import ConversationService
from chatbot.chat.keys import SERVICE, STORE
from chatbot.shared.guard import bearer_token
from chatbot.store import Store, StoreUnavailable
from chatbot.store.models import Agent

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
ROOT = Path(__file__).resolve().parents[2]  # the checkout: chatbot/web/pages.py -> .
CLIENT = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

WIDGET_PARTS = ("common.js", "widget.css", "widget-text.js", "widget-view.js", "widget.js")
CONSOLE_PARTS = ("common.js", "console-view.js", "console-tab.js", "console.js")

JAVASCRIPT = "application/javascript; charset=utf-8"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Asset:
    """A response body held in memory, plain and gzipped, with its ETag."""

    body: bytes
    gzipped: bytes
    content_type: str
    etag: str
    cache: str

    @classmethod
    def of(cls, body: bytes, content_type: str, cache: str = "no-cache") -> Asset:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return cls(body, gzip.compress(body, 9, mtime=0), content_type, etag, cache)

    def response(self, request: web.Request) -> web.Response:
        """The body (gzipped if the client accepts it), or 304 when the client's copy is current."""
        common = {"ETag": self.etag, "Cache-Control": self.cache, "Vary": "Accept-Encoding"}
        if self.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=common)
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            return web.Response(body=self.gzipped, headers={
                **common, "Content-Type": self.content_type, "Content-Encoding": "gzip"})
        return web.Response(body=self.body, headers={**common, "Content-Type": self.content_type})


def bundle(client: str, parts: Sequence[str]) -> bytes:
    """The Socket.IO client, then our files, in one function scope (``io`` stays private to it).

    The client's UMD wrapper sees a local ``module`` and fills ``module.exports``
    instead of setting ``window.io``; a ``.css`` part becomes the ``STYLES`` string.
    """
    client = "\n".join(line for line in client.splitlines() if not line.startswith("//# sourceMappingURL="))
    ours = [_part(name) for name in parts]
    text = "\n".join([
        "/*! Clinic chat. Includes the Socket.IO client (MIT License), below. */",
        "(function () {", '"use strict";',
        "var module = { exports: {} }, exports = module.exports, define;",
        client, "var io = module.exports;", *ours, "}());", ""])
    return text.encode("utf-8")


def _part(name: str) -> str:
    text = (STATIC / name).read_text(encoding="utf-8")
    return f"var STYLES = {json.dumps(text)};" if name.endswith(".css") else text


def _scripts() -> dict[str, Asset]:
    """``/widget.js`` and the console's script, or nothing when ``npm ci`` has not been run."""
    try:
        client = CLIENT.read_text(encoding="utf-8")
    except OSError:
        log.warning("%s is missing: /widget.js and /console answer 503 until `npm ci` is run in %s", CLIENT, ROOT)
        return {}
    return {
        "/widget.js": Asset.of(bundle(client, WIDGET_PARTS), JAVASCRIPT, cache="public, max-age=300"),
        "/console/console.js": Asset.of(bundle(client, CONSOLE_PARTS), JAVASCRIPT),
    }


def _files() -> dict[str, Asset]:
    """The pages and style sheets, each under the path it is served at."""
    demo = Template((STATIC / "demo.html").read_text(encoding="utf-8"))
    html = "text/html; charset=utf-8"
    return {
        "/": Asset.of(demo.substitute(lang="en", other_lang="es", other_href="/?lang=es",
                                      other_text="También disponible en español").encode(), html),
        "/?lang=es": Asset.of(demo.substitute(lang="es", other_lang="en", other_href="/",
                                              other_text="Also available in English").encode(), html),
        "/demo.css": Asset.of((STATIC / "demo.css").read_bytes(), "text/css; charset=utf-8"),
        "/console": Asset.of((STATIC / "console.html").read_bytes(), html),
        "/console/console.css": Asset.of((STATIC / "console.css").read_bytes(), "text/css; charset=utf-8"),
    }


def _serve(asset: Asset) -> Handler:
    async def serve(request: web.Request) -> web.Response:
        return asset.response(request)
    return serve


def _demo(english: Asset, spanish: Asset) -> Handler:
    async def demo(request: web.Request) -> web.Response:
        return (spanish if request.query.get("lang") == "es" else english).response(request)
    return demo


def _script(path: str, asset: Asset | None) -> Handler:
    """A bundled script, or 503 saying how to get the Socket.IO client."""
    async def script(request: web.Request) -> web.Response:
        if asset is None:
            raise web.HTTPServiceUnavailable(
                text=f"{path} is not available: the Socket.IO client is missing. Run `npm ci` in {ROOT} "
                     "and restart the server.\n")
        return asset.response(request)
    return script


def canned_answers(bot: Bot) -> list[dict[str, str]]:
    """Every approved answer in each language, for representatives to search and send.

    Handoff intents are left out: their answer only announces a handoff.
    """
    return [{"intent": intent.id, "lang": lang, "text": intent.texts[lang].answer.strip()}
            for intent in bot.intents.values() if intent.action is None for lang in LANGUAGES]


async def _representative(request: web.Request, store: web.AppKey[Store]) -> Agent:
    """The representative whose token came as ``Authorization: Bearer <token>``, or 401."""
    token = bearer_token(request)
    try:
        agent = await request.app[store].agent_by_token(token) if token else None
    except StoreUnavailable:
        raise web.HTTPServiceUnavailable(text="The database is not answering; try again.") from None
    if agent is None:
        raise web.HTTPUnauthorized(text="Send a representative token as 'Authorization: Bearer <token>'.",
                                   headers={"WWW-Authenticate": "Bearer"})
    return agent


def _me(store: web.AppKey[Store]) -> Handler:
    async def me(request: web.Request) -> web.Response:
        """``GET /console/me.json``: who the token belongs to; the console checks a token with it."""
        agent = await _representative(request, store)
        return web.json_response({"id": agent.id, "name": agent.name}, headers={"Cache-Control": "no-store"})
    return me


def _canned(store: web.AppKey[Store], service: web.AppKey[ConversationService]) -> Handler:
    async def canned(request: web.Request) -> web.Response:
        """``GET /console/canned.json``: ``[{intent, lang, text}]`` for a signed-in representative."""
        await _representative(request, store)
        bot = request.app[service].bot  # read per request: a reload replaces the bot
        return web.json_response(canned_answers(bot), headers={"Cache-Control": "no-store"})
    return canned


def add_routes(app: web.Application) -> None:
    """Register the demo page, the widget, the console and its canned answers on ``app``."""
    files = _files()
    scripts = _scripts()
    app.router.add_get("/", _demo(files["/"], files["/?lang=es"]))
    app.router.add_get("/demo.css", _serve(files["/demo.css"]))
    app.router.add_get("/console", _serve(files["/console"]))
    app.router.add_get("/console/console.css", _serve(files["/console/console.css"]))
    for path in ("/widget.js", "/console/console.js"):
        app.router.add_get(path, _script(path, scripts.get(path)))
    app.router.add_get("/console/me.json", _me(STORE))
    app.router.add_get("/console/canned.json", _canned(STORE, SERVICE))
