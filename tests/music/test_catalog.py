"""The shipped catalog's data (music/data/catalog.csv) and the catalog reader: our columns, the public Spotify
dataset layouts, bad rows, look-ups and the stats that `moodmix catalog stats` prints."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from music.catalog import (
    COLUMNS,
    LANGUAGE_NAMES,
    UNKNOWN_YEAR,
    Catalog,
    CatalogError,
    CatalogStats,
    format_stats,
    genre_key,
)
from music.types import Track, normalise, song_key

# Every ISO 639-1 code (ISO 639 maintenance agency list), so that the test does not trust the code's own table.
ISO_639_1_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee
    el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is
    it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms
    mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk
    sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu
"""
ISO_639_1 = frozenset(ISO_639_1_CODES.split())
INSTRUMENTAL = "zxx"
UNIT = re.compile(r"(0\.\d\d|1\.00)")  # two decimals in [0, 1]
# The European languages the catalog was first built around: at least this many songs in each.
LANGUAGE_MINIMUMS = {"en": 200, "es": 70, "pt": 60, "fr": 60, "de": 50, "it": 50, "nl": 30, "sv": 35}


@pytest.fixture(scope="module")
def shipped_text() -> str:
    return (resources.files("music") / "data" / "catalog.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def shipped_rows(shipped_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(shipped_text, newline="")))


def track(title: str = "Song", artist: str = "Artist", **changes: object) -> Track:
    values: dict[str, object] = {
        "language": "en",
        "genres": ("pop",),
        "year": 1999,
        "valence": 0.5,
        "energy": 0.5,
        "tempo": None,
    }
    values.update(changes)
    return Track(title, artist, **values)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str, name: str = "tracks.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped data -----------------------------------------------------------------------------------------------


def test_the_shipped_header_is_exactly_our_columns(shipped_text: str) -> None:
    assert shipped_text.splitlines()[0] == ",".join(COLUMNS) == "title,artist,language,genres,year,valence,energy,tempo"


def test_every_shipped_row_loads_as_one_track(shipped_rows: list[dict[str, str]]) -> None:
    catalog = Catalog.builtin()
    assert len(catalog) == len(shipped_rows)  # nothing merged away, nothing dropped
    assert [(t.title, t.artist) for t in catalog] == [(r["title"], r["artist"]) for r in shipped_rows]


def test_shipped_values_are_well_formed_and_in_range(shipped_rows: list[dict[str, str]]) -> None:
    problems = []
    for line, row in enumerate(shipped_rows, start=2):
        if any(value != value.strip() or not value for name, value in row.items() if name != "tempo"):
            problems.append((line, "empty value or stray spaces"))
        if not UNIT.fullmatch(row["valence"]) or not UNIT.fullmatch(row["energy"]):
            problems.append((line, "valence/energy not in [0, 1] with two decimals"))
        if not (row["year"].isdigit() and 1900 <= int(row["year"]) <= 2026):
            problems.append((line, f"implausible year {row['year']!r}"))
        if row["tempo"] and not (row["tempo"].isdigit() and 40 <= int(row["tempo"]) <= 220):
            problems.append((line, f"tempo {row['tempo']!r} is not whole beats per minute"))
        if row["language"] not in ISO_639_1 | {INSTRUMENTAL}:
            problems.append((line, f"{row['language']!r} is not an ISO 639-1 code"))
        genres = row["genres"].split(";")
        if any(not g or g != g.strip() or g != g.lower() for g in genres) or len(set(genres)) != len(genres):
            problems.append((line, f"genres {row['genres']!r} are not distinct lowercase names"))
    assert problems == []


def test_no_song_is_listed_twice(shipped_rows: list[dict[str, str]]) -> None:
    keys = Counter(song_key(row["title"], row["artist"]) for row in shipped_rows)
    assert [key for key, count in keys.items() if count > 1] == []


def test_rows_are_sorted_by_language_artist_and_title(shipped_rows: list[dict[str, str]]) -> None:
    order = [(r["language"], normalise(r["artist"]), normalise(r["title"])) for r in shipped_rows]
    assert order == sorted(order)


def test_every_catalog_language_has_an_english_name() -> None:
    assert [code for code, _ in Catalog.builtin().languages() if code not in LANGUAGE_NAMES] == []


def test_the_main_european_languages_have_their_minimum_song_counts() -> None:
    counts = dict(Catalog.builtin().languages())
    short = {code: counts.get(code, 0) for code, minimum in LANGUAGE_MINIMUMS.items() if counts.get(code, 0) < minimum}
    assert short == {}


def test_each_shipped_genre_has_one_spelling() -> None:
    # "synth-pop" and "synthpop", or "edm" and "electronic", would split one genre in two in the stats.
    spellings: dict[str, set[str]] = {}
    for track_ in Catalog.builtin():
        for genre in track_.genres:
            spellings.setdefault(genre_key(genre), set()).add(genre)
    assert {key: names for key, names in spellings.items() if len(names) > 1} == {}


def test_every_quarter_of_the_mood_plane_is_well_stocked() -> None:
    moods = dict(Catalog.builtin().stats().by_mood)
    total = len(Catalog.builtin())
    assert set(moods) == {"happy/energetic", "happy/calm", "sad/energetic", "sad/calm"}
    assert all(count >= 0.1 * total for count in moods.values()), moods


def test_the_full_catalog_is_large_and_multilingual() -> None:
    catalog = Catalog.builtin()
    assert len(catalog) >= 1000
    assert len([code for code, count in catalog.languages() if count >= 30]) >= 12


def test_the_builtin_catalog_is_read_once() -> None:
    assert Catalog.builtin() is Catalog.builtin()


# --- look-ups -------------------------------------------------------------------------------------------------------


def test_find_compares_titles_and_artists_as_people_read_them() -> None:
    piaf = track("La Vie en rose", "Édith Piaf", language="fr")
    catalog = Catalog([piaf, track("Don't Stop Me Now", "Queen")])
    assert catalog.find("la vie en rose", "EDITH PIAF") is piaf
    assert catalog.find("  La  vie en rose! ", "Edith Piaf") is piaf
    assert catalog.find("La Vie en rose", "Louis Armstrong") is None


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("Synthpop", "synth-pop"),
        ("synth pop", "synth-pop"),
        ("Hip-Hop", "hip hop"),
        ("rap", "hip hop"),
        ("RnB", "r&b"),
        ("r-n-b", "r&b"),
        ("EDM", "electronic"),
        ("K-Pop", "k-pop"),
        ("kpop", "k-pop"),
        ("Raï", "rai"),
    ],
)
def test_genre_spellings_share_a_key(spelling: str, canonical: str) -> None:
    assert genre_key(spelling) == genre_key(canonical)


