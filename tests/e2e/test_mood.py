"""/mood end to end: the real MoodBot, the real emotion model and recommender, Discord replaced by the double."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from bot.pipeline import SessionExpired
from bot.settings import Settings
from cogs.utils.charts import CHART_FILENAME
from cogs.utils.views import NOT_YOUR_MIX
from inference.errors import ImageTooLarge
from inference.types import EMOTIONS
from tests.e2e.conftest import StartBot
from tests.fakes.discord_server import (
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    MODAL,
    FakeDiscord,
    SentInteraction,
    SentMessage,
)
from tests.fixtures import astronaut_png

pytestmark = pytest.mark.e2e

TRACK_LINE = re.compile(r"^(\d+)\. \[.+\]\(https?://\S+\)", re.MULTILINE)


def track_numbers(message: SentMessage) -> list[int]:
    """The numbers of the track lines in a playlist embed's fields, in order."""
    fields = message.embeds[0].get("fields", [])
    return [int(n) for field in fields for n in TRACK_LINE.findall(field["value"])]


def assert_is_playlist(message: SentMessage) -> None:
    numbers = track_numbers(message)
    assert 10 <= len(numbers) <= 20, message.text
    assert numbers == list(range(1, len(numbers) + 1))  # in trajectory order, none dropped by the layout
    assert message.embeds[0]["title"], "a mix has a title"
    assert f"{len(numbers)} tracks" in message.embeds[0]["footer"]["text"]
    assert not message.ephemeral


async def send_selfie(double: FakeDiscord) -> tuple[SentInteraction, SentMessage]:
    """/mood with the astronaut; check the deferral and return the reading's message."""
    sent = await double.slash_command("mood", {"selfie": double.upload("astronaut.png", astronaut_png())})
    callback = await double.wait_for_callback(sent.id)
    assert callback.type == DEFERRED_CHANNEL_MESSAGE, "answer within 3 s by deferring: reading takes longer"
    assert callback.received_after < double.ack_deadline
    return sent, await double.wait_for_followup(sent.token, within=60)


def field(message: SentMessage, name: str) -> str:
    return next(f["value"] for f in message.embeds[0]["fields"] if f["name"] == name)


def top_emotion(reading: SentMessage) -> str:
    """The emotion the reading's "Top emotion" field names, checked to be one of the seven."""
    top = re.fullmatch(r"([A-Z][a-z]+) \((\d+)%\)", field(reading, "Top emotion"))
    assert top is not None and top.group(1).lower() in EMOTIONS, reading.text
    return top.group(1).lower()


def custom_id_starting(message: SentMessage, prefix: str) -> str:
    matches = [c for c in message.custom_ids() if c.startswith(prefix)]
    assert len(matches) == 1, f"{prefix!r} in {message.custom_ids()}"
    return matches[0]


async def test_mood_reads_the_selfie_and_answers_with_the_reading_its_chart_and_the_choices(
    discord_double: FakeDiscord, start_bot: StartBot
) -> None:
    async with start_bot():
        registered = {c["name"]: c for c in discord_double.guild_commands[discord_double.guild_id]}
        assert {"mood", "prefs"} <= set(registered)
        selfie_option = registered["mood"]["options"][0]
        assert (selfie_option["name"], selfie_option["type"]) == ("selfie", 11)  # an attachment
        privileged = 1 << 1 | 1 << 8 | 1 << 15  # members, presences, message content
        assert discord_double.identify_payloads[0]["intents"] & privileged == 0, "slash commands need none"

        _, reading = await send_selfie(discord_double)

        assert not reading.ephemeral and not reading.loading
        embed = reading.embeds[0]
        label = top_emotion(reading)
        assert embed["title"] == f"You look {label}"
        runner_up = re.fullmatch(r"([A-Z][a-z]+) \((\d+)%\)", field(reading, "Runner-up"))
        assert runner_up is not None and runner_up.group(1).lower() in EMOTIONS
        assert runner_up.group(1).lower() != label
        assert embed["description"], "the conversation's first line"
        chart = reading.file(CHART_FILENAME)
        assert embed["image"]["url"] == chart.url  # the embed shows the attached chart
        with Image.open(io.BytesIO(chart.data)) as image:
            assert image.format == "PNG" and image.width >= 200 and image.height >= 7 * 20
        for goal in ("stay", "lift", "calm", "energize"):
            custom_id_starting(reading, f"mood:goal:{goal}:")
        custom_id_starting(reading, "mood:feel:")
        assert reading.find_component(custom_id_starting(reading, "mood:more:"))["label"] == "Tell me more"
        assert "Traceback" not in reading.text


async def test_the_smiling_astronaut_reads_as_happy(discord_double: FakeDiscord, start_bot: StartBot) -> None:
    """The shipped emotion model, through Discord: the sample selfie smiles."""
    async with start_bot():
        _, reading = await send_selfie(discord_double)
        assert top_emotion(reading) == "happy", reading.text


