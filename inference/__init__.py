"""Image bytes -> face -> emotion scores."""

import logging

from inference.classifier import EmotionClassifier, EmotionModel
from inference.errors import (
    ImageError,
    ImageTooLarge,
    InferenceBusy,
    InferenceError,
    ModelUnavailable,
    NoFaceFound,
    NotAnImage,
    UnreadableImage,
)
from inference.faces import FaceDetector, FoundFace
from inference.image import DecodedImage, decode
from inference.reader import EmotionReader
from inference.types import EMOTIONS, EmotionReading, FaceBox

# The library convention: records reach whatever handler the application configured (`moodmix run`'s, pytest's
# capture), and where none is configured (`moodmix try`, which reports inference failures in its own output) they
# are dropped instead of being printed raw to stderr by logging's last-resort handler.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "EMOTIONS",
    "DecodedImage",
    "EmotionClassifier",
    "EmotionModel",
    "EmotionReader",
    "EmotionReading",
    "FaceBox",
    "FaceDetector",
    "FoundFace",
    "ImageError",
    "ImageTooLarge",
    "InferenceBusy",
    "InferenceError",
    "ModelUnavailable",
    "NoFaceFound",
    "NotAnImage",
    "UnreadableImage",
    "decode",
]