@pytest.mark.parametrize(
    ("one", "other"), [("k-pop", "pop"), ("j-rock", "rock"), ("pop rock", "pop"), ("latin pop", "latin")]
)
def test_distinct_genres_keep_distinct_keys(one: str, other: str) -> None:
    assert genre_key(one) != genre_key(other)


def test_find_works_on_the_shipped_data() -> None:
    found = Catalog.builtin().find("DON’T STOP ME NOW", "queen")
    assert found is not None and (found.title, found.artist, found.language) == ("Don't Stop Me Now", "Queen", "en")


def test_a_song_given_twice_is_kept_once_with_both_genres() -> None:
    first = track("Comedy", "Gen Hoshino", genres=("j-pop",), valence=0.7)
    again = track("COMEDY", "gen hoshino", genres=("acoustic", "j-pop"), valence=0.1)
    catalog = Catalog([first, again, track("Other")])
    assert len(catalog) == 2
    assert catalog.tracks[0] == track("Comedy", "Gen Hoshino", genres=("j-pop", "acoustic"), valence=0.7)
    assert list(catalog) == list(catalog.tracks)


def test_languages_most_first_and_artists_alphabetical() -> None:
    catalog = Catalog(
        [
            track("A", "Édith Piaf", language="fr"),
            track("B", "Zaz", language="fr"),
            track("C", "ABBA", language="en"),
            track("D", "abba", language="en"),
            track("E", "Kent", language="sv"),
        ]
    )
    assert catalog.languages() == [("en", 2), ("fr", 2), ("sv", 1)]
    assert catalog.artists() == ["ABBA", "abba", "Édith Piaf", "Kent", "Zaz"]


