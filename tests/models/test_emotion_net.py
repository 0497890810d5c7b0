import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
pytest.importorskip("keras", reason="the model definition needs the train extra (pip install '.[train]')")
pytest.importorskip("tensorflow", reason="the model definition needs the train extra (pip install '.[train]')")

from models.emotion_net import CLASS_NAMES, NetConfig, build_model

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"
# The .tflite may be at most 10 MB; exported without quantisation each parameter takes 4 bytes.
PARAMETER_BUDGET = 10 * 1024 * 1024 // 4


def test_output_is_a_distribution_over_the_seven_classes() -> None:
    model = build_model(NetConfig(widths=(8, 8, 8, 8), convs_per_stage=(1, 1, 1, 1)))
    x = np.random.default_rng(0).random((3, 48, 48, 1), dtype=np.float32)
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (3, len(CLASS_NAMES))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_the_flatten_head_keeps_each_position_of_the_last_feature_map() -> None:
    small = NetConfig(widths=(8, 8, 8, 8), convs_per_stage=(1, 1, 1, 1))
    pooled = build_model(small)
    flat = build_model(NetConfig(widths=(8, 8, 8, 8), convs_per_stage=(1, 1, 1, 1), head="flatten"))
    # 48 / 2**3 = 6: the classifier sees a 6x6 map of 8 channels instead of their 8 averages.
    assert flat.get_layer("probs").kernel.shape == (6 * 6 * 8, len(CLASS_NAMES))
    assert pooled.get_layer("probs").kernel.shape == (8, len(CLASS_NAMES))
    assert flat.count_params() - pooled.count_params() == (6 * 6 - 1) * 8 * len(CLASS_NAMES)


def test_an_unknown_head_is_refused() -> None:
    with pytest.raises(ValueError, match="head must be one of"):
        build_model(NetConfig(head="attention"))


def test_a_config_saved_before_heads_existed_means_the_pooled_head() -> None:
    saved = {k: v for k, v in json.loads(json.dumps(NetConfig().to_dict())).items() if k != "head"}
    assert NetConfig.from_dict(saved).head == "gap"


def test_the_default_network_fits_the_size_budget() -> None:
    assert build_model(NetConfig()).count_params() <= PARAMETER_BUDGET


def layout(config: NetConfig) -> list[tuple[str, str, tuple[int | None, ...]]]:
    """Each layer's name, kind and output shape: the architecture, without the weights."""
    model = build_model(config)
    return [(layer.name, type(layer).__name__, tuple(layer.output.shape)) for layer in model.layers]


def test_a_saved_config_rebuilds_the_same_network() -> None:
    # As an artifact stores it: through JSON, where tuples become lists (NetConfig.from_dict turns them back).
    config = NetConfig(widths=(8, 16, 16, 24), convs_per_stage=(1, 2, 1, 1), dropout=0.3)
    saved = json.loads(json.dumps(config.to_dict()))
    restored = NetConfig.from_dict(saved)
    assert restored == config
    assert layout(restored) == layout(config)
    assert layout(restored) != layout(NetConfig(widths=(8, 16, 16, 24), convs_per_stage=(1, 1, 1, 1)))


def test_the_shipped_configs_rebuild_networks_of_the_shipped_size() -> None:
    metadata = json.loads((ARTIFACTS / "emotion.json").read_text(encoding="utf-8"))
    configs = [NetConfig.from_dict(member["config"]) for member in metadata["members"]]
    assert configs and all(config.class_names == CLASS_NAMES for config in configs)
    assert sum(build_model(config).count_params() for config in configs) == metadata["parameters"] <= PARAMETER_BUDGET
