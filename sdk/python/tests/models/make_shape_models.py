"""Generates the shape-engine test set (sdk/python/tests/models/shapes): models whose output shapes follow the input
through shape arithmetic, converted with TensorFlow 2.21's TFLite converter, and TensorFlow's outputs for seeded
inputs at batch 1, 3 and 8 (``<name>.npz``: ``x_b<B>``, ``<output>_b<B>``).

    python sdk/python/tests/models/make_shape_models.py [name ...]  # tensorflow-cpu==2.21.0 (+ tf_keras==2.21.0
                                    # for lstm_fused, + tensorflow-model-optimization==0.8.1 for cnn_flatten_qat)

Each model's first input has a dynamic batch (``None``); test_shape_engine.py runs it at batch 1, 3, 8 and 3 again
through the Interpreter, signature runners and CompiledModel. The recurrent models in FIXED_BATCH have a batch of 1
and keep state from run to run: their .npz holds four runs in a row (``x_r<N>``, ``<output>_r<N>``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "shapes"
BATCHES = (1, 3, 8)


def _keras(model: tf.keras.Model, quantize: str | None = None, sample_shape: tuple[int, ...] | None = None) -> bytes:
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize == "int8":
        rng = np.random.default_rng(0)

        def data():
            for _ in range(8):
                yield [rng.standard_normal((1, *sample_shape)).astype(np.float32)]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = data
    elif quantize == "dynamic":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize == "fp16":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    return conv.convert()


def _function(fn, spec: list[tf.TensorSpec]) -> bytes:
    """A tf.function through a SavedModel, so the model has a serving_default signature with named outputs."""
    import tempfile

    module = tf.Module()
    module.f = tf.function(fn, input_signature=spec)
    with tempfile.TemporaryDirectory() as d:
        tf.saved_model.save(module, d, signatures=module.f.get_concrete_function())
        return tf.lite.TFLiteConverter.from_saved_model(d).convert()


def cnn_flatten() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(1)
    inp = tf.keras.Input((8, 8, 3), name="image")
    x = tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = tf.keras.layers.Flatten()(x)
    return tf.keras.Model(inp, tf.keras.layers.Dense(5, name="logits")(x))


def squeeze_excite() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(2)
    inp = tf.keras.Input((8, 8, 6), name="image")
    se = tf.keras.layers.GlobalAveragePooling2D()(inp)
    se = tf.keras.layers.Dense(6, activation="sigmoid")(se)
    se = tf.keras.layers.Reshape((1, 1, 6))(se)
    x = tf.keras.layers.Multiply()([inp, se])
    x = tf.keras.layers.Reshape((-1, 6))(x)
    return tf.keras.Model(inp, x)


def unet() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(3)
    inp = tf.keras.Input((16, 16, 3), name="image")
    d1 = tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    p1 = tf.keras.layers.MaxPooling2D()(d1)
    d2 = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu")(p1)
    u1 = tf.keras.layers.Conv2DTranspose(4, 2, strides=2, padding="same")(d2)
    c1 = tf.keras.layers.Concatenate()([u1, d1])
    up = tf.keras.layers.UpSampling2D()(c1)
    return tf.keras.Model(inp, tf.keras.layers.Conv2D(2, 1, name="mask")(up))


def mobilenet_v3_small() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(4)
    return tf.keras.applications.MobileNetV3Small(input_shape=(64, 64, 3), alpha=0.75, minimalistic=False,
                                                  weights=None, classes=10, include_preprocessing=False)


def shape_fill(x):
    b = tf.shape(x)[0]
    return {"concat": tf.concat([x, tf.fill(tf.stack([b, 2]), 1.5)], axis=1), "reshaped": tf.reshape(x, [b, 3, 1]),
            "filled": tf.fill(tf.stack([b, 2]), 0.5), "shape": tf.shape(x)}


def tiled(x):
    b = tf.shape(x)[0]
    t = tf.tile(tf.reshape(x, [b, 1, 3]), tf.stack([1, 2, 1]))
    return {"tiled": t, "broadcast": tf.broadcast_to(tf.constant([1.0, 2.0, 3.0]), tf.shape(x)) + x}


def value_dependent(kind: str):
    """Models whose output shape depends on input values (the SDK refuses them with ValueDependentShapeError)."""
    if kind == "range":
        return lambda x: {"y": tf.range(tf.reduce_sum(tf.cast(x > 0.0, tf.int32)))}
    if kind == "where":
        return lambda x: {"y": tf.where(x > 0.0)}
    if kind == "unique":
        return lambda x: {"y": tf.unique(tf.reshape(tf.cast(x > 0.0, tf.int32), [-1])).y}
    if kind == "nms":
        return lambda x: {"y": tf.image.non_max_suppression(
            tf.concat([x[:, :2], x[:, :2] + 1.0], axis=1), x[:, 2], max_output_size=4, iou_threshold=0.5)}
    # value-dependent inside, fixed-size outside: runs
    if kind == "topk":
        return value_topk
    if kind == "strings":
        return value_strings
    return lambda x: {"count": tf.reduce_sum(tf.cast(tf.where(x > 0.0), tf.float32), axis=0)}


def value_topk(x):
    """TOPK_V2 whose k is computed from the values."""
    k = tf.reduce_sum(tf.cast(x > 0.0, tf.int32))
    return {"y": tf.math.top_k(tf.reshape(x, [-1]), k=k).values}


def value_strings(x):
    """A string output whose length depends on the values (refused: the copy operator takes no strings)."""
    words = tf.constant(["a", "bb", "ccc"])
    return {"y": tf.gather(words, tf.cast(tf.where(x[0] > 0.0)[:, 0], tf.int32))}


def topk(x):
    """TOPK_V2 with a constant k: the runtime lays its outputs out during the run all the same."""
    values, indices = tf.math.top_k(x, k=2)
    return {"values": values, "indices": indices}


def cond_shapes(x):
    """tf.cond whose branches give different shapes: IF with a [B, 6] or a [B, 3] output."""
    return {"y": tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.concat([x, x], 1), lambda: x * 2.0)}


def recurrent(kind: str, stateful: bool = False, unroll: bool = False) -> tf.keras.Model:
    """Keras 3 LSTM / GRU: unrolled with a None batch (the zero state follows the batch through SHAPE/FILL), or a
    WHILE loop at batch 1, stateless or stateful (the state lives in resource variables between runs)."""
    tf.keras.utils.set_random_seed(5)
    inp = tf.keras.Input((6, 4), batch_size=None if unroll else 1, name="seq")
    layer = {"lstm": tf.keras.layers.LSTM, "gru": tf.keras.layers.GRU}[kind]
    x = layer(5, return_sequences=True, stateful=stateful, unroll=unroll)(inp)
    return tf.keras.Model(inp, tf.keras.layers.Dense(3, name="out")(x))


def _legacy_keras(body: str) -> bytes:
    """Runs `body` (which builds `model` with tf_keras, Keras 2) in a child process with TF_USE_LEGACY_KERAS=1 (tf_keras
    needs it at import) and returns the converted model (`conv`, a TFLiteConverter, may be adjusted by `body`)."""
    import subprocess
    import sys
    import tempfile
    import textwrap

    code = "import os, sys\nimport numpy as np\nimport tensorflow as tf\nimport tf_keras as keras\n" + \
        textwrap.dedent(body) + "\nopen(sys.argv[1], 'wb').write(conv.convert())\n"
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "m.tflite"
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env)
        return out.read_bytes()


def legacy_lstm() -> bytes:
    """A tf_keras (Keras 2) LSTM at batch 1: the converter fuses it into UNIDIRECTIONAL_SEQUENCE_LSTM, whose state is
    held in TFLite variable tensors."""
    return _legacy_keras("""
        keras.utils.set_random_seed(5)
        inp = keras.Input((6, 4), batch_size=1, name="seq")
        x = keras.layers.LSTM(5, return_sequences=True)(inp)
        model = keras.Model(inp, keras.layers.Dense(3, name="out")(x))
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
    """)


def cnn_flatten_qat() -> bytes:
    """The CNN + Flatten model with a None batch, quantization-aware trained (tensorflow-model-optimization, which
    needs tf_keras) for one epoch on random data and converted to int8."""
    return _legacy_keras("""
        import tensorflow_model_optimization as tfmot
        keras.utils.set_random_seed(1)
        inp = keras.Input((8, 8, 3), name="image")
        x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
        x = keras.layers.Flatten()(x)
        model = tfmot.quantization.keras.quantize_model(keras.Model(inp, keras.layers.Dense(5, name="logits")(x)))
        model.compile(optimizer="sgd", loss="mse")
        rng = np.random.default_rng(0)
        model.fit(rng.standard_normal((32, 8, 8, 3)).astype(np.float32),
                  rng.standard_normal((32, 5)).astype(np.float32), epochs=1, verbose=0)
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    """)


VOCAB = [b"the", b"cat", b"sat", b"on", b"a", b"mat"]


def _lookup(keys: Any, values: Any, default: Any, key_dtype: Any, select_tf_ops: bool) -> bytes:
    """A tf.lookup.StaticHashTable lookup of a [None] key vector, converted from a SavedModel."""
    import tempfile

    module = tf.Module()
    module.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default)
    module.f = tf.function(lambda x: {"y": module.table.lookup(x)},
                           input_signature=[tf.TensorSpec([None], key_dtype, name="x")])
    with tempfile.TemporaryDirectory() as d:
        tf.saved_model.save(module, d, signatures=module.f.get_concrete_function())
        conv = tf.lite.TFLiteConverter.from_saved_model(d)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS] + (
            [tf.lite.OpsSet.SELECT_TF_OPS] if select_tf_ops else [])
        return conv.convert()


def hash_table_vocab() -> bytes:
    """A string -> int64 vocabulary lookup (unknown words -> -1): TFLite builtins HASHTABLE / HASHTABLE_IMPORT (in a
    CALL_ONCE subgraph) / HASHTABLE_FIND. The output is declared [] whatever the batch: its shape is the keys'."""
    return _lookup(tf.constant(VOCAB), tf.constant(np.arange(len(VOCAB)), tf.int64), np.int64(-1), tf.string, False)


