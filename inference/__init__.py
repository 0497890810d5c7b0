"""Image bytes -> face -> emotion scores."""

from inference.classifier import EmotionClassifier, EmotionModel
from inference.errors import (
    ImageError,
    ImageTooLarge,
    InferenceBusy,
    InferenceError,
    NoFaceFound,
    NotAnImage,
    UnreadableImage,
)
from inference.faces import FaceDetector, FoundFace
from inference.image import DecodedImage, decode
from inference.reader import EmotionReader
from inference.types import EMOTIONS, EmotionReading, FaceBox

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
    "NoFaceFound",
    "NotAnImage",
    "UnreadableImage",
    "decode",
]
