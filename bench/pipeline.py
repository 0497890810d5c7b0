"""The local compute of /mood on a 12-megapixel phone photo, on one CPU core: MoodMix's path against the naive one.

    .venv/bin/python bench/pipeline.py
    PYTHONPATH=/work/main /work/venv/bin/python bench/pipeline.py      # the training venv: adds the Keras column

MoodMix's path: decode at reduced scale straight to grayscale, EXIF orientation, Haar detection on a 640-pixel
copy, a 48x48 crop, LiteRT. The naive path: full-resolution colour decode, EXIF orientation, grayscale, Haar
detection at full size (OpenCV's tutorial settings), the same crop, LiteRT; and, where Keras can be imported,
Keras `model.predict` on models/artifacts/emotion.keras as the naive classifier.

The photo is made in memory: the public-domain astronaut sample enlarged into a 3000x4000 portrait with a
textured background, stored sideways (4000x3000) with EXIF orientation 6 as phones do, JPEG quality 90.

Everything is pinned to one core (CPU affinity, OpenCV and LiteRT at one thread). Keras runs in a child process
when this interpreter has no Keras but `--keras-python` names one that has. When this interpreter cannot run the
pipeline (the training venv has OpenCV 5, which ships no Haar cascades, and no pillow-heif), the script re-runs
itself under the project's .venv and measures Keras with this interpreter. Target: MoodMix median <= 40 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PROJECT_PYTHON = REPO / ".venv" / "bin" / "python"
KERAS_MODEL = REPO / "models" / "artifacts" / "emotion.keras"
TARGET_MS = 40.0


def pin_to_one_core() -> int:
    """Run this process (and its children) on one CPU only; returns the core."""
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q))


def timed(fn: Callable[[], object], runs: int, warmup: int = 2) -> list[float]:
    """Milliseconds per call of `fn`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


# --- Keras, in this process or in a child -----------------------------------------------------------------------


