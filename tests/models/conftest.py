"""Fixtures for the model tests: FER-2013 when it is there, and face-like inputs made from the sample photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[2]
FER_DIR = REPO.parent / "shared" / "data" / "fer2013"
SAMPLES = REPO / "bot" / "assets"


@pytest.fixture
def fer_dir() -> Path:
    if not (FER_DIR / "fer2013_test.npz").exists():
        pytest.skip(f"FER-2013 is not at {FER_DIR}")
    return FER_DIR


@pytest.fixture
def sample_faces() -> np.ndarray:
    """48x48 grayscale crops of the sample faces (boxes from OpenCV's frontal cascade), shifted, flipped, relit."""
    crops = []
    for name, box in (("astronaut.png", (177, 66, 272, 161)), ("grace_hopper.jpg", (155, 104, 379, 328))):
        gray = ImageOps.grayscale(Image.open(SAMPLES / name))
        for dx in (-8, 0, 8):
            x0, y0, x1, y1 = box
            face = gray.crop((x0 + dx, y0, x1 + dx, y1)).resize((48, 48), Image.Resampling.BILINEAR)
            for variant in (face, ImageOps.mirror(face), ImageOps.autocontrast(face), face.point(lambda p: p * 0.7)):
                crops.append(np.asarray(variant, dtype=np.uint8))
    return np.stack(crops)
