"""The LLM conversation (mood/llm.py) on both providers, each driven through its unmodified SDK against its loopback
double: the prompt, multi-turn chats, fallback to the rules, care, bounds, isolation and what never leaves the bot."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bot.pipeline import MoodPipeline, TooManyTurns
from mood.care import care_reply
from mood.conversation import ChooseGoal, CorrectEmotion, MoodContext, TellMore, Turn, UserEvent
from mood.llm import (
    CATALOG_SAMPLE_SIZE,
    MAX_AGE_SECONDS,
    MAX_TURNS,
    WITHHELD,
    LLMEngine,
    LLMReply,
    catalog_near,
    event_message,
    parse_reply,
    start_message,
)
from mood.profile import Goal, MoodProfile
from mood.rules import HELP_REMINDER, RulesEngine
from music.types import MoodPoint, Track
from storage.mixes import MixRepository
from storage.preferences import Preferences
from tests.fakes.llm_double import GOOD_ANSWER, LLMDouble, Mode
from tests.fakes.spotify_server import FakeTrack, SpotifyDouble, free_port, raw_database_bytes, spotify_stack
from tests.helpers import FakeReader, FakeRecommender, reading, track
from tests.mood.llm_harness import CONTEXT, PROVIDERS, llm_engine, provider_at
from tests.music.test_spotify import link

FAILURES = [Mode.MALFORMED, Mode.SCHEMA_VIOLATION, Mode.SERVER_ERROR, Mode.SLOW, Mode.SAFETY, Mode.BLOCKED]
CRISIS = "honestly I want to kill myself"
UNREACHABLE_TIMEOUT = 5.0  # seconds: a real turn's budget, far above what a refused connection should cost


async def rules_turns(context: MoodContext, events: list[UserEvent]) -> list[Turn]:
    """What the rules alone answer to the same conversation: the fallback each turn must equal."""
    conversation = RulesEngine().open(context)
    return [await conversation.start()] + [await conversation.send(event) for event in events]


def model_answers(double: LLMDouble) -> list[str]:
    """The model-side messages of the last request's history."""
    return [text for role, text in double.history() if role in ("model", "assistant")]


def user_messages(double: LLMDouble, index: int = -1) -> list[dict[str, object]]:
    return [json.loads(text) for role, text in double.history(index) if role == "user"]


# ---------------------------------------------------------------------------------------------- what is sent


def test_start_message_holds_the_context_and_the_catalog_sample_only() -> None:
    catalog = [Track("Pink Moon", "Nick Drake", "en", ("folk",), 1972, 0.3, 0.2)]
    sent = json.loads(start_message(CONTEXT, catalog))
    assert sent == {
        "event": "start",
        "emotion_scores": CONTEXT.scores,
        "note": "long day at work, feeling flat",
        "favourite_artists": ["Nick Drake"],
        "preferred_music_language": "en",
        "reply_language": "en-US",
        "catalog_sample": [{"title": "Pink Moon", "artist": "Nick Drake"}],
    }
    assert json.loads(start_message(CONTEXT, withhold_note=True))["note"] == WITHHELD


def test_event_messages_name_the_event() -> None:
    assert json.loads(event_message(ChooseGoal(Goal.CALM))) == {"event": "choose_goal", "goal": "calm"}
    assert json.loads(event_message(CorrectEmotion("fear"))) == {"event": "correct_emotion", "emotion": "fear"}
    assert json.loads(event_message(TellMore("jazz please"))) == {"event": "tell_more", "text": "jazz please"}
    assert json.loads(event_message(TellMore(CRISIS), withhold_text=True))["text"] == WITHHELD


def test_catalog_near_offers_the_nearest_tracks_first() -> None:
    far = Track("Far", "A", "en", ("pop",), 2000, 0.9, 0.9)
    near = Track("Near", "B", "en", ("pop",), 2000, 0.2, 0.3)
    nearer = Track("Nearer", "C", "en", ("pop",), 2000, 0.2, 0.2)
    assert catalog_near([far, near, nearer], size=2)(MoodPoint(0.2, 0.2)) == [nearer, near]


