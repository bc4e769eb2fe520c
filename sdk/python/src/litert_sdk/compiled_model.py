"""The LiteRT CompiledModel API: a model compiled for chosen accelerators, run with numpy arrays."""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, overload

from . import _runtime
from ._compiled_model_api import UpstreamCompiledModelAPI, resolve_options
from ._lazy import np
from ._lifecycle import Closable
from ._pickling import Unpicklable, reload_hint
from ._types import ElementType
from .errors import CustomOpError, InvalidArgumentError, LiteRtError, ValueDependentShapeError
from .hardware_accelerator import HardwareAccelerator
from .model import Model, SignatureSpec, TensorSpec
from .options import Accelerator, Options
from .tensor_buffer import TensorBuffer

# TensorBuffer and HardwareAccelerator: importable from here as from ai_edge_litert.compiled_model
__all__ = ["CompiledModel", "HardwareAccelerator", "TensorBuffer"]



def _compile(model: Model, options: Options) -> tuple[Any, Options, str | None]:
    """Compile ``model``; when a GPU/NPU compile fails and ``options.gpu_fallback`` is on, compile for the CPU.

    Returns (native compiled model, the options actually used, fallback reason or None).
    """
    native = _runtime.native()
    runtime_model = model._runtime_model()  # with copies of outputs the runtime cannot bind buffers to
    # Custom ops: the model rewritten for the runtime's custom-op kernels, and the kernels to register per code
    # (the custom-op machinery and the model rewriter are imported only for models that have custom ops).
    if runtime_model.custom_op_codes():
        from .custom_ops import compile_plan

        native_model, kernels = compile_plan(runtime_model, options)
    else:
        native_model, kernels = runtime_model._native, []

    def native_options(o: Options) -> Any:
        n = o.to_native()
        for code, kernel, io_shapes in kernels:
            n.add_custom_op(code, kernel, io_shapes)
        return n

    if model._refused:
        _refuse_value_dependent_outputs(model)

    from ._division_guard import division_guards

    def create(o: Options) -> Any:
        try:
            cm = native.CompiledModel(native_model, native_options(o))
        except CustomOpError:
            raise
        except LiteRtError as e:  # the runtime's reason names an operator code: say which operators use it
            from ._compile_reason import with_operators

            raise with_operators(e, model) from None
        # integer FLOOR_MOD on signature inputs: checked before each run (found once per model bytes)
        guards = model._fact("division_guards", lambda: division_guards(model))
        if guards:
            cm.set_division_guards(guards)
        cm.set_shape_hook(_shape_hook(model))
        if _has_control_flow(model):
            cm.set_always_release_gil(True)
        return cm

    try:
        return create(options), options, None
    except CustomOpError:
        raise
    except LiteRtError as e:
        wants_accel = bool(options.accelerators & (Accelerator.GPU | Accelerator.NPU))
        if not (wants_accel and options.gpu_fallback):
            raise
        reason = f"{options.accelerators!r} compile failed: {e}"
    cpu_options = replace(options, accelerators=Accelerator.CPU)
    import logging

    logging.getLogger("litert_sdk").info("falling back to CPU: %s", reason)
    return create(cpu_options), cpu_options, reason

def _has_control_flow(model: Model) -> bool:
    """True when the model has subgraphs that no signature runs: bodies of WHILE / IF / CALL_ONCE operators, whose
    run time depends on the data (a loop may never end), so every run releases the GIL."""
    entry = {s.subgraph for s in model.signatures} | {model.main_subgraph}
    return any(sg.index not in entry for sg in model.subgraphs)


def _refuse_value_dependent_outputs(model: Model) -> None:
    """ValueDependentShapeError for a signature output whose shape only the run tells (WHERE, UNIQUE, NMS, RANGE of
    computed bounds, IF, ...) and whose element type the SDK's copy operator cannot take (strings, float16, ...):
    libLiteRt's CompiledModel cannot bind a client buffer to such an output. Outputs of other types run: the SDK
    copies them into a buffer it grows as needed and reads their shape back after each run."""
    from ._schema import op_name

    for s, name, index, (op, code) in model._refused:
        raise ValueDependentShapeError(
            f"output {name!r} (tensor {index}) of signature {s.key!r} has a shape that only the run tells (operator "
            f"{op} of subgraph {s.subgraph}, {op_name(code)}) and an element type the SDK cannot copy; the LiteRT "
            "runtime lays outputs out before the run and cannot return it. Make the shape static (e.g. pad to a "
            "maximum size) or cast the output to a numeric type")


