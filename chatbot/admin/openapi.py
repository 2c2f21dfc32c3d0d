"""The OpenAPI 3.1 document of the admin API and the REST API (``/api/v1/``), served at ``/admin/openapi.json``
(no token needed to read it).

Built in code rather than shipped as a JSON file so the shared pieces (the
error shape, the ``since`` parameter) are written once; ``tests/test_admin.py``
checks that every admin route is documented here and nothing else is.

Tested in tests/test_admin.py.
"""

from __future__ import annotations

from typing import Any

from chatbot.admin.dashboard import MAX_DAYS
from chatbot.admin.reports import MAX_DURATION, STATES

_OBJ = "object"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "description": description, "schema": schema}


_SINCE = _param(
    "since",
    f"How far back: a number and a unit (s, m, h, d, w), e.g. 30m, 12h, 7d; at most {MAX_DURATION.days} days.",
    {"type": "string", "default": "7d", "example": "7d"},
)
_LIMIT = _param("limit", "How many items to return.", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50})
_ID = _param("id", "The conversation's id.", {"type": "string"}, where="path")

def _daily(**fields: str | list[str]) -> dict[str, Any]:
    """An array with one object per day of the range: ``day`` and ``fields`` (name -> JSON type)."""
    properties = {"day": {"type": "string", "format": "date"}, **{k: {"type": v} for k, v in fields.items()}}
    return {"type": "array", "items": {"type": _OBJ, "properties": properties}}


_PERCENTILES = {
    "type": _OBJ,
    "description": "seconds: p50 and p90 over the range and per day (null on a day with none)",
    "properties": {"count": {"type": "integer"}, "p50": {"type": ["number", "null"]},
                   "p90": {"type": ["number", "null"]},
                   "per_day": _daily(count="integer", p50=["number", "null"], p90=["number", "null"])},
}


def _rating_group(key: str) -> dict[str, Any]:
    properties = {key: {"type": "string"}, "count": {"type": "integer"}, "average": {"type": "number"}}
    return {"type": _OBJ, "properties": properties}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Disabled"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}


def _operation(
    summary: str, ok: dict[str, Any], parameters: list[dict[str, Any]] | None = None, **responses: dict[str, Any]
) -> dict[str, Any]:
    return {"summary": summary, "parameters": parameters or [], "responses": {"200": ok, **_ERRORS, **responses}}


_TRADE_OFF_POINT = {"type": _OBJ, "properties": {
    "threshold": {"type": "number"}, "answered": {"type": "number"}, "accuracy": {"type": ["number", "null"]},
    "handed_off": {"type": "number"}}}
_WORKING: dict[str, Any] = {"202": {
    "description": "Still being worked out in a child process: ask again after Retry-After seconds",
    "content": {"application/json": {"schema": {"type": _OBJ, "properties": {"state": {"const": "working"}}}}}}}
_NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}
_ERROR_BODY = {"type": _OBJ, "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": _OBJ, "required": ["error"], "properties": {"error": _ERROR_BODY}},
    "Problem": {
        "type": _OBJ,
        "properties": {
            "file": {"type": "string"},
            "line": {"type": "integer"},
            "message": {"type": "string"},
            "text": {"type": "string", "description": "file:line: message"},
        },
    },
    "Reloaded": {
        "type": _OBJ,
        "properties": {
            "ok": {"type": "boolean"},
            "intents": {"type": "integer"},
            "added": {"type": "array", "items": {"type": "string"}},
            "removed": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Group": {
        "type": _OBJ,
        "properties": {
            "lang": {"type": "string", "enum": ["en", "es"]},
            "count": {"type": "integer"},
            "examples": {
                "type": "array",
                "items": {"type": "string"},
                "description": "distinct messages, most frequent first",
            },
            "answers": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the first representative reply after each message, most frequent first",
            },
            "conversations": {"type": "array", "items": {"type": "string"}},
            "last_seen": {"type": "string", "format": "date-time"},
            "section": {"type": ["object", "null"], "properties": {"link": {"type": "string"},
                                                                   "heading": {"type": "string"}},
                        "description": "the content section (URL#anchor) that would answer the group, if one matches"},
        },
    },
    "Stats": {
        "type": _OBJ,
        "properties": {
            "since": {"type": "string", "format": "date-time"},
            "conversations": {"type": "integer", "description": "started in the period"},
            "closed": {"type": "integer", "description": "of those, closed now"},
            "bot_only": {"type": "integer", "description": "closed without ever being queued or taken"},
            "bot_only_share": {"type": ["number", "null"], "description": "bot_only / closed"},
            "handoffs": {
                "type": _OBJ,
                "additionalProperties": {"type": "integer"},
                "description": "conversations leaving the bot, by reason",
            },
            "wait_seconds": {
                "type": _OBJ,
                "properties": {
                    "count": {"type": "integer"},
                    "median": {"type": ["number", "null"]},
                    "p90": {"type": ["number", "null"]},
                },
                "description": "from queued to taken by a representative",
            },
            "top_intents": {
                "type": "array",
                "items": {"type": _OBJ, "properties": {"intent": {"type": "string"}, "count": {"type": "integer"}}},
            },
            "unanswered": {"type": "integer", "description": "handoffs for low confidence"},
            "messages": {"type": _OBJ, "additionalProperties": {"type": "integer"}, "description": "by sender"},
            "ratings": {
                "type": _OBJ,
                "description": "visitors' ratings (1-5) given in the period, by representative and by ISO week",
                "properties": {
                    "count": {"type": "integer"},
                    "average": {"type": ["number", "null"]},
                    "by_representative": {"type": "array", "items": _rating_group("representative")},
                    "by_week": {"type": "array", "items": _rating_group("week")},
                },
            },
        },
    },
    "Activity": {
        "type": _OBJ,
        "description": "The dashboard's figures for conversations started from `from` to `to` (UTC days)",
        "properties": {
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "conversations": {"type": "integer", "description": "started in the range"},
            "per_day": _daily(conversations="integer"),
            "endings": {
                "type": "array",
                "description": "where each conversation ended, mutually exclusive: the counts add up to "
                "`conversations` and the shares to 1. `bot` (the bot alone), `handoff:<reason>` (a representative "
                "took it; the first handoff's reason), `abandoned` (handed off, ended before anyone took it), "
                "`open` (not ended yet)",
                "items": {"type": _OBJ, "properties": {"ending": {"type": "string"}, "label": {"type": "string"},
                                                       "count": {"type": "integer"}, "share": {"type": "number"}}},
            },
            "queue_wait": {**_PERCENTILES, "description": "from queued to taken, by the day of the take"},
            "first_reply": {**_PERCENTILES,
                            "description": "from first queued to a representative's first message, by the day queued"},
            "csat": {
                "type": _OBJ,
                "properties": {"count": {"type": "integer"}, "average": {"type": ["number", "null"]},
                               "per_day": _daily(count="integer", average=["number", "null"]),
                               "by_representative": {"type": "array", "items": _rating_group("representative")}},
            },
            "busiest_hours": {"type": "array", "description": "24 items: conversations started per UTC hour",
                              "items": {"type": _OBJ, "properties": {"hour": {"type": "integer"},
                                                                     "conversations": {"type": "integer"}}}},
            "unanswered": {
                "type": _OBJ,
                "properties": {
                    "messages": {"type": "integer"},
                    "groups": {"type": "array", "items": {"allOf": [_ref("Group"), {"type": _OBJ, "properties": {
                        "rank": {"type": "integer"},
                        "draft": {"type": _OBJ, "properties": {"id": {"type": "string"}, "yaml": {"type": "string"}},
                                  "description": "a draft intent file for the group (docs/admin.md)"}}}]}},
                },
            },
        },
    },
    "ConversationSummary": {
        "type": _OBJ,
        "description": "As in the protocol, plus closed_at, rating, message_count",
        "additionalProperties": True,
        "properties": {
            "id": {"type": "string"},
            "state": {"type": "string", "enum": list(STATES)},
            "reason": {"type": ["string", "null"]},
            "lang": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "message_count": {"type": "integer"},
        },
    },
    "Conversation": {
        "type": _OBJ,
        "additionalProperties": True,
        "description": "The summary, plus every message (the protocol's Message), every change of state and the "
                       "forms the visitor sent (Lead)",
        "properties": {
            "messages": {"type": "array", "items": {"type": _OBJ}},
            "leads": {"type": "array", "items": _ref("Lead")},
            "state_changes": {
                "type": "array",
                "items": {
                    "type": _OBJ,
                    "properties": {
                        "from": {"type": ["string", "null"]},
                        "to": {"type": "string"},
                        "reason": {"type": ["string", "null"]},
                        "agent_id": {"type": ["string", "null"]},
                        "at": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
    },
}


def _response(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _paths() -> dict[str, Any]:
    conversations_params = [
        _param("state", "Only conversations in this state.", {"type": "string", "enum": list(STATES)}),
        _param("reason", "Only conversations whose latest change had this reason.", {"type": "string"}),
        _param(
            "from",
            "Started at or after (ISO 8601 date or date-time, UTC if no zone).",
            {"type": "string", "format": "date-time"},
        ),
        _param("to", "Started before.", {"type": "string", "format": "date-time"}),
        _param("q", "Text that one of its messages contains (case-insensitive).", {"type": "string", "maxLength": 200}),
        _LIMIT,
        _param("offset", "How many matches to skip.", {"type": "integer", "minimum": 0, "default": 0}),
    ]
    page = {
        "type": _OBJ,
        "properties": {
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "conversations": {"type": "array", "items": _ref("ConversationSummary")},
        },
    }
    unanswered = {
        "type": _OBJ,
        "properties": {
            "since": {"type": "string"},
            "messages": {"type": "integer"},
            "total_groups": {"type": "integer"},
            "groups": {"type": "array", "items": _ref("Group")},
        },
    }
    refused = {
        "type": _OBJ,
        "properties": {
            "ok": {"const": False},
            "error": _ERROR_BODY,
            "problems": {"type": "array", "items": _ref("Problem")},
        },
    }
    transcript = {
        "description": "The conversation",
        "content": {"application/json": {"schema": _ref("Conversation")}, "text/plain": {"schema": {"type": "string"}}},
    }
    return {
        "/admin/intents/reload": {
            "post": _operation(
                "Validate the intent folder and swap it in; a broken file changes nothing",
                _json(_ref("Reloaded"), "Swapped in"),
                None,
                **{"422": _json(refused, "Problems, with file and line")},
            )
        },
        "/admin/unanswered": {
            "get": _operation(
                "Visitor messages handed off for low confidence, grouped by similarity, largest group first",
                _json(unanswered, "The groups"),
                [_SINCE, _LIMIT],
            )
        },
        "/admin/stats": {"get": _operation("Figures for the period", _json(_ref("Stats"), "The figures"), [_SINCE])},
        "/admin/activity": {
            "get": _operation(
                "The dashboard's figures for a range of whole UTC days; reversed, malformed or longer than "
                f"{MAX_DAYS} days: 400",
                _json(_ref("Activity"), "The figures"),
                [_param("from", "First day, YYYY-MM-DD (default: 29 days before `to`).",
                        {"type": "string", "format": "date"}),
                 _param("to", "Last day, included, YYYY-MM-DD (default: today, UTC).",
                        {"type": "string", "format": "date"})],
            )
        },
        "/admin/intents": {
            "get": _operation(
                "The running intents: id, file, action, examples per language; and the threshold",
                _json({"type": _OBJ, "properties": {"threshold": {"type": "number"}, "intents": {
                    "type": "array", "items": {"type": _OBJ, "properties": {
                        "id": {"type": "string"}, "file": {"type": "string"}, "action": {"type": ["string", "null"]},
                        "examples": {"type": _OBJ, "additionalProperties": {"type": "integer"}}}}}}},
                      "The intents"),
            )
        },
        "/admin/intents/try": {
            "get": _operation(
                "What the running bot would do with a message: ranked intents, its choice or handoff, the threshold",
                _json({"type": _OBJ, "properties": {
                    "lang": {"type": "string"},
                    "candidates": {"type": "array", "items": {"type": _OBJ, "properties": {
                        "intent": {"type": "string"}, "confidence": {"type": "number"}}}},
                    "intent": {"type": ["string", "null"]}, "confidence": {"type": ["number", "null"]},
                    "threshold": {"type": "number"}, "handoff_reason": {"type": ["string", "null"]},
                    "answer": {"type": "string"}}}, "The decision"),
                [_param("text", "The message, 1 to 500 characters.", {"type": "string", "maxLength": 500}),
                 _param("lang", "en or es: the language when the text does not say.",
                        {"type": "string", "enum": ["en", "es"], "default": "en"})],
            )
        },
        "/admin/intents/trade-off": {
            "get": _operation(
                "The threshold trade-off of the running intents, every example held out (chatbot intents eval's "
                "curve): answered, accuracy and out-of-scope handed off at each threshold from 0 to 1 by 0.01",
                _json({"type": _OBJ, "properties": {
                    "current": {"type": "number"}, "recommended": {"type": "number"},
                    "examples": {"type": "integer"}, "out_of_scope": {"type": "integer"},
                    "at_current": _TRADE_OFF_POINT, "at_recommended": _TRADE_OFF_POINT,
                    "curve": {"type": "array", "items": _TRADE_OFF_POINT}}}, "The curve"),
                None, **_WORKING,
            )
        },
        **_dashboard_page(),
        "/admin/conversations": {
            "get": _operation(
                "Search conversations, newest first, paginated", _json(page, "One page"), conversations_params
            )
        },
        "/admin/conversations/{id}": {
            "get": _operation(
                "One conversation as JSON, or its transcript as text (?format=txt or Accept: text/plain)",
                transcript,
                [_ID, _param("format", "json or txt", {"type": "string", "enum": ["json", "txt"]})],
                **_NOT_FOUND,
            ),
            "delete": {
                "summary": "Erase the conversation: messages, state changes and transcript file",
                "parameters": [_ID],
                "responses": {"204": {"description": "Erased"}, **_ERRORS, **_NOT_FOUND},
            },
        },
        "/admin/audit": {
            "get": _operation(
                "The audit trail, newest first: sign-ins, account changes, reads and deletions of conversations",
                _json({"type": _OBJ, "properties": {"since": {"type": "string"},
                                                   "rows": {"type": "array", "items": {"type": _OBJ}}}},
                      "The rows"),
                [_SINCE, _param("user", "Only this actor (an email, or admin-token).", {"type": "string"}), _LIMIT],
            )
        },
        "/admin/openapi.json": {
            "get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}
        },
    }


_API_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/BadApiKey"},
    "429": {"$ref": "#/components/responses/TooManyFailures"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}
_API_PERIOD = [
    _param("from", "Created at or after (ISO 8601 date or date-time, UTC if no zone).",
           {"type": "string", "format": "date-time"}),
    _param("to", "Created before.", {"type": "string", "format": "date-time"}),
    _param("cursor", "The next_cursor of the previous page, unchanged (absent: the first, newest page).",
           {"type": "string"}),
    _param("limit", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
]
_API_SCHEMAS: dict[str, Any] = {
    "Message": {
        "type": _OBJ,
        "description": "A chat message as the protocol sends it (docs/protocol.md).",
        "properties": {
            "id": {"type": "string"}, "sender": {"type": "string", "enum": ["visitor", "bot", "agent", "system"]},
            "text": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
            "intent": {"type": ["string", "null"]}, "confidence": {"type": ["number", "null"]},
            "urgent": {"type": "boolean"}, "form_offer": {"type": ["object", "null"]},
        },
    },
    "ApiConversation": {
        "type": _OBJ,
        "description": "A ConversationSummary without last_message, with closed_at, rating and every message.",
        "properties": {
            "id": {"type": "string"}, "state": {"type": "string", "enum": list(STATES)},
            "reason": {"type": ["string", "null"]}, "lang": {"type": "string"}, "page": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "rating": {"type": ["integer", "null"]}, "contact": {"type": ["object", "null"]},
            "messages": {"type": "array", "items": _ref("Message")},
        },
    },
    "Lead": {
        "type": _OBJ,
        "description": "A form a visitor sent in the chat (forms/*.yaml), with the consent text they agreed to.",
        "properties": {
            "id": {"type": "string"}, "conversation_id": {"type": "string"}, "form_id": {"type": "string"},
            "values": {"type": _OBJ, "description": "field name: value (text, or true/false for a checkbox)"},
            "consent_text": {"type": "string"}, "lang": {"type": "string", "enum": ["en", "es"]},
            "page": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Contact": {
        "type": _OBJ,
        "description": "Contact details a visitor left in a conversation (the form shown when nobody is online).",
        "properties": {
            "conversation_id": {"type": "string"}, "name": {"type": "string"},
            "email": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]}, "lang": {"type": "string"},
            "page": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
        },
    },
}


def _api_list(summary: str, item: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    page = {"type": _OBJ, "properties": {"data": {"type": "array", "items": _ref(item)},
                                         "next_cursor": {"type": ["string", "null"]}}}
    return {"get": {"summary": summary, "security": [{"apiKey": []}], "parameters": parameters,
                    "responses": {"200": _json(page, "A page, newest first"), **_API_ERRORS}}}


def _api_paths() -> dict[str, Any]:
    """The REST API (chatbot/admin/api.py, docs/api.md): an API key, not the admin token."""
    handoff = _param("reason", "Only conversations handed to people for this reason (at any time).",
                     {"type": "string", "example": "urgent"})
    state = _param("state", "Only conversations in this state.", {"type": "string", "enum": list(STATES)})
    form = _param("form", "Only leads of this form.", {"type": "string", "example": "mri_review"})
    one = {"get": {"summary": "One conversation with its messages", "security": [{"apiKey": []}],
                   "parameters": [_param("id", "The conversation's id.", {"type": "string"}, where="path")],
                   "responses": {"200": _json(_ref("ApiConversation"), "The conversation"), **_API_ERRORS,
                                 "404": {"$ref": "#/components/responses/NotFound"}}}}
    return {
        "/api/v1/conversations": _api_list("Conversations with their messages", "ApiConversation",
                                           [state, handoff, *_API_PERIOD]),
        "/api/v1/conversations/{id}": one,
        "/api/v1/leads": _api_list("Leads: forms visitors sent", "Lead", [form, *_API_PERIOD]),
        "/api/v1/contacts": _api_list("Contact details visitors left", "Contact", _API_PERIOD),
    }


def _dashboard_page() -> dict[str, Any]:
    """The dashboard page and its files: no token needed to load them, the page asks for it (docs/admin.md)."""
    files = {
        "/admin": ("The admin dashboard (HTML)", "text/html"),
        "/admin/dashboard.js": ("The dashboard's script", "application/javascript"),
        "/admin/dashboard.js.map": ("Its source map", "application/json"),
        "/admin/dashboard.css": ("Its style sheet", "text/css"),
    }
    return {
        path: {"get": {"summary": summary, "security": [], "responses": {
            "200": {"description": summary, "content": {media: {"schema": {"type": "string"}}}}}}}
        for path, (summary, media) in files.items()
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Chatbot admin API",
            "version": "1",
            "description": "Tune the bot and read its conversations. Send `Authorization: Bearer "
            "<CHATBOT_ADMIN_TOKEN>`; with no token configured every endpoint answers 403. The REST API under "
            "/api/v1/ takes an API key instead (`chatbot apikeys add NAME`, docs/api.md). "
            'Errors are `{"error": {"code", "message"}}`. See docs/admin.md.',
        },
        "security": [{"bearer": []}],
        "paths": {**_paths(), **_api_paths()},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "An API key from `chatbot apikeys add NAME`"}},
            "schemas": {**_SCHEMAS, **_API_SCHEMAS},
            "responses": {
                "BadRequest": _response("A query parameter is not usable; the message says which and why"),
                "Unauthorized": _response("Missing or wrong admin token (with WWW-Authenticate: Bearer)"),
                "Disabled": _response("The admin API is off: CHATBOT_ADMIN_TOKEN is not set"),
                "NotFound": _response("No conversation with that id"),
                "BadApiKey": _response("Missing, unknown or revoked API key (with WWW-Authenticate: Bearer)"),
                "TooManyFailures": _response("Too many failed attempts from this address; wait a minute"),
                "Unavailable": _response("The database did not answer"),
            },
        },
    }
