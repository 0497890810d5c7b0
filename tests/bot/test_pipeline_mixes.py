""" "New mix" is feedback: the pipeline records it as a skip of the mix shown, and the skip shapes later mixes
(storage -> taste -> recommender). Driven through `bot.pipeline.MoodPipeline`, the one place a "New mix" press lands,
with the real mix repository and, where the effect on the music is checked, the real recommender."""

from __future__ import annotations

import pytest

from bot.pipeline import MAX_MIXES, MoodPipeline, TooManyMixes
from mood.conversation import ChooseGoal, TellMore
from mood.profile import Goal
from music.recommender import Recommender
from storage.mixes import SKIPPED, MixRepository
from tests.helpers import FakeEngine, FakeReader, FakeRecommender, reading
from tests.music.test_recommender import grid_catalog


def pipeline(mixes: MixRepository | None, recommender: FakeRecommender | Recommender) -> MoodPipeline:
    return MoodPipeline(reader=FakeReader(reading()), engine=FakeEngine(), recommender=recommender, mixes=mixes)


async def feedback(mixes: MixRepository, user_id: int) -> dict[str, int]:
    return {mix.id: rating for mix, rating in await mixes.feedback(user_id)}


async def test_new_mix_records_a_skip_of_the_mix_shown_and_an_answer_does_not(mixes: MixRepository) -> None:
    moodmix = pipeline(mixes, FakeRecommender())
    session_id, _ = await moodmix.open(7, reading())
    await moodmix.answer(session_id, 7, ChooseGoal(Goal.LIFT))
    first = (await moodmix.mix(session_id, 7)).mix_id
    second = (await moodmix.mix(session_id, 7)).mix_id  # "New mix"
    assert first is not None and second is not None
    assert await feedback(mixes, 7) == {first: SKIPPED}

    # A mix after a new answer follows the conversation: the one before it was not passed over.
    await moodmix.answer(session_id, 7, TellMore("something slower"))
    third = (await moodmix.mix(session_id, 7)).mix_id
    assert await feedback(mixes, 7) == {first: SKIPPED}

    # A thumbs given before "New mix" is kept.
    assert third is not None and await moodmix.rate(7, third, 1)
    await moodmix.mix(session_id, 7)
    assert await feedback(mixes, 7) == {first: SKIPPED, third: 1}


async def test_a_skipped_mix_stays_out_of_later_mixes(mixes: MixRepository) -> None:
    moodmix = pipeline(mixes, Recommender(grid_catalog()))

    async def lift(user_id: int, session_id: str | None = None) -> tuple[str, set[str]]:
        if session_id is None:
            session_id, _ = await moodmix.open(user_id, reading())
        await moodmix.answer(session_id, user_id, ChooseGoal(Goal.LIFT))
        result = await moodmix.mix(session_id, user_id)
        return session_id, {item.track.key for item in result.playlist.tracks}

    later: dict[int, set[str]] = {}
    shown: dict[int, set[str]] = {}
    for user_id, presses_new_mix in ((7, True), (8, False)):
        session_id, shown[user_id] = await lift(user_id)
        if presses_new_mix:
            await moodmix.mix(session_id, user_id)
        else:  # the same journey again, asked for with a goal button: not a skip
            await lift(user_id, session_id)
        for _ in range(5):  # enough mixes that the first is no longer among the recent ones
            _, later[user_id] = await lift(user_id)

    assert [rating for _, rating in await mixes.feedback(7)] == [SKIPPED]
    assert await mixes.feedback(8) == []
    assert shown[7] == shown[8]
    assert shown[8] & later[8]  # without the skip, the best songs for this journey come back
    assert shown[7].isdisjoint(later[7])


async def test_a_session_makes_at_most_max_mixes() -> None:
    recommender = FakeRecommender()
    moodmix = pipeline(None, recommender)
    session_id, _ = await moodmix.open(7, reading())
    for _ in range(MAX_MIXES):
        await moodmix.mix(session_id, 7)
    with pytest.raises(TooManyMixes) as refused:
        await moodmix.mix(session_id, 7)
    assert "/mood" in refused.value.user_message
    assert len(recommender.calls) == MAX_MIXES
