"""The /history mood chart is a PNG drawn in memory: per mix, a dot where the user's valence and arousal were (on a
line through the mixes, oldest on the left) and a ring where the mix aimed, each dot at the height of its value."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cogs.utils.charts import (
    _AROUSAL,
    _PLOT_BOTTOM,
    _PLOT_H,
    _PLOT_TOP,
    _SERIES_OFFSET,
    _VALENCE,
    _plot_xs,
    mood_chart,
)


def _rows(image: Image.Image, colour: tuple[int, int, int], x_range: range) -> list[int]:
    """The rows of the plot (legend excluded) where `colour` appears between the given columns."""
    return [
        y
        for y in range(_PLOT_TOP, image.height)
        if any(image.getpixel((x, y)) == colour for x in x_range if 0 <= x < image.width)
    ]


def _draw(mixes: list[tuple[tuple[float, float], tuple[float, float]]]) -> Image.Image:
    data = mood_chart(mixes)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data)).convert("RGB")


def _centre(image: Image.Image, colour: tuple[int, int, int], x: int) -> float:
    """The middle row of `colour` in the 3 columns around x: the centre of a dot drawn there."""
    rows = _rows(image, colour, range(x - 1, x + 2))
    return (min(rows) + max(rows)) / 2


def _height(value: float) -> float:
    return _PLOT_BOTTOM - value * _PLOT_H


def test_each_dot_sits_at_its_value_oldest_mix_on_the_left() -> None:
    image = _draw([((0.1, 0.5), (0.1, 0.5)), ((0.9, 0.5), (0.9, 0.5))])
    older, newer = _plot_xs(2)
    assert older < newer
    assert _centre(image, _VALENCE, older - _SERIES_OFFSET) == pytest.approx(_height(0.1), abs=2)
    assert _centre(image, _VALENCE, newer - _SERIES_OFFSET) == pytest.approx(_height(0.9), abs=2)
    assert _centre(image, _AROUSAL, older + _SERIES_OFFSET) == pytest.approx(_height(0.5), abs=2)
    assert _centre(image, _AROUSAL, newer + _SERIES_OFFSET) == pytest.approx(_height(0.5), abs=2)


def test_where_a_mix_aimed_is_drawn_apart_from_where_it_started() -> None:
    still = _draw([((0.2, 0.2), (0.2, 0.2))])
    aimed = _draw([((0.2, 0.2), (1.0, 0.2))])
    everywhere = range(still.width)
    assert min(_rows(still, _VALENCE, everywhere)) > _PLOT_BOTTOM - 0.3 * _PLOT_H
    assert min(_rows(aimed, _VALENCE, everywhere)) <= _PLOT_TOP + 5  # the ring at the top of the plot
    assert max(_rows(aimed, _VALENCE, everywhere)) >= _PLOT_BOTTOM - 0.2 * _PLOT_H - 5  # the dot stays put


def test_ten_mixes_fit_and_no_mixes_is_an_error() -> None:
    image = _draw([((n / 10, 1 - n / 10), (0.5, 0.5)) for n in range(10)])
    assert image.size[0] == 480 and image.size[1] < 300
    with pytest.raises(ValueError):
        mood_chart([])
