"""Generate the Flex (Select TF ops) test models and their TensorFlow reference outputs.

    python flex/tests/models/make_flex_models.py [OUTPUT_DIR]     # default: this directory

Needs tensorflow-cpu (tested with 2.21). Every model is converted with
``supported_ops = [TFLITE_BUILTINS, SELECT_TF_OPS]`` (``SELECT_TF_OPS`` only where noted), and ``<name>.npz`` holds
the inputs (``in:<signature>:<name>``) and TensorFlow's outputs (``out:<signature>:<name>``) the tests compare
against, so running the tests needs TensorFlow only for the Flex runtime itself.

Models (all small):

* ``flex_cumprod``: one FlexCumprod (also used by the SDK test that runs without litert-sdk-flex).
* ``flex_chain``: FlexMatrixInverse -> builtin ADD -> FlexCumprod(exclusive).
* ``flex_two_attrs``: two FlexCumprod nodes with different attributes (exclusive / reverse).
* ``flex_multi_output``: FlexFusedBatchNormV3 in training mode (six outputs, three used).
* ``flex_dtypes``: SELECT_TF_OPS only: int32, bool and float ops all run as Flex ops.
* ``flex_dynamic``: FlexListDiff, whose output shape depends on the input values.
* ``flex_train``: a small conv net with ``train`` / ``infer`` signatures; the gradients need Flex ops
  (Conv2DBackpropFilter, ReluGrad, ...). Reference: 5 TF training steps on fixed batches.
* ``flex_checkpoint``: ``train`` / ``infer`` / ``save(checkpoint_path)`` / ``restore(checkpoint_path)`` (the path is
  a tf.string input, as in TF's on-device training guide) + ``save_fixed`` / ``restore_fixed`` (path
  ``flex_ckpt/model.ckpt`` relative to the working directory) with FlexSave / FlexRestore. Reference: weights
  and ``infer`` after 3 TF training steps.
* ``flex_strings``: FlexStringLength (string input -> int32) and FlexStringToHashBucketFast on a scalar string.
* ``flex_string_join``: FlexStringJoin, whose output is a string tensor (not supported: a clear error).
* ``strings_reshape``: TFLITE_BUILTINS only, a dynamic [-1] string input reshaped to [-1, 1] (the SDK's string
  tensor tests; no Flex op).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OPS = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]


def convert_fn(fn, ops=OPS) -> bytes:
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    conv.target_spec.supported_ops = ops
    return conv.convert()


def save(out: Path, name: str, model: bytes, arrays: dict[str, np.ndarray]) -> None:
    (out / f"{name}.tflite").write_bytes(model)
    np.savez(out / f"{name}.npz", **arrays)
    print(f"{name}: {len(model)} bytes")


def _plain(v) -> np.ndarray:
    a = np.asarray(v)
    return a.astype(np.bytes_) if a.dtype == object else a  # TF's string outputs: bytes_, loadable without pickle


def ref(sig: str, inputs: dict[str, np.ndarray], outputs: dict[str, tf.Tensor]) -> dict[str, np.ndarray]:
    d = {f"in:{sig}:{k}": _plain(v) for k, v in inputs.items()}
    d.update({f"out:{sig}:{k}": _plain(v) for k, v in outputs.items()})
    return d


def simple(out: Path, name: str, fn, inputs: dict[str, np.ndarray], ops=OPS) -> None:
    model = convert_fn(fn, ops)
    result = fn(**{k: tf.constant(v) for k, v in inputs.items()})
    save(out, name, model, ref("serving_default", inputs, result))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)

    @tf.function(input_signature=[tf.TensorSpec([2, 5], tf.float32, name="x")])
    def cumprod(x):
        return {"y": tf.math.cumprod(x, axis=1)}

    simple(out, "flex_cumprod", cumprod, {"x": rng.uniform(0.5, 1.5, (2, 5)).astype(np.float32)})

    @tf.function(input_signature=[tf.TensorSpec([4, 4], tf.float32, name="x")])
    def chain(x):
        inv = tf.linalg.inv(x)
        return {"y": tf.math.cumprod(inv + 1.0, axis=0, exclusive=True)}

    a = (rng.normal(size=(4, 4)) * 0.3 + np.eye(4) * 2).astype(np.float32)
    simple(out, "flex_chain", chain, {"x": a})

    @tf.function(input_signature=[tf.TensorSpec([3, 4], tf.float32, name="x")])
    def two_attrs(x):
        return {"a": tf.math.cumprod(x, axis=1, exclusive=True),
                "b": tf.math.cumprod(x, axis=1, reverse=True)}

    simple(out, "flex_two_attrs", two_attrs, {"x": rng.uniform(0.5, 1.5, (3, 4)).astype(np.float32)})

    @tf.function(input_signature=[tf.TensorSpec([2, 3, 3, 4], tf.float32, name="x")])
    def multi(x):
        y, mean, var, *_ = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=tf.constant([1.0, 2.0, 0.5, 1.5]), offset=tf.constant([0.0, 0.1, -0.2, 0.3]),
            mean=tf.constant([], tf.float32), variance=tf.constant([], tf.float32), epsilon=1e-3, is_training=True)
        return {"y": y, "mean": mean, "var": var}

    simple(out, "flex_multi_output", multi, {"x": rng.normal(size=(2, 3, 3, 4)).astype(np.float32)})

    @tf.function(input_signature=[tf.TensorSpec([6], tf.float32, name="x"), tf.TensorSpec([6], tf.int32, name="n"),
                                  tf.TensorSpec([6], tf.bool, name="m")])
    def dtypes(x, n, m):
        return {"sel": tf.where(m, x, -x), "n2": n * 3 + 1, "not_m": tf.logical_not(m),
                "pos": tf.logical_and(x > 0.0, m), "cnt": tf.math.cumprod(n, axis=0)}

    simple(out, "flex_dtypes", dtypes,
           {"x": rng.normal(size=6).astype(np.float32), "n": np.arange(1, 7, dtype=np.int32),
            "m": np.array([True, False, True, True, False, False])},
           ops=[tf.lite.OpsSet.SELECT_TF_OPS])

    @tf.function(input_signature=[tf.TensorSpec([6], tf.int32, name="x"), tf.TensorSpec([3], tf.int32, name="y")])
    def dynamic(x, y):
        d, idx = tf.raw_ops.ListDiff(x=x, y=y)
        return {"d": d, "idx": idx}

    simple(out, "flex_dynamic", dynamic,
           {"x": np.array([1, 2, 3, 4, 5, 6], np.int32), "y": np.array([2, 4, 9], np.int32)})

    @tf.function(
        input_signature=[tf.TensorSpec([3], tf.string, name="words"), tf.TensorSpec([], tf.string, name="key")]
    )
    def strings(words, key):
        return {"length": tf.strings.length(words), "utf8_length": tf.strings.length(words, unit="UTF8_CHAR"),
                "bucket": tf.strings.to_hash_bucket_fast(key, 1000)}

    simple(out, "flex_strings", strings,
           {"words": np.array(["héllo".encode(), b"", b"checkpoint"]), "key": np.array(b"some/path")})

    @tf.function(input_signature=[tf.TensorSpec([2], tf.string, name="s")])
    def string_join(s):
        return {"joined": tf.strings.join([s, s], separator="-")}

    simple(out, "flex_string_join", string_join, {"s": np.array([b"a", b"bc"])})

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="s")])
    def strings_reshape(s):
        return {"column": tf.reshape(s, [-1, 1])}

    simple(out, "strings_reshape", strings_reshape, {"s": np.array([b"x", b"yy", b"zzz"])},
           ops=[tf.lite.OpsSet.TFLITE_BUILTINS])

    make_train(out, rng)
    make_checkpoint(out)


class ConvNet(tf.Module):
    """Conv -> ReLU -> global mean -> dense, trained with plain SGD (gradients need Flex ops)."""

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.w = tf.Variable(rng.normal(0, 0.3, (3, 3, 1, 4)).astype(np.float32), name="w")
        self.b = tf.Variable(np.zeros(4, np.float32), name="b")
        self.dw = tf.Variable(rng.normal(0, 0.3, (4, 3)).astype(np.float32), name="dw")
        self.db = tf.Variable(np.zeros(3, np.float32), name="db")

    def logits(self, x):
        h = tf.nn.relu(tf.nn.conv2d(x, self.w, strides=1, padding="SAME") + self.b)
        return tf.matmul(tf.reduce_mean(h, axis=[1, 2]), self.dw) + self.db

    @tf.function(input_signature=[tf.TensorSpec([2, 8, 8, 1], tf.float32), tf.TensorSpec([2, 3], tf.float32)])
    def train(self, x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=self.logits(x)))
        variables = [self.w, self.b, self.dw, self.db]
        for v, g in zip(variables, tape.gradient(loss, variables), strict=False):
            v.assign_sub(0.5 * g)
        return {"loss": loss}

    @tf.function(input_signature=[tf.TensorSpec([2, 8, 8, 1], tf.float32)])
    def infer(self, x):
        return {"logits": self.logits(x)}


def make_train(out: Path, rng: np.random.Generator) -> None:
    seed = np.random.default_rng(1)
    m = ConvNet(seed)
    sigs = {"train": m.train.get_concrete_function(), "infer": m.infer.get_concrete_function()}
    conv = tf.lite.TFLiteConverter.from_concrete_functions([sigs["train"], sigs["infer"]], m)
    conv.target_spec.supported_ops = OPS
    conv.experimental_enable_resource_variables = True
    model = conv.convert()
    arrays: dict[str, np.ndarray] = {}
    xs = rng.normal(size=(5, 2, 8, 8, 1)).astype(np.float32)
    ys = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=(5, 2))]
    losses = []
    for i in range(5):
        losses.append(float(m.train(tf.constant(xs[i]), tf.constant(ys[i]))["loss"]))
    arrays["train_x"] = xs
    arrays["train_y"] = ys
    arrays["losses"] = np.array(losses, np.float32)
    arrays["infer_logits"] = m.infer(tf.constant(xs[0]))["logits"].numpy()
    save(out, "flex_train", model, arrays)


# Relative to the working directory: the *_fixed signatures save to and restore from this path.
FIXED_CHECKPOINT = "flex_ckpt/model.ckpt"


class Checkpointed(tf.Module):
    """TF's on-device training pattern: ``train``, ``infer``, ``save(checkpoint_path)``, ``restore(checkpoint_path)``
    (Save / Restore are Flex ops; the path is a tf.string input), plus ``save_fixed`` / ``restore_fixed`` with the
    path as a constant."""

    def __init__(self) -> None:
        super().__init__()
        self.w = tf.Variable(np.full((3, 2), 0.1, np.float32), name="w")
        self.b = tf.Variable(np.zeros(2, np.float32), name="b")

    @tf.function(input_signature=[tf.TensorSpec([4, 3], tf.float32), tf.TensorSpec([4, 2], tf.float32)])
    def train(self, x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, self.w) + self.b - y))
        gw, gb = tape.gradient(loss, [self.w, self.b])
        self.w.assign_sub(0.1 * gw)
        self.b.assign_sub(0.1 * gb)
        return {"loss": loss}

    @tf.function(input_signature=[tf.TensorSpec([4, 3], tf.float32)])
    def infer(self, x):
        return {"y": tf.matmul(x, self.w) + self.b}

    def _save(self, path):
        tf.raw_ops.Save(filename=path, tensor_names=["w", "b"], data=[self.w.read_value(), self.b.read_value()])
        return {"saved": tf.constant(1)}

    def _restore(self, path):
        out = {}
        # Restore's outputs get static shapes in the converted model (RestoreV2's stay unranked, and the Flex kernel
        # cannot size value-dependent outputs). The two nodes have identical attributes (the converter strips node
        # names) and differ only in their static output shapes. (The converter serialises a NodeDef's attributes in
        # no fixed order: check that the Restore nodes' custom options came out byte-identical before committing.)
        for name, var in (("w", self.w), ("b", self.b)):
            value = tf.raw_ops.Restore(file_pattern=path, tensor_name=name, dt=tf.float32)
            var.assign(value)
            out[name] = value
        return out

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def save(self, checkpoint_path):
        return self._save(checkpoint_path)

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def restore(self, checkpoint_path):
        return self._restore(checkpoint_path)

    @tf.function(input_signature=[])
    def save_fixed(self):
        return self._save(tf.constant(FIXED_CHECKPOINT))

    @tf.function(input_signature=[])
    def restore_fixed(self):
        return self._restore(tf.constant(FIXED_CHECKPOINT))


def make_checkpoint(out: Path) -> None:
    m = Checkpointed()
    names = ["train", "infer", "save", "restore", "save_fixed", "restore_fixed"]
    conv = tf.lite.TFLiteConverter.from_concrete_functions([getattr(m, n).get_concrete_function() for n in names], m)
    conv.target_spec.supported_ops = OPS
    conv.experimental_enable_resource_variables = True
    model = conv.convert()
    x = (np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
    y = np.array([[1, 0], [0, 1], [1, 1], [0.5, 0.5]], np.float32)
    losses = [float(m.train(x, y)["loss"]) for _ in range(3)]
    save(out, "flex_checkpoint", model, {"x": x, "y": y, "losses": np.array(losses, np.float32),
                                         "infer_y": m.infer(x)["y"].numpy(), "w": m.w.numpy(), "b": m.b.numpy()})


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
