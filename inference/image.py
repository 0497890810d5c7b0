"""Untrusted bytes -> an upright grayscale picture, decoded only as far as face detection needs.

Checks run cheapest first, and all of them before any pixel is decoded: the byte count, the format from the
bytes' own signature (never the file name or the client's content type), then the width and height from the
header against `max_pixels`. Large JPEGs are decoded at 1/2, 1/4 or 1/8 scale (`Image.draft`) straight to
grayscale, which is where most of the time of a 12-megapixel phone photo would otherwise go. Nothing is written
anywhere: the bytes are read from memory and the result lives in memory.
"""

from __future__ import annotations

import io
import math
import struct
import threading
import warnings
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from inference.errors import ImageTooLarge, NotAnImage, UnreadableImage

# HEIC (most iPhone photos) through pillow-heif's Pillow plugin.
pillow_heif.register_heif_opener()

# Pillow's own decompression-bomb guard stays on as a backstop, at a value chosen here rather than inherited from
# whichever Pillow is installed. It sits above any per-call `max_pixels` (which `decode` enforces), so our check,
# with its clear error, is the one that normally refuses; Pillow's fires only above this ceiling, when the image is
# opened: a DecompressionBombWarning up to twice the ceiling, which `_open` turns into an error, and a
# DecompressionBombError beyond. Both are reported as ImageTooLarge.
PIXEL_CEILING = 100_000_000
Image.MAX_IMAGE_PIXELS = PIXEL_CEILING
# `warnings.catch_warnings` swaps process-wide state: two workers opening at once could restore each other's filters
# (and the warning would be printed instead of raised). Opening reads only the header, so serialising it costs little.
_OPEN_LOCK = threading.Lock()

# A JPEG is decoded at the smallest 1/2^k scale whose long side is still at least this: enough for detection,
# which works at 640 px, and for a sharp face crop. A 4000x3000 phone photo decodes at 1/4 scale, 1000x750.
DECODE_MIN_LONG_SIDE = 960

# EXIF orientations 5 to 8 turn the picture by 90 degrees: width and height swap.
_EXIF_ORIENTATION = 0x0112
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})

# The brands an ISO base-media file declares in its `ftyp` box when it holds HEIF/HEIC images.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})

# 16-bit grayscale (PNG) as Pillow opens it.
_WIDE_GRAY_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})

# What Pillow and its plugins raise on data that claim a format but do not hold a decodable image of it.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, RuntimeError)


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """A decoded photo: upright grayscale pixels, possibly at a reduced scale, and how they map to the original.

    `pixels` is uint8 of shape (height, width). `original_size` is the full-resolution (width, height) after EXIF
    orientation, the frame a `FaceBox` is reported in. `exif_orientation` is the EXIF orientation tag, or None
    when the file had none (then a sideways face may simply be a sideways photo).
    """

    pixels: np.ndarray
    original_size: tuple[int, int]
    exif_orientation: int | None

    @property
    def scale(self) -> tuple[float, float]:
        """Factors (x, y) that turn coordinates in `pixels` into coordinates in the original image."""
        height, width = self.pixels.shape
        return self.original_size[0] / width, self.original_size[1] / height


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name that the bytes' signature announces (JPEG, PNG, WEBP or HEIF), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def check_limits(*, max_bytes: int, max_pixels: int) -> None:
    """Refuse limits that make no sense, or that Pillow's backstop would pre-empt (ValueError)."""
    if max_bytes < 1 or max_pixels < 1:
        raise ValueError("max_bytes and max_pixels must be positive")
    if max_pixels > PIXEL_CEILING:
        raise ValueError(f"max_pixels may be at most {PIXEL_CEILING:,} (inference.image.PIXEL_CEILING)")


def decode(data: bytes, *, max_bytes: int, max_pixels: int) -> DecodedImage:
    """Decode an untrusted photo into upright grayscale pixels.

    Raises ImageTooLarge (more than `max_bytes` bytes, more than `max_pixels` pixels by the header, or a
    decompression bomb), NotAnImage (not a JPEG, PNG, WebP or HEIC by its signature) or UnreadableImage
    (the signature matches but the data are corrupt or cut short).
    """
    check_limits(max_bytes=max_bytes, max_pixels=max_pixels)
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{len(data):,} bytes is over the limit of {max_bytes:,}")
    image_format = sniff_format(data)
    if image_format is None:
        raise NotAnImage("not a JPEG, PNG, WebP or HEIC file")
    image = _open(data, image_format)
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLarge(f"{width}x{height} is over the limit of {max_pixels:,} pixels")
        if image_format == "JPEG":
            # Decode straight to grayscale, at the smallest scale that keeps DECODE_MIN_LONG_SIDE.
            factor = DECODE_MIN_LONG_SIDE / max(width, height)
            image.draft("L", (math.ceil(width * factor), math.ceil(height * factor)))
        try:
            # Load before reading EXIF: a PNG's EXIF may follow its pixels, and reading it would load them anyway.
            image.load()
            orientation = _exif_orientation(image)
            upright = ImageOps.exif_transpose(image) if orientation is not None else image
            pixels = _to_gray(upright)
        except _DECODE_ERRORS as exc:
            raise UnreadableImage(f"{image_format} data corrupt or truncated: {exc}") from exc
    original_size = (height, width) if orientation in _TRANSPOSING_ORIENTATIONS else (width, height)
    return DecodedImage(pixels=pixels, original_size=original_size, exif_orientation=orientation)


def _open(data: bytes, image_format: str) -> Image.Image:
    """Open (read the header of) data of a sniffed format, with Pillow's decompression-bomb warning as an error."""
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the announced format may open the data: a PNG signature in front of something else is corrupt.
            return Image.open(io.BytesIO(data), formats=[image_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(str(exc)) from exc
    except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
        raise UnreadableImage(f"{image_format} header unreadable: {exc}") from exc


def _exif_orientation(image: Image.Image) -> int | None:
    """The EXIF orientation tag (1-8), or None when it is absent or the EXIF block cannot be parsed."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION)
    except _DECODE_ERRORS:
        # A damaged EXIF block should not cost the user their photo: treat it as absent.
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _to_gray(image: Image.Image) -> np.ndarray:
    """One 8-bit luminance channel, uint8 (height, width), whatever the source mode."""
    if image.mode in _WIDE_GRAY_MODES:
        # Pillow's conversion to L clips 16-bit values at 255 (a white picture): keep the high byte instead.
        return (np.asarray(image).astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8)
    if image.mode == "P":
        # Going through RGBA keeps Pillow from warning about palette transparency given as bytes.
        image = image.convert("RGBA")
    return np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.uint8)
