"""The conversation interface. The built-in rules implement it; so do the LLM providers, which fall back to the
rules for any turn they cannot answer.

A conversation starts from a `MoodContext` (what the face said, the note, the preferences) and moves one `Turn` at a
time as the user presses a goal button, corrects the emotion or tells more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from mood.profile import Goal, MoodProfile


@dataclass(frozen=True, slots=True)
class MoodContext:
    """Everything the conversation may know about the user. Never holds Spotify data (Spotify's developer policy)."""

    scores: dict[str, float]  # the seven emotion probabilities from the selfie
    note: str | None = None
    artists: tuple[str, ...] = ()
    language: str | None = None  # preferred music language (ISO 639-1)
    locale: str = "en-US"  # the user's Discord language: replies are written in it


@dataclass(frozen=True, slots=True)
class ChooseGoal:
    goal: Goal


@dataclass(frozen=True, slots=True)
class CorrectEmotion:
    emotion: str  # one of inference.EMOTIONS: "Not quite: I feel..."


@dataclass(frozen=True, slots=True)
class TellMore:
    text: str


UserEvent = ChooseGoal | CorrectEmotion | TellMore


@dataclass(frozen=True, slots=True)
class Turn:
    """One answer of the conversation: the line to show, the profile so far, and whether to offer a mix.

    `care` is set when the user's words suggest a crisis: the reply then points to help and no playlist is pitched.
    `source` says who answered ("rules", "gemini", "openai") so that fallbacks can be seen in logs and tests.
    """

    reply: str
    profile: MoodProfile
    care: bool = False
    source: str = "rules"
    events: tuple[UserEvent, ...] = field(default=())


class Conversation(Protocol):
    async def start(self) -> Turn:
        """The first line, right after the selfie was read."""
        ...

    async def send(self, event: UserEvent) -> Turn:
        """One more turn of the same conversation."""
        ...


class ConversationEngine(Protocol):
    def open(self, context: MoodContext) -> Conversation:
        """Begin a new conversation for one /mood."""
        ...