# --- reading CSV files ----------------------------------------------------------------------------------------------


def test_our_own_columns_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    # Written with a byte order mark, as spreadsheet programs do.
    path.write_text(
        "title,artist,language,genres,year,valence,energy,tempo\n"
        '"Paint It, Black",The Rolling Stones,en,rock,1966,0.30,0.80,\n'
        "Chega de Saudade,João Gilberto,PT,bossa nova; MPB ,1959,0.55,0.30,120\n",
        encoding="utf-8-sig",
    )
    catalog = Catalog.from_csv(path)
    assert catalog.tracks == (
        Track("Paint It, Black", "The Rolling Stones", "en", ("rock",), 1966, 0.30, 0.80, None),
        Track("Chega de Saudade", "João Gilberto", "pt", ("bossa nova", "mpb"), 1959, 0.55, 0.30, 120.0),
    )


KAGGLE_TRACKS = (
    ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,energy,key,loudness,mode,"
    "speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature,track_genre\n"
    "0,5SuOikwiRyPMVoIQDJUgSV,Gen Hoshino,Comedy,Comedy,73,230666,False,0.676,0.461,1,-6.746,0,0.143,0.0322,"
    "1.01e-06,0.358,0.715,87.917,4,acoustic\n"
    "1,1iJBSr7s7jYXzM8EGcbK5b,Ingrid Michaelson;ZAYN,Ghost (Acoustic),To Begin Again,55,149610,False,0.42,0.166,1,"
    "-17.235,1,0.0763,0.924,5.56e-06,0.101,0.267,0,4,acoustic\n"
    "2,5SuOikwiRyPMVoIQDJUgSV,Gen Hoshino,Comedy,Comedy,73,230666,False,0.676,0.461,1,-6.746,0,0.143,0.0322,"
    "1.01e-06,0.358,0.715,87.917,4,j-pop\n"
)


def test_the_kaggle_spotify_tracks_layout_is_mapped_onto_ours(tmp_path: Path) -> None:
    catalog = Catalog.from_csv(write(tmp_path, KAGGLE_TRACKS))
    assert catalog.tracks == (
        # No year and no language in this dataset; listed once per genre, so the genres are merged.
        Track("Comedy", "Gen Hoshino", "und", ("acoustic", "j-pop"), UNKNOWN_YEAR, 0.715, 0.461, 87.917),
        # ';'-separated artists; tempo 0 means unknown there.
        Track("To Begin Again", "Ingrid Michaelson, ZAYN", "und", ("acoustic",), UNKNOWN_YEAR, 0.267, 0.166, None),
    )
    assert Catalog.from_csv(write(tmp_path, KAGGLE_TRACKS), default_language="ja").languages() == [("ja", 2)]


