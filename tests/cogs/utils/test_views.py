"""The conversation and playlist views, pressed with spec_set interaction mocks against a real MoodPipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.pipeline import MoodPipeline, NotYourSession
from cogs.utils.views import ConversationView, PlaylistView, TellMoreModal
from inference.types import EMOTIONS
from mood.conversation import ChooseGoal, CorrectEmotion, TellMore
from mood.profile import Goal
from storage.db import Database
from storage.mixes import MixRepository
from tests.helpers import FakeEngine, FakeReader, FakeRecommender, mock_interaction, reading

OWNER = 42


@pytest.fixture
async def mixes() -> AsyncIterator[MixRepository]:
    async with await Database.open(":memory:") as db:
        yield MixRepository(db.conn)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def pipeline(engine: FakeEngine, mixes: MixRepository) -> MoodPipeline:
    return MoodPipeline(reader=FakeReader(reading()), engine=engine, recommender=FakeRecommender(), mixes=mixes)


async def _view(pipeline: MoodPipeline) -> tuple[str, ConversationView]:
    session_id, _ = await pipeline.open(OWNER, reading())
    return session_id, ConversationView(pipeline, session_id)


def _buttons(view: discord.ui.View) -> list[discord.ui.Button[discord.ui.View]]:
    """The view's buttons, unwrapping dynamic items (the Spotify button is one)."""
    items = [c.item if isinstance(c, discord.ui.DynamicItem) else c for c in view.children]
    return [i for i in items if isinstance(i, discord.ui.Button)]


def _name(button: discord.ui.Button[discord.ui.View]) -> str:
    return str(button.emoji) if button.emoji else str(button.label)


def _button(view: discord.ui.View, name: str) -> discord.ui.Button[discord.ui.View]:
    return next(b for b in _buttons(view) if _name(b) == name)


async def test_conversation_view_offers_goals_a_correction_and_tell_me_more(pipeline: MoodPipeline) -> None:
    session_id, view = await _view(pipeline)
    labels = [c.label for c in view.children if isinstance(c, discord.ui.Button)]
    assert labels == ["Stay with it", "Lift me up", "Calm down", "Energize", "Tell me more"]
    select = next(c for c in view.children if isinstance(c, discord.ui.Select))
    assert select.placeholder == "Not quite: I feel..."
    assert [o.value for o in select.options] == list(EMOTIONS)
    assert all(session_id in str(c.custom_id) for c in view.children)  # type: ignore[attr-defined]
    assert view.timeout == 15 * 60


async def test_goal_button_defers_then_sends_the_playlist_with_feedback_buttons(
    pipeline: MoodPipeline, engine: FakeEngine, mixes: MixRepository
) -> None:
    _, view = await _view(pipeline)
    interaction = mock_interaction(OWNER)
    await _button(view, "Lift me up").callback(interaction)
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    assert engine.opened[0].events == [ChooseGoal(Goal.LIFT)]
    kwargs = interaction.followup.send.await_args.kwargs
    embed, playlist_view = kwargs["embed"], kwargs["view"]
    assert embed.title == "Rainy Window" and "Going lift." in embed.description
    assert isinstance(playlist_view, PlaylistView)
    assert [_name(b) for b in _buttons(playlist_view)] == ["👍", "👎", "New mix", "Save to Spotify"]
    assert playlist_view.mix_id is not None and await mixes.get(playlist_view.mix_id) is not None


async def test_another_users_press_is_refused_before_anything_public(
    pipeline: MoodPipeline, engine: FakeEngine
) -> None:
    _, view = await _view(pipeline)
    stranger = mock_interaction(user_id=7)
    with pytest.raises(NotYourSession):
        await _button(view, "Calm down").callback(stranger)
    stranger.response.defer.assert_not_awaited()
    # discord.py hands the error to the view's on_error: the polite refusal is ephemeral.
    await view.on_error(stranger, NotYourSession(), _button(view, "Calm down"))
    stranger.response.send_message.assert_awaited_once_with(NotYourSession.user_message, ephemeral=True)
    assert engine.opened[0].events == []


