"""Taste from thumbs up and down and from skips ("New mix"): liked, disliked and skipped artists and tracks, and how far
mixes travel."""

from __future__ import annotations

from typing import Any

import pytest

from music.taste import PUSH_MAX, PUSH_MIN, SKIP_MEMORY, Taste
from music.types import normalise
from storage.mixes import SKIPPED, MixRecord


def mix(goal: str | None, *artists: str) -> MixRecord:
    tracks: list[dict[str, Any]] = [
        {
            "key": f"{a.lower()}|song {n}",
            "title": f"Song {n}",
            "artist": a,
            "language": "en",
            "valence": 0.5,
            "energy": 0.5,
        }
        for n, a in enumerate(artists)
    ]
    return MixRecord("id", 1, 0.0, "sad", {}, goal, (0.2, 0.2), (0.7, 0.5), "t", "s", tracks)


def test_no_feedback_is_a_neutral_taste() -> None:
    taste = Taste.from_feedback([])
    assert taste == Taste()
    assert taste.push == 1.0


def test_one_like_makes_artists_and_tracks_liked() -> None:
    taste = Taste.from_feedback([(mix("stay", "Adele", "Björk"), 1)])
    assert taste.likes_artist("ADELE") and taste.likes_artist("bjork")
    assert "adele|song 0" in taste.liked_tracks
    assert taste.disliked_artists == frozenset()


def test_artists_need_two_thumbs_down_but_tracks_one() -> None:
    once = Taste.from_feedback([(mix("stay", "Nickelback", "Adele"), -1)])
    assert normalise("Nickelback") not in once.disliked_artists
    assert "nickelback|song 0" in once.disliked_tracks
    twice = Taste.from_feedback([(mix("stay", "Nickelback"), -1), (mix("stay", "Nickelback", "Adele"), -1)])
    assert normalise("nickelback") in twice.disliked_artists
    assert normalise("Adele") not in twice.disliked_artists  # in one disliked mix only


def test_likes_and_dislikes_cancel() -> None:
    taste = Taste.from_feedback([(mix("stay", "Adele"), 1), (mix("stay", "Adele"), -1), (mix("stay", "Adele"), -1)])
    assert not taste.likes_artist("Adele") and normalise("Adele") not in taste.disliked_artists


def test_an_artist_counts_once_per_mix() -> None:
    taste = Taste.from_feedback([(mix("stay", "Adele", "Adele", "Adele"), -1)])
    assert normalise("Adele") not in taste.disliked_artists


def test_push_follows_ratings_of_moving_mixes_only() -> None:
    gentler = Taste.from_feedback([(mix("lift", "A"), -1), (mix("calm", "B"), -1), (mix("stay", "C"), -1)])
    assert gentler.push == pytest.approx(0.8)
    bolder = Taste.from_feedback([(mix("energize", "A"), 1), (mix(None, "B"), 1)])
    assert bolder.push == pytest.approx(1.1)


def test_push_stays_in_bounds() -> None:
    assert Taste.from_feedback([(mix("lift", "A"), -1)] * 20).push == PUSH_MIN
    assert Taste.from_feedback([(mix("lift", "A"), 1)] * 20).push == PUSH_MAX
    with pytest.raises(ValueError):
        Taste(push=2.0)


def test_a_skip_leaves_the_tracks_out_and_marks_the_artists_but_is_no_thumbs_down() -> None:
    taste = Taste.from_feedback([(mix("lift", "Adele", "Björk"), SKIPPED)])
    assert taste.skipped_tracks == {"adele|song 0", "björk|song 1"}
    assert taste.skipped_artists == {"adele", "bjork"}
    assert taste.disliked_tracks == frozenset() and taste.disliked_artists == frozenset()
    assert taste.push == 1.0  # "new mix" asks for other songs, not for a shorter journey


def test_only_the_latest_skips_keep_their_tracks_out() -> None:
    # Most recent first, as `MixRepository.feedback` gives them.
    rows = [(mix("stay", f"Artist {n}"), SKIPPED) for n in range(SKIP_MEMORY + 2)]
    taste = Taste.from_feedback(rows)
    assert taste.skipped_tracks == {f"artist {n}|song 0" for n in range(SKIP_MEMORY)}
    assert len(taste.skipped_artists) == SKIP_MEMORY + 2


def test_a_like_wins_over_a_skip() -> None:
    taste = Taste.from_feedback([(mix("stay", "Adele", "Sia"), SKIPPED), (mix("stay", "Adele"), 1)])
    assert taste.likes_artist("Adele") and "adele" not in taste.skipped_artists
    assert "adele|song 0" in taste.liked_tracks and "adele|song 0" not in taste.skipped_tracks
    assert taste.skipped_artists == {"sia"}
