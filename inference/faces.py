"""Find the face to read in a decoded photo and cut it out the way FER-2013 faces are cut.

OpenCV's Haar cascades (shipped in opencv-python-headless<5, `cv2.data`) run on a copy of the photo scaled to
DETECT_LONG_SIDE. The search goes from cheap to thorough. First the passes whose finds are trusted, stopping at the
first that finds a face (when that face gathered fewer than SURE neighbours and the photo may be turned, it competes
with the turned views instead, as in 3-4 below):

1. frontal (alt2), faces of at least 20% of the short side, in steps of 20%: a selfie's face is large, and
   because the cost of a Haar search grows with (image size / smallest face)^2 this pass is several times
   cheaper than a fine one;
2. frontal (alt2), faces down to 6%: selfies at arm's length, group photos.

When they find nothing, two candidates compete:

3. upright, the first of: frontal (default), which has more recall and more false positives, then profile, on
   the photo and its mirror image (the cascade only knows faces turned one way);
4. when the photo carried no EXIF orientation, passes 1-2 on the photo turned by 90, 270 and 180 degrees (each pass
   on every turn; the first pass that finds gives the candidate, from the turn with the stronger detection).

The candidate whose strongest detection gathered more neighbours (overlapping raw detections) wins: a real face is
found at many nearby positions and scales, a false one barely passes the minimum. Grace Hopper turned by 90 degrees,
as a quality-75 JPEG, shows why the upright passes may not simply go first: the default cascade finds a 42 px false
face upright (6 neighbours), the turned view her real face (15).

Before them, a nearly square image that could be a face crop (see below) is searched once more, padded by PAD per
side, for a face that fills most of it: a face that touches the edges leaves the cascade too little context, and the
border gives it some. After them, when the photo was scaled down for detection and nothing was found, a last pass
looks for small faces (down to 20 px, up to FINE_MAX_FACE of the short side: larger ones were searched already) on
the image as decoded, at most FINE_LONG_SIDE: a face of 150 px in a 4032x3024 photo is 24 px in the 640 px copy,
under the 6% pass's smallest.

Of the faces a pass finds, the largest is read: in a selfie with people behind, that is the sender. The crop
around it is made square, widened or narrowed by `margin` (see CROP_MARGIN), and scaled to the classifier's
input size.

A nearly square image that is already a face crop is read as it is, whole. Such an image is recognised when the
largest face fills it (its box is at least FILLS_FRAME of the short side: measured on FER-2013 PublicTest faces,
the cascade finds a box of about 0.84 of the frame in half of them and nothing in the other half, because a face
that touches the edges leaves the cascade too little context), when the padded search finds one that fills
PADDED_FILL of it, or when nothing is found in it and it is small (at most
CROP_MAX_SIDE pixels: a thumbnail-sized square upload is a face crop far more often than a landscape) but neither
tiny (CROP_MIN_SIDE) nor flat (CROP_MIN_STD): a 1 px dot or a blank square is no face, whatever its shape.
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
# FER-2013 faces were cut at about the Haar box. Measured on PublicTest only (the split for tuning; re-run as the
# first 1,500 PublicTest faces enlarged 4x to 192 px and edge-padded by 48 px so that the cascade sees some
# surroundings): the trusted passes find 1,115, with a box of a median 0.96 of the FER frame (quartiles 0.90 and
# 1.02), centred to within 1%. Widening by 2% per side reproduces that framing.
# The sample photos agree: with the epoch-6 model (PublicTest 52.8%), margins from -0.15 to +0.30 gave the astronaut
# "happy" 0.66-0.94 and Grace Hopper "neutral" 0.14-0.46, both highest at +0.02 (0.94 and 0.46); from +0.15 on,
# Grace Hopper reads "happy", and at -0.15 "fear".
CROP_MARGIN = 0.02
# Rules for reading a nearly square image (long side at most CROP_MAX_ASPECT times the short) whole.
CROP_MAX_ASPECT = 1.25
FILLS_FRAME = 0.75
CROP_MAX_SIDE = 256
# FER-2013 crops are 48 px with a pixel standard deviation of tens of grey levels; a JPEG of a blank square has 1-2.
CROP_MIN_SIDE = 32
CROP_MIN_STD = 8.0
# The padded search for a face crop. On 200 PublicTest faces enlarged to 400 px (JPEG), the trusted passes find a
# face in 57%; on the copy with PAD per side (edge-replicated: a mean-grey border did no better), alt2 in steps of
# 5% finds one of at least PADDED_FILL of the frame in 78% (73% at FILLS_FRAME), for 2-5 ms. Fewer neighbours
# would add under 1% and let in a 4-neighbour false face filling the astronaut turned sideways. The cascade sees
# nothing in the rest even so (the profile cascade, mirror images, the default cascade and a 50% border together
# reach 88%, at several times the cost): those are read whole only when face-sized.
PAD = 0.25
PADDED_FILL = 0.6
# The last pass, for small faces in large photos.
FINE_LONG_SIDE = 1024
FINE_MAX_FACE = 0.12

_FRONTAL = "haarcascade_frontalface_alt2.xml"
_FRONTAL_RECALL = "haarcascade_frontalface_default.xml"
_PROFILE = "haarcascade_profileface.xml"
_MIN_NEIGHBORS = 5

# A trusted upright find with at least this many neighbours settles the search. A weaker one competes with the
# turned views: the astronaut upside down shows a false face of 6 upright and her real face (11) turned, and false
# finds in turned views of 200 PublicTest faces gathered 6 to 10, where half the real upright faces gather 11 or more.
SURE = 10

_Box = tuple[int, int, int, int]  # x, y, w, h
_Found = list[tuple[_Box, int]]  # boxes, each with its number of neighbours (merged raw detections): its strength


@dataclass(frozen=True, slots=True)
class _Pass:
    cascade: str
    min_face: float  # the smallest face searched, as a fraction of the image's short side
    scale_factor: float = 1.1  # the step between the sizes searched
    mirror: bool = False  # also search the mirror image
    max_face: float | None = None  # the largest face searched, as a fraction of the short side (None: any)


_TRUSTED_PASSES = (
    # Steps of 20% halve this pass's cost (15 -> 8.5 ms on the benchmark photo) and, on FER-2013 faces, give the
    # same median box as steps of 10%.
    _Pass(_FRONTAL, 0.20, scale_factor=1.2),
    _Pass(_FRONTAL, 0.06),
)
_UPRIGHT_FALLBACK_PASSES = (
    _Pass(_FRONTAL_RECALL, 0.06),
    _Pass(_PROFILE, 0.06, mirror=True),
)
_ROTATED_PASSES = _TRUSTED_PASSES
# cv2.rotate codes for a photo taken sideways or upside down: turning it this way makes the face upright.
_ROTATIONS = (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180)
# In the padded copy, a face filling PADDED_FILL of the image is PADDED_FILL / (1 + 2 PAD) of the short side.
_PADDED_PASS = _Pass(_FRONTAL, PADDED_FILL / (1.0 + 2.0 * PAD), scale_factor=1.05)
_FINE_PASS = _Pass(_FRONTAL, 0.0, max_face=FINE_MAX_FACE)


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
        # A 1 px dot or a blank square is no face crop, whatever its shape.
        crop_like = square and min(height, width) >= CROP_MIN_SIDE and float(pixels.std()) >= CROP_MIN_STD
        face_sized = square and max(height, width) <= CROP_MAX_SIDE
        small, to_pixels = _detection_copy(pixels, DETECT_LONG_SIDE)
        # A face-sized image is read whole when nothing is found upright: turning it could only add false finds.
        turn = self.rotate_retry and image.exif_orientation is None and not face_sized
        rotation, boxes = self._search(small, turn=turn, crop_like=crop_like)
        if not boxes and to_pixels > 1.0:
            fine, to_pixels = _detection_copy(pixels, FINE_LONG_SIDE)
            boxes = [box for box, _ in self._detect(_FINE_PASS, fine)]
        if not boxes:
            if crop_like and face_sized:
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

    def _search(self, small: np.ndarray, *, turn: bool, crop_like: bool) -> tuple[int | None, list[_Box]]:
        """The rotation (None: upright) and the boxes found in the view turned by it: from the first trusted
        upright pass that finds any (when its find is SURE, or turning is off), else (when `crop_like`) a face
        filling the padded image, else from the strongest of the upright and (with `turn`) turned candidates."""
        # No histogram equalisation: the cascade normalises each window's contrast itself, and a global
        # equalisation, skewed by a large flat background, lost the smaller face in a two-face photo.
        upright: _Found = []
        for step in _TRUSTED_PASSES:
            upright = self._detect(step, small)
            if upright and (not turn or _strength(upright) >= SURE):
                return None, [box for box, _ in upright]
            if upright:
                break  # a weak find: it competes with the turned views below
        if not upright and crop_like:
            filling = self._filling_faces(small)
            if filling:
                return None, filling
        if not upright:
            upright = next((found for step in _UPRIGHT_FALLBACK_PASSES if (found := self._detect(step, small))), [])
        candidates: list[tuple[int | None, _Found]] = [(None, upright)] if upright else []
        if turn:
            turned = self._search_turned(small)
            if turned is not None:
                candidates.append(turned)
        if not candidates:
            return None, []
        # On a tie the upright candidate, listed first, wins: most photos are upright.
        rotation, found = max(candidates, key=lambda candidate: _strength(candidate[1]))
        return rotation, [box for box, _ in found]

    def _filling_faces(self, small: np.ndarray) -> list[_Box]:
        """Faces found in `small` padded by PAD per side (edge-replicated), in `small`'s coordinates, clipped to
        it, that fill at least PADDED_FILL of its short side."""
        height, width = small.shape
        pad = round(PAD * min(height, width))
        padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        boxes = []
        for (x, y, w, h), _ in self._detect(_PADDED_PASS, padded):
            left, top = max(0, x - pad), max(0, y - pad)
            right, bottom = min(width, x + w - pad), min(height, y + h - pad)
            if min(right - left, bottom - top) >= PADDED_FILL * min(height, width):
                boxes.append((left, top, right - left, bottom - top))
        return boxes

    def _search_turned(self, small: np.ndarray) -> tuple[int, _Found] | None:
        """The turn and the boxes of the first rotated pass that finds a face in either turn, or None."""
        views = {rotation: cv2.rotate(small, rotation) for rotation in _ROTATIONS}
        for step in _ROTATED_PASSES:
            found = {rotation: self._detect(step, view) for rotation, view in views.items()}
            # Two of the turns show the face upside down or sideways, where collars and backgrounds can pass for
            # a face; a real, upright face gathers far more overlapping detections (on the astronaut: 11 against 6
            # at the coarse pass, 36 against 7 at the fine one), so the turn with the strongest detection wins.
            rotation = max(found, key=lambda r: _strength(found[r]))
            if found[rotation]:
                return rotation, found[rotation]
        return None

    def _detect(self, step: _Pass, view: np.ndarray) -> _Found:
        """Boxes (x, y, w, h) found in `view` by one pass (and in its mirror image, mirrored back, when the pass
        says so), each with its strength."""
        found = self._detect_in(step, view)
        if step.mirror:
            width = view.shape[1]
            found += [((width - x - w, y, w, h), n) for (x, y, w, h), n in self._detect_in(step, cv2.flip(view, 1))]
        return found

    def _detect_in(self, step: _Pass, view: np.ndarray) -> _Found:
        # 20 px: the cascades' own window, the smallest face they can see.
        min_side = max(20, round(step.min_face * min(view.shape)))
        max_side = round(step.max_face * min(view.shape)) if step.max_face is not None else 0  # 0: no limit
        boxes, strengths = self._cascade(step.cascade).detectMultiScale2(
            view,
            scaleFactor=step.scale_factor,
            minNeighbors=_MIN_NEIGHBORS,
            minSize=(min_side, min_side),
            maxSize=(max_side, max_side),
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


def _strength(found: _Found) -> int:
    """The neighbour count of the strongest detection (0 for none)."""
    return max((n for _, n in found), default=0)


def _detection_copy(pixels: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """`pixels` scaled down to `long_side` at most, and the factor back to `pixels` coordinates."""
    height, width = pixels.shape
    factor = long_side / max(height, width)
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
    if rotation == cv2.ROTATE_180:
        # rotated[r, c] = image[height - 1 - r, width - 1 - c]
        return np.array([width - x - w, height - y - h, w, h], dtype=np.float64)
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
