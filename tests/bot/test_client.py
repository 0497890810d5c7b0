"""MoodBot without a network: setup_hook opens the database, builds the services, loads the cogs (skipping a broken
one) and syncs; the tree's error handler is the one error reply; discord.py is pointed at the configured servers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import AsyncMock

import discord
import pytest
from discord import app_commands

from bot import client as client_module
from bot.client import MoodBot, point_discord_at
from bot.settings import Settings
from inference.errors import NoFaceFound
from tests.helpers import mock_interaction


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, moodmix_db_path=tmp_path / "moodmix.db", **values)  # type: ignore[call-arg]


@pytest.fixture
async def started(tmp_path: Path) -> AsyncIterator[MoodBot]:
    bot = MoodBot(_settings(tmp_path, discord_guild_id=1234))
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    await bot.setup_hook()
    yield bot
    await bot.close()


def test_point_discord_at_sets_rest_base_and_gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    )
    point_discord_at(
        _settings(tmp_path, discord_api_base="http://127.0.0.1:9/api/v10/", discord_gateway_url="ws://127.0.0.1:9/gw")
    )
    assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gw"


async def test_bot_needs_no_privileged_intent(tmp_path: Path) -> None:
    bot = MoodBot(_settings(tmp_path))
    assert not (bot.intents.message_content or bot.intents.members or bot.intents.presences)
    with pytest.raises(RuntimeError):
        bot.services  # noqa: B018  # not built before setup_hook
    await bot.close()


async def test_setup_hook_builds_services_loads_cogs_and_syncs_to_the_guild(started: MoodBot, tmp_path: Path) -> None:
    assert {c.name for c in started.tree.get_commands()} >= {"mood", "prefs"}
    assert started.services.preferences is not None and started.services.mixes is not None
    await started.services.preferences.set_language(1, "en")
    assert (tmp_path / "moodmix.db").exists()
    sync = started.tree.sync
    assert isinstance(sync, AsyncMock)
    assert sync.await_args.kwargs["guild"].id == 1234
    assert {c.name for c in started.tree.get_commands(guild=discord.Object(1234))} >= {"mood", "prefs"}


async def test_close_closes_the_database(tmp_path: Path) -> None:
    bot = MoodBot(_settings(tmp_path))
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    await bot.setup_hook()
    db = bot.services.db
    assert db is not None
    await bot.close()
    with pytest.raises(ValueError):
        await db.conn.execute("SELECT 1")
    assert bot.tree.sync.await_args == ((), {})  # no guild id: synced globally


async def test_a_cog_that_fails_to_load_is_logged_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(client_module, "EXTENSIONS", ("cogs.does_not_exist", "cogs.prefs"))
    bot = MoodBot(_settings(tmp_path))
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="bot.client"):
        await bot.setup_hook()
    try:
        assert [c.name for c in bot.tree.get_commands()] == ["prefs"]
        assert "could not load cogs.does_not_exist" in caplog.text
    finally:
        await bot.close()


async def test_tree_errors_become_the_ephemeral_error_reply(started: MoodBot) -> None:
    interaction = mock_interaction()
    await interaction.response.defer(thinking=True)
    command = started.tree.get_command("mood")
    assert isinstance(command, app_commands.Command)
    await started.tree.on_error(interaction, app_commands.CommandInvokeError(command, NoFaceFound()))
    interaction.delete_original_response.assert_awaited_once()
    interaction.followup.send.assert_awaited_once_with(NoFaceFound.user_message, ephemeral=True)


async def test_mood_cooldown_is_per_user(started: MoodBot) -> None:
    command = started.tree.get_command("mood")
    assert isinstance(command, app_commands.Command)
    cooldown = command.checks[0]
    first, same, other = mock_interaction(1), mock_interaction(1), mock_interaction(2)
    assert await discord.utils.maybe_coroutine(cooldown, first)
    with pytest.raises(app_commands.CommandOnCooldown):
        await discord.utils.maybe_coroutine(cooldown, same)
    assert await discord.utils.maybe_coroutine(cooldown, other)
