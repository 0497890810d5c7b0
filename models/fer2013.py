"""Read FER-2013 from the npz files described in ../shared/data/fer2013/README.md (never copied here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPLITS = ("Training", "PublicTest", "PrivateTest")
_USAGE_CODES = {"PublicTest": 1, "PrivateTest": 2}


def load_split(data: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 48, 48) uint8 and labels (N,) for one split of FER-2013.

    `data` is the folder holding `fer2013_train.npz` and `fer2013_test.npz`, or one of those files itself.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    data = Path(data)
    if data.suffix == ".npz":
        path = data
    else:
        path = data / ("fer2013_train.npz" if split == "Training" else "fer2013_test.npz")
    with np.load(path, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"].astype(np.int64)
        if split == "Training" and "usage" in npz:
            raise ValueError(f"{path} holds the test splits (it has a 'usage' array), not Training")
        if split != "Training":
            if "usage" not in npz:
                raise ValueError(f"{path} has no 'usage' array, so it cannot be split into {split}")
            keep = npz["usage"] == _USAGE_CODES[split]
            images, labels = images[keep], labels[keep]
    return images, labels
