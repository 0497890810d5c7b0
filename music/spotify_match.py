"""Careful matching of a MoodMix song against Spotify search results.

Search returns what Spotify thinks is relevant, which is often a cover, a karaoke version or a namesake by another
artist. A candidate is accepted only when its title and its artists both match after folding what people do not
hear: case, accents, punctuation, "feat." credits and release suffixes such as "- Remastered 2011". The artists match
when the whole wanted credit is credited, or every artist it names is ("Queen & David Bowie"); a namesake that shares
one word of the name ("Fire" for Earth, Wind & Fire) does not. Of the accepted ones, an exact title and the lead
artist credited first rank first. A wrong artist is never accepted, however close the title.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from music.types import normalise


class Song(Protocol):
    """Anything with a title and an artist: a catalog `Track`, a `SongIdea`."""

    @property
    def title(self) -> str: ...
    @property
    def artist(self) -> str: ...


# "(feat. X)", "[ft. X]", "(with X)" and a bare " feat. X" to the end: credits, not part of the song's name.
_FEATURING = re.compile(
    r"\s*[\(\[]\s*(?:feat\.?|ft\.?|featuring|with)\s[^\)\]]*[\)\]]|\s+(?:feat\.?|ft\.?|featuring)\s.*$", re.IGNORECASE
)
# A trailing " - ..." or "(...)" that names a release of the same recording, not a different song.
_RELEASE_WORDS = (
    r"(?:remaster(?:ed)?|radio edit|single version|album version|original version"
    r"|mono|stereo|deluxe|bonus track|explicit|clean)"
)
_RELEASE_SUFFIX = re.compile(
    rf"\s*(?:-\s*[^-]*\b{_RELEASE_WORDS}\b[^-]*|[\(\[][^\)\]]*\b{_RELEASE_WORDS}\b[^\)\]]*[\)\]])\s*$", re.IGNORECASE
)
# A credit line's featured artists, to its end ("A feat. B", "A ft. B & C").
_FEATURED_CREDIT = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s.*$", re.IGNORECASE)
# How jointly credited artists are joined in a single credit line ("A & B", "A, B", "A x B", "A with B").
_ARTIST_SPLIT = re.compile(r"\s*(?:,|&|\bx\b|\bwith\b)\s*", re.IGNORECASE)


def _strip_title(title: str) -> str:
    """The raw title without featuring credits and release suffixes (case and punctuation kept)."""
    stripped = _FEATURING.sub("", title)
    # Suffixes can stack ("Song (feat. X) - 2011 Remaster - Mono"): strip until nothing changes.
    while True:
        shorter = _RELEASE_SUFFIX.sub("", stripped)
        if shorter == stripped:
            return stripped.strip() or title.strip()
        stripped = shorter


def clean_title(title: str) -> str:
    """The title without featuring credits and release suffixes, normalised."""
    return normalise(_strip_title(title)) or normalise(title)


def _credited_names(credit: str) -> list[str]:
    """The raw names a credit line requires: its joint artists ("A & B" -> ["A", "B"]), or the whole line when it
    does not split into several names ("Malcolm X", where the "x" joins nothing). Featured artists ("A feat. B") are
    left out: Spotify often credits them in the title only."""
    lead = _FEATURED_CREDIT.sub("", credit).strip() or credit.strip()
    parts = [part.strip() for part in _ARTIST_SPLIT.split(lead)]
    if len(parts) < 2 or not all(normalise(part) for part in parts):
        return [lead]
    return parts


def credit_parts(credit: str) -> list[str]:
    """The normalised names a credit line requires, in order ("Queen & David Bowie" -> ["queen", "david bowie"])."""
    return list(dict.fromkeys(normalise(name) for name in _credited_names(credit)))


def artist_matches(credit: str, artists: Iterable[str]) -> bool:
    """Whether a candidate's credited artists stand for the wanted credit line.

    Yes when one credited name is the whole line ("Earth, Wind & Fire"), when the credited names together spell it,
    or when every artist the line requires is credited ("Queen & David Bowie" as "Queen" and "David Bowie").
    One part of the name is never enough: "Fire" is not Earth, Wind & Fire, "Malcolm" is not Malcolm X.
    """
    credited = [name for name in (normalise(a) for a in artists) if name]
    whole = normalise(credit)
    if not credited or not whole:
        return False
    return whole in credited or " ".join(credited) == whole or all(name in credited for name in credit_parts(credit))


def match_score(track: Song, title: str, artists: Iterable[str]) -> int:
    """How well a candidate (its title and credited artists, in order) matches the track: 0 means rejected.

    3: exact title (normalised) and the lead artist credited first; 2: exact title, the lead credited later;
    1: the titles match only once credits and release suffixes are removed.
    """
    credited = list(artists)
    if not artist_matches(track.artist, credited):
        return 0
    if normalise(title) == normalise(track.title):
        first = normalise(credited[0])
        return 3 if first in (normalise(track.artist), credit_parts(track.artist)[0]) else 2
    return 1 if clean_title(title) == clean_title(track.title) else 0


def best_match(track: Song, items: Iterable[Mapping[str, Any]]) -> str | None:
    """The URI of the best-matching Spotify track object among search results, or None when none is acceptable.

    Ties keep Spotify's order (its relevance ranking).
    """
    best_uri, best_score = None, 0
    for item in items:
        uri = item.get("uri")
        if not isinstance(uri, str) or not uri.startswith("spotify:track:"):
            continue
        score = match_score(track, str(item.get("name", "")), [str(a.get("name", "")) for a in item.get("artists", [])])
        if score > best_score:
            best_uri, best_score = uri, score
    return best_uri


def _query_text(text: str) -> str:
    # A double quote would end a field filter early; everything else goes to Spotify as written, because Spotify
    # matches the words people write ("P!nk", "AC/DC", "Don't") better than a folded form ("p nk", "don t").
    return " ".join(text.replace('"', " ").split())


def search_queries(track: Song) -> list[str]:
    """Queries to try in order: field filters first (precise), then free text (forgiving of odd credits).

    Built from the raw title and lead artist, less featuring credits, release suffixes and double quotes.
    """
    title = _query_text(_strip_title(track.title))
    artist = _query_text(_credited_names(track.artist)[0])
    return [f'track:"{title}" artist:"{artist}"', f"{title} {artist}"]
