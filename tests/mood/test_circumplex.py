"""Placement of face scores on the circumplex, and the targets of each goal."""

from __future__ import annotations

import pytest

from mood.circumplex import CENTRE, EMOTION_POINTS, place, target_for
from mood.profile import Goal
from music.types import MoodPoint

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_every_face_label_has_a_point_in_the_unit_square() -> None:
    assert tuple(EMOTION_POINTS) == LABELS
    for point in EMOTION_POINTS.values():
        assert 0.0 <= point.valence <= 1.0 and 0.0 <= point.energy <= 1.0


def test_circumplex_quadrants() -> None:
    happy, sad, angry = EMOTION_POINTS["happy"], EMOTION_POINTS["sad"], EMOTION_POINTS["angry"]
    assert happy.valence > 0.5 > sad.valence
    assert angry.energy > 0.5 > sad.energy
    assert angry.valence < 0.5 and EMOTION_POINTS["fear"].energy > 0.5
    assert EMOTION_POINTS["neutral"] == CENTRE


def test_a_pure_emotion_lands_on_its_point() -> None:
    for label in LABELS:
        scores = {other: 0.0 for other in LABELS} | {label: 1.0}
        assert place(scores) == EMOTION_POINTS[label]


def test_neutral_mass_pulls_toward_the_centre() -> None:
    # The documented example: 60 % sad, 40 % neutral.
    assert place({"sad": 0.6, "neutral": 0.4}) == MoodPoint(0.29, 0.35)
    pure_sad, mixed = place({"sad": 1.0}), place({"sad": 0.6, "neutral": 0.4})
    assert mixed.distance(CENTRE) < pure_sad.distance(CENTRE)


def test_place_normalises_and_ignores_unknown_labels() -> None:
    assert place({"sad": 3.0, "neutral": 2.0, "bored": 5.0}) == place({"sad": 0.6, "neutral": 0.4})
    assert place({}) == CENTRE
    assert place({"happy": -1.0}) == CENTRE


@pytest.mark.parametrize("start", [EMOTION_POINTS["sad"], EMOTION_POINTS["angry"], CENTRE, MoodPoint(0.95, 0.1)])
def test_each_goal_moves_the_way_it_says(start: MoodPoint) -> None:
    assert target_for(Goal.STAY, start) == start
    assert target_for(None, start) == start
    lift = target_for(Goal.LIFT, start)
    assert lift.valence >= start.valence
    assert abs(lift.energy - 0.6) <= abs(start.energy - 0.6)
    calm = target_for(Goal.CALM, start)
    assert calm.energy <= start.energy
    assert abs(calm.valence - 0.6) <= abs(start.valence - 0.6)
    energize = target_for(Goal.ENERGIZE, start)
    assert energize.energy >= start.energy and energize.valence >= start.valence


def test_target_numbers_from_a_sad_start() -> None:
    sad = EMOTION_POINTS["sad"]  # (0.15, 0.25)
    assert target_for("lift", sad) == MoodPoint(0.675, 0.425)
    assert target_for(Goal.CALM, sad) == MoodPoint(0.375, 0.215)
    assert target_for(Goal.ENERGIZE, sad) == MoodPoint(0.475, 0.705)


def test_calm_from_anger_lowers_arousal_a_lot() -> None:
    calm = target_for(Goal.CALM, EMOTION_POINTS["angry"])
    assert calm.energy == pytest.approx(0.395)
    assert calm.valence == pytest.approx(0.375)


def test_unknown_goal_is_refused() -> None:
    with pytest.raises(ValueError):
        target_for("dance", CENTRE)
