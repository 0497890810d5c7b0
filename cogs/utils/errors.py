"""The one error reply of MoodMix's Discord side: short, ephemeral, says what to do; logged, never a traceback shown.

The command tree (`bot.client.MoodTree.on_error`), the views and the modals all call `reply_error`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

import discord
from discord import app_commands

from bot.pipeline import PipelineError
from inference.errors import InferenceError
from music.spotify import SpotifyError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on my side; please try again."


def user_message(error: BaseException) -> str:
    """The sentence a user sees for an error (the original one, when discord.py wrapped it)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, InferenceError | PipelineError | SpotifyError):
        return error.user_message
    if isinstance(error, app_commands.CommandOnCooldown):
        # Generic: the same cooldown error comes from /mood, /link-spotify and any command that gets one.
        return f"Slow down a little: try again in {max(1, round(error.retry_after))} s."
    return UNEXPECTED


async def reply_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, ephemerally, whatever state the interaction is in, and log it."""
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    message = user_message(cause)
    if message == UNEXPECTED:
        log.error("unexpected error for user %s", interaction.user.id, exc_info=cause)
    else:
        log.info("refused for user %s: %s", interaction.user.id, type(cause).__name__)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True)
            return
        if interaction.response.type == discord.InteractionResponseType.deferred_channel_message:
            # The public "thinking..." message would swallow an ephemeral followup: remove it first.
            await interaction.delete_original_response()
        await interaction.followup.send(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not send the error reply to user %s", interaction.user.id, exc_info=True)


async def answer_press(interaction: discord.Interaction, press: Awaitable[None]) -> None:
    """Run a press; any failure becomes the one short ephemeral reply. discord.py only logs what a dynamic item's
    callback raises (no view's `on_error` runs), and the user would be left with "This interaction failed"."""
    try:
        await press
    except Exception as error:
        await reply_error(interaction, error)
