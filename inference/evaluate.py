"""Evaluate the shipped emotion model on a FER-2013 split exactly as the bot runs it: the same classifier object,
the same preprocessing and the same LiteRT runtime (`moodmix eval-emotion`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.classifier import EmotionClassifier, EmotionModel
from models.fer2013 import load_split

BATCH = 256


@dataclass(frozen=True)
class EvalReport:
    split: str
    class_names: tuple[str, ...]
    confusion: np.ndarray  # rows: true class, columns: predicted class

    @property
    def n(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(1, self.n))

    @property
    def recall(self) -> np.ndarray:
        return np.diag(self.confusion) / np.maximum(1, self.confusion.sum(axis=1))

    @property
    def precision(self) -> np.ndarray:
        return np.diag(self.confusion) / np.maximum(1, self.confusion.sum(axis=0))

    @property
    def macro_f1(self) -> float:
        p, r = self.precision, self.recall
        f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
        return float(f1.mean())

    def to_dict(self) -> dict[str, object]:
        return {
            "split": self.split,
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": {name: round(float(r), 4) for name, r in zip(self.class_names, self.recall, strict=True)},
            "confusion": self.confusion.astype(int).tolist(),
        }

    def format(self) -> str:
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
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def evaluate(classifier: EmotionModel, images: np.ndarray, labels: np.ndarray, split: str) -> EvalReport:
    """Classify 48x48 uint8 faces in batches and compare with the labels."""
    predicted = np.concatenate(
        [classifier.predict(images[i : i + BATCH]).argmax(axis=1) for i in range(0, len(images), BATCH)]
    )
    classes = len(classifier.class_names)
    return EvalReport(split, tuple(classifier.class_names), confusion_matrix(labels, predicted, classes))


def run_eval(npz: Path, split: str, classifier: EmotionClassifier | None = None) -> EvalReport:
    """Evaluate on one split of a FER-2013-style npz file (see models/fer2013.py for the format)."""
    images, labels = load_split(npz, split)
    return evaluate(classifier or EmotionClassifier(), images, labels, split)
