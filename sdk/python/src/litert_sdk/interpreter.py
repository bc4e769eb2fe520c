"""A drop-in replacement for ``tflite_runtime.interpreter`` / ``ai_edge_litert.interpreter``.

Existing programs keep working after changing the import::

    # from tflite_runtime.interpreter import Interpreter
    from litert_sdk.interpreter import Interpreter

The classic API is implemented on the runtime's CompiledModel API: tensors are addressed by their real model tensor
indices; inputs, outputs and constant tensors can be read. The runtime's C API does not expose intermediate tensors:
with ``experimental_preserve_all_tensors=True`` the SDK compiles a copy of the model in which the intermediate tensors
of every signature's subgraph are extra outputs (``_preserve``), so ``get_tensor`` reads them after a run.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _fork, _runtime
from ._lazy import np
from ._lifecycle import Closable
from ._pickling import Unpicklable
from ._types import detail_dtype
from .compiled_model import _as_array, _as_shape, _check_size, _compile
from .errors import (
    ClosedError,
    InvalidArgumentError,
    InvalidStateError,
    ModelError,
    NotFoundError,
    UnsupportedError,
)
from .model import Model, SignatureSpec, TensorSpec
from .options import CpuOptions, Options, check_num_threads

if TYPE_CHECKING:
    from .delegates import InterpreterOptions

__all__ = ["Interpreter", "SignatureRunner", "OpResolverType", "load_delegate", "InterpreterWithCustomOps"]


class OpResolverType(enum.Enum):
    """Kernel selection, as in tflite_runtime: maps to the CPU kernel mode."""

    AUTO = 0
    BUILTIN = 1
    BUILTIN_REF = 2
    BUILTIN_WITHOUT_DEFAULT_DELEGATES = 3


_KERNEL_MODE = {
    OpResolverType.AUTO: None,
    OpResolverType.BUILTIN: None,
    OpResolverType.BUILTIN_REF: "reference",
    OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES: "builtin",
}


def load_delegate(library: str, options: Mapping[str, str] | None = None) -> Any:
    """tflite_runtime's external-delegate loader.

    LiteRT's C API has no entry point for TfLite external delegate plugins (``tflite_plugin_create_delegate``), so
    this raises :class:`~litert_sdk.UnsupportedError`. Use the accelerator options instead (``Options``, GPU via
    ``litert_sdk.Accelerator.GPU``).
    """
    raise UnsupportedError(
        f"cannot load external delegate {library!r}: the LiteRT runtime does not accept TfLite delegate plugins; "
        "select accelerators with litert_sdk.Options(accelerators=...) instead"
    )


def _quant_details(spec: TensorSpec) -> tuple[tuple[float, int], dict[str, Any]]:
    q = spec.quantization
    if q is None:
        return (0.0, 0), {
            "scales": np.zeros(0, np.float32),
            "zero_points": np.zeros(0, np.int32),
            "quantized_dimension": 0,
            "block_size": 0,
        }
    return q.per_tensor, {
        "scales": q.scales.astype(np.float32),
        "zero_points": q.zero_points.astype(np.int32),
        "quantized_dimension": int(q.quantized_dimension),
        "block_size": 0,
    }


def _details(
    spec: TensorSpec, shape: Sequence[int] | None, name: str | None = None, current_if_static: bool = False
) -> dict[str, Any]:
    """A tflite_runtime-compatible tensor details dict. With ``current_if_static``, a tensor whose shape signature
    has no dynamic dimension reports its current shape as signature, as tflite_runtime does after a non-strict
    resize (the converter stores no separate signature for static tensors)."""
    signature = spec.shape if spec.shape is not None else ()
    if shape is None:
        shape = [1 if d < 0 else d for d in signature]
    elif current_if_static and not spec.is_dynamic:
        signature = tuple(shape)
    quant, qparams = _quant_details(spec)
    return {
        "name": spec.name if name is None else name,
        "index": spec.index,
        "shape": np.array(shape, dtype=np.int32),
        "shape_signature": np.array(signature, dtype=np.int32),
        "dtype": detail_dtype(spec.element_type),
        "quantization": quant,
        "quantization_parameters": qparams,
        "sparsity_parameters": {},
    }


def _load_model(
    model_path: str | os.PathLike[str] | None,
    model_content: bytes | bytearray | memoryview | None,
    environment: _runtime.Environment | None,
) -> Model:
    """The model, with upstream's error texts (then the SDK's detail) for missing or invalid model arguments."""
    if model_path is None and model_content is None:
        raise InvalidArgumentError(
            "`model_path` or `model_content` must be specified. (give exactly one of model_path and model_content)"
        )
    if model_path is not None and model_content is not None:
        raise InvalidArgumentError(
            "Can't both provide `model_path` and `model_content` (give exactly one of model_path and model_content)"
        )
    if model_path is not None:
        try:
            return Model.from_file(model_path, environment)
        except ModelError as e:
            from ._verifier import STATUS_INVALID_FLATBUFFER  # (the verifier has run: no import cost here)

            if e.status == STATUS_INVALID_FLATBUFFER:  # the file was read: its content is not a valid model
                raise ModelError(f"The model is not a valid Flatbuffer buffer: {e.message}", e.status) from None
            shown = os.fspath(model_path) if isinstance(model_path, (str, os.PathLike)) else model_path
            raise ModelError(f"Could not open {shown!r}: {e.message}", e.status) from None
    try:
        return Model.from_buffer(model_content, environment)  # type: ignore[arg-type]
    except ModelError as e:
        raise ModelError(f"The model is not a valid Flatbuffer buffer: {e.message}", e.status) from None


_DEQUANTIZE = 6  # builtin operator code (TFLite schema)

class Interpreter(Unpicklable, Closable):
    """Runs a TFLite model with the classic ``tf.lite.Interpreter`` API on the official LiteRT runtime.

    Args:
        model_path: path of a ``.tflite`` file.
        model_content: the model's bytes (instead of ``model_path``).
        experimental_delegates: delegate objects from :mod:`litert_sdk.delegates` (external plugins unsupported).
        num_threads: CPU threads, 1..:data:`litert_sdk.MAX_NUM_THREADS`; None or -1 use
            :func:`litert_sdk.default_num_threads` (not the runtime's single thread).
        experimental_op_resolver_type: :class:`OpResolverType`; BUILTIN_REF and BUILTIN_WITHOUT_DEFAULT_DELEGATES
            select the reference / builtin kernels instead of XNNPACK.
        options: full :class:`~litert_sdk.Options`, or flutter_litert-style
            :class:`~litert_sdk.delegates.InterpreterOptions` (overrides ``num_threads`` and the resolver type).
        environment: the :class:`~litert_sdk.Environment` to use (default: the shared one).

    ``experimental_preserve_all_tensors=True`` makes intermediate tensors readable with :meth:`get_tensor` after
    :meth:`invoke` or a signature runner (the model is compiled with them as extra outputs of their signature, which
    costs memory and keeps the runtime from fusing across them). Other ``experimental_*`` keyword arguments of
    tflite_runtime are accepted and ignored where the runtime has no equivalent.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        model_content: bytes | bytearray | memoryview | None = None,
        experimental_delegates: Sequence[Any] | None = None,
        num_threads: int | None = None,
        experimental_op_resolver_type: OpResolverType = OpResolverType.AUTO,
        experimental_preserve_all_tensors: bool = False,
        *,
        options: Options | InterpreterOptions | None = None,
        environment: _runtime.Environment | None = None,
        **experimental: Any,
    ) -> None:
        self._closed = False  # (set first: close() and __del__ may run on a half-built object)
        unknown = [k for k in experimental if not k.startswith("experimental_")]
        if unknown:
            raise TypeError(f"Interpreter() got unexpected keyword argument(s) {unknown}")
        if not isinstance(experimental_op_resolver_type, OpResolverType):
            raise InvalidArgumentError(
                f"Unrecognized passed in op resolver type: {experimental_op_resolver_type} (expected a "
                "litert_sdk.interpreter.OpResolverType)"
            )
        check_num_threads(num_threads)
        self._model = _load_model(model_path, model_content, environment)
        if options is not None and not isinstance(options, Options):
            from .delegates import InterpreterOptions  # (imported only when such options are given)

            if not isinstance(options, InterpreterOptions):
                raise InvalidArgumentError(
                    f"options must be a litert_sdk.Options, a litert_sdk.delegates.InterpreterOptions or None, got "
                    f"{type(options).__name__} {options!r}"
                )
            options = options.to_options()
        if options is None:
            options = Options(
                cpu=CpuOptions(num_threads=num_threads, kernel_mode=_KERNEL_MODE[experimental_op_resolver_type])
            )
        for delegate in experimental_delegates or ():
            apply = getattr(delegate, "_apply_to_options", None)
            if apply is None:
                raise UnsupportedError(
                    f"unsupported delegate object {delegate!r}: use the delegate classes of litert_sdk.delegates"
                )
            options = apply(options)
        self._options = options
        # Guards compilation, resizing and multi-step operations (run, reset). Single native calls (set_tensor,
        # invoke, get_tensor) are already serialised by the compiled model's own mutex; close() takes no lock (it
        # never waits for a run in progress). In a fork child the lock raises ClosedError instead of waiting.
        self._lock = _fork.ForkAwareLock("interpreter")
        self._effective_options = options
        self.fallback_reason: str | None = None
        self._cm: Any = None
        self._resized: dict[tuple[int, int], list[int]] = {}
        self._last_duration_us = 0.0  # of the last closed compiled model (reset_all_variables recompiles)
        # tflite_runtime's states: invoke() needs allocate_tensors() first (and again after a resize that changes a
        # shape); numpy views from tensor() hold a reference to _view_token while they live (see _safe_to_run).
        self._ready = False
        self._views_issued = False
        self._view_token = object()

        main = self._model.main_subgraph
        self._primary: SignatureSpec | None = next(
            (s for s in self._model.signatures if s.subgraph == main), None
        )
        sg = self._model.subgraphs[main] if self._model.subgraphs else None
        # Interpreter input/output positions (subgraph order) -> signature slot positions (runtime order).
        self._in_slots: list[int] = []
        self._out_slots: list[int] = []
        if self._primary is not None and sg is not None:
            in_pos = {t.index: j for j, (_, t) in enumerate(self._primary.inputs)}
            out_pos = {t.index: j for j, (_, t) in enumerate(self._primary.outputs)}
            self._in_slots = [in_pos[t] for t in sg.inputs if t in in_pos]
            self._out_slots = [out_pos[t] for t in sg.outputs if t in out_pos]
        self._primary_index = self._primary.index if self._primary is not None else -1
        self._input_by_tensor = {self._primary.inputs[j][1].index: j for j in self._in_slots} if self._primary else {}
        self._output_by_tensor = (
            {self._primary.outputs[j][1].index: j for j in self._out_slots} if self._primary else {}
        )
        # The model the runtime compiles, and intermediate tensor -> its extra output slot in the primary signature.
        self._run_model = self._model
        self._preserved: dict[int, int] = {}  # (of the main subgraph)
        self._preserved_at: dict[tuple[int, int], tuple[int, int]] = {}  # (subgraph, tensor) -> (signature, slot)
        self._dequantized: dict[tuple[int, int], int] = {}  # (subgraph, DEQUANTIZE output) -> its constant input
        if experimental_preserve_all_tensors:
            self._preserve_intermediates()

    def _preserve_intermediates(self) -> None:
        """experimental_preserve_all_tensors: compile a copy of the model in which the intermediates (numeric tensors
        written by an operator, not already outputs) of every subgraph a signature runs are extra outputs of that
        signature (``_preserve``)."""
        if not self._model.signatures:
            raise UnsupportedError("experimental_preserve_all_tensors needs a subgraph the runtime can run")
        from ._preserve import add_outputs
        from ._rewrite import RewriteError

        targets: dict[int, list[int]] = {}
        for sgi in sorted({s.subgraph for s in self._model.signatures}):
            sg = self._model.subgraphs[sgi]
            outputs = {t.index for s in self._model.signatures if s.subgraph == sgi for _, t in s.outputs}
            wanted: list[int] = []
            for op in sg.ops:
                if op.opcode == _DEQUANTIZE and op.inputs and self._model.constant(op.inputs[0], sgi) is not None:
                    # XNNPACK reads such constants itself and never runs the DEQUANTIZE: its output would come back
                    # unwritten (zeros here, stale memory in ai-edge-litert); get_tensor computes it instead
                    self._dequantized[(sgi, op.outputs[0])] = op.inputs[0]
                    continue
                for t in op.outputs:
                    spec = sg.tensors.get(t)
                    if (t < 0 or t in outputs or t in wanted or spec is None or spec.dtype is None
                            or spec.dtype.kind not in "biufc"):
                        continue
                    wanted.append(t)
            if wanted:
                targets[sgi] = wanted
        if not targets:
            return
        data = self._model.content()
        try:
            for sgi, wanted in targets.items():
                data = add_outputs(data, sgi, wanted)
        except RewriteError as e:
            raise UnsupportedError(f"experimental_preserve_all_tensors: the model cannot be rewritten: {e}") from None
        self._run_model = Model.from_buffer(data, self._model.environment)
        for sig in self._run_model.signatures:
            slot_of = {spec.index: j for j, (_, spec) in enumerate(sig.outputs)}
            for t in targets.get(sig.subgraph, ()):
                if t in slot_of and (sig.subgraph, t) not in self._preserved_at:
                    self._preserved_at[(sig.subgraph, t)] = (sig.index, slot_of[t])
        self._preserved = {t: slot for (sgi, t), (sig_index, slot) in self._preserved_at.items()
                           if sgi == self._model.main_subgraph and sig_index == self._primary_index}

    def _reload_hint(self) -> str:
        if self._model.path is not None:
            return f"pass the path {self._model.path!r} instead and create Interpreter(model_path=...) there"
        return "pass the model's bytes instead and create Interpreter(model_content=...) there"

    # -- construction conveniences (flutter_litert names) -------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> Interpreter:
        return cls(model_path=path, **kwargs)

    @classmethod
    def from_buffer(cls, data: bytes | bytearray | memoryview, **kwargs: Any) -> Interpreter:
        return cls(model_content=data, **kwargs)

    # -- compilation ---------------------------------------------------------------------------------------------
    def _compiled(self) -> Any:
        cm = self._cm
        if cm is not None:
            return cm
        with self._lock:
            if self._cm is None:
                if self._closed:
                    raise ClosedError("the interpreter is closed")
                cm, self._effective_options, self.fallback_reason = _compile(self._run_model, self._options)
                for (sig, slot), shape in self._resized.items():
                    cm.resize_input(sig, slot, shape, False)
                self._cm = cm
                self._install_fast_path(cm)
                if self._closed:  # close() ran during the compile (it takes no lock)
                    cm.close()
                    raise ClosedError("the interpreter is closed")
            return self._cm

    # The hot methods that the native fast path replaces on the instance once the model is compiled (see
    # _native/interpreter_fast_path.cc); methods a subclass overrides are left alone.
    _FAST_METHODS = ("set_tensor", "get_tensor", "invoke", "run")

    def _install_fast_path(self, cm: Any) -> None:
        if self._primary is None:
            return
        cls = type(self)
        names = [n for n in self._FAST_METHODS if getattr(cls, n) is getattr(Interpreter, n)
                 and (n != "invoke" or self._fast_invoke_allowed())]
        if not names:
            return
        run_slots = [self._in_slots[0], self._out_slots[0]] if len(self._in_slots) == 1 and self._out_slots else []
        fast = _runtime.native().InterpreterFastPath(
            cm,
            self._primary_index,
            # (0-d tensors take the Python paths, which return numpy scalars as tflite_runtime does)
            [(t, j) for t, j in self._input_by_tensor.items() if not _is_scalar(self._primary.inputs[j][1])],
            [(t, j) for t, j in self._output_by_tensor.items() if not _is_scalar(self._primary.outputs[j][1])],
            run_slots,
            np.ndarray,
            weakref.ref(self),
            Interpreter,
        )
        for name in names:
            self.__dict__[name] = getattr(fast, name)
        self.__dict__["_fast_path"] = fast

    def _fast_invoke_allowed(self) -> bool:
        """The native invoke skips the state checks: it is installed only while they cannot fail (allocated, and
        no tensor() views were ever handed out)."""
        return self._ready and not self._views_issued and type(self).invoke is Interpreter.invoke

    def _drop_fast_path(self) -> None:
        if self._cm is not None:
            self._last_duration_us = self._cm.last_run_us
        for name in self._FAST_METHODS:
            self.__dict__.pop(name, None)

    @contextlib.contextmanager
    def locked(self) -> Iterator[Interpreter]:
        """Hold the interpreter for a multi-step sequence, e.g. ``set_tensor``/``invoke``/``get_tensor`` from
        several threads::

            with interpreter.locked():
                interpreter.set_tensor(i, x); interpreter.invoke(); y = interpreter.get_tensor(o)
        """
        with self._lock:
            yield self

    @property
    def did_fallback(self) -> bool:
        """True when the requested GPU delegate could not compile the model and the CPU is used instead."""
        self._compiled()
        return self.fallback_reason is not None

    def _primary_sig(self) -> SignatureSpec:
        if self._primary is None:
            raise UnsupportedError("the model's main subgraph has no signature the runtime can run")
        return self._primary

    def allocate_tensors(self) -> None:
        """Compile the model (first call) and allocate buffers for the current input shapes.

        Raises :class:`~litert_sdk.InvalidStateError` (a ``RuntimeError``) while numpy arrays from :meth:`tensor`
        are alive, as tflite_runtime does."""
        with self._lock:
            if self._closed:
                raise ClosedError("the interpreter is closed")
            self._ensure_safe()
            cm = self._compiled()
            if self._primary is not None:
                cm.prepare(self._primary.index)
            self._mark_allocated()

    def _mark_allocated(self) -> None:
        """invoke() may run (allocate_tensors(), or a signature runner of the main subgraph, allocated)."""
        self._ready = True
        fast = self.__dict__.get("_fast_path")
        if fast is not None and self._fast_invoke_allowed():
            self.__dict__["invoke"] = fast.invoke

    def _safe_to_run(self) -> bool:
        """True when no numpy array returned by a :meth:`tensor` function (or a slice of one) is alive, i.e. when
        allocate_tensors(), invoke() and resize_tensor_input() may run (tflite_runtime's check)."""
        return sys.getrefcount(self._view_token) == 2  # the attribute and getrefcount's argument

    def _ensure_safe(self) -> None:
        if not self._safe_to_run():
            raise InvalidStateError(
                "There is at least 1 reference to internal data\n      in the interpreter in the form of a numpy "
                "array or slice. Be sure to\n      only hold the function returned from tensor() if you are using raw"
                "\n      data access."
            )

        # -- details ---------------------------------------------------------------------------------------------
    def _current_shape(self, sig: SignatureSpec, slot: int, output: bool) -> list[int] | None:
        if self._cm is None:
            if not output and (sig.index, slot) in self._resized:
                return self._resized[(sig.index, slot)]
            return None
        try:
            if output:
                return list(self._cm.output_shape(sig.index, slot))
            return list(self._cm.input_shape(sig.index, slot))
        except InvalidArgumentError:
            return None

    def get_input_details(self) -> list[dict[str, Any]]:
        """Details of the model's inputs, in the model's input order (tflite_runtime format)."""
        if self._primary is None:
            return []
        sig = self._primary
        return [self._io_details(sig, j, False) for j in self._in_slots]

    def get_output_details(self) -> list[dict[str, Any]]:
        """Details of the model's outputs, in the model's output order (tflite_runtime format)."""
        if self._primary is None:
            return []
        sig = self._primary
        return [self._io_details(sig, j, True) for j in self._out_slots]

    def _io_details(self, sig: SignatureSpec, slot: int, output: bool) -> dict[str, Any]:
        spec = (sig.outputs if output else sig.inputs)[slot][1]
        return _details(spec, self._current_shape(sig, slot, output), current_if_static=True)

    def _check_subgraph(self, subgraph_index: int) -> int:
        n = len(self._model.subgraphs)
        if isinstance(subgraph_index, bool) or not isinstance(subgraph_index, (int, np.integer)) or not (
            0 <= int(subgraph_index) < n
        ):
            raise InvalidArgumentError(
                f"subgraph_index is out of range: {subgraph_index} for the model, which has {n} subgraphs."
            )
        return int(subgraph_index)

    def get_tensor_details(self, subgraph_index: int = 0) -> list[dict[str, Any]]:
        """Details of every tensor of a subgraph (default: the main one), sorted by index (tflite_runtime format).

        Inputs and outputs of a signature have their current shapes; after a resize, other tensors have the shapes
        the SDK's shape engine propagates from the inputs (their static shapes where it cannot tell)."""
        sgi = self._check_subgraph(subgraph_index)
        known = self._propagated_shapes(sgi)
        return [self._tensor_details(idx, sgi, known) for idx in sorted(self._model.subgraphs[sgi].tensors)]

    def _get_tensor_details(self, tensor_index: int, subgraph_index: int) -> dict[str, Any]:
        """Details of one tensor of a subgraph (tflite_runtime's experimental API)."""
        sgi = self._check_subgraph(subgraph_index)
        return self._tensor_details(int(tensor_index), sgi, self._propagated_shapes(sgi))

    def _propagated_shapes(self, subgraph: int) -> dict[int, tuple[int, ...]]:
        """Shapes of the subgraph's tensors for its signature's current (resized) input shapes, where the shape
        engine can follow them; empty when no input of the subgraph was resized (static shapes hold)."""
        sig = next((s for s in self._model.signatures if s.subgraph == subgraph), None)
        if sig is None or not any(k[0] == sig.index for k in self._resized):
            return {}
        shapes = [self._current_shape(sig, j, False) for j in range(len(sig.inputs))]
        if any(sh is None or any(d < 0 for d in sh) for sh in shapes):
            return {}
        try:
            known = self._model._shape_engine().propagate(
                subgraph,
                {t.index: tuple(sh) for (_, t), sh in zip(sig.inputs, shapes, strict=False) if sh is not None})
        except Exception:  # noqa: BLE001 - details fall back to static shapes when the engine cannot follow
            return {}
        return {t: tuple(v.shape) for t, v in known.items() if getattr(v, "shape", None) is not None}

    def _tensor_details(self, t: int, sgi: int, known: Mapping[int, tuple[int, ...]]) -> dict[str, Any]:
        sg = self._model.subgraphs[sgi]
        spec = sg.tensors.get(t)
        if spec is None:
            raise InvalidArgumentError(
                f"Invalid tensor index {t} exceeds max tensor index {len(sg.tensors)} (subgraph {sgi} has no tensor "
                f"{t})"
            )
        shape = None
        at = self._preserved_at.get((sgi, t))
        if at is not None and self._cm is not None:
            shape = list(self._cm.output_shape(*at))
        for sig in self._model.signatures:  # current shapes of signature inputs and outputs
            if sig.subgraph != sgi:
                continue
            for output, items in ((False, sig.inputs), (True, sig.outputs)):
                for j, (_, ts) in enumerate(items):
                    if ts.index == t:
                        shape = self._current_shape(sig, j, output)
                        break
                if shape is not None:
                    break
            if shape is not None:
                break
        if shape is None and t in known:
            shape = list(known[t])
        return _details(spec, shape, current_if_static=True)

    def _get_op_details(self, op_index: int) -> dict[str, Any]:
        """The operator ``op_index`` of the main subgraph: index, op_name, inputs, outputs (tensor indices, -1 for an
        omitted optional input), operand_types and result_types (tflite_runtime's experimental API).

        The model's own operators are listed: the runtime's delegate partitions (tflite_runtime appends "DELEGATE"
        nodes after allocate_tensors()) are not visible through its C API."""
        sgi = self._model.main_subgraph
        ops = self._model.subgraphs[sgi].ops
        if isinstance(op_index, bool) or not isinstance(op_index, (int, np.integer)) or not 0 <= int(op_index) < len(
            ops
        ):
            raise InvalidArgumentError(f"Invalid node index {op_index} (the main subgraph has {len(ops)} operators)")
        op = ops[int(op_index)]
        if op.custom_code is not None:
            name = op.custom_code
        else:
            from ._schema import BUILTIN_OP_NAMES

            name = BUILTIN_OP_NAMES.get(op.opcode, str(op.opcode))
        io = self.__dict__.get("_operator_io")
        if io is None:
            from ._rewrite import RewriteError, operator_io

            try:
                io = operator_io(self._model.content(), sgi)
            except RewriteError:
                io = []
            if len(io) != len(ops):
                io = [(o.inputs, o.outputs) for o in ops]
            self.__dict__["_operator_io"] = io
        inputs, outputs = io[int(op_index)]
        return {
            "index": int(op_index),
            "op_name": name,
            "inputs": np.array(inputs, dtype=np.int32),
            "outputs": np.array(outputs, dtype=np.int32),
            "operand_types": [self._get_tensor_details(t, sgi)["dtype"] for t in inputs if t != -1],
            "result_types": [self._get_tensor_details(t, sgi)["dtype"] for t in outputs if t != -1],
        }

    def _get_ops_details(self) -> list[dict[str, Any]]:
        """:meth:`_get_op_details` of every operator of the main subgraph, in order."""
        return [self._get_op_details(i) for i in range(len(self._model.subgraphs[self._model.main_subgraph].ops))]

    def num_subgraphs(self) -> int:
        return len(self._model.subgraphs)

    # -- tensors ---------------------------------------------------------------------------------------------
    def _locate(self, tensor_index: int) -> tuple[str, int]:
        if not isinstance(tensor_index, (int, np.integer)) or isinstance(tensor_index, bool):
            raise InvalidArgumentError(f"tensor index must be an int, got {type(tensor_index).__name__}")
        t = int(tensor_index)
        if t in self._input_by_tensor:
            return "input", self._input_by_tensor[t]
        if t in self._output_by_tensor:
            return "output", self._output_by_tensor[t]
        sg = self._model.subgraphs[self._model.main_subgraph]
        if t in sg.tensors:
            return "other", t
        raise InvalidArgumentError(f"tensor index {t} is not a tensor of the model's main subgraph")

    def set_tensor(self, tensor_index: int, value: Any) -> None:
        """Copy ``value`` into an input tensor. numpy arrays must have the input's dtype and current shape."""
        cm = self._cm
        if cm is not None and type(value) is np.ndarray and type(tensor_index) is int:  # hot path
            slot = self._input_by_tensor.get(tensor_index)
            if slot is not None:
                try:
                    cm.set_input(self._primary_index, slot, value)
                    return
                except TypeError:  # an array the native core cannot take (object, str...): the typed error below
                    pass
                except ClosedError:  # replaced by reset_all_variables() meanwhile: the general path below
                    if not cm.closed:
                        raise
                except InvalidArgumentError as e:
                    raise self._set_tensor_error(tensor_index, slot, value, e) from None
        kind, slot = self._locate(tensor_index)
        if kind != "input":
            raise InvalidArgumentError(f"tensor {tensor_index} is not an input of the model; only inputs can be set")
        sig = self._primary_sig()
        spec = sig.inputs[slot][1]
        if value is None:
            raise InvalidArgumentError(f"cannot set input {spec.name!r} to None")
        value = _as_array(value, spec.name, spec)
        if not isinstance(value, np.ndarray):  # a string tensor (litert_sdk._strings.PackedStrings)
            self._on_current(lambda cm: cm.set_input_strings(sig.index, slot, value[0], list(value[1])))
            return
        try:
            self._on_current(lambda cm: cm.set_input(sig.index, slot, value))
        except InvalidArgumentError as e:
            raise self._set_tensor_error(int(tensor_index), slot, value, e) from None

    def _set_tensor_error(self, tensor_index: int, slot: int, value: np.ndarray, e: InvalidArgumentError) -> Exception:
        """tflite_runtime's text for a value of the wrong type or shape, then the SDK's."""
        spec = self._primary_sig().inputs[slot][1]
        want = self._current_shape(self._primary_sig(), slot, False)
        if spec.dtype is not None and value.dtype != spec.dtype:
            head = (f"Cannot set tensor: Got value of type {value.dtype.name.upper()} but expected type "
                    f"{spec.type_name.upper()} for input {tensor_index}, name: {spec.name} ")
        elif want is not None and len(want) != value.ndim:
            head = (f"Cannot set tensor: Dimension mismatch. Got {value.ndim} but expected {len(want)} for input "
                    f"{tensor_index}.")
        elif want is not None and list(value.shape) != list(want):
            k = next(i for i, (a, b) in enumerate(zip(value.shape, want, strict=False)) if a != b)
            head = (f"Cannot set tensor: Dimension mismatch. Got {value.shape[k]} but expected {want[k]} for dimension "
                    f"{k} of input {tensor_index}.")
        else:
            return e
        return InvalidArgumentError(f"{head} ({e.message})", e.status)

    def get_tensor(self, tensor_index: int, subgraph_index: int = 0) -> np.ndarray:
        """A copy of an input, output or constant tensor of the main subgraph (or of a signature's subgraph).

        A 0-d numeric tensor is returned as a numpy scalar (``np.float32(...)``), as tflite_runtime does."""
        cm = self._cm
        if cm is not None and subgraph_index == 0 and type(tensor_index) is int:  # hot path
            slot = self._output_by_tensor.get(tensor_index)
            if slot is not None:
                try:
                    return _scalar_if_0d(cm.get_output(self._primary_index, slot))
                except ClosedError:  # replaced by reset_all_variables() meanwhile: the general path below
                    if not cm.closed:
                        raise
        if subgraph_index != 0:
            return _scalar_if_0d(self._get_subgraph_tensor(tensor_index, subgraph_index))
        kind, slot = self._locate(tensor_index)
        if kind == "input":
            return _scalar_if_0d(self._on_current(lambda cm: cm.get_input(self._primary_sig().index, slot)))
        if kind == "output":
            return _scalar_if_0d(self._on_current(lambda cm: cm.get_output(self._primary_sig().index, slot)))
        preserved = self._preserved.get(int(tensor_index))
        if preserved is not None:
            return _scalar_if_0d(self._on_current(lambda cm: cm.get_output(self._primary_index, preserved)))
        source = self._dequantized.get((self._model.main_subgraph, int(tensor_index)))
        if source is not None:
            return _scalar_if_0d(self._dequantize_constant(source, self._model.main_subgraph))
        const = self._model.constant(int(tensor_index), self._model.main_subgraph)
        if const is None:
            raise UnsupportedError(
                f"tensor {tensor_index} is an intermediate tensor; the LiteRT runtime does not expose intermediate "
                "tensors (only inputs, outputs and constants can be read) unless the Interpreter is created with "
                "experimental_preserve_all_tensors=True"
            )
        return _scalar_if_0d(const)

    def _dequantize_constant(self, t: int, sgi: int) -> np.ndarray:
        """DEQUANTIZE of constant ``t``, as the kernel computes it: float16 widened, or (q - zero point) * scale."""
        value = self._model.constant(t, sgi)
        spec = self._model.subgraphs[sgi].tensors[t]
        q = spec.quantization
        if q is None or value.dtype.kind == "f":
            return value.astype(np.float32)
        shape = [1] * value.ndim
        if value.ndim and len(q.scales) > 1:
            shape[q.quantized_dimension] = len(q.scales)
        scales, zps = q.scales.reshape(shape), q.zero_points.reshape(shape)
        return ((value.astype(np.int64) - zps).astype(np.float32) * scales).astype(np.float32)

    def _get_subgraph_tensor(self, tensor_index: int, subgraph_index: int) -> np.ndarray:
        """An input or output of a signature of subgraph ``subgraph_index``, or a constant of that subgraph."""
        try:
            sgi = self._check_subgraph(subgraph_index)
        except InvalidArgumentError as e:  # (UnsupportedError, as before subgraphs other than the main one were read)
            raise UnsupportedError(f"{e.message} Tensors of the main subgraph and of signature subgraphs can be read"
                                   ) from None
        if isinstance(tensor_index, bool) or not isinstance(tensor_index, (int, np.integer)):
            raise InvalidArgumentError(f"tensor index must be an int, got {type(tensor_index).__name__}")
        t = int(tensor_index)
        for sig in self._model.signatures:
            if sig.subgraph != sgi:
                continue
            for j, (_, spec) in enumerate(sig.inputs):
                if spec.index == t:
                    return self._compiled().get_input(sig.index, j)  # type: ignore[no-any-return]
            for j, (_, spec) in enumerate(sig.outputs):
                if spec.index == t:
                    return self._compiled().get_output(sig.index, j)  # type: ignore[no-any-return]
        if t not in self._model.subgraphs[sgi].tensors:
            raise InvalidArgumentError(f"tensor index {t} is not a tensor of subgraph {sgi}")
        at = self._preserved_at.get((sgi, t))
        if at is not None:  # experimental_preserve_all_tensors
            return self._compiled().get_output(*at)  # type: ignore[no-any-return]
        const = self._model.constant(t, sgi)
        if const is None:
            raise UnsupportedError(
                f"tensor {t} of subgraph {sgi} is not a signature input/output or a constant; the LiteRT runtime does "
                "not expose other tensors"
            )
        return const

    def tensor(self, tensor_index: int) -> Callable[[], np.ndarray]:
        """A function returning a numpy view of an input or output buffer (no copy; valid until a resize).

        As in tflite_runtime, hold the function, not the arrays: while an array it returned (or a slice of one) is
        alive, allocate_tensors(), invoke() and resize_tensor_input() raise :class:`~litert_sdk.InvalidStateError`."""
        kind, slot = self._locate(tensor_index)
        if kind not in ("input", "output"):
            raise UnsupportedError(f"tensor {tensor_index} is neither an input nor an output; no view is available")
        sig_index = self._primary_sig().index
        self._views_issued = True
        self.__dict__.pop("invoke", None)  # the Python invoke checks for live views

        def view() -> np.ndarray:  # (refers to the token only through the arrays it returns)
            arr = self._on_current(
                lambda cm: cm.input_view(sig_index, slot) if kind == "input" else cm.output_view(sig_index, slot)
            )
            return np.asarray(_BufferView(arr, self._view_token))

        return view

    def resize_tensor_input(self, input_index: int, tensor_size: Sequence[int], strict: bool = False) -> None:
        """Resize an input; with ``strict`` only dynamic (-1) dimensions may change."""
        with self._lock:
            if self._closed:
                raise ClosedError("the interpreter is closed")
            self._ensure_safe()
            kind, slot = self._locate(input_index)
            if kind != "input":
                raise InvalidArgumentError(f"tensor {input_index} is not an input of the model")
            sig = self._primary_sig()
            dims = _as_shape(tensor_size)
            _check_size(dims, sig.inputs[slot][1], sig.inputs[slot][1].name)
            if strict:
                signature = sig.inputs[slot][1].shape or ()
                if len(signature) != len(dims) or any(s >= 0 and s != d for s, d in zip(signature, dims, strict=False)):
                    raise InvalidArgumentError(
                        f"cannot resize input {sig.inputs[slot][1].name!r} to {dims} strictly: its shape signature is "
                        f"{list(signature)} (only -1 dimensions may change)"
                    )
            if self._current_shape(sig, slot, False) != dims:  # as tflite_runtime: allocate_tensors() again
                self._ready = False
                self.__dict__.pop("invoke", None)
            if self._cm is not None:
                self._cm.resize_input(sig.index, slot, dims, False)
            self._resized[(sig.index, slot)] = dims

        # -- running -----------------------------------------------------------------------------------------------
    def invoke(self) -> None:
        """Run the model on the current input tensors.

        As in tflite_runtime, :meth:`allocate_tensors` must have been called (and again after a resize that changed a
        shape), and no numpy array from :meth:`tensor` may be alive: else :class:`~litert_sdk.InvalidStateError`."""
        if self._closed:
            raise ClosedError("the interpreter is closed")
        if not self._ready:
            raise InvalidStateError(
                "Invoke called on model that is not ready. (call allocate_tensors() before invoke(), and again after "
                "resize_tensor_input() changed a shape)"
            )
        self._ensure_safe()
        if self._primary is None:
            self._primary_sig()  # raises
        self._on_current(lambda cm: cm.invoke(self._primary_index))

    def _on_current(self, call: Callable[[Any], Any]) -> Any:
        """``call(compiled model)`` on the interpreter's current compiled model. reset_all_variables() replaces it
        (from any thread) and closes the old one; a call that met the old one closed runs again on the new one, so
        concurrent invoke() and reset_all_variables() never raise ClosedError while the interpreter is open."""
        while True:
            cm = self._compiled()
            try:
                return call(cm)
            except ClosedError:
                if self._closed or self._cm is cm or not cm.closed:
                    raise

    @property
    def last_inference_duration_us(self) -> float:
        """Wall time of the runtime's last run (invoke, run or a signature runner) in microseconds."""
        cm = self._cm
        return float(cm.last_run_us) if cm is not None else self._last_duration_us

    def run(self, input: Any, output: np.ndarray | None = None) -> np.ndarray:  # noqa: A002 - flutter_litert name
        """Single input -> single output convenience: sets input 0, invokes, returns (or fills) output 0."""
        outs = self.run_for_multiple_inputs([input], None if output is None else {0: output})
        return outs[0]

    def run_for_multiple_inputs(
        self, inputs: Sequence[Any], outputs: Mapping[int, np.ndarray] | None = None
    ) -> dict[int, np.ndarray]:
        """Set inputs (model input order), resizing them when their shape differs, invoke, return outputs by position.

        Arrays given in ``outputs`` (position -> array) are filled in place and also returned.
        """
        with self._lock:
            sig = self._primary_sig()
            if len(inputs) != len(self._in_slots):
                raise InvalidArgumentError(f"the model takes {len(self._in_slots)} input(s), got {len(inputs)}")
            cm = self._compiled()
            arrays = []
            for value, slot in zip(inputs, self._in_slots, strict=False):
                spec = sig.inputs[slot][1]
                arr = _as_array(value, spec.name, spec)
                if list(arr.shape) != list(cm.input_shape(sig.index, slot)):
                    cm.resize_input(sig.index, slot, list(arr.shape), False)
                    self._resized[(sig.index, slot)] = list(arr.shape)
                arrays.append((slot, arr))
            for slot, arr in arrays:
                cm.set_input(sig.index, slot, arr)
            cm.invoke(sig.index)  # flutter_litert's run() needs no allocate_tensors()
            result: dict[int, np.ndarray] = {}
            for pos, slot in enumerate(self._out_slots):
                value = cm.get_output(sig.index, slot)
                if outputs is not None and pos in outputs:
                    target = outputs[pos]
                    if not isinstance(target, np.ndarray) or not target.flags.writeable:
                        raise InvalidArgumentError(f"output {pos}: a writable numpy array is needed to receive it")
                    if target.shape != value.shape:
                        raise InvalidArgumentError(
                            f"output {pos} has shape {value.shape}, the array given for it has {target.shape}"
                        )
                    np.copyto(target, value, casting="same_kind")
                    value = target
                result[pos] = value
            return result

        # -- signatures ------------------------------------------------------------------------------------------
    def _user_signatures(self) -> list[SignatureSpec]:
        """The model's signatures sorted by key, as tflite_runtime lists them (its signature maps are sorted)."""
        return sorted((s for s in self._model.signatures if not s.is_default), key=lambda s: s.key)

    def get_signature_list(self) -> dict[str, dict[str, list[str]]]:
        """``{signature_key: {"inputs": [...], "outputs": [...]}}`` of the model's signatures; keys, input names and
        output names sorted, as tflite_runtime returns them."""
        return {s.key: {"inputs": sorted(s.input_names), "outputs": sorted(s.output_names)}
                for s in self._user_signatures()}

    def _get_full_signature_list(self) -> dict[str, dict[str, dict[str, int]]]:
        """``{signature_key: {"inputs": {name: tensor_index}, "outputs": {...}}}``, sorted by name like
        :meth:`get_signature_list` (tflite_runtime's private helper of the same name)."""
        return {
            s.key: {"inputs": {n: t.index for n, t in sorted(s.inputs, key=lambda it: it[0])},
                    "outputs": {n: t.index for n, t in sorted(s.outputs, key=lambda it: it[0])}}
            for s in self._user_signatures()
        }

    def get_signature_runner(self, signature_key: str | None = None) -> SignatureRunner:
        """A callable runner of one signature (by key; None when the model has exactly one)."""
        sigs = self._user_signatures()
        if signature_key is None:
            if len(sigs) != 1:
                raise InvalidArgumentError(
                    f"SignatureDef signature_key is None and model has {len(sigs)} Signatures. None is only allowed "
                    f"when the model has 1 SignatureDef (pass one of {[s.key for s in sigs]})"
                )
            return SignatureRunner(self, sigs[0])
        for s in sigs:
            if s.key == signature_key:
                return SignatureRunner(self, s)
        raise NotFoundError(
            f'Invalid signature_key provided: "{signature_key}". (no signature {signature_key!r}; available: '
            f"{[s.key for s in sigs]})"
        )

    # -- variables ---------------------------------------------------------------------------------------------
    def get_variable_tensor_count(self) -> int:
        """Number of resource variables (VAR_HANDLE ops) in the model."""
        from . import _variables

        return _variables.get_variable_tensor_count(self)

    def get_variable_tensor(self, i: int) -> dict[str, Any]:
        """Description of variable ``i``: name, shape, dtype and tensor indices, read from the model graph."""
        from . import _variables

        return _variables.get_variable_tensor(self, i)

    def reset_variable_tensors(self) -> None:
        """Restore every variable to its initial value (same as :meth:`reset_all_variables`)."""
        self.reset_all_variables()

    # -- state -----------------------------------------------------------------------------------------------
    def reset_all_variables(self) -> None:
        """Restore every variable (including resource variables) to its initial value.

        The runtime has no in-place reset, so the model is recompiled; input shapes and input contents are kept.
        """
        with self._lock:
            if self._closed:
                raise ClosedError("the interpreter is closed")
            if self._cm is None:
                return
            # ReentrantCallError from this model's own kernels, ClosedError if closed: before anything changes
            self._cm.check_usable()
            saved: dict[tuple[int, int], np.ndarray] = {}
            for s in self._model.signatures:
                for j in range(len(s.inputs)):
                    try:
                        saved[(s.index, j)] = self._cm.get_input(s.index, j)
                    except Exception:  # noqa: BLE001 - inputs without a concrete shape have nothing to keep
                        pass
            old = self._cm
            self._cm = None
            self._compiled()
            old.close()
            for (sig, j), arr in saved.items():
                try:
                    self._cm.set_input(sig, j, arr)
                except Exception:  # noqa: BLE001 - shape changed by the fresh compile: leave zeros
                    pass

    def close(self) -> None:
        """Release the runtime's resources now (otherwise done when the interpreter is garbage-collected).

        Never waits for a run in progress in another thread (e.g. a model stuck in an endless loop): the interpreter
        is closed at once and the runtime's objects are freed when that run returns. Raises
        :class:`~litert_sdk.ReentrantCallError` when called from a custom-op kernel of this model. In a fork child,
        an interpreter inherited from the parent is closed without touching the parent's runtime threads.
        """
        cm = self._cm
        if cm is not None:
            cm.close()  # native: never blocks; raises ReentrantCallError from this model's own kernels
        self._closed = True
        self._lock.mark_closed()  # callers waiting behind a run in progress get ClosedError
        latest = self._cm  # compiled by another thread meanwhile (_compiled() checks _closed after setting _cm)
        if latest is not None and latest is not cm:
            latest.close()
        self._drop_fast_path()
        self._cm = None  # later use raises ClosedError("the interpreter is closed")

    def __repr__(self) -> str:
        return f"Interpreter({self._model!r})"


