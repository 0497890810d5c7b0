"""Test helpers: stand-ins for the services the pipeline drives (a reader, a conversation engine and a recommender
that record what they were asked), and mocks of discord.py objects built with `spec_set` from the real classes, so a
mock cannot grow an attribute the real object lacks (as python-discord/bot does)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from unittest.mock import AsyncMock, MagicMock

import discord

from inference.errors import InferenceError
from inference.types import EMOTIONS, EmotionReading, FaceBox
from mood.conversation import ChooseGoal, CorrectEmotion, MoodContext, TellMore, Turn, UserEvent
from mood.profile import MoodProfile
from music.recommender import MixRequest
from music.taste import Taste
from music.types import MoodPoint, Playlist, PlaylistTrack, Track


def reading(label: str = "sad", confidence: float = 0.6, faces: int = 1) -> EmotionReading:
    """A reading with `confidence` on `label` and the rest spread evenly."""
    rest = (1.0 - confidence) / (len(EMOTIONS) - 1)
    scores = {e: (confidence if e == label else rest) for e in EMOTIONS}
    return EmotionReading(scores=scores, faces=faces, face_box=FaceBox(10, 20, 100, 120))


class FakeReader:
    def __init__(self, result: EmotionReading | InferenceError) -> None:
        self.result = result
        self.seen: list[bytes] = []

    async def read(self, data: bytes) -> EmotionReading:
        self.seen.append(data)
        if isinstance(self.result, InferenceError):
            raise self.result
        return self.result


def profile(**changes: object) -> MoodProfile:
    base = MoodProfile(
        feeling="a little down",
        current_valence=0.3,
        current_arousal=0.3,
        target_valence=0.3,
        target_arousal=0.3,
        genres=["jazz"],
        languages=["en"],
        artists=["Nina Simone"],
        title="Rainy Window",
        story="From grey to gold",
    )
    return base.model_copy(update=changes)


CARE_TURN = Turn(reply="I'm here. Please reach out: https://findahelpline.com", profile=profile(), care=True)


@dataclass
class FakeConversation:
    """Answers like the rules, simply: "hopeless" in the words gives a care turn."""

    context: MoodContext
    events: list[UserEvent] = field(default_factory=list)

    async def start(self) -> Turn:
        if self.context.note and "hopeless" in self.context.note:
            return CARE_TURN
        return Turn(reply="You look a little down.", profile=profile())

    async def send(self, event: UserEvent) -> Turn:
        self.events.append(event)
        if isinstance(event, TellMore) and "hopeless" in event.text:
            return CARE_TURN
        if isinstance(event, ChooseGoal):
            return Turn(reply=f"Going {event.goal.value}.", profile=profile(goal=event.goal, target_valence=0.8))
        if isinstance(event, CorrectEmotion):
            return Turn(reply=f"Ah, {event.emotion}.", profile=profile(feeling=event.emotion))
        return Turn(reply="Noted.", profile=profile())


class FakeEngine:
    def __init__(self) -> None:
        self.opened: list[FakeConversation] = []

    def open(self, context: MoodContext) -> FakeConversation:
        conversation = FakeConversation(context)
        self.opened.append(conversation)
        return conversation


def track(n: int, artist: str | None = None) -> Track:
    return Track(f"Song {n}", artist or f"Artist {n}", "en", ("pop",), 2000, 0.5, 0.5)


@dataclass
class BuildCall:
    request: MixRequest
    taste: Taste | None
    avoid: frozenset[str]
    seed: int | None


class FakeRecommender:
    """Returns the first `request.size` of its tracks that are not avoided, and records each call."""

    def __init__(self, tracks: list[Track] | None = None) -> None:
        self.tracks = tracks or [track(n) for n in range(60)]
        self.calls: list[BuildCall] = []

    def build(
        self,
        request: MixRequest,
        *,
        taste: Taste | None = None,
        avoid: frozenset[str] = frozenset(),
        seed: int | None = None,
    ) -> Playlist:
        self.calls.append(BuildCall(request, taste, avoid, seed))
        chosen = [t for t in self.tracks if t.key not in avoid][: request.size]
        return Playlist(
            title=request.title or "Mix",
            story=request.story or "A story",
            tracks=[
                PlaylistTrack(t, reason="A step brighter" if i % 2 else "Meets you where you are")
                for i, t in enumerate(chosen)
            ],
            path=[MoodPoint(0.5, 0.5)] * len(chosen),
        )


_ids = itertools.count(1000)


def mock_user(user_id: int = 42, name: str = "tester") -> MagicMock:
    """A `discord.Member` mock with an id and a name."""
    user = MagicMock(spec_set=discord.Member)
    user.id = user_id
    user.name = name
    user.mention = f"<@{user_id}>"
    return user


def mock_interaction(user_id: int = 42, locale: str = "en-US") -> MagicMock:
    """A `discord.Interaction` mock whose response and followup behave like discord.py's: `response.is_done()` turns
    True and `response.type` is set once the interaction has been answered."""
    interaction = MagicMock(spec_set=discord.Interaction)
    interaction.id = next(_ids)
    interaction.user = mock_user(user_id)
    interaction.locale = discord.Locale(locale)
    interaction.created_at = discord.utils.utcnow()
    response = MagicMock(spec_set=discord.InteractionResponse)
    response.type = None
    response.is_done.side_effect = lambda: response.type is not None

    def answered(kind: discord.InteractionResponseType) -> AsyncMock:
        async def answer(*args: object, **kwargs: object) -> None:
            if response.type is not None:
                raise discord.InteractionResponded(interaction)
            response.type = kind

        return AsyncMock(side_effect=answer)

    response.defer = answered(discord.InteractionResponseType.deferred_channel_message)
    response.send_message = answered(discord.InteractionResponseType.channel_message)
    response.send_modal = answered(discord.InteractionResponseType.modal)
    interaction.response = response
    interaction.followup = MagicMock(spec_set=discord.Webhook)
    interaction.followup.send = AsyncMock(return_value=MagicMock(spec_set=discord.WebhookMessage))
    return interaction


def mock_attachment(data: bytes, *, size: int | None = None, filename: str = "selfie.jpg") -> MagicMock:
    """A `discord.Attachment` mock that reports `size` (the byte count unless given) and reads back `data`."""
    attachment = MagicMock(spec_set=discord.Attachment)
    attachment.filename = filename
    attachment.size = len(data) if size is None else size
    attachment.content_type = "image/jpeg"
    attachment.read = AsyncMock(return_value=data)
    return attachment


class Clock:
    """A clock a test sets by hand (`clock.now = ...`), for code that takes `clock=`."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
