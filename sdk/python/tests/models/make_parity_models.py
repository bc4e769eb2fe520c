"""Generates the models of tests/test_upstream_parity.py into tests/models/parity/ (TensorFlow 2.21).

    python sdk/python/tests/models/make_parity_models.py

Every model is converted from a tf.Module so that it carries signatures; the signatures and their inputs/outputs are
declared in an order that is not sorted, so the tests see whether signature order follows ai-edge-litert's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "parity"


def convert(module: tf.Module, *fns: tf.types.experimental.ConcreteFunction) -> bytes:
    return tf.lite.TFLiteConverter.from_concrete_functions(list(fns), module).convert()


class Simple(tf.Module):
    """Fixed shape [2, 3]: y = relu(x * 2 - 3), with two intermediate tensors."""

    @tf.function(input_signature=[tf.TensorSpec([2, 3], tf.float32, name="x")])
    def simple(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"y": tf.nn.relu(x * 2.0 - 3.0)}


class Multi(tf.Module):
    """Three signatures declared scalar, encode, decode; encode takes (b, a) and returns zeta, mid, alpha."""

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="b"),
                                  tf.TensorSpec([None, 2], tf.float32, name="a")])
    def encode(self, b: tf.Tensor, a: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"zeta": b - a, "mid": b * a, "alpha": b + a}

    @tf.function(input_signature=[tf.TensorSpec([3], tf.int32, name="q")])
    def decode(self, q: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"out": q * 3}

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32, name="s")])
    def scalar(self, s: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"sq": s * s}


class Strings(tf.Module):
    """A 0-d string input reshaped to [1]."""

    @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="s")])
    def strfn(self, s: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"r": tf.reshape(s, [1])}


class Scalar(tf.Module):
    """0-d input and output in the main subgraph: y = s * s + 1."""

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32, name="s")])
    def square(self, s: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"y": s * s + 1.0}


class Chains(tf.Module):
    """Two signatures with intermediate tensors: first(x) = relu(x * 2 - 1) + 3, second(x) = (x + 1) * x - 2."""

    @tf.function(input_signature=[tf.TensorSpec([2, 2], tf.float32, name="x")])
    def first(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"f": tf.nn.relu(x * 2.0 - 1.0) + 3.0}

    @tf.function(input_signature=[tf.TensorSpec([3], tf.float32, name="x")])
    def second(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"g": (x + 1.0) * x - 2.0}


class Conv(tf.Module):
    """CONV_2D -> RELU -> MEAN -> FULLY_CONNECTED: intermediate tensors inside an XNNPACK partition."""

    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(7)
        self.w = tf.constant(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
        self.b = tf.constant(rng.standard_normal(4).astype(np.float32))
        self.fc = tf.constant(rng.standard_normal((4, 2)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32, name="image")])
    def conv(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        h = tf.nn.relu(tf.nn.conv2d(image, self.w, 1, "SAME") + self.b)
        pooled = tf.reduce_mean(h, axis=[1, 2])
        return {"logits": tf.matmul(pooled, self.fc)}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    s = Simple()
    (OUT / "simple.tflite").write_bytes(convert(s, s.simple.get_concrete_function()))
    m = Multi()
    (OUT / "multi.tflite").write_bytes(convert(m, m.scalar.get_concrete_function(), m.encode.get_concrete_function(),
                                               m.decode.get_concrete_function()))
    t = Strings()
    (OUT / "strings.tflite").write_bytes(convert(t, t.strfn.get_concrete_function()))
    q = Scalar()
    (OUT / "scalar.tflite").write_bytes(convert(q, q.square.get_concrete_function()))
    ch = Chains()
    (OUT / "chains.tflite").write_bytes(convert(ch, ch.second.get_concrete_function(),
                                                ch.first.get_concrete_function()))
    c = Conv()
    (OUT / "conv.tflite").write_bytes(convert(c, c.conv.get_concrete_function()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
