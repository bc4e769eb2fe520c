"""Generate the benchmark-only models with TensorFlow (run by run_all.py in an interpreter that has tensorflow).

    python make_bench_models.py OUT_DIR

Writes OUT_DIR/mobilenet_v2_float.tflite: ``tf.keras.applications.MobileNetV2(weights=None)`` (224x224x3 float32 in,
1000 classes out, random weights from a fixed seed, ~14 MB float32), converted with the default TFLite converter
(no quantization). Prints one line per written file. Nothing is downloaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    data = converter.convert()
    path = out / "mobilenet_v2_float.tflite"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    print(f"wrote {path.name} ({len(data) / 2**20:.1f} MiB) with tensorflow {tf.__version__}")


if __name__ == "__main__":
    main()
