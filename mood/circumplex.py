"""The seven face emotions on Russell's circumplex, and where each goal takes a listener.

Coordinates (valence = unpleasant 0 -> pleasant 1, arousal = calm 0 -> activated 1) are read from the placement of
the matching affect words on the circumplex of Russell (1980, "A circumplex model of affect", J. Pers. Soc. Psychol.
39:1161, Fig. 2) as summarised by Posner, Russell & Peterson (2005, Dev. Psychopathol. 17:715, Fig. 1), rescaled
from [-1, 1] to [0, 1] and rounded to 0.05. They agree in sign and order with the NRC VAD lexicon v1 (Mohammad
2018) entries for the same words. They are approximate positions, not measurements:

    emotion    valence  arousal   circumplex reading
    angry       0.15     0.85     unpleasant, highly activated ("angry", "annoyed")
    disgust     0.20     0.60     unpleasant, moderately activated
    fear        0.15     0.80     unpleasant, activated ("afraid", "tense")
    happy       0.90     0.65     pleasant, moderately activated ("happy", "glad")
    sad         0.15     0.25     unpleasant, deactivated ("sad", "gloomy")
    surprise    0.60     0.85     slightly pleasant, highly activated ("astonished")
    neutral     0.50     0.50     the centre of the circle: no valence, no activation

Placement (`place`): the probability-weighted mean of those coordinates,

    point = sum_e p_e * coord_e / sum_e p_e

Because neutral sits at the centre, its mass pulls the point toward (0.5, 0.5) in proportion to how neutral the face
reads: a face that is 60 % sad and 40 % neutral lands at (0.29, 0.35), nearer the centre than pure sadness.

Targets (`target_for`), with `v, a` the current point; each move goes a fixed share of the way toward an anchor,
so the journey is longer from far away and never overshoots the anchor:

    stay      (v, a)                                       the same point
    lift      v' = max(v, v + 0.70 (0.90 - v))             valence 70 % of the way to 0.90
              a' = a + 0.50 (0.60 - a)                     arousal half way to mid-high 0.60
    calm      a' = min(a, a + 0.70 (0.20 - a))             arousal 70 % of the way down to 0.20 (never up)
              v' = v + 0.50 (0.60 - v)                     valence half way to mildly positive 0.60
    energize  a' = max(a, a + 0.70 (0.90 - a))             arousal 70 % of the way to 0.90 (never down)
              v' = max(v, v + 0.50 (0.80 - v))             valence half way to 0.80 (never down)

Everything here is a pure function: the same input always gives the same point.
"""

from __future__ import annotations

from collections.abc import Mapping

from mood.profile import Goal
from music.types import MoodPoint, clamp

CENTRE = MoodPoint(0.5, 0.5)

EMOTION_POINTS: dict[str, MoodPoint] = {
    "angry": MoodPoint(0.15, 0.85),
    "disgust": MoodPoint(0.20, 0.60),
    "fear": MoodPoint(0.15, 0.80),
    "happy": MoodPoint(0.90, 0.65),
    "sad": MoodPoint(0.15, 0.25),
    "surprise": MoodPoint(0.60, 0.85),
    "neutral": CENTRE,
}


def place(scores: Mapping[str, float]) -> MoodPoint:
    """The probability-weighted position of the emotion scores on the valence/arousal plane.

    Labels outside the seven are ignored, as are negative scores; scores need not sum to 1 (they are normalised).
    With no usable mass the listener is placed at the centre.
    """
    mass = {label: max(0.0, float(p)) for label, p in scores.items() if label in EMOTION_POINTS}
    total = sum(mass.values())
    if total <= 0.0:
        return CENTRE
    valence = sum(p * EMOTION_POINTS[label].valence for label, p in mass.items()) / total
    arousal = sum(p * EMOTION_POINTS[label].energy for label, p in mass.items()) / total
    return MoodPoint(round(clamp(valence), 4), round(clamp(arousal), 4))


def _toward(value: float, anchor: float, share: float) -> float:
    return value + share * (anchor - value)


def target_for(goal: Goal | str | None, current: MoodPoint) -> MoodPoint:
    """Where the mix should end for `goal`, starting from `current` (see the module docstring for the numbers).

    `None` (no goal chosen yet) and "stay" both keep the current point.
    """
    v, a = current.valence, current.energy
    match Goal(goal) if goal is not None else Goal.STAY:
        case Goal.STAY:
            return current
        case Goal.LIFT:
            v2, a2 = max(v, _toward(v, 0.90, 0.70)), _toward(a, 0.60, 0.50)
        case Goal.CALM:
            v2, a2 = _toward(v, 0.60, 0.50), min(a, _toward(a, 0.20, 0.70))
        case Goal.ENERGIZE:
            v2, a2 = max(v, _toward(v, 0.80, 0.50)), max(a, _toward(a, 0.90, 0.70))
    return MoodPoint(round(clamp(v2), 4), round(clamp(a2), 4))
