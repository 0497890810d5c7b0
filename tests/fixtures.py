"""Test images, made in code: a sample selfie and every kind of bad input a user can send instead.

No photo of a person is generated here and no FER-2013 data is ever used; the only real face is the public-domain
sample (Eileen Collins, NASA) that ships with the bot or sits in the shared samples.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
# The astronaut smiles: the emotion model should read "happy". The bot's own copy is preferred once it ships one.
SAMPLE_SELFIES = (REPO / "bot" / "assets" / "astronaut.png", Path("/work/shared/samples/astronaut.png"))

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def astronaut_png() -> bytes:
    """The sample selfie: a smiling face, 512x512 PNG."""
    for path in SAMPLE_SELFIES:
        if path.is_file():
            return path.read_bytes()
    raise FileNotFoundError(f"no sample selfie at any of {[str(p) for p in SAMPLE_SELFIES]}")


def no_face_png(size: int = 320) -> bytes:
    """A perfectly good photo of no face: a sky-to-sea gradient with a sun and some hills."""
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    for y in range(size):
        shade = int(255 * y / size)
        draw.line([(0, y), (size, y)], fill=(90 + shade // 3, 140 + shade // 4, 255 - shade // 2))
    draw.ellipse((size * 0.65, size * 0.1, size * 0.85, size * 0.3), fill=(255, 220, 90))
    draw.polygon([(0, size), (size * 0.35, size * 0.55), (size * 0.7, size)], fill=(40, 110, 60))
    return _encode(image, "PNG")


def not_an_image() -> bytes:
    """Text that a client might still label image/png."""
    return b"Dear diary,\nthis is not a selfie, it is a text file with a .png name.\n" * 20


def zero_bytes() -> bytes:
    return b""


def truncated_jpeg() -> bytes:
    """A valid JPEG cut off halfway: the header reads fine, the picture data ends early."""
    data = _encode(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG")
    return data[: len(data) // 2]


def corrupt_png() -> bytes:
    """A PNG whose header is sound but whose pixel data is not a zlib stream."""
    width = height = 64
    garbage = bytes((i * 37 + 11) % 256 for i in range(512))
    return _png(width, height, idat=garbage)


def huge_dimension_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A few hundred bytes whose header claims a giant picture (2.5 gigapixels by default): a decompression bomb."""
    return _png(width, height, idat=zlib.compress(b"\x00" * 1024))


def _png(width: int, height: int, *, idat: bytes) -> bytes:
    """A PNG built chunk by chunk (8-bit RGB), so the header can say what the data does not hold."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
