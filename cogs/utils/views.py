"""The buttons, select and modal of the /mood conversation and of a playlist. Each press is one pipeline call;
every error goes to `reply_error`. Views time out with the conversation (the pipeline forgets it then anyway)."""

from __future__ import annotations

from typing import Any

import discord

from bot.pipeline import MAX_AGE_SECONDS, MoodPipeline
from cogs.utils.embeds import care_embed, playlist_embed
from cogs.utils.errors import reply_error
from cogs.utils.spotify import SaveToSpotifyButton
from inference.types import EMOTIONS
from mood.conversation import ChooseGoal, CorrectEmotion, TellMore, UserEvent
from mood.profile import Goal

GOAL_LABELS: dict[Goal, str] = {
    Goal.STAY: "Stay with it",
    Goal.LIFT: "Lift me up",
    Goal.CALM: "Calm down",
    Goal.ENERGIZE: "Energize",
}
TELL_MORE_LIMIT = 500


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
    view = PlaylistView(pipeline, session_id, result.mix_id)
    await interaction.followup.send(embed=playlist_embed(result, reply), view=view, wait=True)


class _ErrorsReplied(discord.ui.View):
    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await reply_error(interaction, error)


class ConversationView(_ErrorsReplied):
    """Under the reading: the four goals, "Not quite: I feel..." and "Tell me more"."""

    def __init__(self, pipeline: MoodPipeline, session_id: str, *, timeout: float = MAX_AGE_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.pipeline = pipeline
        self.session_id = session_id
        for goal, label in GOAL_LABELS.items():
            button: discord.ui.Button[ConversationView] = discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=f"mood:goal:{goal.value}:{session_id}", row=0
            )
            button.callback = self._goal_callback(goal)  # type: ignore[method-assign]
            self.add_item(button)
        feel: discord.ui.Select[ConversationView] = discord.ui.Select(
            placeholder="Not quite: I feel...",
            custom_id=f"mood:feel:{session_id}",
            options=[discord.SelectOption(label=emotion.capitalize(), value=emotion) for emotion in EMOTIONS],
            row=1,
        )
        feel.callback = self._feel_callback(feel)  # type: ignore[method-assign]
        self.add_item(feel)
        more: discord.ui.Button[ConversationView] = discord.ui.Button(
            label="Tell me more", style=discord.ButtonStyle.secondary, custom_id=f"mood:more:{session_id}", row=2
        )
        more.callback = self._tell_more  # type: ignore[method-assign]
        self.add_item(more)

    def _goal_callback(self, goal: Goal) -> Any:
        async def callback(interaction: discord.Interaction) -> None:
            await continue_conversation(interaction, self.pipeline, self.session_id, ChooseGoal(goal))

        return callback

    def _feel_callback(self, select: discord.ui.Select[ConversationView]) -> Any:
        async def callback(interaction: discord.Interaction) -> None:
            await continue_conversation(interaction, self.pipeline, self.session_id, CorrectEmotion(select.values[0]))

        return callback

    async def _tell_more(self, interaction: discord.Interaction) -> None:
        self.pipeline.check(self.session_id, interaction.user.id)
        await interaction.response.send_modal(TellMoreModal(self.pipeline, self.session_id))


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


class PlaylistView(_ErrorsReplied):
    """Under a playlist: thumbs up/down and "Save to Spotify" (when the mix is stored), and "New mix"."""

    def __init__(
        self, pipeline: MoodPipeline, session_id: str, mix_id: str | None, *, timeout: float = MAX_AGE_SECONDS
    ) -> None:
        super().__init__(timeout=timeout)
        self.pipeline = pipeline
        self.session_id = session_id
        self.mix_id = mix_id
        if mix_id is not None:
            for rating, emoji in ((1, "👍"), (-1, "👎")):
                button: discord.ui.Button[PlaylistView] = discord.ui.Button(
                    emoji=emoji, style=discord.ButtonStyle.secondary, custom_id=f"mix:rate:{rating}:{mix_id}"
                )
                button.callback = self._rate_callback(mix_id, rating)  # type: ignore[method-assign]
                self.add_item(button)
        new: discord.ui.Button[PlaylistView] = discord.ui.Button(
            label="New mix", style=discord.ButtonStyle.primary, custom_id=f"mix:new:{mix_id or ''}:{session_id}"
        )
        new.callback = self._new_mix  # type: ignore[method-assign]
        self.add_item(new)
        if mix_id is not None:
            self.add_item(SaveToSpotifyButton(mix_id))

    def _rate_callback(self, mix_id: str, rating: int) -> Any:
        async def callback(interaction: discord.Interaction) -> None:
            if await self.pipeline.rate(interaction.user.id, mix_id, rating):
                thanks = (
                    "Glad it works for you: I'll lean that way." if rating > 0 else "Noted: I'll steer away from that."
                )
                await interaction.response.send_message(thanks, ephemeral=True)
            else:
                await interaction.response.send_message(
                    "Only the person this mix was made for can rate it.", ephemeral=True
                )

        return callback

    async def _new_mix(self, interaction: discord.Interaction) -> None:
        self.pipeline.check(self.session_id, interaction.user.id)
        await interaction.response.defer(thinking=True)
        await send_mix(interaction, self.pipeline, self.session_id)
