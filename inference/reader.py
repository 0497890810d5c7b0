"""The one entry point for reading a selfie: bytes in, `EmotionReading` out, off the event loop.

    reader = EmotionReader(max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    reading = await reader.read(await attachment.read())   # ImageError subclasses, InferenceBusy
    ...
    reader.close()

`read` runs the whole pipeline (decode, detect, crop, classify) in a bounded pool of worker threads. At most
`workers` photos are read at once and at most `queue` more wait; beyond that `read` raises InferenceBusy at once
instead of letting a burst of uploads pile up memory and latency.

The model loads once, in a worker thread: construction returns at once (it only starts the threads and queues
the load), so building the reader inside the bot's event loop never blocks it; the first `read` simply waits
behind the load if it has not finished yet. A model that cannot be loaded (missing, corrupt, or with other classes
than MoodMix's) is logged once, with its cause, and makes every `read` raise ModelUnavailable. `await
reader.ready()` waits for the load and raises that error, so that a front door can refuse to start without a model.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from inference.classifier import EmotionClassifier, EmotionModel
from inference.errors import InferenceBusy, ModelUnavailable
from inference.faces import FaceDetector
from inference.image import check_limits, decode
from inference.types import EMOTIONS, EmotionReading

log = logging.getLogger(__name__)


class EmotionReader:
    """Reads the emotion of the largest face in a photo. Thread-safe; `read` is safe to call from the event loop."""

    def __init__(
        self,
        *,
        max_bytes: int,
        max_pixels: int,
        workers: int = 2,
        queue: int = 16,
        classifier: EmotionModel | None = None,
        detector: FaceDetector | None = None,
        model_path: Path | None = None,
    ) -> None:
        check_limits(max_bytes=max_bytes, max_pixels=max_pixels)
        if workers < 1 or queue < 0:
            raise ValueError("workers must be at least 1 and queue at least 0")
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self._detector = detector or FaceDetector()
        self._classifier = classifier
        self._model_path = model_path  # None: the model shipped in the `models` package
        self._load_failure: str | None = None  # why the model cannot be loaded, once that is known
        self._load_lock = threading.Lock()
        # Photos admitted (being read or waiting); released when a job ends, however it ends.
        self._capacity = workers + queue
        self._slots = threading.BoundedSemaphore(self._capacity)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="moodmix-inference")
        if classifier is None:
            # `_load` keeps its outcome (the model, or why there is none) and never raises: nothing awaits this job.
            self._executor.submit(self._load)

    async def ready(self) -> None:
        """Wait until the model is loaded; raise ModelUnavailable when it cannot be (checked at start-up)."""
        # A thread of asyncio's own pool waits on the load lock, so no inference worker or queue place is taken.
        await asyncio.to_thread(self._model)

    def read_sync(self, data: bytes) -> EmotionReading:
        """Read a photo in the calling thread (for the command line and the workers).

        Raises ImageError subclasses, and ModelUnavailable when the model cannot be loaded.
        """
        model = self._model()  # first: without a model, no photo can be read, however good
        image = decode(data, max_bytes=self.max_bytes, max_pixels=self.max_pixels)
        face = self._detector.locate(image, model.input_size)
        probs = model.predict(face.crop[np.newaxis])[0]
        scores = {name: float(p) for name, p in zip(model.class_names, probs, strict=True)}
        return EmotionReading(scores=scores, faces=face.faces, face_box=face.box)

    async def read(self, data: bytes) -> EmotionReading:
        """Read a photo in a worker thread. Raises InferenceBusy when `workers + queue` photos are already in."""
        if not self._slots.acquire(blocking=False):
            raise InferenceBusy(f"{self._capacity} photos already being read or waiting")
        try:
            job: Future[EmotionReading] = self._executor.submit(self.read_sync, data)
        except BaseException:
            self._slots.release()
            raise
        # On completion or cancellation (a cancelled await cancels a job still waiting for a worker).
        job.add_done_callback(lambda _: self._slots.release())
        return await asyncio.wrap_future(job)

    def close(self) -> None:
        """Stop taking photos; jobs not yet started are cancelled, running ones finish in the background."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _model(self) -> EmotionModel:
        """The classifier; raises ModelUnavailable when it cannot be loaded."""
        self._load()
        if self._classifier is None:
            raise ModelUnavailable(self._load_failure)
        return self._classifier

    def _load(self) -> None:
        """Load the classifier once, whichever thread gets here first; a failure is logged once and remembered,
        because a model file that is missing or broken stays so until the bot is restarted."""
        with self._load_lock:
            if self._classifier is not None or self._load_failure is not None:
                return
            try:
                classifier = EmotionClassifier(self._model_path)
                if set(classifier.class_names) != set(EMOTIONS):
                    raise ValueError(f"the model's classes {classifier.class_names} are not MoodMix's {EMOTIONS}")
            # Whatever the loader raises (a missing file, bad JSON, a file LiteRT refuses) means the same: no model.
            except Exception as error:
                self._load_failure = f"{type(error).__name__}: {error}"
                log.error("the emotion model cannot be loaded; every photo will be refused: %s", self._load_failure)
                return
            self._classifier = classifier
