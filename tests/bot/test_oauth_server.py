"""The OAuth callback server, end to end on loopback: a browser (aiohttp client) goes to the Spotify double's authorize
page, is redirected to the real callback server, which exchanges the code through spotipy and stores the tokens.
Forged, replayed and expired states, and a refusal on Spotify's page, get a short page and no token exchange.
The "Linked" page names the Discord account; a 403 from /me after linking, in any wording, says why."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import aiohttp
import discord
import pytest

from bot.oauth_server import (
    LINK_FAILED_PAGE,
    LINKED_DM,
    LINKED_PAGE,
    NOT_FOR_YOU,
    NameLookup,
    OAuthCallbackServer,
    callback_path,
    discord_notifier,
    linked_page,
)
from cogs.utils.spotify import LINKED_PROMPT, LinkPrompts
from music.spotify import SpotifyLinkFailed, SpotifyLinkRejected, SpotifyUserNotRegistered
from tests.fakes.spotify_server import SpotifyDouble, SpotifyStack, free_port, raw_database_bytes, spotify_stack

USER = 424242


@dataclass(slots=True)
class Harness:
    spotify: SpotifyDouble
    stack: SpotifyStack
    server: OAuthCallbackServer
    callback_url: str
    db_path: Path
    linked: asyncio.Queue[int]


@pytest.fixture
def name_user() -> NameLookup | None:
    """How the server looks up Discord names (none by default; a test parametrizes it)."""
    return None


@pytest.fixture
async def harness(tmp_path: Path, name_user: NameLookup | None) -> AsyncIterator[Harness]:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/spotify/callback"
    linked: asyncio.Queue[int] = asyncio.Queue()

    async def on_linked(user_id: int) -> None:
        await linked.put(user_id)

    async with (
        SpotifyDouble.running() as spotify,
        spotify_stack(tmp_path / "moodmix.db", spotify, redirect_uri=redirect_uri) as stack,
    ):
        server = OAuthCallbackServer(
            stack.service,
            host="127.0.0.1",
            port=port,
            path=callback_path(redirect_uri),
            on_linked=on_linked,
            name_user=name_user,
        )
        await server.start()
        try:
            yield Harness(spotify, stack, server, redirect_uri, tmp_path / "moodmix.db", linked)
        finally:
            await server.stop()


async def browse(url: str) -> tuple[int, str, str]:
    """Open `url` like a browser (following Spotify's redirect): the final status, page text and URL."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text(), str(response.url)


async def test_the_whole_link_flow(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    authorize = await harness.stack.service.authorize_url(USER)
    status, page, final_url = await browse(authorize)
    assert status == 200 and LINKED_PAGE in page
    assert final_url.startswith(harness.callback_url + "?")
    assert await asyncio.wait_for(harness.linked.get(), 2) == USER  # told in Discord
    assert await harness.stack.service.is_linked(USER)
    assert [r["grant_type"] for r in harness.spotify.token_requests] == ["authorization_code"]
    # The code and the state are in the callback URL: neither may reach a log line.
    query = dict(part.split("=", 1) for part in final_url.split("?", 1)[1].split("&"))
    assert query["code"] not in caplog.text and query["state"] not in caplog.text
    # Tokens are encrypted at rest: the database file holds none of them.
    token = await harness.stack.links.load(USER)
    assert token is not None
    await harness.stack.db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = raw_database_bytes(harness.db_path)
    assert b"spotify_links" in raw
    for secret in (token["access_token"], token["refresh_token"]):
        assert secret.encode() not in raw


async def test_a_forged_state_is_refused_without_a_token_exchange(harness: Harness) -> None:
    await harness.stack.service.authorize_url(USER)
    code = harness.spotify.issue_code(harness.callback_url, "playlist-modify-private playlist-modify-public")
    status, page, _ = await browse(f"{harness.callback_url}?code={code}&state=forged-by-someone")
    assert status == 400 and SpotifyLinkRejected.user_message in page
    assert harness.spotify.token_requests == []
    assert not await harness.stack.service.is_linked(USER)
    assert harness.linked.empty()


async def test_a_replayed_callback_is_refused_without_a_second_exchange(harness: Harness) -> None:
    _, _, callback = await browse(await harness.stack.service.authorize_url(USER))
    await harness.stack.service.unlink(USER)
    status, page, _ = await browse(callback)
    assert status == 400 and SpotifyLinkRejected.user_message in page
    assert len(harness.spotify.token_requests) == 1
    assert not await harness.stack.service.is_linked(USER)


async def test_an_expired_state_is_refused_without_a_token_exchange(harness: Harness) -> None:
    authorize = await harness.stack.service.authorize_url(USER)
    # Ten minutes pass between /link-spotify and the callback.
    await harness.stack.db.conn.execute("UPDATE oauth_states SET expires_at = created_at")
    await harness.stack.db.conn.commit()
    status, page, _ = await browse(authorize)
    assert status == 400 and SpotifyLinkRejected.user_message in page
    assert harness.spotify.token_requests == []
    assert not await harness.stack.service.is_linked(USER)


async def test_declining_on_spotify_uses_up_the_state_and_exchanges_nothing(harness: Harness) -> None:
    harness.spotify.decline = True
    status, page, callback = await browse(await harness.stack.service.authorize_url(USER))
    assert "error=access_denied" in callback
    assert status == 200 and SpotifyLinkFailed.user_message in page
    assert harness.spotify.token_requests == []
    status, _, _ = await browse(callback)
    assert status == 400  # the state is spent


@pytest.mark.parametrize(
    "message",
    [
        "User not registered in the Developer Dashboard",
        "Check settings on developer.spotify.com/dashboard, the user may not be registered.",
        "User not approved for app",
        "Forbidden",  # whatever the wording: right after linking, a 403 from /me means this
    ],
)
async def test_an_account_not_on_the_apps_user_list_is_told_why(harness: Harness, message: str) -> None:
    harness.spotify.fail("GET /v1/me", 403, message=message)
    status, page, _ = await browse(await harness.stack.service.authorize_url(USER))
    assert status == 403 and SpotifyUserNotRegistered.user_message in page
    assert not await harness.stack.service.is_linked(USER)
    assert harness.linked.empty()


@pytest.mark.parametrize(("route", "status"), [("POST /api/token", 503), ("GET /v1/me", 401)])
async def test_a_link_that_fails_says_to_run_the_command_again(harness: Harness, route: str, status: int) -> None:
    harness.spotify.fail(route, status, times=5)
    answer, page, _ = await browse(await harness.stack.service.authorize_url(USER))
    assert answer == 502 and LINK_FAILED_PAGE in page and "Traceback" not in page
    assert "Run /link-spotify again in a minute" in page and "saving" not in page
    assert not await harness.stack.service.is_linked(USER)


async def _name_listener(user_id: int) -> str | None:
    return "listener" if user_id == USER else None


async def _no_discord(user_id: int) -> str | None:
    raise ConnectionError("Discord is unreachable")


@pytest.mark.parametrize(
    ("name_user", "expected"),
    [(_name_listener, linked_page("listener")), (_no_discord, LINKED_PAGE), (None, LINKED_PAGE)],
)
async def test_the_linked_page_names_the_discord_account(harness: Harness, expected: str) -> None:
    status, page, _ = await browse(await harness.stack.service.authorize_url(USER))
    assert status == 200 and page.count("<p>") == 1 and f"<p>{expected}</p>" in page
    assert await harness.stack.service.is_linked(USER)


def test_linked_page_wording() -> None:
    assert linked_page(None) == LINKED_PAGE
    named = linked_page("listener")
    assert named.startswith(LINKED_PAGE) and "Discord user @listener" in named


async def test_a_visit_without_code_or_state_is_turned_away(harness: Harness) -> None:
    status, page, _ = await browse(harness.callback_url)
    assert status == 400 and NOT_FOR_YOU in page
    assert harness.spotify.requests == []


async def test_a_failing_discord_notice_does_not_spoil_the_page(tmp_path: Path) -> None:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/cb"

    async def broken(user_id: int) -> None:
        raise RuntimeError("DMs closed")

    async with (
        SpotifyDouble.running() as spotify,
        spotify_stack(tmp_path / "m.db", spotify, redirect_uri=redirect_uri) as stack,
    ):
        server = OAuthCallbackServer(stack.service, host="127.0.0.1", port=port, path="/cb", on_linked=broken)
        await server.start()
        try:
            status, page, _ = await browse(await stack.service.authorize_url(USER))
            await asyncio.sleep(0.05)
        finally:
            await server.stop()
    assert status == 200 and LINKED_PAGE in page


async def test_the_notice_edits_the_link_reply_and_sends_a_dm_even_when_the_edit_fails() -> None:
    user = MagicMock(spec_set=discord.User)
    user.send = AsyncMock()
    client = MagicMock(spec_set=discord.Client)
    client.get_user.return_value = user
    prompts = LinkPrompts()
    asked = MagicMock(spec_set=discord.Interaction)
    asked.user.id = USER
    asked.edit_original_response = AsyncMock()
    prompts.remember(asked)
    notify = discord_notifier(client, prompts)

    await notify(USER)
    asked.edit_original_response.assert_awaited_once_with(content=LINKED_PROMPT, view=None)
    user.send.assert_awaited_once_with(LINKED_DM)

    dismissed = MagicMock(spec_set=discord.Interaction)
    dismissed.user.id = USER
    gone = discord.NotFound(MagicMock(status=404, reason="Not Found"), {"code": 10008, "message": "Unknown Message"})
    dismissed.edit_original_response = AsyncMock(side_effect=gone)
    prompts.remember(dismissed)
    await notify(USER)
    dismissed.edit_original_response.assert_awaited_once()
    assert user.send.await_count == 2  # the DM went anyway
