"""MoodPipeline with fakes for the reader, the conversation and the recommender, and the real mix repository."""

from __future__ import annotations

import pytest

from bot.pipeline import (
    MixWithheld,
    MoodPipeline,
    NotYourSession,
    SessionExpired,
    TooManyTurns,
    mix_request,
)
from inference.errors import NoFaceFound
from mood.conversation import ChooseGoal, CorrectEmotion, TellMore
from mood.profile import Goal
from storage.mixes import MixRepository
from storage.preferences import Preferences
from tests.helpers import Clock, FakeEngine, FakeReader, FakeRecommender, profile, reading


def make(mixes: MixRepository | None = None, **kwargs: object) -> tuple[MoodPipeline, FakeEngine, FakeRecommender]:
    engine, recommender = FakeEngine(), FakeRecommender()
    pipeline = MoodPipeline(
        reader=FakeReader(reading()),
        engine=engine,
        recommender=recommender,
        mixes=mixes,
        **kwargs,  # type: ignore[arg-type]
    )
    return pipeline, engine, recommender


async def test_read_passes_bytes_to_the_reader_and_its_errors_through() -> None:
    reader = FakeReader(reading("happy", 0.9))
    pipeline = MoodPipeline(reader=reader, engine=FakeEngine(), recommender=FakeRecommender())
    assert (await pipeline.read(b"jpeg")).label == "happy"
    assert reader.seen == [b"jpeg"]
    reader.result = NoFaceFound()
    with pytest.raises(NoFaceFound):
        await pipeline.read(b"jpeg")


async def test_open_gives_the_conversation_everything_but_spotify() -> None:
    pipeline, engine, _ = make()
    prefs = Preferences(artists=("Adele",), language="fr")
    session_id, turn = await pipeline.open(7, reading("sad"), note="long day", prefs=prefs, locale="fr")
    assert turn.reply == "You look a little down."
    assert len(session_id) == 16
    context = engine.opened[0].context
    assert context.scores == reading("sad").scores
    assert (context.note, context.artists, context.language, context.locale) == ("long day", ("Adele",), "fr", "fr")


async def test_answer_continues_the_same_conversation() -> None:
    pipeline, engine, _ = make()
    session_id, _ = await pipeline.open(7, reading())
    turn = await pipeline.answer(session_id, 7, ChooseGoal(Goal.LIFT))
    assert turn.profile.goal is Goal.LIFT
    await pipeline.answer(session_id, 7, TellMore("more jazz"))
    assert engine.opened[0].events == [ChooseGoal(Goal.LIFT), TellMore("more jazz")]


async def test_another_users_press_is_refused_and_changes_nothing() -> None:
    pipeline, engine, _ = make()
    session_id, _ = await pipeline.open(7, reading())
    with pytest.raises(NotYourSession):
        await pipeline.answer(session_id, 8, ChooseGoal(Goal.CALM))
    with pytest.raises(NotYourSession):
        await pipeline.mix(session_id, 8)
    with pytest.raises(NotYourSession):
        pipeline.check(session_id, 8)
    assert engine.opened[0].events == []
    pipeline.check(session_id, 7)


async def test_unknown_and_old_sessions_have_expired() -> None:
    clock = Clock()
    pipeline, _, _ = make(clock=clock, max_age=900)
    with pytest.raises(SessionExpired):
        await pipeline.answer("nope", 7, ChooseGoal(Goal.STAY))
    session_id, _ = await pipeline.open(7, reading())
    clock.now += 899
    await pipeline.answer(session_id, 7, ChooseGoal(Goal.STAY))
    clock.now += 2
    with pytest.raises(SessionExpired):
        await pipeline.answer(session_id, 7, ChooseGoal(Goal.STAY))


async def test_sessions_are_bounded_in_number_oldest_first() -> None:
    pipeline, _, _ = make(max_sessions=2)
    first, _ = await pipeline.open(1, reading())
    second, _ = await pipeline.open(2, reading())
    third, _ = await pipeline.open(3, reading())
    with pytest.raises(SessionExpired):
        pipeline.check(first, 1)
    pipeline.check(second, 2)
    pipeline.check(third, 3)


