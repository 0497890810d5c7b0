"""Careful matching of a MoodMix song against Spotify search results.

Search returns what Spotify thinks is relevant, which is often a cover, a karaoke version or a namesake by another
artist. A candidate is accepted only when its title and an artist both match after folding what people do not hear:
case, accents, punctuation, "feat." credits and release suffixes such as "- Remastered 2011". Of the accepted ones,
an exact title and a first-credited artist rank first. A wrong artist is never accepted, however close the title.
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
# How co-credited artists are joined in a single credit line ("A feat. B", "A & B", "A, B", "A x B").
_ARTIST_SPLIT = re.compile(r"\s*(?:,|&|\bx\b|\bfeat\.?|\bft\.?|\bfeaturing\b|\bwith\b)\s*", re.IGNORECASE)


def clean_title(title: str) -> str:
    """The title without featuring credits and release suffixes, normalised."""
    stripped = _FEATURING.sub("", title)
    # Suffixes can stack ("Song (feat. X) - 2011 Remaster - Mono"): strip until nothing changes.
    while True:
        shorter = _RELEASE_SUFFIX.sub("", stripped)
        if shorter == stripped:
            break
        stripped = shorter
    return normalise(stripped) or normalise(title)


def artist_names(credit: str) -> list[str]:
    """The normalised names in one credit line, the whole line first ("A & B" -> ["a b", "a", "b"])."""
    names = [normalise(credit)]
    names += [normalise(part) for part in _ARTIST_SPLIT.split(credit) if normalise(part)]
    return list(dict.fromkeys(name for name in names if name))


def match_score(track: Song, title: str, artists: Iterable[str]) -> int:
    """How well a candidate (its title and credited artists, in order) matches the track: 0 means rejected.

    3: exact title (normalised) and the first-credited artist; 2: exact title and another credited artist;
    1: the titles match only once credits and release suffixes are removed.
    """
    credited = [normalise(name) for name in artists]
    wanted = artist_names(track.artist)
    if not credited or not any(name in credited for name in wanted):
        return 0
    if normalise(title) == normalise(track.title):
        return 3 if credited[0] in wanted else 2
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


def search_queries(track: Song) -> list[str]:
    """Queries to try in order: field filters first (precise), then free text (forgiving of odd credits)."""
    title = clean_title(track.title)
    primary = normalise(_ARTIST_SPLIT.split(track.artist)[0]) or normalise(track.artist)
    return [f'track:"{title}" artist:"{primary}"', f"{title} {primary}"]
