"""models.train on a tiny synthetic FER-2013: checkpoints every epoch, resumes where it stopped, and starts a new
run from another run's weights (--init) while keeping that run's record."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("keras", reason="training needs the train extra (pip install '.[train]')")
pytest.importorskip("tensorflow", reason="training needs the train extra (pip install '.[train]')")

import keras

from models import train
from models.emotion_net import NetConfig, build_model


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / "fer"
    folder.mkdir()
    np.savez(
        folder / "fer2013_train.npz",
        images=rng.integers(0, 256, (128, 48, 48), dtype=np.uint8),
        labels=np.arange(128) % 7,
    )
    np.savez(
        folder / "fer2013_test.npz",
        images=rng.integers(0, 256, (40, 48, 48), dtype=np.uint8),
        labels=np.arange(40) % 7,
        usage=np.array([1, 2] * 20),
    )
    return folder


# The network of the finished run that --init starts from: its own, not the default one.
FIRST = NetConfig(widths=(8, 8, 16, 16), convs_per_stage=(1, 1, 1, 1))


@pytest.fixture
def first(tmp_path: Path) -> Path:
    """A finished run's best checkpoint, with a record of how the run went beside it."""
    folder = tmp_path / "first"
    folder.mkdir()
    keras.utils.set_random_seed(1)
    build_model(FIRST).save(folder / "best.keras")
    (folder / "state.json").write_text(json.dumps({"config": FIRST.to_dict(), "best_epoch": 12, "epochs_done": 20}))
    return folder / "best.keras"


def run(monkeypatch: pytest.MonkeyPatch, *args: str | Path) -> None:
    monkeypatch.setattr(sys, "argv", ["train", *map(str, args)])
    train.main()


def start_from(monkeypatch: pytest.MonkeyPatch, data: Path, out: Path, init: Path, *args: str) -> None:
    """One epoch of a new run from `init`'s weights, at a learning rate too small to move them: what comes out is
    what went in."""
    run(monkeypatch, "--data", data, "--out", out, "--batch", "32", "--epochs", "1", "--lr", "1e-12",
        "--init", init, *args)  # fmt: skip


def saved_state(out: Path) -> dict[str, Any]:
    """The run's state.json."""
    state: dict[str, Any] = json.loads((out / "state.json").read_text())
    return state


def history(out: Path) -> list[dict[str, str]]:
    with (out / "history.csv").open() as f:
        return list(csv.DictReader(f))


def kernels(model: Any) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(w) for w in model.weights if w.path.endswith("kernel")]


def test_a_run_checkpoints_every_epoch_and_resumes_where_it_stopped(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    common = ("--data", data, "--out", out, "--batch", "32", "--lr", "0.01", "--warmup", "1", "--widths", "8,8,16,16")
    run(monkeypatch, *common, "--epochs", "1")
    assert {p.name for p in out.iterdir()} == {"last.keras", "best.keras", "state.json", "history.csv"}
    state = saved_state(out)
    small = NetConfig(widths=(8, 8, 16, 16))
    assert state["epochs_done"] == 1 and NetConfig.from_dict(state["config"]) == small
    assert keras.models.load_model(out / "last.keras").count_params() == build_model(small).count_params()

    run(monkeypatch, *common, "--epochs", "3")
    state = saved_state(out)
    assert state["epochs_done"] == 3 and 1 <= state["best_epoch"] <= 3
    rows = history(out)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    # The schedule goes on from epoch 2 (cosine after one warm-up epoch), not from the start.
    assert [float(row["lr"]) for row in rows] == pytest.approx([train.cosine_lr(e, 3, 0.01, 1) for e in range(3)])


def test_init_starts_a_new_run_from_another_runs_weights_and_network(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path, first: Path
) -> None:
    second = tmp_path / "second"
    start_from(monkeypatch, data, second, first)
    start = kernels(keras.models.load_model(first))
    warm = kernels(keras.models.load_model(second / "last.keras"))
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(start, warm, strict=True))

    record = saved_state(second)
    assert NetConfig.from_dict(record["config"]) == FIRST
    assert record["init"]["checkpoint"] == str(first)
    assert record["init"]["best_epoch"] == 12  # the first run's own record travels with the new run
    assert record["epochs_done"] == 1


def test_init_with_a_new_head_keeps_the_trunk_and_trains_the_head_from_scratch(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path, first: Path
) -> None:
    second = tmp_path / "second"
    start_from(monkeypatch, data, second, first, "--head", "flatten")
    before = keras.models.load_model(first)
    after = keras.models.load_model(second / "last.keras")
    assert NetConfig.from_dict(saved_state(second)["config"]).head == "flatten"
    trunk = [layer.name for layer in before.layers if layer.weights and layer.name != "probs"]
    assert trunk  # the convolutions and batch norms
    for name in trunk:  # trainable weights: a training epoch moves batch-norm statistics whatever the learning rate
        old, new = before.get_layer(name).trainable_weights, after.get_layer(name).trainable_weights
        for a, b in zip(old, new, strict=True):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-6)
    assert after.get_layer("probs").kernel.shape == (6 * 6 * 16, 7)


