"""The "Save to Spotify" button under a playlist.

A button rather than an automatic save: a development-mode Spotify app serves at most 5 users and every save costs
one search per song against the app's rate limit, so MoodMix only spends them when a linked user asks.
It is a `DynamicItem` keyed by the mix id: it works for any stored mix, also after a restart.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from cogs.utils.errors import reply_error
from music.spotify import SaveResult, SpotifyNotConfigured, SpotifyNotLinked
from music.types import SongIdea

if TYPE_CHECKING:
    from bot.client import MoodBot

NOT_YOURS = "Only the person this mix was made for can save it."
GONE = "I no longer have that mix. Send /mood for a new one."


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
        try:
            await self._save(interaction)
        except Exception as error:  # every failure becomes a short ephemeral reply
            await reply_error(interaction, error)

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
