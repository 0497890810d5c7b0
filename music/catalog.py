"""The built-in music catalog, and the reader for catalogs in our columns or in public Spotify dataset columns.

    catalog = Catalog.builtin()                       # music/data/catalog.csv, shipped with the package
    catalog = Catalog.from_csv("my_tracks.csv")       # our columns, or a public Spotify dataset's
    catalog.find("La vie en rose", "Edith Piaf")      # accents, case and punctuation do not matter
    print(format_stats(catalog.stats()))              # what `moodmix catalog stats` prints
    genre_key("Synthpop") == genre_key("synth-pop")   # genres compare by spelling-free keys

A catalog holds one `Track` per song (see `music.types.song_key`); when a source lists a song twice (the public
datasets list a song once per genre), the first row is kept and the later rows add their genres to it.
The columns, the valence/energy rubric and how to import a catalog are described in music/data/README.md.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import functools
import io
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import TypeVar

from music.types import Track, normalise, song_key

UNKNOWN_YEAR = 0  # a source without a release year (the Kaggle "Spotify Tracks Dataset" has none)
UNDETERMINED_LANGUAGE = "und"  # ISO 639-2 "undetermined": no language preference ever matches it
INSTRUMENTAL = "zxx"  # ISO 639-2 "no linguistic content"
MIN_YEAR = 1900

_T = TypeVar("_T")

# Our field -> the header names that may carry it, ours first. The others are the columns of the Kaggle
# "Spotify Tracks Dataset" (track_name, artists, track_genre), of "Spotify 1.2M+ Songs" (name, artists, year,
# release_date) and of "Spotify 1 Million Tracks" / spotify_data.csv (track_name, artist_name, year, genre).
_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "track_name", "name"),
    "artist": ("artist", "artists", "artist_name"),
    "language": ("language",),
    "genres": ("genres", "track_genre", "genre"),
    "year": ("year", "release_date"),
    "valence": ("valence",),
    "energy": ("energy",),
    "tempo": ("tempo",),
}
COLUMNS = tuple(_ALIASES)  # our own CSV header, in order
_REQUIRED = ("title", "artist", "valence", "energy")
# Names of one genre that differ by more than case, accents, spaces and punctuation (which `genre_key` folds
# anyway): the squashed form of a name -> that of the name the shipped catalog uses.
_GENRE_ALIASES: dict[str, str] = {
    "rnb": "rb",  # RnB, r-n-b (the Kaggle dataset's spelling) -> r&b
    "randb": "rb",
    "rhythmandblues": "rb",
    "rap": "hiphop",
    "edm": "electronic",  # "electronic dance music"; the catalog files it under electronic
    "electronicdancemusic": "electronic",
    "cpop": "mandopop",  # the catalog's Chinese pop is all in Mandarin
    "chinesepop": "mandopop",
}
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
_LEADING_YEAR = re.compile(r"(\d{4})(?:-\d{2}(?:-\d{2})?)?")

# English names of the languages a catalog is likely to hold (ISO 639-1, plus the two ISO 639-2 codes above).
LANGUAGE_NAMES: dict[str, str] = {
    "af": "Afrikaans",
    "am": "Amharic",
    "ar": "Arabic",
    "az": "Azerbaijani",
    "be": "Belarusian",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "bs": "Bosnian",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "gu": "Gujarati",
    "ha": "Hausa",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "ht": "Haitian Creole",
    "hu": "Hungarian",
    "hy": "Armenian",
    "id": "Indonesian",
    "ig": "Igbo",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "jv": "Javanese",
    "ka": "Georgian",
    "kk": "Kazakh",
    "km": "Khmer",
    "kn": "Kannada",
    "ko": "Korean",
    "ku": "Kurdish",
    "la": "Latin",
    "lb": "Luxembourgish",
    "ln": "Lingala",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "mk": "Macedonian",
    "ml": "Malayalam",
    "mn": "Mongolian",
    "mr": "Marathi",
    "ms": "Malay",
    "mt": "Maltese",
    "my": "Burmese",
    "nb": "Norwegian Bokmål",
    "ne": "Nepali",
    "nl": "Dutch",
    "nn": "Norwegian Nynorsk",
    "no": "Norwegian",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "si": "Sinhala",
    "sk": "Slovak",
    "sl": "Slovenian",
    "so": "Somali",
    "sq": "Albanian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "uz": "Uzbek",
    "vi": "Vietnamese",
    "wo": "Wolof",
    "xh": "Xhosa",
    "yi": "Yiddish",
    "yo": "Yoruba",
    "zh": "Chinese",
    "zu": "Zulu",
    INSTRUMENTAL: "Instrumental",
    UNDETERMINED_LANGUAGE: "Undetermined",
}


@functools.lru_cache(maxsize=1024)  # the recommender asks for every track's genres on every mix
def genre_key(name: str) -> str:
    """What a genre name is compared by: "Synth-pop", "synthpop" and "synth pop" give one key, and so do the
    spellings in the alias table ("RnB" and "r&b", "rap" and "hip hop"). Distinct genres keep distinct keys:
    "k-pop" is not "pop", and "j-rock" is not "rock"."""
    squashed = normalise(name).replace(" ", "")
    return _GENRE_ALIASES.get(squashed, squashed)


def language_name(code: str) -> str:
    """The English name of a language code, or the code itself when the table does not know it."""
    return LANGUAGE_NAMES.get(code, code)


class CatalogError(ValueError):
    """A catalog file that cannot be read: says which file and, for a bad row, which line and why."""

    def __init__(self, source: str, problem: str, line: int | None = None) -> None:
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class CatalogStats:
    """Counts over a catalog. Each count list is most first (decades: oldest first, "unknown" last)."""

    total: int
    artists: int
    by_language: tuple[tuple[str, int], ...]
    by_genre: tuple[tuple[str, int], ...]  # a track counts once for each of its genres
    by_decade: tuple[tuple[str, int], ...]  # "1960s", ...
    by_mood: tuple[tuple[str, int], ...]  # the four quadrants of the valence/energy plane, split at 0.5

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (for `moodmix catalog stats --json`)."""
        return {
            "total": self.total,
            "artists": self.artists,
            "languages": dict(self.by_language),
            "genres": dict(self.by_genre),
            "decades": dict(self.by_decade),
            "moods": dict(self.by_mood),
        }