def _shape_hook(model: Model) -> Any:
    """The native layer's output-shape hook for ``model``: the shape engine's output shapes for the signature's
    current input shapes (None where it cannot tell, so the runtime's layout stands), and for outputs whose shape
    only the run tells a capacity in elements (their shape is read back after each run). It holds the engine and
    the signature specs, not the compiled model."""
    sigs = [(s.subgraph, [t.index for _, t in s.inputs], [t.index for _, t in s.outputs]) for s in model.signatures]
    dynamic = model._dynamic
    # Models without shape arithmetic or outputs read back after the run need the engine only for zero-size inputs
    # (a batch of 0), which the runtime refuses: the engine is then built on first use.
    always = model.needs_shape_engine() or bool(dynamic)

    def hook(sig: int, input_shapes: list[list[int]]) -> list[tuple[int, ...] | int | None] | None:
        subgraph, ins, outs = sigs[sig]
        if any(d < 0 for s in input_shapes for d in s):
            return None
        if not always and all(d for s in input_shapes for d in s):
            return None
        from ._shapes import output_capacity  # (imported only for models that need the engine)

        shapes = {t: tuple(s) for t, s in zip(ins, input_shapes, strict=False)}
        known = model._shape_engine().propagate(subgraph, shapes)
        read_back = dynamic.get(subgraph, ())
        result: list[tuple[int, ...] | int | None] = []
        for t in outs:
            if t in read_back:
                result.append(output_capacity(input_shapes))
            else:
                r = known.get(t)
                result.append(None if r is None else r.shape)
        return result

    return hook


def check_options(options: Any) -> Options:
    """``options``, or the defaults for None; InvalidArgumentError for anything that is not an Options."""
    if options is None:
        return Options()
    if not isinstance(options, Options):
        raise InvalidArgumentError(
            f"options must be a litert_sdk.Options or None (e.g. Options.cpu_only(num_threads=2), Options.gpu()), "
            f"got {type(options).__name__} {options!r}"
        )
    return options


ArrayLike = Any
Inputs = Any  # Mapping[str, ArrayLike] | Sequence[ArrayLike] | np.ndarray (numpy is imported on first use)


