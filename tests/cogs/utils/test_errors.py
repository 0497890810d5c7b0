"""The one error reply: ephemeral in every interaction state, the user's sentence for known errors, logged."""

from __future__ import annotations

import logging
from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands

from bot.pipeline import NotYourSession
from cogs.utils.errors import UNEXPECTED, reply_error, user_message
from inference.errors import NoFaceFound
from tests.helpers import mock_interaction


async def _mood(interaction: discord.Interaction) -> None:
    """A command for the wrapped errors to name."""


def _invoke_error(original: Exception) -> app_commands.CommandInvokeError:
    command = app_commands.Command(name="mood", description="test", callback=_mood)
    return app_commands.CommandInvokeError(command, original)


def test_user_messages() -> None:
    assert user_message(NoFaceFound("detail for logs")) == NoFaceFound.user_message
    assert user_message(_invoke_error(NotYourSession())) == NotYourSession.user_message
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 10.0), retry_after=6.4)
    assert user_message(cooldown) == "Slow down a little: try again in 6 s."
    assert user_message(KeyError("boom")) == UNEXPECTED


async def test_before_any_response_the_error_is_the_ephemeral_response() -> None:
    interaction = mock_interaction()
    await reply_error(interaction, NoFaceFound())
    interaction.response.send_message.assert_awaited_once_with(NoFaceFound.user_message, ephemeral=True)
    interaction.followup.send.assert_not_awaited()


async def test_after_a_public_defer_the_thinking_message_is_deleted_then_an_ephemeral_followup_sent() -> None:
    interaction = mock_interaction()
    calls: list[str] = []
    interaction.delete_original_response.side_effect = lambda: calls.append("delete")
    interaction.followup.send.side_effect = lambda *a, **k: calls.append("followup")
    await interaction.response.defer(thinking=True)
    await reply_error(interaction, _invoke_error(NoFaceFound()))
    assert calls == ["delete", "followup"]
    interaction.followup.send.assert_awaited_once_with(NoFaceFound.user_message, ephemeral=True)


async def test_after_a_modal_only_a_followup_is_sent() -> None:
    interaction = mock_interaction()
    await interaction.response.send_modal(MagicMock())
    await reply_error(interaction, NotYourSession())
    interaction.delete_original_response.assert_not_awaited()
    interaction.followup.send.assert_awaited_once_with(NotYourSession.user_message, ephemeral=True)


async def test_unexpected_errors_are_logged_with_the_exception_and_shown_generically(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = mock_interaction()
    with caplog.at_level(logging.INFO, logger="cogs.utils.errors"):
        await reply_error(interaction, _invoke_error(ZeroDivisionError("secret detail")))
    interaction.response.send_message.assert_awaited_once_with(UNEXPECTED, ephemeral=True)
    record = caplog.records[-1]
    assert record.levelno == logging.ERROR and isinstance(record.exc_info[1], ZeroDivisionError)  # type: ignore[index]


async def test_a_failing_error_reply_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    interaction = mock_interaction()
    interaction.response.send_message.side_effect = discord.HTTPException(MagicMock(status=404, reason="gone"), "gone")
    with caplog.at_level(logging.WARNING, logger="cogs.utils.errors"):
        await reply_error(interaction, NoFaceFound())
    assert "could not send the error reply" in caplog.text
