"""PreferencesRepository: artists capped and deduplicated, language, clear, and persistence across a reopen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from storage.preferences import MAX_ARTISTS, Preferences, PreferencesRepository, TooManyArtists


@pytest.fixture
async def repo() -> AsyncIterator[PreferencesRepository]:
    async with await Database.open(":memory:") as db:
        yield PreferencesRepository(db.conn, clock=lambda: 1000.0)


async def test_unknown_user_has_empty_preferences(repo: PreferencesRepository) -> None:
    prefs = await repo.get(42)
    assert prefs == Preferences()
    assert prefs.empty


async def test_artists_are_deduplicated_case_insensitively_keeping_first_spelling(repo: PreferencesRepository) -> None:
    await repo.add_artist(1, "Björk")
    prefs = await repo.add_artist(1, "  BJÖRK ")
    assert prefs.artists == ("Björk",)
    assert (await repo.get(1)).artists == ("Björk",)


async def test_sixth_artist_is_refused_and_nothing_changes(repo: PreferencesRepository) -> None:
    names = [f"Artist {i}" for i in range(MAX_ARTISTS)]
    for name in names:
        await repo.add_artist(7, name)
    with pytest.raises(TooManyArtists):
        await repo.add_artist(7, "One Too Many")
    assert (await repo.get(7)).artists == tuple(names)
    # A name already kept is not a sixth one.
    assert (await repo.add_artist(7, "artist 0")).artists == tuple(names)


async def test_blank_artist_is_refused(repo: PreferencesRepository) -> None:
    with pytest.raises(ValueError):
        await repo.add_artist(1, "   ")


async def test_language_is_set_normalised_and_kept_with_artists(repo: PreferencesRepository) -> None:
    await repo.add_artist(3, "Stromae")
    prefs = await repo.set_language(3, " FR ")
    assert prefs == Preferences(artists=("Stromae",), language="fr")
    assert (await repo.set_language(3, None)).language is None


async def test_clear_forgets_only_that_user(repo: PreferencesRepository) -> None:
    await repo.set_language(1, "ja")
    await repo.set_language(2, "ko")
    await repo.clear(1)
    assert (await repo.get(1)).empty
    assert (await repo.get(2)).language == "ko"


async def test_preferences_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "moodmix.db"
    async with await Database.open(path) as db:
        repo = PreferencesRepository(db.conn)
        await repo.add_artist(9, "Fela Kuti")
        await repo.set_language(9, "en")
    async with await Database.open(path) as db:
        assert await PreferencesRepository(db.conn).get(9) == Preferences(("Fela Kuti",), "en")
