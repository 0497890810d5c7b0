"""What a user's thumbs up and down, and their "New mix" presses, say about their taste, in a form the recommender
can use.

From the rated mixes (`storage.mixes.MixRepository.feedback`: pairs of a mix and its rating, most recent first;
+1 or -1 for a thumbs up or down, `SKIPPED` (0) when the user asked for a new mix instead of this one):

- An artist's score is the sum of the ratings of the rated mixes it appeared in (once per mix). Liked at >= +1;
  disliked at <= -2: one thumbs-down is as often about the journey as about the singers, so it takes two before an
  artist is left out. A track's score is counted the same way; liked at >= +1, disliked at <= -1.
- `push` scales how far a mix travels toward its target (1.0 = the full way). Each rated mix that moved (goal lift,
  calm or energize) changes it by 0.1 in the rating's direction, within [0.5, 1.5]: someone who thumbs-down "lift"
  mixes gets gentler journeys, someone who likes them gets bolder ones. "stay" mixes do not move and say nothing
  about it.
- A skip is a weaker signal than a thumbs-down: it says "not these songs now", not "not this journey" (push is
  unchanged) nor "never this artist". The tracks of the latest 3 skipped mixes are left out of new mixes while the
  catalog has others (on top of the recently played ones), and the artists of every skipped mix in the feedback are
  slightly down-weighted. A like wins over a skip: liked tracks and artists are neither.

The recommender favours liked artists and tracks, leaves disliked artists and recently skipped tracks out while the
catalog has others, ranks disliked tracks last and skipped artists a little later.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from music.types import normalise
from storage.mixes import SKIPPED

PUSH_MIN, PUSH_MAX, PUSH_STEP = 0.5, 1.5, 0.1
SKIP_MEMORY = 3  # skipped mixes whose tracks are left out
_MOVING_GOALS = frozenset({"lift", "calm", "energize"})


class RatedMix(Protocol):
    """What taste needs from a stored mix (`storage.mixes.MixRecord` has it): its goal and its track dicts."""

    @property
    def goal(self) -> str | None: ...

    @property
    def tracks(self) -> Sequence[Mapping[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Taste:
    """Liked, disliked and skipped artists (normalised names) and track keys, and how far mixes should travel."""

    liked_artists: frozenset[str] = frozenset()
    disliked_artists: frozenset[str] = frozenset()
    liked_tracks: frozenset[str] = frozenset()
    disliked_tracks: frozenset[str] = frozenset()
    push: float = 1.0
    skipped_artists: frozenset[str] = frozenset()
    skipped_tracks: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not PUSH_MIN <= self.push <= PUSH_MAX:
            raise ValueError(f"push must be in [{PUSH_MIN}, {PUSH_MAX}]")

    @classmethod
    def from_feedback(cls, rows: Iterable[tuple[RatedMix, int]]) -> Taste:
        """Taste from (mix, rating) pairs, most recent first; rating +1, -1 or `SKIPPED` (see the module docstring)."""
        artists: Counter[str] = Counter()
        tracks: Counter[str] = Counter()
        skipped_artists: set[str] = set()
        skipped_tracks: set[str] = set()
        skips = 0
        push = 1.0
        for mix, rating in rows:
            names = {normalise(str(t["artist"])) for t in mix.tracks}
            keys = {str(t["key"]) for t in mix.tracks}
            if rating == SKIPPED:
                skipped_artists |= names
                if skips < SKIP_MEMORY:
                    skipped_tracks |= keys
                skips += 1
                continue
            sign = 1 if rating > 0 else -1
            for artist in names:
                artists[artist] += sign
            for key in keys:
                tracks[key] += sign
            if mix.goal in _MOVING_GOALS:
                push += PUSH_STEP * sign
        liked_artists = frozenset(a for a, score in artists.items() if score >= 1)
        liked_tracks = frozenset(k for k, score in tracks.items() if score >= 1)
        return cls(
            liked_artists=liked_artists,
            disliked_artists=frozenset(a for a, score in artists.items() if score <= -2),
            liked_tracks=liked_tracks,
            disliked_tracks=frozenset(k for k, score in tracks.items() if score <= -1),
            push=round(min(PUSH_MAX, max(PUSH_MIN, push)), 4),
            skipped_artists=frozenset(skipped_artists - liked_artists),
            skipped_tracks=frozenset(skipped_tracks - liked_tracks),
        )

    def likes_artist(self, artist: str) -> bool:
        return normalise(artist) in self.liked_artists
