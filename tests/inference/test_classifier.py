"""inference.classifier: the shipped LiteRT model, run as the bot runs it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from inference.classifier import EmotionClassifier, shipped_model_path
from inference.types import EMOTIONS


def faces(n: int, seed: int = 0) -> np.ndarray:
    """`n` smooth random 48x48 gray images: not faces, but images the model must still score."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (n, 6, 6)).astype(np.float64)
    return np.kron(coarse, np.ones((8, 8))).astype(np.uint8)


def test_metadata_is_read_from_the_json(classifier: EmotionClassifier) -> None:
    metadata = json.loads(shipped_model_path().with_suffix(".json").read_text())
    assert classifier.class_names == tuple(metadata["class_names"])
    assert classifier.input_size == metadata["preprocessing"]["input_size"]
    assert set(classifier.class_names) == set(EMOTIONS)


@pytest.mark.parametrize("n", [1, 5, 2])
def test_batch_gives_one_probability_row_per_face(classifier: EmotionClassifier, n: int) -> None:
    probs = classifier.predict(faces(n))
    assert probs.shape == (n, len(classifier.class_names))
    assert probs.dtype == np.float32
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_a_face_reads_the_same_alone_and_in_a_batch(classifier: EmotionClassifier) -> None:
    batch = faces(4, seed=1)
    together = classifier.predict(batch)
    alone = np.concatenate([classifier.predict(batch[i : i + 1]) for i in range(4)])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_tta_reads_a_face_and_its_mirror_alike() -> None:
    tta, single = EmotionClassifier(tta=True), EmotionClassifier(tta=False)
    batch = faces(3, seed=2)
    np.testing.assert_allclose(tta.predict(batch), tta.predict(batch[:, :, ::-1]), atol=1e-5)
    plain = single.predict(batch)
    mirrored = single.predict(np.ascontiguousarray(batch[:, :, ::-1]))
    assert not np.allclose(plain, mirrored, atol=1e-3)  # the model alone does not read a face and its mirror alike
    # Renormalising after averaging moves the rows by at most the int8 model's quantisation drift.
    np.testing.assert_allclose(tta.predict(batch), (plain + mirrored) / 2, atol=5e-3)


@pytest.mark.parametrize("chosen", [True, False])
def test_tta_is_what_the_metadata_chose_unless_asked_otherwise(tmp_path: Path, chosen: bool) -> None:
    shipped = shipped_model_path()
    (tmp_path / "emotion.tflite").write_bytes(shipped.read_bytes())
    metadata = json.loads(shipped.with_suffix(".json").read_text())
    (tmp_path / "emotion.json").write_text(json.dumps({**metadata, "tta": chosen}))
    assert EmotionClassifier(tmp_path / "emotion.tflite").tta is chosen
    assert EmotionClassifier(tmp_path / "emotion.tflite", tta=not chosen).tta is not chosen
    metadata.pop("tta", None)  # a model exported before the choice existed runs plain
    (tmp_path / "emotion.json").write_text(json.dumps(metadata))
    assert EmotionClassifier(tmp_path / "emotion.tflite").tta is False


def test_concurrent_calls_of_different_batch_sizes_agree(classifier: EmotionClassifier) -> None:
    batches = [faces(n, seed=n) for n in (1, 3, 1, 3, 2, 1)]
    expected = [classifier.predict(b) for b in batches]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(5):
            results[i] = classifier.predict(batches[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, probs in enumerate(expected):
        np.testing.assert_allclose(results[i], probs, atol=1e-5)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((0, 48, 48), np.uint8), np.zeros((1, 64, 64), np.uint8), np.zeros((1, 48, 48), np.float32)],
    ids=["empty", "wrong-size", "wrong-dtype"],
)
def test_wrong_input_is_refused(classifier: EmotionClassifier, bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        classifier.predict(bad)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"preprocessing": {"input_size": 48, "color": "grayscale", "layout": "NHWC"}}, "class_names"),
        ({"class_names": list(EMOTIONS), "preprocessing": {"input_size": 48, "color": "rgb", "layout": "NHWC"}}, "rgb"),
    ],
    ids=["no-class-names", "colour-model"],
)
def test_unservable_metadata_is_refused(tmp_path: Path, metadata: dict[str, object], message: str) -> None:
    # Checked before the model file is opened, so no model is needed here.
    (tmp_path / "emotion.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match=message):
        EmotionClassifier(tmp_path / "emotion.tflite")
