"""The shipped artifacts: their metadata and size (always checked, without TensorFlow), and the LiteRT model
following the shipped Keras model (needs the `train` extra: TensorFlow and Keras)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from inference.classifier import EmotionClassifier
from inference.types import EMOTIONS
from models.fer_data import load_split

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"
MAX_TFLITE_BYTES = 10 * 1024 * 1024  # the limit
METADATA = json.loads((ARTIFACTS / "emotion.json").read_text(encoding="utf-8"))


def test_metadata_describes_the_shipped_tflite() -> None:
    assert (ARTIFACTS / "emotion.tflite").stat().st_size <= MAX_TFLITE_BYTES
    # FER-2013's class order, which is MoodMix's, and the config of each network in it says the same.
    assert METADATA["class_names"] == list(EMOTIONS)
    for member in METADATA["members"]:
        assert member["config"]["class_names"] == METADATA["class_names"]
        assert member["config"]["num_classes"] == len(EMOTIONS)
    preprocessing = METADATA["preprocessing"]
    assert preprocessing == {
        "input_size": 48,
        "color": "grayscale",
        "scale": pytest.approx(1 / 255),
        "layout": "NHWC",
        "dtype": "float32",
    }
    # The .tflite itself takes what the metadata says and gives one probability per class.
    interpreter = Interpreter(model_path=str(ARTIFACTS / "emotion.tflite"))
    [face] = interpreter.get_input_details()
    [probs] = interpreter.get_output_details()
    size = preprocessing["input_size"]
    assert face["shape"][1:].tolist() == [size, size, 1] and face["dtype"] == np.float32
    assert probs["shape"][1:].tolist() == [len(EMOTIONS)]


@pytest.fixture(scope="module")
def keras_model() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras", reason="the parity check needs the train extra (pip install '.[train]')")
    pytest.importorskip("tensorflow", reason="the parity check needs the train extra (pip install '.[train]')")
    return keras.models.load_model(ARTIFACTS / "emotion.keras", compile=False)


def keras_probs(model: Any, faces: np.ndarray) -> np.ndarray:
    x = faces[..., None].astype(np.float32) * np.float32(METADATA["preprocessing"]["scale"])
    return np.asarray(model(x, training=False))


def assert_follows(litert: np.ndarray, reference: np.ndarray) -> None:
    assert litert.shape == reference.shape
    assert (litert.argmax(1) == reference.argmax(1)).mean() >= 0.95
    assert np.abs(litert - reference).mean() < 0.02


def test_metadata_matches_the_keras_model(keras_model: Any) -> None:
    from models.emotion_net import CLASS_NAMES, PREPROCESSING

    assert METADATA["class_names"] == list(CLASS_NAMES)
    assert METADATA["preprocessing"] == PREPROCESSING
    assert keras_model.output_shape == (None, len(CLASS_NAMES))
    assert keras_model.count_params() == METADATA["parameters"]


def test_litert_follows_keras_on_sample_faces(keras_model: Any, sample_faces: np.ndarray) -> None:
    classifier = EmotionClassifier(tta=False)
    assert_follows(classifier.predict(sample_faces), keras_probs(keras_model, sample_faces))


def test_litert_follows_keras_on_fer2013(keras_model: Any, fer_dir: Path) -> None:
    faces, _ = load_split(fer_dir, "PublicTest")
    faces = faces[:600]
    classifier = EmotionClassifier(tta=False)
    assert_follows(classifier.predict(faces), keras_probs(keras_model, faces))


def test_each_quantisation_follows_keras_and_quantises_what_it_says(
    keras_model: Any, sample_faces: np.ndarray, tmp_path: Path
) -> None:
    from models.export import FLOAT_TOLERANCE, QUANTIZE, litert_predict, to_tflite

    x = sample_faces[..., None].astype(np.float32) * np.float32(METADATA["preprocessing"]["scale"])
    expected = keras_probs(keras_model, sample_faces)
    int8_tensors = {}
    for quantize in QUANTIZE:
        tflite = to_tflite(keras_model, tmp_path / quantize, quantize, x)
        got = litert_predict(tflite, x)
        assert_follows(got, expected)
        if quantize == "none":
            assert np.abs(got - expected).max() <= FLOAT_TOLERANCE
        interpreter = Interpreter(model_content=tflite)
        int8_tensors[quantize] = sum(t["dtype"] == np.int8 for t in interpreter.get_tensor_details())
    # float32 has none; dynamic stores the weights in int8; full int8 the activations between layers as well.
    assert int8_tensors["none"] == 0 < int8_tensors["dynamic"] < int8_tensors["int8"]
