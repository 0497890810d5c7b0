"""inference.reader: the pipeline end to end, run off the event loop in a bounded pool."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.classifier import EmotionClassifier, shipped_model_path
from inference.errors import InferenceBusy, ModelUnavailable, NotAnImage
from inference.reader import EmotionReader
from inference.types import EMOTIONS
from tests.inference.conftest import ASTRONAUT_FACE_CENTRE, encode

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
# A 48x48 face-crop-sized PNG, a checkerboard of 8 px squares of 100 and 140 (mean 120): read whole, without
# detection, so the tests below stay fast. It has contrast, as a face crop does: a blank square would be refused.
_SQUARES = np.indices((6, 6)).sum(axis=0) % 2
SMALL_FACE = encode(Image.fromarray(np.kron(100 + 40 * _SQUARES, np.ones((8, 8), np.int64)).astype(np.uint8)), "PNG")


class GatedModel:
    """A classifier double: records the thread it runs on and, while the gate is shut, holds each call."""

    class_names = EMOTIONS
    input_size = 48

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)
        self.threads: list[threading.Thread] = []

    def predict(self, faces: np.ndarray) -> np.ndarray:
        self.threads.append(threading.current_thread())
        self.entered.release()
        assert self.gate.wait(10), "the test never opened the gate"
        # The brightness of the face decides between sad (dark) and happy (bright): enough to check the plumbing.
        happy = faces.reshape(len(faces), -1).mean(axis=1) / 255.0
        probs = np.zeros((len(faces), len(EMOTIONS)), np.float32)
        probs[:, EMOTIONS.index("happy")] = happy
        probs[:, EMOTIONS.index("sad")] = 1.0 - happy
        return probs


async def wait_entered(model: GatedModel) -> None:
    """Until a worker thread is inside `predict` (without blocking the event loop)."""
    assert await asyncio.to_thread(model.entered.acquire, True, 10)


async def test_read_runs_in_a_worker_thread_not_on_the_event_loop() -> None:
    model = GatedModel()
    model.gate.set()
    reader = EmotionReader(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, classifier=model)
    try:
        reading = await reader.read(SMALL_FACE)
    finally:
        reader.close()
    assert model.threads[0] is not threading.current_thread()
    assert model.threads[0].name.startswith("moodmix-inference")
    assert reading.scores["happy"] == pytest.approx(120 / 255, abs=1e-6)
    assert reading.label == "sad" and reading.faces == 1 and reading.face_box is None


async def test_more_than_workers_plus_queue_is_busy_and_slots_come_back() -> None:
    model = GatedModel()
    reader = EmotionReader(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, workers=1, queue=1, classifier=model)
    try:
        running = asyncio.create_task(reader.read(SMALL_FACE))
        await wait_entered(model)
        waiting = asyncio.create_task(reader.read(SMALL_FACE))
        await asyncio.sleep(0)  # let it take the one queue place
        with pytest.raises(InferenceBusy):
            await reader.read(SMALL_FACE)
        model.gate.set()
        assert (await running).label == (await waiting).label == "sad"
        # Both places are free again.
        await asyncio.gather(reader.read(SMALL_FACE), reader.read(SMALL_FACE))
    finally:
        model.gate.set()
        reader.close()


async def test_a_cancelled_waiting_read_gives_its_place_back() -> None:
    model = GatedModel()
    reader = EmotionReader(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, workers=1, queue=1, classifier=model)
    try:
        running = asyncio.create_task(reader.read(SMALL_FACE))
        await wait_entered(model)
        waiting = asyncio.create_task(reader.read(SMALL_FACE))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        replacement = asyncio.create_task(reader.read(SMALL_FACE))
        await asyncio.sleep(0)
        model.gate.set()
        await asyncio.gather(running, replacement)
        assert len(model.threads) == 2  # the cancelled read never reached the model
    finally:
        model.gate.set()
        reader.close()


async def test_bad_input_raises_its_error_through_the_pool() -> None:
    model = GatedModel()
    reader = EmotionReader(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, classifier=model)
    try:
        with pytest.raises(NotAnImage):
            await reader.read(b"Dear diary, not a selfie.")
    finally:
        reader.close()
    assert model.threads == []


def test_limits_are_checked_at_construction() -> None:
    with pytest.raises(ValueError):
        EmotionReader(max_bytes=0, max_pixels=1, classifier=GatedModel())


def test_the_sample_selfie_end_to_end(classifier: EmotionClassifier, astronaut: Image.Image) -> None:
    reader = EmotionReader(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)  # loads the shipped model itself
    try:
        reading = reader.read_sync(encode(astronaut, "JPEG", quality=90))
    finally:
        reader.close()
    assert set(reading.scores) == set(EMOTIONS)
    assert sum(reading.scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert reading.faces == 1 and reading.face_box is not None
    box = reading.face_box
    assert abs(box.x + box.w / 2 - ASTRONAUT_FACE_CENTRE[0]) < 15
    assert abs(box.y + box.h / 2 - ASTRONAUT_FACE_CENTRE[1]) < 15


def test_the_smiling_astronaut_reads_happy(classifier: EmotionClassifier, astronaut: Image.Image) -> None:
    members = json.loads(shipped_model_path().with_suffix(".json").read_text()).get("members", [])
    accuracy = min((member["training"].get("best_val_accuracy", 0.0) for member in members), default=0.0)
    if accuracy < 0.5:
        pytest.skip(f"the exported model holds an early checkpoint (PublicTest {accuracy})")
    reader = EmotionReader(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, classifier=classifier)
    try:
        assert reader.read_sync(encode(astronaut, "PNG")).label == "happy"
    finally:
        reader.close()


def broken_model(tmp_path: Path, *, metadata: bool) -> Path:
    """Where a model should be: with its JSON metadata (copied from the shipped model's format) but a .tflite file
    that is no model, or with nothing at all."""
    path = tmp_path / "emotion.tflite"
    if metadata:
        preprocessing = {"input_size": 48, "color": "grayscale", "layout": "NHWC", "scale": 1 / 255}
        path.with_suffix(".json").write_text(
            json.dumps({"class_names": list(EMOTIONS), "preprocessing": preprocessing})
        )
        path.write_bytes(b"not a flatbuffer" * 64)
    return path


@pytest.mark.parametrize("metadata", [False, True], ids=["missing", "corrupt"])
async def test_a_model_that_cannot_load_is_model_unavailable_and_logged_once(
    tmp_path: Path, metadata: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="inference.reader")
    reader = EmotionReader(
        max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, model_path=broken_model(tmp_path, metadata=metadata)
    )
    try:
        with pytest.raises(ModelUnavailable) as raised:
            await reader.ready()
        # Every read says the same, whatever the photo: even a good one cannot be read without a model.
        for _ in range(2):
            with pytest.raises(ModelUnavailable):
                await reader.read(SMALL_FACE)
        with pytest.raises(ModelUnavailable):
            reader.read_sync(b"not even a photo")
    finally:
        reader.close()
    error = raised.value
    assert error.code == "model_unavailable"
    assert error.user_message == "The emotion model isn't available on this bot right now."
    cause = "FileNotFoundError" if not metadata else "ValueError"
    assert error.detail.startswith(cause)
    [record] = [r for r in caplog.records if r.name == "inference.reader"]
    assert record.levelno == logging.ERROR and cause in record.getMessage()


async def test_ready_returns_once_the_shipped_model_is_loaded(classifier: EmotionClassifier) -> None:
    reader = EmotionReader(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    try:
        await reader.ready()
        assert reader.read_sync(SMALL_FACE).faces == 1
    finally:
        reader.close()
