"""The mixes a user was given and the feedback on them (tables `mixes` and `feedback`, migrations 0001 and 0003).

A mix keeps what it was built from (the emotion scores, goal, start and target points) and its tracks as plain
dicts `{key, title, artist, language, valence, energy}`, so the recommender can avoid repeating recent tracks and
learn the user's taste from feedback. Selfies are never stored, only the scores read from them.

Feedback is one rating per user and mix: +1 or -1 for a thumbs up or down, or `SKIPPED` (0) when the user pressed
"New mix" instead. A thumbs always wins over a skip, whichever came first.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite

TRACK_FIELDS = ("key", "title", "artist", "language", "valence", "energy")
SKIPPED = 0  # the feedback rating of a skip: the user pressed "New mix" instead of rating the mix

_COLUMNS = (
    "id, user_id, created_at, emotion, scores, goal, current_valence, current_arousal, "
    "target_valence, target_arousal, title, story, tracks"
)
_MIX_COLUMNS = ", ".join(f"m.{name.strip()}" for name in _COLUMNS.split(","))  # the same, for queries that join


@dataclass(slots=True)
class MixRecord:
    """One stored mix. `current` and `target` are (valence, arousal) points."""

    id: str
    user_id: int
    created_at: float
    emotion: str
    scores: dict[str, float]
    goal: str | None
    current: tuple[float, float]
    target: tuple[float, float]
    title: str
    story: str
    tracks: list[dict[str, Any]]

    @property
    def track_keys(self) -> list[str]:
        return [str(track["key"]) for track in self.tracks]


def _record(row: aiosqlite.Row) -> MixRecord:
    return MixRecord(
        id=row["id"],
        user_id=int(row["user_id"]),
        created_at=float(row["created_at"]),
        emotion=row["emotion"],
        scores={str(k): float(v) for k, v in json.loads(row["scores"]).items()},
        goal=row["goal"],
        current=(float(row["current_valence"]), float(row["current_arousal"])),
        target=(float(row["target_valence"]), float(row["target_arousal"])),
        title=row["title"],
        story=row["story"],
        tracks=list(json.loads(row["tracks"])),
    )


def _clean_track(track: dict[str, Any]) -> dict[str, Any]:
    missing = [name for name in TRACK_FIELDS if name not in track]
    if missing:
        raise ValueError(f"a stored track needs {', '.join(missing)}")
    return {name: track[name] for name in TRACK_FIELDS}


class MixRepository:
    """Stores mixes and feedback on one aiosqlite connection: `storage.db.Database.conn`, which reads rows by name.

    `clock` returns Unix seconds; tests pass their own to order mixes deterministically.
    """

    def __init__(self, conn: aiosqlite.Connection, *, clock: Callable[[], float] = time.time) -> None:
        self._conn = conn
        self._clock = clock

    async def add(
        self,
        *,
        user_id: int,
        emotion: str,
        scores: dict[str, float],
        goal: str | None,
        current: tuple[float, float],
        target: tuple[float, float],
        title: str,
        story: str,
        tracks: list[dict[str, Any]],
    ) -> str:
        """Store a mix and return its new random id (16 hex characters, safe in a button's custom_id)."""
        mix_id = secrets.token_hex(8)
        stored_tracks = [_clean_track(track) for track in tracks]
        await self._conn.execute(
            f"INSERT INTO mixes ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                mix_id,
                user_id,
                self._clock(),
                emotion,
                json.dumps(scores),
                goal,
                float(current[0]),
                float(current[1]),
                float(target[0]),
                float(target[1]),
                title,
                story,
                json.dumps(stored_tracks, ensure_ascii=False),
            ),
        )
        await self._conn.commit()
        return mix_id

    async def get(self, mix_id: str) -> MixRecord | None:
        """The mix with this id, or None."""
        async with self._conn.execute(f"SELECT {_COLUMNS} FROM mixes WHERE id = ?", (mix_id,)) as cursor:
            row = await cursor.fetchone()
        return _record(row) if row else None

    async def recent(self, user_id: int, limit: int = 10) -> list[MixRecord]:
        """The user's latest mixes, newest first."""
        async with self._conn.execute(
            f"SELECT {_COLUMNS} FROM mixes WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (user_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_record(row) for row in rows]

    async def recent_track_keys(self, user_id: int, mixes: int = 5) -> set[str]:
        """The track keys of the user's last `mixes` mixes: what a new mix should not repeat."""
        return {key for mix in await self.recent(user_id, mixes) for key in mix.track_keys}

    async def rate(self, user_id: int, mix_id: str, rating: int) -> bool:
        """Record (or change) the user's thumbs up (+1) or down (-1) on a mix; it replaces a skip.

        Returns False, and stores nothing, when the mix does not exist or belongs to someone else.
        """
        if rating not in (-1, 1):
            raise ValueError("rating must be +1 or -1")
        return await self._store(
            user_id,
            mix_id,
            rating,
            "ON CONFLICT (user_id, mix_id) DO UPDATE SET rating = excluded.rating, created_at = excluded.created_at",
        )

    async def skip(self, user_id: int, mix_id: str) -> bool:
        """Record that the user asked for a new mix instead of this one (`SKIPPED`), unless they rated it.

        Returns False, and stores nothing, when the mix does not exist or belongs to someone else.
        """
        return await self._store(user_id, mix_id, SKIPPED, "ON CONFLICT (user_id, mix_id) DO NOTHING")

    async def _store(self, user_id: int, mix_id: str, rating: int, on_conflict: str) -> bool:
        mix = await self.get(mix_id)
        if mix is None or mix.user_id != user_id:
            return False
        await self._conn.execute(
            f"INSERT INTO feedback (user_id, mix_id, rating, created_at) VALUES (?, ?, ?, ?) {on_conflict}",
            (user_id, mix_id, rating, self._clock()),
        )
        await self._conn.commit()
        return True

    async def feedback(self, user_id: int, limit: int = 50) -> list[tuple[MixRecord, int]]:
        """The user's mixes with feedback and its rating (+1, -1 or `SKIPPED`), most recent feedback first."""
        async with self._conn.execute(
            f"SELECT {_MIX_COLUMNS}, f.rating FROM feedback f JOIN mixes m ON m.id = f.mix_id "
            "WHERE f.user_id = ? ORDER BY f.created_at DESC, f.id DESC LIMIT ?",
            (user_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(_record(row), int(row["rating"])) for row in rows]

    async def history(self, user_id: int, limit: int = 10) -> list[tuple[MixRecord, int | None]]:
        """The user's latest mixes, newest first, each with its rating (+1 or -1), or None when it was not rated
        (a skipped mix was not rated)."""
        async with self._conn.execute(
            f"SELECT {_MIX_COLUMNS}, NULLIF(f.rating, {SKIPPED}) AS rating FROM mixes m "
            "LEFT JOIN feedback f ON f.mix_id = m.id AND f.user_id = m.user_id "
            "WHERE m.user_id = ? ORDER BY m.created_at DESC, m.rowid DESC LIMIT ?",
            (user_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(_record(row), None if row["rating"] is None else int(row["rating"])) for row in rows]

    async def forget(self, user_id: int) -> int:
        """Delete the user's mixes and feedback; return how many mixes were deleted."""
        await self._conn.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,))
        cursor = await self._conn.execute("DELETE FROM mixes WHERE user_id = ?", (user_id,))
        deleted = cursor.rowcount
        await cursor.close()
        await self._conn.commit()
        return deleted