def hash_table_ids() -> bytes:
    """The reverse: int64 -> string (unknown ids -> b"<unk>"), the same builtin operators with a string output."""
    return _lookup(tf.constant(np.arange(len(VOCAB)), tf.int64), tf.constant(VOCAB), b"<unk>", tf.int64, False)


def hash_table_flex() -> bytes:
    """int64 -> float32, key/value types the TFLite hash table kernels do not take: TF 2.21's converter emits Flex ops
    (FlexHashTableV2 / FlexLookupTableFindV2 / FlexLookupTableImportV2 in a CALL_ONCE subgraph) whose resource
    tensors litert-sdk-flex cannot carry (refused with a typed error)."""
    return _lookup(tf.constant([1, 2, 3], tf.int64), tf.constant([10.0, 20.0, 30.0]), -1.0, tf.int64, True)


def _keys(name: str, rng: np.random.Generator, b: int) -> np.ndarray:
    """Lookup keys for a hash-table model: known and unknown ones."""
    if name == "hash_table_vocab":
        words = VOCAB + [b"dog", b""]
        return np.array([words[i] for i in rng.integers(0, len(words), b)], dtype="S")
    return rng.integers(-1, len(VOCAB) + 2, (b,)).astype(np.int64)


VALUE_DEPENDENT = ("range", "where", "unique", "nms", "reduced", "topk", "strings")
# Models with a fixed batch of 1 (recurrent state): run several times at batch 1 instead of batch 1, 3, 8.
FIXED_BATCH = ("lstm_state", "lstm_stateful", "gru_state", "gru_stateful", "lstm_fused")

