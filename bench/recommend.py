"""Recommendation benchmark: MoodMix's recommender against a naive baseline on the built-in catalog.

Run from the repository root:

    .venv/bin/python bench/recommend.py

Profiles: five starting moods (the circumplex points of sad, angry, fear, happy and neutral) x four goals (stay,
lift, calm, energize) x three kinds of preference (none; a preferred language; a preferred language and two
favourite artists of that language), 60 in all, 15 tracks each.

Recommenders:
- ours: `music.recommender.Recommender` (the iso path, lookahead assignment, preferences).
- naive: the 15 catalog tracks nearest to the target, ordered from nearest to farthest from the current mood
  (the kindest order for it), ignoring preferences.

Figures (per recommender, averaged over the profiles where they apply):
- path fit: mean distance of each track from its point on the planned path (`plan_path`; lower is better);
- start gap / end gap: distance of the first track from the current mood and of the last from the target (the iso
  principle asks for both to be small);
- smoothness: the largest step between consecutive tracks (lower is smoother), and the worst of the profiles;
- language share: share of tracks in the preferred language (profiles with one);
- favourites: share of favourite artists present (profiles with them; ours places a favourite only where one of
  its songs fits the path, so this is below 1 when an artist has nothing near the mood);
- max/artist and distinct artists: variety.
It prints figures; it is not a test.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from mood.circumplex import EMOTION_POINTS, target_for
from mood.profile import Goal
from music.catalog import Catalog
from music.recommender import MixRequest, Recommender, plan_path
from music.types import Track, normalise

SIZE = 15
MOODS = ("sad", "angry", "fear", "happy", "neutral")
LANGUAGES = ("es", "ja", "fr")


@dataclass(frozen=True)
class Profile:
    name: str
    request: MixRequest


@dataclass(frozen=True)
class Scores:
    path_fit: float
    start_gap: float
    end_gap: float
    smoothness: float
    language_share: float | None
    favourites: float | None
    max_per_artist: int
    distinct_artists: int


def top_artists(catalog: Catalog, language: str, count: int) -> tuple[str, ...]:
    """The artists with the most tracks in `language` (ties by name): stand-ins for a user's favourites."""
    counts = Counter(t.artist for t in catalog.tracks if t.language == language)
    return tuple(a for a, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:count])


def profiles(catalog: Catalog) -> list[Profile]:
    found = []
    for n, (mood, goal) in enumerate((m, g) for m in MOODS for g in Goal):
        current = EMOTION_POINTS[mood]
        target = target_for(goal, current)
        language = LANGUAGES[n % len(LANGUAGES)]
        found.append(Profile(f"{mood}/{goal.value}", MixRequest(current, target, size=SIZE)))
        found.append(Profile(f"{mood}/{goal.value} +{language}", MixRequest(current, target, (language,), size=SIZE)))
        favourites = top_artists(catalog, language, 2)
        found.append(
            Profile(
                f"{mood}/{goal.value} +{language} +artists",
                MixRequest(current, target, (language,), favourites, size=SIZE),
            )
        )
    return found


def naive(catalog: Catalog, request: MixRequest) -> list[Track]:
    nearest = sorted(catalog.tracks, key=lambda t: (t.point.distance(request.target), t.key))[: request.size]
    return sorted(nearest, key=lambda t: (t.point.distance(request.current), t.key))


def score(tracks: list[Track], request: MixRequest) -> Scores:
    path = plan_path(request.current, request.target, len(tracks))
    points = [t.point for t in tracks]
    artists = Counter(normalise(t.artist) for t in tracks)
    language_share = None
    if request.languages:
        language_share = sum(t.language == request.languages[0] for t in tracks) / len(tracks)
    favourites = None
    if request.artists:
        favourites = sum(normalise(a) in artists for a in request.artists) / len(request.artists)
    return Scores(
        path_fit=statistics.fmean(p.distance(q) for p, q in zip(points, path, strict=True)),
        start_gap=points[0].distance(request.current),
        end_gap=points[-1].distance(request.target),
        smoothness=max(a.distance(b) for a, b in pairwise(points)),
        language_share=language_share,
        favourites=favourites,
        max_per_artist=max(artists.values()),
        distinct_artists=len(artists),
    )


def mean(values: list[float | None]) -> str:
    present = [v for v in values if v is not None]
    return f"{statistics.fmean(present):.3f}" if present else "-"


def summary(rows: list[Scores]) -> list[str]:
    return [
        mean([r.path_fit for r in rows]),
        mean([r.start_gap for r in rows]),
        mean([r.end_gap for r in rows]),
        mean([r.smoothness for r in rows]),
        f"{max(r.smoothness for r in rows):.3f}",
        mean([r.language_share for r in rows]),
        mean([r.favourites for r in rows]),
        f"{max(r.max_per_artist for r in rows)}",
        mean([float(r.distinct_artists) for r in rows]),
    ]


def main() -> None:
    catalog = Catalog.builtin()
    recommender = Recommender(catalog)
    ours: list[Scores] = []
    base: list[Scores] = []
    print(f"catalog: {len(catalog.tracks)} tracks; {SIZE} tracks a mix\n")
    header = f"{'profile':<30} {'fit':>11} {'smooth':>11} {'lang':>11} {'max/artist':>11}"
    print(header + "   (ours | naive)")
    for profile in profiles(catalog):
        mine = score([item.track for item in recommender.build(profile.request).tracks], profile.request)
        theirs = score(naive(catalog, profile.request), profile.request)
        ours.append(mine)
        base.append(theirs)
        lang = f"{mine.language_share:.2f}|{theirs.language_share:.2f}" if mine.language_share is not None else "-"
        print(
            f"{profile.name:<30} {mine.path_fit:.3f}|{theirs.path_fit:.3f}"
            f" {mine.smoothness:.3f}|{theirs.smoothness:.3f} {lang:>11}"
            f" {mine.max_per_artist:>5}|{theirs.max_per_artist:<5}"
        )
    names = [
        "path fit",
        "start gap",
        "end gap",
        "smoothness",
        "worst smoothness",
        "language share",
        "favourites",
        "max/artist",
        "distinct",
    ]
    print(f"\n{'mean over ' + str(len(ours)) + ' profiles':<24} {'ours':>8} {'naive':>8}")
    for name, mine_value, base_value in zip(names, summary(ours), summary(base), strict=True):
        print(f"{name:<24} {mine_value:>8} {base_value:>8}")
    print(
        "\nLower is better for fit, gaps, smoothness and max/artist. The naive mix sits at the target from the first"
        "\ntrack: its steps are small because it never travels, which its start gap shows."
    )


if __name__ == "__main__":
    main()
