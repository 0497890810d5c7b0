"""Score an emotion model on labelled faces: accuracy, macro-F1, per-class recall and the confusion matrix.

`moodmix eval-emotion` reads a FER-2013 split (models.fer_data, in the command line: this layer takes arrays, not
files) and passes it here with the classifier the bot itself runs, so that the figures are the bot's own: the same
preprocessing and the same LiteRT runtime."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.classifier import EmotionModel

BATCH = 256


@dataclass(frozen=True)
class EvalReport:
    """The figures of one evaluation, all derived from its confusion matrix.

    `confusion[i, j]` counts the faces of true class `class_names[i]` that were predicted as `class_names[j]`.
    A class without faces has recall 0, and one never predicted has precision 0 (not NaN), so that macro-F1 stays
    defined on small or lopsided sets.
    """

    split: str
    class_names: tuple[str, ...]
    confusion: np.ndarray  # rows: true class, columns: predicted class

    @property
    def n(self) -> int:
        """The number of faces evaluated."""
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        """The share of faces whose predicted class is the true one."""
        return float(np.trace(self.confusion) / max(1, self.n))

    @property
    def recall(self) -> np.ndarray:
        """Per class: the share of its faces predicted as it (the row's diagonal over the row's sum)."""
        return np.diag(self.confusion) / np.maximum(1, self.confusion.sum(axis=1))

    @property
    def precision(self) -> np.ndarray:
        """Per class: the share of the faces predicted as it that are it (the diagonal over the column's sum)."""
        return np.diag(self.confusion) / np.maximum(1, self.confusion.sum(axis=0))

    @property
    def macro_f1(self) -> float:
        """The unweighted mean over classes of F1, the harmonic mean of precision and recall (0 where both are 0):
        a rare class such as disgust weighs as much as happy."""
        p, r = self.precision, self.recall
        f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
        return float(f1.mean())

    def to_dict(self) -> dict[str, object]:
        """The JSON object of `moodmix eval-emotion --json`: split, n, accuracy, macro_f1, per_class (recall by
        class name) and confusion (rows: true class, columns: predicted), figures rounded to 4 places."""
        return {
            "split": self.split,
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": {name: round(float(r), 4) for name, r in zip(self.class_names, self.recall, strict=True)},
            "confusion": self.confusion.astype(int).tolist(),
        }

    def format(self) -> str:
        """The report as readable text: the figures, recall per class, and the confusion matrix as a table."""
        names = self.class_names
        width = max(len(n) for n in names) + 2
        lines = [
            f"{self.split}: {self.n} faces",
            f"accuracy  {self.accuracy:.2%}",
            f"macro-F1  {self.macro_f1:.4f}",
            "",
            "recall per class",
            *(f"  {name:<{width}}{r:6.1%}" for name, r in zip(names, self.recall, strict=True)),
            "",
            "confusion (rows: true, columns: predicted)",
            " " * (width + 2) + "".join(f"{name[:7]:>8}" for name in names),
            *(
                f"  {name:<{width}}" + "".join(f"{int(v):>8}" for v in row)
                for name, row in zip(names, self.confusion, strict=True)
            ),
        ]
        return "\n".join(lines)


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Counts (classes, classes), int64: `[i, j]` is how many faces of true class i were predicted as class j.

    `truth` and `predicted` are class indices 0 to `classes - 1`, one per face, in the same order.
    """
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def evaluate(model: EmotionModel, images: np.ndarray, labels: np.ndarray, split: str) -> EvalReport:
    """Classify uint8 faces (N, size, size) in batches of BATCH and compare the top class with `labels` (indices
    into `model.class_names`). `split` only names the report. Raises ValueError, saying what is wrong, for data
    that do not fit the model: no faces, faces of the wrong shape, or labels that are not one class index per face.
    """
    _check_split(images, labels, model.input_size, len(model.class_names))
    predicted = np.concatenate(
        [model.predict(images[i : i + BATCH]).argmax(axis=1) for i in range(0, len(images), BATCH)]
    )
    classes = len(model.class_names)
    return EvalReport(split, tuple(model.class_names), confusion_matrix(labels, predicted, classes))


def _check_split(images: np.ndarray, labels: np.ndarray, size: int, classes: int) -> None:
    if images.ndim != 3 or images.shape[1:] != (size, size):
        raise ValueError(f"images must have the shape (N, {size}, {size}), not {images.shape}")
    if len(images) == 0:
        raise ValueError("the split holds no faces")
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have the shape ({len(images)},), one per image, not {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, not {labels.dtype}")
    # A negative label would be counted silently as the last class (numpy indexing), a large one would crash.
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels must be class indices 0-{classes - 1}, found {labels.min()} to {labels.max()}")
