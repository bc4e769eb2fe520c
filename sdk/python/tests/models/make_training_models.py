#!/usr/bin/env python3
"""Generate the on-device training test models and their TensorFlow reference numbers.

Regenerate (needs ``tensorflow-cpu==2.21.0``, ``numpy``, ``scikit-learn`` for the
digits data set and ``ai-edge-litert==2.3.0`` for the sanity check; nothing from
``litert_sdk`` is imported)::

    pip install tensorflow-cpu==2.21.0 ai-edge-litert==2.3.0 scikit-learn
    python sdk/python/tests/models/make_training_models.py

Everything is written into ``training/`` next to this file: ``NAME.tflite``,
``NAME.npz`` (TensorFlow reference), ``digits.npz`` (the data set) and
``manifest.json``.  All randomness uses fixed seeds and the ``.npz`` archives
have fixed zip timestamps, so a rerun with the same package versions reproduces
the files byte for byte.  The tests (``tests/test_training.py``) only read these
files; CI needs neither TensorFlow nor scikit-learn.

Models
------
Every model is a ``tf.Module`` whose weights are ``tf.Variable``\\ s, converted
with ``experimental_enable_resource_variables=True`` and TFLITE_BUILTINS only
(no Flex).  Signatures (input and output *names* are what the runtime binds by):

* ``train(x, y) -> {"loss": float32[]}``: one optimisation step on one batch
  (``tf.GradientTape`` + ``assign_sub``); returns the loss *before* the update.
* ``infer(x) -> {"output": ...}``: forward pass; the batch dimension is dynamic.
* ``get_weights() -> {<variable name>: value, ...}``: every variable.
* ``set_weights(<variable name>=value, ...) -> {"num_set": int32[1]}``: assigns
  every variable.  A signature without outputs converts, but the converter then
  drops its ASSIGN_VARIABLE ops (it becomes a no-op), so it returns the number of
  variables it set (a constant).

Constraints found while building them (tensorflow-cpu 2.21, TFLITE_BUILTINS):

* The ``train`` signatures have a **fixed batch size** (``BATCH`` per model).
  With a dynamic batch the gradients of broadcasting ops (bias add, ``pred - y``)
  need ``BroadcastGradientArgs``, which is a Select-TF (Flex) op.
* ReLU is written ``tf.maximum(h, 0)``: ``tf.nn.relu``'s gradient is ``ReluGrad``
  (Flex).
* ``convnet``'s convolution is trained as an **im2col matmul**: the 3x3 patches
  are gathered with a constant index table (GATHER) and multiplied with the
  kernel reshaped to [9, 4].  ``tf.nn.conv2d``'s filter gradient is
  ``Conv2DBackpropFilter`` (Flex).  ``infer`` uses the real CONV_2D op on the
  same kernel variable (the two agree to float rounding).
* Every variable has rank >= 1: LiteRT 2.3.0's CompiledModel cannot bind an
  output that is a scalar variable's READ_VARIABLE tensor (see ``variables_scalar``
  in ``../manifest.json``); the Adam step counter is float32[1].

linear
    y = x @ w + b, w float32[4, 1], b float32[1], both initialised to 0; MSE
    loss, plain SGD (lr 0.1), batch 16.  Synthetic data: x ~ N(0, 1),
    y = x @ [1.5, -2, 0.5, 3]^T + 0.7 + N(0, 0.1).
mlp
    64 -> 32 (ReLU) -> 10 softmax classifier for scikit-learn's digits (8x8
    images scaled to [0, 1] and flattened); softmax cross-entropy against
    one-hot labels; Adam (lr 0.01, beta1 0.9, beta2 0.999, eps 1e-7)
    implemented with variables, so ``get_weights``/``set_weights`` also carry
    the optimiser state (``m_*``, ``v_*``, ``step``); batch 32.  Initial
    weights ~ N(0, 1/fan_in) from a seeded numpy generator, biases 0.
convnet
    8x8x1 digits image -> conv 3x3x1x4 (VALID, im2col in train) + bias -> ReLU
    -> flatten (144) -> dense 10 -> softmax; cross-entropy, SGD (lr 0.1),
    batch 32, seeded N(0, 1/fan_in) initial weights.

npz key scheme (per model)
--------------------------
* ``initial/weights/<name>``: ``get_weights()`` before any training;
* ``initial/infer/in/x``, ``initial/infer/out/output``: ``infer`` before training
  (an evaluation batch of ``EVAL_BATCH`` = 7 rows, exercising the dynamic batch);
* ``train/stepNN/in/x``, ``train/stepNN/in/y``, ``train/stepNN/out/loss``: the
  ``STEPS`` = 10 training steps, in order, all on one fresh model;
* ``trained/weights/<name>`` and ``trained/infer/out/output`` (input
  ``initial/infer/in/x``): after the 10 steps.

The TensorFlow numbers come from calling the same ``tf.function``\\ s in TF
(oneDNN disabled) on a fresh module; the manifest records how far
ai-edge-litert's Interpreter is from them (``max_abs_diff_vs_tf``).

digits.npz
----------
scikit-learn's ``load_digits()`` (a copy of the UCI "Optical Recognition of
Handwritten Digits" test set, E. Alpaydin and C. Kaynak, 1998, CC BY 4.0):
``images`` uint8[1797, 8, 8] (values 0..16), ``labels`` uint8[1797], and a
seeded split ``train_index`` (1437 rows) / ``test_index`` (360 rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_models import _convert, _flatbuffer_info, _max_abs_diff, _save_npz, _tensor_detail  # noqa: E402

try:
    from ai_edge_litert.interpreter import Interpreter as LiteRtInterpreter
except ImportError:  # pragma: no cover
    LiteRtInterpreter = None

OUT_DIR = os.path.join(HERE, "training")
SEED = 2024
STEPS = 10
EVAL_BATCH = 7


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def load_digits_dataset() -> dict[str, np.ndarray]:
    import sklearn
    from sklearn.datasets import load_digits

    d = load_digits()
    images = d.images.astype(np.uint8)
    assert np.array_equal(images, d.images), "digits pixels are integers 0..16"
    labels = d.target.astype(np.uint8)
    perm = np.random.default_rng(SEED).permutation(len(labels))
    n_test = 360
    return {
        "images": images,
        "labels": labels,
        "train_index": np.sort(perm[n_test:]).astype(np.int16),
        "test_index": np.sort(perm[:n_test]).astype(np.int16),
        "_sklearn_version": sklearn.__version__,
    }


def digits_features(images: np.ndarray) -> np.ndarray:
    return (images.astype(np.float32) / np.float32(16.0)).reshape(len(images), 64)


def one_hot(labels: np.ndarray, n: int = 10) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[labels.astype(np.int64)]


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


class _Trainable(tf.Module):
    """Variables from ``self.initial`` (ordered name -> numpy array); get/set_weights over all of them.

    Variables are attributes named after their key, so the converted VAR_HANDLE ops' shared_name is that key.
    """

    def __init__(self, initial: dict[str, np.ndarray]):
        super().__init__()
        self.names = tuple(initial)
        for n, v in initial.items():
            assert v.ndim >= 1, f"{n}: scalar variables are not bindable as outputs by LiteRT 2.3.0"
            setattr(self, n, tf.Variable(v, name=n))
        spec = [tf.TensorSpec(initial[n].shape, tf.as_dtype(initial[n].dtype), name=n) for n in self.names]

        def set_weights(*values):
            for n, v in zip(self.names, values, strict=False):
                getattr(self, n).assign(v)
            return {"num_set": tf.constant([len(values)], tf.int32)}

        self.set_weights = tf.function(set_weights, input_signature=spec)

    def var(self, name: str) -> tf.Variable:
        return getattr(self, name)

    @tf.function(input_signature=[])
    def get_weights(self):
        return {n: self.var(n).read_value() for n in self.names}

    def concrete_functions(self):
        return [
            self.train.get_concrete_function(),
            self.infer.get_concrete_function(),
            self.get_weights.get_concrete_function(),
            self.set_weights.get_concrete_function(),
        ]


def _relu(h):
    return tf.maximum(h, 0.0)  # tf.nn.relu's gradient (ReluGrad) is not a TFLite builtin


def _softmax_cross_entropy(logits, y_onehot):
    return -tf.reduce_mean(tf.reduce_sum(y_onehot * tf.nn.log_softmax(logits, axis=-1), axis=-1))


class Linear(_Trainable):
    FEATURES = 4
    BATCH = 16
    LR = 0.1

    def __init__(self):
        super().__init__({"w": np.zeros((self.FEATURES, 1), np.float32), "b": np.zeros((1,), np.float32)})

    def forward(self, x):
        return tf.matmul(x, self.w) + self.b

    @tf.function(
        input_signature=[
            tf.TensorSpec([BATCH, FEATURES], tf.float32, name="x"),
            tf.TensorSpec([BATCH, 1], tf.float32, name="y"),
        ]
    )
    def train(self, x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self.forward(x) - y))
        gw, gb = tape.gradient(loss, [self.w, self.b])
        self.w.assign_sub(self.LR * gw)
        self.b.assign_sub(self.LR * gb)
        return {"loss": loss}

    @tf.function(input_signature=[tf.TensorSpec([None, FEATURES], tf.float32, name="x")])
    def infer(self, x):
        return {"output": self.forward(x)}


def _normal(rng: np.random.Generator, shape, fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)


class Mlp(_Trainable):
    BATCH = 32
    LR = 0.01
    BETA1 = 0.9
    BETA2 = 0.999
    EPS = 1e-7
    PARAMS = ("w1", "b1", "w2", "b2")

    def __init__(self):
        rng = np.random.default_rng(SEED + 1)
        params = {
            "w1": _normal(rng, (64, 32), 64),
            "b1": np.zeros((32,), np.float32),
            "w2": _normal(rng, (32, 10), 32),
            "b2": np.zeros((10,), np.float32),
        }
        initial = dict(params)
        for n, v in params.items():
            initial[f"m_{n}"] = np.zeros_like(v)
            initial[f"v_{n}"] = np.zeros_like(v)
        initial["step"] = np.zeros((1,), np.float32)
        super().__init__(initial)

    def logits(self, x):
        h = _relu(tf.matmul(x, self.w1) + self.b1)
        return tf.matmul(h, self.w2) + self.b2

    @tf.function(
        input_signature=[
            tf.TensorSpec([BATCH, 64], tf.float32, name="x"),
            tf.TensorSpec([BATCH, 10], tf.float32, name="y"),
        ]
    )
    def train(self, x, y):
        params = [self.var(n) for n in self.PARAMS]
        with tf.GradientTape() as tape:
            loss = _softmax_cross_entropy(self.logits(x), y)
        grads = tape.gradient(loss, params)
        t = self.step + 1.0
        self.step.assign(t)
        c1 = 1.0 - tf.pow(self.BETA1, t)
        c2 = 1.0 - tf.pow(self.BETA2, t)
        for n, p, g in zip(self.PARAMS, params, grads, strict=False):
            m, v = self.var(f"m_{n}"), self.var(f"v_{n}")
            m_new = self.BETA1 * m + (1.0 - self.BETA1) * g
            v_new = self.BETA2 * v + (1.0 - self.BETA2) * tf.square(g)
            m.assign(m_new)
            v.assign(v_new)
            p.assign_sub(self.LR * (m_new / c1) / (tf.sqrt(v_new / c2) + self.EPS))
        return {"loss": loss}

    @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32, name="x")])
    def infer(self, x):
        return {"output": tf.nn.softmax(self.logits(x), axis=-1)}


def _im2col_index() -> np.ndarray:
    """[36 * 9] indices into a flattened 8x8 image: the 3x3 VALID patches, row-major, kernel (kh, kw) order."""
    idx = []
    for oy in range(6):
        for ox in range(6):
            for ky in range(3):
                for kx in range(3):
                    idx.append((oy + ky) * 8 + (ox + kx))
    return np.asarray(idx, np.int32)


class ConvNet(_Trainable):
    BATCH = 32
    LR = 0.1
    FILTERS = 4

    def __init__(self):
        rng = np.random.default_rng(SEED + 2)
        super().__init__(
            {
                "kernel": _normal(rng, (3, 3, 1, self.FILTERS), 9),
                "conv_bias": np.zeros((self.FILTERS,), np.float32),
                "dense_w": _normal(rng, (6 * 6 * self.FILTERS, 10), 6 * 6 * self.FILTERS),
                "dense_b": np.zeros((10,), np.float32),
            }
        )
        self.index = tf.constant(_im2col_index())

    def head(self, conv):  # conv: [B, 6, 6, F] or [B * 36, F] before bias
        h = _relu(conv + self.conv_bias)
        h = tf.reshape(h, [-1, 6 * 6 * self.FILTERS])
        return tf.matmul(h, self.dense_w) + self.dense_b

    @tf.function(
        input_signature=[
            tf.TensorSpec([BATCH, 8, 8, 1], tf.float32, name="x"),
            tf.TensorSpec([BATCH, 10], tf.float32, name="y"),
        ]
    )
    def train(self, x, y):
        with tf.GradientTape() as tape:
            patches = tf.gather(tf.reshape(x, [self.BATCH, 64]), self.index, axis=1)  # [B, 324]
            patches = tf.reshape(patches, [self.BATCH * 36, 9])
            conv = tf.matmul(patches, tf.reshape(self.kernel, [9, self.FILTERS]))  # [B * 36, F]
            loss = _softmax_cross_entropy(self.head(conv), y)
        params = [self.kernel, self.conv_bias, self.dense_w, self.dense_b]
        for p, g in zip(params, tape.gradient(loss, params), strict=False):
            p.assign_sub(self.LR * g)
        return {"loss": loss}

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 1], tf.float32, name="x")])
    def infer(self, x):
        conv = tf.nn.conv2d(x, self.kernel, strides=1, padding="VALID")
        return {"output": tf.nn.softmax(self.head(conv), axis=-1)}


# --------------------------------------------------------------------------
# Reference generation
# --------------------------------------------------------------------------


def _np(d) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.numpy()) for k, v in d.items()}


def _signature_entry(interp, key: str) -> dict:
    runner = interp.get_signature_runner(key)
    ind, outd = runner.get_input_details(), runner.get_output_details()
    lst = interp.get_signature_list()[key]
    return {
        "inputs": [dict(name=n, **_tensor_detail(ind[n])) for n in lst["inputs"]],
        "outputs": [dict(name=n, **_tensor_detail(outd[n])) for n in lst["outputs"]],
    }


def build(name: str, cls, batches: list[tuple[np.ndarray, np.ndarray]], x_eval: np.ndarray, hyper: dict,
          description: str) -> dict:
    tf.random.set_seed(SEED)
    module = cls()
    spec = tf.lite.TargetSpec()
    spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    tfl = _convert(module.concrete_functions(), module, experimental_enable_resource_variables=True,
                   target_spec=spec)
    assert len(tfl) < 200 * 1024, (name, len(tfl))
    fb = _flatbuffer_info(tfl)
    assert not any(op.startswith(("FLEX", "CUSTOM")) for op in fb["ops"]), fb["ops"]

    # TensorFlow reference, on a fresh module (the converted one is untouched).
    ref_module = cls()
    arrays: dict[str, np.ndarray] = {}
    init_w = _np(ref_module.get_weights())
    arrays.update({f"initial/weights/{k}": v for k, v in init_w.items()})
    arrays["initial/infer/in/x"] = x_eval
    arrays["initial/infer/out/output"] = _np(ref_module.infer(tf.constant(x_eval)))["output"]
    losses = []
    for i, (x, y) in enumerate(batches):
        loss = float(ref_module.train(tf.constant(x), tf.constant(y))["loss"].numpy())
        arrays[f"train/step{i:02d}/in/x"] = x
        arrays[f"train/step{i:02d}/in/y"] = y
        arrays[f"train/step{i:02d}/out/loss"] = np.asarray(loss, np.float32)
        losses.append(loss)
    trained_w = _np(ref_module.get_weights())
    arrays.update({f"trained/weights/{k}": v for k, v in trained_w.items()})
    arrays["trained/infer/out/output"] = _np(ref_module.infer(tf.constant(x_eval)))["output"]

    # Sanity check on ai-edge-litert's Interpreter (same runtime version as the SDK).
    it = LiteRtInterpreter(model_content=tfl)
    sigs = {k: _signature_entry(it, k) for k in it.get_signature_list()}
    run = {k: it.get_signature_runner(k) for k in sigs}
    diffs: dict[str, float] = {}

    def note(what: str, a, b):
        diffs[what] = max(diffs.get(what, 0.0), _max_abs_diff(a, b))

    for k, v in run["get_weights"]().items():
        note("initial_weights", v, init_w[k])
    note("initial_infer", run["infer"](x=x_eval)["output"], arrays["initial/infer/out/output"])
    for i, (x, y) in enumerate(batches):
        note("loss", run["train"](x=x, y=y)["loss"], arrays[f"train/step{i:02d}/out/loss"])
    for k, v in run["get_weights"]().items():
        note("trained_weights", v, trained_w[k])
    note("trained_infer", run["infer"](x=x_eval)["output"], arrays["trained/infer/out/output"])
    # set_weights(initial) must give the initial outputs back.
    run["set_weights"](**init_w)
    note("set_weights_infer", run["infer"](x=x_eval)["output"], arrays["initial/infer/out/output"])
    for what, d in diffs.items():
        if d > 1e-5:
            raise AssertionError(f"{name}: ai-edge-litert vs TF {what}: max abs diff {d}")

    with open(os.path.join(OUT_DIR, f"{name}.tflite"), "wb") as f:
        f.write(tfl)
    _save_npz(os.path.join(OUT_DIR, f"{name}.npz"), arrays)
    return {
        "description": description,
        "file": f"{name}.tflite",
        "npz": f"{name}.npz",
        "size_bytes": len(tfl),
        "sha256": hashlib.sha256(tfl).hexdigest(),
        "ops": fb["ops"],
        "num_subgraphs": fb["num_subgraphs"],
        "signatures": sigs,
        "signature_orders": {
            k: {"flatbuffer_input_order": v["flatbuffer_signature_input_order"],
                "subgraph_input_order": v["subgraph_input_order"]}
            for k, v in fb["signatures"].items()
        },
        "variables": [
            {"name": n, "shape": list(init_w[n].shape), "dtype": init_w[n].dtype.name} for n in module.names
        ],
        "hyperparameters": hyper,
        "train_batch_size": int(batches[0][0].shape[0]),
        "steps": len(batches),
        "tf_losses": losses,
        "max_abs_diff_vs_tf": diffs,
        "npz_keys": sorted(arrays),
    }


def main() -> int:
    t0 = time.monotonic()
    if LiteRtInterpreter is None:
        print("ai-edge-litert is required for the sanity check", file=sys.stderr)
        return 1
    np.random.seed(SEED)
    tf.random.set_seed(SEED)
    os.makedirs(OUT_DIR, exist_ok=True)
    digits = load_digits_dataset()
    sk_version = digits.pop("_sklearn_version")
    _save_npz(os.path.join(OUT_DIR, "digits.npz"), digits)

    models = {}
    # linear: synthetic regression batches.
    rng = np.random.default_rng(SEED)
    w_true = np.array([[1.5], [-2.0], [0.5], [3.0]], np.float32)
    lin_batches = []
    for _ in range(STEPS):
        x = rng.standard_normal((Linear.BATCH, Linear.FEATURES)).astype(np.float32)
        y = (x @ w_true + 0.7 + 0.1 * rng.standard_normal((Linear.BATCH, 1))).astype(np.float32)
        lin_batches.append((x, y))
    x_eval = rng.standard_normal((EVAL_BATCH, Linear.FEATURES)).astype(np.float32)
    models["linear"] = build(
        "linear", Linear, lin_batches, x_eval,
        {"optimizer": "sgd", "learning_rate": Linear.LR, "loss": "mse", "features": Linear.FEATURES,
         "init": "zeros"},
        "linear regression y = x @ w + b, w/b initialised to 0, SGD on MSE",
    )
    models["linear"]["dataset"] = {
        "name": "synthetic", "x": "N(0, 1) float32[batch, 4]",
        "y": "x @ [1.5, -2, 0.5, 3]^T + 0.7 + N(0, 0.1)", "seed": SEED,
    }

    # mlp / convnet: digits batches from the training split, in a seeded order.
    x_all = digits_features(digits["images"])
    y_all = one_hot(digits["labels"])
    order = np.random.default_rng(SEED + 10).permutation(digits["train_index"].astype(np.int64))
    b = Mlp.BATCH
    mlp_batches = [(x_all[order[i * b:(i + 1) * b]], y_all[order[i * b:(i + 1) * b]]) for i in range(STEPS)]
    x_eval = x_all[digits["test_index"][:EVAL_BATCH].astype(np.int64)]
    digits_info = {
        "name": "scikit-learn digits (load_digits)", "file": "digits.npz", "scikit_learn_version": sk_version,
        "source": "UCI Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak, 1998), CC BY 4.0",
        "preprocessing": "x = images / 16 (float32); y = one-hot labels (float32[batch, 10])",
        "split": {"train": int(digits["train_index"].size), "test": int(digits["test_index"].size),
                  "seed": SEED},
        "reference_batches": "train rows in the order numpy.random.default_rng(SEED + 10).permutation(train_index)",
        "eval_rows": f"test_index[:{EVAL_BATCH}]",
    }
    models["mlp"] = build(
        "mlp", Mlp, mlp_batches, x_eval,
        {"optimizer": "adam", "learning_rate": Mlp.LR, "beta1": Mlp.BETA1, "beta2": Mlp.BETA2,
         "epsilon": Mlp.EPS, "loss": "softmax cross-entropy", "layers": [64, 32, 10], "activation": "relu",
         "init": "N(0, 1/fan_in) weights (numpy default_rng(SEED + 1)), zero biases"},
        "MLP 64 -> 32 relu -> 10 softmax on digits; Adam with its state in variables",
    )
    models["mlp"]["dataset"] = digits_info
    b = ConvNet.BATCH
    conv_batches = [(x.reshape(b, 8, 8, 1), y) for x, y in mlp_batches]
    models["convnet"] = build(
        "convnet", ConvNet, conv_batches, x_eval.reshape(EVAL_BATCH, 8, 8, 1),
        {"optimizer": "sgd", "learning_rate": ConvNet.LR, "loss": "softmax cross-entropy",
         "layers": "conv 3x3x1x4 VALID + bias, relu, flatten 144, dense 10, softmax",
         "conv_in_train": "im2col: GATHER of 3x3 patches + matmul with kernel reshaped to [9, 4]",
         "conv_in_infer": "CONV_2D", "init": "N(0, 1/fan_in) weights (numpy default_rng(SEED + 2)), zero biases"},
        "small conv net on 8x8 digits; train uses an im2col matmul (builtins only), infer uses CONV_2D",
    )
    models["convnet"]["dataset"] = dict(digits_info, preprocessing="x = images / 16 as float32[batch, 8, 8, 1]; "
                                        "y = one-hot labels")

    import ai_edge_litert

    manifest = {
        "generator": "make_training_models.py",
        "regenerate": "python sdk/python/tests/models/make_training_models.py",
        "tensorflow_version": tf.__version__,
        "verified_with": "ai-edge-litert " + getattr(ai_edge_litert, "__version__", "2.3.0"),
        "seed": SEED,
        "signatures": {
            "train": "train(x, y) -> {loss: float32[]}; fixed batch size (see train_batch_size)",
            "infer": "infer(x) -> {output}; dynamic batch",
            "get_weights": "get_weights() -> {<variable>: value}",
            "set_weights": "set_weights(<variable>=value, ...) -> {num_set: int32[1]}",
        },
        "npz_key_scheme": {
            "initial": "initial/weights/<name>, initial/infer/in/x, initial/infer/out/output",
            "train": "train/stepNN/in/x, train/stepNN/in/y, train/stepNN/out/loss (steps in order, one model)",
            "trained": "trained/weights/<name>, trained/infer/out/output (input initial/infer/in/x)",
        },
        "models": models,
        "datasets": {"digits": digits_info},
    }
    with open(os.path.join(OUT_DIR, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    for n, m in models.items():
        print(f"{n:8s} {m['size_bytes']:7d} B  losses {m['tf_losses'][0]:.4f} -> {m['tf_losses'][-1]:.4f}  "
              f"max|litert-tf|={m['max_abs_diff_vs_tf']}")
    print(f"took {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
