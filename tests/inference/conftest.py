"""Shared fixtures of the inference tests: the sample photos the bot ships, and the shipped model when present."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from inference.classifier import EmotionClassifier, shipped_model_path

ASSETS = Path(__file__).resolve().parents[2] / "bot" / "assets"
# Where the faces are in the samples, checked by eye: the centre of each face in image coordinates.
ASTRONAUT_FACE_CENTRE = (223, 116)
HOPPER_FACE_CENTRE = (262, 222)


def sample(name: str) -> Image.Image:
    """A sample photo from bot/assets, loaded as RGB."""
    with Image.open(ASSETS / name) as image:
        return image.convert("RGB")


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    """`image` encoded in memory."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    return sample("astronaut.png")


@pytest.fixture(scope="session")
def hopper() -> Image.Image:
    return sample("grace_hopper.jpg")


@pytest.fixture(scope="session")
def classifier() -> EmotionClassifier:
    """The shipped LiteRT model; the tests that need it skip only while the lead has not exported it yet."""
    path = shipped_model_path()
    if not path.is_file() or not path.with_suffix(".json").is_file():
        pytest.skip(f"no exported model at {path} (models/export.py writes it)")
    return EmotionClassifier()
