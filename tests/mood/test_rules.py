"""The built-in conversation: a documented, deterministic mapping from scores, goal, words and preferences."""

from __future__ import annotations

from typing import Any

import pytest

from mood.care import CARE_REPLY
from mood.circumplex import EMOTION_POINTS, place, target_for
from mood.conversation import ChooseGoal, Conversation, ConversationEngine, CorrectEmotion, MoodContext, TellMore
from mood.profile import Goal
from mood.rules import (
    HELP_REMINDER,
    RulesEngine,
    corrected_scores,
    feeling_phrase,
    goal_hint,
    mood_shift,
    suggested_goal,
)

SAD = {"angry": 0.02, "disgust": 0.01, "fear": 0.05, "happy": 0.02, "sad": 0.7, "surprise": 0.0, "neutral": 0.2}
ANGRY = {"angry": 0.8, "disgust": 0.05, "fear": 0.05, "happy": 0.0, "sad": 0.05, "surprise": 0.0, "neutral": 0.05}
HAPPY = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.9, "sad": 0.0, "surprise": 0.05, "neutral": 0.05}


def open_rules(scores: dict[str, float] = SAD, **context: Any) -> Conversation:
    engine: ConversationEngine = RulesEngine()
    return engine.open(MoodContext(scores=scores, **context))


async def test_start_reads_the_face_and_offers_a_choice() -> None:
    turn = await open_rules().start()
    assert turn.reply == "You look down. Want songs that sit with that, or something to lift you?"
    assert turn.source == "rules" and not turn.care
    profile = turn.profile
    assert profile.goal is None
    assert profile.current == profile.target == place(SAD)
    assert profile.feeling == "down"
    assert profile.title and profile.story


async def test_start_for_an_angry_face_offers_calm() -> None:
    turn = await open_rules(ANGRY).start()
    assert turn.reply.startswith("You look really angry.")
    assert "calm you down" in turn.reply


@pytest.mark.parametrize("goal", list(Goal))
async def test_each_goal_sets_goal_and_target(goal: Goal) -> None:
    conversation = open_rules()
    await conversation.start()
    turn = await conversation.send(ChooseGoal(goal))
    profile = turn.profile
    assert profile.goal is goal
    assert profile.current == place(SAD)
    assert profile.target == target_for(goal, place(SAD))
    assert turn.events == (ChooseGoal(goal),)


async def test_goals_move_the_target_the_right_way() -> None:
    targets = {}
    for goal in Goal:
        conversation = open_rules()
        targets[goal] = (await conversation.send(ChooseGoal(goal))).profile
    current = targets[Goal.STAY].current
    assert targets[Goal.STAY].target == current
    assert targets[Goal.LIFT].target.valence > current.valence + 0.3
    assert targets[Goal.CALM].target.energy < current.energy
    assert targets[Goal.ENERGIZE].target.energy > current.energy + 0.3
    assert targets[Goal.LIFT].title != targets[Goal.CALM].title
    assert "brighter" in targets[Goal.LIFT].story


async def test_correction_puts_nearly_all_mass_on_the_chosen_emotion() -> None:
    conversation = open_rules(SAD)
    await conversation.send(ChooseGoal(Goal.CALM))
    turn = await conversation.send(CorrectEmotion("angry"))
    assert turn.profile.goal is Goal.CALM
    assert turn.profile.current.distance(EMOTION_POINTS["angry"]) < 0.1
    assert turn.profile.target.energy < turn.profile.current.energy
    assert "fired up" in turn.reply or "angry" in turn.reply


def test_corrected_scores_keep_the_rest_in_proportion() -> None:
    corrected = corrected_scores(SAD, "happy")
    assert corrected["happy"] == pytest.approx(0.9)
    assert sum(corrected.values()) == pytest.approx(1.0)
    # sad was 0.7 of the 0.98 not on happy: it keeps that share of the remaining 0.1
    assert corrected["sad"] == pytest.approx(0.1 * 0.7 / 0.98, abs=1e-6)
    with pytest.raises(ValueError):
        corrected_scores(SAD, "bored")


