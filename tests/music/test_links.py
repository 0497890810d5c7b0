"""Listen links: Spotify and YouTube searches, properly encoded."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from music.links import spotify_search_url, youtube_search_url
from music.types import PlaylistTrack, SongIdea, Track

TRACK = Track("Rock & Roll / Part 2?", "Gary #1", "en", ("rock",), 1972, 0.7, 0.8)


def test_spotify_search_is_one_encoded_path_segment() -> None:
    url = spotify_search_url(TRACK)
    assert url == "https://open.spotify.com/search/Rock%20%26%20Roll%20%2F%20Part%202%3F%20Gary%20%231"
    parts = urlsplit(url)
    assert parts.query == "" and parts.fragment == ""
    assert unquote(parts.path.removeprefix("/search/")) == "Rock & Roll / Part 2? Gary #1"


def test_youtube_search_is_a_query_parameter() -> None:
    url = youtube_search_url(TRACK)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.youtube.com", "/results")
    assert parse_qs(parts.query) == {"search_query": ["Rock & Roll / Part 2? Gary #1"]}
    assert parts.fragment == ""


def test_non_latin_titles_survive() -> None:
    url = youtube_search_url("夜に駆ける", "YOASOBI")
    assert parse_qs(urlsplit(url).query)["search_query"] == ["夜に駆ける YOASOBI"]
    assert spotify_search_url("Gangnam Style", "PSY").endswith("/Gangnam%20Style%20PSY")
    assert url.isascii() and spotify_search_url("夜に駆ける", "YOASOBI").isascii()


def test_every_kind_of_song_gives_the_same_link() -> None:
    idea = SongIdea(TRACK.title, TRACK.artist)
    item = PlaylistTrack(TRACK, "A step brighter")
    expected = spotify_search_url(TRACK.title, TRACK.artist)
    assert spotify_search_url(idea) == spotify_search_url(item) == expected
    assert youtube_search_url(idea) == youtube_search_url(item) == youtube_search_url(TRACK.title, TRACK.artist)


def test_an_empty_query_is_refused() -> None:
    with pytest.raises(ValueError):
        spotify_search_url("  ", "")
