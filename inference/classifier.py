"""The emotion CNN, run by LiteRT: batches of 48x48 grayscale faces -> class probabilities.

The model and its metadata ship in the `models` package (`models/artifacts/emotion.tflite` and `emotion.json`)
and are found through importlib.resources, so an installed MoodMix finds them as well as a checkout does. The
class names and the preprocessing are read from the JSON, never assumed: a retrained model may change them.
"""

from __future__ import annotations

import json
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from ai_edge_litert.interpreter import Interpreter

_ARTIFACTS = ("artifacts", "emotion.tflite")


class EmotionModel(Protocol):
    """What the reader needs from a classifier (EmotionClassifier, or a test double)."""

    @property
    def class_names(self) -> tuple[str, ...]: ...

    @property
    def input_size(self) -> int: ...

    def predict(self, faces: np.ndarray) -> np.ndarray: ...


def shipped_model_path() -> Path:
    """Where the installed `models` package keeps emotion.tflite (the file may not exist yet)."""
    return Path(str(resources.files("models").joinpath(*_ARTIFACTS)))


class LiteRTRunner:
    """One LiteRT interpreter, safe to call from any thread, for batches of any size.

    A LiteRT interpreter is not thread-safe: calls are serialised by a lock. Tensors are re-allocated only when the
    batch size changes, the expensive part of a call.
    """

    def __init__(self, model_path: Path, *, num_threads: int = 1) -> None:
        self._interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0  # the batch size the tensors are allocated for; 0 until the first call
        self._lock = threading.Lock()

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """The model's first output for `inputs` (batch first), as float32."""
        with self._lock:
            if len(inputs) != self._batch:
                self._interpreter.resize_tensor_input(self._input, list(inputs.shape))
                self._interpreter.allocate_tensors()
                self._batch = len(inputs)
            self._interpreter.set_tensor(self._input, inputs)
            self._interpreter.invoke()
            return np.array(self._interpreter.get_tensor(self._output), dtype=np.float32)


class EmotionClassifier:
    """The LiteRT emotion model, loaded once.

    One interpreter serves every thread behind a lock. A LiteRT interpreter is not thread-safe, and one forward
    pass of a batch of faces takes well under a millisecond while decoding and detecting take tens, so the lock is
    almost never contended; an interpreter per thread would only multiply the memory and the tensor allocations.

    `tta=True` adds test-time augmentation: each face is also read mirrored, in the same batch, and the two
    readings are averaged. Left out, it is what the model's metadata says (`"tta"`, set at export), so the bot and
    `moodmix eval-emotion` run the model as it was chosen.
    """

    def __init__(self, model_path: Path | None = None, *, tta: bool | None = None, num_threads: int = 1) -> None:
        path = model_path or shipped_model_path()
        metadata = _read_metadata(path.with_suffix(".json"))
        preprocessing = metadata["preprocessing"]
        if preprocessing.get("color") != "grayscale" or preprocessing.get("layout") != "NHWC":
            raise ValueError(f"{path.name}: expected grayscale NHWC input, metadata says {preprocessing}")
        self._class_names = tuple(str(name) for name in metadata["class_names"])
        self._input_size = int(preprocessing["input_size"])
        self._scale = float(preprocessing["scale"])
        self._dtype = np.dtype(preprocessing.get("dtype", "float32"))
        self.tta = bool(metadata.get("tta", False)) if tta is None else tta
        self._runner = LiteRTRunner(path, num_threads=num_threads)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The model's classes, in the order of `predict`'s columns."""
        return self._class_names

    @property
    def input_size(self) -> int:
        """The side of the square grayscale faces the model takes."""
        return self._input_size

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes), float32, rows summing to 1, for uint8 faces of shape (N, size, size)."""
        size = self._input_size
        if faces.ndim != 3 or faces.shape[1:] != (size, size) or faces.dtype != np.uint8 or len(faces) == 0:
            raise ValueError(f"expected uint8 faces of shape (N>0, {size}, {size}), got {faces.dtype} {faces.shape}")
        batch = np.concatenate([faces, faces[:, :, ::-1]]) if self.tta else faces
        inputs = (batch.astype(self._dtype) * self._dtype.type(self._scale))[..., np.newaxis]
        probs = self._runner.run(inputs)
        if self.tta:
            probs = (probs[: len(faces)] + probs[len(faces) :]) / 2.0
        # An int8 model's outputs are multiples of 1/256 whose sum drifts from 1 by a few steps: renormalise.
        probs /= np.maximum(probs.sum(axis=1, keepdims=True), np.float32(1e-6))
        if probs.shape != (len(faces), len(self._class_names)):
            raise ValueError(f"model gave {probs.shape} for {len(faces)} faces and {len(self._class_names)} classes")
        return probs


def _read_metadata(path: Path) -> dict[str, Any]:
    """The JSON beside the model, with the fields the classifier relies on present."""
    metadata: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    missing = {"class_names", "preprocessing"} - metadata.keys()
    if missing:
        raise ValueError(f"{path.name} lacks {sorted(missing)}")
    return metadata