def keras_predict_ms(crop: np.ndarray, runs: int) -> list[float]:
    """`model.predict` on one 48x48 face, as naive code calls it, in milliseconds per call."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    model = keras.saving.load_model(KERAS_MODEL, compile=False)
    batch = (crop.astype(np.float32) / 255.0)[np.newaxis, :, :, np.newaxis]
    return timed(lambda: model.predict(batch, verbose=0), runs, warmup=3)


def keras_column(crop: np.ndarray, runs: int, keras_python: str | None) -> tuple[list[float] | None, str]:
    """Keras timings and where they came from, or None and why the column is skipped."""
    if not KERAS_MODEL.is_file():
        return None, f"skipped: no {KERAS_MODEL.relative_to(REPO)}"
    try:
        import keras  # noqa: F401
    except ImportError:
        if keras_python is None:
            return None, "skipped: Keras is not importable here (run with the training venv, or --keras-python)"
        buffer = io.BytesIO()
        np.save(buffer, crop)
        child = subprocess.run(
            [keras_python, __file__, "--keras-worker", "--runs", str(runs)],
            input=buffer.getvalue(),
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            check=False,
        )
        if child.returncode != 0:
            return None, f"skipped: the Keras child failed: {child.stderr.decode(errors='replace')[-300:]}"
        return json.loads(child.stdout.decode().strip().splitlines()[-1]), f"Keras via {keras_python}"
    return keras_predict_ms(crop, runs), "Keras in this process"


# --- the photo and the two paths --------------------------------------------------------------------------------


def phone_photo() -> bytes:
    """A 12 MP portrait selfie as a phone stores it: sideways pixels plus EXIF orientation 6, JPEG q90."""
    from PIL import Image

    with Image.open(REPO / "bot" / "assets" / "astronaut.png") as sample:
        face = sample.convert("RGB").resize((3000, 3000), Image.Resampling.BICUBIC)
    rng = np.random.default_rng(0)
    # A textured background and sensor-like noise, so the JPEG weighs what a real photo does.
    ramp = np.linspace(60, 200, 4000, dtype=np.float32)[:, np.newaxis, np.newaxis]
    background = np.broadcast_to(ramp, (4000, 3000, 3)) + rng.normal(0, 12, (4000, 3000, 3)).astype(np.float32)
    portrait = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    portrait.paste(face, (0, 500))
    noisy = np.asarray(portrait, dtype=np.float32) + rng.normal(0, 4, (4000, 3000, 3)).astype(np.float32)
    stored = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to display"
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def naive_stages(data: bytes) -> tuple[Callable[[], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """The naive decode (full size, colour, then gray) and the naive detection plus crop (full-size Haar)."""
    import cv2
    import cv2.data
    from PIL import Image, ImageOps

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def decode() -> np.ndarray:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(ImageOps.exif_transpose(image.convert("RGB")).convert("L"))

    def detect_and_crop(gray: np.ndarray) -> np.ndarray:
        boxes = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30))
        x, y, w, h = max(boxes, key=lambda b: b[2] * b[3])
        return cv2.resize(gray[y : y + h, x : x + w], (48, 48), interpolation=cv2.INTER_AREA)

    return decode, detect_and_crop


def stage_table(columns: dict[str, dict[str, list[float]]]) -> str:
    """Median and p95 of every stage, one column per path."""
    names = list(columns)
    stages = ["decode", "detect+crop", "classify", "total", "total CPU"]
    header = f"{'stage':<13}" + "".join(f"{name:>28}" for name in names)
    sub = f"{'':<13}" + "".join(f"{'median':>14}{'p95':>14}" for _ in names)
    lines = [header, sub, "-" * len(header)]
    for stage in stages:
        row = f"{stage:<13}"
        for name in names:
            samples = columns[name].get(stage)
            cell = (f"{statistics.median(samples):>11.1f} ms{percentile(samples, 95):>11.1f} ms") if samples else ""
            row += f"{cell:>28}"
        lines.append(row)
    return "\n".join(lines)


def paired_total(*stages: list[float]) -> list[float]:
    """Per-run totals: the i-th sample of every stage added up (stages shorter than the longest are cycled)."""
    longest = max(len(s) for s in stages)
    return [sum(s[i % len(s)] for s in stages) for i in range(longest)]


def run(args: argparse.Namespace) -> int:
    import cv2

    from inference.classifier import EmotionClassifier
    from inference.faces import FaceDetector
    from inference.image import decode

    core = pin_to_one_core()
    cv2.setNumThreads(1)
    data = phone_photo()
    limits = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}
    classifier = EmotionClassifier(num_threads=1)
    detector = FaceDetector()
    size = classifier.input_size

    # MoodMix: each stage timed within the same run, so that the total is the real per-photo total.
    # "total CPU" is the thread's CPU time: on a busy machine it shows what the wall-clock figures lose to sharing.
    moodmix: dict[str, list[float]] = {"decode": [], "detect+crop": [], "classify": [], "total": [], "total CPU": []}
    reading = None
    for i in range(args.runs + 3):
        cpu = time.thread_time()
        t0 = time.perf_counter()
        decoded = decode(data, **limits)
        t1 = time.perf_counter()
        face = detector.locate(decoded, size)
        t2 = time.perf_counter()
        reading = classifier.predict(face.crop[np.newaxis])[0]
        t3 = time.perf_counter()
        cpu = time.thread_time() - cpu
        if i >= 3:  # warm-up: cascades loaded, tensors allocated
            for stage, seconds in zip(moodmix, (t1 - t0, t2 - t1, t3 - t2, t3 - t0, cpu), strict=True):
                moodmix[stage].append(seconds * 1000.0)
    assert reading is not None

    naive_decode, naive_detect = naive_stages(data)
    gray = naive_decode()
    crop = naive_detect(gray)
    naive = {
        "decode": timed(naive_decode, args.naive_runs, warmup=1),
        "detect+crop": timed(lambda: naive_detect(gray), args.naive_runs, warmup=0),
        "classify": timed(lambda: classifier.predict(crop[np.newaxis]), args.runs),
    }
    naive["total"] = paired_total(naive["decode"], naive["detect+crop"], naive["classify"])
    columns = {"MoodMix (LiteRT)": moodmix, "naive + LiteRT": naive}
    keras_ms, keras_note = keras_column(crop, args.runs, args.keras_python)
    if keras_ms is not None:
        with_keras = {"decode": naive["decode"], "detect+crop": naive["detect+crop"], "classify": keras_ms}
        with_keras["total"] = paired_total(naive["decode"], naive["detect+crop"], keras_ms)
        columns["naive + Keras predict"] = with_keras

    print(f"/mood local compute on a {len(data) / 1e6:.1f} MB 12 MP JPEG (3000x4000 portrait, EXIF 6), core {core}")
    print(f"runs: MoodMix {args.runs}, naive decode/detect {args.naive_runs}; load average {os.getloadavg()[0]:.2f}")
    print()
    print(stage_table(columns))
    print()
    top = classifier.class_names[int(np.argmax(reading))]
    print(f"MoodMix reading: {top} {float(np.max(reading)):.2f}, face box {face.box} (of 3000x4000)")
    print(f"Keras column: {keras_note}")
    median = statistics.median(moodmix["total"])
    naive_median = statistics.median(naive["total"])
    verdict = "meets" if median <= TARGET_MS else "MISSES"
    speedup = naive_median / median
    print(f"MoodMix median {median:.1f} ms {verdict} the {TARGET_MS:.0f} ms target; {speedup:.0f}x faster than naive")
    print("(p95 and medians of naive totals add the i-th samples of each stage.)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs of MoodMix's path and of each classifier")
    parser.add_argument("--naive-runs", type=int, default=5, help="timed runs of the naive decode and detection")
    parser.add_argument("--keras-python", help="an interpreter with Keras, for the Keras column")
    parser.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_worker:
        # The child: one face crop on stdin, Keras timings on stdout (pinned like its parent: affinity is inherited).
        crop = np.load(io.BytesIO(sys.stdin.buffer.read()))
        print(json.dumps(keras_predict_ms(crop, args.runs)))
        return 0
    if not pipeline_runs_here():
        if not PROJECT_PYTHON.is_file():
            print(f"this interpreter cannot run the pipeline and there is no {PROJECT_PYTHON}", file=sys.stderr)
            return 1
        print(f"(this interpreter lacks the pipeline's dependencies: running it under {PROJECT_PYTHON})", flush=True)
        command = [str(PROJECT_PYTHON), __file__, "--runs", str(args.runs), "--naive-runs", str(args.naive_runs)]
        return subprocess.call([*command, "--keras-python", args.keras_python or sys.executable])
    return run(args)


def pipeline_runs_here() -> bool:
    """Whether this interpreter has what MoodMix's pipeline needs: OpenCV with Haar cascades, pillow-heif, LiteRT."""
    try:
        import ai_edge_litert  # noqa: F401
        import cv2
        import pillow_heif  # noqa: F401
    except ImportError:
        return False
    return hasattr(cv2, "CascadeClassifier")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