MODELS = {
    "cnn_flatten": lambda: (_keras(cnn_flatten()), (8, 8, 3)),
    "cnn_flatten_int8": lambda: (_keras(cnn_flatten(), "int8", (8, 8, 3)), (8, 8, 3)),
    "squeeze_excite": lambda: (_keras(squeeze_excite()), (8, 8, 6)),
    "unet": lambda: (_keras(unet()), (16, 16, 3)),
    "mobilenet_v3_small": lambda: (_keras(mobilenet_v3_small()), (64, 64, 3)),
    "mobilenet_v3_small_dynamic": lambda: (_keras(mobilenet_v3_small(), "dynamic"), (64, 64, 3)),
    "mobilenet_v3_small_int8": lambda: (_keras(mobilenet_v3_small(), "int8", (64, 64, 3)), (64, 64, 3)),
    "topk": lambda: (_function(topk, [tf.TensorSpec([None, 3], tf.float32, name="x")]), (3,)),
    "cond_shapes": lambda: (_function(cond_shapes, [tf.TensorSpec([None, 3], tf.float32, name="x")]), (3,)),
    "lstm_unrolled": lambda: (_keras(recurrent("lstm", unroll=True)), (6, 4)),
    "gru_unrolled": lambda: (_keras(recurrent("gru", unroll=True)), (6, 4)),
    "lstm_state": lambda: (_keras(recurrent("lstm")), (6, 4)),
    "lstm_stateful": lambda: (_keras(recurrent("lstm", stateful=True)), (6, 4)),
    "gru_state": lambda: (_keras(recurrent("gru")), (6, 4)),
    "gru_stateful": lambda: (_keras(recurrent("gru", stateful=True)), (6, 4)),
    "lstm_fused": lambda: (legacy_lstm(), (6, 4)),
    "cnn_flatten_qat": lambda: (cnn_flatten_qat(), (8, 8, 3)),
    "hash_table_flex": lambda: (hash_table_flex(), ()),
    "hash_table_vocab": lambda: (hash_table_vocab(), ()),
    "hash_table_ids": lambda: (hash_table_ids(), ()),
    "shape_fill": lambda: (_function(shape_fill, [tf.TensorSpec([None, 3], tf.float32, name="x")]), (3,)),
    "tiled": lambda: (_function(tiled, [tf.TensorSpec([None, 3], tf.float32, name="x")]), (3,)),
    **{f"value_{k}": (lambda k=k: (_function(value_dependent(k), [tf.TensorSpec([None, 3], tf.float32, name="x")]),
                                   (3,))) for k in VALUE_DEPENDENT},
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    import sys

    wanted = sys.argv[1:] or list(MODELS)
    for name in wanted:
        make = MODELS[name]
        data, sample = make()
        (OUT / f"{name}.tflite").write_bytes(data)
        interp = tf.lite.Interpreter(model_content=data)
        runner = interp.get_signature_runner()
        in_name = next(iter(runner.get_input_details()))
        rng = np.random.default_rng(7)
        arrays = {}
        if name in FIXED_BATCH:  # runs 0..3 at batch 1: x_r<N>, <output>_r<N> (state carries from run to run)
            for r in range(4):
                x = rng.standard_normal((1, *sample)).astype(np.float32)
                arrays[f"x_r{r}"] = x
                for k, v in runner(**{in_name: x}).items():
                    arrays[f"{k}_r{r}"] = v
            np.savez(OUT / f"{name}.npz", **arrays)
            print(f"{name}: {len(data)} bytes, 4 runs at batch 1")
            continue
        for b in BATCHES:
            x = rng.standard_normal((b, *sample)).astype(np.float32)
            if name.startswith("hash_table"):
                x = _keys(name, rng, b)
            arrays[f"x_b{b}"] = x
            try:
                outputs = runner(**{in_name: x})
            except (RuntimeError, ValueError) as e:  # (a value-dependent string output TF's interpreter refuses)
                print(f"{name}: batch {b}: {e}")
                continue
            for k, v in outputs.items():
                arrays[f"{k}_b{b}"] = v.astype("S") if v.dtype == object else v  # (no pickled arrays)
        np.savez(OUT / f"{name}.npz", **arrays)
        outputs = sorted(k for k in arrays if k.endswith("_b1") and not k.startswith("x_"))
        print(f"{name}: {len(data)} bytes, outputs {outputs}")


if __name__ == "__main__":
    main()