def _is_scalar(spec: TensorSpec) -> bool:
    return spec.shape == ()


def _scalar_if_0d(value: Any) -> Any:
    """tflite_runtime returns 0-d numeric tensors as numpy scalars (0-d string tensors stay 0-d object arrays)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype != object:
        return value[()]
    return value


class _BufferView:
    """The base object of the numpy arrays that Interpreter.tensor() functions return: keeps the runtime buffer's
    array and the interpreter's view token alive, so _safe_to_run() sees every array (and slice) still in use."""

    __slots__ = ("__array_interface__", "_array", "_token")

    def __init__(self, array: np.ndarray, token: object) -> None:
        self._array = array
        self._token = token
        self.__array_interface__ = array.__array_interface__


class SignatureRunner:
    """Runs one signature by input names: ``runner(x=..., y=...) -> {"out": ...}``.

    As in tflite_runtime: inputs and outputs are listed in name order, an input of another shape is resized first
    (any dimension, not only the dynamic ones), and 0-d numeric outputs are numpy scalars.
    """

    def __init__(self, interpreter: Interpreter, signature: SignatureSpec) -> None:
        self._interpreter = interpreter
        self._signature = signature
        self._input_order = sorted(range(len(signature.inputs)), key=lambda j: signature.inputs[j][0])
        self._output_order = sorted(range(len(signature.outputs)), key=lambda j: signature.outputs[j][0])

    @property
    def signature_key(self) -> str:
        return self._signature.key

    def __call__(self, **kwargs: Any) -> dict[str, np.ndarray]:
        sig = self._signature
        names = sig.input_names
        unknown = [k for k in kwargs if k not in names]
        missing = [n for n in names if n not in kwargs]
        if unknown or missing:  # upstream's texts (it checks the count first), then the SDK's detail
            parts = [f"unknown input(s) {unknown}"] if unknown else []
            parts += [f"missing input(s) {missing}"] if missing else []
            detail = "; ".join(parts)
            if len(kwargs) != len(names):
                head = (f"Invalid number of inputs provided for running a SignatureDef, expected {len(names)} vs "
                        f"provided {len(kwargs)}")
            else:
                head = f"Invalid Input name ({unknown[0]}) for SignatureDef"
            raise InvalidArgumentError(f"{head}: {detail} for signature {sig.key!r}; inputs: {sorted(names)}")
        arrays = []
        for name, spec in sig.inputs:
            v = kwargs[name]
            arrays.append(_as_array(v, name, spec))
        with self._interpreter._lock:  # a concurrent reset_all_variables() must not close the model mid-call
            cm = self._interpreter._compiled()
            for slot, arr in enumerate(arrays):  # non-strict resize (any dimension), as tflite_runtime's runner
                shape = list(arr.shape) if isinstance(arr, np.ndarray) else list(arr[1])
                if shape != list(cm.input_shape(sig.index, slot)):
                    _check_size(shape, sig.inputs[slot][1], sig.inputs[slot][0])
                    cm.resize_input(sig.index, slot, shape, False)
                    self._interpreter._resized[(sig.index, slot)] = shape
            outs = cm.run(sig.index, arrays, True)
            if sig.index == self._interpreter._primary_index:  # as upstream, whose runner allocates its subgraph
                self._interpreter._mark_allocated()
        return {sig.outputs[j][0]: _scalar_if_0d(outs[j]) for j in self._output_order}

    def _current(self, slot: int, output: bool) -> list[int] | None:
        return self._interpreter._current_shape(self._signature, slot, output)

    def get_input_details(self) -> dict[str, dict[str, Any]]:
        ins = self._signature.inputs
        return {ins[j][0]: self._interpreter._io_details(self._signature, j, False) for j in self._input_order}

    def get_output_details(self) -> dict[str, dict[str, Any]]:
        outs = self._signature.outputs
        return {outs[j][0]: self._interpreter._io_details(self._signature, j, True) for j in self._output_order}

    def resize_input(self, input_name: str, new_shape: Sequence[int]) -> None:
        slot = self._signature.input_index(input_name)
        dims = _as_shape(new_shape)
        _check_size(dims, self._signature.inputs[slot][1], input_name)
        with self._interpreter._lock:
            self._interpreter._compiled().resize_input(self._signature.index, slot, dims, False)
            self._interpreter._resized[(self._signature.index, slot)] = dims

    def allocate_tensors(self) -> None:
        self._interpreter.allocate_tensors()