def test_init_refuses_a_checkpoint_that_does_not_fit_the_network(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No state.json beside it, so the network comes from --widths, and those do not match the weights.
    keras.utils.set_random_seed(1)
    build_model(NetConfig(widths=(8, 8, 16, 16))).save(tmp_path / "other.keras")
    with pytest.raises(SystemExit):
        run(monkeypatch, "--data", data, "--out", tmp_path / "run", "--epochs", "1", "--widths", "8,8,8,8",
            "--init", tmp_path / "other.keras")  # fmt: skip
    assert "does not fit this network" in capsys.readouterr().err
    assert not (tmp_path / "run" / "last.keras").exists()


def test_the_schedule_decays_to_the_swa_rate_and_holds_it_for_the_averaged_epochs() -> None:
    lrs = [train.cosine_lr(e, 10, 0.02, 1, flat=4, floor=0.005) for e in range(10)]
    assert lrs[0] == pytest.approx(0.02)  # the one warm-up epoch reaches the peak
    assert all(a > b for a, b in itertools.pairwise(lrs[1:7]))  # decays to the floor...
    assert lrs[6:] == [0.005] * 4  # ...and holds it for the last four
    assert train.cosine_lr(9, 10, 0.02, 1) < 0.001  # without SWA the decay runs to (nearly) zero


def test_batch_norm_statistics_are_measured_again_as_the_plain_mean_over_the_batches() -> None:
    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(inputs))
    rng = np.random.default_rng(3)
    batches = [rng.normal(5.0 + i, 1.0 + i, (16, 4)).astype(np.float32) for i in range(3)]
    dataset = train.tf.data.Dataset.from_tensor_slices((np.concatenate(batches), np.zeros(48))).batch(16)
    train.recompute_batch_norm(model, dataset)
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), np.mean([b.mean(0) for b in batches], 0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), np.mean([b.var(0) for b in batches], 0), rtol=1e-4)
    assert bn.momentum == 0.99  # left as it was


def test_swa_averages_the_last_epochs_weights_and_goes_on_averaging_after_a_resume(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    seen: dict[int, list[np.ndarray]] = {}
    average = train.WeightAverage.on_epoch_end

    def spy(self: train.WeightAverage, epoch: int, logs: dict[str, float] | None = None) -> None:
        seen[epoch] = [w.copy() for w in self.model.get_weights()]
        average(self, epoch, logs)
        if len(seen) == 3:  # only in the first run, which has seen epochs 1 to 3
            raise KeyboardInterrupt  # the run is stopped after epoch 3, the first averaged one

    monkeypatch.setattr(train.WeightAverage, "on_epoch_end", spy)
    common = ("--data", data, "--out", out, "--batch", "32", "--lr", "0.05", "--warmup", "1", "--widths", "8,8,16,16",
              "--epochs", "5", "--swa-epochs", "3", "--swa-lr", "0.01")  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        run(monkeypatch, *common)
    assert not (out / "swa.keras").exists()  # nothing claimed from an unfinished run
    run(monkeypatch, *common)  # resumes after epoch 3

    assert [float(row["lr"]) for row in history(out)][2:] == [0.01] * 3
    assert saved_state(out)["swa_epochs"] == 3
    swa = keras.models.load_model(out / "swa.keras")
    names = [w.path for w in swa.weights]
    trainable = {w.path for w in swa.trainable_weights}
    for i, (name, value) in enumerate(zip(names, swa.get_weights(), strict=True)):
        if name in trainable:  # kernels, biases and batch-norm scales: the mean of epochs 3, 4 and 5
            np.testing.assert_allclose(value, np.mean([seen[e][i] for e in (2, 3, 4)], 0), rtol=1e-4, atol=1e-6)
    last = keras.models.load_model(out / "last.keras")
    assert not np.allclose(kernels(swa)[0], kernels(last)[0])  # not simply the last epoch's weights


def test_swa_epochs_must_leave_room_for_the_decay(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run(monkeypatch, "--data", data, "--out", tmp_path / "run", "--epochs", "4", "--warmup", "1",
            "--swa-epochs", "3")  # fmt: skip
    assert "--swa-epochs must" in capsys.readouterr().err


def test_added_convolutions_start_as_identities_so_the_deeper_network_reads_faces_as_before() -> None:
    keras.utils.set_random_seed(2)
    source = build_model(FIRST)
    rng = np.random.default_rng(3)
    for layer in source.layers:  # batch norms with statistics of their own, as after training
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, channels), rng.normal(0, 1, channels),
                               rng.normal(0, 1, channels), rng.uniform(0.5, 2, channels)])  # fmt: skip
    deeper = build_model(dataclasses.replace(FIRST, convs_per_stage=(1, 1, 2, 3)))
    added = ["s2_1", "s3_1", "s3_2"]
    fresh = train.transfer_weights(source, deeper)
    assert sorted(fresh) == sorted(f"{block}_{part}" for block in added for part in ("conv", "bn"))
    faces = rng.uniform(0, 1, (64, 48, 48, 1)).astype(np.float32)
    before = deeper.predict(faces, verbose=0)
    train.start_as_identity(deeper, added, faces)
    expected = source.predict(faces, verbose=0)
    assert np.abs(before - expected).max() > 0.05  # randomly initialised blocks do change the reading
    np.testing.assert_allclose(deeper.predict(faces, verbose=0), expected, atol=1e-5)
    # In training, batch norm uses the batch's own statistics: each new block still passes these faces' features on.
    for block in added:
        conv, norm, relu = (deeper.get_layer(f"{block}_{part}") for part in ("conv", "bn", "relu"))
        features = keras.Model(deeper.inputs, conv.input).predict(faces, verbose=0)
        passed = keras.ops.convert_to_numpy(relu(norm(conv(features), training=True)))
        np.testing.assert_allclose(passed, features, atol=1e-4)


