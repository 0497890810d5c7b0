"""The buttons, select and modal of the /mood conversation and of a playlist. Each press is one pipeline call;
every error goes to `reply_error`.

Each button and the select is a `discord.ui.DynamicItem`: its custom_id carries the session or mix id, and discord.py
routes a press by that custom_id alone (the classes are registered in cogs/mood.py's setup), never through the view
it was sent with. So a press on an old message, after the conversation ended or the bot restarted, still gets an
answer: the conversation controls and "New mix" say `SessionExpired`'s sentence, and 👍/👎 keep working for a stored
mix, for its owner only. Only the modal is tied to the running bot (it lives as long as the conversation).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.pipeline import MAX_AGE_SECONDS, MoodPipeline
from cogs.utils.embeds import care_embed, playlist_embed
from cogs.utils.errors import answer_press, reply_error
from cogs.utils.spotify import SaveToSpotifyButton, saving_offered
from inference.types import EMOTIONS
from mood.conversation import ChooseGoal, CorrectEmotion, TellMore, UserEvent
from mood.profile import Goal

if TYPE_CHECKING:
    from bot.client import MoodBot

GOAL_LABELS: dict[Goal, str] = {
    Goal.STAY: "Stay with it",
    Goal.LIFT: "Lift me up",
    Goal.CALM: "Calm down",
    Goal.ENERGIZE: "Energize",
}
RATINGS: dict[int, str] = {1: "👍", -1: "👎"}
NOT_YOUR_MIX = "Only the person this mix was made for can rate it."
TELL_MORE_LIMIT = 500

# The pieces of the custom_id templates. Session and mix ids are hex tokens; the templates only bound them, so that
# a custom_id stays well under Discord's 100 characters.
_ID = r"[0-9A-Za-z_-]{1,64}"
_SESSION = rf"(?P<session_id>{_ID})"
_MIX = rf"(?P<mix_id>{_ID})"


async def continue_conversation(
    interaction: discord.Interaction, pipeline: MoodPipeline, session_id: str, event: UserEvent
) -> None:
    """One more turn, answered with a new followup: the care reply, or the playlist made from the turn's profile."""
    pipeline.check(session_id, interaction.user.id)  # refuse other users before any public "thinking..."
    await interaction.response.defer(thinking=True)
    turn = await pipeline.answer(session_id, interaction.user.id, event)
    if turn.care:
        await interaction.followup.send(embed=care_embed(turn))
        return
    await send_mix(interaction, pipeline, session_id, turn.reply)


async def send_mix(
    interaction: discord.Interaction, pipeline: MoodPipeline, session_id: str, reply: str | None = None
) -> None:
    """Build a mix for the session and send it with its feedback buttons (the interaction is already deferred)."""
    result = await pipeline.mix(session_id, interaction.user.id)
    view = PlaylistView(pipeline, session_id, result.mix_id, spotify=saving_offered(interaction))
    await interaction.followup.send(embed=playlist_embed(result, reply), view=view, wait=True)


def _pipeline(interaction: discord.Interaction) -> MoodPipeline:
    """The bot's one pipeline: an item rebuilt from a press has no other way to it."""
    return cast("MoodBot", interaction.client).services.pipeline


class GoalButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"mood:goal:(?P<goal>{'|'.join(goal.value for goal in Goal)}):{_SESSION}",
):
    """One of the four goals (stay, lift, calm, energize): one more turn of the conversation."""

    def __init__(self, pipeline: MoodPipeline, session_id: str, goal: Goal) -> None:
        super().__init__(
            discord.ui.Button(
                label=GOAL_LABELS[goal],
                style=discord.ButtonStyle.primary,
                custom_id=f"mood:goal:{goal.value}:{session_id}",
                row=0,
            )
        )
        self.pipeline = pipeline
        self.session_id = session_id
        self.goal = goal

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> GoalButton:
        return cls(_pipeline(interaction), match["session_id"], Goal(match["goal"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        event = ChooseGoal(self.goal)
        await answer_press(interaction, continue_conversation(interaction, self.pipeline, self.session_id, event))


class FeelSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"mood:feel:{_SESSION}"):
    """The "Not quite: I feel..." select: corrects the emotion read from the selfie, as one more turn."""

    def __init__(self, pipeline: MoodPipeline, session_id: str) -> None:
        # No `row`: discord.py 2.7 loses a wrapped select's row (Select keeps it apart from the `_row` that
        # DynamicItem reads). A select fills a row, so it lands in row 1 anyway, below the goals.
        super().__init__(
            discord.ui.Select(
                placeholder="Not quite: I feel...",
                custom_id=f"mood:feel:{session_id}",
                options=[discord.SelectOption(label=emotion.capitalize(), value=emotion) for emotion in EMOTIONS],
            )
        )
        self.pipeline = pipeline
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeelSelect:
        return cls(_pipeline(interaction), match["session_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        event = CorrectEmotion(self.item.values[0])
        await answer_press(interaction, continue_conversation(interaction, self.pipeline, self.session_id, event))


class TellMoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"mood:more:{_SESSION}"):
    """The "Tell me more" button: opens `TellMoreModal` for free text."""

    def __init__(self, pipeline: MoodPipeline, session_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Tell me more", style=discord.ButtonStyle.secondary, custom_id=f"mood:more:{session_id}", row=2
            )
        )
        self.pipeline = pipeline
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TellMoreButton:
        return cls(_pipeline(interaction), match["session_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer_press(interaction, self._open_modal(interaction))

    async def _open_modal(self, interaction: discord.Interaction) -> None:
        self.pipeline.check(self.session_id, interaction.user.id)
        await interaction.response.send_modal(TellMoreModal(self.pipeline, self.session_id))


class RateButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"mix:rate:(?P<rating>1|-1):{_MIX}"):
    """👍 or 👎 for a stored mix, kept for the user's later mixes; it needs no conversation, only the mix."""

    def __init__(self, pipeline: MoodPipeline, mix_id: str, rating: int) -> None:
        super().__init__(
            discord.ui.Button(
                emoji=RATINGS[rating], style=discord.ButtonStyle.secondary, custom_id=f"mix:rate:{rating}:{mix_id}"
            )
        )
        self.pipeline = pipeline
        self.mix_id = mix_id
        self.rating = rating

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RateButton:
        return cls(_pipeline(interaction), match["mix_id"], int(match["rating"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer_press(interaction, self._rate(interaction))

    async def _rate(self, interaction: discord.Interaction) -> None:
        if not await self.pipeline.rate(interaction.user.id, self.mix_id, self.rating):
            await interaction.response.send_message(NOT_YOUR_MIX, ephemeral=True)
            return
        thanks = (
            "Glad it works for you: I'll lean that way." if self.rating > 0 else "Noted: I'll steer away from that."
        )
        await interaction.response.send_message(thanks, ephemeral=True)


class NewMixButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"mix:new:{_MIX}?:{_SESSION}"):
    """The "New mix" button: another playlist from the same conversation (the mix id in its custom_id is empty when
    the mix was not stored)."""

    def __init__(self, pipeline: MoodPipeline, session_id: str, mix_id: str | None) -> None:
        super().__init__(
            discord.ui.Button(
                label="New mix", style=discord.ButtonStyle.primary, custom_id=f"mix:new:{mix_id or ''}:{session_id}"
            )
        )
        self.pipeline = pipeline
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NewMixButton:
        return cls(_pipeline(interaction), match["session_id"], match["mix_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer_press(interaction, self._new_mix(interaction))

    async def _new_mix(self, interaction: discord.Interaction) -> None:
        self.pipeline.check(self.session_id, interaction.user.id)
        await interaction.response.defer(thinking=True)
        await send_mix(interaction, self.pipeline, self.session_id)


# What cogs/mood.py registers, so that presses on messages sent before a restart are routed too.
DYNAMIC_ITEMS = (GoalButton, FeelSelect, TellMoreButton, RateButton, NewMixButton)


class ConversationView(discord.ui.View):
    """Under the reading: the four goals, "Not quite: I feel..." and "Tell me more". Its items are dynamic, so it
    needs no timeout: the conversation's own age limit ends it (`SessionExpired`)."""

    def __init__(self, pipeline: MoodPipeline, session_id: str) -> None:
        super().__init__(timeout=None)
        for goal in GOAL_LABELS:
            self.add_item(GoalButton(pipeline, session_id, goal))
        self.add_item(FeelSelect(pipeline, session_id))
        self.add_item(TellMoreButton(pipeline, session_id))


class TellMoreModal(discord.ui.Modal, title="Tell me more"):
    """Free text about the mood or the music wanted; one more turn of the conversation."""

    def __init__(self, pipeline: MoodPipeline, session_id: str) -> None:
        super().__init__(custom_id=f"mood:more-modal:{session_id}", timeout=MAX_AGE_SECONDS)
        self.pipeline = pipeline
        self.session_id = session_id
        self.text: discord.ui.TextInput[TellMoreModal] = discord.ui.TextInput(
            label="How are you feeling? What would help?",
            style=discord.TextStyle.paragraph,
            placeholder="Long day, want something warm and slow… or: more jazz, please",
            max_length=TELL_MORE_LIMIT,
            custom_id="mood:more-text",
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await continue_conversation(interaction, self.pipeline, self.session_id, TellMore(self.text.value))

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await reply_error(interaction, error)


class PlaylistView(discord.ui.View):
    """Under a playlist: thumbs up/down and "Save to Spotify" (when the mix is stored; the latter only when the bot
    can save to Spotify, `spotify`), and "New mix". Its items are dynamic, so it needs no timeout."""

    def __init__(self, pipeline: MoodPipeline, session_id: str, mix_id: str | None, *, spotify: bool = True) -> None:
        super().__init__(timeout=None)
        self.mix_id = mix_id
        if mix_id is not None:
            for rating in RATINGS:
                self.add_item(RateButton(pipeline, mix_id, rating))
        self.add_item(NewMixButton(pipeline, session_id, mix_id))
        if mix_id is not None and spotify:
            self.add_item(SaveToSpotifyButton(mix_id))
