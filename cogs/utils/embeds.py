"""Embeds MoodMix sends: the reading, the playlist, the care reply and the preferences.

Discord caps an embed at 6000 characters and a field at 1024; a 20-track playlist with two listen links per track
comes close, so the playlist is laid out in fields and sheds its reason lines, then its YouTube links, then shortens
long names, when it must.

Text that MoodMix did not write (the LLM's reply, title, story and song ideas, genres it chose, the user's own words
and artists) goes through `inert` before it joins an embed: it shows as written and cannot format, mask a link or
mention anyone. The embeds' own links (listen links, the helpline) stay clickable.
"""

from __future__ import annotations

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.pipeline import MixResult
from cogs.utils.charts import CHART_FILENAME
from inference.types import EmotionReading
from mood.conversation import Turn
from music.links import spotify_search_url, youtube_search_url
from music.types import PlaylistTrack
from storage.preferences import MAX_ARTISTS, Preferences

READING_COLOUR = discord.Colour.blurple()
PLAYLIST_COLOUR = discord.Colour.green()
CARE_COLOUR = discord.Colour.gold()

_EMBED_BUDGET = 5800  # under Discord's 6000, leaving room for the footer
_FIELD_LIMIT = 1024
# From the fullest to the most compact: (reason lines, YouTube links, longest "Title — Artist" shown).
_LAYOUTS = ((True, True, 100), (False, True, 100), (False, False, 100), (False, False, 40))


def inert(text: str) -> str:
    """`text` from the model or the user, safe to show: markdown escaped (bold, headings, quotes, masked links
    `[text](url)`) and mentions broken (@everyone, @here, <@id>, <@&id>). Bare URLs stay as they are."""
    return escape_mentions(escape_markdown(text))


def reading_embed(reading: EmotionReading, turn: Turn) -> discord.Embed:
    """The answer to a selfie: the top emotion and the runner-up, the chart of all seven, the conversation's line."""
    runner_label, runner_score = reading.runner_up
    embed = discord.Embed(title=f"You look {reading.label}", description=inert(turn.reply), colour=READING_COLOUR)
    embed.add_field(name="Top emotion", value=f"{reading.label.capitalize()} ({reading.confidence:.0%})")
    embed.add_field(name="Runner-up", value=f"{runner_label.capitalize()} ({runner_score:.0%})")
    embed.set_image(url=f"attachment://{CHART_FILENAME}")
    if reading.faces > 1:
        embed.set_footer(text=f"I saw {reading.faces} faces and read the largest one.")
    return embed


def care_embed(turn: Turn) -> discord.Embed:
    """A care reply: the words only, no playlist."""
    return discord.Embed(description=inert(turn.reply), colour=CARE_COLOUR)


def playlist_embed(result: MixResult, reply: str | None = None) -> discord.Embed:
    """The mix: title, one-line story, the conversation's line, and every track in order with listen links."""
    playlist = result.playlist
    description = "\n\n".join(inert(text) for text in (playlist.story, reply) if text)
    embed = discord.Embed(
        title=_clip(inert(playlist.title), 256), description=_clip(description, 1000), colour=PLAYLIST_COLOUR
    )
    budget = _EMBED_BUDGET - len(embed)
    for reasons, youtube, name_limit in _LAYOUTS:
        fields = _track_fields(playlist.tracks, reasons=reasons, youtube=youtube, name_limit=name_limit)
        if sum(len(name) + len(value) for name, value in fields) <= budget:
            break
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=f"{len(playlist.tracks)} tracks · Listen links search Spotify and YouTube")
    return embed


def prefs_embed(prefs: Preferences, language_name: str | None) -> discord.Embed:
    """What a user keeps in /prefs."""
    embed = discord.Embed(title="Your mix preferences", colour=READING_COLOUR)
    if prefs.empty:
        embed.description = "None yet. Add a favourite artist or a language with /prefs."
        return embed
    artists = ", ".join(inert(a) for a in prefs.artists) or "none"
    embed.add_field(name=f"Favourite artists ({len(prefs.artists)}/{MAX_ARTISTS})", value=artists, inline=False)
    if prefs.language:
        embed.add_field(name="Language", value=f"{language_name or prefs.language} ({prefs.language})", inline=False)
    return embed


def _track_line(number: int, item: PlaylistTrack, *, youtube: bool, name_limit: int) -> str:
    track = item.track
    name = f"{track.title} — {track.artist}"
    if len(name) > name_limit:
        name = name[: name_limit - 1].rstrip() + "…"
    # Song ideas come from the model: no bracket may close our own link early.
    name = inert(name).replace("[", "(").replace("]", ")")
    line = f"{number}. [{name}]({spotify_search_url(track)})"
    return f"{line} · [YouTube]({youtube_search_url(track)})" if youtube else line


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, never ending on the lone backslash of a cut escape."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip("\\") + "…"


def _track_fields(
    tracks: list[PlaylistTrack], *, reasons: bool, youtube: bool, name_limit: int
) -> list[tuple[str, str]]:
    """Track lines grouped into fields under the field limit. A reason is shown when it changes from the last one."""
    fields: list[tuple[str, str]] = []
    lines: list[str] = []
    first = 1
    last_reason = None
    for number, item in enumerate(tracks, start=1):
        line = _track_line(number, item, youtube=youtube, name_limit=name_limit)
        if reasons and item.reason and item.reason != last_reason:
            line += f"\n    *{inert(item.reason)}*"
        last_reason = item.reason
        if lines and len("\n".join([*lines, line])) > _FIELD_LIMIT:
            fields.append((_field_name(first, number - 1), "\n".join(lines)))
            lines, first = [], number
        lines.append(line)
    if lines:
        fields.append((_field_name(first, len(tracks)), "\n".join(lines)))
    return fields


def _field_name(first: int, last: int) -> str:
    return f"Tracks {first}–{last}" if first != last else f"Track {first}"
