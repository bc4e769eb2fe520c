"""A user's program over litert_sdk's public API, checked with ``mypy --strict`` (tests/test_typing.py, ci/lint.sh).

It must type-check without errors, and the ``reveal_type`` lines must show numpy's array types, not ``Any``. It is
only type-checked, never run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import litert_sdk
from litert_sdk import CompiledModel, Interpreter, Model, Options, TensorBuffer, errors


def classify(path: str, image: npt.NDArray[np.float32]) -> int:
    interpreter = Interpreter(model_path=path, num_threads=2)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], image)
    interpreter.invoke()
    scores = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    reveal_type(scores)  # noqa: F821 - mypy's builtin
    return int(np.argmax(scores))


def run_compiled(path: str, x: npt.NDArray[np.float32]) -> list[np.ndarray]:
    model = Model.from_file(path)
    cm = CompiledModel(model, Options.cpu_only(num_threads=1))
    outputs = cm.run([x])
    reveal_type(outputs)  # noqa: F821
    by_name = cm.run({cm.signature().input_names[0]: x})
    first = next(iter(by_name.values()))
    reveal_type(first)  # noqa: F821
    return outputs


def signature(path: str, x: npt.NDArray[np.float32]) -> dict[str, np.ndarray]:
    runner = Interpreter(model_path=path).get_signature_runner()
    result = runner(x=x)
    reveal_type(result)  # noqa: F821
    return result


def buffers(path: str) -> npt.NDArray[np.generic]:
    cm = CompiledModel.from_file(path)
    ins: list[TensorBuffer] = cm.create_input_buffers(0)
    outs = cm.create_output_buffers(0)
    cm.run_by_index(0, ins, outs)
    return outs[0].read(10, np.float32)


def robust(path: str) -> str | None:
    try:
        litert_sdk.Model.from_file(path)
    except errors.ModelError as e:
        return str(e)
    except litert_sdk.LiteRtError as e:
        return f"{type(e).__name__}: {e}"
    return None


print(litert_sdk.runtime_version(), litert_sdk.__version__, litert_sdk.verify_model(b""))
