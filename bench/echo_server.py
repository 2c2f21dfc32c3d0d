"""The ceiling: bare python-socketio on aiohttp, with no database and no matching.

It speaks just enough of ``/chat`` for the benchmark's visitors: a
``conversation`` event after connect, and for each ``message`` a bot-shaped
``message`` back, then the ack. Whatever the chat server does beyond this is
the cost the benchmarks weigh against this ceiling.

    python bench/echo_server.py --port 8090 [--loop uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import socketio
from aiohttp import web

CHAT = "/chat"


def _message(conversation_id: str, sender: str, text: str, client_id: str | None = None) -> dict[str, Any]:
    """A Message as the protocol shapes it (a bot's carries an intent and a confidence)."""
    bot = sender == "bot"
    return {
        "id": uuid.uuid4().hex, "conversation_id": conversation_id, "sender": sender, "text": text,
        "created_at": datetime.now(UTC).isoformat(), "client_id": client_id,
        "intent": "echo" if bot else None, "confidence": 1.0 if bot else None, "agent": None,
        "quick_replies": [],
    }


class EchoNamespace(socketio.AsyncNamespace):
    """``/chat`` with the bot replaced by an echo; every socket is its own conversation."""

    def __init__(self) -> None:
        super().__init__(CHAT)
        self._ids = itertools.count(1)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        # As the chat server does: the welcome goes out just after the connection is accepted.
        self.server.start_background_task(self._welcome, sid, auth if isinstance(auth, dict) else {})

    async def _welcome(self, sid: str, auth: dict[str, Any]) -> None:
        lang = auth.get("lang") if auth.get("lang") in ("en", "es") else "en"
        conversation = {"id": sid, "token": f"echo-{next(self._ids)}", "state": "bot", "lang": lang, "messages": []}
        await self.emit("conversation", conversation, to=sid)

    async def on_message(self, sid: str, data: Any) -> dict[str, Any]:
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            return {"ok": False, "error": {"code": "bad_request", "message": "Send {\"text\": \"...\"}."}}
        client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
        await self.emit("message", _message(sid, "bot", text), to=sid)
        return {"ok": True, "message": _message(sid, "visitor", text, client_id)}


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", logger=False, engineio_logger=False)
    sio.register_namespace(EchoNamespace())
    app = web.Application()
    sio.attach(app)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio", help="event loop to run on")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
