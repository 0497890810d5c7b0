"""inference.image: every format MoodMix accepts decodes upright and gray; everything else is refused early."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from inference.errors import ImageTooLarge, NotAnImage, UnreadableImage
from inference.image import DECODE_MIN_LONG_SIDE, PIXEL_CEILING, check_limits, decode, sniff_format
from tests import fixtures
from tests.inference.conftest import encode

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pixels": 40_000_000}


def marked(width: int = 160, height: int = 120) -> Image.Image:
    """A dark RGB picture with one bright block in its top-left corner, so orientation is visible."""
    image = Image.new("RGB", (width, height), (20, 20, 20))
    image.paste((250, 250, 250), (0, 0, width // 4, height // 4))
    return image


@pytest.mark.parametrize(("fmt", "params"), [("JPEG", {"quality": 95}), ("PNG", {}), ("WEBP", {"lossless": True})])
def test_decodes_common_formats_to_gray(fmt: str, params: dict[str, object]) -> None:
    decoded = decode(encode(marked(), fmt, **params), **LIMITS)
    assert decoded.pixels.shape == (120, 160)
    assert decoded.pixels.dtype == np.uint8
    assert decoded.original_size == (160, 120)
    assert decoded.exif_orientation is None
    assert decoded.pixels[5, 5] > 230 and decoded.pixels[100, 140] < 40


def test_decodes_heic() -> None:
    decoded = decode(encode(marked(), "HEIF", quality=90), **LIMITS)
    assert decoded.pixels.shape == (120, 160)
    assert decoded.pixels[5, 5] > 200 and decoded.pixels[100, 140] < 60


def test_palette_png_with_transparency_decodes_without_warnings() -> None:
    image = marked().convert("P")
    image.info["transparency"] = 0
    assert decode(encode(image, "PNG"), **LIMITS).pixels.shape == (120, 160)


def test_sixteen_bit_grayscale_keeps_its_tones() -> None:
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    decoded = decode(encode(Image.fromarray(ramp), "PNG"), **LIMITS)
    assert decoded.pixels[0, 0] == 0 and decoded.pixels[-1, -1] == 255
    assert 120 <= decoded.pixels[32, 32] <= 135


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation: int) -> None:
    upright = marked()
    # What a camera stores for each orientation: the upright picture turned the other way.
    stored = upright.transpose(
        {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation]
    )
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode(encode(stored, "JPEG", quality=95, exif=exif), **LIMITS)
    assert decoded.exif_orientation == orientation
    assert decoded.original_size == (160, 120)
    assert decoded.pixels.shape == (120, 160)
    assert decoded.pixels[5, 5] > 230 and decoded.pixels[100, 140] < 40


def test_large_jpeg_is_decoded_at_reduced_scale_and_maps_back() -> None:
    photo = marked(4000, 3000)
    decoded = decode(encode(photo, "JPEG", quality=80), **LIMITS)
    assert decoded.pixels.shape == (750, 1000)
    assert max(decoded.pixels.shape) >= DECODE_MIN_LONG_SIDE
    assert decoded.original_size == (4000, 3000)
    assert decoded.scale == (4.0, 4.0)


def test_too_many_bytes_is_refused_before_anything_else() -> None:
    with pytest.raises(ImageTooLarge):
        decode(b"\xff\xd8\xff" + b"\x00" * 2000, max_bytes=1000, max_pixels=1000)


def test_dimensions_over_the_limit_are_refused_before_decoding() -> None:
    # The header says 5000x5000 but the pixel data is garbage: decoding would fail as UnreadableImage,
    # so ImageTooLarge proves the refusal came from the header alone.
    bomb = fixtures.huge_dimension_png(5000, 5000)
    with pytest.raises(ImageTooLarge):
        decode(bomb, max_bytes=10_000, max_pixels=1_000_000)


@pytest.mark.parametrize("side", [11_000, 50_000])
def test_decompression_bombs_are_refused_by_pillows_guard_too(side: int) -> None:
    # 121 MP lies in Pillow's warning band (ceiling to twice it), 2.5 GP in its error band.
    assert side * side > PIXEL_CEILING
    with pytest.raises(ImageTooLarge):
        decode(fixtures.huge_dimension_png(side, side), **LIMITS)


def test_a_bomb_in_pillows_warning_band_is_refused_without_a_warning_escaping() -> None:
    # Outside pytest (whose settings make every warning an error) a DecompressionBombWarning is only printed:
    # with the default filters in force here, `decode` must still raise, and no warning may get out.
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("default")
        with pytest.raises(ImageTooLarge, match="decompression bomb"):
            decode(fixtures.huge_dimension_png(11_000, 11_000), **LIMITS)
    assert escaped == []


@pytest.mark.parametrize(
    "data",
    [
        fixtures.zero_bytes(),
        fixtures.not_an_image(),
        bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8)),
        b"GIF89a" + b"\x00" * 64,
    ],
    ids=["zero-bytes", "text", "random-bytes", "gif"],
)
def test_non_images_are_refused(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        decode(data, **LIMITS)


@pytest.mark.parametrize(
    "data",
    [fixtures.truncated_jpeg(), fixtures.corrupt_png(), b"\xff\xd8\xff\xe0" + b"\x13" * 100, b"\x89PNG\r\n\x1a\n"],
    ids=["truncated-jpeg", "corrupt-png", "jpeg-signature-garbage", "png-signature-only"],
)
def test_corrupt_images_are_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableImage):
        decode(data, **LIMITS)


def test_format_is_sniffed_from_the_bytes() -> None:
    assert sniff_format(encode(marked(), "WEBP")) == "WEBP"
    assert sniff_format(encode(marked(), "HEIF")) == "HEIF"
    assert sniff_format(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None


def test_limits_above_pillows_ceiling_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="max_pixels"):
        check_limits(max_bytes=1, max_pixels=PIXEL_CEILING + 1)
