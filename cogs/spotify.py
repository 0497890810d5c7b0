"""/link-spotify and /unlink-spotify, and the "Save to Spotify" button's registration (cogs/utils/spotify.py).

Without Spotify settings both commands say plainly that saving to Spotify is not set up; the bot works without it.
When the OAuth callback server could not start (its port was taken), /link-spotify says linking is down for now
instead of handing out a link that leads nowhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.utils.spotify import LinkPrompts, SaveToSpotifyButton
from music.spotify import SpotifyNotConfigured, SpotifyService

if TYPE_CHECKING:
    from bot.client import MoodBot

LINK_COOLDOWN_SECONDS = 10.0
LINK_PROMPT = (
    "Open Spotify to let MoodMix save playlists to your account (it can create and fill playlists, nothing more). "
    "The link is yours alone, works once, and expires in 10 minutes."
)
UNLINKED = "Done: I forgot your Spotify tokens. Playlists already saved stay in your Spotify."
NOT_LINKED = "Your Spotify account isn't linked."
LINKING_DOWN = "Linking Spotify isn't available right now. Try again later; the listen links work meanwhile."


class SpotifyCog(commands.Cog):
    """Linking and unlinking a user's Spotify account. `spotify` is None when the bot has no Spotify settings;
    `linking` is False when the OAuth callback server is not serving; `prompts` keeps the replies to edit."""

    def __init__(self, spotify: SpotifyService | None, *, prompts: LinkPrompts, linking: bool = True) -> None:
        self.spotify = spotify
        self.prompts = prompts
        self.linking = linking

    @app_commands.command(name="link-spotify", description="Link your Spotify account so mixes can be saved to it.")
    @app_commands.checks.cooldown(1, LINK_COOLDOWN_SECONDS, key=lambda interaction: interaction.user.id)
    async def link_spotify(self, interaction: discord.Interaction) -> None:
        """Answer privately with a link button to Spotify's authorize page, for this user only."""
        if self.spotify is None:
            await interaction.response.send_message(SpotifyNotConfigured.user_message, ephemeral=True)
            return
        if not self.linking:
            await interaction.response.send_message(LINKING_DOWN, ephemeral=True)
            return
        url = await self.spotify.authorize_url(interaction.user.id)
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="Link Spotify", url=url))
        await interaction.response.send_message(LINK_PROMPT, view=view, ephemeral=True)
        self.prompts.remember(interaction)

    @app_commands.command(name="unlink-spotify", description="Forget your Spotify account.")
    async def unlink_spotify(self, interaction: discord.Interaction) -> None:
        """Forget the user's Spotify tokens."""
        if self.spotify is None:
            await interaction.response.send_message(SpotifyNotConfigured.user_message, ephemeral=True)
            return
        removed = await self.spotify.unlink(interaction.user.id)
        await interaction.response.send_message(UNLINKED if removed else NOT_LINKED, ephemeral=True)


async def setup(bot: MoodBot) -> None:
    # Registered here so that Save buttons under older messages keep working after a restart.
    bot.add_dynamic_items(SaveToSpotifyButton)
    await bot.add_cog(SpotifyCog(bot.services.spotify, prompts=bot.link_prompts, linking=bot.spotify_linking))
