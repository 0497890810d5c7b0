"""Evaluate a Keras checkpoint on a FER-2013 split, with and without test-time augmentation (for model selection).

    KERAS_BACKEND=tensorflow python -m models.evaluate --checkpoint ../runs/emotion/best.keras \\
        --data ../shared/data/fer2013 --split PublicTest

Repeat --checkpoint to evaluate the average of several networks' readings (an ensemble, as `models.export` builds).

Tune on PublicTest only; report PrivateTest once, for the shipped model, with `moodmix eval-emotion`, which runs the
exported LiteRT model exactly as the bot does.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

from inference.evaluate import EvalReport, confusion_matrix
from models.emotion_net import CLASS_NAMES, model_input
from models.fer_data import SPLITS, load_split


def predict(models: Sequence[keras.Model], images: np.ndarray, tta: bool) -> np.ndarray:
    """Class probabilities for uint8 faces (N, 48, 48), the mean of every model's reading; with `tta`, each model
    also reads the mirrored faces."""
    x = model_input(images)
    views = (x, x[:, :, ::-1]) if tta else (x,)
    return np.mean([model.predict(view, batch_size=512, verbose=0) for model in models for view in views], axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", type=Path, action="append", required=True, help="repeat to average several networks"
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument(
        "--split", choices=SPLITS, default="PublicTest", help="Training (un-augmented) shows how well the model fits"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    models = [keras.models.load_model(checkpoint, compile=False) for checkpoint in args.checkpoint]
    images, labels = load_split(args.data, args.split)
    reports = {
        name: EvalReport(
            args.split, CLASS_NAMES, confusion_matrix(labels, predict(models, images, tta).argmax(1), len(CLASS_NAMES))
        )
        for name, tta in (("plain", False), ("mirror TTA", True))
    }
    if args.json:
        print(json.dumps({name: report.to_dict() for name, report in reports.items()}))
        return
    for name, report in reports.items():
        print(f"== {' + '.join(c.name for c in args.checkpoint)}, {name}\n{report.format()}\n")


if __name__ == "__main__":
    main()
