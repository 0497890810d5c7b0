import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
pytest.importorskip("keras", reason="the model definition needs the train extra (pip install '.[train]')")
pytest.importorskip("tensorflow", reason="the model definition needs the train extra (pip install '.[train]')")

from models.emotion_net import CLASS_NAMES, NetConfig, build_model


def test_output_is_a_distribution_over_the_seven_classes() -> None:
    model = build_model(NetConfig(widths=(8, 8, 8, 8), convs_per_stage=(1, 1, 1, 1)))
    x = np.random.default_rng(0).random((3, 48, 48, 1), dtype=np.float32)
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (3, len(CLASS_NAMES))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_config_records_the_class_order() -> None:
    config = NetConfig().to_dict()
    assert config["class_names"] == CLASS_NAMES
    assert config["widths"] == (32, 64, 128, 256)
