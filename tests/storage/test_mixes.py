"""Mixes and feedback: stored, listed newest first, rated or skipped only by their owner, and forgotten on request."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from storage.db import Database, migrations
from storage.mixes import SKIPPED, MixRepository

SCORES = {"angry": 0.0, "disgust": 0.0, "fear": 0.1, "happy": 0.0, "sad": 0.8, "surprise": 0.0, "neutral": 0.1}


def track(n: int, artist: str = "Artist") -> dict[str, Any]:
    return {
        "key": f"{artist.lower()}|song {n}",
        "title": f"Song {n}",
        "artist": artist,
        "language": "en",
        "valence": 0.3,
        "energy": 0.4,
    }


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    database = await Database.open(":memory:")
    yield database
    await database.close()


@pytest.fixture
def repo(db: Database) -> MixRepository:
    ticks = itertools.count(1000.0)
    return MixRepository(db.conn, clock=lambda: next(ticks))


async def add(repo: MixRepository, user_id: int, tracks: list[dict[str, Any]], goal: str | None = "lift") -> str:
    return await repo.add(
        user_id=user_id,
        emotion="sad",
        scores=SCORES,
        goal=goal,
        current=(0.2, 0.3),
        target=(0.7, 0.5),
        title="Up from here",
        story="Starts down and climbs.",
        tracks=tracks,
    )


async def test_add_and_get_round_trip(repo: MixRepository) -> None:
    extra = track(1) | {"genres": ["pop"]}  # fields beyond the stored six are dropped
    mix_id = await add(repo, 7, [extra, track(2, "Ángela Aguilar")])
    assert len(mix_id) == 16 and int(mix_id, 16) >= 0
    mix = await repo.get(mix_id)
    assert mix is not None
    assert (mix.id, mix.user_id, mix.emotion, mix.goal) == (mix_id, 7, "sad", "lift")
    assert mix.scores == SCORES
    assert mix.current == (0.2, 0.3) and mix.target == (0.7, 0.5)
    assert (mix.title, mix.story) == ("Up from here", "Starts down and climbs.")
    assert mix.tracks == [track(1), track(2, "Ángela Aguilar")]
    assert mix.created_at == 1000.0
    assert await repo.get("nope") is None


async def test_a_track_without_its_key_is_refused(repo: MixRepository) -> None:
    broken = track(1)
    del broken["key"]
    with pytest.raises(ValueError, match="key"):
        await add(repo, 1, [broken])


async def test_recent_is_newest_first_and_per_user(repo: MixRepository) -> None:
    ids = [await add(repo, 1, [track(n)]) for n in range(4)]
    await add(repo, 2, [track(99)])
    assert [m.id for m in await repo.recent(1)] == ids[::-1]
    assert [m.id for m in await repo.recent(1, limit=2)] == ids[:1:-1]
    assert [m.user_id for m in await repo.recent(2)] == [2]


async def test_recent_track_keys_cover_the_last_mixes(repo: MixRepository) -> None:
    for n in range(7):
        await add(repo, 1, [track(n), track(n + 100)])
    keys = await repo.recent_track_keys(1, mixes=5)
    assert keys == {track(n)["key"] for n in (2, 3, 4, 5, 6)} | {track(n + 100)["key"] for n in (2, 3, 4, 5, 6)}
    assert await repo.recent_track_keys(2) == set()


async def test_only_the_owner_may_rate_and_a_rating_can_change(repo: MixRepository) -> None:
    mix_id = await add(repo, 1, [track(1)])
    assert await repo.rate(2, mix_id, 1) is False
    assert await repo.rate(1, "missing", 1) is False
    assert await repo.feedback(2) == []
    assert await repo.rate(1, mix_id, -1) is True
    assert await repo.rate(1, mix_id, 1) is True  # changes the rating, no second row
    rows = await repo.feedback(1)
    assert [(mix.id, rating) for mix, rating in rows] == [(mix_id, 1)]
    with pytest.raises(ValueError):
        await repo.rate(1, mix_id, 0)


async def test_feedback_is_most_recently_rated_first(repo: MixRepository) -> None:
    first, second = await add(repo, 1, [track(1)]), await add(repo, 1, [track(2)], goal=None)
    await repo.rate(1, second, -1)
    await repo.rate(1, first, 1)
    rows = await repo.feedback(1)
    assert [(mix.id, mix.goal, rating) for mix, rating in rows] == [(first, "lift", 1), (second, None, -1)]
    assert len(await repo.feedback(1, limit=1)) == 1


async def test_a_skip_is_feedback_that_a_thumbs_overrides(repo: MixRepository) -> None:
    skipped, rated_first, other = [await add(repo, 1, [track(n)]) for n in range(3)]
    assert await repo.skip(2, skipped) is False  # not theirs
    assert await repo.skip(1, "missing") is False
    assert await repo.skip(1, skipped) is True
    assert await repo.rate(1, rated_first, -1) is True
    assert await repo.skip(1, rated_first) is True  # the thumbs-down stays
    assert await repo.skip(1, other) is True
    assert await repo.rate(1, other, 1) is True  # a later thumbs replaces the skip
    rows = {mix.id: rating for mix, rating in await repo.feedback(1)}
    assert rows == {skipped: SKIPPED, rated_first: -1, other: 1}
    assert await repo.feedback(2) == []
    # /history shows ratings: a skipped mix was not rated.
    assert {mix.id: rating for mix, rating in await repo.history(1)} == {skipped: None, rated_first: -1, other: 1}


async def test_the_skip_migration_keeps_existing_feedback(tmp_path: Path) -> None:
    # A database at schema 2 with a rating, then opened by this version: the rating survives the table rebuild.
    path = tmp_path / "moodmix.db"
    async with aiosqlite.connect(path) as conn:
        for number, sql in migrations()[:2]:
            await conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
        await conn.execute(
            "INSERT INTO mixes VALUES ('m1', 1, 5.0, 'sad', '{}', 'lift', 0.2, 0.3, 0.7, 0.5, 't', 's', '[]')"
        )
        await conn.execute("INSERT INTO feedback (user_id, mix_id, rating, created_at) VALUES (1, 'm1', -1, 6.0)")
        await conn.commit()
    async with await Database.open(path) as db:
        repo = MixRepository(db.conn)
        assert [(mix.id, rating) for mix, rating in await repo.feedback(1)] == [("m1", -1)]
        assert await repo.skip(1, "m1") is True
        assert [rating for _, rating in await repo.feedback(1)] == [-1]
        mix_id = await add(repo, 1, [track(1)])
        assert await repo.skip(1, mix_id) is True
        assert await repo.forget(1) == 2
        assert await repo.feedback(1) == []


async def test_forget_deletes_the_users_mixes_and_feedback_only(repo: MixRepository) -> None:
    mine = [await add(repo, 1, [track(n)]) for n in range(3)]
    theirs = await add(repo, 2, [track(9)])
    await repo.rate(1, mine[0], 1)
    await repo.rate(2, theirs, -1)
    assert await repo.forget(1) == 3
    assert await repo.recent(1) == [] and await repo.feedback(1) == []
    assert [m.id for m in await repo.recent(2)] == [theirs]
    assert len(await repo.feedback(2)) == 1


async def test_mixes_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "moodmix.db"
    async with await Database.open(path) as db:
        mix_id = await add(MixRepository(db.conn), 5, [track(1)])
    async with await Database.open(path) as db:
        mix = await MixRepository(db.conn).get(mix_id)
    assert mix is not None and mix.user_id == 5
