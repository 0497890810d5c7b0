"""The Spotify OAuth callback web server, run by the bot itself (aiohttp) on OAUTH_SERVER_HOST:OAUTH_SERVER_PORT.

After /link-spotify, Spotify sends the user's browser to SPOTIFY_REDIRECT_URI with `?code=...&state=...` (or
`?error=access_denied&state=...` when they said no). The handler lets the service use up the state first: a state
that is forged, replayed or expired gets a short page and no token exchange. A good one is exchanged for tokens,
stored encrypted, and the user sees "Linked. You can go back to Discord." and is told in Discord too (`on_linked`).

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

from music.spotify import SpotifyError, SpotifyLinkFailed, SpotifyLinkRejected, SpotifyService, SpotifyUserNotRegistered

log = logging.getLogger(__name__)

LinkedCallback = Callable[[int], Awaitable[None]]
LINKED_PAGE = "Linked. You can go back to Discord."
NOT_FOR_YOU = "This page finishes linking Spotify to MoodMix. Run /link-spotify in Discord to start."
LINKED_DM = "Your Spotify account is linked. Press **Save to Spotify** under a mix to keep it in your Spotify."
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
    ) -> None:
        self._service = service
        self._host = host
        self._port = port
        self._path = path
        self._on_linked = on_linked
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
            log.warning("Spotify link failed: %s", exc.code)
            return _page(502, exc.user_message)
        self._notify(user_id)
        return _page(200, LINKED_PAGE)

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


def discord_notifier(client: discord.Client) -> LinkedCallback:
    """`on_linked` for the bot: a DM to the user who linked (their DMs may be closed; the page told them anyway)."""

    async def notify(user_id: int) -> None:
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        await user.send(LINKED_DM)

    return notify