async def test_turns_are_bounded() -> None:
    pipeline, _, _ = make(max_turns=2)
    session_id, _ = await pipeline.open(7, reading())
    await pipeline.answer(session_id, 7, TellMore("a"))
    await pipeline.answer(session_id, 7, TellMore("b"))
    with pytest.raises(TooManyTurns):
        await pipeline.answer(session_id, 7, TellMore("c"))


async def test_mix_without_a_database_avoids_the_sessions_earlier_tracks_and_varies_the_seed() -> None:
    pipeline, _, recommender = make()
    session_id, _ = await pipeline.open(7, reading(), prefs=Preferences(("Adele",), "es"))
    await pipeline.answer(session_id, 7, ChooseGoal(Goal.LIFT))
    first = await pipeline.mix(session_id, 7)
    second = await pipeline.mix(session_id, 7)
    assert first.mix_id is None and second.mix_id is None
    assert first.profile.goal is Goal.LIFT
    first_keys = {item.track.key for item in first.playlist.tracks}
    assert len(first_keys) == 15
    assert first_keys.isdisjoint(item.track.key for item in second.playlist.tracks)
    calls = recommender.calls
    assert [c.seed for c in calls] == [0, 1]
    assert calls[0].avoid == frozenset() and calls[1].avoid == first_keys
    assert calls[0].taste is None
    request = calls[0].request
    assert request.languages == ("es", "en") and request.artists == ("Adele", "Nina Simone")
    assert request.target.valence == 0.8 and request.title == "Rainy Window"


async def test_explicit_seed_is_passed_through() -> None:
    pipeline, _, recommender = make()
    session_id, _ = await pipeline.open(7, reading())
    await pipeline.mix(session_id, 7, seed=1234)
    assert recommender.calls[0].seed == 1234


async def test_mix_is_stored_with_the_corrected_emotion_and_later_mixes_avoid_it(mixes: MixRepository) -> None:
    pipeline, _, recommender = make(mixes)
    session_id, _ = await pipeline.open(7, reading("sad"))
    await pipeline.answer(session_id, 7, CorrectEmotion("angry"))
    await pipeline.answer(session_id, 7, ChooseGoal(Goal.CALM))
    result = await pipeline.mix(session_id, 7)
    assert result.mix_id is not None
    record = await mixes.get(result.mix_id)
    assert record is not None
    assert (record.user_id, record.emotion, record.goal) == (7, "angry", "calm")
    assert record.scores == pytest.approx(reading("sad").scores)
    assert [t["title"] for t in record.tracks] == [item.track.title for item in result.playlist.tracks]

    # A new /mood by the same user avoids the tracks of the stored mix, and the rating shapes the next one.
    assert await pipeline.rate(7, result.mix_id, -1)
    other_session, _ = await pipeline.open(7, reading("sad"))
    await pipeline.mix(other_session, 7)
    last = recommender.calls[-1]
    assert {item.track.key for item in result.playlist.tracks} <= last.avoid
    assert last.taste is not None


async def test_rating_belongs_to_the_owner_and_needs_a_database(mixes: MixRepository) -> None:
    pipeline, _, _ = make(mixes)
    session_id, _ = await pipeline.open(7, reading())
    mix_id = (await pipeline.mix(session_id, 7)).mix_id
    assert mix_id is not None
    assert not await pipeline.rate(8, mix_id, 1)
    assert await pipeline.rate(7, mix_id, 1)
    with pytest.raises(ValueError):
        await pipeline.rate(7, mix_id, 5)
    without_db, _, _ = make()
    assert not await without_db.rate(7, mix_id, 1)


async def test_no_mix_after_a_care_turn() -> None:
    pipeline, _, recommender = make()
    session_id, _ = await pipeline.open(7, reading())
    turn = await pipeline.answer(session_id, 7, TellMore("I feel hopeless"))
    assert turn.care
    with pytest.raises(MixWithheld):
        await pipeline.mix(session_id, 7)
    assert recommender.calls == []


def test_mix_request_puts_the_saved_language_first_and_deduplicates() -> None:
    request = mix_request(
        profile(languages=["ja", "EN"], artists=["adele", "Björk"], genres=["Jazz", "jazz"]),
        Preferences(artists=("Adele",), language="en"),
        size=12,
    )
    assert request.languages == ("en", "ja")
    assert request.artists == ("Adele", "Björk")
    assert request.genres == ("Jazz",)
    assert request.size == 12
