"""The bad-input images stay bad in the way each is meant to be (else the e2e tests would test nothing)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image, UnidentifiedImageError

from tests import fixtures


@pytest.mark.parametrize("make", [fixtures.not_an_image, fixtures.zero_bytes])
def test_not_images_are_not_recognised(make: Callable[[], bytes]) -> None:
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(make()))


@pytest.mark.parametrize("make", [fixtures.corrupt_png, fixtures.truncated_jpeg])
def test_corrupt_images_have_a_readable_header_and_unreadable_pixels(make: Callable[[], bytes]) -> None:
    image = Image.open(io.BytesIO(make()))
    assert image.format in {"PNG", "JPEG"}
    with pytest.raises(OSError):
        image.load()


def test_the_huge_png_is_tiny_but_claims_gigapixels() -> None:
    data = fixtures.huge_dimension_png()
    assert len(data) < 1000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


def test_good_images_decode() -> None:
    for data, size in ((fixtures.no_face_png(), (320, 320)), (fixtures.astronaut_png(), (512, 512))):
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.size == size
