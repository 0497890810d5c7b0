"""The recommender: the iso principle (start where the listener is, end at the target), smooth steps, and every
preference the request and the user's taste carry. Catalogs here are small and synthetic, so each rule is seen."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

from music.catalog import Catalog
from music.recommender import (
    FAVOURITE_FIT,
    LOOP_RADIUS,
    MixRequest,
    Recommender,
    clamp,
    describe,
    plan_path,
)
from music.taste import Taste
from music.types import MoodPoint, Playlist, SongIdea, Track
from storage.mixes import MixRecord

LOW = MoodPoint(0.15, 0.2)
HIGH = MoodPoint(0.85, 0.75)
ANGRY = MoodPoint(0.15, 0.85)
LANGUAGES = ("en", "es", "ja")
# A favourite artist whose songs are all far from the journeys below (bright and calm, where no test mix goes).
OFF_MOOD = tuple(
    Track(f"Off {n}", "Off Mood", "ja", ("pop",), 2000, v, e) for n, (v, e) in enumerate([(0.9, 0.1), (0.95, 0.2)])
)


def grid_catalog(extra: tuple[Track, ...] = ()) -> Catalog:
    """300 tracks: three per point of a 10 x 10 grid over the plane, in three languages, 60 artists of 5 tracks."""
    tracks = []
    for i in range(10):
        for j in range(10):
            for k in range(3):
                n = (i * 10 + j) * 3 + k
                tracks.append(
                    Track(
                        title=f"Song {n}",
                        artist=f"Artist {(i * 10 + j * 3 + k * 7) % 60}",
                        language=LANGUAGES[(i + j + k) % 3],
                        genres=("jazz",) if n % 10 == 0 else ("pop",),
                        year=2000,
                        valence=round(0.05 + 0.1 * i + 0.01 * k, 2),
                        energy=round(0.05 + 0.1 * j + 0.01 * k, 2),
                    )
                )
    return Catalog([*tracks, *extra])


def points(playlist: Playlist) -> list[MoodPoint]:
    return [item.track.point for item in playlist.tracks]


def artists(playlist: Playlist) -> Counter[str]:
    return Counter(item.track.artist for item in playlist.tracks)


def rated(artist: str, goal: str = "stay") -> MixRecord:
    tracks: list[dict[str, Any]] = [
        {"key": f"x|{artist}", "title": "x", "artist": artist, "language": "en", "valence": 0.5, "energy": 0.5}
    ]
    return MixRecord("id", 1, 0.0, "sad", {}, goal, (0.2, 0.2), (0.7, 0.5), "t", "s", tracks)


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender(grid_catalog())


def test_the_path_eases_from_current_to_target() -> None:
    path = plan_path(LOW, HIGH, 15)
    assert len(path) == 15 and path[0] == LOW and path[-1] == HIGH
    steps = [a.distance(b) for a, b in itertools.pairwise(path)]
    assert steps[0] < steps[7] and steps[-1] < steps[7]  # lingers at the start, arrives softly
    assert max(steps) < 1.6 * LOW.distance(HIGH) / 14


def test_a_stay_path_circles_the_point() -> None:
    path = plan_path(LOW, LOW, 12)
    assert path[0] == LOW
    assert all(p.distance(LOW) <= LOOP_RADIUS + 1e-4 for p in path)
    assert len(set(path)) > 6


def test_iso_order_first_near_current_last_near_target(recommender: Recommender) -> None:
    playlist = recommender.build(MixRequest(LOW, HIGH, size=15))
    got = points(playlist)
    assert len(got) == 15
    assert got[0].distance(LOW) < 0.1
    assert got[-1].distance(HIGH) < 0.1
    to_target = [p.distance(HIGH) for p in got]
    assert sum(to_target[:5]) > sum(to_target[5:10]) > sum(to_target[10:])
    assert playlist.path == plan_path(LOW, HIGH, 15)
    mean_off_path = sum(p.distance(q) for p, q in zip(got, playlist.path, strict=True)) / 15
    assert mean_off_path < 0.06


@pytest.mark.parametrize(
    "request_",
    [
        MixRequest(HIGH, LOW, size=10),
        MixRequest(HIGH, LOW, artists=("Off Mood", "Artist 17"), size=10),
        MixRequest(HIGH, LOW, languages=("ja",), size=10),
        MixRequest(HIGH, LOW, languages=("ja",), artists=("Off Mood", "Artist 42"), size=15),
        # A "stay" mix with a favourite far from the mood: it once sat 0.3 away from its neighbours.
        MixRequest(ANGRY, ANGRY, languages=("ja",), artists=("Off Mood", "Artist 5"), size=15),
    ],
    ids=["plain", "favourites", "language", "favourites+language", "stay+favourites+language"],
)
def test_no_jarring_jumps(request_: MixRequest) -> None:
    got = points(Recommender(grid_catalog(OFF_MOOD)).build(request_))
    assert len(got) == request_.size
    assert max(a.distance(b) for a, b in itertools.pairwise(got)) < 0.2


def test_a_favourite_with_no_song_near_the_journey_is_left_out() -> None:
    playlist = Recommender(grid_catalog(OFF_MOOD)).build(MixRequest(LOW, HIGH, artists=("Off Mood",), size=15))
    assert artists(playlist)["Off Mood"] == 0
    assert "Your favourite artist" not in {item.reason for item in playlist.tracks}


def test_a_favourite_gets_its_best_fitting_song_where_it_fits() -> None:
    path = plan_path(LOW, HIGH, 15)
    near = path[9]
    songs = (
        Track("Far", "Fav", "en", ("pop",), 2000, 0.95, 0.05),
        Track("Close", "Fav", "en", ("pop",), 2000, round(near.valence + 0.06, 2), round(near.energy - 0.06, 2)),
        Track("Closer", "Fav", "en", ("pop",), 2000, round(near.valence + 0.02, 2), round(near.energy, 2)),
    )
    playlist = Recommender(grid_catalog(songs)).build(MixRequest(LOW, HIGH, artists=("fav",), size=15))
    placed = {item.track.title: n for n, item in enumerate(playlist.tracks) if item.track.artist == "Fav"}
    assert "Far" not in placed and "Closer" in placed
    position = placed["Closer"]
    assert playlist.tracks[position].reason == "Your favourite artist"
    assert playlist.tracks[position].track.point.distance(playlist.path[position]) <= FAVOURITE_FIT


def test_no_artist_more_than_twice_even_when_one_dominates_the_path() -> None:
    path = plan_path(LOW, HIGH, 15)
    hog = tuple(Track(f"Hog {n}", "The Hog", "en", ("pop",), 2000, p.valence, p.energy) for n, p in enumerate(path))
    playlist = Recommender(grid_catalog(hog)).build(MixRequest(LOW, HIGH, size=15))
    assert artists(playlist)["The Hog"] == 2
    assert max(artists(playlist).values()) <= 2
    assert len({item.track.key for item in playlist.tracks}) == 15


def test_first_language_dominates(recommender: Recommender) -> None:
    for languages in (("ja",), ("es", "en")):
        playlist = recommender.build(MixRequest(LOW, HIGH, languages=languages, size=15))
        share = sum(item.track.language == languages[0] for item in playlist.tracks) / 15
        assert share >= 0.6


def test_a_scarce_first_language_still_gets_its_share() -> None:
    # Twelve Greek tracks, all far from a sad-to-calm path: the share is still met, from the end of the mix.
    greek = tuple(Track(f"Greek {n}", f"Greek artist {n}", "el", ("pop",), 2000, 0.9, 0.9) for n in range(12))
    playlist = Recommender(grid_catalog(greek)).build(MixRequest(LOW, MoodPoint(0.4, 0.1), languages=("el",), size=15))
    assert sum(item.track.language == "el" for item in playlist.tracks) >= 9
    assert playlist.tracks[0].track.language != "el"  # the mix still meets the listener first


def test_when_the_catalog_has_few_in_the_language_all_of_them_come() -> None:
    few = tuple(Track(f"Welsh {n}", f"Welsh artist {n}", "cy", ("folk",), 2000, 0.5, 0.5) for n in range(3))
    playlist = Recommender(grid_catalog(few)).build(MixRequest(LOW, HIGH, languages=("cy",), size=12))
    assert sum(item.track.language == "cy" for item in playlist.tracks) == 3
    assert len(playlist.tracks) == 12


def test_avoid_is_honoured(recommender: Recommender) -> None:
    first = recommender.build(MixRequest(LOW, HIGH, size=15))
    keys = frozenset(item.track.key for item in first.tracks)
    second = recommender.build(MixRequest(LOW, HIGH, size=15), avoid=keys)
    assert keys.isdisjoint(item.track.key for item in second.tracks)
    assert points(second)[0].distance(LOW) < 0.15


def test_avoided_tracks_come_back_only_when_the_catalog_runs_out() -> None:
    tracks = [Track(f"T{n}", f"Solo {n}", "en", (), 2000, n / 12, n / 12) for n in range(12)]
    avoid = frozenset(t.key for t in tracks[:8])
    playlist = Recommender(Catalog(tracks)).build(MixRequest(LOW, HIGH, size=10), avoid=avoid)
    keys = [item.track.key for item in playlist.tracks]
    assert len(keys) == len(set(keys)) == 10
    assert {t.key for t in tracks[8:]} <= set(keys)


def test_a_catalog_smaller_than_the_mix_gives_a_shorter_mix() -> None:
    tracks = [Track(f"T{n}", f"Solo {n}", "en", (), 2000, n / 7, n / 7) for n in range(7)]
    playlist = Recommender(Catalog(tracks)).build(MixRequest(LOW, HIGH, size=10))
    assert len(playlist.tracks) == len(playlist.path) == 7
    assert len({item.track.key for item in playlist.tracks}) == 7


def test_favourite_artists_appear_at_most_twice(recommender: Recommender) -> None:
    playlist = recommender.build(MixRequest(LOW, HIGH, artists=("artist 17", "Artist 42", "Not In Catalog"), size=15))
    counts = artists(playlist)
    assert 1 <= counts["Artist 17"] <= 2 and 1 <= counts["Artist 42"] <= 2
    assert any(item.reason == "Your favourite artist" for item in playlist.tracks)


def test_song_ideas_in_and_out_of_the_catalog(recommender: Recommender) -> None:
    catalog = grid_catalog()
    idea_track = next(t for t in catalog.tracks if t.valence == 0.45 and t.energy == 0.45)
    ideas = (SongIdea(idea_track.title, idea_track.artist.upper()), SongIdea("Unknown Song", "Unknown Band"))
    request = MixRequest(LOW, HIGH, song_ideas=ideas, size=15)
    playlist = recommender.build(request)
    by_title = {item.track.title: (n, item) for n, item in enumerate(playlist.tracks)}
    n, found = by_title[idea_track.title]
    assert found.in_catalog and found.track == idea_track
    assert n == min(range(15), key=lambda i: idea_track.point.distance(playlist.path[i]))
    m, missing = by_title["Unknown Song"]
    assert not missing.in_catalog
    assert missing.track.point == playlist.path[m]
    assert "conversation" in missing.reason and "conversation" in found.reason


def test_ideas_take_at_most_half_the_mix(recommender: Recommender) -> None:
    ideas = tuple(SongIdea(f"Idea {n}", f"Band {n}") for n in range(20))
    playlist = recommender.build(MixRequest(LOW, HIGH, song_ideas=ideas, size=12))
    assert sum(not item.in_catalog for item in playlist.tracks) == 6
    assert len(playlist.tracks) == 12


def test_genres_nudge(recommender: Recommender) -> None:
    def jazz(genres: tuple[str, ...]) -> int:
        playlist = recommender.build(MixRequest(LOW, HIGH, genres=genres, size=15))
        return sum("jazz" in item.track.genres for item in playlist.tracks)

    assert jazz(("Jazz",)) > jazz(())


def test_a_genre_is_matched_whole_not_as_part_of_another(recommender: Recommender) -> None:
    # The grid's genres are "pop" and "jazz": "K-Pop" and "Acid Jazz" are neither.
    plain = recommender.build(MixRequest(LOW, HIGH, size=15))
    asked = recommender.build(MixRequest(LOW, HIGH, genres=("K-Pop", "Acid Jazz"), size=15))
    assert [item.track.key for item in asked.tracks] == [item.track.key for item in plain.tracks]
    assert not any(item.reason.endswith("as you asked") for item in asked.tracks)


def test_a_genre_is_matched_in_any_of_its_spellings() -> None:
    path = plan_path(LOW, HIGH, 15)
    synth = tuple(
        Track(f"Synth {n}", f"Synth artist {n}", "en", ("synth-pop",), 2000, p.valence, round(p.energy + 0.03, 2))
        for n, p in enumerate(path[3:12:4])
    )
    playlist = Recommender(grid_catalog(synth)).build(MixRequest(LOW, HIGH, genres=("Synthpop",), size=15))
    chosen = [item for item in playlist.tracks if item.track in synth]
    assert len(chosen) == 3
    assert {item.reason for item in chosen} == {"Some synth-pop, as you asked"}


def test_seed_varies_the_mix_reproducibly(recommender: Recommender) -> None:
    request = MixRequest(LOW, HIGH, size=15)

    def keys(seed: int | None) -> list[str]:
        return [item.track.key for item in recommender.build(request, seed=seed).tracks]

    assert keys(None) == keys(None)
    assert keys(3) == keys(3)
    assert keys(3) != keys(4)
    assert keys(None) != keys(3)


def test_dislikes_remove_an_artist_and_likes_bring_it_more() -> None:
    # "Borderline" sits a little off the path: the mix takes one of its songs, not two.
    path = plan_path(LOW, HIGH, 15)
    near = tuple(
        Track(f"Near {n}", "Borderline", "en", ("pop",), 2000, round(p.valence + 0.04, 2), round(p.energy - 0.04, 2))
        for n, p in enumerate(path[2:13:2])
    )
    recommender = Recommender(grid_catalog(near))
    request = MixRequest(LOW, HIGH, size=15)
    plain = artists(recommender.build(request))["Borderline"]
    assert plain >= 1
    disliked = Taste.from_feedback([(rated("Borderline"), -1), (rated("Borderline"), -1)])
    assert artists(recommender.build(request, taste=disliked))["Borderline"] == 0
    liked = Taste.from_feedback([(rated("Borderline"), 1)])
    with_like = recommender.build(request, taste=liked)
    assert artists(with_like)["Borderline"] > plain
    assert "An artist you liked before" in {item.reason for item in with_like.tracks}


def test_skipped_tracks_stay_out_and_skipped_artists_come_less() -> None:
    path = plan_path(LOW, HIGH, 15)
    near = tuple(
        Track(f"Near {n}", "Borderline", "en", ("pop",), 2000, round(p.valence + 0.03, 2), round(p.energy - 0.03, 2))
        for n, p in enumerate(path[1:14:2])
    )
    recommender = Recommender(grid_catalog(near))
    request = MixRequest(LOW, HIGH, size=15)
    plain = recommender.build(request)
    keys = frozenset(item.track.key for item in plain.tracks)
    after_skip = recommender.build(request, taste=Taste(skipped_tracks=keys))
    assert keys.isdisjoint(item.track.key for item in after_skip.tracks)
    assert len(after_skip.tracks) == 15
    # Borderline's songs sit a little off the path: a skip of a mix they were in tips the balance against them.
    assert artists(plain)["Borderline"] >= 1
    assert (
        artists(recommender.build(request, taste=Taste(skipped_artists=frozenset({"borderline"}))))["Borderline"] == 0
    )


def test_a_favourite_artist_beats_a_dislike(recommender: Recommender) -> None:
    disliked = Taste(disliked_artists=frozenset({"artist 17"}))
    playlist = recommender.build(MixRequest(LOW, HIGH, artists=("Artist 17",), size=15), taste=disliked)
    assert artists(playlist)["Artist 17"] >= 1


def test_push_shortens_or_lengthens_the_journey(recommender: Recommender) -> None:
    request = MixRequest(LOW, HIGH, size=15)
    gentle = recommender.build(request, taste=Taste(push=0.5))
    full = recommender.build(request)
    assert gentle.path[-1] == MoodPoint(0.5, 0.475)
    assert points(gentle)[-1].distance(LOW) < points(full)[-1].distance(LOW)


def test_reasons_tell_the_journey(recommender: Recommender) -> None:
    playlist = recommender.build(MixRequest(LOW, HIGH, size=15))
    reasons = [item.reason for item in playlist.tracks]
    assert reasons[0].startswith("Meets you where you are: ")
    assert reasons[-1].startswith("Where we're heading: ")
    assert any(r.startswith("A step") for r in reasons[1:-1])
    assert all(r for r in reasons)
    stay = recommender.build(MixRequest(LOW, LOW, size=10))
    assert all(r.startswith(("Meets you", "Stays with the feeling")) for r in (i.reason for i in stay.tracks))


def test_title_and_story_from_the_request_or_the_path(recommender: Recommender) -> None:
    given = recommender.build(MixRequest(LOW, HIGH, title="Up from here", story="Climbs.", size=10))
    assert (given.title, given.story) == ("Up from here", "Climbs.")
    made = recommender.build(MixRequest(LOW, HIGH, size=10))
    assert made.title == "Brighter by the song"
    assert made.story == f"Starts {describe(LOW)} and moves, one step at a time, to {describe(HIGH)}."
    calm = recommender.build(MixRequest(MoodPoint(0.5, 0.9), MoodPoint(0.55, 0.2), size=10))
    assert calm.title == "Slowing down"


def test_describe_puts_the_stronger_word_first() -> None:
    assert describe(MoodPoint(0.35, 0.1)) == "slow and wistful"
    assert describe(MoodPoint(0.9, 0.75)) == "bright and upbeat"


def test_clamp_keeps_a_coordinate_on_the_unit_interval() -> None:
    assert (clamp(-0.2), clamp(0.4), clamp(1.3)) == (0.0, 0.4, 1.0)


@pytest.mark.parametrize("size", [9, 21])
def test_mix_size_is_ten_to_twenty(size: int) -> None:
    with pytest.raises(ValueError):
        MixRequest(LOW, HIGH, size=size)