def test_parse_reply_accepts_only_the_schema() -> None:
    assert parse_reply(json.dumps(GOOD_ANSWER)).profile.title == "Slow Sunrise"
    with pytest.raises(ValueError):
        parse_reply('{"reply": "hi", "profile": {"feeling": "ok", "current_valence": 2}}')
    with pytest.raises(ValueError):
        parse_reply("{not json")


# ---------------------------------------------------------------------------------------------- the model talks


@pytest.mark.parametrize("name", PROVIDERS)
async def test_the_model_answers_each_turn_of_one_chat(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine(name, monkeypatch) as (double, engine):
        conversation = engine.open(CONTEXT)
        first = await conversation.start()
        second = await conversation.send(ChooseGoal(Goal.LIFT))

    assert first.source == second.source == name
    assert first.reply == GOOD_ANSWER["reply"]
    assert first.profile == MoodProfile.model_validate(GOOD_ANSWER["profile"])
    assert first.care is False
    # The model said goal null; the user pressed "Lift me up", and the button wins.
    assert second.profile.goal is Goal.LIFT
    assert second.events == (ChooseGoal(Goal.LIFT),)
    assert len(double.requests) == 2
    assert user_messages(double) == [json.loads(start_message(CONTEXT)), {"event": "choose_goal", "goal": "lift"}]
    assert model_answers(double) == [json.dumps(GOOD_ANSWER)]


@pytest.mark.parametrize("name", PROVIDERS)
async def test_the_catalog_sample_is_taken_near_the_listener(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[MoodPoint] = []

    def sample(point: MoodPoint) -> list[Track]:
        asked.append(point)
        return [track(n) for n in range(CATALOG_SAMPLE_SIZE + 10)]

    async with llm_engine(name, monkeypatch, catalog_sample=sample) as (double, engine):
        await engine.open(CONTEXT).start()

    (rules_start,) = await rules_turns(CONTEXT, [])
    assert asked == [rules_start.profile.current]
    sent = user_messages(double)[0]["catalog_sample"]
    assert sent == [{"title": f"Song {n}", "artist": f"Artist {n}"} for n in range(CATALOG_SAMPLE_SIZE)]


# ---------------------------------------------------------------------------------------------- fallback


@pytest.mark.parametrize("mode", FAILURES)
@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_failed_turn_is_answered_by_the_rules(name: str, mode: Mode, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[UserEvent] = [ChooseGoal(Goal.CALM), TellMore("some piano would be nice")]
    expected = await rules_turns(CONTEXT, events)
    async with llm_engine(name, monkeypatch) as (double, engine):
        conversation = engine.open(CONTEXT)
        await conversation.start()
        double.mode = mode
        failed = await conversation.send(events[0])
        assert len(double.requests) == 2  # one attempt: SDK retries are off, the rules answer instead
        double.mode = Mode.GOOD
        after = await conversation.send(events[1])

    assert failed == expected[1]  # the rules' own turn, word for word
    assert failed.source == "rules"
    assert after.source == name
    # The model's history holds what the user saw (the rules' answer), never the failed output.
    assert model_answers(double) == [
        json.dumps(GOOD_ANSWER),
        LLMReply(reply=failed.reply, profile=failed.profile).model_dump_json(),
    ]
    assert [m["event"] for m in user_messages(double)] == ["start", "choose_goal", "tell_more"]


@pytest.mark.parametrize("name", PROVIDERS)
async def test_an_unreachable_server_falls_back_at_once(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens on the port: the refused connection is not retried (google-genai retries one after sleeping
    1 to 10 s unless it is given retry options), so the rules answer long before the turn's timeout."""
    provider = provider_at(name, f"http://127.0.0.1:{free_port()}", monkeypatch, timeout=UNREACHABLE_TIMEOUT)
    engine = LLMEngine(provider, RulesEngine(), timeout=UNREACHABLE_TIMEOUT)
    try:
        began = time.monotonic()
        first = await engine.open(CONTEXT).start()
        elapsed = time.monotonic() - began
    finally:
        await engine.aclose()
    assert first == (await rules_turns(CONTEXT, []))[0]
    assert elapsed < 1.0  # the SDK's hidden retry would sleep at least 1 s first


@pytest.mark.parametrize("name", PROVIDERS)
async def test_the_first_line_falls_back_too(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine(name, monkeypatch) as (double, engine):
        double.mode = Mode.SERVER_ERROR
        first = await engine.open(CONTEXT).start()
    assert first == (await rules_turns(CONTEXT, []))[0]


# ---------------------------------------------------------------------------------------------- care


@pytest.mark.parametrize("name", PROVIDERS)
async def test_crisis_words_in_the_note_are_never_sent(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    context = replace(CONTEXT, note=CRISIS, locale="es-ES")
    async with llm_engine(name, monkeypatch) as (double, engine):
        conversation = engine.open(context)
        first = await conversation.start()
        assert double.requests == []  # care is decided before any model is asked
        later = await conversation.send(ChooseGoal(Goal.STAY))

    assert first.care is True
    assert first.reply == care_reply("es-ES")
    assert later.source == name
    assert later.reply == f"{GOOD_ANSWER['reply']} {HELP_REMINDER}"
    assert "kill" not in double.raw_bodies
    assert user_messages(double)[0]["note"] == WITHHELD
    assert json.loads(model_answers(double)[0])["care"] is True  # the model knows a care reply was given


@pytest.mark.parametrize("name", PROVIDERS)
async def test_crisis_words_told_later_are_never_sent(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine(name, monkeypatch) as (double, engine):
        conversation = engine.open(CONTEXT)
        await conversation.start()
        turn = await conversation.send(TellMore(CRISIS))
        assert len(double.requests) == 1
        await conversation.send(ChooseGoal(Goal.LIFT))

    assert turn.care is True
    assert turn.reply == care_reply("en-US")
    assert turn.source == "rules"
    assert "kill" not in double.raw_bodies
    assert user_messages(double)[1] == {"event": "tell_more", "text": WITHHELD}


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_care_flag_from_the_model_is_honoured(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine(name, monkeypatch) as (double, engine):
        double.answer = {**GOOD_ANSWER, "care": True, "reply": "Here is a playlist!"}
        turn = await engine.open(replace(CONTEXT, locale="de")).start()
    assert turn.care is True
    assert turn.reply == care_reply("de")  # the vetted reply, not the model's words
    assert turn.source == name


# ---------------------------------------------------------------------------------------------- bounds, isolation


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_conversation_stops_asking_after_max_turns(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with llm_engine(name, monkeypatch, max_turns=2) as (double, engine):
        conversation = engine.open(CONTEXT)
        turns = [await conversation.start()]
        turns += [await conversation.send(CorrectEmotion(e)) for e in ("sad", "fear", "angry")]
    assert [t.source for t in turns] == [name, name, name, "rules"]
    assert len(double.requests) == 3


async def test_the_pipeline_and_the_chat_end_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default bounds, the model answers every turn the pipeline allows, and no turn past them is taken."""
    async with llm_engine("gemini", monkeypatch) as (double, engine):
        pipeline = MoodPipeline(reader=FakeReader(reading("sad")), engine=engine, recommender=FakeRecommender())
        session, first = await pipeline.open(7, reading("sad"))
        turns = [first] + [await pipeline.answer(session, 7, CorrectEmotion("sad")) for _ in range(MAX_TURNS)]
        with pytest.raises(TooManyTurns):
            await pipeline.answer(session, 7, CorrectEmotion("sad"))
    assert {turn.source for turn in turns} == {"gemini"}
    assert len(double.requests) == MAX_TURNS + 1


@pytest.mark.parametrize("name", PROVIDERS)
async def test_an_old_conversation_is_answered_by_the_rules(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    async with llm_engine(name, monkeypatch, clock=lambda: now[0]) as (double, engine):
        conversation = engine.open(CONTEXT)
        await conversation.start()
        now[0] += MAX_AGE_SECONDS
        late = await conversation.send(ChooseGoal(Goal.LIFT))
    assert late.source == "rules"
    assert len(double.requests) == 1


@pytest.mark.parametrize("name", PROVIDERS)
async def test_conversations_do_not_share_a_chat(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = replace(CONTEXT, note="alice's note")
    bob = replace(CONTEXT, note="bob's note")
    async with llm_engine(name, monkeypatch) as (double, engine):
        first, second = engine.open(alice), engine.open(bob)
        await first.start()
        await second.start()
        await first.send(TellMore("more from alice"))

    last = [json.dumps(m) for m in user_messages(double)]
    assert len(last) == 2
    assert "alice's note" in last[0]
    assert "more from alice" in last[1]
    assert "bob" not in double.requests[-1].raw


# ---------------------------------------------------------------------------------------------- Spotify data


@pytest.mark.parametrize("name", PROVIDERS)
async def test_spotify_data_never_reaches_the_model(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A linked user saves a mix to their Spotify in the middle of a conversation, so Spotify's track ids, URIs and
    names, the playlist's id and link, the account's id and display name and its tokens all sit in the process and
    the database. The conversation goes on with the model, and none of it is sent."""
    user = 7
    catalog = [track(n) for n in range(30)]
    # Spotify's copies of MoodMix's catalog songs: its own ids, URIs and names ("Song 3 - Remastered 2011").
    on_spotify = [
        FakeTrack(f"6rqhFgbbKwnb9MLmUQ{n:04d}", f"{t.title} - Remastered 2011", (t.artist,))
        for n, t in enumerate(catalog)
    ]
    db_path = tmp_path / "moodmix.db"
    async with (
        SpotifyDouble.running(tracks=on_spotify, user_id="spotify-account-q7x") as spotify,
        spotify_stack(db_path, spotify) as stack,
        llm_engine(name, monkeypatch, catalog_sample=catalog_near(catalog)) as (double, engine),
    ):
        await link(stack, spotify, user)
        pipeline = MoodPipeline(
            reader=FakeReader(reading("sad")),
            engine=engine,
            recommender=FakeRecommender(catalog),
            mixes=MixRepository(stack.db.conn),
        )
        session, first = await pipeline.open(
            user, reading("sad"), note="rough week", prefs=Preferences(artists=("Artist 3",), language="en")
        )
        await pipeline.answer(session, user, ChooseGoal(Goal.LIFT))
        mix = await pipeline.mix(session, user)
        assert mix.mix_id is not None
        saved = await stack.service.save_playlist(
            user,
            mix.mix_id,
            title=mix.playlist.title,
            story=mix.playlist.story,
            songs=[item.track for item in mix.playlist.tracks],
        )
        asked_before_save = len(double.requests)
        after = [await pipeline.answer(session, user, TellMore("something warmer"))]
        await pipeline.mix(session, user)  # reads the stored mixes back (recent tracks, feedback)
        after.append(await pipeline.answer(session, user, CorrectEmotion("fear")))

        token = await stack.links.load(user)
        assert token is not None
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{spotify.api_base}/me", headers={"Authorization": f"Bearer {token['access_token']}"}) as me,
        ):
            profile = await me.json()
        stored = raw_database_bytes(db_path)

    (playlist,) = spotify.playlists.values()
    assert playlist.id == saved.playlist_id and len(playlist.items) == len(mix.playlist.tracks)
    assert saved.playlist_id.encode() in stored  # the saved playlist is in the database, beside the mix
    saved_uris = set(playlist.items)
    secrets = [
        *saved_uris,
        *(uri.removeprefix("spotify:track:") for uri in saved_uris),
        *(t.name for t in on_spotify if f"spotify:track:{t.id}" in saved_uris),
        saved.playlist_id,
        saved.url,
        profile["id"],
        profile["display_name"],
        token["access_token"],
        token["refresh_token"],
    ]
    assert [t.source for t in [first, *after]] == [name] * 3
    assert len(double.requests) == asked_before_save + 2  # the model was asked after the save, twice
    for secret in secrets:
        assert secret not in double.raw_bodies, secret
    assert "rough week" in double.raw_bodies  # the user's own words do go: they are theirs to share
