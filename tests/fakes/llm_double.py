"""What the Gemini and OpenAI-compatible test doubles share: an aiohttp server on 127.0.0.1 that records every request
body and answers in the mode a test sets (a good answer, malformed JSON, JSON that breaks the schema, a 500, a slow
answer that outlasts the client's timeout, or a safety block).

Each double only decides how a mode looks on its wire (`_answer`); starting, recording and stopping live here.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from aiohttp import web

# A valid MoodMix answer (mood.llm.LLMReply) that the doubles send in GOOD mode unless a test sets another.
GOOD_ANSWER: dict[str, Any] = {
    "reply": "You look a little low. Shall we sit with it for a while, or lift it gently?",
    "care": False,
    "profile": {
        "feeling": "a little low",
        "current_valence": 0.3,
        "current_arousal": 0.35,
        "target_valence": 0.6,
        "target_arousal": 0.5,
        "goal": None,
        "genres": ["indie folk"],
        "languages": ["en"],
        "artists": ["Phoebe Bridgers"],
        "title": "Slow Sunrise",
        "story": "From a quiet low toward a warmer light.",
        "song_ideas": [{"title": "Motion Sickness", "artist": "Phoebe Bridgers"}],
    },
}


class Mode(StrEnum):
    GOOD = "good"
    MALFORMED = "malformed"  # not JSON at all
    SCHEMA_VIOLATION = "schema_violation"  # JSON, but not an LLMReply
    SERVER_ERROR = "server_error"  # HTTP 500
    SLOW = "slow"  # answers only after the client has given up
    SAFETY = "safety"  # the answer was stopped for safety (Gemini finishReason SAFETY, OpenAI content_filter)
    BLOCKED = "blocked"  # the request was refused (Gemini promptFeedback.blockReason, OpenAI message.refusal)


@dataclass(frozen=True, slots=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str  # the body as sent, for "this text never left the bot" assertions


class LLMDouble(ABC):
    """Base of the loopback LLM doubles. Use as `async with Double() as double:`; `double.base_url` is its address."""

    def __init__(self) -> None:
        self.mode = Mode.GOOD
        self.answer: dict[str, Any] = GOOD_ANSWER
        self.requests: list[Recorded] = []
        self._stopping = asyncio.Event()  # releases SLOW handlers so that shutdown does not wait for them
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def raw_bodies(self) -> str:
        """Every request body received so far, joined: what the bot has sent to the provider."""
        return "\n".join(request.raw for request in self.requests)

    def answer_text(self) -> str:
        """The model's text for the current mode (GOOD, MALFORMED or SCHEMA_VIOLATION)."""
        if self.mode is Mode.MALFORMED:
            return '{"reply": "cut off in the mid'
        if self.mode is Mode.SCHEMA_VIOLATION:
            return json.dumps({"reply": "fine", "profile": {"feeling": "ok", "current_valence": 7}})
        return json.dumps(self.answer)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        self.requests.append(Recorded(request.path, dict(request.headers), json.loads(raw), raw))
        if self.mode is Mode.SLOW:
            await self._stopping.wait()
        return self._answer(request)

    @abstractmethod
    def history(self, index: int = -1) -> list[tuple[str, str]]:
        """The (role, text) messages of request `index`, in order, with the roles as that wire names them."""

    @abstractmethod
    def _answer(self, request: web.Request) -> web.StreamResponse:
        """The response for the current mode, in the provider's wire format."""


def json_response(payload: dict[str, Any], status: int = 200) -> web.Response:
    """A JSON response with exactly `application/json` as its content type, as the real services send."""
    return web.Response(text=json.dumps(payload), status=status, content_type="application/json")