def test_note_cues_nudge_and_are_capped() -> None:
    assert mood_shift("so tired today") == (0.0, -0.15)
    assert mood_shift("I'm not happy") == (-0.15, -0.10)
    assert mood_shift("I don't feel happy") == (-0.15, -0.10)
    assert mood_shift("happy happy happy excited amazing") == (0.25, 0.25)
    assert mood_shift("the weather") == (0.0, 0.0)


async def test_the_note_moves_the_current_point() -> None:
    plain = (await open_rules().start()).profile.current
    tired = (await open_rules(note="exhausted after work").start()).profile.current
    assert tired.valence == plain.valence
    assert tired.energy == pytest.approx(plain.energy - 0.15)


async def test_words_give_genres_languages_and_artists() -> None:
    conversation = open_rules(note="something chill", artists=("Adele", "Adele", "Rosalía"), language="fr")
    turn = await conversation.send(TellMore("maybe some jazz or hip hop, in Spanish"))
    profile = turn.profile
    assert profile.genres == ["chill", "jazz", "hip hop"]
    assert profile.languages == ["es", "fr"]
    assert profile.artists == ["Adele", "Rosalía"]
    assert "jazz" in turn.reply


async def test_tell_more_can_choose_the_goal() -> None:
    conversation = open_rules()
    turn = await conversation.send(TellMore("please cheer me up"))
    assert turn.profile.goal is Goal.LIFT
    assert turn.profile.target.valence > turn.profile.current.valence


def test_goal_hints_and_suggestions() -> None:
    assert goal_hint("I need to unwind") is Goal.CALM
    assert goal_hint("off to the gym") is Goal.ENERGIZE
    assert goal_hint("let me sit with it") is Goal.STAY
    assert goal_hint("what a day") is None
    assert suggested_goal(SAD) is Goal.LIFT
    assert suggested_goal(ANGRY) is Goal.CALM
    assert suggested_goal(HAPPY) is Goal.STAY
    assert suggested_goal(SAD, "help me relax") is Goal.CALM


def test_feeling_phrase_follows_confidence() -> None:
    assert feeling_phrase({"sad": 0.4, "neutral": 0.35, "fear": 0.25}) == "a little down"
    assert feeling_phrase({"sad": 0.6, "neutral": 0.4}) == "down"
    assert feeling_phrase({"sad": 0.9, "neutral": 0.1}) == "really low"
    assert feeling_phrase({}) == "completely calm"


async def test_crisis_note_gives_a_care_turn_without_a_pitch() -> None:
    turn = await open_rules(note="I want to die").start()
    assert turn.care and turn.reply == CARE_REPLY
    assert turn.profile.goal is None


async def test_crisis_in_tell_more_uses_the_users_language_and_later_turns_remind() -> None:
    conversation = open_rules(locale="es-ES")
    care = await conversation.send(TellMore("me quiero morir"))
    assert care.care and "findahelpline.com" in care.reply and "ayuda" in care.reply
    later = await conversation.send(ChooseGoal(Goal.CALM))
    assert not later.care
    assert later.reply.endswith(HELP_REMINDER)


async def test_conversations_do_not_share_state() -> None:
    engine = RulesEngine()
    first = engine.open(MoodContext(scores=SAD))
    second = engine.open(MoodContext(scores=HAPPY))
    await first.send(ChooseGoal(Goal.LIFT))
    turn = await second.start()
    assert turn.profile.goal is None and turn.events == ()
    assert turn.profile.current == place(HAPPY)


async def test_same_input_same_answer() -> None:
    async def run() -> list[str]:
        conversation = open_rules(note="stressed")
        turns = [await conversation.start()]
        turns.append(await conversation.send(CorrectEmotion("fear")))
        turns.append(await conversation.send(ChooseGoal(Goal.CALM)))
        return [repr(turn) for turn in turns]

    assert await run() == await run()