def test_the_spotify_1_2m_songs_layout_is_mapped_onto_ours(tmp_path: Path) -> None:
    text = (
        "id,name,album,album_id,artists,artist_ids,track_number,disc_number,explicit,danceability,energy,key,"
        "loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,duration_ms,"
        "time_signature,year,release_date\n"
        "7lmeHLHBe4nmXzuXc0HDjk,Testify,The Battle Of Los Angeles,2eia0myWFgoHuttJytCxgX,"
        "['Rage Against The Machine'],['2d0hyoQ5ynDBnkvAbJKORj'],1,1,False,0.47,0.978,7,-5.399,1,0.0727,0.0261,"
        "1.09e-05,0.356,0.503,117.906,210133,4,1999,1999-11-02\n"
        "0DiWol3AO6WpXZgp0goxAV,Get Lucky,Random Access Memories,4m2880jivSbbyEGAKfITCa,"
        "\"['Daft Punk', 'Pharrell Williams', 'Nile Rodgers']\",\"['4tZwfgrHOc3mvqYlEYSvVi']\",8,1,False,0.79,0.81,"
        "6,-8.966,0,0.0398,0.0426,1.07e-06,0.101,0.862,116.047,369627,4,0,2013-05-17\n"
    )
    catalog = Catalog.from_csv(write(tmp_path, text), default_language="en")
    assert catalog.tracks == (
        Track("Testify", "Rage Against The Machine", "en", (), 1999, 0.503, 0.978, 117.906),
        Track("Get Lucky", "Daft Punk, Pharrell Williams, Nile Rodgers", "en", (), UNKNOWN_YEAR, 0.862, 0.81, 116.047),
    )


def test_the_spotify_data_layout_with_name_artists_year_genre_is_mapped_onto_ours(tmp_path: Path) -> None:
    text = (
        "name,artists,year,valence,energy,tempo,genre,popularity\n"
        "Despacito,\"['Luis Fonsi', 'Daddy Yankee']\",2017,0.839,0.797,177.928,latino,82\n"
        "Ne me quitte pas,Jacques Brel,1959.0,0.08,0.12,,Chanson,40\n"
    )
    catalog = Catalog.from_csv(write(tmp_path, text))
    assert catalog.tracks == (
        Track("Despacito", "Luis Fonsi, Daddy Yankee", "und", ("latino",), 2017, 0.839, 0.797, 177.928),
        Track("Ne me quitte pas", "Jacques Brel", "und", ("chanson",), 1959, 0.08, 0.12, None),
    )


def test_the_artist_name_column_of_spotify_1_million_tracks_is_read(tmp_path: Path) -> None:
    text = (
        ",artist_name,track_name,track_id,popularity,year,genre,danceability,energy,key,loudness,mode,speechiness,"
        "acousticness,instrumentalness,liveness,valence,tempo,duration_ms,time_signature\n"
        "0,Jason Mraz,I Won't Give Up,53QF56cjZA9RTuuMZDrSA6,68,2012,acoustic,0.483,0.303,4,-10.058,1,0.0429,"
        "0.694,0.0,0.115,0.139,133.406,240166,3\n"
    )
    (only,) = Catalog.from_csv(write(tmp_path, text)).tracks
    assert (only.title, only.artist, only.year, only.genres, only.valence) == (
        "I Won't Give Up",
        "Jason Mraz",
        2012,
        ("acoustic",),
        0.139,
    )


HEADER = "title,artist,language,genres,year,valence,energy,tempo\n"
GOOD = "Yesterday,The Beatles,en,pop,1965,0.30,0.20,\n"


@pytest.mark.parametrize(
    ("bad_row", "problem"),
    [
        ("Creep,Radiohead,en,rock,1992,1.50,0.55,", "valence '1.50': expected a number between 0 and 1"),
        ("Creep,Radiohead,en,rock,1992,0.10,loud,", "energy 'loud': expected a number between 0 and 1"),
        ("Creep,Radiohead,en,rock,19x2,0.10,0.55,", "year '19x2': expected a year between 1900 and"),
        ("Creep,Radiohead,en,rock,1850,0.10,0.55,", "year '1850': expected a year between 1900 and"),
        ("Creep,Radiohead,english,rock,1992,0.10,0.55,", "language 'english': expected an ISO 639-1 code"),
        ("Creep,Radiohead,en,rock,1992,0.10,0.55,-92", "tempo '-92': expected beats per minute"),
        (",Radiohead,en,rock,1992,0.10,0.55,", "the title is empty"),
        ("Creep,  ,en,rock,1992,0.10,0.55,", "the artist is empty"),
        ("Creep,Radiohead,en,rock,1992,0.10", "expected 8 fields, found 6"),
    ],
)
def test_a_bad_row_is_reported_with_its_line(tmp_path: Path, bad_row: str, problem: str) -> None:
    path = write(tmp_path, HEADER + GOOD + bad_row + "\n" + GOOD)
    with pytest.raises(CatalogError) as caught:
        Catalog.from_csv(path)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}, line 3: {problem}")


