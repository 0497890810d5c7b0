"""MoodBot: the `commands.Bot` that opens the database, builds the services once, loads the cogs and syncs the
slash commands. Slash commands only: it needs no privileged intent."""

from __future__ import annotations

import logging

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.oauth_server import OAuthCallbackServer, callback_path, discord_names, discord_notifier
from bot.services import Services, build_services
from bot.settings import Settings
from cogs.utils.errors import reply_error
from cogs.utils.spotify import LinkPrompts
from storage.db import Database

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = ("cogs.mood", "cogs.prefs", "cogs.spotify", "cogs.history")


def point_discord_at(settings: Settings) -> None:
    """Aim discord.py's REST routes and gateway at the configured servers (Discord, or a test double).

    discord.py reads both from class attributes, so this affects every client in the process.
    """
    discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class MoodTree(app_commands.CommandTree):
    """Sends every slash-command error through the one error reply."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        await reply_error(interaction, error)


class MoodBot(commands.Bot):
    """The bot. `await bot.start(token)` serves until `await bot.close()`; services exist from `setup_hook` on."""

    def __init__(self, settings: Settings) -> None:
        # MoodMix has no voice: otherwise discord.py logs two warnings about missing voice libraries at every start
        # (and `moodmix run` with a bad token could not fail in one line).
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            help_command=None,
            tree_cls=MoodTree,
            # Replies carry text from users and the LLM: never let it ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self.link_prompts = LinkPrompts()  # /link-spotify replies to edit once the link completes
        self._services: Services | None = None
        self._oauth_server: OAuthCallbackServer | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("MoodBot's services are built in setup_hook; start the bot first")
        return self._services

    async def setup_hook(self) -> None:
        """Open the database, build the services, load each cog (skipping, with a log line, one that fails), sync."""
        db = await Database.open(self.settings.moodmix_db_path)
        try:
            self._services = build_services(self.settings, db=db)
            await self._services.reader.ready()  # a model that cannot load stops the start in one line
        except BaseException:
            if self._services is not None:
                await self._services.close()
                self._services = None
            else:
                await db.close()
            raise
        await self._start_oauth_server()
        for extension in EXTENSIONS:
            try:
                await self.load_extension(extension)
            except commands.ExtensionError:
                log.exception("could not load %s; going on without it", extension)
        guild_id = self.settings.discord_guild_id
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands %s", len(synced), f"to guild {guild_id}" if guild_id else "globally")

    @property
    def spotify_linking(self) -> bool:
        """Whether users can link Spotify now: the OAuth callback server is serving."""
        return self._oauth_server is not None

    async def _start_oauth_server(self) -> None:
        """Serve the Spotify OAuth callback when Spotify is configured; a user who links is told in Discord."""
        spotify = self.services.spotify
        if spotify is None:
            missing = ", ".join(self.settings.spotify_missing)  # names only: never a value
            log.info("Spotify is not configured (missing %s): playlists come with listen links only", missing)
            return
        server = OAuthCallbackServer(
            spotify,
            host=self.settings.oauth_server_host,
            port=self.settings.oauth_server_port,
            path=callback_path(self.settings.spotify_redirect_uri),
            on_linked=discord_notifier(self, self.link_prompts),
            name_user=discord_names(self),
        )
        try:
            await server.start()
        except OSError:
            # A taken port must not keep MoodBot from serving /mood: linking waits until the port is free.
            log.exception("could not serve the Spotify OAuth callback on %s", self.settings.oauth_server_port)
            return
        self._oauth_server = server

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s)", self.user, self.user.id if self.user else "?")

    async def close(self) -> None:
        """Log out, then stop the inference workers and close the database."""
        await super().close()
        if self._oauth_server is not None:
            await self._oauth_server.stop()
            self._oauth_server = None
        if self._services is not None:
            await self._services.close()
            self._services = None
