"""Spotify storage: tokens encrypted at rest, OAuth states hashed, single-use and expiring, one playlist per mix
(recorded unfilled when created, marked filled once its songs are in)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from cryptography.fernet import Fernet

from storage.db import Database, migrations
from storage.spotify import (
    OAuthStateRejected,
    OAuthStateRepository,
    SavedPlaylist,
    SavedPlaylistRepository,
    SpotifyLinkRepository,
)
from tests.fakes.spotify_server import raw_database_bytes
from tests.helpers import Clock

TOKEN = {
    "access_token": "BQAccessTokenPlaintextMarker123",
    "refresh_token": "AQRefreshTokenPlaintextMarker456",
    "expires_at": 2_000_000_000,
    "scope": "playlist-modify-private playlist-modify-public",
}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with await Database.open(tmp_path / "moodmix.db") as database:
        yield database


async def test_tokens_round_trip_and_the_file_holds_no_plaintext(tmp_path: Path, db: Database) -> None:
    links = SpotifyLinkRepository(db.conn, Fernet(Fernet.generate_key()))
    await links.save(7, TOKEN)
    assert await links.load(7) == TOKEN
    await db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = raw_database_bytes(tmp_path / "moodmix.db")
    assert b"spotify_links" in raw  # the schema is there, so we did read the database
    for secret in (TOKEN["access_token"], TOKEN["refresh_token"], "refresh_token"):
        assert str(secret).encode() not in raw


async def test_save_replaces_and_delete_forgets(db: Database) -> None:
    links = SpotifyLinkRepository(db.conn, Fernet(Fernet.generate_key()))
    assert await links.load(7) is None
    await links.save(7, TOKEN)
    await links.save(7, TOKEN | {"access_token": "newer"})
    assert (await links.load(7) or {})["access_token"] == "newer"
    assert await links.delete(7) is True
    assert await links.load(7) is None
    assert await links.delete(7) is False


async def test_tokens_under_another_key_count_as_not_linked_and_are_dropped(db: Database) -> None:
    await SpotifyLinkRepository(db.conn, Fernet(Fernet.generate_key())).save(7, TOKEN)
    other = SpotifyLinkRepository(db.conn, Fernet(Fernet.generate_key()))
    assert await other.load(7) is None
    async with db.conn.execute("SELECT COUNT(*) FROM spotify_links") as cur:
        assert [tuple(row) for row in await cur.fetchall()] == [(0,)]


async def test_state_is_stored_only_as_its_hash_and_works_once(db: Database) -> None:
    states = OAuthStateRepository(db.conn, clock=Clock())
    state = await states.create(42)
    assert len(state) >= 43  # 32 random bytes, URL-safe base64
    async with db.conn.execute("SELECT state_hash, user_id FROM oauth_states") as cur:
        rows = [tuple(row) for row in await cur.fetchall()]
    assert rows == [(hashlib.sha256(state.encode()).hexdigest(), 42)]
    assert await states.consume(state) == 42
    with pytest.raises(OAuthStateRejected) as replay:
        await states.consume(state)
    assert replay.value.reason == "used"


async def test_states_are_random_and_bound_to_their_own_user(db: Database) -> None:
    states = OAuthStateRepository(db.conn, clock=Clock())
    first, second = await states.create(1), await states.create(2)
    assert first != second
    assert await states.consume(second) == 2
    assert await states.consume(first) == 1


async def test_unknown_state_is_rejected(db: Database) -> None:
    states = OAuthStateRepository(db.conn, clock=Clock())
    await states.create(1)
    with pytest.raises(OAuthStateRejected) as forged:
        await states.consume("forged-state")
    assert forged.value.reason == "unknown"


async def test_state_expires_after_ten_minutes_and_expired_ones_are_pruned(db: Database) -> None:
    clock = Clock(1000.0)
    states = OAuthStateRepository(db.conn, clock=clock)
    old = await states.create(1)
    clock.now += 599
    fresh = await states.create(1)
    clock.now += 2  # `old` is now 601 s old, `fresh` 2 s
    with pytest.raises(OAuthStateRejected) as expired:
        await states.consume(old)
    assert expired.value.reason == "expired"
    assert await states.consume(fresh) == 1
    clock.now += 3600
    await states.create(3)  # creating prunes everything past its expiry
    async with db.conn.execute("SELECT user_id FROM oauth_states") as cur:
        assert [row[0] for row in await cur.fetchall()] == [3]


async def _add_mix(db: Database, mix_id: str = "mix1", user_id: int = 5) -> None:
    await db.conn.execute(
        "INSERT INTO mixes (id, user_id, created_at, emotion, scores, current_valence, current_arousal, "
        "target_valence, target_arousal, title, story, tracks) VALUES (?, ?, 0, 'sad', '{}', 0, 0, 1, 1, "
        "'t', 's', '[]')",
        (mix_id, user_id),
    )


async def test_a_mix_keeps_its_first_saved_playlist(db: Database) -> None:
    await _add_mix(db)
    saved = SavedPlaylistRepository(db.conn, clock=Clock())
    assert await saved.get("mix1") is None
    first = SavedPlaylist("mix1", 5, "pl1", "https://open.spotify.com/playlist/pl1", 2)
    assert await saved.add(first) == first
    again = await saved.add(SavedPlaylist("mix1", 5, "pl2", "https://open.spotify.com/playlist/pl2", 0))
    assert again == first
    assert await saved.get("mix1") == first


async def test_a_playlist_is_recorded_unfilled_then_marked_filled(db: Database) -> None:
    await _add_mix(db)
    saved = SavedPlaylistRepository(db.conn, clock=Clock())
    created = SavedPlaylist("mix1", 5, "pl1", "https://open.spotify.com/playlist/pl1", 3, filled=False)
    assert await saved.add(created) == created
    assert await saved.get("mix1") == created
    await saved.mark_filled("mix1", missing=2)
    assert await saved.get("mix1") == SavedPlaylist("mix1", 5, "pl1", "https://open.spotify.com/playlist/pl1", 2, True)


async def test_playlists_saved_under_schema_1_count_as_filled(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path) as conn:  # a database as MoodMix's first schema left it
        await conn.executescript(f"{migrations()[0][1]}\nPRAGMA user_version = 1;")
        await conn.execute(
            "INSERT INTO mixes (id, user_id, created_at, emotion, scores, current_valence, current_arousal, "
            "target_valence, target_arousal, title, story, tracks) VALUES ('mix1', 5, 0, 'sad', '{}', 0, 0, 1, 1, "
            "'t', 's', '[]')"
        )
        await conn.execute(
            "INSERT INTO saved_playlists (mix_id, user_id, playlist_id, url, missing, created_at) "
            "VALUES ('mix1', 5, 'pl1', 'https://open.spotify.com/playlist/pl1', 1, 0)"
        )
        await conn.commit()
    async with await Database.open(path) as db:
        recorded = await SavedPlaylistRepository(db.conn).get("mix1")
    assert recorded is not None and recorded.filled and recorded.missing == 1
