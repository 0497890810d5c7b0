"""The conversation and playlist views, pressed with spec_set interaction mocks against a real MoodPipeline.

Every control is a dynamic item: the tests press the item in the view (a live conversation) and the item that
discord.py rebuilds from a custom_id alone (`rebuilt`: after the conversation ended or the bot restarted).
"""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import discord
import pytest

from bot.pipeline import MAX_AGE_SECONDS, MoodPipeline, NotYourSession, SessionExpired
from cogs.utils.spotify import SaveToSpotifyButton
from cogs.utils.views import (
    DYNAMIC_ITEMS,
    NOT_YOUR_MIX,
    ConversationView,
    FeelSelect,
    GoalButton,
    NewMixButton,
    PlaylistView,
    RateButton,
    TellMoreButton,
    TellMoreModal,
)
from inference.types import EMOTIONS
from mood.conversation import ChooseGoal, CorrectEmotion, TellMore
from mood.profile import Goal
from storage.mixes import MixRepository
from tests.helpers import Clock, FakeEngine, FakeReader, FakeRecommender, mock_interaction, reading

OWNER = 42
Control = discord.ui.DynamicItem[Any]


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def new_pipeline(engine: FakeEngine, mixes: MixRepository, clock: Clock) -> MoodPipeline:
    return MoodPipeline(
        reader=FakeReader(reading()), engine=engine, recommender=FakeRecommender(), mixes=mixes, clock=clock
    )


@pytest.fixture
def pipeline(engine: FakeEngine, mixes: MixRepository, clock: Clock) -> MoodPipeline:
    return new_pipeline(engine, mixes, clock)


def press(user_id: int, pipeline: MoodPipeline) -> MagicMock:
    """An interaction from `user_id` on a bot whose pipeline is `pipeline` (where a rebuilt item finds it)."""
    interaction = mock_interaction(user_id)
    interaction.client.services.pipeline = pipeline
    return interaction


async def rebuilt(custom_id: str, interaction: MagicMock, values: list[str] | None = None) -> Control:
    """What discord.py does with a press that no live view holds: the one registered class whose template matches
    the custom_id builds the item (`from_custom_id`), which then gets the interaction's state."""
    found = [(cls, m) for cls in DYNAMIC_ITEMS if (m := cls.__discord_ui_compiled_template__.fullmatch(custom_id))]
    assert len(found) == 1, f"{custom_id!r} matches {[cls.__name__ for cls, _ in found]}"
    cls, match = found[0]
    item = await cls.from_custom_id(interaction, discord.ui.Button(custom_id=custom_id), match)
    assert item.custom_id == custom_id
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": item.type.value}
    if values is not None:
        data["values"] = values
    item._refresh_state(interaction, data)
    return item


async def _view(pipeline: MoodPipeline) -> tuple[str, ConversationView]:
    session_id, _ = await pipeline.open(OWNER, reading())
    return session_id, ConversationView(pipeline, session_id)


def _name(control: Control) -> str:
    item = control.item
    if isinstance(item, discord.ui.Select):
        return str(item.placeholder)
    return str(item.emoji) if item.emoji else str(item.label)


def _names(view: discord.ui.View) -> list[str]:
    return [_name(c) for c in view.children if isinstance(c, discord.ui.DynamicItem)]


def _control(view: discord.ui.View, name: str) -> Control:
    return next(c for c in view.children if isinstance(c, discord.ui.DynamicItem) and _name(c) == name)


def _refused(interaction: MagicMock, message: str) -> None:
    """Answered with `message`, ephemerally, and nothing public before it."""
    interaction.response.send_message.assert_awaited_once_with(message, ephemeral=True)
    interaction.response.defer.assert_not_awaited()
    interaction.response.send_modal.assert_not_awaited()
    interaction.followup.send.assert_not_awaited()


async def test_conversation_view_offers_goals_a_correction_and_tell_me_more(pipeline: MoodPipeline) -> None:
    session_id, view = await _view(pipeline)
    assert _names(view) == [
        "Stay with it",
        "Lift me up",
        "Calm down",
        "Energize",
        "Not quite: I feel...",
        "Tell me more",
    ]
    select = _control(view, "Not quite: I feel...").item
    assert isinstance(select, discord.ui.Select)
    assert [o.value for o in select.options] == list(EMOTIONS)
    assert [c.custom_id for c in view.children] == [  # type: ignore[attr-defined]
        *(f"mood:goal:{goal}:{session_id}" for goal in ("stay", "lift", "calm", "energize")),
        f"mood:feel:{session_id}",
        f"mood:more:{session_id}",
    ]
    rows = [[c["custom_id"].split(":")[1] for c in row["components"]] for row in view.to_components()]
    assert rows == [["goal", "goal", "goal", "goal"], ["feel"], ["more"]]
    # discord.py routes dynamic items by custom_id, not through the view: a timeout would only keep a timer running.
    assert view.timeout is None


