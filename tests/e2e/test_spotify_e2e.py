"""Spotify end to end: the real MoodBot with Discord and Spotify replaced by their doubles. /link-spotify answers
privately with a link; the browser goes through Spotify's authorize page to the bot's own callback server; the user
is told in Discord; then "Save to Spotify" under a mix makes one playlist, however often it is pressed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.oauth_server import LINKED_PAGE
from bot.settings import Settings
from music.spotify import SpotifyNotConfigured
from tests.e2e.conftest import StartBot
from tests.fakes.discord_server import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, FakeDiscord, SentMessage
from tests.fakes.spotify_server import FakeTrack, SpotifyDouble, free_port
from tests.fixtures import astronaut_png

pytestmark = pytest.mark.e2e


@pytest.fixture
def spotify_settings() -> bool:
    """Whether the bot gets Spotify settings (a test parametrizes it to False)."""
    return True


@pytest.fixture
async def spotify() -> AsyncIterator[SpotifyDouble]:
    async with SpotifyDouble.running() as double:
        yield double


@pytest.fixture
def settings(settings: Settings, spotify: SpotifyDouble, spotify_settings: bool) -> Settings:
    """The e2e settings, plus a Spotify app aimed at the double and an OAuth callback on a free port."""
    if not spotify_settings:
        return settings
    port = free_port()
    return settings.model_copy(
        update={
            "spotify_client_id": spotify.client_id,
            "spotify_client_secret": SecretStr(spotify.client_secret),
            "moodmix_secret_key": SecretStr(Fernet.generate_key().decode()),
            "spotify_redirect_uri": f"http://127.0.0.1:{port}/spotify/callback",
            "spotify_accounts_base": spotify.accounts_base,
            "spotify_api_base": spotify.api_base,
            "oauth_server_port": port,
        }
    )


def link_url(components: list[dict[str, Any]]) -> str:
    urls = [b["url"] for row in components for b in row.get("components", []) if b.get("url")]
    assert len(urls) == 1, components
    return str(urls[0])


async def until(condition: Callable[[], bool], tries: int = 250) -> None:
    """Poll a condition on the doubles' records (they have no event for it), for up to about 5 s."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def playlist_for(double: FakeDiscord, user: dict[str, Any]) -> SentMessage:
    """/mood with the sample selfie, then "Lift me up": the playlist message."""
    sent = await double.slash_command("mood", {"selfie": double.upload("astronaut.png", astronaut_png())}, user=user)
    reading = await double.wait_for_followup(sent.token, within=60)
    lift = next(c for c in reading.custom_ids() if c.startswith("mood:goal:lift:"))
    press = await double.press(reading, lift, user=user)
    return await double.wait_for_followup(press.token, within=30)


async def test_link_then_save_a_mix_once(
    discord_double: FakeDiscord, spotify: SpotifyDouble, start_bot: StartBot
) -> None:
    user = discord_double.make_user("listener")
    async with start_bot() as bot:
        asked = await discord_double.slash_command("link-spotify", user=user)
        answer = await discord_double.wait_for_callback(asked.id)
        assert answer.type == CHANNEL_MESSAGE and answer.ephemeral
        async with aiohttp.ClientSession() as http, http.get(link_url(answer.data["components"])) as page:
            assert page.status == 200 and LINKED_PAGE in await page.text()
        assert await bot.services.spotify.is_linked(int(user["id"]))  # type: ignore[union-attr]
        # Told in Discord: the bot goes for a DM. (The Discord double has no DM routes yet, so the DM itself cannot
        # be read back; the bot logs that and the browser page already said it.)
        await until(lambda: any(r.path.endswith(f"/users/{user['id']}") for r in discord_double.requests))

        playlist = await playlist_for(discord_double, user)
        save_id = next(c for c in playlist.custom_ids() if c.startswith("spotify:save:"))
        record = await bot.services.mixes.get(save_id.removeprefix("spotify:save:"))  # type: ignore[union-attr]
        assert record is not None
        # Spotify knows every song of the mix but the first; a karaoke namesake must not stand in for it.
        first, *rest = record.tracks
        spotify.tracks = [FakeTrack(f"k{i}", t["title"], ("Karaoke Stars",)) for i, t in enumerate([first])]
        spotify.tracks += [FakeTrack(f"s{i}", t["title"], (t["artist"],)) for i, t in enumerate(rest)]

        press = await discord_double.press(playlist, save_id, user=user)
        assert (await discord_double.wait_for_callback(press.id)).type == DEFERRED_CHANNEL_MESSAGE
        saved = await discord_double.wait_for_followup(press.token, within=30)
        assert saved.ephemeral and "Saved to your Spotify" in saved.text
        assert "1 song couldn't be found" in saved.text
        (created,) = spotify.playlists.values()
        assert saved.components[0]["components"][0]["url"].endswith(created.id)
        assert created.items == [f"spotify:track:s{i}" for i in range(len(rest))]

        again = await discord_double.press(playlist, save_id, user=user)
        await discord_double.wait_for_callback(again.id)
        assert "already in your Spotify" in (await discord_double.wait_for_followup(again.token, within=30)).text
        assert spotify.count("POST /v1/me/playlists") == 1

        stranger = await discord_double.press(playlist, save_id, user=discord_double.make_user("stranger"))
        refusal = await discord_double.wait_for_callback(stranger.id)
        assert refusal.ephemeral and "Only the person" in refusal.data["content"]

        unlink = await discord_double.slash_command("unlink-spotify", user=user)
        assert "forgot your Spotify tokens" in (await discord_double.wait_for_callback(unlink.id)).data["content"]
        assert not await bot.services.spotify.is_linked(int(user["id"]))  # type: ignore[union-attr]


@pytest.mark.parametrize("spotify_settings", [False])
async def test_without_spotify_settings_the_bot_says_saving_is_not_set_up(
    discord_double: FakeDiscord, start_bot: StartBot
) -> None:
    user = discord_double.make_user("listener")
    async with start_bot():
        asked = await discord_double.slash_command("link-spotify", user=user)
        answer = await discord_double.wait_for_callback(asked.id)
        assert answer.ephemeral and answer.data["content"] == SpotifyNotConfigured.user_message

        playlist = await playlist_for(discord_double, user)  # the mix still comes, with its listen links
        save_id = next(c for c in playlist.custom_ids() if c.startswith("spotify:save:"))
        pressed = await discord_double.press(playlist, save_id, user=user)
        explained = await discord_double.wait_for_callback(pressed.id)
        assert explained.ephemeral and explained.data["content"] == SpotifyNotConfigured.user_message
