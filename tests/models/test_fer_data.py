"""models.fer_data: the splits follow the usage codes, and a file that is not FER-2013 as the README describes it
is refused with a clear ValueError (or the archive errors the module names) instead of turning into wrong data."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.fer_data import load_split, split_file

NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def write_test_npz(path: Path) -> None:
    images = np.arange(5 * 48 * 48, dtype=np.uint32).reshape(5, 48, 48).astype(np.uint8)
    np.savez(path, images=images, labels=np.array([0, 1, 2, 3, 4], np.uint8), usage=np.array([1, 2, 1, 2, 2], np.uint8))


def test_splits_follow_the_usage_codes(tmp_path: Path) -> None:
    write_test_npz(tmp_path / "fer2013_test.npz")
    public_x, public_y = load_split(tmp_path, "PublicTest")
    private_x, private_y = load_split(tmp_path / "fer2013_test.npz", "PrivateTest")
    assert public_y.tolist() == [0, 2]
    assert private_y.tolist() == [1, 3, 4]
    assert public_x.shape == (2, 48, 48) and private_x.dtype == np.uint8
    assert private_y.dtype == np.int64
    # The faces travel with their labels: face i of the file is the one labelled i.
    assert np.array_equal(private_x[1], np.arange(3 * 2304, 4 * 2304, dtype=np.uint32).reshape(48, 48).astype(np.uint8))


def test_split_file_names_the_readmes_files(tmp_path: Path) -> None:
    assert split_file(tmp_path, "Training") == tmp_path / "fer2013_train.npz"
    assert split_file(tmp_path, "PrivateTest") == tmp_path / "fer2013_test.npz"
    assert split_file(tmp_path / "mine.npz", "PublicTest") == tmp_path / "mine.npz"


def test_whole_float_grey_levels_are_accepted_as_uint8(tmp_path: Path) -> None:
    images = np.full((2, 48, 48), 255.0)
    np.savez(tmp_path / "t.npz", images=images, labels=np.array([6, 0]), usage=np.array([2, 2]))
    faces, labels = load_split(tmp_path / "t.npz", "PrivateTest")
    assert faces.dtype == np.uint8 and int(faces.max()) == 255 and labels.tolist() == [6, 0]


def test_training_split_refuses_the_test_file(tmp_path: Path) -> None:
    write_test_npz(tmp_path / "t.npz")
    with pytest.raises(ValueError, match="test splits"):
        load_split(tmp_path / "t.npz", "Training")


def test_unknown_split_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        load_split(tmp_path, "Validation")


FACES = np.zeros((4, 48, 48), np.uint8)
LABELS = np.array([0, 1, 2, 6])
USAGE = np.array([1, 2, 2, 1])


@pytest.mark.parametrize(
    ("arrays", "problem"),
    [
        ({"labels": LABELS, "usage": USAGE}, "it has no 'images' array"),
        ({"images": FACES, "usage": USAGE}, "it has no 'labels' array"),
        ({"images": FACES, "labels": LABELS}, "it has no 'usage' array, so it cannot be split into PrivateTest"),
        ({"images": FACES[:, 0], "labels": LABELS, "usage": USAGE}, r"images must have the shape \(N, 48, 48\)"),
        ({"images": FACES[:, :24, :24], "labels": LABELS, "usage": USAGE}, r"not \(4, 24, 24\)"),
        ({"images": FACES - 1.0, "labels": LABELS, "usage": USAGE}, "images must be whole grey levels 0-255"),
        (
            {"images": FACES.astype(np.int16) + 256, "labels": LABELS, "usage": USAGE},
            "images must be whole grey levels 0-255",
        ),
        ({"images": FACES + 0.5, "labels": LABELS, "usage": USAGE}, "images must be whole grey levels 0-255"),
        (
            {"images": FACES.astype(bool), "labels": LABELS, "usage": USAGE},
            "images must be grey levels 0-255, not bool",
        ),
        ({"images": FACES, "labels": LABELS[:3], "usage": USAGE}, r"labels must have the shape \(4,\), one per image"),
        ({"images": FACES, "labels": LABELS[:, None], "usage": USAGE}, r"not \(4, 1\)"),
        (
            {"images": FACES, "labels": LABELS + 0.0, "usage": USAGE},
            "labels must be integer class indices, not float64",
        ),
        ({"images": FACES, "labels": LABELS + 1, "usage": USAGE}, "labels must be class indices 0-6, found 1 to 7"),
        ({"images": FACES, "labels": LABELS - 1, "usage": USAGE}, "labels must be class indices 0-6, found -1 to 5"),
        ({"images": FACES, "labels": LABELS, "usage": USAGE[:3]}, r"usage must have the shape \(4,\), one per image"),
        ({"images": FACES, "labels": LABELS, "usage": USAGE + 0.0}, "usage must be integer codes, not float64"),
        ({"images": FACES, "labels": LABELS, "usage": USAGE * 3}, r"usage codes .* found \[3, 6\]"),
        ({"images": FACES, "labels": LABELS, "usage": np.ones(4, int)}, "it holds no PrivateTest faces"),
    ],
)
def test_a_file_that_is_not_a_fer2013_split_is_refused(tmp_path: Path, arrays: dict[str, Any], problem: str) -> None:
    np.savez(tmp_path / "t.npz", **arrays)
    with pytest.raises(ValueError, match=problem):
        load_split(tmp_path / "t.npz", "PrivateTest")


def test_class_names_must_be_the_callers_order(tmp_path: Path) -> None:
    swapped = (NAMES[1], NAMES[0], *NAMES[2:])
    np.savez(tmp_path / "t.npz", images=FACES, labels=LABELS, usage=USAGE, class_names=np.array(swapped))
    with pytest.raises(ValueError, match=r"its class_names \['disgust', 'angry', .*\] are not the model's classes"):
        load_split(tmp_path / "t.npz", "PublicTest", class_names=NAMES)
    # Without a class order to hold the file to, the labels are FER-2013's 0-6 and the names are not read.
    assert load_split(tmp_path / "t.npz", "PublicTest")[1].tolist() == [0, 6]
    np.savez(tmp_path / "t.npz", images=FACES, labels=LABELS, usage=USAGE, class_names=np.array(NAMES))
    assert load_split(tmp_path / "t.npz", "PrivateTest", class_names=NAMES)[1].tolist() == [1, 2]


def test_labels_must_index_the_callers_classes(tmp_path: Path) -> None:
    np.savez(tmp_path / "t.npz", images=FACES, labels=LABELS, usage=USAGE)
    with pytest.raises(ValueError, match="labels must be class indices 0-2, found 0 to 6"):
        load_split(tmp_path / "t.npz", "PublicTest", class_names=NAMES[:3])


def damaged_member(path: Path) -> None:
    """An npz whose images.npy is stored deflated, then has its compressed bytes overwritten with garbage."""
    np.savez_compressed(path, images=np.zeros((4, 48, 48), np.uint8), labels=LABELS, usage=USAGE)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("images.npy")
    data = bytearray(path.read_bytes())
    # The local file header: 30 bytes, then the name and the extra field (their lengths at offsets 26 and 28).
    start = info.header_offset + 30 + int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    start += int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    data[start : start + 16] = b"\xff" * 16  # 0b11 block type: invalid in deflate
    path.write_bytes(bytes(data))


def npz_bytes(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_damaged_or_foreign_files_raise_what_the_module_promises(tmp_path: Path) -> None:
    path = tmp_path / "t.npz"
    for content, problem in [
        (b"not a zip", "it is not an npz archive"),
        (b"", "it is not an npz archive"),
        (b"\x93NUMPY" + b"\x00" * 60, "it is not an npz archive"),  # a single .npy array
    ]:
        path.write_bytes(content)
        with pytest.raises(ValueError, match=problem):
            load_split(path, "PublicTest")
    path.write_bytes(npz_bytes(images=FACES, labels=LABELS, usage=USAGE)[:-200])
    with pytest.raises(zipfile.BadZipFile):
        load_split(path, "PublicTest")
    damaged_member(path)
    with pytest.raises(ValueError, match=r"an array in it is damaged \(error: "):
        load_split(path, "PublicTest")


def test_real_counts_match_the_readme(fer_dir: Path) -> None:
    assert len(load_split(fer_dir, "PublicTest")[1]) == 3589
    _, private = load_split(fer_dir, "PrivateTest", class_names=NAMES)
    assert np.bincount(private).tolist() == [491, 55, 528, 879, 594, 416, 626]
    images, labels = load_split(fer_dir, "Training")
    assert images.shape == (28709, 48, 48) and np.bincount(labels).tolist()[1] == 436