async def test_goal_button_defers_then_sends_the_playlist_with_feedback_buttons(
    pipeline: MoodPipeline, engine: FakeEngine, mixes: MixRepository
) -> None:
    session_id, view = await _view(pipeline)
    interaction = mock_interaction(OWNER)
    await _control(view, "Lift me up").callback(interaction)
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    assert engine.opened[0].events == [ChooseGoal(Goal.LIFT)]
    kwargs = interaction.followup.send.await_args.kwargs
    embed, playlist_view = kwargs["embed"], kwargs["view"]
    assert embed.title == "Rainy Window" and "Going lift." in embed.description
    assert isinstance(playlist_view, PlaylistView) and playlist_view.timeout is None
    assert _names(playlist_view) == ["👍", "👎", "New mix", "Save to Spotify"]
    mix_id = playlist_view.mix_id
    assert mix_id is not None and await mixes.get(mix_id) is not None
    assert [c.custom_id for c in playlist_view.children] == [  # type: ignore[attr-defined]
        f"mix:rate:1:{mix_id}",
        f"mix:rate:-1:{mix_id}",
        f"mix:new:{mix_id}:{session_id}",
        f"spotify:save:{mix_id}",
    ]


async def test_another_users_press_is_refused_before_anything_public(
    pipeline: MoodPipeline, engine: FakeEngine
) -> None:
    _, view = await _view(pipeline)
    stranger = mock_interaction(user_id=7)
    await _control(view, "Calm down").callback(stranger)
    _refused(stranger, NotYourSession.user_message)
    assert engine.opened[0].events == []


async def test_not_quite_select_corrects_the_emotion(pipeline: MoodPipeline, engine: FakeEngine) -> None:
    _, view = await _view(pipeline)
    select = _control(view, "Not quite: I feel...")
    interaction = mock_interaction(OWNER)
    select._refresh_state(interaction, {"custom_id": select.custom_id, "component_type": 3, "values": ["angry"]})
    await select.callback(interaction)
    assert engine.opened[0].events == [CorrectEmotion("angry")]
    assert "Ah, angry." in interaction.followup.send.await_args.kwargs["embed"].description


async def test_tell_me_more_opens_a_modal_whose_text_is_a_turn(pipeline: MoodPipeline, engine: FakeEngine) -> None:
    _, view = await _view(pipeline)
    opened = mock_interaction(OWNER)
    await _control(view, "Tell me more").callback(opened)
    modal = opened.response.send_modal.await_args.args[0]
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
    await _control(view, "👎").callback(owner)
    owner.response.send_message.assert_awaited_once_with("Noted: I'll steer away from that.", ephemeral=True)
    assert [rating for _, rating in await mixes.feedback(OWNER)] == [-1]
    stranger = mock_interaction(7)
    await _control(view, "👍").callback(stranger)
    stranger.response.send_message.assert_awaited_once_with(NOT_YOUR_MIX, ephemeral=True)
    assert await mixes.feedback(7) == []


async def test_new_mix_sends_another_playlist_without_the_previous_tracks(pipeline: MoodPipeline) -> None:
    session_id, _ = await pipeline.open(OWNER, reading())
    first = await pipeline.mix(session_id, OWNER)
    view = PlaylistView(pipeline, session_id, first.mix_id)
    interaction = mock_interaction(OWNER)
    await _control(view, "New mix").callback(interaction)
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    kwargs = interaction.followup.send.await_args.kwargs
    shown = "\n".join(str(f.value) for f in kwargs["embed"].fields)
    assert all(f"[{item.track.title} — " not in shown for item in first.playlist.tracks)
    assert kwargs["view"].mix_id not in (None, first.mix_id)


async def test_playlist_view_without_mix_id_only_offers_a_new_mix(pipeline: MoodPipeline) -> None:
    view = PlaylistView(pipeline, "session", None)
    assert _names(view) == ["New mix"]
    assert [c.custom_id for c in view.children] == ["mix:new::session"]  # type: ignore[attr-defined]


async def test_a_bot_without_spotify_settings_offers_no_save_button(pipeline: MoodPipeline) -> None:
    _, view = await _view(pipeline)
    interaction = mock_interaction(OWNER)
    interaction.client.services.spotify = None  # what build_services leaves without Spotify settings
    await _control(view, "Lift me up").callback(interaction)
    playlist_view = interaction.followup.send.await_args.kwargs["view"]
    assert _names(playlist_view) == ["👍", "👎", "New mix"]


# ------------------------------------------------------------------------ items rebuilt from their custom_id alone


async def test_every_control_is_rebuilt_from_its_custom_id_by_exactly_one_registered_class(
    pipeline: MoodPipeline,
) -> None:
    session_id, conversation = await _view(pipeline)
    mix_id = (await pipeline.mix(session_id, OWNER)).mix_id
    playlist = PlaylistView(pipeline, session_id, mix_id)
    controls = [*conversation.children, *playlist.children, *PlaylistView(pipeline, session_id, None).children]
    interaction = press(OWNER, pipeline)
    for control in controls:
        assert isinstance(control, discord.ui.DynamicItem)
        if isinstance(control, SaveToSpotifyButton):  # cogs/spotify.py registers it
            continue
        item = await rebuilt(control.custom_id, interaction)
        assert type(item) is type(control) and type(control) in DYNAMIC_ITEMS
        assert _name(item) == _name(control) and item.row == control.row and item.width == control.width
        assert item.pipeline is pipeline  # type: ignore[attr-defined]  # the bot's, from the interaction


