"""/history: the user's recent moods and mixes with a chart of their mood over time; /forget-me: delete everything
MoodMix keeps about the user, after a confirmation. Both answer ephemerally: they are personal."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import escape_markdown

from bot.services import Forgotten
from cogs.utils.charts import MOOD_CHART_FILENAME, mood_chart
from cogs.utils.errors import reply_error
from cogs.utils.views import GOAL_LABELS
from storage.mixes import MixRecord, MixRepository

if TYPE_CHECKING:
    from bot.client import MoodBot

log = logging.getLogger(__name__)

HISTORY_LIMIT = 10
CONFIRM_TIMEOUT_SECONDS = 60.0
HISTORY_COLOUR = discord.Colour.blurple()

NO_HISTORY = "You have no mixes yet. Send /mood with a selfie to get your first; your moods and mixes will show here."
CHART_NOTE = (
    "Chart: valence (unpleasant to pleasant) and arousal (calm to activated) where each mix started; "
    "rings show where it aimed. /forget-me deletes all of this."
)
FORGET_PROMPT = (
    "This deletes everything MoodMix keeps about you: your mixes and ratings, your preferences, your Spotify link "
    "and the records of playlists saved to it, and any conversation in progress. It can't be undone."
)
NOT_YOURS = "Only the person who ran /forget-me can answer this."
CANCELLED = "Cancelled: nothing was deleted."
EXPIRED = "This confirmation expired; nothing was deleted. Run /forget-me again if you still want to."
SPOTIFY_STAYS = (
    "Playlists already saved to your Spotify account stay there: MoodMix can't delete them, and doesn't. "
    "Remove them in Spotify if you like."
)

ForgetUser = Callable[[int], Awaitable[Forgotten]]
_GOAL_NAMES = {goal.value: label for goal, label in GOAL_LABELS.items()}
_RATINGS: dict[int | None, str] = {1: "👍", -1: "👎", None: "not rated"}


def history_embed(entries: list[tuple[MixRecord, int | None]]) -> discord.Embed:
    """The user's mixes, newest first: when, the emotion read, the goal, the title and the rating; the chart below."""
    embed = discord.Embed(title="Your recent moods and mixes", colour=HISTORY_COLOUR)
    for record, rating in entries:
        goal = _GOAL_NAMES.get(record.goal, record.goal) if record.goal else "no goal chosen"
        embed.add_field(
            name=escape_markdown(record.title)[:256] or "Untitled mix",
            value=f"<t:{int(record.created_at)}:R> · felt **{record.emotion}** · {goal} · {_RATINGS[rating]}",
            inline=False,
        )
    embed.set_image(url=f"attachment://{MOOD_CHART_FILENAME}")
    embed.set_footer(text=CHART_NOTE)
    return embed


def forgotten_message(report: Forgotten) -> str:
    """What /forget-me tells the user it deleted, with counts."""
    spotify = report.spotify
    deleted = [
        _count(report.mixes, "mix, with any rating you gave it", "mixes, with any ratings you gave them"),
        "your preferences" if report.preferences else "",
        "your Spotify link (its tokens)" if spotify.linked else "",
        _count(spotify.saved_playlists, "saved-playlist record", "saved-playlist records"),
        _count(spotify.link_states, "pending Spotify link request", "pending Spotify link requests"),
        _count(report.conversations, "conversation in progress", "conversations in progress"),
    ]
    if not report.anything:
        return f"I kept nothing about you, so there was nothing to delete. {SPOTIFY_STAYS}"
    lines = "\n".join(f"• {item}" for item in deleted if item)
    return f"Done. I deleted everything I kept about you:\n{lines}\n{SPOTIFY_STAYS}"


def _count(n: int, one: str, many: str) -> str:
    return "" if n == 0 else f"1 {one}" if n == 1 else f"{n} {many}"


class ForgetMeView(discord.ui.View):
    """The "Delete everything" and "Cancel" buttons under the /forget-me question: only its user may press them,
    for a minute."""

    def __init__(
        self, forget_user: ForgetUser, asked: discord.Interaction, *, timeout: float = CONFIRM_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(timeout=timeout)
        self.forget_user = forget_user
        self.asked = asked  # the /forget-me interaction, whose token lets the question be edited on timeout
        self.user_id = asked.user.id
        # Ids unique to this question, so that two questions open at once can never answer for each other.
        self.confirm.custom_id = f"forget:confirm:{asked.id}"
        self.cancel.custom_id = f"forget:cancel:{asked.id}"

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger, row=0)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[ForgetMeView]) -> None:
        """Delete, then replace the question with what was deleted."""
        self.stop()
        await interaction.response.defer()
        report = await self.forget_user(self.user_id)
        log.info("forgot user %s on request", self.user_id)
        await interaction.edit_original_response(content=forgotten_message(report), view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, row=0)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button[ForgetMeView]) -> None:
        self.stop()
        await interaction.response.edit_message(content=CANCELLED, view=None)

    async def on_timeout(self) -> None:
        try:
            await self.asked.edit_original_response(content=EXPIRED, view=None)
        except discord.HTTPException:  # the message was dismissed; nothing left to tidy
            log.debug("could not mark the /forget-me question of user %s expired", self.user_id)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await reply_error(interaction, error)


class HistoryCog(commands.Cog):
    """The user's own data: what MoodMix kept, and deleting it."""

    def __init__(self, mixes: MixRepository, forget_user: ForgetUser) -> None:
        self.mixes = mixes
        self.forget_user = forget_user

    @app_commands.command(name="history", description="Your recent moods and mixes, with a chart of your mood.")
    async def history(self, interaction: discord.Interaction) -> None:
        """Answer privately with the user's latest mixes and their mood chart, or how to start when there are none."""
        entries = await self.mixes.history(interaction.user.id, limit=HISTORY_LIMIT)
        if not entries:
            await interaction.response.send_message(NO_HISTORY, ephemeral=True)
            return
        points = [(record.current, record.target) for record, _ in reversed(entries)]
        # Drawing takes tens of milliseconds under load: off the event loop.
        chart = await asyncio.to_thread(mood_chart, points)
        await interaction.response.send_message(
            embed=history_embed(entries),
            file=discord.File(io.BytesIO(chart), filename=MOOD_CHART_FILENAME),
            ephemeral=True,
        )

    @app_commands.command(name="forget-me", description="Delete everything MoodMix keeps about you.")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        """Ask privately for a confirmation; the buttons do the rest."""
        view = ForgetMeView(self.forget_user, interaction)
        await interaction.response.send_message(FORGET_PROMPT, view=view, ephemeral=True)


async def setup(bot: MoodBot) -> None:
    mixes = bot.services.mixes
    if mixes is None:
        raise RuntimeError("/history needs the database")
    await bot.add_cog(HistoryCog(mixes, bot.services.forget_user))
