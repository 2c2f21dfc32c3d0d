"""The browser side: the demo page at ``/``, the embeddable ``/widget.js``, the console at ``/console`` and the admin
dashboard at ``/admin``.

The scripts are ES modules in ``static/`` that esbuild (``npm run build``, which
``make`` runs) bundles with the official Socket.IO client into ``build/web/``:
one function each, so nothing leaks into the globals of the page that embeds the
widget. They are read once, when the app is built; every asset is kept plain and
gzipped with an ETag, so serving it costs nothing. Without the bundles the
server still starts and the two scripts answer 503 saying how to build them.

Security headers, the pages' Content-Security-Policy and CORS (which lets a
site load ``/widget.js`` with ``integrity`` + ``crossorigin``) are not set
here: ``chatbot/web/safety.py`` decides them for every response.

Tested in tests/test_browser.py, tests/test_accessibility.py, tests/test_dashboard.py.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from aiohttp import web

from chatbot.bot.answers import Bot
from chatbot.bot.intents import LANGUAGES
from chatbot.chat.conversations import ConversationService
from chatbot.chat.keys import SERVICE, STAFF, STORE
from chatbot.chat.staff import cookie_token
from chatbot.shared.guard import bearer_token
from chatbot.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
ROOT = Path(__file__).resolve().parents[2]  # the checkout: chatbot/web/pages.py -> .
BUNDLES = ROOT / "build" / "web"  # written by `npm run build` (package.json)
SCRIPTS = {"/widget.js": "widget.js", "/console/console.js": "console.js",  # path -> bundle (and its .map)
           "/admin/dashboard.js": "dashboard.js"}

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
        return cls(body, _gzipped(body), content_type, etag, cache)

    def response(self, request: web.Request) -> web.Response:
        """The body (gzipped if the client accepts it), or 304 when the client's copy is current."""
        common = {"ETag": self.etag, "Cache-Control": self.cache, "Vary": "Accept-Encoding"}
        if self.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=common)
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            return web.Response(body=self.gzipped, headers={
                **common, "Content-Type": self.content_type, "Content-Encoding": "gzip"})
        return web.Response(body=self.body, headers={**common, "Content-Type": self.content_type})


@lru_cache(maxsize=32)
def _gzipped(body: bytes) -> bytes:
    """Compressed once per process for each body: all the assets together take about 0.15 s at level 9, which every
    build of the app paid again (the tests build several hundred apps in each process)."""
    return gzip.compress(body, 9, mtime=0)


def _scripts() -> dict[str, Asset]:
    """The bundles and their source maps under the paths they are served at, or nothing before a build."""
    try:
        built = {path: (BUNDLES / name).read_bytes() for path, name in SCRIPTS.items()}
        maps = {path + ".map": (BUNDLES / (name + ".map")).read_bytes() for path, name in SCRIPTS.items()}
    except OSError as exc:
        log.warning("%s: /widget.js and /console answer 503 until `npm ci && npm run build` is run in %s", exc, ROOT)
        return {}
    _warn_if_stale()
    return {**{path: Asset.of(body, JAVASCRIPT, cache="public, max-age=300" if path == "/widget.js" else "no-cache")
               for path, body in built.items()},
            **{path: Asset.of(body, "application/json; charset=utf-8") for path, body in maps.items()}}


def _warn_if_stale() -> None:
    """A source edited after the last build would silently not be served: say so at start-up."""
    built = min((BUNDLES / name).stat().st_mtime for name in SCRIPTS.values())
    sources = [*STATIC.glob("*.js"), STATIC / "widget.css"]  # what the bundles import
    newer = sorted(p.name for p in sources if p.stat().st_mtime > built)
    if newer:
        log.warning("%s changed after the last build: run `npm run build` (or `make run`) to serve them",
                    ", ".join(newer))


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
        "/admin": Asset.of((STATIC / "dashboard.html").read_bytes(), html),
        "/admin/dashboard.css": Asset.of((STATIC / "dashboard.css").read_bytes(), "text/css; charset=utf-8"),
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
    """A bundled script or its source map, or 503 saying how to build them."""
    async def script(request: web.Request) -> web.Response:
        if asset is None:
            raise web.HTTPServiceUnavailable(
                text=f"{path} is not available: the scripts are not built. Run `npm ci && npm run build` "
                     f"(or `make run`) in {ROOT} and restart the server.\n")
        return asset.response(request)
    return script


def canned_answers(bot: Bot) -> list[dict[str, str]]:
    """Every approved answer in each language, for representatives to search and send.

    Handoff intents are left out: their answer only announces a handoff.
    """
    return [{"intent": intent.id, "lang": lang, "text": intent.texts[lang].answer.strip()}
            for intent in bot.intents.values() if intent.action is None for lang in LANGUAGES]


async def _representative(request: web.Request, store: web.AppKey[Store]) -> dict[str, object]:
    """Who the representative is whose token came as ``Authorization: Bearer <token>``, or without that header
    the staff member whose session cookie came (with their role and whether two-step sign-in is on); else 401.
    Token accounts have a supervisor's reach."""
    token, cookie = bearer_token(request), cookie_token(request.cookies)
    found: dict[str, object] | None
    try:
        if token is None and cookie is not None:
            member = await request.app[STAFF].member(cookie)
            found = {"id": member.id, "name": member.name, "role": member.role.value,
                     "totp": member.totp} if member else None
        else:
            agent = await request.app[store].agent_by_token(token) if token else None
            found = {"id": agent.id, "name": agent.name, "role": "supervisor"} if agent else None
    except StoreUnavailable:
        raise web.HTTPServiceUnavailable(text="The database is not answering; try again.") from None
    if found is None:
        raise web.HTTPUnauthorized(text="Send a representative token as 'Authorization: Bearer <token>', "
                                        "or sign in at POST /auth/login.", headers={"WWW-Authenticate": "Bearer"})
    return found


def _me(store: web.AppKey[Store]) -> Handler:
    async def me(request: web.Request) -> web.Response:
        """``GET /console/me.json``: who the token or session cookie belongs to; the console checks one with it."""
        return web.json_response(await _representative(request, store), headers={"Cache-Control": "no-store"})
    return me


def _canned(store: web.AppKey[Store], service: web.AppKey[ConversationService]) -> Handler:
    async def canned(request: web.Request) -> web.Response:
        """``GET /console/canned.json``: ``[{intent, lang, text}]`` for a signed-in representative."""
        await _representative(request, store)
        bot = request.app[service].bot  # read per request: a reload replaces the bot
        return web.json_response(canned_answers(bot), headers={"Cache-Control": "no-store"})
    return canned


def add_routes(app: web.Application) -> None:
    """Register the demo page, the widget, the console and its canned answers, and the dashboard page on ``app``."""
    files = _files()
    scripts = _scripts()
    app.router.add_get("/", _demo(files["/"], files["/?lang=es"]))
    app.router.add_get("/demo.css", _serve(files["/demo.css"]))
    app.router.add_get("/console", _serve(files["/console"]))
    app.router.add_get("/console/console.css", _serve(files["/console/console.css"]))
    app.router.add_get("/admin", _serve(files["/admin"]))  # before the /admin/ API: the page asks for the token
    app.router.add_get("/admin/dashboard.css", _serve(files["/admin/dashboard.css"]))
    for path in (*SCRIPTS, *(path + ".map" for path in SCRIPTS)):
        app.router.add_get(path, _script(path, scripts.get(path)))
    app.router.add_get("/console/me.json", _me(STORE))
    app.router.add_get("/console/canned.json", _canned(STORE, SERVICE))
