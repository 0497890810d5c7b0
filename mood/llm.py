"""The LLM conversation, whatever the provider (Gemini, or an OpenAI-compatible server): the prompt, one chat per
/mood, validation of every answer, the rules standing in for any turn the model cannot answer, and care.

What the model may see is decided here and only here: `start_message` and `event_message` turn a `MoodContext`
and the user's events (plus, optionally, a sample of MoodMix's own catalog) into the only text sent. Nothing else
reaches a provider, so a user's Spotify data (which `MoodContext` never holds) cannot either.

Each turn, in order:
1. The rules answer first (local and instant): that answer is the fallback, and the rules stay in step.
2. Care: when the user's words suggest a crisis (`mood.care.needs_care`), the words are not sent; the reply is the
   care reply, and the model's history gets a placeholder so later turns stay gentle; every later reply keeps a
   line pointing to help (as the rules' do).
3. Otherwise the model is asked, within `timeout` seconds. Its answer must validate as `LLMReply`; a timeout, an
   error, a safety block or an invalid answer gives the rules' turn instead (`Turn.source == "rules"`), and the
   model's history is told what the user actually saw. A care flag in the model's answer is honoured.
A conversation is bounded: after `max_turns` answers or `max_age` seconds the rules answer alone.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from mood.care import care_reply, needs_care
from mood.conversation import (
    ChooseGoal,
    Conversation,
    ConversationEngine,
    CorrectEmotion,
    MoodContext,
    TellMore,
    Turn,
    UserEvent,
)
from mood.profile import Goal, MoodProfile
from mood.rules import HELP_REMINDER
from music.types import MoodPoint, Track

logger = logging.getLogger(__name__)

# A conversation's bounds, for every front door: bot/pipeline.py refuses turns past them with the same numbers.
MAX_TURNS = 12  # the user's answers after the first line
MAX_AGE_SECONDS = 15 * 60  # a Discord followup token lasts 15 minutes: no answer could reach the user later
CATALOG_SAMPLE_SIZE = 30

# Shown to the model instead of words that suggest a crisis: they are not sent, but later turns should know.
WITHHELD = "(withheld: the user's words suggested they may be in crisis; MoodMix answered with care)"

SYSTEM_INSTRUCTION = """\
You are MoodMix, a warm, brief companion in a Discord bot. A user sent a selfie; a face-emotion model read it. You
talk about their mood and what they want from music, then MoodMix builds a playlist from your profile.

Each user message is JSON. The first ("start") gives the seven emotion scores read from the face, the user's note,
their favourite artists, their preferred music language, the language to reply in, and a sample of MoodMix's
catalog. Later messages are events: "choose_goal" (stay with the mood, lift it, calm down, or energize),
"correct_emotion" (the user says the face reading was wrong and names how they feel) and "tell_more" (free text).

Answer every message with JSON only, matching the schema:
- reply: one or two short sentences for the user, written in the reply language (a Discord locale such as "de" or
  "pt-BR"). In the first reply, name the mood gently and ask whether they want music that stays with it or moves
  it (lift, calm, energize). Never diagnose; the face reading can be wrong, so hold it lightly.
- care: true only when the user's words suggest a crisis (self-harm, suicide, being in danger). Then the reply is
  kind, points to help, and pitches no music.
- profile: feeling (a few plain words); current_valence and current_arousal (0..1: unpleasant to pleasant, calm to
  activated) for where they are now; target_valence and target_arousal for where the mix should end: the same point
  for "stay", higher valence for "lift", lower arousal for "calm", higher arousal for "energize". The mix starts
  where the listener is and moves gradually (the iso principle). goal: the goal the user chose, or null until they
  choose. genres, languages (ISO 639-1), artists: what fits the mood and their preferences. title (short) and story
  (one line: the journey the mix takes). song_ideas: up to 10 real, existing songs (title and artist) that fit the
  journey; prefer songs from the catalog sample and the user's favourite artists and language.
