"""/history and /forget-me, their callbacks called directly with spec_set mocks: the history embed and its chart, the
empty history, and the confirmation (confirm, cancel, another user, timeout) that calls the forgetting service."""

from __future__ import annotations

import io
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from PIL import Image

from bot.services import Forgotten
from cogs.history import (
    CANCELLED,
    CONFIRM_TIMEOUT_SECONDS,
    EXPIRED,
    FORGET_PROMPT,
    NO_HISTORY,
    NOT_YOURS,
    SPOTIFY_STAYS,
    ForgetMeView,
    HistoryCog,
    forgotten_message,
)
from cogs.utils.charts import Point, mood_chart
from cogs.utils.errors import UNEXPECTED
from storage.db import Database
from storage.mixes import MixRepository
from storage.spotify import SpotifyForgotten
from tests.helpers import mock_interaction

REPORT = Forgotten(preferences=True, mixes=3, spotify=SpotifyForgotten(True, 1, 0), conversations=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 3600.0
        return self.now


@pytest.fixture
async def mixes() -> AsyncIterator[MixRepository]:
    async with await Database.open(":memory:") as db:
        yield MixRepository(db.conn, clock=Clock())


@pytest.fixture
def forget() -> AsyncMock:
    return AsyncMock(return_value=REPORT)


@pytest.fixture
def cog(mixes: MixRepository, forget: AsyncMock) -> HistoryCog:
    return HistoryCog(mixes, forget)


async def add_mix(
    mixes: MixRepository,
    user_id: int,
    title: str,
    *,
    emotion: str = "sad",
    goal: str | None = "lift",
    current: tuple[float, float] = (0.2, 0.3),
    target: tuple[float, float] = (0.8, 0.6),
) -> str:
    track = {"key": "k", "title": "Song", "artist": "Artist", "language": "en", "valence": 0.5, "energy": 0.5}
    return await mixes.add(
        user_id=user_id,
        emotion=emotion,
        scores={emotion: 0.9},
        goal=goal,
        current=current,
        target=target,
        title=title,
        story="A story",
        tracks=[track],
    )


async def test_history_lists_the_users_mixes_newest_first_with_a_png_chart(
    cog: HistoryCog, mixes: MixRepository
) -> None:
    first = await add_mix(mixes, 42, "Rainy *Window*")
    await add_mix(mixes, 7, "Someone else's mix")
    await add_mix(mixes, 42, "Wake Up", emotion="neutral", goal=None, current=(0.5, 0.5), target=(0.7, 0.9))
    await mixes.rate(42, first, 1)
    stored = {m.title: m for m in await mixes.recent(42)}

    interaction = mock_interaction(42)
    await cog.history.callback(cog, interaction)

    kwargs = interaction.response.send_message.await_args.kwargs
    assert kwargs["ephemeral"] is True
    embed, file = kwargs["embed"], kwargs["file"]
    assert [f.name for f in embed.fields] == ["Wake Up", "Rainy \\*Window\\*"]
    newest, oldest = (f.value for f in embed.fields)
    assert newest == f"<t:{int(stored['Wake Up'].created_at)}:R> · felt **neutral** · no goal chosen · not rated"
    assert oldest == f"<t:{int(stored['Rainy *Window*'].created_at)}:R> · felt **sad** · Lift me up · 👍"
    assert embed.image.url == "attachment://moods.png"
    assert isinstance(file, discord.File) and file.filename == "moods.png"
    with Image.open(io.BytesIO(file.fp.read())) as image:
        assert image.format == "PNG" and image.width == 480


async def test_the_mood_chart_is_drawn_off_the_event_loop(
    cog: HistoryCog, mixes: MixRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn_on: list[threading.Thread] = []

    def recording_chart(points: Sequence[tuple[Point, Point]]) -> bytes:
        drawn_on.append(threading.current_thread())
        return mood_chart(points)

    monkeypatch.setattr("cogs.history.mood_chart", recording_chart)
    await add_mix(mixes, 42, "Rainy Window")
    interaction = mock_interaction(42)
    await cog.history.callback(cog, interaction)
    assert len(drawn_on) == 1 and drawn_on[0] is not threading.current_thread()
    file = interaction.response.send_message.await_args.kwargs["file"]
    with Image.open(io.BytesIO(file.fp.read())) as image:
        assert image.format == "PNG"


async def test_history_shows_at_most_ten_mixes(cog: HistoryCog, mixes: MixRepository) -> None:
    for n in range(12):
        await add_mix(mixes, 42, f"Mix {n}")
    interaction = mock_interaction(42)
    await cog.history.callback(cog, interaction)
    fields = interaction.response.send_message.await_args.kwargs["embed"].fields
    assert [f.name for f in fields] == [f"Mix {n}" for n in range(11, 1, -1)]


async def test_empty_history_says_how_to_start(cog: HistoryCog, mixes: MixRepository) -> None:
    await add_mix(mixes, 7, "Not yours")
    interaction = mock_interaction(42)
    await cog.history.callback(cog, interaction)
    interaction.response.send_message.assert_awaited_once_with(NO_HISTORY, ephemeral=True)
    assert "/mood" in NO_HISTORY


async def ask_forget_me(cog: HistoryCog, user_id: int = 42) -> tuple[MagicMock, ForgetMeView]:
    """/forget-me; check the question and return its interaction and view."""
    asked = mock_interaction(user_id)
    await cog.forget_me.callback(cog, asked)
    call = asked.response.send_message.await_args
    assert call.args == (FORGET_PROMPT,) and call.kwargs["ephemeral"] is True
    view = call.kwargs["view"]
    assert isinstance(view, ForgetMeView)
    return asked, view


def buttons(view: ForgetMeView) -> dict[str, discord.ui.Button[Any]]:
    return {item.label or "": item for item in view.children if isinstance(item, discord.ui.Button)}


async def test_forget_me_asks_first_with_a_danger_button_and_a_cancel(cog: HistoryCog, forget: AsyncMock) -> None:
    asked, view = await ask_forget_me(cog)
    found = buttons(view)
    assert set(found) == {"Delete everything", "Cancel"}
    assert found["Delete everything"].style is discord.ButtonStyle.danger
    assert found["Cancel"].style is discord.ButtonStyle.secondary
    assert {b.custom_id for b in found.values()} == {f"forget:confirm:{asked.id}", f"forget:cancel:{asked.id}"}
    assert view.timeout == CONFIRM_TIMEOUT_SECONDS == 60.0
    forget.assert_not_awaited()  # asking deletes nothing


async def test_confirm_calls_the_service_and_says_what_was_deleted(cog: HistoryCog, forget: AsyncMock) -> None:
    _, view = await ask_forget_me(cog)
    pressed = mock_interaction(42)
    assert await view.interaction_check(pressed) is True
    await buttons(view)["Delete everything"].callback(pressed)

    forget.assert_awaited_once_with(42)
    pressed.response.defer.assert_awaited_once_with()
    pressed.edit_original_response.assert_awaited_once_with(content=forgotten_message(REPORT), view=None)
    assert view.is_finished()


async def test_cancel_deletes_nothing(cog: HistoryCog, forget: AsyncMock) -> None:
    _, view = await ask_forget_me(cog)
    pressed = mock_interaction(42)
    await buttons(view)["Cancel"].callback(pressed)
    pressed.response.edit_message.assert_awaited_once_with(content=CANCELLED, view=None)
    forget.assert_not_awaited()
    assert view.is_finished()


async def test_another_user_cannot_press_the_buttons(cog: HistoryCog, forget: AsyncMock) -> None:
    _, view = await ask_forget_me(cog, user_id=42)
    stranger = mock_interaction(99)
    assert await view.interaction_check(stranger) is False
    stranger.response.send_message.assert_awaited_once_with(NOT_YOURS, ephemeral=True)
    forget.assert_not_awaited()
    assert not view.is_finished()  # the owner can still answer


async def test_timeout_marks_the_question_expired_and_deletes_nothing(cog: HistoryCog, forget: AsyncMock) -> None:
    asked, view = await ask_forget_me(cog)
    await view.on_timeout()
    asked.edit_original_response.assert_awaited_once_with(content=EXPIRED, view=None)
    forget.assert_not_awaited()


async def test_an_error_under_the_buttons_gets_the_one_short_error_reply() -> None:
    view = ForgetMeView(AsyncMock(), mock_interaction(42))
    pressed = mock_interaction(42)
    await view.on_error(pressed, RuntimeError("disk I/O error"), buttons(view)["Delete everything"])
    pressed.response.send_message.assert_awaited_once_with(UNEXPECTED, ephemeral=True)


def test_the_report_counts_each_kind_of_record_and_keeps_spotify_playlists() -> None:
    text = forgotten_message(REPORT)
    assert text.splitlines()[1:6] == [
        "• 3 mixes, with any ratings you gave them",
        "• your preferences",
        "• your Spotify link (its tokens)",
        "• 1 saved-playlist record",
        "• 1 conversation in progress",
    ]
    assert "link request" not in text
    assert text.endswith(SPOTIFY_STAYS) and "stay there" in SPOTIFY_STAYS


def test_the_report_says_so_when_there_was_nothing() -> None:
    nothing = Forgotten(preferences=False, mixes=0, spotify=SpotifyForgotten(False, 0, 0), conversations=0)
    assert not nothing.anything
    assert forgotten_message(nothing).startswith("I kept nothing about you")
    one_state = Forgotten(preferences=False, mixes=0, spotify=SpotifyForgotten(False, 0, 2), conversations=0)
    assert "• 2 pending Spotify link requests" in forgotten_message(one_state)
