"""The database opens in WAL mode, applies every migration once, and keeps data across a reopen."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database, migrations


async def test_open_applies_all_migrations_in_wal_mode(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "sub" / "moodmix.db") as db:
        async with db.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with db.conn.execute("PRAGMA user_version") as cur:
            assert (await cur.fetchone())[0] == len(migrations())
        async with db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
            tables = {row[0] for row in await cur.fetchall()}
    assert {"preferences", "mixes", "feedback", "spotify_links", "oauth_states", "saved_playlists"} <= tables


async def test_reopen_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "moodmix.db"
    async with await Database.open(path) as db:
        await db.conn.execute("INSERT INTO preferences (user_id, updated_at) VALUES (1, 0)")
        await db.conn.commit()
    async with await Database.open(path) as db:
        assert await db.migrate() == len(migrations())
        async with db.conn.execute("SELECT user_id FROM preferences") as cur:
            assert [row[0] for row in await cur.fetchall()] == [1]


def test_migrations_are_numbered_from_one() -> None:
    numbers = [number for number, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1))