def test_init_with_more_convolutions_deepens_the_init_runs_network(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path, first: Path
) -> None:
    deeper = tmp_path / "deeper"
    start_from(monkeypatch, data, deeper, first, "--convs", "1,1,2,3")
    assert NetConfig.from_dict(saved_state(deeper)["config"]).convs_per_stage == (1, 1, 2, 3)
    model = keras.models.load_model(deeper / "last.keras")
    for block in ("s2_1", "s3_1", "s3_2"):
        kernel = keras.ops.convert_to_numpy(model.get_layer(f"{block}_conv").kernel)
        centre = np.zeros_like(kernel)
        centre[1, 1] = np.eye(kernel.shape[-1])
        np.testing.assert_allclose(kernel, centre, atol=1e-6)


def test_init_refuses_to_drop_convolutions(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path, first: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deeper = tmp_path / "deeper"
    run(monkeypatch, "--data", data, "--out", deeper, "--epochs", "1", "--init", first, "--convs", "2,2,2,2")
    with pytest.raises(SystemExit):
        run(monkeypatch, "--data", data, "--out", tmp_path / "shallower", "--epochs", "1",
            "--init", deeper / "last.keras", "--convs", "2,1,2,2")  # fmt: skip
    assert "would drop convolutions" in capsys.readouterr().err
    assert not (tmp_path / "shallower" / "last.keras").exists()
    # A new network, not started from another run's, may have any number of convolutions.
    run(monkeypatch, "--data", data, "--out", tmp_path / "new", "--epochs", "1", "--widths", "8,8,16,16",
        "--convs", "1,2,1,1")  # fmt: skip
    assert NetConfig.from_dict(saved_state(tmp_path / "new")["config"]).convs_per_stage == (1, 2, 1, 1)


def test_distillation_trains_on_the_label_mixed_with_the_teachers_reading_of_each_face_and_its_mirror(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path, first: Path
) -> None:
    keras.utils.set_random_seed(4)
    second = tmp_path / "second.keras"
    build_model(dataclasses.replace(FIRST, head="flatten")).save(second)
    datasets: list[dict[str, Any]] = []
    make_dataset = train.make_dataset

    def spy(images: np.ndarray, targets: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        datasets.append({"targets": targets, **kwargs})
        return make_dataset(images, targets, *args, **kwargs)

    monkeypatch.setattr(train, "make_dataset", spy)
    out = tmp_path / "student"
    common = ("--data", data, "--out", out, "--batch", "32", "--warmup", "1", "--init", first,
              "--teacher", first, "--teacher", second, "--distill", "0.25")  # fmt: skip
    run(monkeypatch, *common, "--epochs", "1")

    with np.load(data / "fer2013_train.npz") as f:
        faces, labels = f["images"][..., None] / np.float32(255), f["labels"]
    readings = [
        (model.predict(faces, verbose=0) + model.predict(faces[:, :, ::-1], verbose=0)) / 2
        for model in (keras.models.load_model(first), keras.models.load_model(second))
    ]
    expected = (readings[0] + readings[1]) / 2
    assert np.abs(readings[0] - readings[1]).max() > 0.05  # two teachers that disagree: both count
    with np.load(out / "teacher.npz") as f:
        np.testing.assert_allclose(f["probs"], expected, atol=1e-5)
    training = datasets[0]
    np.testing.assert_allclose(training["targets"], 0.75 * np.eye(7)[labels] + 0.25 * expected, atol=1e-5)
    # Class weights go by the true label, whatever the teachers read.
    np.testing.assert_allclose(training["weights"], train.class_weights(labels, 0.25))
    assert all(np.ptp(training["weights"][labels == c]) == 0 for c in range(7))
    assert datasets[1]["targets"].max() == 1.0  # PublicTest is scored against its labels alone
    assert saved_state(out)["args"]["teacher"] == [str(first), str(second)]

    # A resumed run reuses the targets it started with, even when a teacher is gone.
    second.unlink()
    run(monkeypatch, *common, "--epochs", "2")
    assert saved_state(out)["epochs_done"] == 2
    np.testing.assert_allclose(datasets[2]["targets"], training["targets"])


def test_distill_must_be_a_share(
    monkeypatch: pytest.MonkeyPatch, data: Path, tmp_path: Path, first: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run(monkeypatch, "--data", data, "--out", tmp_path / "run", "--teacher", first, "--distill", "1.5")
    assert "--distill must" in capsys.readouterr().err
