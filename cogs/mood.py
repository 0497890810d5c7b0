"""/mood: a selfie in, the reading and the start of a conversation out (buttons and modal in cogs/utils/views.py)."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.utils.charts import CHART_FILENAME, emotion_chart
from cogs.utils.embeds import reading_embed
from cogs.utils.views import DYNAMIC_ITEMS, ConversationView
from inference.errors import ImageTooLarge
from storage.preferences import Preferences

if TYPE_CHECKING:
    from bot.client import MoodBot
    from bot.services import Services

log = logging.getLogger(__name__)

NOTE_LIMIT = 300
COOLDOWN_SECONDS = 10.0


class MoodCog(commands.Cog):
    """The selfie command."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name="mood", description="Read the mood in a selfie and get a playlist for it.")
    @app_commands.describe(selfie="A photo of your face", note="Anything you'd like to add about how you feel")
    @app_commands.checks.cooldown(1, COOLDOWN_SECONDS, key=lambda interaction: interaction.user.id)
    async def mood(
        self,
        interaction: discord.Interaction,
        selfie: discord.Attachment,
        note: app_commands.Range[str, 1, NOTE_LIMIT] | None = None,
    ) -> None:
        """Read the selfie, open a conversation and answer with the reading, its chart and the choices."""
        if selfie.size > self.services.settings.max_image_bytes:
            # The size Discord reports is checked before anything is downloaded; the bytes are checked again later.
            raise ImageTooLarge(f"attachment of {selfie.size} bytes")
        await interaction.response.defer(thinking=True)
        data = await selfie.read()
        pipeline = self.services.pipeline
        reading = await pipeline.read(data)
        repo = self.services.preferences
        prefs = await repo.get(interaction.user.id) if repo is not None else Preferences()
        session_id, turn = await pipeline.open(
            interaction.user.id, reading, note=note, prefs=prefs, locale=str(interaction.locale)
        )
        # No user id: a log line that ties a person to an emotion would outlive /forget-me.
        log.debug("mood read: %s %.2f", reading.label, reading.confidence)
        # Drawing takes tens of milliseconds under load: off the event loop, like every other slow step.
        png = await asyncio.to_thread(emotion_chart, reading.scores)
        chart = discord.File(io.BytesIO(png), filename=CHART_FILENAME)
        if turn.care:  # words of crisis in the note: the care reply, and no choices that pitch a playlist
            await interaction.followup.send(embed=reading_embed(reading, turn), file=chart)
            return
        await interaction.followup.send(
            embed=reading_embed(reading, turn), file=chart, view=ConversationView(pipeline, session_id), wait=True
        )


async def setup(bot: MoodBot) -> None:
    # Registered here so that the buttons and the select under older messages are answered after a restart too.
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(MoodCog(bot.services))
