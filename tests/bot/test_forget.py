"""Services.forget_user, on a real database file with rows of two users in every table: every row of the one is
deleted, every row of the other is kept, and the forgotten user's conversations are dropped from the pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.pipeline import MoodPipeline, SessionExpired
from bot.services import Forgotten, Services
from bot.settings import Settings
from mood.conversation import ChooseGoal
from mood.profile import Goal
from storage.db import Database
from storage.mixes import MixRepository
from storage.preferences import PreferencesRepository
from storage.spotify import (
    OAuthStateRepository,
    SavedPlaylist,
    SavedPlaylistRepository,
    SpotifyForgotten,
    SpotifyLinkRepository,
)
from tests.helpers import FakeEngine, FakeReader, FakeRecommender, reading

ME, OTHER = 1, 2
TOKEN = {"access_token": "a", "refresh_token": "r", "expires_at": 2_000_000_000}


def make_services(db: Database | None) -> Services:
    reader = FakeReader(reading())
    mixes = MixRepository(db.conn) if db is not None else None
    pipeline = MoodPipeline(reader=reader, engine=FakeEngine(), recommender=FakeRecommender(), mixes=mixes)
    return Services(
        settings=Settings(_env_file=None),  # type: ignore[call-arg]  # no Spotify settings: its key is gone too
        catalog=None,  # type: ignore[arg-type]  # forgetting does not use the catalog
        reader=reader,  # type: ignore[arg-type]
        pipeline=pipeline,
        db=db,
        preferences=PreferencesRepository(db.conn) if db is not None else None,
        mixes=mixes,
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with await Database.open(tmp_path / "moodmix.db") as database:
        yield database


async def fill(services: Services, db: Database, user_id: int) -> str:
    """Give the user a row in every table (two mixes, one rated and saved to Spotify); return an open session."""
    assert services.preferences is not None
    await services.preferences.add_artist(user_id, "Adele")
    session_id, _ = await services.pipeline.open(user_id, reading())
    await services.pipeline.answer(session_id, user_id, ChooseGoal(Goal.LIFT))
    first = await services.pipeline.mix(session_id, user_id)
    await services.pipeline.mix(session_id, user_id)
    assert first.mix_id is not None
    assert await services.pipeline.rate(user_id, first.mix_id, 1)
    await SavedPlaylistRepository(db.conn).add(
        SavedPlaylist(first.mix_id, user_id, f"pl{user_id}", f"https://open.spotify.com/playlist/pl{user_id}", 0)
    )
    await SpotifyLinkRepository(db.conn, Fernet(Fernet.generate_key())).save(user_id, TOKEN)
    await OAuthStateRepository(db.conn).create(user_id)
    return session_id


async def rows_per_table(db: Database, user_id: int) -> dict[str, int]:
    """How many rows of this user each table holds: every table with a `user_id` column, found in the schema, so a
    table added later is checked too."""
    async with db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
        tables = [str(row[0]) for row in await cur.fetchall()]
    counts = {}
    for table in tables:
        async with db.conn.execute(f"PRAGMA table_info({table})") as cur:
            columns = {str(row[1]) for row in await cur.fetchall()}
        if "user_id" in columns:
            async with db.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,)) as cur:
                row = await cur.fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


async def test_forget_user_deletes_every_row_of_the_user_and_nothing_of_another(db: Database) -> None:
    services = make_services(db)
    mine = await fill(services, db, ME)
    theirs = await fill(services, db, OTHER)
    before_mine, before_theirs = await rows_per_table(db, ME), await rows_per_table(db, OTHER)
    assert len(before_mine) >= 6 and all(before_mine.values()), f"fill() must put a row in every table: {before_mine}"

    report = await services.forget_user(ME)

    spotify = SpotifyForgotten(linked=True, saved_playlists=1, link_states=1)
    assert report == Forgotten(preferences=True, mixes=2, spotify=spotify, conversations=1)
    assert await rows_per_table(db, ME) == dict.fromkeys(before_mine, 0)
    assert await rows_per_table(db, OTHER) == before_theirs
    with pytest.raises(SessionExpired):
        services.pipeline.check(mine, ME)
    services.pipeline.check(theirs, OTHER)  # the other user's conversation goes on


async def test_forgetting_twice_finds_nothing_the_second_time(db: Database) -> None:
    services = make_services(db)
    await fill(services, db, ME)
    assert (await services.forget_user(ME)).anything
    again = await services.forget_user(ME)
    assert not again.anything
    assert again == Forgotten(False, 0, SpotifyForgotten(False, 0, 0), 0)


async def test_without_a_database_only_conversations_are_dropped() -> None:
    services = make_services(None)
    session_id, _ = await services.pipeline.open(ME, reading())
    assert await services.forget_user(ME) == Forgotten(False, 0, SpotifyForgotten(False, 0, 0), conversations=1)
    with pytest.raises(SessionExpired):
        services.pipeline.check(session_id, ME)
