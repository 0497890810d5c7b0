"""The Spotify OAuth callback web server, run by the bot itself (aiohttp) on OAUTH_SERVER_HOST:OAUTH_SERVER_PORT.

After /link-spotify, Spotify sends the user's browser to SPOTIFY_REDIRECT_URI with `?code=...&state=...` (or
`?error=access_denied&state=...` when they said no). The handler lets the service use up the state first: a state
that is forged, replayed or expired gets a short page and no token exchange. A good one is exchanged for tokens,
stored encrypted, and the user sees "Linked. You can go back to Discord." with the Discord account it was linked to
(`name_user`: a link opened by someone else shows a name that is not theirs), and is told in Discord too
(`on_linked`: the /link-spotify reply becomes "Linked ✓", and a DM).

Access logging is off: the callback's query string carries the code and the state.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import discord
from aiohttp import web

from cogs.utils.spotify import LinkPrompts
from music.spotify import SpotifyError, SpotifyLinkFailed, SpotifyLinkRejected, SpotifyService, SpotifyUserNotRegistered

log = logging.getLogger(__name__)

LinkedCallback = Callable[[int], Awaitable[None]]
NameLookup = Callable[[int], Awaitable[str | None]]
LINKED_PAGE = "Linked. You can go back to Discord."
NOT_FOR_YOU = "This page finishes linking Spotify to MoodMix. Run /link-spotify in Discord to start."
LINK_FAILED_PAGE = "Spotify didn't answer, so your account isn't linked yet. Run /link-spotify again in a minute."
LINKED_DM = "Your Spotify account is linked. Press **Save to Spotify** under a mix to keep it in your Spotify."
NAME_LOOKUP_SECONDS = 2.0  # the browser waits for the page meanwhile


def linked_page(discord_name: str | None) -> str:
    """The "Linked" page's text, naming the Discord account the Spotify account now belongs to when known."""
    if discord_name is None:
        return LINKED_PAGE
    return (
        f"{LINKED_PAGE} This Spotify account is now linked to the Discord user @{discord_name}. "
        "If that isn't you, remove MoodMix's access at spotify.com/account/apps."
    )


# The callback URL carries the code and the state: no caching, and no Referer that would pass it on.
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def _page(status: int, message: str) -> web.Response:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MoodMix</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body style="font-family: sans-serif; margin: 3em auto; max-width: 32em"><h1>MoodMix</h1>'
        f"<p>{html.escape(message, quote=False)}</p></body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html", charset="utf-8", headers=_HEADERS)


def callback_path(redirect_uri: str) -> str:
    """The path the server answers on: the one in SPOTIFY_REDIRECT_URI (e.g. `/spotify/callback`)."""
    return urlsplit(redirect_uri).path or "/"


class OAuthCallbackServer:
    """Serves the OAuth callback. `await start()` binds `host:port` (port 0 picks a free one), `await stop()` ends."""

    def __init__(
        self,
        service: SpotifyService,
        *,
        host: str,
        port: int,
        path: str,
        on_linked: LinkedCallback | None = None,
        name_user: NameLookup | None = None,
    ) -> None:
        self._service = service
        self._host = host
        self._port = port
        self._path = path
        self._on_linked = on_linked
        self._name_user = name_user
        self._runner: web.AppRunner | None = None
        self._notices: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port actually bound (useful when it was 0)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the OAuth callback server is not running")
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        """Bind and serve."""
        app = web.Application()
        app.router.add_get(self._path, self._callback)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        log.info("Spotify OAuth callback listening on http://%s:%s%s", self._host, self.port, self._path)

    async def stop(self) -> None:
        """Stop serving and cancel notices still being sent."""
        for task in list(self._notices):
            task.cancel()
        await asyncio.gather(*self._notices, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _callback(self, request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        code = request.query.get("code", "")
        declined = "error" in request.query
        if not state or not (code or declined):
            return _page(400, NOT_FOR_YOU)
        try:
            if declined:
                await self._service.decline_link(state)
                return _page(200, SpotifyLinkFailed.user_message)
            user_id = await self._service.complete_link(state, code)
        except SpotifyLinkRejected as exc:
            return _page(400, exc.user_message)
        except SpotifyUserNotRegistered as exc:
            return _page(403, exc.user_message)
        except SpotifyError as exc:
            # Spotify down, slow or refusing: its save-oriented sentences would not fit this page.
            log.warning("Spotify link failed: %s", exc.code)
            return _page(502, LINK_FAILED_PAGE)
        self._notify(user_id)
        return _page(200, linked_page(await self._discord_name(user_id)))

    async def _discord_name(self, user_id: int) -> str | None:
        if self._name_user is None:
            return None
        try:
            return await asyncio.wait_for(self._name_user(user_id), NAME_LOOKUP_SECONDS)
        except Exception:  # the link is done either way: a missing name only shortens the page
            log.info("could not look up the Discord name of user %s", user_id, exc_info=True)
            return None

    def _notify(self, user_id: int) -> None:
        # In the background: the browser gets its page at once, however slow Discord is.
        if self._on_linked is None:
            return
        task = asyncio.create_task(self._send_notice(self._on_linked, user_id))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    @staticmethod
    async def _send_notice(on_linked: LinkedCallback, user_id: int) -> None:
        try:
            await on_linked(user_id)
        except Exception:
            log.warning("could not tell user %s that Spotify is linked", user_id, exc_info=True)


def discord_notifier(client: discord.Client, prompts: LinkPrompts) -> LinkedCallback:
    """`on_linked` for the bot: the user's /link-spotify reply becomes "Linked ✓" while it can still be edited, and
    a DM tells them too (their DMs may be closed; the page told them anyway)."""

    async def notify(user_id: int) -> None:
        try:
            await prompts.mark_linked(user_id)
        except discord.HTTPException:  # dismissed or expired: the DM still goes
            log.info("could not edit the /link-spotify reply of user %s", user_id)
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        await user.send(LINKED_DM)

    return notify


def discord_names(client: discord.Client) -> NameLookup:
    """`name_user` for the bot: the Discord username of a user id (from the cache, else asked of Discord)."""

    async def name(user_id: int) -> str | None:
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        return user.name

    return name
