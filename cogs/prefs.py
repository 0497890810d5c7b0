"""/prefs: favourite artists (up to five) and a music language, kept per user across restarts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.utils.embeds import prefs_embed
from music.catalog import LANGUAGE_NAMES
from storage.preferences import MAX_ARTISTS, PreferencesRepository, TooManyArtists

if TYPE_CHECKING:
    from bot.client import MoodBot
    from bot.services import Services

ARTIST_LIMIT = 100
CHOICES_LIMIT = 25  # Discord shows at most 25 autocomplete choices


class PrefsCog(commands.Cog):
    """The preferences command and its autocompletes."""

    def __init__(self, services: Services, preferences: PreferencesRepository) -> None:
        self.services = services
        self.preferences = preferences

    @app_commands.command(name="prefs", description="Your favourite artists and music language for mixes.")
    @app_commands.describe(
        artist=f"Add a favourite artist (up to {MAX_ARTISTS})",
        language="The language you'd like most songs in",
        clear="Forget your artists and language",
    )
    async def prefs(
        self,
        interaction: discord.Interaction,
        artist: app_commands.Range[str, 1, ARTIST_LIMIT] | None = None,
        language: str | None = None,
        clear: bool = False,
    ) -> None:
        """Show, change or clear the user's preferences; every answer is ephemeral."""
        user_id = interaction.user.id
        if clear:
            await self.preferences.clear(user_id)
        if language is not None:
            code = language.strip().lower()
            if code not in dict(self.services.catalog.languages()):
                await interaction.response.send_message(
                    f"I have no songs in “{language}” yet. Pick a language from the list as you type.",
                    ephemeral=True,
                )
                return
            await self.preferences.set_language(user_id, code)
        if artist is not None:
            try:
                await self.preferences.add_artist(user_id, artist)
            except TooManyArtists:
                await interaction.response.send_message(
                    f"You already have {MAX_ARTISTS} favourite artists. Use /prefs clear:True to start over.",
                    ephemeral=True,
                )
                return
        prefs = await self.preferences.get(user_id)
        name = LANGUAGE_NAMES.get(prefs.language) if prefs.language else None
        await interaction.response.send_message(embed=prefs_embed(prefs, name), ephemeral=True)

    @prefs.autocomplete("artist")
    async def artist_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Catalog artists whose name contains what the user typed."""
        typed = current.casefold().strip()
        found = [a for a in self.services.catalog.artists() if typed in a.casefold()]
        return [app_commands.Choice(name=a[:100], value=a[:ARTIST_LIMIT]) for a in found[:CHOICES_LIMIT]]

    @prefs.autocomplete("language")
    async def language_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Catalog languages, most songs first, as "Japanese (ja) — 52 songs"."""
        typed = current.casefold().strip()
        choices = []
        for code, count in self.services.catalog.languages():
            label = f"{LANGUAGE_NAMES.get(code, code)} ({code}) — {count} songs"
            if typed in label.casefold():
                choices.append(app_commands.Choice(name=label, value=code))
        return choices[:CHOICES_LIMIT]


async def setup(bot: MoodBot) -> None:
    preferences = bot.services.preferences
    if preferences is None:
        raise RuntimeError("/prefs needs the database")
    await bot.add_cog(PrefsCog(bot.services, preferences))
