"""The Spotify service against the loopback double, with spotipy unmodified: matching, search queries, saving a mix
once (also when a save failed halfway), token refresh, and the mapping of 401/403/429/5xx/timeouts to what the user
is told."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from music.spotify import (
    KeyedLocks,
    SaveResult,
    SpotifyError,
    SpotifyLinkRejected,
    SpotifyNoMatches,
    SpotifyNotLinked,
    SpotifyRateLimited,
    SpotifyRelinkNeeded,
    SpotifyUnavailable,
    SpotifyUserNotRegistered,
)
from music.spotify_match import artist_matches, best_match, clean_title, match_score, search_queries
from music.types import SongIdea, Track
from tests.fakes.spotify_server import FakeTrack, SpotifyDouble, SpotifyStack, spotify_stack

USER = 1001
REDIRECT = "http://127.0.0.1:8765/spotify/callback"  # spotify_stack's default
CATALOG = [
    FakeTrack("t1", "Here Comes the Sun - Remastered 2019", ("The Beatles",)),
    FakeTrack("t2", "Here Comes the Sun", ("Karaoke Stars",)),
    FakeTrack("t3", "Señorita", ("Shawn Mendes", "Camila Cabello")),
    FakeTrack("t4", "Lose Yourself", ("Eminem",)),
    FakeTrack("t5", "Lose Yourself (Piano Cover)", ("Piano Guys Tribute",)),
    FakeTrack("t6", "Don't Stop Me Now - Remastered 2011", ("Queen",)),
    FakeTrack("t7", "Just Like a Pill", ("P!nk",)),
    FakeTrack("t8", "Highway to Hell", ("AC/DC",)),
    FakeTrack("t9", "Hello", ("Malcolm",)),
]


def track(title: str, artist: str) -> Track:
    return Track(title=title, artist=artist, language="en", genres=("pop",), year=2000, valence=0.5, energy=0.5)


SONGS = [
    SongIdea("Here Comes the Sun", "The Beatles"),
    SongIdea("Senorita", "Shawn Mendes"),
    SongIdea("No Such Song", "Nobody"),
]


async def save(stack: SpotifyStack, songs: list[SongIdea] = SONGS) -> SaveResult:
    return await stack.service.save_playlist(USER, "mix1", title="Rain to sun", story="From grey to gold.", songs=songs)


def item(name: str, *artists: str, uri: str = "spotify:track:x") -> dict[str, object]:
    return {"uri": uri, "name": name, "artists": [{"name": a} for a in artists]}


# --- matching ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Hey Jude - Remastered 2015", "hey jude"),
        ("Yesterday (Remastered 2009) - Mono", "yesterday"),
        ("Stay (feat. Justin Bieber)", "stay"),
        ("Stay ft. Justin Bieber", "stay"),
        ("Café del Mar", "cafe del mar"),
        ("Song - Live at Wembley", "song live at wembley"),  # a live recording is another recording
    ],
)
def test_clean_title_drops_credits_and_release_suffixes_only(title: str, expected: str) -> None:
    assert clean_title(title) == expected


def test_match_prefers_exact_title_and_first_credited_artist() -> None:
    wanted = track("Señorita", "Shawn Mendes")
    assert match_score(wanted, "Senorita", ["Shawn Mendes", "Camila Cabello"]) == 3
    assert match_score(wanted, "Señorita", ["Camila Cabello", "Shawn Mendes"]) == 2
    assert match_score(wanted, "Señorita - Remastered", ["Shawn Mendes"]) == 1
    items = [
        item("Señorita - Remastered", "Shawn Mendes", uri="spotify:track:remaster"),
        item("Señorita", "Camila Cabello", "Shawn Mendes", uri="spotify:track:second"),
        item("Senorita", "Shawn Mendes", uri="spotify:track:exact"),
    ]
    assert best_match(wanted, items) == "spotify:track:exact"


def test_match_rejects_wrong_artists_and_other_songs() -> None:
    wanted = track("Lose Yourself", "Eminem")
    assert best_match(wanted, [item("Lose Yourself", "Karaoke Stars")]) is None
    assert best_match(wanted, [item("Lose Yourself (Piano Cover)", "Eminem")]) is None
    assert best_match(wanted, [item("Lose Yourself", "Eminem", uri="not-a-track-uri")]) is None


def test_match_tolerates_featuring_credits_and_duets() -> None:
    assert match_score(track("Stay (feat. Justin Bieber)", "The Kid LAROI"), "Stay", ["The Kid LAROI"]) == 1
    assert match_score(track("Under Pressure", "Queen & David Bowie"), "Under Pressure", ["Queen", "David Bowie"]) == 3
    assert match_score(track("Jolene", "Dolly Parton"), "Jolene", ["DOLLY PARTON"]) == 3


@pytest.mark.parametrize(
    ("wanted", "credited", "accepted"),
    [
        ("Earth, Wind & Fire", ["Fire"], False),  # one word of the name is another band
        ("Earth, Wind & Fire", ["Earth", "Wind"], False),
        ("Malcolm X", ["Malcolm"], False),  # the "x" joins no one: it is part of the name
        ("Queen & David Bowie", ["Queen"], False),  # a duet needs both
        ("Earth, Wind & Fire", ["Earth, Wind & Fire"], True),
        ("Malcolm X", ["Malcolm X"], True),
        ("Queen & David Bowie", ["David Bowie", "Queen"], True),
        ("Queen & David Bowie", ["Queen & David Bowie"], True),
        ("Calvin Harris feat. Rihanna", ["Calvin Harris"], True),  # featured artists are optional
        ("Simon & Garfunkel", ["Simon", "Garfunkel"], True),
        ("Beyoncé", ["Beyonce", "JAY-Z"], True),
    ],
)
def test_artists_match_only_when_the_whole_credit_is_there(wanted: str, credited: list[str], accepted: bool) -> None:
    assert artist_matches(wanted, credited) is accepted
    assert (match_score(track("Song", wanted), "Song", credited) > 0) is accepted


def test_a_namesake_sharing_one_word_of_the_artist_is_never_picked() -> None:
    september = track("September", "Earth, Wind & Fire")
    assert best_match(september, [item("September", "Fire", uri="spotify:track:fire")]) is None
    hello = track("Hello", "Malcolm X")
    assert best_match(hello, [item("Hello", "Malcolm", uri="spotify:track:m")]) is None


@pytest.mark.parametrize(
    ("title", "artist", "query_title", "query_artist"),
    [
        ("Don't Stop Me Now - Remastered 2011", "Queen", "Don't Stop Me Now", "Queen"),
        ("Just Like a Pill", "P!nk", "Just Like a Pill", "P!nk"),
        ("Highway to Hell", "AC/DC", "Highway to Hell", "AC/DC"),
        ("Stay (feat. Justin Bieber)", "The Kid LAROI", "Stay", "The Kid LAROI"),
        ('The "Heroes" Song', "Queen & David Bowie", "The Heroes Song", "Queen"),
        ("Hello", "Malcolm X", "Hello", "Malcolm X"),
    ],
)
def test_queries_keep_the_raw_words_less_quotes_and_suffixes(
    title: str, artist: str, query_title: str, query_artist: str
) -> None:
    assert search_queries(SongIdea(title, artist)) == [
        f'track:"{query_title}" artist:"{query_artist}"',
        f"{query_title} {query_artist}",
    ]


# --- the service against the double -----------------------------------------------------------------------------


@pytest.fixture
async def spotify() -> AsyncIterator[SpotifyDouble]:
    async with SpotifyDouble.running(tracks=CATALOG) as double:
        yield double


@pytest.fixture
async def stack(tmp_path: Path, spotify: SpotifyDouble) -> AsyncIterator[SpotifyStack]:
    async with spotify_stack(tmp_path / "moodmix.db", spotify) as built:
        await built.add_mix("mix1", USER)
        yield built


async def link(stack: SpotifyStack, spotify: SpotifyDouble, user_id: int = USER) -> None:
    """The OAuth dance without the browser: authorize at the double, hand its code and state to the service."""
    url = await stack.service.authorize_url(user_id)
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/authorize"
    assert query["scope"] == ["playlist-modify-private playlist-modify-public"]
    code = spotify.issue_code(query["redirect_uri"][0], query["scope"][0])
    assert await stack.service.complete_link(query["state"][0], code) == user_id


async def test_saving_a_mix_creates_one_private_playlist_of_the_matched_tracks(
    stack: SpotifyStack, spotify: SpotifyDouble
) -> None:
    await link(stack, spotify)
    result = await save(stack)
    assert result.missing == 1 and not result.already_saved
    assert result.url == f"https://open.spotify.com/playlist/{result.playlist_id}"
    created = spotify.playlists[result.playlist_id]
    assert created.items == ["spotify:track:t1", "spotify:track:t3"]  # the Beatles, not the karaoke version
    assert created.name == "Rain to sun" and not created.public
    assert "From grey to gold." in created.description


async def test_saving_the_same_mix_again_reuses_the_playlist(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    first = await save(stack)
    searches = spotify.count("GET /v1/search")
    again = await save(stack)
    assert again.already_saved and again.url == first.url and again.missing == first.missing
    assert spotify.count("POST /v1/me/playlists") == 1
    assert spotify.count("GET /v1/search") == searches  # not even a search the second time


async def test_concurrent_saves_of_one_mix_make_one_playlist(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    results = await asyncio.gather(*(save(stack) for _ in range(3)))
    assert len({r.playlist_id for r in results}) == 1
    assert spotify.count("POST /v1/me/playlists") == 1


async def test_songs_with_punctuation_are_found_and_namesakes_are_not(
    stack: SpotifyStack, spotify: SpotifyDouble
) -> None:
    await link(stack, spotify)
    songs = [
        SongIdea("Don't Stop Me Now", "Queen"),
        SongIdea("Just Like a Pill", "P!nk"),
        SongIdea("Highway to Hell", "AC/DC"),
        SongIdea("Hello", "Malcolm X"),  # only "Malcolm" has a "Hello" here
    ]
    result = await save(stack, songs)
    assert spotify.playlists[result.playlist_id].items == ["spotify:track:t6", "spotify:track:t7", "spotify:track:t8"]
    assert result.missing == 1


async def test_a_user_who_never_linked_is_told_to_link(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    with pytest.raises(SpotifyNotLinked):
        await save(stack)
    assert spotify.requests == []


async def test_no_playlist_when_nothing_matches(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    with pytest.raises(SpotifyNoMatches):
        await save(stack, [SongIdea("Lose Yourself", "Someone Else")])
    assert spotify.count("POST /v1/me/playlists") == 0


async def test_an_expired_token_is_refreshed_first_and_the_new_one_stored(
    stack: SpotifyStack, spotify: SpotifyDouble
) -> None:
    await link(stack, spotify)
    stored = await stack.links.load(USER)
    assert stored is not None
    await stack.links.save(USER, stored | {"expires_at": int(time.time()) - 5})
    spotify.expire_access_tokens()
    await save(stack)
    assert [r["grant_type"] for r in spotify.token_requests] == ["authorization_code", "refresh_token"]
    refreshed = await stack.links.load(USER)
    assert refreshed is not None and refreshed["access_token"] != stored["access_token"]
    assert refreshed["expires_at"] > time.time()


async def test_a_401_midway_refreshes_once_and_carries_on(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.fail("POST /v1/me/playlists", 401)
    result = await save(stack)
    assert spotify.count("POST /v1/me/playlists") == 2
    assert spotify.token_requests[-1]["grant_type"] == "refresh_token"
    assert len(spotify.playlists[result.playlist_id].items) == 2


async def test_rotated_refresh_token_is_kept(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    before = await stack.links.load(USER)
    spotify.rotate_refresh_tokens = True
    spotify.fail("GET /v1/search", 401)
    await save(stack)
    after = await stack.links.load(USER)
    assert before is not None and after is not None
    assert spotify.refresh_token_valid(after["refresh_token"])
    assert not spotify.refresh_token_valid(before["refresh_token"])


async def test_a_refused_refresh_asks_to_link_again_and_drops_the_tokens(
    stack: SpotifyStack, spotify: SpotifyDouble
) -> None:
    await link(stack, spotify)
    spotify.expire_access_tokens()
    spotify.revoke_refresh_tokens()
    spotify.fail("GET /v1/search", 401)
    with pytest.raises(SpotifyRelinkNeeded):
        await save(stack)
    assert not await stack.service.is_linked(USER)
    assert await stack.saved.get("mix1") is None


async def test_a_second_401_after_a_refresh_asks_to_link_again(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.fail("GET /v1/search", 401, times=2)
    with pytest.raises(SpotifyRelinkNeeded):
        await save(stack)
    assert not await stack.service.is_linked(USER)


@pytest.mark.parametrize(
    "message",
    [
        "User not registered in the Developer Dashboard",
        "Check settings on developer.spotify.com/dashboard, the user may not be registered.",
        "User not approved for app",
    ],
)
async def test_user_not_registered_is_explained(stack: SpotifyStack, spotify: SpotifyDouble, message: str) -> None:
    await link(stack, spotify)
    spotify.fail("GET /v1/search", 403, message=message)
    with pytest.raises(SpotifyUserNotRegistered) as error:
        await save(stack)
    assert "owner" in error.value.user_message
    assert spotify.count("GET /v1/search") == 1  # no retry: it will not get better
    assert await stack.service.is_linked(USER)


async def test_another_403_on_save_is_not_mistaken_for_an_unregistered_user(
    stack: SpotifyStack, spotify: SpotifyDouble
) -> None:
    await link(stack, spotify)
    spotify.fail("GET /v1/search", 403, message="Insufficient client scope")
    with pytest.raises(SpotifyError) as error:
        await save(stack)
    assert not isinstance(error.value, SpotifyUserNotRegistered)
    assert spotify.count("GET /v1/search") == 1


async def test_429_within_the_bound_waits_retry_after_and_succeeds(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.fail("POST /v1/me/playlists", 429, retry_after=1)
    started = time.monotonic()
    result = await save(stack)
    assert time.monotonic() - started >= 1.0
    assert spotify.count("POST /v1/me/playlists") == 2
    assert result.playlist_id in spotify.playlists


async def test_429_beyond_the_bound_gives_up_at_once(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.fail("GET /v1/search", 429, retry_after=3600)
    started = time.monotonic()
    with pytest.raises(SpotifyRateLimited):
        await save(stack)
    assert time.monotonic() - started < 1.0
    assert spotify.count("GET /v1/search") == 1


async def test_5xx_is_retried_with_backoff(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.fail("PUT /v1/playlists/{id}/items", 503, times=2)  # filling replaces the items: safe to resend
    result = await save(stack)
    assert spotify.count("PUT /v1/playlists/{id}/items") == 3
    assert spotify.playlists[result.playlist_id].items == ["spotify:track:t1", "spotify:track:t3"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_create_answered_with_5xx_is_not_resent(
    stack: SpotifyStack, spotify: SpotifyDouble, status: int
) -> None:
    await link(stack, spotify)
    spotify.lose_answer("POST /v1/me/playlists", status)  # the playlist is made, the answer lost on the way
    with pytest.raises(SpotifyUnavailable):
        await save(stack)
    assert spotify.count("POST /v1/me/playlists") == 1
    assert len(spotify.playlists) == 1


async def test_a_fill_that_fails_is_finished_by_the_next_press_not_made_again(
    stack: SpotifyStack, spotify: SpotifyDouble
) -> None:
    await link(stack, spotify)
    spotify.fail("PUT /v1/playlists/{id}/items", 500, times=3)  # every try of the first save
    with pytest.raises(SpotifyUnavailable):
        await save(stack)
    (created,) = spotify.playlists.values()
    assert created.items == []
    recorded = await stack.saved.get("mix1")
    assert recorded is not None and recorded.playlist_id == created.id and not recorded.filled

    result = await save(stack)
    assert result.playlist_id == created.id and not result.already_saved and result.missing == 1
    assert created.items == ["spotify:track:t1", "spotify:track:t3"]
    assert spotify.count("POST /v1/me/playlists") == 1
    recorded = await stack.saved.get("mix1")
    assert recorded is not None and recorded.filled

    again = await save(stack)
    assert again.already_saved and again.playlist_id == created.id
    assert spotify.count("POST /v1/me/playlists") == 1


async def test_filling_again_after_a_lost_answer_does_not_double_the_songs(
    stack: SpotifyStack, spotify: SpotifyDouble
) -> None:
    await link(stack, spotify)
    spotify.lose_answer("PUT /v1/playlists/{id}/items", 502, times=3)  # the songs land; MoodMix never hears so
    with pytest.raises(SpotifyUnavailable):
        await save(stack)
    await save(stack)
    (created,) = spotify.playlists.values()
    assert created.items == ["spotify:track:t1", "spotify:track:t3"]


async def test_persistent_5xx_gives_up_and_saves_nothing(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.fail("GET /v1/search", 500, times=10)
    with pytest.raises(SpotifyUnavailable):
        await save(stack)
    assert spotify.count("GET /v1/search") == 3  # `attempts`
    assert await stack.saved.get("mix1") is None


async def test_a_slow_search_times_out_and_is_retried(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.slow("GET /v1/search", 1.0)  # the stack's request timeout is 0.5 s
    result = await save(stack)
    assert len(spotify.playlists[result.playlist_id].items) == 2


async def test_a_create_that_times_out_is_not_resent(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.slow("POST /v1/me/playlists", 1.0)
    with pytest.raises(SpotifyUnavailable):
        await save(stack)
    assert spotify.count("POST /v1/me/playlists") == 1


async def test_the_event_loop_keeps_running_while_spotify_is_slow(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await link(stack, spotify)
    spotify.slow("GET /v1/search", 0.3, times=2)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await save(stack)
    ticker.cancel()
    assert ticks > 30  # the loop ticked all through the 0.6 s of slow searches


async def test_a_forged_state_is_rejected_without_a_token_request(stack: SpotifyStack, spotify: SpotifyDouble) -> None:
    await stack.service.authorize_url(USER)
    with pytest.raises(SpotifyLinkRejected):
        await stack.service.complete_link("forged", spotify.issue_code(REDIRECT, "playlist-modify-private"))
    assert spotify.token_requests == []


async def test_spotipy_does_not_log_the_errors_moodmix_handles(
    stack: SpotifyStack, spotify: SpotifyDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await link(stack, spotify)
    spotify.fail("GET /v1/search", 503)
    spotify.fail("POST /v1/me/playlists", 429, retry_after=0)
    await save(stack)
    assert "saved to Spotify" in caplog.text
    assert [r for r in caplog.records if r.name.startswith("spotipy") and r.levelno >= logging.INFO] == []


async def test_keyed_locks_never_let_two_holders_in_when_one_was_waiting() -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    release_first = asyncio.Event()

    async def hold(name: str, until: asyncio.Event | None = None) -> None:
        async with locks.hold("mix"):
            inside.append(name)
            overlaps.append(tuple(inside))
            await (until.wait() if until else asyncio.sleep(0.01))
            inside.remove(name)

    first = asyncio.create_task(hold("first", release_first))
    second = asyncio.create_task(hold("second"))
    await asyncio.sleep(0.01)  # first holds the lock, second waits for it
    release_first.set()
    # A newcomer that arrives after first let go but before second has woken up must still queue behind second.
    third = asyncio.create_task(hold("third"))
    await asyncio.gather(first, second, third)
    assert all(len(names) == 1 for names in overlaps), overlaps
    assert len(locks) == 0  # nothing is kept once nobody holds or waits


async def test_secrets_never_reach_the_logs(
    stack: SpotifyStack, spotify: SpotifyDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await link(stack, spotify)
    spotify.fail("GET /v1/search", 401)  # forces a refresh: the refresh token travels
    await save(stack)
    token = await stack.links.load(USER)
    assert token is not None
    text = caplog.text
    assert "saved to Spotify" in text  # we did capture the service's own logs
    for secret in (token["access_token"], token["refresh_token"], spotify.client_secret):
        assert secret not in text
    assert "Bearer" not in text and "Basic" not in text
