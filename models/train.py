"""Train the MoodMix emotion CNN on FER-2013 (Training split; PublicTest for model selection).

    KERAS_BACKEND=tensorflow python -m models.train --data ../shared/data/fer2013 --out ../runs/emotion --bf16 \
        --epochs 38
    KERAS_BACKEND=tensorflow python -m models.train --data ../shared/data/fer2013 --out ../runs/emotion2 --bf16 \
        --init ../runs/emotion/best.keras --epochs 60 --lr 0.02 --warmup 1 --erase-prob 0.25 --seed 8
    KERAS_BACKEND=tensorflow python -m models.train --data ../shared/data/fer2013 --out ../runs/emotion3 --bf16 \
        --init ../runs/emotion2/best.keras --head flatten --epochs 45 --lr 0.02 --warmup 3 --erase-prob 0.25 --seed 9
    KERAS_BACKEND=tensorflow python -m models.train --data ../shared/data/fer2013 --out ../runs/emotion4 --bf16 \
        --init ../runs/emotion3/last.keras --epochs 50 --lr 0.02 --warmup 1 --erase-prob 0.25 --seed 10

The shipped model comes from these four runs: the second starts from the first one's best weights with a new,
gentler schedule and lighter random erasing; the third puts the second one's trunk under a flatten head; the fourth
is a plain warm restart of the third (see models/MODEL_CARD.md for why and what each gave).
Checkpoints go to --out after every epoch (`last.keras` with the optimizer state, `best.keras` by PublicTest
accuracy, `state.json`, `history.csv`; with --swa-epochs also `swa_mean.npz`, then `swa.keras` once the run ends;
with --teacher, `teacher.npz`, the teachers' probabilities for the Training faces); running the same command again
resumes from `last.keras`.
The data are read from --data and never copied.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf

from models.emotion_net import CLASS_NAMES, HEADS, PREPROCESSING, NetConfig, build_model, model_input
from models.evaluate import predict
from models.fer_data import load_split


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Each sample's weight by its class: inverse class frequency raised to `power` (0 = none, 1 = fully balanced),
    mean 1 over the samples."""
    counts = np.bincount(labels, minlength=len(CLASS_NAMES)).astype(np.float64)
    w = (counts.max() / counts) ** power
    return (w[labels] / w[labels].mean()).astype(np.float32)


def teacher_probabilities(checkpoints: list[Path], images: np.ndarray) -> np.ndarray:
    """The mean class probabilities of the teacher checkpoints for uint8 faces (N, 48, 48), each teacher reading a
    face and its mirror image: the soft targets of knowledge distillation (Hinton et al. 2015, arXiv:1503.02531)."""
    teachers = [keras.models.load_model(checkpoint, compile=False) for checkpoint in checkpoints]
    return predict(teachers, images, tta=True).astype(np.float32)


