"""The charts MoodMix attaches, drawn with Pillow as PNG bytes in memory (never on disk): the emotion chart (a small
horizontal bar chart of the seven scores) and the mood chart of /history (valence and arousal over the user's mixes).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

CHART_FILENAME = "emotions.png"
MOOD_CHART_FILENAME = "moods.png"

_WIDTH, _ROW, _PAD, _LABEL_W, _VALUE_W = 480, 30, 12, 90, 56
_BACKGROUND = (47, 49, 54)  # Discord's dark theme, so the chart sits in the embed without a frame
_TEXT = (220, 221, 222)
_BAR = (114, 137, 218)
_TOP_BAR = (250, 166, 26)

# The mood chart: a legend row, the plot, then "older ... newer" under it.
_LEGEND_H, _PLOT_H, _CAPTION_H, _AXIS_W, _EDGE = 26, 160, 22, 34, 12
_PLOT_TOP = _PAD + _LEGEND_H
_PLOT_BOTTOM = _PLOT_TOP + _PLOT_H
_PLOT_LEFT = _PAD + _AXIS_W
_PLOT_RIGHT = _WIDTH - _PAD
_GRID = (79, 84, 92)
_VALENCE = (67, 181, 129)
_AROUSAL = (240, 71, 71)
_DOT = 4
_SERIES_OFFSET = 3  # valence a little left of the mix, arousal a little right, so equal values stay apart

Point = tuple[float, float]  # (valence, arousal), both in [0, 1]


def _canvas(height: int) -> tuple[Image.Image, ImageDraw.ImageDraw, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    image = Image.new("RGB", (_WIDTH, height), _BACKGROUND)
    return image, ImageDraw.Draw(image), ImageFont.load_default(size=15)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _share(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def emotion_chart(scores: Mapping[str, float]) -> bytes:
    """Draw one bar per emotion, in the given order, the largest score highlighted; return PNG bytes."""
    if not scores:
        raise ValueError("no scores to draw")
    image, draw, font = _canvas(_PAD * 2 + _ROW * len(scores))
    top = max(scores, key=lambda label: scores[label])
    bar_space = _WIDTH - 2 * _PAD - _LABEL_W - _VALUE_W
    for row, (label, value) in enumerate(scores.items()):
        y = _PAD + row * _ROW
        share = _share(value)
        draw.text((_PAD, y + 6), label, fill=_TEXT, font=font)
        x0 = _PAD + _LABEL_W
        draw.rectangle(
            (x0, y + 6, x0 + max(1, round(share * bar_space)), y + _ROW - 6), fill=_TOP_BAR if label == top else _BAR
        )
        draw.text((_WIDTH - _PAD - _VALUE_W + 6, y + 6), f"{share:.0%}", fill=_TEXT, font=font)
    return _png(image)


def mood_chart(mixes: Sequence[tuple[Point, Point]]) -> bytes:
    """Draw the user's mood over their mixes, oldest on the left; return PNG bytes.

    Each mix is `(current, target)`: the (valence, arousal) it started from and the one it aimed for. Where the user
    was is a filled dot on a line per axis; where the mix aimed is a ring, joined to its dot by a thin stick.
    """
    if not mixes:
        raise ValueError("no mixes to draw")
    image, draw, font = _canvas(_PLOT_BOTTOM + _CAPTION_H + _PAD)
    for level in (0.0, 0.5, 1.0):
        y = _plot_y(level)
        draw.line((_PLOT_LEFT, y, _PLOT_RIGHT, y), fill=_GRID)
        draw.text((_PAD, y - 9), f"{level:g}", fill=_TEXT, font=font)
    _legend(draw, font)
    xs = _plot_xs(len(mixes))
    for axis, colour, offset in ((0, _VALENCE, -_SERIES_OFFSET), (1, _AROUSAL, _SERIES_OFFSET)):
        starts = [(x + offset, _plot_y(current[axis])) for x, (current, _) in zip(xs, mixes, strict=True)]
        aims = [(x + offset, _plot_y(target[axis])) for x, (_, target) in zip(xs, mixes, strict=True)]
        for (x, y0), (_, y1) in zip(starts, aims, strict=True):
            draw.line((x, y0, x, y1), fill=colour)
        if len(starts) > 1:
            draw.line(starts, fill=colour, width=2)
        for x, y in aims:
            draw.ellipse((x - _DOT, y - _DOT, x + _DOT, y + _DOT), outline=colour, width=2)
        for x, y in starts:
            draw.ellipse((x - _DOT, y - _DOT, x + _DOT, y + _DOT), fill=colour)
    caption_y = _PLOT_BOTTOM + 6
    draw.text((_PLOT_LEFT, caption_y), "older", fill=_TEXT, font=font)
    draw.text((_PLOT_RIGHT, caption_y), "newer", fill=_TEXT, font=font, anchor="ra")
    return _png(image)


def _plot_y(value: float) -> int:
    return round(_PLOT_BOTTOM - _share(value) * _PLOT_H)


def _plot_xs(count: int) -> list[int]:
    """Mixes spread evenly across the plot, a lone one in the middle."""
    if count == 1:
        return [(_PLOT_LEFT + _PLOT_RIGHT) // 2]
    left, span = _PLOT_LEFT + _EDGE, _PLOT_RIGHT - _PLOT_LEFT - 2 * _EDGE
    return [round(left + span * i / (count - 1)) for i in range(count)]


def _legend(draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    x, y = _PLOT_LEFT, _PAD + 6
    for label, colour, filled in (
        ("valence", _VALENCE, True),
        ("arousal", _AROUSAL, True),
        ("where each mix aimed", _TEXT, False),
    ):
        draw.ellipse((x, y, x + 2 * _DOT, y + 2 * _DOT), fill=colour if filled else None, outline=colour, width=2)
        x += 2 * _DOT + 6
        draw.text((x, y - 4), label, fill=_TEXT, font=font)
        x += round(draw.textlength(label, font=font)) + 18
