"""Several networks read as one: `models.evaluate` averages their readings, and `models.export` ships their mean as a
single LiteRT model whose metadata records every network (on a synthetic FER-2013, with tiny networks)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras", reason="export needs the train extra (pip install '.[train]')")
pytest.importorskip("tensorflow", reason="export needs the train extra (pip install '.[train]')")

import keras

from inference.classifier import EmotionClassifier
from models import evaluate, export
from models.emotion_net import NetConfig, build_model, model_input

# Two networks of different shapes, as run 4 and run 8 are.
SHAPES = (
    NetConfig(widths=(8, 8, 16, 16), convs_per_stage=(1, 1, 1, 1), head="flatten"),
    NetConfig(widths=(8, 16, 16, 24), convs_per_stage=(1, 1, 2, 1)),
)


@pytest.fixture
def faces() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (1600, 48, 48), dtype=np.uint8)


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    """A finished run folder per shape: its checkpoint, and the state.json that says the network's shape."""
    folders = []
    for seed, config in enumerate(SHAPES):
        folder = tmp_path / f"run{seed}"
        folder.mkdir()
        keras.utils.set_random_seed(seed)
        build_model(config).save(folder / "last.keras")
        (folder / "state.json").write_text(json.dumps({"config": config.to_dict(), "epochs_done": 3 + seed}))
        folders.append(folder)
    return folders


def readings(folder: Path, x: np.ndarray) -> np.ndarray:
    model = keras.models.load_model(folder / "last.keras", compile=False)
    return np.asarray(model(x, training=False))


def test_evaluate_averages_every_network_and_view(runs: list[Path], faces: np.ndarray) -> None:
    models = [keras.models.load_model(folder / "last.keras", compile=False) for folder in runs]
    x = model_input(faces[:64])
    views = [readings(folder, view) for folder in runs for view in (x, x[:, :, ::-1])]
    np.testing.assert_allclose(evaluate.predict(models, faces[:64], tta=True), np.mean(views, axis=0), atol=1e-6)
    np.testing.assert_allclose(evaluate.predict(models, faces[:64], tta=False), np.mean(views[::2], axis=0), atol=1e-6)


def test_export_ships_the_mean_of_the_networks(
    runs: list[Path], faces: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = tmp_path / "fer", tmp_path / "artifacts"
    data.mkdir()
    np.savez(data / "fer2013_train.npz", images=faces, labels=np.arange(len(faces)) % 7)
    argv = ["export", "--data", data, "--out", out, "--quantize", "none"]
    for folder in runs:
        argv += ["--checkpoint", folder / "last.keras", "--run", folder]
    monkeypatch.setattr(sys, "argv", list(map(str, argv)))
    export.main()

    x = model_input(faces[:64])
    expected = np.mean([readings(folder, x) for folder in runs], axis=0)
    # The bot's runtime on the exported .tflite reads the two networks' mean ...
    np.testing.assert_allclose(EmotionClassifier(out / "emotion.tflite").predict(faces[:64]), expected, atol=1e-4)
    # ... and so does the Keras model shipped beside it, which keeps each network's weights under its own name.
    shipped = keras.models.load_model(out / "emotion.keras", compile=False)
    np.testing.assert_allclose(np.asarray(shipped(x, training=False)), expected, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(shipped.get_layer("member1")(x, training=False)), readings(runs[1], x), atol=1e-5
    )
    metadata = json.loads((out / "emotion.json").read_text())
    assert [NetConfig.from_dict(member["config"]) for member in metadata["members"]] == list(SHAPES)
    assert [member["training"]["epochs_done"] for member in metadata["members"]] == [3, 4]
    assert metadata["parameters"] == sum(build_model(config).count_params() for config in SHAPES)
    assert metadata["tta"] is False and metadata["parity"]["top1_agreement"] == 1.0


def test_export_refuses_runs_that_do_not_pair_with_the_checkpoints(
    runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "artifacts"
    argv = ["export", "--data", tmp_path, "--out", out, "--run", runs[0]]
    argv += ["--checkpoint", runs[0] / "last.keras", "--checkpoint", runs[1] / "last.keras"]
    monkeypatch.setattr(sys, "argv", list(map(str, argv)))
    with pytest.raises(SystemExit):
        export.main()
    assert "one --run per --checkpoint" in capsys.readouterr().err
    assert not out.exists()
