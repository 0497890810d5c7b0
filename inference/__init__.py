"""Image bytes -> face -> emotion scores."""

from inference.errors import (
    ImageError,
    ImageTooLarge,
    InferenceBusy,
    InferenceError,
    NoFaceFound,
    NotAnImage,
    UnreadableImage,
)
from inference.types import EMOTIONS, EmotionReading, FaceBox

__all__ = [
    "EMOTIONS",
    "EmotionReading",
    "FaceBox",
    "ImageError",
    "ImageTooLarge",
    "InferenceBusy",
    "InferenceError",
    "NoFaceFound",
    "NotAnImage",
    "UnreadableImage",
]
