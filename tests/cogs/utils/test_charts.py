"""The emotion chart is a PNG drawn in memory: one bar per emotion, bar length following the score."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cogs.utils.charts import _BAR, _TOP_BAR, emotion_chart
from inference.types import EMOTIONS


def _bar_length(image: Image.Image, row: int, colour: tuple[int, int, int]) -> int:
    y = 12 + row * 30 + 15  # the middle of the row's bar
    return sum(1 for x in range(image.width) if image.getpixel((x, y)) == colour)


def test_chart_is_a_png_with_one_row_per_emotion_and_bars_in_proportion() -> None:
    scores = dict(zip(EMOTIONS, (0.05, 0.0, 0.05, 0.6, 0.2, 0.0, 0.1), strict=True))
    data = emotion_chart(scores)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.height == 12 * 2 + 30 * len(EMOTIONS)
    happy = _bar_length(image, EMOTIONS.index("happy"), _TOP_BAR)
    sad = _bar_length(image, EMOTIONS.index("sad"), _BAR)
    assert _bar_length(image, EMOTIONS.index("happy"), _BAR) == 0  # the top score is highlighted
    assert happy == pytest.approx(3 * sad, rel=0.05)
    assert _bar_length(image, EMOTIONS.index("disgust"), _BAR) <= 2


def test_no_scores_is_an_error() -> None:
    with pytest.raises(ValueError):
        emotion_chart({})
