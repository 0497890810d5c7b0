"""The mood profile: where the user is, where they want to go, and what the mix should be made of."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from music.types import MoodPoint


class Goal(StrEnum):
    """What the user wants the music to do (Saarikallio & Erkkila 2007)."""

    STAY = "stay"
    LIFT = "lift"
    CALM = "calm"
    ENERGIZE = "energize"


class SongIdeaModel(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    artist: str = Field(min_length=1, max_length=200)


class MoodProfile(BaseModel):
    """Where the listener is and where the mix should take them, on valence (unpleasant -> pleasant) and arousal
    (calm -> activated), both in [0, 1], plus what the mix should be made of."""

    feeling: str = Field(description="the user's current mood in a few plain words", max_length=120)
    current_valence: float = Field(ge=0.0, le=1.0)
    current_arousal: float = Field(ge=0.0, le=1.0)
    target_valence: float = Field(ge=0.0, le=1.0)
    target_arousal: float = Field(ge=0.0, le=1.0)
    goal: Goal | None = Field(default=None, description="None until the user has chosen one")
    genres: list[str] = Field(default_factory=list, max_length=8)
    languages: list[str] = Field(default_factory=list, max_length=4, description="ISO 639-1 codes")
    artists: list[str] = Field(default_factory=list, max_length=8)
    title: str = Field(default="", max_length=100, description="a title for the mix")
    story: str = Field(default="", max_length=200, description="one line: the journey the mix takes")
    song_ideas: list[SongIdeaModel] = Field(default_factory=list, max_length=20)

    @property
    def current(self) -> MoodPoint:
        return MoodPoint(self.current_valence, self.current_arousal)

    @property
    def target(self) -> MoodPoint:
        return MoodPoint(self.target_valence, self.target_arousal)
