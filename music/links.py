"""Listen links that work for everyone, linked to Spotify or not: a Spotify search and a YouTube search.

Search links (not track links) because the catalog holds no service ids, and because they also work for song ideas
the catalog does not hold. Each query is "title artist", percent-encoded, so titles with `&`, `/`, `?`, `#` or
non-Latin scripts stay intact.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote, urlencode

from music.types import PlaylistTrack

SPOTIFY_SEARCH = "https://open.spotify.com/search/"
YOUTUBE_SEARCH = "https://www.youtube.com/results"


class Titled(Protocol):
    """Anything with a title and an artist: `Track`, `SongIdea`."""

    @property
    def title(self) -> str: ...

    @property
    def artist(self) -> str: ...


def _query(song: Titled | PlaylistTrack | str, artist: str | None) -> str:
    if isinstance(song, str):
        title = song
    else:
        named = song.track if isinstance(song, PlaylistTrack) else song
        title, artist = named.title, named.artist
    query = " ".join(part.strip() for part in (title, artist or "") if part and part.strip())
    if not query:
        raise ValueError("a listen link needs a title or an artist")
    return query


def spotify_search_url(song: Titled | PlaylistTrack | str, artist: str | None = None) -> str:
    """Spotify's web search for a song: pass a Track, SongIdea or PlaylistTrack, or a title and an artist."""
    # The search term is a path segment: encode "/" too, and spaces as %20 (Spotify does not read "+" there).
    return SPOTIFY_SEARCH + quote(_query(song, artist), safe="")


def youtube_search_url(song: Titled | PlaylistTrack | str, artist: str | None = None) -> str:
    """YouTube's search results for a song: pass a Track, SongIdea or PlaylistTrack, or a title and an artist."""
    return f"{YOUTUBE_SEARCH}?{urlencode({'search_query': _query(song, artist)})}"