async def test_a_custom_id_of_another_shape_is_left_to_others() -> None:
    for custom_id in ("mood:goal:sing:abc", "mood:more-modal:abc", "mix:rate:2:abc", "spotify:save:abc", "mood:feel:"):
        assert not any(cls.__discord_ui_compiled_template__.fullmatch(custom_id) for cls in DYNAMIC_ITEMS)


@pytest.mark.parametrize(
    ("custom_id", "values"),
    [
        ("mood:goal:lift:{session}", None),
        ("mood:feel:{session}", ["angry"]),
        ("mood:more:{session}", None),
        ("mix:new:{mix}:{session}", None),
    ],
)
async def test_after_a_restart_the_conversation_controls_say_it_has_ended(
    custom_id: str, values: list[str] | None, pipeline: MoodPipeline, engine: FakeEngine, mixes: MixRepository
) -> None:
    session_id, _ = await pipeline.open(OWNER, reading())
    mix_id = (await pipeline.mix(session_id, OWNER)).mix_id
    restarted = new_pipeline(engine, mixes, Clock())  # same database, no conversations in memory
    interaction = press(OWNER, restarted)
    item = await rebuilt(custom_id.format(session=session_id, mix=mix_id), interaction, values)
    await item.callback(interaction)
    _refused(interaction, SessionExpired.user_message)
    assert engine.opened[0].events == []


async def test_after_the_conversation_timed_out_a_goal_press_says_it_has_ended(
    pipeline: MoodPipeline, engine: FakeEngine, clock: Clock
) -> None:
    session_id, _ = await _view(pipeline)
    clock.now += MAX_AGE_SECONDS
    interaction = press(OWNER, pipeline)
    item = await rebuilt(f"mood:goal:calm:{session_id}", interaction)
    assert isinstance(item, GoalButton) and item.goal is Goal.CALM
    await item.callback(interaction)
    _refused(interaction, SessionExpired.user_message)
    assert engine.opened[0].events == []


async def test_after_a_restart_a_live_conversations_controls_still_work_when_rebuilt(
    pipeline: MoodPipeline, engine: FakeEngine
) -> None:
    """The live case goes through the rebuilt item too (discord.py routes every press of a dynamic item so)."""
    session_id, _ = await _view(pipeline)
    select = press(OWNER, pipeline)
    await (await rebuilt(f"mood:feel:{session_id}", select, ["fear"])).callback(select)
    more = press(OWNER, pipeline)
    await (await rebuilt(f"mood:more:{session_id}", more)).callback(more)
    assert engine.opened[0].events == [CorrectEmotion("fear")]
    assert isinstance(more.response.send_modal.await_args.args[0], TellMoreModal)
    new = press(OWNER, pipeline)
    item = await rebuilt(f"mix:new::{session_id}", new)
    assert isinstance(item, NewMixButton)
    await item.callback(new)
    new.response.defer.assert_awaited_once_with(thinking=True)
    assert isinstance(new.followup.send.await_args.kwargs["view"], PlaylistView)


async def test_after_a_restart_ratings_still_work_for_the_owner_only(
    pipeline: MoodPipeline, engine: FakeEngine, mixes: MixRepository
) -> None:
    session_id, _ = await pipeline.open(OWNER, reading())
    mix_id = (await pipeline.mix(session_id, OWNER)).mix_id
    restarted = new_pipeline(engine, mixes, Clock())
    owner = press(OWNER, restarted)
    item = await rebuilt(f"mix:rate:1:{mix_id}", owner)
    assert isinstance(item, RateButton) and (item.mix_id, item.rating) == (mix_id, 1)
    await item.callback(owner)
    owner.response.send_message.assert_awaited_once_with("Glad it works for you: I'll lean that way.", ephemeral=True)
    assert [rating for _, rating in await mixes.feedback(OWNER)] == [1]
    stranger = press(7, restarted)
    await (await rebuilt(f"mix:rate:-1:{mix_id}", stranger)).callback(stranger)
    _refused(stranger, NOT_YOUR_MIX)
    assert await mixes.feedback(7) == []
    unknown = press(OWNER, restarted)
    await (await rebuilt("mix:rate:-1:0123456789abcdef", unknown)).callback(unknown)
    _refused(unknown, NOT_YOUR_MIX)


async def test_the_other_classes_rebuild_what_they_were_built_with(pipeline: MoodPipeline) -> None:
    interaction = press(OWNER, pipeline)
    assert isinstance(await rebuilt("mood:feel:abc", interaction), FeelSelect)
    assert isinstance(await rebuilt("mood:more:abc", interaction), TellMoreButton)
    new = await rebuilt("mix:new:m1:s1", interaction)
    assert isinstance(new, NewMixButton) and new.session_id == "s1"