Keep the whole profile up to date on every answer.
"""


class LLMReply(BaseModel):
    """What the model must answer each turn: the structured-output schema sent to every provider."""

    reply: str = Field(min_length=1, max_length=600, description="what MoodMix says to the user, in their language")
    care: bool = Field(default=False, description="true when the user's words suggest a crisis")
    profile: MoodProfile


class ChatRefused(Exception):
    """The provider answered without usable text: a safety block, a refusal or an empty answer."""


class ProviderChat(Protocol):
    """One chat with a provider, holding the history of one conversation."""

    async def ask(self, message: str) -> LLMReply:
        """Send one user message with the history so far and return the validated answer.

        The exchange joins the history only when the answer is valid; on any failure (including cancellation by a
        timeout) the history stays as it was and the error is raised.
        """
        ...

    def record(self, message: str, answer: str) -> None:
        """Append an exchange the model did not produce (a fallback or a care turn) to the history."""
        ...


class LLMProvider(Protocol):
    """A configured LLM service; one client shared by all conversations, one chat per conversation."""

    name: str

    def open_chat(self, instruction: str) -> ProviderChat:
        """A new, empty chat that follows `instruction` (the system prompt)."""
        ...

    async def aclose(self) -> None:
        """Close the provider's HTTP client."""
        ...


# MoodMix's own catalog near a mood point, offered to the model so that its song ideas can come from it.
CatalogSample = Callable[[MoodPoint], Sequence[Track]]


def catalog_near(tracks: Sequence[Track], size: int = CATALOG_SAMPLE_SIZE) -> CatalogSample:
    """A `CatalogSample` over MoodMix's own `tracks`: the `size` nearest to the point (valence, energy)."""

    def sample(point: MoodPoint) -> list[Track]:
        return heapq.nsmallest(size, tracks, key=lambda track: point.distance(track.point))

    return sample


def parse_reply(text: str | None) -> LLMReply:
    """Validate a model's text as an `LLMReply`; raise `ChatRefused` when there is none, `ValidationError` when it
    is not valid JSON or breaks the schema."""
    if not text or not text.strip():
        raise ChatRefused("empty answer")
    return LLMReply.model_validate_json(text)


def start_message(context: MoodContext, catalog: Sequence[Track] = (), *, withhold_note: bool = False) -> str:
    """The first user message: the emotion reading, the user's own words and preferences, and the catalog sample.

    Only fields of `MoodContext` (which never holds Spotify data) and MoodMix's catalog are read.
    """
    note = WITHHELD if withhold_note and context.note else context.note
    payload: dict[str, Any] = {
        "event": "start",
        "emotion_scores": {label: round(score, 3) for label, score in context.scores.items()},
        "note": note,
        "favourite_artists": list(context.artists),
        "preferred_music_language": context.language,
        "reply_language": context.locale,
        "catalog_sample": [{"title": track.title, "artist": track.artist} for track in catalog],
    }
    return json.dumps(payload, ensure_ascii=False)


def event_message(event: UserEvent, *, withhold_text: bool = False) -> str:
    """The user message for one button press, emotion correction or "tell me more" text."""
    payload: dict[str, Any]
    match event:
        case ChooseGoal(goal=goal):
            payload = {"event": "choose_goal", "goal": goal.value}
        case CorrectEmotion(emotion=emotion):
            payload = {"event": "correct_emotion", "emotion": emotion}
        case TellMore(text=text):
            payload = {"event": "tell_more", "text": WITHHELD if withhold_text else text}
    return json.dumps(payload, ensure_ascii=False)


