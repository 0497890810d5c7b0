"""inference.faces: the right face is found, in the right place, upright, and cut the way FER-2013 faces are."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from inference.errors import NoFaceFound
from inference.faces import CROP_MAX_SIDE, FaceDetector, FoundFace
from inference.image import DecodedImage, decode
from inference.types import FaceBox
from tests.inference.conftest import ASTRONAUT_FACE_CENTRE, HOPPER_FACE_CENTRE, encode

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}


def locate(image: Image.Image, fmt: str = "PNG", detector: FaceDetector | None = None, **params: object) -> FoundFace:
    return (detector or FaceDetector()).locate(decode(encode(image, fmt, **params), **LIMITS), 48)


def centre(box: FaceBox | None) -> tuple[float, float]:
    assert box is not None
    return box.x + box.w / 2, box.y + box.h / 2


def assert_near(point: tuple[float, float], expected: tuple[float, float], tolerance: float) -> None:
    assert abs(point[0] - expected[0]) <= tolerance and abs(point[1] - expected[1]) <= tolerance, (point, expected)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.astype(np.float64).ravel(), b.astype(np.float64).ravel())[0, 1])


@pytest.mark.parametrize(("name", "expected"), [("astronaut", ASTRONAUT_FACE_CENTRE), ("hopper", HOPPER_FACE_CENTRE)])
def test_finds_the_face_in_the_samples(name: str, expected: tuple[int, int], request: pytest.FixtureRequest) -> None:
    found = locate(request.getfixturevalue(name))
    assert found.faces == 1
    assert found.crop.shape == (48, 48) and found.crop.dtype == np.uint8
    assert found.box is not None and 80 <= found.box.w <= 260
    assert_near(centre(found.box), expected, 15)


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_rotated_photo_gives_the_upright_box(astronaut: Image.Image, orientation: int) -> None:
    upright = locate(astronaut, "JPEG", quality=95)
    stored = astronaut.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[0x0112] = orientation
    rotated = locate(stored, "JPEG", quality=95, exif=exif)
    assert rotated.box is not None and upright.box is not None
    assert_near(centre(rotated.box), centre(upright.box), 4)
    assert abs(rotated.box.w - upright.box.w) <= 6
    assert correlation(rotated.crop, upright.crop) > 0.95


@pytest.mark.parametrize("turn", [Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270])
def test_sideways_photo_without_exif_is_retried_turned(astronaut: Image.Image, turn: Image.Transpose) -> None:
    upright = locate(astronaut)
    sideways = locate(astronaut.transpose(turn))
    assert sideways.box is not None
    # The box is reported in the sideways photo's own frame: where the face is in what the user sent.
    x, y = ASTRONAUT_FACE_CENTRE
    expected = (y, 512 - x) if turn == Image.Transpose.ROTATE_90 else (512 - y, x)
    assert_near(centre(sideways.box), expected, 15)
    # The crop handed to the classifier is upright again.
    assert correlation(sideways.crop, upright.crop) > 0.9


def test_no_rotation_retry_when_exif_vouches_for_the_orientation(astronaut: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0112] = 1
    with pytest.raises(NoFaceFound):
        locate(astronaut.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif)


def test_rotation_retry_can_be_switched_off(astronaut: Image.Image) -> None:
    with pytest.raises(NoFaceFound):
        locate(astronaut.transpose(Image.Transpose.ROTATE_90), detector=FaceDetector(rotate_retry=False))


# The width of each sample's face box, in pixels of the sample.
FACE_WIDTH = {"astronaut": 113, "hopper": 229}


@pytest.mark.parametrize("big_one", ["astronaut", "hopper"])
def test_the_largest_of_several_faces_is_read(astronaut: Image.Image, hopper: Image.Image, big_one: str) -> None:
    small_one = "hopper" if big_one == "astronaut" else "astronaut"
    photos = {"astronaut": astronaut, "hopper": hopper}
    centres = {"astronaut": ASTRONAUT_FACE_CENTRE, "hopper": HOPPER_FACE_CENTRE}
    # Scale each sample so that the big face is 150 px wide and the small one 90 px, side by side: both smaller
    # than the first, coarse pass looks for, so that one pass sees both.
    canvas = Image.new("RGB", (1400, 1000), (128, 128, 128))
    placed = {}
    for name, width, left in ((big_one, 150, 700), (small_one, 90, 60)):
        factor = width / FACE_WIDTH[name]
        photo = photos[name]
        canvas.paste(photo.resize((round(photo.width * factor), round(photo.height * factor))), (left, 40))
        placed[name] = (left + centres[name][0] * factor, 40 + centres[name][1] * factor)
    found = locate(canvas)
    assert found.faces == 2
    assert_near(centre(found.box), placed[big_one], 15)


def test_box_is_reported_in_full_resolution_coordinates(astronaut: Image.Image) -> None:
    # A 4096x4096 JPEG is decoded at 1/4 scale; the box must still be in the 4096-pixel frame.
    found = locate(astronaut.resize((4096, 4096), Image.Resampling.BICUBIC), "JPEG", quality=90)
    assert_near(centre(found.box), (ASTRONAUT_FACE_CENTRE[0] * 8, ASTRONAUT_FACE_CENTRE[1] * 8), 120)
    assert found.box is not None and 640 <= found.box.w <= 2080


def test_crop_follows_the_margin(astronaut: Image.Image) -> None:
    image = decode(encode(astronaut, "PNG"), **LIMITS)
    tight = FaceDetector(margin=0.0).locate(image, 48)
    wide = FaceDetector(margin=0.5).locate(image, 48)
    assert tight.box == wide.box
    # The wide crop shows the tight one shrunk to half its size in its middle.
    middle = cv2.resize(tight.crop, (24, 24), interpolation=cv2.INTER_AREA)
    assert correlation(wide.crop[12:36, 12:36], middle) > 0.95


def test_a_tight_face_crop_is_read_whole(astronaut: Image.Image) -> None:
    box = locate(astronaut).box
    assert box is not None
    face = astronaut.crop((box.x, box.y, box.x + box.w, box.y + box.h)).resize((48, 48), Image.Resampling.LANCZOS)
    found = locate(face)
    expected = np.asarray(face.convert("L"))
    assert found.faces == 1
    assert np.abs(found.crop.astype(int) - expected.astype(int)).max() <= 1


def test_small_square_image_without_a_detectable_face_is_read_as_it_is() -> None:
    pixels = np.full((60, 60), 90, dtype=np.uint8)
    pixels[20:40, 10:50] = 200
    found = FaceDetector().locate(DecodedImage(pixels=pixels, original_size=(60, 60), exif_orientation=None), 48)
    assert found.box is None and found.faces == 1
    assert found.crop.shape == (48, 48)
    assert found.crop[24, 24] == 200 and found.crop[2, 2] == 90


@pytest.mark.parametrize("size", [(CROP_MAX_SIDE + 40, CROP_MAX_SIDE + 40), (200, 100)])
def test_no_face_in_a_large_or_oblong_image(size: tuple[int, int]) -> None:
    noise = np.random.default_rng(3).integers(0, 256, (size[1], size[0]), dtype=np.uint8)
    blurred = cv2.GaussianBlur(noise, (0, 0), 6)
    with pytest.raises(NoFaceFound):
        FaceDetector().locate(DecodedImage(pixels=blurred, original_size=size, exif_orientation=1), 48)


def test_margin_is_bounded() -> None:
    with pytest.raises(ValueError):
        FaceDetector(margin=2.0)