async def test_a_goal_button_answers_with_a_playlist_of_10_to_20_tracks(
    discord_double: FakeDiscord, start_bot: StartBot, settings: Settings
) -> None:
    async with start_bot():
        _, reading = await send_selfie(discord_double)

        press = await discord_double.press(reading, custom_id_starting(reading, "mood:goal:lift:"))
        callback = await discord_double.wait_for_callback(press.id)
        assert callback.type == DEFERRED_CHANNEL_MESSAGE

        playlist = await discord_double.wait_for_followup(press.token, within=30)
        assert_is_playlist(playlist)
        custom_id_starting(playlist, "mix:new:")
        rate_ids = [c for c in playlist.custom_ids() if c.startswith("mix:rate:")]
        assert len(rate_ids) == 2, "the mix was stored, so it can be rated"

        thumbs_up = await discord_double.press(playlist, next(c for c in rate_ids if c.startswith("mix:rate:1:")))
        thanks = await discord_double.wait_for_callback(thumbs_up.id)
        assert thanks.type == CHANNEL_MESSAGE and thanks.ephemeral

    # The mix and its scores were stored; the selfie was not (neither in the database nor beside it).
    stored = list(settings.moodmix_db_path.parent.iterdir())
    assert {p.name for p in stored} <= {"moodmix.db", "moodmix.db-wal", "moodmix.db-shm"}
    selfie = astronaut_png()
    assert not any(selfie[4096:4160] in p.read_bytes() for p in stored)


async def test_tell_me_more_opens_a_modal_whose_answer_shapes_the_next_turn(
    discord_double: FakeDiscord, start_bot: StartBot
) -> None:
    async with start_bot():
        _, reading = await send_selfie(discord_double)

        press = await discord_double.press(reading, custom_id_starting(reading, "mood:more:"))
        modal = await discord_double.wait_for_callback(press.id)
        assert modal.type == MODAL and modal.data["title"] == "Tell me more"

        submit = await discord_double.submit_modal(
            modal, {"mood:more-text": "Long week. Something calm and slow to wind down, please."}
        )
        assert (await discord_double.wait_for_callback(submit.id)).type == DEFERRED_CHANNEL_MESSAGE
        answer = await discord_double.wait_for_followup(submit.token, within=30)
        assert_is_playlist(answer)


async def test_someone_else_cannot_steer_your_conversation(discord_double: FakeDiscord, start_bot: StartBot) -> None:
    async with start_bot():
        _, reading = await send_selfie(discord_double)
        stranger = discord_double.make_user("stranger")

        press = await discord_double.press(reading, custom_id_starting(reading, "mood:goal:stay:"), user=stranger)
        refusal = await discord_double.wait_for_callback(press.id)
        assert refusal.type == CHANNEL_MESSAGE and refusal.ephemeral
        assert "someone else" in refusal.data["content"]


async def test_a_photo_over_the_size_limit_is_refused_before_any_work(
    discord_double: FakeDiscord, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        too_big = b"\xff\xd8\xff" + bytes(bot.settings.max_image_bytes)
        sent = await discord_double.slash_command("mood", {"selfie": discord_double.upload("big.jpg", too_big)})

        callback = await discord_double.wait_for_callback(sent.id)
        assert callback.type == CHANNEL_MESSAGE and callback.ephemeral  # answered at once: no "thinking..."
        assert callback.data["content"] == ImageTooLarge.user_message
        assert not any(r.path.startswith("/attachments/") for r in discord_double.requests), "never downloaded"


async def test_after_a_restart_old_buttons_answer_instead_of_failing(
    discord_double: FakeDiscord, start_bot: StartBot
) -> None:
    async with start_bot():
        _, reading = await send_selfie(discord_double)
        press = await discord_double.press(reading, custom_id_starting(reading, "mood:goal:lift:"))
        playlist = await discord_double.wait_for_followup(press.token, within=30)
        assert_is_playlist(playlist)

    async with start_bot() as bot:  # a new MoodBot on the same database: the conversation is gone, the mix is kept
        presses = [
            await discord_double.press(reading, custom_id_starting(reading, "mood:goal:calm:")),
            await discord_double.press(reading, custom_id_starting(reading, "mood:feel:"), values=["sad"]),
            await discord_double.press(reading, custom_id_starting(reading, "mood:more:")),
            await discord_double.press(playlist, custom_id_starting(playlist, "mix:new:")),
        ]
        for sent in presses:
            ended = await discord_double.wait_for_callback(sent.id)
            assert ended.type == CHANNEL_MESSAGE and ended.ephemeral, ended
            assert ended.data["content"] == SessionExpired.user_message
            assert ended.data["content"].startswith("That conversation has ended")

        thumbs_up = await discord_double.press(playlist, custom_id_starting(playlist, "mix:rate:1:"))
        thanks = await discord_double.wait_for_callback(thumbs_up.id)
        assert thanks.type == CHANNEL_MESSAGE and thanks.ephemeral
        assert thanks.data["content"] == "Glad it works for you: I'll lean that way."
        stranger = discord_double.make_user("stranger")
        other = await discord_double.press(playlist, custom_id_starting(playlist, "mix:rate:-1:"), user=stranger)
        refusal = await discord_double.wait_for_callback(other.id)
        assert refusal.ephemeral and refusal.data["content"] == NOT_YOUR_MIX
        assert bot.services.mixes is not None
        assert [rating for _, rating in await bot.services.mixes.feedback(int(discord_double.default_user["id"]))] == [
            1
        ]
        assert await bot.services.mixes.feedback(int(stranger["id"])) == []