def augmenter(seed: int) -> keras.Sequential:
    """Geometric and photometric jitter seen by training batches only (never part of the exported model)."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.035, fill_mode="reflect", seed=seed),  # about +-12 degrees
            keras.layers.RandomZoom((-0.12, 0.12), fill_mode="reflect", seed=seed),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed),
            keras.layers.RandomContrast(0.3, seed=seed),
            keras.layers.RandomBrightness(0.15, value_range=(0.0, 1.0), seed=seed),
        ],
        name="augment",
    )


def random_erase(images: tf.Tensor, prob: float = 0.5) -> tf.Tensor:
    """Blank one random rectangle (up to a quarter of each side squared) in a share of the images."""
    n = tf.shape(images)[0]
    size = PREPROCESSING["input_size"]
    h = tf.random.uniform([n], 6, size // 2, dtype=tf.int32)
    w = tf.random.uniform([n], 6, size // 2, dtype=tf.int32)
    y0 = tf.cast(tf.random.uniform([n]) * tf.cast(size - h, tf.float32), tf.int32)
    x0 = tf.cast(tf.random.uniform([n]) * tf.cast(size - w, tf.float32), tf.int32)
    rows = tf.range(size)[None, :, None]
    cols = tf.range(size)[None, None, :]
    box = (
        (rows >= y0[:, None, None])
        & (rows < (y0 + h)[:, None, None])
        & (cols >= x0[:, None, None])
        & (cols < (x0 + w)[:, None, None])
    )
    apply = tf.random.uniform([n]) < prob
    mask = box & apply[:, None, None]
    fill = tf.random.uniform(tf.shape(images))
    return tf.where(mask[..., None], fill, images)


def make_dataset(
    images: np.ndarray,
    targets: np.ndarray,
    batch: int,
    train: bool,
    seed: int,
    erase_prob: float = 0.5,
    weights: np.ndarray | None = None,
) -> tf.data.Dataset:
    """Batches of (faces, target probabilities[, sample weights]); training batches are shuffled and augmented."""
    x = model_input(images)
    ds = tf.data.Dataset.from_tensor_slices((x, targets) if weights is None else (x, targets, weights))
    if train:
        aug = augmenter(seed)

        def augment(faces: tf.Tensor, *rest: tf.Tensor) -> tuple[tf.Tensor, ...]:
            return (tf.clip_by_value(random_erase(aug(faces, training=True), erase_prob), 0.0, 1.0), *rest)

        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch, drop_remainder=True)
        ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.batch(512)
    return ds.prefetch(tf.data.AUTOTUNE)


def per_stage(text: str) -> tuple[int, ...]:
    """--widths and --convs: one positive whole number per stage of the network, comma-separated."""
    stages = len(NetConfig().convs_per_stage)
    try:
        counts = tuple(int(n) for n in text.split(","))
    except ValueError:
        counts = ()
    if len(counts) != stages or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"give {stages} positive whole numbers, one per stage, like 32,64,128,256")
    return counts


def transfer_weights(source: keras.Model, target: keras.Model) -> list[str]:
    """Copy weights layer by layer, matched by name, where the shapes agree; the names of the target layers left as
    initialised (a new head on an old trunk, for example)."""
    fresh: list[str] = []
    for layer in target.layers:
        try:
            weights = source.get_layer(layer.name).get_weights()
        except ValueError:  # no such layer in the source
            weights = None
        if weights is not None and [w.shape for w in weights] == [w.shape for w in layer.get_weights()]:
            layer.set_weights(weights)
        elif layer.weights:
            fresh.append(layer.name)
    return fresh


def cosine_lr(epoch: int, total: int, peak: float, warmup: int, flat: int = 0, floor: float = 0.0) -> float:
    """Linear warm-up to `peak`, cosine decay to `floor` by epoch `total - flat`, then `floor` for the last `flat`."""
    if epoch < warmup:
        return peak * (epoch + 1) / warmup
    decay_end = total - flat
    if epoch >= decay_end:
        return floor
    progress = (epoch - warmup) / max(1, decay_end - warmup)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))


class Checkpointer(keras.callbacks.Callback):
    """Writes last/best checkpoints, the run state and a CSV history after every epoch."""

    def __init__(self, out: Path, state: dict[str, object]) -> None:
        super().__init__()
        self.out = out
        self.state = state
        self.started = time.time()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = dict(logs or {})
        val_acc = float(logs.get("val_accuracy", 0.0))
        self.model.save(self.out / "last.keras")
        if val_acc > float(self.state.get("best_val_accuracy", 0.0)):  # type: ignore[arg-type]
            self.state["best_val_accuracy"] = val_acc
            self.state["best_epoch"] = epoch + 1
            self.model.save(self.out / "best.keras")
        self.state["epochs_done"] = epoch + 1
        self.state["train_seconds"] = float(self.state.get("train_seconds", 0.0)) + time.time() - self.started  # type: ignore[arg-type]
        self.started = time.time()
        (self.out / "state.json").write_text(json.dumps(self.state, indent=2))
        history = self.out / "history.csv"
        new = not history.exists()
        with history.open("a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["epoch", "lr", *sorted(logs)])
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            writer.writerow([epoch + 1, f"{lr:.6f}", *(f"{logs[k]:.5f}" for k in sorted(logs))])


class WeightAverage(keras.callbacks.Callback):
    """Stochastic weight averaging (Izmailov et al. 2018, arXiv:1803.05407): the mean of the weights at the end of
    each of the last `epochs` epochs (run at a constant learning rate), written to `swa.keras` once training ends, with
    the batch-norm statistics measured again for the averaged weights. The running mean is kept in `swa_mean.npz`
    beside the checkpoints, so a resumed run goes on averaging where it stopped."""

    def __init__(self, out: Path, state: dict[str, object], total: int, epochs: int, bn_data: tf.data.Dataset) -> None:
        super().__init__()
        self.out = out
        self.state = state
        self.first = total - epochs
        self.bn_data = bn_data
        self.mean: list[np.ndarray] = []
        self.count = 0
        saved = out / "swa_mean.npz"
        if saved.exists():
            with np.load(saved) as f:
                self.count = int(f["count"])
                self.mean = [f[f"w{i}"] for i in range(len(f.files) - 1)]

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if epoch < self.first:
            return
        weights = self.model.get_weights()
        self.count += 1
        self.mean = (
            weights if self.count == 1 else [m + (w - m) / self.count for m, w in zip(self.mean, weights, strict=True)]
        )
        np.savez(self.out / "swa_mean.npz", count=self.count, **{f"w{i}": m for i, m in enumerate(self.mean)})

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.count == 0:  # Keras calls this only when fit() ran to the end, not after an interruption
            return
        self.model.set_weights(self.mean)
        recompute_batch_norm(self.model, self.bn_data)
        self.model.save(self.out / "swa.keras")
        self.state["swa_epochs"] = self.count
        (self.out / "state.json").write_text(json.dumps(self.state, indent=2))


def start_as_identity(model: keras.Model, blocks: list[str], faces: np.ndarray) -> None:
    """Make each named convolution block (`s2_2` for s2_2_conv, s2_2_bn, s2_2_relu) pass its input through unchanged,
    so that a network deepened by these blocks computes what it did before them (Net2DeeperNet, Chen et al. 2016,
    arXiv:1511.05641). The convolution becomes the identity and batch norm undoes its own normalisation with the
    statistics of the block's input, measured on `faces`; the ReLU changes nothing because that input is the
    output of a ReLU. Training then moves the new blocks away from the identity."""
    for block in blocks:
        conv, norm = model.get_layer(f"{block}_conv"), model.get_layer(f"{block}_bn")
        features = keras.Model(model.inputs, conv.input).predict(faces, batch_size=512, verbose=0).astype(np.float64)
        mean, var = features.mean(axis=(0, 1, 2)), features.var(axis=(0, 1, 2))
        kernel = np.zeros(conv.kernel.shape, np.float32)
        kernel[1, 1] = np.eye(len(mean))
        conv.set_weights([kernel])
        norm.set_weights([np.sqrt(var + norm.epsilon), mean, mean, var])


def recompute_batch_norm(model: keras.Model, batches: tf.data.Dataset) -> None:
    """Replace every batch-norm layer's moving mean and variance with their plain average over `batches` (the
    statistics the training run kept belong to other weights)."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in norms]
    for seen, (images, *_) in enumerate(batches):
        for layer in norms:  # read on each eager call: momentum seen/(seen+1) keeps a running mean over batches
            layer.momentum = seen / (seen + 1)
        model(images, training=True)
    for layer, momentum in zip(norms, saved, strict=True):
        layer.momentum = momentum


