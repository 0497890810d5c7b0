"""Favourite artists and music language per Discord user, on the `preferences` table.

A user keeps at most `MAX_ARTISTS` artists; names are deduplicated case-insensitively and keep the spelling the user
gave first. Every write stamps `updated_at`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiosqlite

MAX_ARTISTS = 5


class TooManyArtists(ValueError):
    """The user already keeps `MAX_ARTISTS` favourite artists."""

    def __init__(self, limit: int = MAX_ARTISTS) -> None:
        super().__init__(f"at most {limit} favourite artists")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a user asked MoodMix to favour. The empty value means "no preferences"."""

    artists: tuple[str, ...] = ()
    language: str | None = None

    @property
    def empty(self) -> bool:
        return not self.artists and self.language is None


class PreferencesRepository:
    """Reads and writes one row per user. Takes an open aiosqlite connection (see `storage.db.Database`)."""

    def __init__(self, conn: aiosqlite.Connection, *, clock: Callable[[], float] = time.time) -> None:
        self._conn = conn
        self._clock = clock

    async def get(self, user_id: int) -> Preferences:
        """The user's preferences; empty ones for a user who never set any."""
        async with self._conn.execute("SELECT artists, language FROM preferences WHERE user_id = ?", (user_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return Preferences()
        return Preferences(artists=tuple(json.loads(row[0])), language=row[1])

    async def add_artist(self, user_id: int, artist: str) -> Preferences:
        """Add a favourite artist (a name already there, in any case, is kept once).

        Raises `TooManyArtists` when the user already keeps `MAX_ARTISTS` others, and `ValueError` for a blank name.
        """
        name = " ".join(artist.split())
        if not name:
            raise ValueError("artist name is empty")
        current = await self.get(user_id)
        if name.casefold() in {a.casefold() for a in current.artists}:
            return current
        if len(current.artists) >= MAX_ARTISTS:
            raise TooManyArtists()
        updated = Preferences(artists=(*current.artists, name), language=current.language)
        await self._save(user_id, updated)
        return updated

    async def set_language(self, user_id: int, language: str | None) -> Preferences:
        """Set (or, with None, unset) the preferred music language, an ISO 639-1 code."""
        current = await self.get(user_id)
        updated = Preferences(artists=current.artists, language=language.strip().lower() if language else None)
        await self._save(user_id, updated)
        return updated

    async def clear(self, user_id: int) -> bool:
        """Forget the user's preferences; True when there were any."""
        cursor = await self._conn.execute("DELETE FROM preferences WHERE user_id = ?", (user_id,))
        deleted = cursor.rowcount > 0
        await cursor.close()
        await self._conn.commit()
        return deleted

    async def _save(self, user_id: int, prefs: Preferences) -> None:
        await self._conn.execute(
            "INSERT INTO preferences (user_id, artists, language, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET artists = excluded.artists, language = excluded.language, "
            "updated_at = excluded.updated_at",
            (user_id, json.dumps(list(prefs.artists), ensure_ascii=False), prefs.language, self._clock()),
        )
        await self._conn.commit()
