"""/prefs, its callback called directly: add artists (five at most), set a language from the catalog, show, clear;
and the autocompletes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cogs.prefs import PrefsCog
from storage.db import Database
from storage.preferences import Preferences, PreferencesRepository
from tests.helpers import mock_interaction


class SmallCatalog:
    def languages(self) -> list[tuple[str, int]]:
        return [("en", 300), ("ja", 52), ("fr", 60)]

    def artists(self) -> list[str]:
        return ["Adele", "Ado", "Stromae", "Édith Piaf"] + [f"Band {n}" for n in range(40)]


class FakeServices:
    catalog = SmallCatalog()


@pytest.fixture
async def repo() -> AsyncIterator[PreferencesRepository]:
    async with await Database.open(":memory:") as db:
        yield PreferencesRepository(db.conn)


@pytest.fixture
def cog(repo: PreferencesRepository) -> PrefsCog:
    return PrefsCog(FakeServices(), repo)  # type: ignore[arg-type]


async def _prefs(cog: PrefsCog, user_id: int = 42, **options: object) -> tuple[str | None, dict[str, object]]:
    interaction = mock_interaction(user_id)
    params = {"artist": None, "language": None, "clear": False} | options
    await cog.prefs.callback(cog, interaction, **params)
    call = interaction.response.send_message.await_args
    assert call.kwargs["ephemeral"] is True
    return (call.args[0] if call.args else None), call.kwargs


async def test_prefs_alone_shows_none_yet(cog: PrefsCog) -> None:
    _, kwargs = await _prefs(cog)
    assert "None yet" in kwargs["embed"].description


async def test_artist_and_language_are_stored_and_shown(cog: PrefsCog, repo: PreferencesRepository) -> None:
    _, kwargs = await _prefs(cog, artist="Stromae", language="FR")
    fields = {f.name: f.value for f in kwargs["embed"].fields}
    assert fields == {"Favourite artists (1/5)": "Stromae", "Language": "French (fr)"}
    assert await repo.get(42) == Preferences(("Stromae",), "fr")


async def test_a_sixth_artist_gets_a_clear_message(cog: PrefsCog, repo: PreferencesRepository) -> None:
    for n in range(5):
        await repo.add_artist(42, f"Band {n}")
    message, _ = await _prefs(cog, artist="Adele")
    assert message == "You already have 5 favourite artists. Use /prefs clear:True to start over."
    assert "Adele" not in (await repo.get(42)).artists


async def test_unknown_language_is_refused(cog: PrefsCog, repo: PreferencesRepository) -> None:
    message, _ = await _prefs(cog, language="xx")
    assert message is not None and "xx" in message
    assert (await repo.get(42)).language is None


async def test_clear_forgets_then_applies_new_choices(cog: PrefsCog, repo: PreferencesRepository) -> None:
    await repo.add_artist(42, "Adele")
    await repo.set_language(42, "ja")
    _, kwargs = await _prefs(cog, clear=True)
    assert "None yet" in kwargs["embed"].description
    assert (await repo.get(42)).empty


async def test_language_autocomplete_names_languages_with_song_counts(cog: PrefsCog) -> None:
    choices = await cog.language_autocomplete(mock_interaction(), "jap")
    assert [(c.name, c.value) for c in choices] == [("Japanese (ja) — 52 songs", "ja")]
    everything = await cog.language_autocomplete(mock_interaction(), "")
    assert [c.value for c in everything] == ["en", "ja", "fr"]


async def test_artist_autocomplete_matches_anywhere_and_stops_at_25(cog: PrefsCog) -> None:
    choices = await cog.artist_autocomplete(mock_interaction(), "ad")
    assert [c.value for c in choices] == ["Adele", "Ado"]
    many = await cog.artist_autocomplete(mock_interaction(), "band")
    assert len(many) == 25
