"""The "Save to Spotify" button under a playlist, and the /link-spotify replies waiting for the link to complete.

A button rather than an automatic save: a development-mode Spotify app serves at most 5 users and every save costs
one search per song against the app's rate limit, so MoodMix only spends them when a linked user asks.
It is a `DynamicItem` keyed by the mix id: it works for any stored mix, also after a restart. Bots without Spotify
settings do not offer it (`saving_offered`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import discord

from cogs.utils.errors import answer_press
from music.spotify import SaveResult, SpotifyNotConfigured, SpotifyNotLinked
from music.types import SongIdea

if TYPE_CHECKING:
    from bot.client import MoodBot

NOT_YOURS = "Only the person this mix was made for can save it."
GONE = "I no longer have that mix. Send /mood for a new one."
LINKED_PROMPT = "Linked ✓ Your Spotify account is linked. Press **Save to Spotify** under a mix to keep it there."
# An interaction's token lasts 15 minutes; the margin leaves time for the edit itself.
PROMPT_LIFETIME_SECONDS = 14 * 60.0


def saving_offered(interaction: discord.Interaction) -> bool:
    """Whether this bot can save to Spotify at all (it has Spotify settings): otherwise no Save button is shown."""
    return cast("MoodBot", interaction.client).services.spotify is not None


class LinkPrompts:
    """Each user's latest /link-spotify reply, while its interaction can still be edited, so that a completed link
    turns it into "Linked ✓" without the button. In memory only: after a restart the DM alone tells the user."""

    def __init__(
        self, *, lifetime: float = PROMPT_LIFETIME_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._prompts: dict[int, tuple[discord.Interaction, float]] = {}

    def __len__(self) -> int:
        return len(self._prompts)

    def remember(self, interaction: discord.Interaction) -> None:
        """Keep the interaction of a /link-spotify reply just sent (replacing the user's earlier one)."""
        now = self._clock()
        # Forgetting the stale ones here bounds the memory without a background job.
        self._prompts = {user: kept for user, kept in self._prompts.items() if now - kept[1] < self._lifetime}
        self._prompts[interaction.user.id] = (interaction, now)

    async def mark_linked(self, user_id: int) -> bool:
        """Edit the user's reply into `LINKED_PROMPT`, without its button; False when none can still be edited.

        Raises `discord.HTTPException` when Discord refuses the edit (the reply was dismissed, say).
        """
        kept = self._prompts.pop(user_id, None)
        if kept is None or self._clock() - kept[1] >= self._lifetime:
            return False
        await kept[0].edit_original_response(content=LINKED_PROMPT, view=None)
        return True


def saved_message(title: str, result: SaveResult) -> str:
    """What the user reads once the mix is in their Spotify."""
    head = "This mix is already in your Spotify" if result.already_saved else "Saved to your Spotify"
    text = f"{head}: **{discord.utils.escape_markdown(title)}**."
    if result.missing:
        songs = "song" if result.missing == 1 else "songs"
        text += f" {result.missing} {songs} couldn't be found on Spotify; the listen links still have them."
    return text


def open_view(url: str) -> discord.ui.View:
    """A view with a single link button to the playlist."""
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Open in Spotify", url=url))
    return view


class SaveToSpotifyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"spotify:save:(?P<mix_id>[0-9A-Za-z_-]{1,64})"
):
    """Saves the mix to the presser's Spotify, if it is their mix and they linked their account."""

    def __init__(self, mix_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Save to Spotify", style=discord.ButtonStyle.success, custom_id=f"spotify:save:{mix_id}"
            )
        )
        self.mix_id = mix_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SaveToSpotifyButton:
        return cls(str(match["mix_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Check the mix and the link (answering at once when one is missing), then save in the background."""
        await answer_press(interaction, self._save(interaction))

    async def _save(self, interaction: discord.Interaction) -> None:
        services = cast("MoodBot", interaction.client).services
        spotify, mixes = services.spotify, services.mixes
        if spotify is None:
            raise SpotifyNotConfigured()
        record = await mixes.get(self.mix_id) if mixes is not None else None
        if record is None:
            await interaction.response.send_message(GONE, ephemeral=True)
            return
        if record.user_id != interaction.user.id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        if not await spotify.is_linked(interaction.user.id):
            raise SpotifyNotLinked()
        await interaction.response.defer(ephemeral=True, thinking=True)
        songs = [SongIdea(title=str(t["title"]), artist=str(t["artist"])) for t in record.tracks]
        result = await spotify.save_playlist(
            interaction.user.id, self.mix_id, title=record.title, story=record.story, songs=songs
        )
        await interaction.followup.send(saved_message(record.title, result), view=open_view(result.url), ephemeral=True)
