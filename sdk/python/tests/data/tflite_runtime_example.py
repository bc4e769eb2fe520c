"""A typical tflite_runtime program, kept as users write it (label_image style).

The test runs it unmodified except for the import line, once with ai_edge_litert and once with litert_sdk.
"""

import sys

import numpy as np
from tflite_runtime.interpreter import Interpreter


def main(model_path):
    interpreter = Interpreter(model_path=model_path, num_threads=2)
    interpreter.allocate_tensors()

    input_details = interpreter.get_input_details()
    output_details = interpreter.get_output_details()

    # check the type of the input tensor
    floating_model = input_details[0]["dtype"] == np.float32

    # NxHxWxC, H:1, W:2
    height = input_details[0]["shape"][1]
    width = input_details[0]["shape"][2]
    img = np.fromfunction(lambda y, x, c: (x * 7 + y * 3 + c * 50) % 256, (height, width, 3)).astype(np.uint8)
    input_data = np.expand_dims(img, axis=0)
    if floating_model:
        input_data = (np.float32(input_data) - 127.5) / 127.5

    interpreter.set_tensor(input_details[0]["index"], input_data)
    interpreter.invoke()

    for detail in output_details:
        output_data = interpreter.get_tensor(detail["index"])
        results = np.squeeze(output_data)
        top_k = results.argsort()[-5:][::-1]
        print(detail["name"], output_data.shape, output_data.dtype, top_k.tolist(), f"{float(results.max()):.6f}")

    # the zero-copy accessor
    output = interpreter.tensor(output_details[0]["index"])
    print("tensor():", f"{float(output()[0].mean()):.6f}")
    print("inputs:", [(d["name"], d["shape"].tolist(), d["dtype"].__name__) for d in input_details])


if __name__ == "__main__":
    main(sys.argv[1])
