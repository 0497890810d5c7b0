"""/prefs end to end: a language chosen from the autocomplete survives a restart of the bot."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartBot
from tests.fakes.discord_server import AUTOCOMPLETE_RESULT, CHANNEL_MESSAGE, Callback, FakeDiscord

pytestmark = pytest.mark.e2e


def language_field(answer: Callback) -> str | None:
    fields = answer.data["embeds"][0].get("fields", [])
    return next((f["value"] for f in fields if f["name"] == "Language"), None)


async def test_a_language_set_with_prefs_is_still_there_after_a_restart(
    discord_double: FakeDiscord, start_bot: StartBot
) -> None:
    user = discord_double.make_user("listener")
    async with start_bot():
        typed = await discord_double.autocomplete("prefs", {"language": ""}, focused="language", user=user)
        suggestions = await discord_double.wait_for_callback(typed.id)
        assert suggestions.type == AUTOCOMPLETE_RESULT
        choices = suggestions.data["choices"]
        assert 1 <= len(choices) <= 25
        code = choices[-1]["value"]  # not the most common language, so a default could not pass for it

        chosen = await discord_double.slash_command("prefs", {"language": code}, user=user)
        answer = await discord_double.wait_for_callback(chosen.id)
        assert answer.type == CHANNEL_MESSAGE and answer.ephemeral
        shown = language_field(answer)
        assert shown is not None and shown.endswith(f"({code})")

    async with start_bot():  # a new MoodBot on the same database file
        asked = await discord_double.slash_command("prefs", user=user)
        answer = await discord_double.wait_for_callback(asked.id)
        assert answer.ephemeral
        assert language_field(answer) == shown

        other = await discord_double.slash_command("prefs", user=discord_double.make_user("someone-else"))
        assert language_field(await discord_double.wait_for_callback(other.id)) is None


async def test_an_unknown_language_is_refused_politely(discord_double: FakeDiscord, start_bot: StartBot) -> None:
    async with start_bot():
        sent = await discord_double.slash_command("prefs", {"language": "klingon"})
        answer = await discord_double.wait_for_callback(sent.id)
        assert answer.type == CHANNEL_MESSAGE and answer.ephemeral
        assert "klingon" in answer.data["content"] and "Traceback" not in answer.data["content"]
