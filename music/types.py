"""Music types shared by the catalog, the recommender, Spotify and the conversation layer.

Valence (sad -> happy) and energy (calm -> intense) are both on [0, 1], the scale Spotify's retired audio
features used; a listener's mood is placed on the same plane (energy standing for arousal).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


def normalise(text: str) -> str:
    """Fold case, Latin accents, punctuation and spacing, so that titles and artists compare as people read them.

    Other scripts keep their letters and marks ("Кино" stays "кино"; "Beyoncé" becomes "beyonce").
    """
    kept: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch) and kept and kept[-1].isascii():
            continue  # an accent on a Latin letter
        kept.append(ch)
    folded = re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFC", "".join(kept)).casefold())
    return " ".join(folded.split())


def song_key(title: str, artist: str) -> str:
    """Identity of a song across sources (catalog, Gemini ideas, history): normalised artist and title."""
    return f"{normalise(artist)}|{normalise(title)}"


def clamp(value: float) -> float:
    """Keep a coordinate on [0, 1]."""
    return min(1.0, max(0.0, value))


@dataclass(frozen=True, slots=True)
class MoodPoint:
    """A point on the valence/energy plane, both in [0, 1]."""

    valence: float
    energy: float

    def distance(self, other: MoodPoint) -> float:
        return float(((self.valence - other.valence) ** 2 + (self.energy - other.energy) ** 2) ** 0.5)


@dataclass(frozen=True, slots=True)
class Track:
    """One song as released: title and artist exactly as the record credits them."""

    title: str
    artist: str
    language: str  # ISO 639-1 code; "zxx" for instrumental
    genres: tuple[str, ...]
    year: int
    valence: float
    energy: float
    tempo: float | None = None

    @property
    def key(self) -> str:
        """Identity of the song across sources (catalog, Gemini ideas, history): normalised artist and title."""
        return song_key(self.title, self.artist)

    @property
    def point(self) -> MoodPoint:
        return MoodPoint(self.valence, self.energy)


@dataclass(frozen=True, slots=True)
class SongIdea:
    """A song suggested by the conversation (title and artist only); the recommender resolves it."""

    title: str
    artist: str


@dataclass(frozen=True, slots=True)
class PlaylistTrack:
    track: Track
    reason: str  # one line the embed can show: why this song sits here in the mix
    in_catalog: bool = True  # False for a conversation idea the catalog does not hold (mood values estimated)


@dataclass(slots=True)
class Playlist:
    title: str
    story: str
    tracks: list[PlaylistTrack]
    path: list[MoodPoint] = field(default_factory=list)  # the planned point of each position, first to last
