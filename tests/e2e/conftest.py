"""End-to-end fixtures: the Discord double on 127.0.0.1 and the real MoodBot, logged in to it.

MoodBot runs unmodified: its settings point discord.py at the double (`DISCORD_API_BASE`, `DISCORD_GATEWAY_URL`),
exactly as they would point it at Discord. discord.py keeps those two URLs as class attributes, so every test puts
them back afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.client import MoodBot, point_discord_at
from bot.settings import Settings
from tests.fakes.discord_server import FakeDiscord, preserve_discord_endpoints

BOT_TOKEN = "e2e-bot-token.not-a-real-one"
START_TIMEOUT = 60.0  # the first start loads the emotion model and the catalog, on a busy 2-core machine
STOP_TIMEOUT = 20.0

StartBot = Callable[[], AbstractAsyncContextManager[MoodBot]]


@pytest.fixture
async def discord_double() -> AsyncIterator[FakeDiscord]:
    with preserve_discord_endpoints():
        async with FakeDiscord(token=BOT_TOKEN) as double:
            yield double


@pytest.fixture
def settings(discord_double: FakeDiscord, tmp_path: Path) -> Settings:
    """Offline settings aimed at the double: rules instead of an LLM, no Spotify, a fresh database file."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # a developer's .env must not leak into the tests
        discord_token=SecretStr(BOT_TOKEN),
        discord_api_base=discord_double.api_base,
        discord_gateway_url=discord_double.gateway_url,
        discord_guild_id=int(discord_double.guild_id),
        moodmix_db_path=tmp_path / "moodmix.db",
        moodmix_secret_key=None,
        max_image_bytes=2 * 1024 * 1024,
        llm_provider="rules",
        gemini_api_key=None,
        openai_api_key=None,
        spotify_client_id=None,
        spotify_client_secret=None,
    )


@pytest.fixture
def start_bot(discord_double: FakeDiscord, settings: Settings) -> StartBot:
    """`async with start_bot() as bot:` a MoodBot logged in to the double, closed on the way out.

    Call it again after the first has closed to restart the bot on the same database file.
    """

    @contextlib.asynccontextmanager
    async def running() -> AsyncIterator[MoodBot]:
        point_discord_at(settings)
        bot = MoodBot(settings)
        assert settings.discord_token is not None
        task = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
        try:
            await _until_identified(discord_double, task)
            yield bot
        finally:
            await asyncio.wait_for(bot.close(), STOP_TIMEOUT)
            await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), STOP_TIMEOUT)
            await discord_double.wait_for_disconnect()

    return running


async def _until_identified(double: FakeDiscord, task: asyncio.Task[None]) -> None:
    """Until the bot has identified, raising the bot's own error if it dies first (not a bare timeout)."""
    identified = asyncio.ensure_future(double.wait_until_identified(within=START_TIMEOUT))
    done, _ = await asyncio.wait({identified, task}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        identified.cancel()
        task.result()
        raise AssertionError("the bot stopped before it identified on the gateway")
    identified.result()
