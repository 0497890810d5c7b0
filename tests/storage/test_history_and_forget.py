"""The storage behind /history and /forget-me: a user's mixes with their ratings, newest first; clearing preferences
says whether there were any; the Spotify records of one user are deleted without the token key."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet

from storage.db import Database
from storage.mixes import MixRepository
from storage.preferences import PreferencesRepository
from storage.spotify import (
    OAuthStateRepository,
    SavedPlaylist,
    SavedPlaylistRepository,
    SpotifyForgotten,
    SpotifyLinkRepository,
    forget_spotify_user,
)

TRACK = {"key": "a|b", "title": "B", "artist": "A", "language": "en", "valence": 0.5, "energy": 0.5}


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with await Database.open(":memory:") as database:
        yield database


async def add(repo: MixRepository, user_id: int, title: str) -> str:
    return await repo.add(
        user_id=user_id,
        emotion="sad",
        scores={"sad": 1.0},
        goal="calm",
        current=(0.2, 0.7),
        target=(0.4, 0.2),
        title=title,
        story="",
        tracks=[TRACK],
    )


async def test_history_is_newest_first_with_each_mixs_own_rating(db: Database) -> None:
    ticks = itertools.count(1000.0)
    repo = MixRepository(db.conn, clock=lambda: next(ticks))
    old, middle, new = [await add(repo, 1, title) for title in ("old", "middle", "new")]
    theirs = await add(repo, 2, "theirs")
    await repo.rate(1, old, -1)
    await repo.rate(1, new, 1)
    await repo.rate(2, theirs, 1)

    history = await repo.history(1)
    assert [(mix.id, rating) for mix, rating in history] == [(new, 1), (middle, None), (old, -1)]
    assert history[0][0].current == (0.2, 0.7) and history[0][0].target == (0.4, 0.2)
    assert [mix.id for mix, _ in await repo.history(1, limit=2)] == [new, middle]
    assert await repo.history(3) == []


async def test_clear_says_whether_there_were_preferences(db: Database) -> None:
    prefs = PreferencesRepository(db.conn)
    await prefs.add_artist(1, "Adele")
    assert await prefs.clear(1) is True
    assert await prefs.clear(1) is False
    assert (await prefs.get(1)).empty


async def test_forget_spotify_user_deletes_one_users_records_without_the_key(db: Database) -> None:
    mixes = MixRepository(db.conn)
    saved = SavedPlaylistRepository(db.conn)
    for user_id in (1, 2):
        mix_id = await add(mixes, user_id, "mix")
        await saved.add(SavedPlaylist(mix_id, user_id, "pl", "https://open.spotify.com/playlist/pl", 0))
        await SpotifyLinkRepository(db.conn, Fernet(Fernet.generate_key())).save(user_id, {"access_token": "x"})
        await OAuthStateRepository(db.conn).create(user_id)
        await OAuthStateRepository(db.conn).create(user_id)

    assert await forget_spotify_user(db.conn, 1) == SpotifyForgotten(linked=True, saved_playlists=1, link_states=2)
    assert await forget_spotify_user(db.conn, 1) == SpotifyForgotten(linked=False, saved_playlists=0, link_states=0)
    for table, kept in (("spotify_links", 1), ("saved_playlists", 1), ("oauth_states", 2)):
        async with db.conn.execute(f"SELECT user_id, COUNT(*) FROM {table} GROUP BY user_id") as cur:
            assert [tuple(row) for row in await cur.fetchall()] == [(2, kept)], table
