"""Read FER-2013 from the npz files described in ../shared/data/fer2013/README.md (never copied here).

Everything read is checked before it is returned, because a wrong file must not turn into wrong figures: faces
(N, 48, 48) of grey levels 0-255, one integer label per face, usage codes 1 (PublicTest) or 2 (PrivateTest) in the
test file, and the class order the file records, when it records one. A file that fails a check raises ValueError
with a sentence saying what is wrong (about "it", the file: the caller names it); reading may also raise OSError
(missing or unreadable), zipfile.BadZipFile and EOFError (a damaged or cut-short archive).
"""

from __future__ import annotations

import tokenize
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SPLITS = ("Training", "PublicTest", "PrivateTest")
SIZE = 48
CLASSES = 7  # FER-2013's labels are 0-6 (angry, disgust, fear, happy, sad, surprise, neutral)
_USAGE_CODES = {"PublicTest": 1, "PrivateTest": 2}
# What damaged bytes inside a well-formed archive raise besides ValueError and zipfile.BadZipFile: a broken deflate
# stream, or an .npy header that no longer parses (numpy's header parser lets these through).
_DAMAGED = (zlib.error, SyntaxError, tokenize.TokenError)


def split_file(data: Path, split: str) -> Path:
    """The npz file that holds `split`: `data` itself when it is an .npz file, else the README's name inside it."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    data = Path(data)
    if data.suffix == ".npz":
        return data
    return data / ("fer2013_train.npz" if split == "Training" else "fer2013_test.npz")


def load_split(data: Path, split: str, *, class_names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 48, 48) uint8 and labels (N,) int64 for one split of FER-2013, N > 0.

    `data` is the folder holding `fer2013_train.npz` and `fer2013_test.npz`, or one of those files itself.
    `class_names` is the order in which the caller reads the labels (a model's classes): when given, the labels
    must index into it and the file's own `class_names`, if it has them, must be the same names in the same order.
    Raises ValueError for a file that is not such a split (see the module docstring for the other errors).
    """
    path = split_file(data, split)
    with path.open("rb") as file:
        # np.load takes anything that is not a zip or .npy file for a pickle, and says so: name the real problem.
        if file.read(4) != b"PK\x03\x04":
            raise ValueError("it is not an npz archive (a zip file of numpy arrays)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ("images", "labels", "usage", "class_names") if name in npz}
    except _DAMAGED as error:
        raise ValueError(f"an array in it is damaged ({type(error).__name__}: {error})") from error
    for name in ("images", "labels"):
        if name not in arrays:
            raise ValueError(f"it has no '{name}' array")
    if split == "Training" and "usage" in arrays:
        raise ValueError("it holds the test splits (it has a 'usage' array), not Training")
    if split != "Training" and "usage" not in arrays:
        raise ValueError(f"it has no 'usage' array, so it cannot be split into {split}")
    classes = _check_class_names(arrays.get("class_names"), class_names)
    images = _checked_images(arrays["images"])
    labels = _checked_labels(arrays["labels"], len(images), classes)
    if split != "Training":
        keep = _checked_usage(arrays["usage"], len(images)) == _USAGE_CODES[split]
        images, labels = images[keep], labels[keep]
    if len(images) == 0:
        raise ValueError(f"it holds no {split} faces")
    return images, labels


def _check_class_names(recorded: np.ndarray | None, expected: Sequence[str] | None) -> int:
    """The number of classes labels may take, after checking the file's class order against the caller's."""
    if expected is None:
        return CLASSES
    if recorded is not None:
        names = tuple(str(name) for name in recorded.ravel()) if recorded.dtype.kind == "U" else None
        if names != tuple(expected):
            shown = list(names) if names is not None else f"an array of {recorded.dtype}"
            raise ValueError(f"its class_names {shown} are not the model's classes {list(expected)} in that order")
    return len(expected)


def _checked_images(images: np.ndarray) -> np.ndarray:
    if images.ndim != 3 or images.shape[1:] != (SIZE, SIZE):
        raise ValueError(f"images must have the shape (N, {SIZE}, {SIZE}), not {images.shape}")
    if images.dtype.kind not in "uif":
        raise ValueError(f"images must be grey levels 0-255, not {images.dtype}")
    # Anything else would wrap around or be truncated silently by the conversion to uint8.
    if images.size and (images.min() < 0 or images.max() > 255 or not np.array_equal(images, np.round(images))):
        raise ValueError("images must be whole grey levels 0-255")
    return images.astype(np.uint8)


def _checked_labels(labels: np.ndarray, count: int, classes: int) -> np.ndarray:
    if labels.shape != (count,):
        raise ValueError(f"labels must have the shape ({count},), one per image, not {labels.shape}")
    if labels.dtype.kind not in "ui":
        raise ValueError(f"labels must be integer class indices, not {labels.dtype}")
    if count and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must be class indices 0-{classes - 1}, found {labels.min()} to {labels.max()}")
    return labels.astype(np.int64)


def _checked_usage(usage: np.ndarray, count: int) -> np.ndarray:
    if usage.shape != (count,):
        raise ValueError(f"usage must have the shape ({count},), one per image, not {usage.shape}")
    if usage.dtype.kind not in "ui":
        raise ValueError(f"usage must be integer codes, not {usage.dtype}")
    unknown = sorted(set(np.unique(usage).tolist()) - set(_USAGE_CODES.values()))
    if unknown:
        raise ValueError(f"usage codes must be 1 (PublicTest) or 2 (PrivateTest), found {unknown[:5]}")
    return usage
