"""Export a trained checkpoint to the artifacts MoodMix ships, and check the LiteRT model against Keras.

    KERAS_BACKEND=tensorflow python -m models.export --checkpoint ../runs/emotion4/last.keras --run ../runs/emotion4 \
        --data ../shared/data/fer2013 --tta

Writes models/artifacts/emotion.tflite (run by the bot through LiteRT; by default int8 weights with activations
quantised on the fly, float32 in and out; see `to_tflite`), emotion.keras (float32 weights, to fine-tune or retrain
from) and emotion.json (class order, preprocessing, each network's config and training record, quantisation, parity
figures, and with `--tta` the instruction to average each face's reading with its mirror image's).
Repeat --checkpoint (each with its --run, in the same order) to ship the mean of several networks' readings as one
model (`emotion_net.ensemble`); emotion.keras then holds each network as a layer named member0, member1, ...
`--quantize int8` calibrates fixed activation ranges on 500 Training faces. Parity is checked on 1,000 other Training
faces, and the export fails if LiteRT and Keras agree on the top class for fewer than 97% of them.
`--quantize none` exports float32 instead (parity must then hold to 1e-4).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from models.emotion_net import CLASS_NAMES, INPUT_SIZE, PREPROCESSING, NetConfig, build_model, ensemble, model_input
from models.fer_data import load_split

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLOAT_TOLERANCE = 1e-4
MIN_TOP1_AGREEMENT = 0.97
QUANTIZE = ("dynamic", "int8", "none")
TRAINING_RECORD = ("best_epoch", "best_val_accuracy", "epochs_done", "train_seconds", "args", "resumes", "init")


def float32_copy(trained: keras.Model, config: NetConfig, name: str) -> keras.Model:
    """The same network in plain float32 (training may have used mixed bfloat16), with the trained weights."""
    keras.mixed_precision.set_global_policy("float32")
    model = build_model(config, name)
    model.set_weights(trained.get_weights())
    return model


def to_tflite(model: keras.Model, workdir: Path, quantize: str, calibration: np.ndarray) -> bytes:
    """Convert through a SavedModel with a dynamic batch dimension, so the bot can classify several faces at once.

    Inputs and outputs stay float32 whatever `quantize` is, so callers do not change:
    - "dynamic": int8 weights; each layer's activations are quantised on the fly from their own range at run time,
      so the model follows float32 closely (no `calibration` needed).
    - "int8": int8 weights and activations, with fixed activation ranges measured on `calibration` (float inputs).
      A little faster than "dynamic", but the fixed ranges cost some accuracy (models/MODEL_CARD.md has both).
    - "none": float32 throughout.
    """
    spec = keras.InputSpec(shape=(None, INPUT_SIZE, INPUT_SIZE, 1), dtype="float32")
    saved = workdir / "saved_model"
    model.export(saved, format="tf_saved_model", input_signature=[spec], verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "int8":
        converter.representative_dataset = lambda: ([calibration[i : i + 1]] for i in range(len(calibration)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


def litert_predict(tflite: bytes, x: np.ndarray) -> np.ndarray:
    interpreter = Interpreter(model_content=tflite, num_threads=1)
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def parity(model: keras.Model, tflite: bytes, x: np.ndarray) -> dict[str, float]:
    """How closely the LiteRT model follows Keras on `x`: top-1 agreement and the probability differences."""
    expected = np.asarray(model(x, training=False))
    got = litert_predict(tflite, x)
    diff = np.abs(got - expected)
    return {
        "n": len(x),
        "top1_agreement": float((got.argmax(1) == expected.argmax(1)).mean()),
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", type=Path, action="append", required=True, help="repeat to ship the mean of several networks"
    )
    parser.add_argument(
        "--run",
        type=Path,
        action="append",
        default=[],
        help="each checkpoint's training run folder, in the same order (its state.json gives the network's shape and "
        "is recorded)",
    )
    parser.add_argument("--data", type=Path, required=True, help="FER-2013 folder (calibration and parity faces)")
    parser.add_argument(
        "--quantize", choices=QUANTIZE, default="dynamic", help="see to_tflite (default dynamic, chosen on PublicTest)"
    )
    parser.add_argument("--out", type=Path, default=ARTIFACTS)
    parser.add_argument(
        "--tta",
        action="store_true",
        help="record that the bot reads each face and its mirror image and averages the two (decide on PublicTest)",
    )
    args = parser.parse_args()
    if args.run and len(args.run) != len(args.checkpoint):
        parser.error("give one --run per --checkpoint, in the same order, or none")

    members, records = [], []
    for i, (checkpoint, run) in enumerate(zip(args.checkpoint, args.run or [None] * len(args.checkpoint), strict=True)):
        state = json.loads((run / "state.json").read_text()) if run else {}
        config = NetConfig.from_dict(state.get("config", {}))
        name = f"member{i}" if len(args.checkpoint) > 1 else "moodmix_emotion"
        members.append(float32_copy(keras.models.load_model(checkpoint, compile=False), config, name))
        record = {k: state[k] for k in TRAINING_RECORD if k in state}
        records.append({"checkpoint": checkpoint.name, "config": config.to_dict(), "training": record})
    model = members[0] if len(members) == 1 else ensemble(members)
    images, _ = load_split(args.data, "Training")
    pick = np.random.default_rng(0).permutation(len(images))
    faces = model_input(images)
    calibration, probe = faces[pick[:500]], faces[pick[500:1500]]
    with tempfile.TemporaryDirectory() as workdir:
        tflite = to_tflite(model, Path(workdir), args.quantize, calibration)

    check = parity(model, tflite, probe)
    print(f"parity on {check['n']} faces: {check}")
    if args.quantize == "none" and not check["max_abs_diff"] <= FLOAT_TOLERANCE:  # `not <=` also catches NaN
        raise SystemExit(f"LiteRT and Keras disagree by {check['max_abs_diff']:.2e}; not exporting")
    if not check["top1_agreement"] >= MIN_TOP1_AGREEMENT:
        raise SystemExit(f"LiteRT agrees with Keras on only {check['top1_agreement']:.1%} of faces; not exporting")

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "emotion.tflite").write_bytes(tflite)
    model.save(args.out / "emotion.keras")
    metadata = {
        "name": "moodmix-emotion",
        "class_names": list(CLASS_NAMES),
        "preprocessing": PREPROCESSING,
        "members": records,
        "parameters": int(model.count_params()),
        "quantization": args.quantize,
        "tta": args.tta,
        "parity": check,
    }
    (args.out / "emotion.json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"wrote {args.out}/emotion.tflite ({len(tflite) / 1e6:.2f} MB, {args.quantize})")


if __name__ == "__main__":
    main()
