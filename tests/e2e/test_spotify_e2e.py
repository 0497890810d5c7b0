"""Spotify end to end: the real MoodBot with Discord and Spotify replaced by their doubles. /link-spotify answers
privately with a link; the browser goes through Spotify's authorize page to the bot's own callback server; the user
is told in Discord (the reply turns into "Linked ✓", and a DM); then "Save to Spotify" under a mix makes one
playlist, however often it is pressed. Forged, replayed and expired states are refused by the bot's callback with no
token exchange; 401, 403, 429 and 5xx on Save each get their own ephemeral sentence."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.client import MoodBot
from bot.oauth_server import LINKED_DM, linked_page
from bot.settings import Settings
from cogs.spotify import LINKING_DOWN
from cogs.utils.spotify import LINKED_PROMPT
from music.spotify import (
    SpotifyError,
    SpotifyLinkRejected,
    SpotifyNotConfigured,
    SpotifyRateLimited,
    SpotifyRelinkNeeded,
    SpotifyService,
    SpotifyUnavailable,
    SpotifyUserNotRegistered,
)
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


async def browse(url: str) -> tuple[int, str, str]:
    """Open `url` like a browser (following Spotify's redirect): the final status, page text and URL."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text(), str(response.url)


async def ask_for_link(double: FakeDiscord, user: dict[str, Any]) -> tuple[str, str]:
    """/link-spotify: the interaction token of the private reply, and the authorize URL of its button."""
    asked = await double.slash_command("link-spotify", user=user)
    answer = await double.wait_for_callback(asked.id)
    assert answer.type == CHANNEL_MESSAGE and answer.ephemeral
    return asked.token, link_url(answer.data["components"])


def spotify_of(bot: MoodBot) -> SpotifyService:
    assert bot.services.spotify is not None
    return bot.services.spotify


async def playlist_for(double: FakeDiscord, user: dict[str, Any]) -> SentMessage:
    """/mood with the sample selfie, then "Lift me up": the playlist message."""
    sent = await double.slash_command("mood", {"selfie": double.upload("astronaut.png", astronaut_png())}, user=user)
    reading = await double.wait_for_followup(sent.token, within=60)
    lift = next(c for c in reading.custom_ids() if c.startswith("mood:goal:lift:"))
    press = await double.press(reading, lift, user=user)
    return await double.wait_for_followup(press.token, within=30)


def save_button(playlist: SentMessage) -> str:
    return next(c for c in playlist.custom_ids() if c.startswith("spotify:save:"))


@dataclass(slots=True)
class Linked:
    """A user who linked Spotify through the bot and has a mix whose songs the Spotify double knows."""

    user: dict[str, Any]
    playlist: SentMessage
    save_id: str


async def linked_user_with_a_mix(double: FakeDiscord, spotify: SpotifyDouble, bot: MoodBot) -> Linked:
    user = double.make_user("listener")
    _, url = await ask_for_link(double, user)
    assert (await browse(url))[0] == 200
    await double.wait_for_dm(user["id"])
    playlist = await playlist_for(double, user)
    save_id = save_button(playlist)
    record = await bot.services.mixes.get(save_id.removeprefix("spotify:save:"))  # type: ignore[union-attr]
    assert record is not None
    spotify.tracks = [FakeTrack(f"s{i}", t["title"], (t["artist"],)) for i, t in enumerate(record.tracks)]
    return Linked(user, playlist, save_id)


async def press_save(double: FakeDiscord, linked: Linked) -> SentMessage:
    """Press "Save to Spotify": the ephemeral followup that answers it."""
    press = await double.press(linked.playlist, linked.save_id, user=linked.user)
    assert (await double.wait_for_callback(press.id)).type == DEFERRED_CHANNEL_MESSAGE
    answer = await double.wait_for_followup(press.token, within=30)
    assert answer.ephemeral
    return answer


async def test_link_then_save_a_mix_once(
    discord_double: FakeDiscord, spotify: SpotifyDouble, start_bot: StartBot
) -> None:
    user = discord_double.make_user("listener")
    async with start_bot() as bot:
        token, url = await ask_for_link(discord_double, user)
        status, page, _ = await browse(url)
        # The page names the Discord account, so that someone who opened another person's link can tell.
        assert status == 200 and linked_page(user["username"]) in page
        assert await spotify_of(bot).is_linked(int(user["id"]))
        # Told in Discord twice over: the /link-spotify reply turns into "Linked ✓" without its button, and a DM.
        edited = await discord_double.wait_for_original(token, lambda m: m.content == LINKED_PROMPT)
        assert edited.components == [] and edited.ephemeral
        assert (await discord_double.wait_for_dm(user["id"])).content == LINKED_DM

        playlist = await playlist_for(discord_double, user)
        save_id = save_button(playlist)
        record = await bot.services.mixes.get(save_id.removeprefix("spotify:save:"))  # type: ignore[union-attr]
        assert record is not None
        # Spotify knows every song of the mix but the first; a karaoke namesake must not stand in for it.
        first, *rest = record.tracks
        spotify.tracks = [FakeTrack(f"k{i}", t["title"], ("Karaoke Stars",)) for i, t in enumerate([first])]
        spotify.tracks += [FakeTrack(f"s{i}", t["title"], (t["artist"],)) for i, t in enumerate(rest)]

        saved = await press_save(discord_double, Linked(user, playlist, save_id))
        assert "Saved to your Spotify" in saved.text
        assert "1 song couldn't be found" in saved.text
        (created,) = spotify.playlists.values()
        assert saved.components[0]["components"][0]["url"].endswith(created.id)
        assert created.items == [f"spotify:track:s{i}" for i in range(len(rest))]

        again = await press_save(discord_double, Linked(user, playlist, save_id))
        assert "already in your Spotify" in again.text
        assert spotify.count("POST /v1/me/playlists") == 1

        stranger = await discord_double.press(playlist, save_id, user=discord_double.make_user("stranger"))
        refusal = await discord_double.wait_for_callback(stranger.id)
        assert refusal.ephemeral and "Only the person" in refusal.data["content"]

        unlink = await discord_double.slash_command("unlink-spotify", user=user)
        assert "forgot your Spotify tokens" in (await discord_double.wait_for_callback(unlink.id)).data["content"]
        assert not await spotify_of(bot).is_linked(int(user["id"]))


async def _forged(double: FakeDiscord, spotify: SpotifyDouble, bot: MoodBot, user: dict[str, Any]) -> str:
    await ask_for_link(double, user)  # a real state exists, but the callback carries another
    callback = bot.settings.spotify_redirect_uri
    code = spotify.issue_code(callback, "playlist-modify-private playlist-modify-public")
    return f"{callback}?code={code}&state=forged-by-someone"


async def _replayed(double: FakeDiscord, spotify: SpotifyDouble, bot: MoodBot, user: dict[str, Any]) -> str:
    _, url = await ask_for_link(double, user)
    status, _, callback = await browse(url)  # linked once, through the bot
    assert status == 200 and len(spotify.token_requests) == 1
    await spotify_of(bot).unlink(int(user["id"]))
    return callback  # the same code and state again, as a replaying attacker would send them


async def _expired(double: FakeDiscord, spotify: SpotifyDouble, bot: MoodBot, user: dict[str, Any]) -> str:
    _, url = await ask_for_link(double, user)
    # Ten minutes pass between /link-spotify and the callback.
    assert bot.services.db is not None
    await bot.services.db.conn.execute("UPDATE oauth_states SET expires_at = created_at")
    await bot.services.db.conn.commit()
    return url


@pytest.mark.parametrize(("prepare", "exchanges"), [(_forged, 0), (_replayed, 1), (_expired, 0)])
async def test_a_bad_state_is_refused_by_the_bots_callback_without_a_token_exchange(
    discord_double: FakeDiscord,
    spotify: SpotifyDouble,
    start_bot: StartBot,
    prepare: Callable[..., Any],
    exchanges: int,
) -> None:
    user = discord_double.make_user("listener")
    async with start_bot() as bot:
        url = await prepare(discord_double, spotify, bot, user)
        status, page, _ = await browse(url)
        assert status == 400 and SpotifyLinkRejected.user_message in page
        assert len(spotify.token_requests) == exchanges  # none for the refused callback itself
        assert not await spotify_of(bot).is_linked(int(user["id"]))


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (("GET /v1/search", 403, None), SpotifyUserNotRegistered),
        (("GET /v1/search", 429, 3600), SpotifyRateLimited),
        (("GET /v1/search", 503, None), SpotifyUnavailable),
        (("POST /v1/me/playlists", 502, None), SpotifyUnavailable),
    ],
)
async def test_a_failing_save_gets_its_own_ephemeral_sentence(
    discord_double: FakeDiscord,
    spotify: SpotifyDouble,
    start_bot: StartBot,
    fault: tuple[str, int, int | None],
    expected: type[SpotifyError],
) -> None:
    route, status, retry_after = fault
    async with start_bot() as bot:
        linked = await linked_user_with_a_mix(discord_double, spotify, bot)
        spotify.fail(route, status, times=10, retry_after=retry_after)
        answer = await press_save(discord_double, linked)
        assert answer.content == expected.user_message
        assert spotify.playlists == {} and spotify.count("POST /v1/me/playlists") <= 1  # a create is never resent
        assert await spotify_of(bot).is_linked(int(linked.user["id"]))


