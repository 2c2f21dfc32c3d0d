"""Safety at the HTTP door: security headers, CORS for the allowed origins only, bounded Socket.IO posts.

One policy for every response the server sends (pages, scripts, JSON, error
pages, the Socket.IO handshake), decided here rather than in each handler, so
that a new route cannot forget it and docs/security.md can point at one file.
Headers are set on ``on_response_prepare``, which also sees error responses
and websocket upgrades; a middleware answers CORS preflights. Socket.IO
(``/socket.io/``) keeps its own CORS, which python-engineio applies from the
same ``allowed_origins``, so the two never disagree or send the header twice.

Cross-site request forgery: every state-changing request to the private areas (``/admin/``, ``/auth/``) that a
browser marks as coming from another site (``Sec-Fetch-Site``, or an ``Origin`` whose host is not ours) is
refused 403 ``cross_site`` before any handler runs. Beside the session cookie's SameSite=Strict, this holds in
browsers that ignore SameSite; headless clients send neither header and are unaffected.

Tested in tests/test_web_safety.py, tests/test_staff_sessions.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from chatbot.chat.keys import SIO
from chatbot.shared.config import Settings

SOCKETIO_PATH = "/socket.io/"
# Representatives' and operators' areas: used from our own origin only, so never CORS.
PRIVATE_PREFIXES = ("/admin", "/auth", "/console", "/metrics")
CORS_METHODS = "GET, HEAD"
CORS_REQUEST_HEADERS = "Authorization"  # the visitor's transcript is fetched with its token in this header
CORS_EXPOSED_HEADERS = "Content-Disposition"
PREFLIGHT_MAX_AGE = "600"
# A long-polling POST only hands packets over (handlers run as tasks), so it takes milliseconds.
SOCKETIO_POST_SECONDS = 5.0

# Nothing we serve is meant to be framed or to use the visitor's devices.
FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
# A host as a browser would write it in an origin: a name or IPv4 address, or a bracketed IPv6 one, and a port.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")



def content_security_policy(host: str) -> str:
    """Our pages run only our own scripts and styles, and talk only to this server.

    ``connect-src 'self'`` covers the same-host websocket in current browsers;
    older Safari needed ``ws:``/``wss:`` spelt out, so the host's own are listed.
    Not the bare schemes: those would let an injected script reach any websocket
    server. A ``Host`` that is not a plain host name is left out, so a forged
    header cannot write directives into the policy.
    """
    connect = ["'self'"]
    if _HOST.fullmatch(host):
        connect += [f"ws://{host}", f"wss://{host}"]
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src " + " ".join(connect),
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])


class Cors:
    """Which cross-origin callers may read our public resources (``allowed_origins``; ``*`` = any)."""

    def __init__(self, allowed_origins: Iterable[str]) -> None:
        origins = frozenset(allowed_origins)
        self.any = "*" in origins
        self.origins = origins - {"*"}

    @staticmethod
    def applies(path: str) -> bool:
        return not path.startswith(SOCKETIO_PATH) and not path.startswith(PRIVATE_PREFIXES)

    def allows(self, origin: str) -> bool:
        return self.any or origin in self.origins

    def headers(self, origin: str) -> dict[str, str]:
        """The CORS headers for a request from ``origin``: none unless it is allowed."""
        if not origin or not self.allows(origin):
            return {}
        return {
            "Access-Control-Allow-Origin": "*" if self.any else origin,
            "Access-Control-Expose-Headers": CORS_EXPOSED_HEADERS,
        }

    def preflight(self, request: web.Request) -> web.Response:
        """204 with the permissions for an allowed origin; 403 without any CORS header otherwise."""
        origin = request.headers.get(hdrs.ORIGIN, "")
        if not self.allows(origin):
            return web.Response(status=403, text="This origin may not call this server.\n")
        return web.Response(status=204, headers={
            **self.headers(origin),
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Allow-Headers": CORS_REQUEST_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        })


def _is_preflight(request: web.Request) -> bool:
    return (
        request.method == hdrs.METH_OPTIONS
        and hdrs.ORIGIN in request.headers
        and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
    )


def middleware(settings: Settings) -> Middleware:
    """Answer CORS preflights for the public routes (Socket.IO answers its own)."""
    cors = Cors(settings.allowed_origins)

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _is_preflight(request) and cors.applies(request.path):
            return cors.preflight(request)
        return await handler(request)

    return preflight


_SAFE_METHODS = (hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS)


def _cross_site(request: web.Request) -> bool:
    """True when the browser says the request comes from a page of another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get(hdrs.ORIGIN)
    return origin is not None and urlsplit(origin).netloc.lower() != request.host.lower()


@web.middleware
async def same_site_writes(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing requests to the private areas from another site's page (403 ``cross_site``)."""
    if request.method not in _SAFE_METHODS and request.path.startswith(PRIVATE_PREFIXES) and _cross_site(request):
        body = {"ok": False, "error": {"code": "cross_site",
                                       "message": "Requests from another site's page are refused here."}}
        return web.json_response(body, status=403)
    return await handler(request)


def socketio_posts(max_bytes: int) -> Middleware:
    """Long-polling POSTs: over ``max_bytes`` refused unread (413), and never left hanging.

    python-engineio (4.15) answers a POST it cannot use (too large, or a packet a
    client may not send, such as a ping) by closing the session and waiting for
    its queue to drain, which only a later poll would do: the request then hangs
    for ever, holding its connection, even after the client has gone. A cap on
    the time turns that into a 400 and frees it.
    """

    @web.middleware
    async def bounded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != hdrs.METH_POST or not request.path.startswith(SOCKETIO_PATH):
            return await handler(request)
        if (request.content_length or 0) > max_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=request.content_length or 0)
        try:
            return await asyncio.wait_for(handler(request), SOCKETIO_POST_SECONDS)
        except TimeoutError:
            raise web.HTTPBadRequest(text="The Socket.IO session could not take that request.\n") from None

    return bounded


def _vary(response: web.StreamResponse, header: str) -> None:
    present = [part.strip() for part in response.headers.get(hdrs.VARY, "").split(",") if part.strip()]
    if header.lower() not in (part.lower() for part in present):
        response.headers[hdrs.VARY] = ", ".join([*present, header])


def headers_hook(settings: Settings) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` handler: the security headers, then CORS, on every response.

    These headers are decided here: whatever a handler set for them is replaced.
    """
    cors = Cors(settings.allowed_origins)

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(FIXED_HEADERS)
        response.headers["Content-Security-Policy"] = content_security_policy(request.host)
        if not cors.applies(request.path):
            return
        response.headers.pop("Access-Control-Allow-Origin", None)
        response.headers.update(cors.headers(request.headers.get(hdrs.ORIGIN, "")))
        if not cors.any:
            _vary(response, "Origin")

    return add_headers


def install(app: web.Application, settings: Settings) -> None:
    """Put the headers, the preflight answers and the post limits on ``app`` (from ``create_app``, after ``SIO``)."""
    app.middlewares.append(middleware(settings))
    app.middlewares.append(same_site_writes)
    app.middlewares.append(socketio_posts(app[SIO].eio.max_http_buffer_size))
    app.on_response_prepare.append(headers_hook(settings))
