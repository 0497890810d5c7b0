"""/mood, its callback called directly with spec_set mocks: the size check, the defer, the reading embed, the chart
file and the conversation view; bad photos raise the typed error that the one error reply turns into a sentence."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import AsyncIterator, Mapping
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from PIL import Image

from bot.client import MoodBot
from bot.pipeline import MoodPipeline
from bot.services import Services
from bot.settings import Settings
from cogs.mood import MoodCog, setup
from cogs.utils.charts import emotion_chart
from cogs.utils.views import DYNAMIC_ITEMS, ConversationView
from inference.errors import ImageTooLarge, NoFaceFound
from storage.db import Database
from storage.preferences import PreferencesRepository
from tests.helpers import FakeEngine, FakeReader, FakeRecommender, mock_attachment, mock_interaction, reading

LIMIT = 1000


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader(reading("happy", 0.8))


@pytest.fixture
async def cog(engine: FakeEngine, reader: FakeReader) -> AsyncIterator[MoodCog]:
    async with await Database.open(":memory:") as db:
        prefs = PreferencesRepository(db.conn)
        await prefs.add_artist(42, "Adele")
        await prefs.set_language(42, "fr")
        pipeline = MoodPipeline(reader=reader, engine=engine, recommender=FakeRecommender())
        services = Services(
            settings=Settings(_env_file=None, max_image_bytes=LIMIT),  # type: ignore[call-arg]
            catalog=None,  # type: ignore[arg-type]  # /mood does not use the catalog
            reader=reader,  # type: ignore[arg-type]
            pipeline=pipeline,
            db=db,
            preferences=prefs,
        )
        yield MoodCog(services)


async def test_mood_defers_reads_and_answers_with_embed_chart_and_choices(
    cog: MoodCog, engine: FakeEngine, reader: FakeReader
) -> None:
    interaction = mock_interaction(42, locale="fr")
    selfie = mock_attachment(b"photo bytes")
    await cog.mood.callback(cog, interaction, selfie=selfie, note="long day")

    interaction.response.defer.assert_awaited_once_with(thinking=True)
    assert reader.seen == [b"photo bytes"]
    context = engine.opened[0].context
    assert (context.note, context.artists, context.language, context.locale) == ("long day", ("Adele",), "fr", "fr")

    kwargs = interaction.followup.send.await_args.kwargs
    embed, file, view = kwargs["embed"], kwargs["file"], kwargs["view"]
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Top emotion"] == "Happy (80%)"
    assert embed.description == "You look a little down."  # the conversation's first line
    assert embed.image.url == "attachment://emotions.png"
    assert isinstance(file, discord.File) and file.filename == "emotions.png"
    assert Image.open(io.BytesIO(file.fp.read())).format == "PNG"
    assert isinstance(view, ConversationView)
    assert len([c for c in view.children if isinstance(c.item, discord.ui.Button)]) == 5  # type: ignore[attr-defined]


async def test_the_chart_is_drawn_off_the_event_loop(cog: MoodCog, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn_on: list[threading.Thread] = []

    def recording_chart(scores: Mapping[str, float]) -> bytes:
        drawn_on.append(threading.current_thread())
        return emotion_chart(scores)

    monkeypatch.setattr("cogs.mood.emotion_chart", recording_chart)
    interaction = mock_interaction(42)
    await cog.mood.callback(cog, interaction, selfie=mock_attachment(b"photo"), note=None)
    assert len(drawn_on) == 1 and drawn_on[0] is not threading.current_thread()
    file = interaction.followup.send.await_args.kwargs["file"]
    assert Image.open(io.BytesIO(file.fp.read())).format == "PNG"


async def test_no_log_line_ties_a_user_to_their_emotion(cog: MoodCog, caplog: pytest.LogCaptureFixture) -> None:
    # Such a line would outlive /forget-me. Every level is captured, DEBUG included.
    caplog.set_level(logging.DEBUG)
    user_id = 987_654_321_012
    await cog.mood.callback(cog, mock_interaction(user_id), selfie=mock_attachment(b"photo"), note=None)
    mood_lines = [r.getMessage() for r in caplog.records if r.name == "cogs.mood"]
    assert mood_lines, "the reading is still logged, without the user"
    assert not [line for line in mood_lines if str(user_id) in line]
    assert all(r.levelno <= logging.DEBUG for r in caplog.records if r.name == "cogs.mood")


async def test_words_of_crisis_get_the_care_reply_and_no_choices(cog: MoodCog) -> None:
    interaction = mock_interaction(42)
    await cog.mood.callback(cog, interaction, selfie=mock_attachment(b"photo"), note="I feel hopeless")
    kwargs = interaction.followup.send.await_args.kwargs
    assert "findahelpline.com" in kwargs["embed"].description
    assert "view" not in kwargs


async def test_attachment_over_the_limit_is_refused_before_download(cog: MoodCog, reader: FakeReader) -> None:
    interaction = mock_interaction()
    selfie = mock_attachment(b"x", size=LIMIT + 1)
    with pytest.raises(ImageTooLarge):
        await cog.mood.callback(cog, interaction, selfie=selfie, note=None)
    selfie.read.assert_not_awaited()
    interaction.response.defer.assert_not_awaited()
    assert reader.seen == []


async def test_unreadable_photo_raises_the_typed_error_after_the_defer(cog: MoodCog, reader: FakeReader) -> None:
    reader.result = NoFaceFound()
    interaction = mock_interaction()
    with pytest.raises(NoFaceFound):
        await cog.mood.callback(cog, interaction, selfie=mock_attachment(b"landscape"), note=None)
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    interaction.followup.send.assert_not_awaited()


def test_mood_has_a_per_user_cooldown_and_the_documented_options(cog: MoodCog) -> None:
    command = cog.mood
    assert [p.name for p in command.parameters] == ["selfie", "note"]
    assert command.parameters[0].type is discord.AppCommandOptionType.attachment
    assert not command.parameters[1].required and command.parameters[1].max_value == 300
    assert len(command.checks) == 1  # the cooldown; its effect is tested through the tree in tests/bot/test_client.py


async def test_setup_registers_the_controls_so_that_old_messages_are_answered_after_a_restart(cog: MoodCog) -> None:
    bot = MagicMock(spec_set=MoodBot)
    bot.services = cog.services
    bot.add_cog = AsyncMock()
    await setup(bot)
    bot.add_dynamic_items.assert_called_once_with(*DYNAMIC_ITEMS)
    added = bot.add_cog.await_args.args[0]
    assert isinstance(added, MoodCog) and added.services is cog.services