async def test_lost_access_asks_to_relink_and_saving_works_after_relinking(
    discord_double: FakeDiscord, spotify: SpotifyDouble, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        linked = await linked_user_with_a_mix(discord_double, spotify, bot)
        spotify.expire_access_tokens()  # 401 to the stored access token...
        spotify.revoke_refresh_tokens()  # ...and the refresh refused: the user revoked MoodMix on Spotify
        answer = await press_save(discord_double, linked)
        assert answer.content == SpotifyRelinkNeeded.user_message
        assert not await spotify_of(bot).is_linked(int(linked.user["id"]))
        assert spotify.playlists == {}

        # What the sentence asks for. /link-spotify itself is still cooling down from a moment ago (10 s per user),
        # so take the authorize URL it would hand out straight from the service; the callback is the bot's own.
        url = await spotify_of(bot).authorize_url(int(linked.user["id"]))
        assert (await browse(url))[0] == 200
        await discord_double.wait_for_dm(linked.user["id"], n=2)
        saved = await press_save(discord_double, linked)
        assert "Saved to your Spotify" in saved.text
        (created,) = spotify.playlists.values()
        assert len(created.items) == len(spotify.tracks)


async def test_when_the_callback_port_is_taken_linking_says_it_is_unavailable(
    discord_double: FakeDiscord, settings: Settings, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as squatter:
        squatter.bind((settings.oauth_server_host, settings.oauth_server_port))
        squatter.listen()
        async with start_bot() as bot:
            assert not bot.spotify_linking
            assert "could not serve the Spotify OAuth callback" in caplog.text
            asked = await discord_double.slash_command("link-spotify", user=discord_double.make_user("listener"))
            answer = await discord_double.wait_for_callback(asked.id)
            assert answer.ephemeral and answer.data["content"] == LINKING_DOWN
            assert "components" not in answer.data or answer.data["components"] == []


@pytest.mark.parametrize("spotify_settings", [False])
async def test_without_spotify_settings_the_bot_says_saving_is_not_set_up(
    discord_double: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.client")
    user = discord_double.make_user("listener")
    async with start_bot():
        asked = await discord_double.slash_command("link-spotify", user=user)
        answer = await discord_double.wait_for_callback(asked.id)
        assert answer.ephemeral and answer.data["content"] == SpotifyNotConfigured.user_message

        playlist = await playlist_for(discord_double, user)  # the mix still comes, with its listen links
        assert not any(c.startswith("spotify:save:") for c in playlist.custom_ids())  # and no Save button
    assert "missing SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, MOODMIX_SECRET_KEY" in caplog.text