class CompiledModel(UpstreamCompiledModelAPI, Unpicklable, Closable):
    """A model compiled by the runtime (LiteRtCompiledModel), ready to run.

    Create it with :meth:`from_file` / :meth:`from_buffer` (or from a loaded :class:`~litert_sdk.Model`). Inputs and
    outputs are bound by name; the runtime's input order is not the order of the original function's arguments.

    Thread safety: one CompiledModel may be shared between threads; calls are serialised (the GIL is released
    while the runtime works, except on runs shorter than about 20 us, where releasing it would cost more). Use a
    pool of compiled models for parallel throughput.

    Example::

        cm = CompiledModel.from_file("model.tflite")
        out = cm.run({"input": x})            # dict in -> dict out, by name
        y, = cm.run([x])                      # list in (signature order) -> list out

    ai_edge_litert's API (``get_signature_list``, ``create_input_buffers``, ``run_by_index``, ... with
    :class:`~litert_sdk.tensor_buffer.TensorBuffer`) is available too, with upstream's names and semantics.
    """

    def __init__(self, model: Model, options: Options | None = None) -> None:
        if not isinstance(model, Model):
            raise InvalidArgumentError(
                f"model must be a litert_sdk.Model (or use CompiledModel.from_file / from_buffer), got "
                f"{type(model).__name__}"
            )
        self.model = model
        self.requested_options = check_options(options)
        t0 = time.perf_counter()
        self._native, self.options, self.fallback_reason = _compile(model, self.requested_options)
        self.compile_time_ms: float = (time.perf_counter() - t0) * 1e3
        try:  # run(list) on the default signature tries the native exact-match path first
            self._default_index: int | None = model.signature(None).index
        except LiteRtError:
            self._default_index = None

    def _reload_hint(self) -> str:
        return reload_hint("CompiledModel", self.model.path)

    @property
    def last_run_duration_us(self) -> float:
        """Wall time of the runtime's last run of this model in microseconds (0.0 before the first run)."""
        return float(self._native.last_run_us)

    @property
    def did_fallback(self) -> bool:
        """True when the requested GPU/NPU compile failed and the model was compiled for the CPU instead."""
        return self.fallback_reason is not None

    @property
    def accelerators(self) -> Accelerator:
        """The accelerators the model was actually compiled for."""
        return self.options.accelerators

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        options: Options | HardwareAccelerator | None = None,
        environment: _runtime.Environment | None = None,
        *,
        hardware_accel: HardwareAccelerator | None = None,
    ) -> CompiledModel:
        """Load and compile a ``.tflite`` file.

        ``hardware_accel`` (also as the second positional argument) is ai_edge_litert's shortcut: compile for
        exactly those accelerators, one CPU thread, no fallback; it excludes ``options``."""
        return cls(Model.from_file(path, environment), resolve_options(options, hardware_accel))

    @classmethod
    def from_buffer(
        cls,
        data: bytes | bytearray | memoryview,
        options: Options | HardwareAccelerator | None = None,
        environment: _runtime.Environment | None = None,
        *,
        hardware_accel: HardwareAccelerator | None = None,
    ) -> CompiledModel:
        """Load and compile a model held in memory (``hardware_accel``: as in :meth:`from_file`)."""
        return cls(Model.from_buffer(data, environment), resolve_options(options, hardware_accel))

    # -- signatures --------------------------------------------------------------------------------------------
    @property
    def signatures(self) -> tuple[SignatureSpec, ...]:
        return self.model.signatures

    @property
    def signature_keys(self) -> list[str]:
        return self.model.signature_keys

    def signature(self, signature: str | int | None = None) -> SignatureSpec:
        return self.model.signature(signature)

    def input_names(self, signature: str | int | None = None) -> list[str]:
        return self.signature(signature).input_names

    def output_names(self, signature: str | int | None = None) -> list[str]:
        return self.signature(signature).output_names

    def _io_index(self, spec: SignatureSpec, key: str | int, output: bool) -> int:
        n = len(spec.outputs if output else spec.inputs)
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if not 0 <= int(key) < n:
                what = "output" if output else "input"
                raise InvalidArgumentError(f"{what} index {key} out of range ({n} {what}s)")
            return int(key)
        return spec.output_index(str(key)) if output else spec.input_index(str(key))

    # -- shapes --------------------------------------------------------------------------------------------------
    def input_shape(self, name: str | int = 0, signature: str | int | None = None) -> tuple[int, ...]:
        """Current shape of an input (after any resize)."""
        spec = self.signature(signature)
        return tuple(self._native.input_shape(spec.index, self._io_index(spec, name, False)))

    def output_shape(self, name: str | int = 0, signature: str | int | None = None) -> tuple[int, ...]:
        """Current shape of an output (recomputed after a resize)."""
        spec = self.signature(signature)
        return tuple(self._native.output_shape(spec.index, self._io_index(spec, name, True)))

    def resize_input(
        self, name: str | int, shape: Sequence[int], signature: str | int | None = None, *, strict: bool = True
    ) -> None:
        """Resize an input. With ``strict`` only dimensions that are dynamic (-1) in the model may change."""
        spec = self.signature(signature)
        dims = _as_shape(shape)
        index = self._io_index(spec, name, False)
        _check_size(dims, spec.inputs[index][1], spec.inputs[index][0])
        self._native.resize_input(spec.index, index, dims, strict)

    # -- running -----------------------------------------------------------------------------------------------
    @overload
    def run(self, inputs: Mapping[str, ArrayLike], signature: str | int | None = None) -> dict[str, np.ndarray]: ...
    @overload
    def run(self, inputs: Sequence[ArrayLike] | np.ndarray, signature: str | int | None = None) -> list[np.ndarray]: ...

    def run(self, inputs: Inputs, signature: str | int | None = None) -> dict[str, np.ndarray] | list[np.ndarray]:
        """Run a signature.

        ``inputs`` is a dict by input name (returns a dict by output name), or a list in the signature's input order
        / a single array for single-input signatures (returns a list in output order). Arrays must have the input's
        dtype; a different shape resizes the input when the model allows it.
        """
        if signature is None and type(inputs) is list and self._default_index is not None:
            outs = self._native.run_exact(self._default_index, inputs)
            if outs is not None:
                return outs  # type: ignore[no-any-return]
        spec = self.signature(signature)
        as_dict = isinstance(inputs, Mapping)
        ordered = _order_inputs(spec, inputs)
        outs = self._native.run(spec.index, ordered, True)
        if as_dict:
            return dict(zip(spec.output_names, outs, strict=False))
        return list(outs)

    def __call__(self, signature: str | int | None = None, **inputs: ArrayLike) -> dict[str, np.ndarray]:
        """``cm(x=..., y=...)`` runs the (first) signature with named inputs and returns named outputs."""
        return self.run(inputs, signature)  # type: ignore[return-value]

    # -- buffers (zero-copy access to the runtime's own I/O memory) ---------------------------------------------
    def input_buffer(self, name: str | int = 0, signature: str | int | None = None) -> np.ndarray:
        """A writable numpy view of an input's 64-byte aligned buffer; fill it, then :meth:`run_buffers`."""
        spec = self.signature(signature)
        return self._native.input_view(spec.index, self._io_index(spec, name, False))

    def output_buffer(self, name: str | int = 0, signature: str | int | None = None) -> np.ndarray:
        """A numpy view of an output's buffer; its contents change on every run."""
        spec = self.signature(signature)
        return self._native.output_view(spec.index, self._io_index(spec, name, True))

    def run_buffers(self, signature: str | int | None = None) -> None:
        """Run a signature on the current contents of its input buffers (no copies)."""
        spec = self.signature(signature)
        self._native.invoke(spec.index)

    # -- state ---------------------------------------------------------------------------------------------------
    def is_fully_accelerated(self) -> bool:
        """True when every op runs on the requested accelerators (no fallback to other kernels)."""
        return bool(self._native.is_fully_accelerated())

    def close(self) -> None:
        """Release the runtime's compiled model; further use raises :class:`~litert_sdk.ClosedError`.

        Never waits for a run in progress in another thread (e.g. one stuck in an endless WHILE loop: the runtime has
        no way to cancel a run): the model is closed at once and its runtime objects, custom-op kernels included,
        are freed when that run returns. Raises :class:`~litert_sdk.ReentrantCallError` when called from one of
        this model's own custom-op kernels. In a fork child, a compiled model inherited from the parent is closed
        without touching the parent's runtime threads (using it raises ClosedError).
        """
        self._native.close()

    @property
    def closed(self) -> bool:
        return bool(self._native.closed)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"accelerators={self.options.accelerators!r}"
        return f"CompiledModel({self.model!r}, {state})"