async def test_not_quite_select_corrects_the_emotion(pipeline: MoodPipeline, engine: FakeEngine) -> None:
    _, view = await _view(pipeline)
    select = next(c for c in view.children if isinstance(c, discord.ui.Select))
    interaction = mock_interaction(OWNER)
    select._refresh_state(interaction, {"custom_id": select.custom_id, "component_type": 3, "values": ["angry"]})
    await select.callback(interaction)
    assert engine.opened[0].events == [CorrectEmotion("angry")]
    assert "Ah, angry." in interaction.followup.send.await_args.kwargs["embed"].description


async def test_tell_me_more_opens_a_modal_whose_text_is_a_turn(pipeline: MoodPipeline, engine: FakeEngine) -> None:
    _, view = await _view(pipeline)
    press = mock_interaction(OWNER)
    await _button(view, "Tell me more").callback(press)
    modal = press.response.send_modal.await_args.args[0]
    assert isinstance(modal, TellMoreModal)
    assert modal.text.style is discord.TextStyle.paragraph
    submit = mock_interaction(OWNER)
    modal.text._refresh_state(submit, {"type": 4, "custom_id": modal.text.custom_id, "value": "more jazz please"})
    await modal.on_submit(submit)
    assert engine.opened[0].events == [TellMore("more jazz please")]
    submit.response.defer.assert_awaited_once_with(thinking=True)
    assert isinstance(submit.followup.send.await_args.kwargs["view"], PlaylistView)


async def test_a_care_turn_shows_the_care_reply_and_no_playlist(pipeline: MoodPipeline) -> None:
    session_id, _ = await pipeline.open(OWNER, reading())
    modal = TellMoreModal(pipeline, session_id)
    submit = mock_interaction(OWNER)
    modal.text._refresh_state(submit, {"type": 4, "custom_id": modal.text.custom_id, "value": "I feel hopeless"})
    await modal.on_submit(submit)
    kwargs = submit.followup.send.await_args.kwargs
    assert "findahelpline.com" in kwargs["embed"].description
    assert "view" not in kwargs and not kwargs["embed"].fields


async def test_rating_buttons_thank_the_owner_and_refuse_others(pipeline: MoodPipeline, mixes: MixRepository) -> None:
    session_id, _ = await pipeline.open(OWNER, reading())
    result = await pipeline.mix(session_id, OWNER)
    view = PlaylistView(pipeline, session_id, result.mix_id)
    owner = mock_interaction(OWNER)
    await _button(view, "👎").callback(owner)
    assert owner.response.send_message.await_args.kwargs == {"ephemeral": True}
    assert [rating for _, rating in await mixes.feedback(OWNER)] == [-1]
    stranger = mock_interaction(7)
    await _button(view, "👍").callback(stranger)
    stranger.response.send_message.assert_awaited_once_with(
        "Only the person this mix was made for can rate it.", ephemeral=True
    )
    assert await mixes.feedback(7) == []


async def test_new_mix_sends_another_playlist_without_the_previous_tracks(pipeline: MoodPipeline) -> None:
    session_id, _ = await pipeline.open(OWNER, reading())
    first = await pipeline.mix(session_id, OWNER)
    view = PlaylistView(pipeline, session_id, first.mix_id)
    interaction = mock_interaction(OWNER)
    await _button(view, "New mix").callback(interaction)
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    kwargs = interaction.followup.send.await_args.kwargs
    shown = "\n".join(str(f.value) for f in kwargs["embed"].fields)
    assert all(f"[{item.track.title} — " not in shown for item in first.playlist.tracks)
    assert kwargs["view"].mix_id not in (None, first.mix_id)


async def test_playlist_view_without_mix_id_only_offers_a_new_mix(pipeline: MoodPipeline) -> None:
    view = PlaylistView(pipeline, "session", None)
    assert [_name(b) for b in _buttons(view)] == ["New mix"]
