"""Embeds: the reading's fields and chart, the playlist's tracks with listen links inside Discord's limits."""

from __future__ import annotations

import re

import discord

from bot.pipeline import MixResult
from cogs.utils.embeds import care_embed, playlist_embed, prefs_embed, reading_embed
from mood.care import care_reply
from mood.conversation import Turn
from music.links import SPOTIFY_SEARCH, YOUTUBE_SEARCH, spotify_search_url, youtube_search_url
from music.types import Playlist, PlaylistTrack, Track
from storage.preferences import Preferences
from tests.helpers import profile, reading, track


def _result(tracks: list[Track], reasons: list[str] | None = None) -> MixResult:
    items = [
        PlaylistTrack(t, reason=(reasons or ["Meets you where you are"] * len(tracks))[i]) for i, t in enumerate(tracks)
    ]
    return MixResult(
        mix_id="abc",
        playlist=Playlist(title="Grey to Gold", story="From grey to gold", tracks=items),
        profile=profile(),
    )


def test_reading_embed_shows_top_emotion_runner_up_chart_and_first_line() -> None:
    embed = reading_embed(reading("happy", 0.82, faces=2), Turn(reply="You look bright!", profile=profile()))
    fields = {f.name: f.value for f in embed.fields}
    assert embed.title == "You look happy"
    assert embed.description == "You look bright!"
    assert fields["Top emotion"] == "Happy (82%)"
    assert fields["Runner-up"] == "Angry (3%)"  # the first of the evenly spread rest
    assert embed.image.url == "attachment://emotions.png"
    assert embed.footer.text is not None and "2 faces" in embed.footer.text


def test_playlist_embed_lists_every_track_in_order_with_both_links_and_changing_reasons() -> None:
    tracks = [track(n) for n in range(1, 16)]
    reasons = ["Meets you where you are"] * 5 + ["A step brighter"] * 5 + ["Where we're heading"] * 5
    embed = playlist_embed(_result(tracks, reasons), reply="Lifting you up.")
    assert embed.title == "Grey to Gold"
    assert embed.description == "From grey to gold\n\nLifting you up."
    text = "\n".join(str(f.value) for f in embed.fields)
    lines = [line for line in text.splitlines() if not line.startswith("    ")]
    assert [line.split(".", 1)[0] for line in lines] == [str(n) for n in range(1, 16)]
    assert lines[0].startswith(f"1. [Song 1 — Artist 1]({spotify_search_url(tracks[0])})")
    assert youtube_search_url(tracks[14]) in lines[14]
    assert text.count("*A step brighter*") == 1 and text.count("*Meets you where you are*") == 1
    assert len(embed) <= 6000 and all(len(str(f.value)) <= 1024 for f in embed.fields)


def test_long_playlist_sheds_reasons_then_youtube_links_to_fit_discords_limits() -> None:
    long = [
        Track("A very long song title " * 4, f"Artist with a long name {n}", "en", (), 2000, 0.5, 0.5)
        for n in range(20)
    ]
    embed = playlist_embed(_result(long, [f"reason number {n}" for n in range(20)]))
    text = "\n".join(str(f.value) for f in embed.fields)
    assert len(embed) <= 6000 and all(len(str(f.value)) <= 1024 for f in embed.fields)
    assert "reason number" not in text and "youtube.com" not in text
    assert text.count("open.spotify.com") == 20
    assert "A very long song title A very long song…" in text


def test_markdown_in_titles_cannot_break_the_link() -> None:
    odd = Track("*Star* [Remix]", "DJ_Under", "en", (), 2000, 0.5, 0.5)
    value = str(playlist_embed(_result([odd])).fields[0].value)
    assert value.startswith("1. [\\*Star\\* (Remix) — DJ\\_Under](https://open.spotify.com/search/")


def test_care_embed_has_only_the_reply() -> None:
    embed = care_embed(Turn(reply="Please reach out.", profile=profile(), care=True))
    assert embed.description == "Please reach out." and not embed.fields and embed.image.url is None


def test_prefs_embed_shows_artists_and_language_or_says_none() -> None:
    empty = prefs_embed(Preferences(), None)
    assert empty.description is not None and "None yet" in empty.description
    embed = prefs_embed(Preferences(("Adele", "Stromae"), "fr"), "French")
    fields = {f.name: f.value for f in embed.fields}
    assert fields == {"Favourite artists (2/5)": "Adele, Stromae", "Language": "French (fr)"}
    assert isinstance(embed, discord.Embed)


# ---------------------------------------------------------------------------------------------- model and user text

# What an LLM (or a user's note and /prefs) could try: a ping, formatting, a masked link, a heading.
HOSTILE = "@everyone **free** [claim](https://evil.example/x) <@123456789012345678> @here"
MASKED_LINK = re.compile(r"(?<!\\)\[([^\]]*)\]\(([^)\s]+)\)")


def assert_inert(text: str | None) -> None:
    """No ping, no formatting and no masked link survive in `text`, and its words are still there to read."""
    assert text is not None
    assert "@everyone" not in text and "@here" not in text and "<@123456789012345678>" not in text
    assert re.search(r"(?<!\\)\*", text) is None
    assert MASKED_LINK.search(text) is None
    assert "free" in text and "claim" in text


def test_a_model_reply_cannot_ping_format_or_mask_a_link() -> None:
    turn = Turn(reply=HOSTILE, profile=profile(), source="gemini")
    assert_inert(reading_embed(reading("sad"), turn).description)
    assert_inert(care_embed(Turn(reply=HOSTILE, profile=profile(), care=True)).description)


def test_a_model_playlist_is_shown_inert_with_only_our_own_links() -> None:
    idea = Track(f"# {HOSTILE}", "DJ @everyone", "xx", (), 0, 0.5, 0.5)
    result = MixResult(
        mix_id="abc",
        playlist=Playlist(
            title=HOSTILE,
            story=f"> {HOSTILE}",
            tracks=[PlaylistTrack(idea, reason="Some @here [x](https://evil.example), as you asked")],
        ),
        profile=profile(),
    )
    embed = playlist_embed(result, reply=HOSTILE)
    assert_inert(embed.title)
    assert embed.description is not None
    story, reply = embed.description.split("\n\n")
    assert story.startswith("\\> ")  # not a quote block
    assert_inert(story)
    assert_inert(reply)
    (field,) = embed.fields
    value = str(field.value)
    assert "@everyone" not in value and "@here" not in value
    # The only links are the listen links MoodMix made, and the song idea's words stay inside the first one.
    links = MASKED_LINK.findall(value)
    assert [url.startswith((SPOTIFY_SEARCH, YOUTUBE_SEARCH)) for _, url in links] == [True, True]
    assert links[0][0].startswith("\\# @\u200beveryone \\*\\*free\\*\\* \\(claim)")


def test_a_long_title_is_cut_without_leaving_half_an_escape() -> None:
    result = MixResult(mix_id=None, playlist=Playlist("a" * 254 + "*" * 10, "", []), profile=profile())
    title = playlist_embed(result).title
    assert title == "a" * 254 + "…"


def test_the_help_link_in_a_care_reply_stays_a_link() -> None:
    embed = care_embed(Turn(reply=care_reply("en"), profile=profile(), care=True))
    assert embed.description == care_reply("en")
    assert "https://findahelpline.com" in embed.description


def test_user_artists_in_prefs_cannot_ping() -> None:
    embed = prefs_embed(Preferences(("@everyone", "Sigur_Rós"), None), None)
    assert embed.fields[0].value == "@\u200beveryone, Sigur\\_Rós"
