from pathlib import Path

import numpy as np
import pytest

from models.fer2013 import load_split


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


def test_training_split_refuses_the_test_file(tmp_path: Path) -> None:
    write_test_npz(tmp_path / "t.npz")
    with pytest.raises(ValueError, match="test splits"):
        load_split(tmp_path / "t.npz", "Training")


def test_unknown_split_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        load_split(tmp_path, "Validation")


def test_real_counts_match_the_readme(fer_dir: Path) -> None:
    assert len(load_split(fer_dir, "PublicTest")[1]) == 3589
    _, private = load_split(fer_dir, "PrivateTest")
    assert np.bincount(private).tolist() == [491, 55, 528, 879, 594, 416, 626]