def compile_for_training(model: keras.Model, args: argparse.Namespace) -> None:
    """SGD with Nesterov momentum and decoupled weight decay on the kernels only (not on batch-norm or biases)."""
    optimizer = keras.optimizers.SGD(args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
        metrics=["accuracy"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="folder holding fer2013_train.npz and fer2013_test.npz"
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder for checkpoints (outside the repository)")
    parser.add_argument("--epochs", type=int, default=70)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--class-weight-power", type=float, default=0.25)
    parser.add_argument("--bf16", action="store_true", help="mixed bfloat16 (about 1.5x faster on AVX-512 CPUs)")
    parser.add_argument("--erase-prob", type=float, default=0.5, help="share of training images with a blanked box")
    parser.add_argument(
        "--widths",
        type=per_stage,
        default=NetConfig().widths,
        help="channels of the four stages, comma-separated (default 32,64,128,256)",
    )
    parser.add_argument(
        "--convs",
        type=per_stage,
        help="convolutions in each of the four stages, comma-separated (default 2,2,2,2); with --init, stages may "
        "gain convolutions at their end, which start as identities so that the network starts as the init run's",
    )
    parser.add_argument(
        "--head",
        choices=HEADS,
        help="how the last feature map becomes class scores (default gap); with --init it replaces the init run's "
        "head, whose weights then start fresh",
    )
    parser.add_argument(
        "--swa-epochs",
        type=int,
        default=0,
        help="average the weights of the last N epochs into swa.keras (stochastic weight averaging); those epochs run "
        "at --swa-lr, which the cosine decay reaches as they begin",
    )
    parser.add_argument("--swa-lr", type=float, default=0.004, help="the constant learning rate of the --swa-epochs")
    parser.add_argument(
        "--teacher",
        type=Path,
        action="append",
        default=[],
        help="knowledge distillation: a checkpoint whose probabilities (face and mirror image, on the un-augmented "
        "Training faces) join the labels as targets; repeat to average several teachers",
    )
    parser.add_argument(
        "--distill",
        type=float,
        default=0.5,
        help="with --teacher, the teachers' share of each target (the one-hot label has the rest)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--init",
        type=Path,
        help="start a new run (new schedule, fresh optimizer) from this checkpoint's weights; the network is the one "
        "its run's state.json records, so --widths does not apply (--head and --convs do)",
    )
    args = parser.parse_args()
    if args.swa_epochs < 0 or args.swa_epochs > max(0, args.epochs - args.warmup - 1):
        parser.error("--swa-epochs must be at least 0 and leave at least one epoch of decay after the --warmup")
    if not 0.0 <= args.distill <= 1.0:
        parser.error("--distill must be between 0 and 1")
    floor = args.swa_lr if args.swa_epochs else 0.0

    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)

    train_x, train_y = load_split(args.data, "Training")
    val_x, val_y = load_split(args.data, "PublicTest")
    targets = keras.utils.to_categorical(train_y, len(CLASS_NAMES)).astype(np.float32)
    if args.teacher:  # measured once per run and kept beside its checkpoints, so a resumed run reuses them
        saved_teacher = args.out / "teacher.npz"
        if saved_teacher.exists():
            with np.load(saved_teacher) as f:
                soft = f["probs"]
        else:
            soft = teacher_probabilities(args.teacher, train_x)
            np.savez(saved_teacher, probs=soft)
        targets = (1.0 - args.distill) * targets + args.distill * soft
    train_ds = make_dataset(
        train_x,
        targets,
        args.batch,
        train=True,
        seed=args.seed,
        erase_prob=args.erase_prob,
        weights=class_weights(train_y, args.class_weight_power),
    )
    val_targets = keras.utils.to_categorical(val_y, len(CLASS_NAMES)).astype(np.float32)
    val_ds = make_dataset(val_x, val_targets, args.batch, train=False, seed=args.seed)
    if args.bf16:  # after the datasets, so that augmentation stays in float32
        keras.mixed_precision.set_global_policy("mixed_bfloat16")

    state_path = args.out / "state.json"
    resume = (args.out / "last.keras").exists() and state_path.exists()
    if resume:
        model = keras.models.load_model(args.out / "last.keras")
        saved_optimizer = model.optimizer
        compile_for_training(model, args)
        # Keras does not save the weight-decay exclusions: rebuild the optimizer with them, then restore its state.
        model.optimizer.build(model.trainable_variables)
        for new, old in zip(model.optimizer.variables, saved_optimizer.variables, strict=True):
            new.assign(old)
        state: dict[str, object] = json.loads(state_path.read_text())
        initial_epoch = int(state["epochs_done"])  # type: ignore[arg-type]
        print(f"resuming after epoch {initial_epoch}")
    else:
        # With --init, the network and the record of the run the weights come from (its state.json, when there).
        init_path = args.init.parent / "state.json" if args.init else None
        init_state = json.loads(init_path.read_text()) if init_path and init_path.exists() else {}
        config = NetConfig.from_dict(init_state["config"]) if "config" in init_state else NetConfig(widths=args.widths)
        added: list[str] = []  # the convolution blocks --convs adds to the init run's network
        if args.convs:
            pairs = list(zip(config.convs_per_stage, args.convs, strict=True))
            if args.init and any(has < had for had, has in pairs):
                parser.error(f"--convs {args.convs} would drop convolutions of {args.init}'s {config.convs_per_stage}")
            added = [f"s{stage}_{i}" for stage, (had, has) in enumerate(pairs) for i in range(had, has)]
            config = dataclasses.replace(config, convs_per_stage=args.convs)
        if args.head:
            config = dataclasses.replace(config, head=args.head)
        model = build_model(config)
        if args.init:
            fresh = transfer_weights(keras.models.load_model(args.init), model)
            # Only a new head starts untrained; added convolutions start as identities.
            untrained = [name for name in fresh if name != "probs" and name.rsplit("_", 1)[0] not in added]
            if untrained:
                parser.error(f"{args.init} does not fit this network: {', '.join(untrained)} would start untrained")
            if added:
                probe = model_input(train_x[:4096])
                start_as_identity(model, added, probe)
        compile_for_training(model, args)
        initial_epoch = 0
        state = {
            "config": config.to_dict(),
            "preprocessing": PREPROCESSING,
            "class_names": list(CLASS_NAMES),
            "args": {k: [str(i) for i in v] if isinstance(v, list) else str(v) for k, v in vars(args).items()},
        }
        if args.init:
            state["init"] = {"checkpoint": str(args.init), **init_state}
    model.summary(print_fn=lambda s, **_: None)
    print(f"{model.count_params()} parameters; training epochs {initial_epoch + 1}..{args.epochs}")
    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=args.epochs,
        initial_epoch=initial_epoch,
        shuffle=False,  # the dataset shuffles itself
        callbacks=[
            keras.callbacks.LearningRateScheduler(
                lambda e: cosine_lr(e, args.epochs, args.lr, args.warmup, args.swa_epochs, floor)
            ),
            Checkpointer(args.out, state),
            *([WeightAverage(args.out, state, args.epochs, args.swa_epochs, train_ds)] if args.swa_epochs else []),
        ],
        verbose=2,
    )


if __name__ == "__main__":
    main()