def test_a_line_number_counts_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    text = HEADER + '"Two\nLines",Someone,en,pop,1999,0.50,0.50,\n\n' + "Bad,Someone,en,pop,1999,0.50,2.00,\n"
    with pytest.raises(CatalogError, match=r"line 5: energy '2.00'"):
        Catalog.from_csv(write(tmp_path, text))


def test_missing_columns_are_named_with_the_names_we_accept(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"line 1: missing columns: title \(or track_name, name\); valence$"):
        Catalog.from_csv(write(tmp_path, "song,artist,energy\nCreep,Radiohead,0.5\n"))


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "cannot read the file"), (b"", "is empty: expected a header row"), (b"title\xff\n", "is not UTF-8")],
)
def test_unreadable_files_give_a_catalog_error(tmp_path: Path, content: bytes | None, problem: str) -> None:
    path = tmp_path / "catalog.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CatalogError, match=problem):
        Catalog.from_csv(path)


def test_a_bad_default_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="default language 'English'"):
        Catalog.from_csv(write(tmp_path, KAGGLE_TRACKS), default_language="English")


# --- stats ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def small() -> Catalog:
    return Catalog(
        [
            track("Yesterday", "The Beatles", genres=("pop", "rock"), year=1965, valence=0.3, energy=0.2),
            track("Help!", "The Beatles", genres=("rock",), year=1965, valence=0.6, energy=0.8),
            track("Chega de Saudade", "João Gilberto", language="pt", genres=("bossa nova",), year=1959, energy=0.3),
            track("Comedy", "Gen Hoshino", language="ja", genres=("pop",), year=UNKNOWN_YEAR, valence=0.2, energy=0.9),
        ]
    )


def test_stats_count_languages_genres_decades_and_moods(small: Catalog) -> None:
    assert small.stats() == CatalogStats(
        total=4,
        artists=3,
        by_language=(("en", 2), ("ja", 1), ("pt", 1)),
        by_genre=(("pop", 2), ("rock", 2), ("bossa nova", 1)),
        by_decade=(("1950s", 1), ("1960s", 2), ("unknown", 1)),
        by_mood=(("happy/calm", 1), ("happy/energetic", 1), ("sad/calm", 1), ("sad/energetic", 1)),
    )


def test_stats_to_dict_is_json_ready(small: Catalog) -> None:
    data = json.loads(json.dumps(small.stats().to_dict()))
    assert data == {
        "total": 4,
        "artists": 3,
        "languages": {"en": 2, "ja": 1, "pt": 1},
        "genres": {"pop": 2, "rock": 2, "bossa nova": 1},
        "decades": {"1950s": 1, "1960s": 2, "unknown": 1},
        "moods": {"happy/calm": 1, "happy/energetic": 1, "sad/calm": 1, "sad/energetic": 1},
    }
    assert list(data["decades"]) == ["1950s", "1960s", "unknown"]


def test_format_stats_is_a_readable_table(small: Catalog) -> None:
    text = format_stats(small.stats(), top_genres=2)
    lines = text.splitlines()
    assert lines[0] == "4 tracks by 3 artists"
    assert "  en  English          2   50.0 %" in lines
    assert "  pt  Portuguese       1   25.0 %" in lines
    assert "  unknown       1   25.0 %" in lines
    assert "Genres (top 2 of 3)" in lines
    assert "bossa nova" not in text


def test_format_stats_of_an_empty_catalog() -> None:
    assert format_stats(Catalog([]).stats()).splitlines()[:4] == ["0 tracks by 0 artists", "", "Languages", "  (none)"]
