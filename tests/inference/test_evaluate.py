"""inference.evaluate: the figures of a report, checked against a confusion matrix worked out by hand, and
evaluate() with a test-double model whose every prediction the test chooses."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from inference.evaluate import BATCH, EvalReport, confusion_matrix, evaluate

# Rows: true class, columns: predicted. Class "d" has no faces and is never predicted.
HAND = np.array(
    [
        [4, 1, 0, 0],
        [2, 2, 1, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 0],
    ]
)


def test_report_figures_from_a_hand_made_confusion_matrix() -> None:
    report = EvalReport("PublicTest", ("a", "b", "c", "d"), HAND)
    assert report.n == 11
    assert report.accuracy == pytest.approx(6 / 11)
    # Recall: 4 of 5 a, 2 of 5 b, 0 of 1 c; d has no faces: 0, not NaN.
    assert report.recall.tolist() == pytest.approx([4 / 5, 2 / 5, 0, 0])
    # Precision: 4 of the 6 predicted a, 2 of the 4 predicted b, 0 of the 1 predicted c, d never predicted.
    assert report.precision.tolist() == pytest.approx([2 / 3, 1 / 2, 0, 0])
    # F1 = 2PR / (P + R): a 2(2/3)(4/5) / (22/15) = 8/11, b 2(1/2)(2/5) / (9/10) = 4/9, c and d 0.
    expected_f1 = (Fraction(8, 11) + Fraction(4, 9)) / 4
    assert expected_f1 == Fraction(29, 99)
    assert report.macro_f1 == pytest.approx(float(expected_f1))
    assert report.to_dict() == {
        "split": "PublicTest",
        "n": 11,
        "accuracy": 0.5455,
        "macro_f1": 0.2929,
        "per_class": {"a": 0.8, "b": 0.4, "c": 0.0, "d": 0.0},
        "confusion": HAND.tolist(),
    }


def test_report_text_shows_the_figures_and_the_matrix() -> None:
    text = EvalReport("PrivateTest", ("a", "b", "c", "d"), HAND).format()
    assert text.splitlines()[:3] == ["PrivateTest: 11 faces", "accuracy  54.55%", "macro-F1  0.2929"]
    assert [line.split() for line in text.splitlines()[5:9]] == [
        ["a", "80.0%"],
        ["b", "40.0%"],
        ["c", "0.0%"],
        ["d", "0.0%"],
    ]
    assert text.splitlines()[-4].split() == ["a", "4", "1", "0", "0"]


def test_confusion_matrix_counts_each_pair() -> None:
    truth = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    assert confusion_matrix(truth, predicted, 3).tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert confusion_matrix(truth, predicted, 4).shape == (4, 4)


class ScriptedModel:
    """A test double of EmotionModel: the class it predicts for a face is written in the face's first pixel."""

    class_names = ("a", "b", "c")
    input_size = 4

    def __init__(self) -> None:
        self.batches: list[int] = []

    def predict(self, faces: np.ndarray) -> np.ndarray:
        self.batches.append(len(faces))
        probs = np.full((len(faces), 3), 0.1, np.float32)
        probs[np.arange(len(faces)), faces[:, 0, 0]] = 0.8
        return probs


def faces_predicted_as(classes: list[int]) -> np.ndarray:
    faces = np.zeros((len(classes), 4, 4), np.uint8)
    faces[:, 0, 0] = classes
    return faces


def test_evaluate_compares_the_top_class_with_the_labels() -> None:
    model = ScriptedModel()
    labels = np.array([0, 0, 1, 2, 2, 1])
    report = evaluate(model, faces_predicted_as([0, 2, 1, 2, 0, 1]), labels, "PublicTest")
    assert report.split == "PublicTest" and report.class_names == ("a", "b", "c")
    assert report.confusion.tolist() == [[1, 0, 1], [0, 2, 0], [1, 0, 1]]
    assert report.accuracy == pytest.approx(4 / 6)


def test_evaluate_reads_large_sets_in_batches_and_keeps_their_order() -> None:
    rng = np.random.default_rng(1)
    count = 2 * BATCH + 37
    predicted, labels = rng.integers(0, 3, count), rng.integers(0, 3, count)
    model = ScriptedModel()
    report = evaluate(model, faces_predicted_as(predicted.tolist()), labels, "PrivateTest")
    assert model.batches == [BATCH, BATCH, 37]
    pairs = Counter(zip(labels.tolist(), predicted.tolist(), strict=True))
    assert report.confusion.tolist() == [[pairs[(t, p)] for p in range(3)] for t in range(3)]
    assert report.n == count


@pytest.mark.parametrize(
    ("faces", "labels", "problem"),
    [
        (faces_predicted_as([]), np.zeros(0, int), "the split holds no faces"),
        (np.zeros((2, 5, 5), np.uint8), np.zeros(2, int), r"images must have the shape \(N, 4, 4\)"),
        (faces_predicted_as([0, 1]), np.zeros(3, int), r"labels must have the shape \(2,\)"),
        (faces_predicted_as([0, 1]), np.zeros(2), "labels must be integer class indices"),
        (faces_predicted_as([0, 1]), np.array([0, 3]), "labels must be class indices 0-2, found 0 to 3"),
        (faces_predicted_as([0, 1]), np.array([-1, 0]), "labels must be class indices 0-2, found -1 to 0"),
    ],
)
def test_evaluate_refuses_data_that_do_not_fit_the_model(faces: np.ndarray, labels: np.ndarray, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        evaluate(ScriptedModel(), faces, labels, "PublicTest")
