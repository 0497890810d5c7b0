"""The shipped LiteRT model must follow the shipped Keras model (needs the `train` extra: TensorFlow and Keras)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
keras = pytest.importorskip("keras", reason="the parity check needs the train extra (pip install '.[train]')")
pytest.importorskip("tensorflow", reason="the parity check needs the train extra (pip install '.[train]')")

from inference.classifier import EmotionClassifier  # noqa: E402
from models.emotion_net import CLASS_NAMES, PREPROCESSING  # noqa: E402
from models.fer2013 import load_split  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"


@pytest.fixture(scope="module")
def keras_model() -> keras.Model:
    return keras.models.load_model(ARTIFACTS / "emotion.keras", compile=False)


def keras_probs(model: keras.Model, faces: np.ndarray) -> np.ndarray:
    x = faces[..., None].astype(np.float32) * np.float32(PREPROCESSING["scale"])
    return np.asarray(model(x, training=False))


def assert_follows(litert: np.ndarray, reference: np.ndarray) -> None:
    assert litert.shape == reference.shape
    assert (litert.argmax(1) == reference.argmax(1)).mean() >= 0.95
    assert np.abs(litert - reference).mean() < 0.02


def test_metadata_matches_the_model(keras_model: keras.Model) -> None:
    metadata = json.loads((ARTIFACTS / "emotion.json").read_text())
    assert metadata["class_names"] == list(CLASS_NAMES)
    assert metadata["preprocessing"] == PREPROCESSING
    assert keras_model.output_shape == (None, len(CLASS_NAMES))
    assert (ARTIFACTS / "emotion.tflite").stat().st_size <= 10 * 1024 * 1024


def test_litert_follows_keras_on_sample_faces(keras_model: keras.Model, sample_faces: np.ndarray) -> None:
    classifier = EmotionClassifier(tta=False)
    assert_follows(classifier.predict(sample_faces), keras_probs(keras_model, sample_faces))


def test_litert_follows_keras_on_fer2013(keras_model: keras.Model, fer_dir: Path) -> None:
    faces, _ = load_split(fer_dir, "PublicTest")
    faces = faces[:600]
    classifier = EmotionClassifier(tta=False)
    assert_follows(classifier.predict(faces), keras_probs(keras_model, faces))
