"""Find the face to read in a decoded photo and cut it out the way FER-2013 faces are cut.

OpenCV's Haar cascades (shipped in opencv-python-headless<5, `cv2.data`) run on a copy of the photo scaled to
DETECT_LONG_SIDE. The search goes from cheap to thorough and stops at the first pass that finds a face:

1. frontal (alt2), faces of at least 20% of the short side, in steps of 20%: a selfie's face is large, and
   because the cost of a Haar search grows with (image size / smallest face)^2 this pass is several times
   cheaper than a fine one;
2. frontal (alt2), faces down to 6%: selfies at arm's length, group photos;
3. frontal (default): more recall and more false positives, so only when alt2 found nothing;
4. profile, on the photo and its mirror image (the cascade only knows faces turned one way);
5. when the photo carried no EXIF orientation, passes 1-2 again on the photo turned by 90 and 270 degrees
   (each pass on both turns; the turn with the stronger detection wins).

Of the faces a pass finds, the largest is read: in a selfie with people behind, that is the sender. The crop
around it is made square, widened or narrowed by `margin` (see CROP_MARGIN), and scaled to the classifier's
input size.

A nearly square image that is already a face crop is read as it is, whole. Such an image is recognised when the
largest face fills it (its box is at least FILLS_FRAME of the short side: measured on FER-2013 test faces, the
cascade finds a box of about 0.84 of the frame in half of them and nothing in the other half, because a face that
touches the edges leaves the cascade too little context), or when nothing is found in it and it is small (at most
CROP_MAX_SIDE pixels: a thumbnail-sized square upload is a face crop far more often than a landscape).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import cv2.data
import numpy as np

from inference.errors import NoFaceFound
from inference.image import DecodedImage
from inference.types import FaceBox

DETECT_LONG_SIDE = 640
# How much wider than the Haar box the crop is, per side, as a fraction of the box's side (negative: narrower).
# FER-2013 faces were cut at about the Haar box: run with these settings on 1,500 FER-2013 test faces (enlarged 4x
# and edge-padded so that the cascade sees some surroundings), alt2 found 1,125, with a box of a median 0.97 of the
# FER frame (quartiles 0.89 and 1.02), centred to within 1%. Widening by 2% per side reproduces that framing.
# The sample photos agree: with the epoch-6 model (PublicTest 52.8%), margins from -0.15 to +0.30 gave the astronaut
# "happy" 0.66-0.94 and Grace Hopper "neutral" 0.14-0.46, both highest at +0.02 (0.94 and 0.46); from +0.15 on,
# Grace Hopper reads "happy", and at -0.15 "fear".
CROP_MARGIN = 0.02
# Rules for reading a nearly square image (long side at most CROP_MAX_ASPECT times the short) whole.
CROP_MAX_ASPECT = 1.25
FILLS_FRAME = 0.75
CROP_MAX_SIDE = 256

_FRONTAL = "haarcascade_frontalface_alt2.xml"
_FRONTAL_RECALL = "haarcascade_frontalface_default.xml"
_PROFILE = "haarcascade_profileface.xml"
_MIN_NEIGHBORS = 5

_Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True, slots=True)
class _Pass:
    cascade: str
    min_face: float  # the smallest face searched, as a fraction of the image's short side
    scale_factor: float = 1.1  # the step between the sizes searched
    mirror: bool = False  # also search the mirror image


_UPRIGHT_PASSES = (
    # Steps of 20% halve this pass's cost (15 -> 8.5 ms on the benchmark photo) and, on FER-2013 faces, give the
    # same median box as steps of 10%.
    _Pass(_FRONTAL, 0.20, scale_factor=1.2),
    _Pass(_FRONTAL, 0.06),
    _Pass(_FRONTAL_RECALL, 0.06),
    _Pass(_PROFILE, 0.06, mirror=True),
)
_ROTATED_PASSES = _UPRIGHT_PASSES[:2]
# cv2.rotate codes for a photo taken sideways: turning it this way makes the face upright.
_ROTATIONS = (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE)


@dataclass(frozen=True, slots=True)
class FoundFace:
    """The face chosen for reading.

    `crop` is uint8 (size, size), upright. `box` is the detected face in original image coordinates (after EXIF
    orientation), or None when nothing was detected and the whole image was read as a face crop (then `faces`
    is 1). `faces` counts the faces found by the pass that found this one (smaller faces that a later, finer
    pass would have found are not counted).
    """

    crop: np.ndarray
    box: FaceBox | None
    faces: int


class FaceDetector:
    """Haar-cascade face finder. Safe to share between threads: each thread gets its own cascades, because
    `CascadeClassifier.detectMultiScale` keeps per-call state in the classifier object."""

    def __init__(self, *, margin: float = CROP_MARGIN, rotate_retry: bool = True) -> None:
        if not -0.3 <= margin <= 1.0:
            raise ValueError("margin must lie between -0.3 and 1.0")
        self.margin = margin
        self.rotate_retry = rotate_retry
        self._local = threading.local()

    def locate(self, image: DecodedImage, size: int) -> FoundFace:
        """The largest face in `image`, cropped to `size` x `size`. Raises NoFaceFound."""
        pixels = image.pixels
        height, width = pixels.shape
        square = max(height, width) <= CROP_MAX_ASPECT * min(height, width)
        face_sized = square and max(height, width) <= CROP_MAX_SIDE
        small, to_pixels = _detection_copy(pixels)
        # A face-sized image is read whole when nothing is found upright: turning it could only add false finds.
        turn = self.rotate_retry and image.exif_orientation is None and not face_sized
        rotation, boxes = self._search(small, turn=turn)
        if not boxes:
            if face_sized:
                return FoundFace(crop=_resize(pixels, size), box=None, faces=1)
            raise NoFaceFound("no face found")
        largest = max(boxes, key=lambda b: b[2] * b[3])
        box = _unrotate(largest, rotation, small.shape) * to_pixels
        if rotation is None and square and max(box[2], box[3]) >= FILLS_FRAME * min(height, width):
            crop = _resize(pixels, size)
        else:
            crop = _crop(pixels, box, self.margin, size)
            if rotation is not None:
                crop = cv2.rotate(crop, rotation)
        return FoundFace(crop=crop, box=_to_original(box, image), faces=len(boxes))

    def _search(self, small: np.ndarray, *, turn: bool) -> tuple[int | None, list[_Box]]:
        """The rotation (None: upright) and the boxes found in the view turned by it, from the first pass that
        finds any. All upright passes come first; then, with `turn`, both turns at each pass."""
        # No histogram equalisation: the cascade normalises each window's contrast itself, and a global
        # equalisation, skewed by a large flat background, lost the smaller face in a two-face photo.
        for step in _UPRIGHT_PASSES:
            boxes = [box for box, _ in self._detect(step, small)]
            if step.mirror:
                # Boxes found in the mirror image, mirrored back.
                width = small.shape[1]
                mirrored = self._detect(step, cv2.flip(small, 1))
                boxes += [(width - x - w, y, w, h) for (x, y, w, h), _ in mirrored]
            if boxes:
                return None, boxes
        if not turn:
            return None, []
        views = {rotation: cv2.rotate(small, rotation) for rotation in _ROTATIONS}
        for step in _ROTATED_PASSES:
            found = {rotation: self._detect(step, view) for rotation, view in views.items()}
            # One of the two turns shows the photo upside down, where collars and backgrounds can pass for a
            # face; a real, upright face gathers far more overlapping detections (on the astronaut: 11 against 6
            # at the coarse pass, 36 against 7 at the fine one), so the turn with the strongest detection wins.
            rotation = max(found, key=lambda r: max((n for _, n in found[r]), default=0))
            if found[rotation]:
                return rotation, [box for box, _ in found[rotation]]
        return None, []

    def _detect(self, step: _Pass, view: np.ndarray) -> list[tuple[_Box, int]]:
        """Boxes (x, y, w, h) found in `view`, each with its number of merged detections (its strength)."""
        min_side = max(20, round(step.min_face * min(view.shape)))
        boxes, strengths = self._cascade(step.cascade).detectMultiScale2(
            view, scaleFactor=step.scale_factor, minNeighbors=_MIN_NEIGHBORS, minSize=(min_side, min_side)
        )
        return [((int(x), int(y), int(w), int(h)), int(n)) for (x, y, w, h), n in zip(boxes, strengths, strict=True)]

    def _cascade(self, name: str) -> cv2.CascadeClassifier:
        cascades: dict[str, cv2.CascadeClassifier] | None = getattr(self._local, "cascades", None)
        if cascades is None:
            cascades = self._local.cascades = {}
        if name not in cascades:
            cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
            if cascade.empty():
                raise RuntimeError(f"OpenCV ships no {name}: opencv-python-headless>=4.9,<5 is required")
            cascades[name] = cascade
        return cascades[name]


def _detection_copy(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """`pixels` scaled down to DETECT_LONG_SIDE at most, and the factor back to `pixels` coordinates."""
    height, width = pixels.shape
    factor = DETECT_LONG_SIDE / max(height, width)
    if factor >= 1.0:
        return np.ascontiguousarray(pixels), 1.0
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), 1.0 / factor


def _unrotate(box: _Box, rotation: int | None, shape: tuple[int, ...]) -> np.ndarray:
    """A box found in a rotated view, as float (x, y, w, h) in the unrotated image of `shape` (height, width)."""
    x, y, w, h = box
    height, width = shape[:2]
    if rotation == cv2.ROTATE_90_CLOCKWISE:
        # rotated[r, c] = image[height - 1 - c, r]
        return np.array([y, height - x - w, h, w], dtype=np.float64)
    if rotation == cv2.ROTATE_90_COUNTERCLOCKWISE:
        # rotated[r, c] = image[c, width - 1 - r]
        return np.array([width - y - h, x, h, w], dtype=np.float64)
    return np.array([x, y, w, h], dtype=np.float64)


def _crop(pixels: np.ndarray, box: np.ndarray, margin: float, size: int) -> np.ndarray:
    """The square around `box` widened by `margin` per side, padded by edge replication where it leaves the image."""
    x, y, w, h = box
    side = max(w, h) * (1.0 + 2.0 * margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    left, top = round(cx - side / 2.0), round(cy - side / 2.0)
    side_px = max(1, round(side))
    height, width = pixels.shape
    pad = max(0, -left, -top, left + side_px - width, top + side_px - height)
    if pad:
        pixels = cv2.copyMakeBorder(pixels, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    region = pixels[top + pad : top + pad + side_px, left + pad : left + pad + side_px]
    return _resize(region, size)


def _resize(pixels: np.ndarray, size: int) -> np.ndarray:
    """Scale to size x size: area averaging when shrinking (no aliasing), bilinear when enlarging."""
    shrinking = min(pixels.shape) >= size
    return cv2.resize(pixels, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _to_original(box: np.ndarray, image: DecodedImage) -> FaceBox:
    """A float box in `image.pixels` coordinates as a FaceBox in original image coordinates, inside the image."""
    scale_x, scale_y = image.scale
    width, height = image.original_size
    x = min(max(0, round(box[0] * scale_x)), width - 1)
    y = min(max(0, round(box[1] * scale_y)), height - 1)
    w = min(round(box[2] * scale_x), width - x)
    h = min(round(box[3] * scale_y), height - y)
    return FaceBox(x=x, y=y, w=w, h=h)