class Catalog:
    """An immutable collection of tracks, one per song, in the order the source gave them."""

    def __init__(self, tracks: Iterable[Track]) -> None:
        by_key: dict[str, Track] = {}
        for track in tracks:
            first = by_key.get(track.key)
            by_key[track.key] = track if first is None else _add_genres(first, track.genres)
        self._by_key = by_key
        self._tracks = tuple(by_key.values())

    @classmethod
    def builtin(cls) -> Catalog:
        """The catalog shipped with MoodMix (music/data/catalog.csv), read once and then shared."""
        return _builtin()

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str], *, default_language: str = UNDETERMINED_LANGUAGE) -> Catalog:
        """Read a UTF-8 CSV in our columns or in a public Spotify dataset's columns (see music/data/README.md).

        `default_language` is the language of rows without one (the public datasets have no language column);
        the default "und" (undetermined) keeps such songs out of language preferences. Raises `CatalogError`
        naming the file and line of the first bad row.
        """
        source = os.fspath(path)
        try:
            default_language = _parse_language(default_language)
        except ValueError as error:
            raise CatalogError(source, f"default language {default_language!r}: {error}") from None
        try:
            # utf-8-sig: spreadsheet programs often start a CSV export with a byte order mark.
            with open(source, encoding="utf-8-sig", newline="") as handle:
                return cls(_read_tracks(handle, source, default_language))
        except OSError as error:
            raise CatalogError(source, f"cannot read the file ({error.strerror or error})") from error
        except UnicodeDecodeError as error:
            raise CatalogError(source, "is not UTF-8 text") from error

    @property
    def tracks(self) -> tuple[Track, ...]:
        return self._tracks

    def __len__(self) -> int:
        return len(self._tracks)

    def __iter__(self) -> Iterator[Track]:
        return iter(self._tracks)

    def find(self, title: str, artist: str) -> Track | None:
        """The song with this title and artist, compared as people read them (case, accents, punctuation)."""
        return self._by_key.get(song_key(title, artist))

    def languages(self) -> list[tuple[str, int]]:
        """(language code, number of songs), most songs first, then by code."""
        return list(self._languages)

    def artists(self) -> list[str]:
        """Every artist name once, in alphabetical order as people read it."""
        return list(self._artists)

    @functools.cached_property
    def _languages(self) -> tuple[tuple[str, int], ...]:
        # Computed once: /prefs autocompletes from these on every keystroke, and a catalog never changes.
        return tuple(_most_first(Counter(track.language for track in self._tracks)))

    @functools.cached_property
    def _artists(self) -> tuple[str, ...]:
        return tuple(sorted({track.artist for track in self._tracks}, key=lambda name: (normalise(name), name)))

    def stats(self) -> CatalogStats:
        """Counts by language, genre, decade and mood quadrant."""
        decades = Counter(_decade(track.year) for track in self._tracks)
        return CatalogStats(
            total=len(self._tracks),
            artists=len({normalise(track.artist) for track in self._tracks}),
            by_language=tuple(self.languages()),
            by_genre=tuple(_most_first(Counter(genre for track in self._tracks for genre in track.genres))),
            by_decade=tuple(sorted(decades.items(), key=lambda item: (item[0] == "unknown", item[0]))),
            by_mood=tuple(_most_first(Counter(_quadrant(track) for track in self._tracks))),
        )