class LLMEngine:
    """A `ConversationEngine` that talks through an LLM provider and falls back to `rules` turn by turn."""

    def __init__(
        self,
        provider: LLMProvider,
        rules: ConversationEngine,
        *,
        timeout: float,
        catalog_sample: CatalogSample | None = None,
        max_turns: int = MAX_TURNS,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self._rules = rules
        self._timeout = timeout
        self._catalog_sample = catalog_sample
        self._max_turns = max_turns
        self._max_age = max_age
        self._clock = clock

    def open(self, context: MoodContext) -> Conversation:
        """Begin a new conversation for one /mood, with its own provider chat and its own rules conversation."""
        return LLMConversation(
            context,
            chat=self.provider.open_chat(SYSTEM_INSTRUCTION),
            source=self.provider.name,
            rules=self._rules.open(context),
            timeout=self._timeout,
            catalog_sample=self._catalog_sample,
            max_turns=self._max_turns,
            expires_at=self._clock() + self._max_age,
            clock=self._clock,
        )

    async def aclose(self) -> None:
        """Close the provider's client (at shutdown)."""
        await self.provider.aclose()


class LLMConversation:
    """One /mood conversation: a provider chat, with the rules answering any turn the model cannot."""

    def __init__(
        self,
        context: MoodContext,
        *,
        chat: ProviderChat,
        source: str,
        rules: Conversation,
        timeout: float,
        catalog_sample: CatalogSample | None,
        max_turns: int,
        expires_at: float,
        clock: Callable[[], float],
    ) -> None:
        self._context = context
        self._chat: ProviderChat | None = chat  # None once the conversation is past its bounds
        self._source = source
        self._rules = rules
        self._timeout = timeout
        self._catalog_sample = catalog_sample
        self._turns_left = max_turns + 1  # the first line, then `max_turns` answers
        self._expires_at = expires_at
        self._clock = clock
        self._goal: Goal | None = None  # the user's latest goal button: the model may not overrule it
        self._cared = False  # a care turn has been given in this conversation
        self._lock = asyncio.Lock()  # one turn at a time keeps the chat history in order

    async def start(self) -> Turn:
        """The first line, right after the selfie was read."""
        async with self._lock:
            fallback = await self._rules.start()
            care = needs_care(self._context.note)
            catalog = (
                await asyncio.to_thread(self._catalog_sample, fallback.profile.current)  # scans the whole catalog
                if self._catalog_sample and not care
                else ()
            )
            message = start_message(self._context, catalog[:CATALOG_SAMPLE_SIZE], withhold_note=care)
            return await self._turn(message, fallback, care=care)

    async def send(self, event: UserEvent) -> Turn:
        """One more turn of the same conversation."""
        async with self._lock:
            fallback = await self._rules.send(event)
            if isinstance(event, ChooseGoal):
                self._goal = event.goal
            care = isinstance(event, TellMore) and needs_care(event.text)
            return await self._turn(event_message(event, withhold_text=care), fallback, care=care)

    async def _turn(self, message: str, fallback: Turn, *, care: bool) -> Turn:
        turn = await self._answer(message, fallback, care=care)
        if turn.care:
            self._cared = True
        elif self._cared and HELP_REMINDER not in turn.reply:
            # After a care turn, every later reply keeps a way to help in sight, whoever wrote it.
            turn = replace(turn, reply=f"{turn.reply} {HELP_REMINDER}")
        return turn

    async def _answer(self, message: str, fallback: Turn, *, care: bool) -> Turn:
        chat = self._live_chat()
        if chat is None:
            return fallback
        if care:
            turn = _care_turn(fallback, self._context.locale)
            chat.record(message, _as_answer(turn))
            return turn
        try:
            async with asyncio.timeout(self._timeout):
                answer = await chat.ask(message)
        except Exception as exc:
            # Any failure (timeout, HTTP error, refusal, invalid answer) costs the user only the model's voice.
            logger.warning("%s turn fell back to the rules: %s", self._source, _reason(exc))
            chat.record(message, _as_answer(fallback))
            return fallback
        if answer.care:
            return replace(_care_turn(fallback, self._context.locale), source=self._source)
        profile = answer.profile
        if self._goal is not None and profile.goal != self._goal:
            profile = profile.model_copy(update={"goal": self._goal})
        return replace(fallback, reply=answer.reply, profile=profile, care=False, source=self._source)

    def _live_chat(self) -> ProviderChat | None:
        """The chat while the conversation is within its bounds; past them it is dropped and the rules talk."""
        if self._chat is not None and (self._turns_left <= 0 or self._clock() >= self._expires_at):
            self._chat = None
        self._turns_left -= 1
        return self._chat


def _care_turn(fallback: Turn, locale: str) -> Turn:
    """The rules' turn as a care turn: the care reply in the user's language, and no playlist pitched."""
    return replace(fallback, reply=care_reply(locale), care=True, source="rules")


def _as_answer(turn: Turn) -> str:
    """A turn the model did not write, in the model's own answer format, for its history."""
    return LLMReply(reply=turn.reply, care=turn.care, profile=turn.profile).model_dump_json()


def _reason(exc: BaseException) -> str:
    """A short, content-free reason for the logs (no prompt text, no answer text, no keys)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ValidationError):
        return f"invalid answer ({exc.error_count()} errors)"
    return type(exc).__name__