_MAX_DIM = 2**31 - 1  # tensor dimensions are int32 in the runtime


def _as_shape(shape: Sequence[int]) -> list[int]:
    try:
        items = list(shape)
    except TypeError:
        raise InvalidArgumentError(f"shape must be a sequence of ints, got {shape!r}") from None
    if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) for d in items):
        raise InvalidArgumentError(f"shape must be a sequence of ints, got {shape!r}")
    dims = [int(d) for d in items]
    if any(d < 0 for d in dims):
        raise InvalidArgumentError(f"shape must not contain negative dimensions, got {dims}")
    if any(d > _MAX_DIM for d in dims):
        raise InvalidArgumentError(f"shape {dims} has a dimension larger than {_MAX_DIM}")
    return dims


def _memory_limit() -> int:
    """Bytes one tensor may take: the memory available now (MemAvailable on Linux), else the physical memory.

    Read by the native core (``_native.available_memory``), the same figure its host allocations are checked against.
    """
    return int(_runtime.native().available_memory())


def _check_size(dims: Sequence[int], spec: TensorSpec, name: str) -> None:
    """Refuses a resize whose input alone would not fit in memory (instead of letting the runtime try)."""
    itemsize = spec.dtype.itemsize if spec.dtype is not None else 1
    nbytes = math.prod(dims) * itemsize
    limit = _memory_limit()
    if nbytes > limit:
        raise InvalidArgumentError(
            f"cannot resize input {name!r} to {list(dims)}: it would take {nbytes} bytes, more than the "
            f"{limit} bytes of memory available"
        )


def _order_inputs(spec: SignatureSpec, inputs: Inputs) -> list[Any]:
    names = spec.input_names
    if isinstance(inputs, Mapping):
        spec.check_input_names(inputs)
        return [_as_array(inputs[n], n, t) for n, (_, t) in zip(names, spec.inputs, strict=False)]
    if isinstance(inputs, np.ndarray):
        seq: Sequence[Any] = [inputs]
    elif isinstance(inputs, (list, tuple)):
        seq = inputs
    else:
        raise InvalidArgumentError(f"inputs must be a dict, list/tuple or numpy array, got {type(inputs).__name__}")
    if len(seq) != len(names):
        raise InvalidArgumentError(f"signature {spec.key!r} takes {len(names)} input(s) {names}, got {len(seq)}")
    return [_as_array(x, n, t) for x, (n, t) in zip(seq, spec.inputs, strict=False)]


def _as_array(x: Any, name: str, spec: TensorSpec) -> Any:
    """numpy arrays pass as they are (their dtype must match); other values are converted to the input's dtype.
    String inputs become ``_strings.PackedStrings`` (TFLite's packed format)."""
    if spec.element_type == ElementType.STRING:
        if x is None:
            raise InvalidArgumentError(f"input {name!r} is None")
        from ._strings import pack

        return pack(x, name)
    if not isinstance(x, np.ndarray):
        if x is None:
            raise InvalidArgumentError(f"input {name!r} is None")
        try:
            x = np.asarray(x, dtype=spec.dtype)
        except Exception as e:  # noqa: BLE001 - report any conversion failure as a typed error
            raise InvalidArgumentError(f"input {name!r} cannot be converted to an array: {e}") from None
    if x.dtype.kind not in "biufc":  # object, string, bytes, void, datetime arrays cannot reach the runtime
        raise InvalidArgumentError(
            f"input {name!r} expects {spec.type_name}, got an array of dtype {x.dtype} (only numeric and bool arrays "
            "can be passed)"
        )
    if not x.dtype.isnative:  # e.g. '>f4' on a little-endian machine: the runtime takes native byte order
        x = x.astype(x.dtype.newbyteorder("="))
    return x
