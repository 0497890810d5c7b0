"""The one MoodMix pipeline: selfie bytes -> emotion -> a conversation -> playlists. `/mood` and `moodmix try` both
call it, so what the command line shows is what Discord users get.

A conversation lives in memory, keyed by a random session id and owned by the user who opened it. Sessions are
bounded: at most `max_sessions` at once (the oldest goes first), `max_turns` user answers each, and `max_age`
seconds (a Discord followup token lasts 15 minutes, so a longer conversation could not answer anyway). The turn and
age bounds default to the LLM conversation's own (`mood.llm`), so that a session ends when its chat does.

    PipelineError
    ├── SessionExpired   the session is gone (too old, evicted, or the bot restarted)
    ├── NotYourSession   another user pressed the button
    ├── TooManyTurns     the conversation has had `max_turns` answers
    ├── TooManyMixes     the conversation has made `MAX_MIXES` mixes
    └── MixWithheld      the last turn was a care reply: no playlist is pitched
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from inference.types import EmotionReading
from mood.conversation import Conversation, ConversationEngine, CorrectEmotion, MoodContext, Turn, UserEvent
from mood.llm import MAX_AGE_SECONDS, MAX_TURNS
from mood.profile import MoodProfile
from music.recommender import MixRequest
from music.taste import Taste
from music.types import Playlist, SongIdea
from storage.preferences import Preferences

MAX_SESSIONS = 1000
MIX_SIZE = 15
MAX_MIXES = 10  # per session: each "New mix" stores one more
NO_PREFERENCES = Preferences()


class PipelineError(Exception):
    """A request the pipeline cannot serve; `user_message` says what to do."""

    code = "pipeline_error"
    user_message = "Something went wrong on my side; please try again."

    def __init__(self) -> None:
        super().__init__(self.user_message)


class SessionExpired(PipelineError):
    code = "session_expired"
    user_message = "That conversation has ended. Send /mood with a new selfie to start another."


class NotYourSession(PipelineError):
    code = "not_your_session"
    user_message = "This conversation belongs to someone else. Send /mood to start your own."


class TooManyTurns(PipelineError):
    code = "too_many_turns"
    user_message = "We've talked a lot about this one. Send /mood again to start fresh."


class TooManyMixes(PipelineError):
    code = "too_many_mixes"
    user_message = f"That's {MAX_MIXES} mixes from this conversation. Send /mood again for a fresh start."


class MixWithheld(PipelineError):
    code = "mix_withheld"
    user_message = "Let's leave the music for now. Please look at the message above: someone there can listen."


class Reader(Protocol):
    async def read(self, data: bytes) -> EmotionReading: ...


class Builder(Protocol):
    def build(
        self, request: MixRequest, *, taste: Taste | None = None, avoid: frozenset[str] = ..., seed: int | None = None
    ) -> Playlist: ...


class MixStore(Protocol):
    """What the pipeline needs of `storage.mixes.MixRepository`."""

    async def add(
        self,
        *,
        user_id: int,
        emotion: str,
        scores: dict[str, float],
        goal: str | None,
        current: tuple[float, float],
        target: tuple[float, float],
        title: str,
        story: str,
        tracks: list[dict[str, Any]],
    ) -> str: ...

    async def recent_track_keys(self, user_id: int) -> set[str]: ...

    async def rate(self, user_id: int, mix_id: str, rating: int) -> bool: ...

    async def skip(self, user_id: int, mix_id: str) -> bool: ...

    async def feedback(self, user_id: int) -> list[tuple[Any, int]]: ...


@dataclass(frozen=True, slots=True)
class MixResult:
    """A playlist made for a session; `mix_id` is None when there is no database to keep it (the CLI)."""

    mix_id: str | None
    playlist: Playlist
    profile: MoodProfile


@dataclass(slots=True)
class _Session:
    user_id: int
    conversation: Conversation
    prefs: Preferences
    scores: dict[str, float]
    emotion: str  # the reading's label until the user corrects it
    started: float
    last: Turn
    turns: int = 0
    mixes: int = 0
    mixed_keys: set[str] = field(default_factory=set)
    shown: tuple[str, int] | None = None  # the last stored mix's id and the number of turns when it was made
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one turn at a time, even when buttons are mashed


class MoodPipeline:
    """Reads selfies, holds conversations and makes mixes. Build it once (bot/services.py) and share it."""

    def __init__(
        self,
        *,
        reader: Reader,
        engine: ConversationEngine,
        recommender: Builder,
        mixes: MixStore | None = None,
        max_sessions: int = MAX_SESSIONS,
        max_turns: int = MAX_TURNS,
        max_age: float = MAX_AGE_SECONDS,
        mix_size: int = MIX_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._engine = engine
        self._recommender = recommender
        self._mixes = mixes
        self._max_sessions = max_sessions
        self._max_turns = max_turns
        self._max_age = max_age
        self._mix_size = mix_size
        self._clock = clock
        self._sessions: OrderedDict[str, _Session] = OrderedDict()

    async def read(self, data: bytes) -> EmotionReading:
        """Read the emotion in a selfie (validated, decoded and classified off the event loop by the reader)."""
        return await self._reader.read(data)

    async def open(
        self,
        user_id: int,
        reading: EmotionReading,
        *,
        note: str | None = None,
        prefs: Preferences = NO_PREFERENCES,
        locale: str = "en-US",
    ) -> tuple[str, Turn]:
        """Start a conversation about a reading; return its session id and the first turn."""
        context = MoodContext(
            scores=dict(reading.scores), note=note, artists=prefs.artists, language=prefs.language, locale=locale
        )
        conversation = self._engine.open(context)
        turn = await conversation.start()
        self._prune()
        while len(self._sessions) >= self._max_sessions:
            self._sessions.popitem(last=False)
        session_id = secrets.token_hex(8)
        self._sessions[session_id] = _Session(
            user_id=user_id,
            conversation=conversation,
            prefs=prefs,
            scores=dict(reading.scores),
            emotion=reading.label,
            started=self._clock(),
            last=turn,
        )
        return session_id, turn

    async def answer(self, session_id: str, user_id: int, event: UserEvent) -> Turn:
        """One more turn: a goal button, an emotion correction or "tell me more" text."""
        session = self._session(session_id, user_id)
        async with session.lock:
            if session.turns >= self._max_turns:
                raise TooManyTurns()
            turn = await session.conversation.send(event)
            session.turns += 1
            session.last = turn
            if isinstance(event, CorrectEmotion):
                session.emotion = event.emotion
            return turn

    async def mix(self, session_id: str, user_id: int, *, seed: int | None = None) -> MixResult:
        """Build a playlist from the conversation's profile so far, store it when there is a database, and return it.

        Tracks of this session's earlier mixes and of the user's recent stored mixes are avoided, and the user's
        thumbs up/down shape the mix. Without `seed`, the number of mixes already made in the session is the seed,
        so "New mix" varies while a given sequence of presses stays reproducible. Asking again with no answer in
        between ("New mix") records a skip of the mix shown, which later mixes heed (`music.taste`). A session makes
        at most `MAX_MIXES` mixes.
        """
        session = self._session(session_id, user_id)
        async with session.lock:
            if session.last.care:
                raise MixWithheld()
            if session.mixes >= MAX_MIXES:
                raise TooManyMixes()
            profile = session.last.profile
            avoid = set(session.mixed_keys)
            taste = None
            if self._mixes is not None:
                if session.shown is not None and session.shown[1] == session.turns:
                    await self._mixes.skip(user_id, session.shown[0])
                avoid |= await self._mixes.recent_track_keys(user_id)
                rows = await self._mixes.feedback(user_id)
                taste = Taste.from_feedback(rows) if rows else None
            request = mix_request(profile, session.prefs, size=self._mix_size)
            # Planning a mix over the whole catalog is pure CPU work: keep it off the event loop.
            playlist = await asyncio.to_thread(
                self._recommender.build,
                request,
                taste=taste,
                avoid=frozenset(avoid),
                seed=session.mixes if seed is None else seed,
            )
            session.mixes += 1
            session.mixed_keys.update(item.track.key for item in playlist.tracks)
            mix_id = None
            if self._mixes is not None:
                mix_id = await self._mixes.add(
                    user_id=user_id,
                    emotion=session.emotion,
                    scores=session.scores,
                    goal=profile.goal.value if profile.goal else None,
                    current=(profile.current_valence, profile.current_arousal),
                    target=(profile.target_valence, profile.target_arousal),
                    title=playlist.title,
                    story=playlist.story,
                    tracks=[
                        {
                            "key": item.track.key,
                            "title": item.track.title,
                            "artist": item.track.artist,
                            "language": item.track.language,
                            "valence": item.track.valence,
                            "energy": item.track.energy,
                        }
                        for item in playlist.tracks
                    ],
                )
                session.shown = (mix_id, session.turns)
            return MixResult(mix_id=mix_id, playlist=playlist, profile=profile)

    async def rate(self, user_id: int, mix_id: str, rating: int) -> bool:
        """Keep a thumbs up (+1) or down (-1) for a stored mix; False when it is not the user's mix or not stored."""
        if rating not in (-1, 1):
            raise ValueError("rating must be +1 or -1")
        if self._mixes is None:
            return False
        return await self._mixes.rate(user_id, mix_id, rating)

    def check(self, session_id: str, user_id: int) -> None:
        """Raise `SessionExpired` or `NotYourSession` unless the user may continue this session; cheap, so a front
        door can refuse before it shows anything."""
        self._session(session_id, user_id)

    def forget_user(self, user_id: int) -> int:
        """Drop every conversation of this user (for /forget-me); return how many there were. Their buttons then
        answer `SessionExpired`."""
        mine = [session_id for session_id, session in self._sessions.items() if session.user_id == user_id]
        for session_id in mine:
            del self._sessions[session_id]
        return len(mine)

    def _session(self, session_id: str, user_id: int) -> _Session:
        self._prune()
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionExpired()
        if session.user_id != user_id:
            raise NotYourSession()
        return session

    def _prune(self) -> None:
        """Drop sessions older than `max_age` (they sit oldest first)."""
        cutoff = self._clock() - self._max_age
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if oldest.started > cutoff:
                break
            self._sessions.popitem(last=False)


def mix_request(profile: MoodProfile, prefs: Preferences, *, size: int = MIX_SIZE) -> MixRequest:
    """Turn a profile and the user's saved preferences into a recommender request: the saved language leads the
    languages and the saved artists come first."""
    return MixRequest(
        current=profile.current,
        target=profile.target,
        languages=_unique([prefs.language] if prefs.language else [], profile.languages, fold=str.lower),
        artists=_unique(prefs.artists, profile.artists, fold=str.casefold),
        genres=_unique(profile.genres, fold=str.lower),
        song_ideas=tuple(SongIdea(title=idea.title, artist=idea.artist) for idea in profile.song_ideas),
        size=size,
        title=profile.title,
        story=profile.story,
    )


def _unique(*groups: Iterable[str], fold: Callable[[str], str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for group in groups:
        for value in group:
            if fold(value) not in seen:
                seen.add(fold(value))
                out.append(value)
    return tuple(out)