_REGISTERER_HELP = (
    "tflite_runtime calls such registerers with a C++ tflite::MutableOpResolver*, and the LiteRT runtime's C API has "
    "no op resolver to hand them, so C++ registerer functions cannot work here. Pass litert_sdk kernels instead: "
    "litert_sdk.python_op(name, fn) (a numpy kernel), litert_sdk.load_custom_op_library(path) or the path of such a "
    "library (C ABI: custom_ops/include/litert_sdk/custom_op_api.h)"
)


def _custom_ops_from_registerers(registerers: Any) -> list[Any]:
    """The SDK's custom-op kernels named by InterpreterWithCustomOps' ``custom_op_registerers``."""
    from .custom_ops import CustomOp, CustomOpLibrary, load_custom_op_library

    if registerers is None:
        return []
    if isinstance(registerers, (str, bytes, os.PathLike, CustomOp, CustomOpLibrary)) or not isinstance(
        registerers, (list, tuple)
    ):
        registerers = [registerers]
    ops: list[Any] = []
    for r in registerers:
        if isinstance(r, (CustomOp, CustomOpLibrary)):
            ops.append(r)
        elif isinstance(r, (list, tuple)):
            ops.extend(_custom_ops_from_registerers(r))
        elif isinstance(r, (str, os.PathLike)):
            path = os.fspath(r)
            if not os.path.isfile(path):
                raise UnsupportedError(
                    f"custom op registerer {path!r} is neither a litert_sdk custom-op library file nor usable as a "
                    f"registerer symbol name: {_REGISTERER_HELP}"
                )
            ops.append(load_custom_op_library(path))
        elif callable(r):
            raise UnsupportedError(
                f"custom op registerer {getattr(r, '__name__', r)!r} is a registerer function: {_REGISTERER_HELP}"
            )
        else:
            raise InvalidArgumentError(
                f"custom_op_registerers items must be litert_sdk CustomOp / CustomOpLibrary objects or library paths, "
                f"got {type(r).__name__}"
            )
    return ops


class InterpreterWithCustomOps(Interpreter):
    """tflite_runtime's ``InterpreterWithCustomOps``: an :class:`Interpreter` with custom-op kernels.

    ``custom_op_registerers`` takes the SDK's kernels: :func:`litert_sdk.python_op` objects, libraries from
    :func:`litert_sdk.load_custom_op_library`, or paths of such libraries. tflite_runtime's registerers (C++ function
    symbol names, or functions called with a ``tflite::MutableOpResolver*``) raise
    :class:`~litert_sdk.UnsupportedError`: the runtime's C API has no op resolver to register them into. Other
    keyword arguments are :class:`Interpreter`'s.
    """

    def __init__(self, custom_op_registerers: Any = None, **kwargs: Any) -> None:
        ops = _custom_ops_from_registerers(custom_op_registerers)
        super().__init__(**kwargs)
        if ops:  # (compilation is lazy: nothing has used the options yet)
            base = self._options
            assert isinstance(base, Options)  # (InterpreterOptions were converted by Interpreter.__init__)
            self._options = self._effective_options = base.with_custom_ops(*ops)
