"""/history and /forget-me end to end: the real MoodBot, the real emotion model and recommender, Discord replaced by
the double. A mix made through /mood shows in /history with its chart; /forget-me, once confirmed, empties it."""

from __future__ import annotations

import io
import re

import pytest
from discord.utils import escape_markdown
from PIL import Image

from bot.pipeline import SessionExpired
from cogs.history import FORGET_PROMPT, NO_HISTORY, NOT_YOURS, SPOTIFY_STAYS
from cogs.utils.charts import MOOD_CHART_FILENAME
from tests.e2e.conftest import StartBot
from tests.fakes.discord_server import CHANNEL_MESSAGE, DEFERRED_UPDATE, FakeDiscord, SentMessage
from tests.fixtures import astronaut_png

pytestmark = pytest.mark.e2e


def custom_id_starting(message: SentMessage, prefix: str) -> str:
    matches = [c for c in message.custom_ids() if c.startswith(prefix)]
    assert len(matches) == 1, f"{prefix!r} in {message.custom_ids()}"
    return matches[0]


async def ask(double: FakeDiscord, command: str, user: dict[str, object]) -> SentMessage:
    """Run a slash command and return its answer, checked to be an immediate ephemeral message."""
    sent = await double.slash_command(command, user=user)
    callback = await double.wait_for_callback(sent.id)
    assert callback.type == CHANNEL_MESSAGE and callback.ephemeral, "personal answers are for the user's eyes only"
    return await double.wait_for_original(sent.token)


async def test_a_mix_shows_in_history_with_its_chart_until_forget_me_is_confirmed(
    discord_double: FakeDiscord, start_bot: StartBot
) -> None:
    user = discord_double.make_user("historian")
    async with start_bot():
        assert (await ask(discord_double, "history", user)).content == NO_HISTORY

        selfie = discord_double.upload("astronaut.png", astronaut_png())
        sent = await discord_double.slash_command("mood", {"selfie": selfie}, user=user)
        reading = await discord_double.wait_for_followup(sent.token, within=60)
        press = await discord_double.press(reading, custom_id_starting(reading, "mood:goal:lift:"), user=user)
        playlist = await discord_double.wait_for_followup(press.token, within=30)

        history = await ask(discord_double, "history", user)
        (mix,) = history.embeds[0]["fields"]
        assert mix["name"] == escape_markdown(playlist.embeds[0]["title"])
        assert re.fullmatch(r"<t:\d+:R> · felt \*\*[a-z]+\*\* · Lift me up · not rated", mix["value"]), mix["value"]
        chart = history.file(MOOD_CHART_FILENAME)
        assert history.embeds[0]["image"]["url"] == chart.url
        with Image.open(io.BytesIO(chart.data)) as image:
            assert image.format == "PNG" and image.width >= 200
        assert (await ask(discord_double, "history", discord_double.make_user("stranger"))).content == NO_HISTORY

        question = await ask(discord_double, "forget-me", user)
        assert question.content == FORGET_PROMPT
        confirm = custom_id_starting(question, "forget:confirm:")
        assert question.find_component(confirm)["label"] == "Delete everything"

        meddler = await discord_double.press(question, confirm, user=discord_double.make_user("meddler"))
        refused = await discord_double.wait_for_callback(meddler.id)
        assert refused.ephemeral and refused.data["content"] == NOT_YOURS
        assert len((await ask(discord_double, "history", user)).embeds[0]["fields"]) == 1  # nothing was deleted

        confirmed = await discord_double.press(question, confirm, user=user)
        assert (await discord_double.wait_for_callback(confirmed.id)).type == DEFERRED_UPDATE
        done = await discord_double.wait_for_original(confirmed.token, lambda m: m.content.startswith("Done"))
        assert "• 1 mix, with any rating you gave it" in done.content
        assert "• 1 conversation in progress" in done.content
        assert done.content.endswith(SPOTIFY_STAYS) and done.components == []  # the buttons are gone

        assert (await ask(discord_double, "history", user)).content == NO_HISTORY
        new_mix = await discord_double.press(playlist, custom_id_starting(playlist, "mix:new:"), user=user)
        ended = await discord_double.wait_for_callback(new_mix.id)
        assert ended.ephemeral and ended.data["content"] == SessionExpired.user_message
