"""Spotify links, OAuth states and saved playlists, on `spotify_links`, `oauth_states` and `saved_playlists`.

- `SpotifyLinkRepository` keeps each user's token info as Fernet ciphertext: the database never holds a token in
  plaintext, and a database copied without the key is useless.
- `OAuthStateRepository` hands out a random state per /link-spotify and keeps only its SHA-256, so a leaked database
  cannot complete anyone's link. A state is single-use, bound to the user who asked, and expires (10 minutes).
- `SavedPlaylistRepository` remembers which Spotify playlist a mix was saved as, so saving it again reuses it. A
  playlist is recorded as soon as Spotify creates it (`filled` False) and marked filled once its songs are in: a save
  that fails halfway is finished by the next one, never repeated.
- `forget_spotify_user` deletes all three kinds of record of one user (for /forget-me).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiosqlite
from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)

STATE_TTL_SECONDS = 600.0

TokenInfo = dict[str, Any]


class SpotifyLinkRepository:
    """One encrypted token-info blob per Discord user."""

    def __init__(self, conn: aiosqlite.Connection, fernet: Fernet, *, clock: Callable[[], float] = time.time) -> None:
        self._conn = conn
        self._fernet = fernet
        self._clock = clock

    async def save(self, user_id: int, token_info: TokenInfo) -> None:
        """Store (or replace) the user's token info, encrypted."""
        ciphertext = self._fernet.encrypt(json.dumps(token_info).encode())
        now = self._clock()
        await self._conn.execute(
            "INSERT INTO spotify_links (user_id, token_ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET token_ciphertext = excluded.token_ciphertext, "
            "updated_at = excluded.updated_at",
            (user_id, ciphertext, now, now),
        )
        await self._conn.commit()

    async def load(self, user_id: int) -> TokenInfo | None:
        """The user's token info, or None when they are not linked.

        A blob the current key cannot decrypt (the key was changed) counts as no link: the user links again.
        """
        async with self._conn.execute(
            "SELECT token_ciphertext FROM spotify_links WHERE user_id = ?", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        try:
            token_info: TokenInfo = json.loads(self._fernet.decrypt(bytes(row[0])))
        except InvalidToken:
            log.warning("Spotify tokens of user %s cannot be decrypted with the current key; dropping them", user_id)
            await self.delete(user_id)
            return None
        return token_info

    async def delete(self, user_id: int) -> bool:
        """Forget the user's tokens; True when there were any."""
        cur = await self._conn.execute("DELETE FROM spotify_links WHERE user_id = ?", (user_id,))
        await self._conn.commit()
        return cur.rowcount > 0


class OAuthStateRejected(Exception):
    """A callback's state is not one MoodMix handed out, was already used, or has expired."""

    def __init__(self, reason: Literal["unknown", "used", "expired"]) -> None:
        super().__init__(f"OAuth state rejected: {reason}")
        self.reason = reason


def _hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class OAuthStateRepository:
    """Random single-use states, stored as SHA-256 hashes, each bound to one Discord user."""

    def __init__(
        self, conn: aiosqlite.Connection, *, ttl: float = STATE_TTL_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self._conn = conn
        self._ttl = ttl
        self._clock = clock

    async def create(self, user_id: int) -> str:
        """A fresh state for this user (256 random bits). Only its hash is stored."""
        state = secrets.token_urlsafe(32)
        now = self._clock()
        # Expired states are worthless; dropping them here keeps the table small without a background job.
        await self._conn.execute("DELETE FROM oauth_states WHERE expires_at <= ?", (now,))
        await self._conn.execute(
            "INSERT INTO oauth_states (state_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (_hash_state(state), user_id, now, now + self._ttl),
        )
        await self._conn.commit()
        return state

    async def consume(self, state: str) -> int:
        """Mark the state used and return the user it belongs to.

        Raises `OAuthStateRejected` for a state never handed out, one already used, or one past its expiry.
        The check and the marking are one UPDATE, so two callbacks racing with the same state cannot both pass.
        """
        state_hash = _hash_state(state)
        now = self._clock()
        async with self._conn.execute(
            "UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL AND expires_at > ? "
            "RETURNING user_id",
            (now, state_hash, now),
        ) as cur:
            row = await cur.fetchone()
        await self._conn.commit()
        if row is not None:
            return int(row[0])
        async with self._conn.execute("SELECT used_at FROM oauth_states WHERE state_hash = ?", (state_hash,)) as cur:
            found = await cur.fetchone()
        if found is None:
            raise OAuthStateRejected("unknown")
        raise OAuthStateRejected("used" if found[0] is not None else "expired")


@dataclass(frozen=True, slots=True)
class SavedPlaylist:
    """The Spotify playlist a mix was saved as, how many of its tracks Spotify could not match, and whether the
    matched ones are in it yet (False between creating the playlist and filling it, or when filling failed)."""

    mix_id: str
    user_id: int
    playlist_id: str
    url: str
    missing: int
    filled: bool = True


class SavedPlaylistRepository:
    """One Spotify playlist per mix."""

    def __init__(self, conn: aiosqlite.Connection, *, clock: Callable[[], float] = time.time) -> None:
        self._conn = conn
        self._clock = clock

    async def get(self, mix_id: str) -> SavedPlaylist | None:
        """The playlist this mix was saved as, if any."""
        async with self._conn.execute(
            "SELECT mix_id, user_id, playlist_id, url, missing, filled FROM saved_playlists WHERE mix_id = ?",
            (mix_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return SavedPlaylist(str(row[0]), int(row[1]), str(row[2]), str(row[3]), int(row[4]), bool(row[5]))

    async def add(self, saved: SavedPlaylist) -> SavedPlaylist:
        """Record a saved playlist and return what is recorded: the first one wins if the mix was already saved."""
        await self._conn.execute(
            "INSERT INTO saved_playlists (mix_id, user_id, playlist_id, url, missing, filled, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mix_id) DO NOTHING",
            (saved.mix_id, saved.user_id, saved.playlist_id, saved.url, saved.missing, saved.filled, self._clock()),
        )
        await self._conn.commit()
        # `or saved`: the mix may have been deleted meanwhile, taking its row with it (ON DELETE CASCADE).
        return await self.get(saved.mix_id) or saved

    async def mark_filled(self, mix_id: str, missing: int) -> None:
        """Record that the mix's playlist now holds its songs, `missing` of them not found on Spotify."""
        await self._conn.execute(
            "UPDATE saved_playlists SET filled = 1, missing = ? WHERE mix_id = ?", (missing, mix_id)
        )
        await self._conn.commit()


@dataclass(frozen=True, slots=True)
class SpotifyForgotten:
    """What `forget_spotify_user` deleted: the tokens, the saved-playlist records and the pending link states."""

    linked: bool
    saved_playlists: int
    link_states: int


async def forget_spotify_user(conn: aiosqlite.Connection, user_id: int) -> SpotifyForgotten:
    """Delete every Spotify record MoodMix keeps about a user, in one transaction.

    Deleting ciphertext needs no key, so this works without the Fernet key too: a bot whose Spotify settings were
    removed still forgets tokens it stored earlier. The playlists themselves live in the user's Spotify account and
    stay there.
    """
    counts = []
    for table in ("spotify_links", "saved_playlists", "oauth_states"):
        cursor = await conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
        counts.append(cursor.rowcount)
        await cursor.close()
    await conn.commit()
    return SpotifyForgotten(linked=counts[0] > 0, saved_playlists=counts[1], link_states=counts[2])
