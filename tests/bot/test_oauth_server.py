"""The OAuth callback server, end to end on loopback: a browser (aiohttp client) goes to the Spotify double's authorize
page, is redirected to the real callback server, which exchanges the code through spotipy and stores the tokens.
Forged, replayed and expired states, and a refusal on Spotify's page, get a short page and no token exchange."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.oauth_server import LINKED_PAGE, NOT_FOR_YOU, OAuthCallbackServer, callback_path
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
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
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
            stack.service, host="127.0.0.1", port=port, path=callback_path(redirect_uri), on_linked=on_linked
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


async def test_an_account_not_on_the_apps_user_list_is_told_why(harness: Harness) -> None:
    harness.spotify.fail("GET /v1/me", 403)
    status, page, _ = await browse(await harness.stack.service.authorize_url(USER))
    assert status == 403 and "owner" in page
    assert SpotifyUserNotRegistered.code == "not_registered"
    assert not await harness.stack.service.is_linked(USER)
    assert harness.linked.empty()


async def test_spotify_down_during_the_exchange_gets_a_short_page(harness: Harness) -> None:
    harness.spotify.fail("POST /api/token", 503)
    status, page, _ = await browse(await harness.stack.service.authorize_url(USER))
    assert status == 502 and "Spotify" in page and "Traceback" not in page
    assert not await harness.stack.service.is_linked(USER)


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
