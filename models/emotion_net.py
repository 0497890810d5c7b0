"""The MoodMix emotion CNN: a small VGG-style network for 48x48 grayscale faces (Keras 3).

The model takes float32 pixels in [0, 1], shape (N, 48, 48, 1), and returns softmax probabilities over
`CLASS_NAMES` (FER-2013's order). Standardisation is the first layer, so the exported `.tflite` needs only
the resize and the division by 255 that `PREPROCESSING` records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import keras
import numpy as np
from keras import layers

CLASS_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 48
HEADS = ("gap", "flatten")
# What a caller must do to a grayscale face crop before the model sees it; stored beside every artifact.
PREPROCESSING = {
    "input_size": INPUT_SIZE,
    "color": "grayscale",
    "scale": 1.0 / 255.0,
    "layout": "NHWC",
    "dtype": "float32",
}


def model_input(faces: np.ndarray) -> np.ndarray:
    """Grayscale uint8 faces (N, 48, 48) as the model takes them: float32 (N, 48, 48, 1), scaled by `PREPROCESSING`."""
    return faces[..., None].astype(np.float32) * np.float32(PREPROCESSING["scale"])


@dataclass(frozen=True)
class NetConfig:
    """Shape of the network; saved with every checkpoint so that an artifact explains itself."""

    widths: tuple[int, ...] = (32, 64, 128, 256)
    convs_per_stage: tuple[int, ...] = (2, 2, 2, 2)
    dropout: float = 0.4
    # "gap" averages the last feature map over space; "flatten" keeps where on the face each feature is.
    head: str = "gap"
    num_classes: int = len(CLASS_NAMES)
    class_names: tuple[str, ...] = field(default=CLASS_NAMES)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> NetConfig:
        """The config `to_dict` wrote, back from JSON (where its tuples became lists)."""
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}
        return cls(**fields)


def conv_bn_relu(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_model(config: NetConfig = NetConfig(), name: str = "moodmix_emotion") -> keras.Model:
    """Build the classifier. Input: (None, 48, 48, 1) floats in [0, 1]. Output: class probabilities."""
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    # FER-2013's pixel mean is about 0.51 and its std about 0.26: centre the input near zero.
    x = layers.Rescaling(scale=4.0, offset=-2.0, name="standardise")(inputs)
    for stage, (width, convs) in enumerate(zip(config.widths, config.convs_per_stage, strict=True)):
        for i in range(convs):
            x = conv_bn_relu(x, width, name=f"s{stage}_{i}")
        if stage < len(config.widths) - 1:
            x = layers.MaxPooling2D(2, name=f"s{stage}_pool")(x)
            x = layers.SpatialDropout2D(0.1 * (stage + 1) / 2, name=f"s{stage}_drop")(x)
    if config.head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, not {config.head!r}")
    x = layers.GlobalAveragePooling2D(name="gap")(x) if config.head == "gap" else layers.Flatten(name="flatten")(x)
    x = layers.Dropout(config.dropout, name="head_drop")(x)
    # float32 head: under mixed-precision training the softmax stays exact.
    outputs = layers.Dense(config.num_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name=name)


def ensemble(members: list[keras.Model]) -> keras.Model:
    """One network whose reading is the mean of the `members`' readings (which need distinct names), so that a single
    `.tflite` runs them all in one call."""
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    outputs = layers.Average(name="probs")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name="moodmix_emotion_ensemble")