def format_stats(stats: CatalogStats, *, top_genres: int = 20) -> str:
    """A plain-text report of `stats`: every language, decade and mood quadrant, and the `top_genres` genres."""
    lines = [f"{stats.total} tracks by {stats.artists} artists", "", "Languages"]
    lines += _table([(f"{code}  {language_name(code)}", count) for code, count in stats.by_language], stats.total)
    lines += ["", "Decades"]
    lines += _table(list(stats.by_decade), stats.total)
    lines += ["", "Moods (valence / energy, split at 0.5)"]
    lines += _table(list(stats.by_mood), stats.total)
    lines += ["", f"Genres (top {min(top_genres, len(stats.by_genre))} of {len(stats.by_genre)})"]
    lines += _table(list(stats.by_genre[:top_genres]), stats.total)
    return "\n".join(lines)


def _table(rows: list[tuple[str, int]], total: int) -> list[str]:
    if not rows:
        return ["  (none)"]
    width = max(len(label) for label, _ in rows)
    return [f"  {label:<{width}}  {count:>6}  {100 * count / total:5.1f} %" for label, count in rows]


def _most_first(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _decade(year: int) -> str:
    return "unknown" if year == UNKNOWN_YEAR else f"{year // 10 * 10}s"


def _quadrant(track: Track) -> str:
    return f"{'happy' if track.valence >= 0.5 else 'sad'}/{'energetic' if track.energy >= 0.5 else 'calm'}"


def _add_genres(track: Track, genres: tuple[str, ...]) -> Track:
    return dataclasses.replace(track, genres=tuple(dict.fromkeys(track.genres + genres)))


@functools.cache
def _builtin() -> Catalog:
    text = (resources.files("music") / "data" / "catalog.csv").read_text(encoding="utf-8")
    # The shipped catalog names every language, so the default language is never used.
    return Catalog(_read_tracks(io.StringIO(text, newline=""), "music/data/catalog.csv", UNDETERMINED_LANGUAGE))


# --- reading rows ---------------------------------------------------------------------------------------------------


class _RowError(Exception):
    """A bad value; `_read_tracks` adds the file and line."""


def _read_tracks(lines: Iterable[str], source: str, default_language: str) -> Iterator[Track]:
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None:
            raise CatalogError(source, "is empty: expected a header row")
        columns = _map_columns(header, source)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines
            if len(row) != len(header):
                raise CatalogError(source, f"expected {len(header)} fields, found {len(row)}", reader.line_num)
            try:
                yield _parse_row(row, columns, default_language)
            except _RowError as error:
                raise CatalogError(source, str(error), reader.line_num) from None
    except csv.Error as error:
        raise CatalogError(source, f"not valid CSV ({error})", reader.line_num) from error


def _map_columns(header: list[str], source: str) -> dict[str, tuple[int, str]]:
    """Our field -> (index, header name) of the column that carries it."""
    names = [name.strip().casefold() for name in header]
    columns: dict[str, tuple[int, str]] = {}
    for field, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in names:
                columns[field] = (names.index(alias), alias)
                break
    missing = [field for field in _REQUIRED if field not in columns]
    if missing:
        wanted = "; ".join(
            f"{field} (or {', '.join(_ALIASES[field][1:])})" if len(_ALIASES[field]) > 1 else field for field in missing
        )
        raise CatalogError(source, f"missing columns: {wanted}", 1)
    return columns


def _parse_row(row: list[str], columns: dict[str, tuple[int, str]], default_language: str) -> Track:
    def cell(field: str) -> str:
        return row[columns[field][0]].strip() if field in columns else ""

    def parsed(field: str, parse: Callable[[str], _T]) -> _T:
        try:
            return parse(cell(field))
        except ValueError as error:
            raise _RowError(f"{field} {cell(field)!r}: {error}") from None

    title = cell("title")
    if not title:
        raise _RowError("the title is empty")
    artist = cell("artist")
    if columns["artist"][1] == "artists":
        artist = _join_artists(artist)
    if not artist:
        raise _RowError("the artist is empty")
    return Track(
        title=title,
        artist=artist,
        language=parsed("language", lambda text: _parse_language(text or default_language)),
        genres=_parse_genres(cell("genres")),
        year=parsed("year", _parse_year),
        valence=parsed("valence", _parse_unit),
        energy=parsed("energy", _parse_unit),
        tempo=parsed("tempo", _parse_tempo),
    )


def _join_artists(text: str) -> str:
    """A public dataset's `artists` as one display string: the Kaggle set separates them with ';', the 1.2M set
    writes a Python list (`['A', 'B']`)."""
    names: object = None
    if text.startswith("[") and text.endswith("]"):
        try:
            names = ast.literal_eval(text)  # literals only: never runs code
        except (ValueError, SyntaxError):
            names = None
    if not (isinstance(names, list) and all(isinstance(name, str) for name in names)):
        names = text.split(";")
    return ", ".join(name.strip() for name in names if name.strip())


def _parse_language(text: str) -> str:
    code = text.casefold()
    if not _LANGUAGE_CODE.fullmatch(code):
        raise ValueError("expected an ISO 639-1 code such as 'en' (or 'zxx', 'und')")
    return code


def _parse_genres(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(genre.strip().casefold() for genre in text.split(";") if genre.strip()))


def _parse_year(text: str) -> int:
    if not text:
        return UNKNOWN_YEAR
    last = date.today().year + 1
    found = _LEADING_YEAR.fullmatch(text)
    # "2004", "2004-05-01" and, from spreadsheets, "2004.0"
    number = _float(text, f"expected a year between {MIN_YEAR} and {last}") if found is None else int(found[1])
    if not float(number).is_integer():
        raise ValueError(f"expected a year between {MIN_YEAR} and {last}")
    year = int(number)
    if year == UNKNOWN_YEAR:
        return year  # the 1.2M set writes 0 for an unknown year
    if not MIN_YEAR <= year <= last:
        raise ValueError(f"expected a year between {MIN_YEAR} and {last}")
    return year


def _parse_unit(text: str) -> float:
    expected = "expected a number between 0 and 1"
    value = _float(text, expected)
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise ValueError(expected)
    return value


def _parse_tempo(text: str) -> float | None:
    if not text:
        return None
    expected = "expected beats per minute (a positive number), or nothing"
    value = _float(text, expected)
    if not math.isfinite(value) or value < 0:
        raise ValueError(expected)
    return value or None  # the public datasets write 0 when the tempo is unknown


def _float(text: str, expected: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(expected) from None
