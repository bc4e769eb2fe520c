"""A drop-in replacement for ``tflite_runtime.interpreter`` / ``ai_edge_litert.interpreter``.

Existing programs keep working after changing the import::

    # from tflite_runtime.interpreter import Interpreter
    from litert_sdk.interpreter import Interpreter

The classic API is implemented on the runtime's CompiledModel API: tensors are addressed by their real model tensor
indices; inputs, outputs and constant tensors can be read. Intermediate tensors are not exposed by the runtime's
C API (there is no ``experimental_preserve_all_tensors`` equivalent).
"""

from __future__ import annotations

import contextlib
import enum
import os
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ._lazy import np

from . import _fork, _runtime
from ._pickling import Unpicklable, reload_hint
from ._types import detail_dtype
from .compiled_model import _as_array, _as_shape, _check_size, _compile
from .delegates import InterpreterOptions
from .errors import ClosedError, InvalidArgumentError, NotFoundError, UnsupportedError
from .model import Model, SignatureSpec, TensorSpec
from .options import CpuOptions, Options

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
        }
    return q.per_tensor, {
        "scales": q.scales.astype(np.float32),
        "zero_points": q.zero_points.astype(np.int32),
        "quantized_dimension": int(q.quantized_dimension),
    }


def _details(spec: TensorSpec, shape: Sequence[int] | None, name: str | None = None) -> dict[str, Any]:
    """A tflite_runtime-compatible tensor details dict."""
    signature = spec.shape if spec.shape is not None else ()
    if shape is None:
        shape = [1 if d < 0 else d for d in signature]
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


class Interpreter(Unpicklable):
    """Runs a TFLite model with the classic ``tf.lite.Interpreter`` API on the official LiteRT runtime.

    Args:
        model_path: path of a ``.tflite`` file.
        model_content: the model's bytes (instead of ``model_path``).
        experimental_delegates: delegate objects from :mod:`litert_sdk.delegates` (external plugins unsupported).
        num_threads: CPU threads; None uses :func:`litert_sdk.default_num_threads` (not the runtime's single thread).
        experimental_op_resolver_type: :class:`OpResolverType`; BUILTIN_REF and BUILTIN_WITHOUT_DEFAULT_DELEGATES
            select the reference / builtin kernels instead of XNNPACK.
        options: full :class:`~litert_sdk.Options`, or flutter_litert-style
            :class:`~litert_sdk.delegates.InterpreterOptions` (overrides ``num_threads`` and the resolver type).
        environment: the :class:`~litert_sdk.Environment` to use (default: the shared one).

    Other ``experimental_*`` keyword arguments of tflite_runtime are accepted and ignored where the runtime has no
    equivalent (``experimental_preserve_all_tensors=True`` raises, since intermediates cannot be read).
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
        unknown = [k for k in experimental if not k.startswith("experimental_")]
        if unknown:
            raise TypeError(f"Interpreter() got unexpected keyword argument(s) {unknown}")
        if experimental_preserve_all_tensors:
            raise UnsupportedError(
                "experimental_preserve_all_tensors is not available: the LiteRT runtime does not expose "
                "intermediate tensors"
            )
        if (model_path is None) == (model_content is None):
            raise InvalidArgumentError("give exactly one of model_path and model_content")
        if num_threads is not None and (not isinstance(num_threads, int) or (num_threads < 1 and num_threads != -1)):
            raise InvalidArgumentError(f"num_threads must be a positive int or -1, got {num_threads!r}")
        if model_path is not None:
            self._model = Model.from_file(model_path, environment)
        else:
            self._model = Model.from_buffer(model_content, environment)  # type: ignore[arg-type]
        if isinstance(options, InterpreterOptions):
            options = options.to_options()
        elif options is not None and not isinstance(options, Options):
            raise InvalidArgumentError(
                f"options must be a litert_sdk.Options, a litert_sdk.delegates.InterpreterOptions or None, got "
                f"{type(options).__name__} {options!r}"
            )
        if options is None:
            if not isinstance(experimental_op_resolver_type, OpResolverType):
                raise InvalidArgumentError(
                    f"experimental_op_resolver_type must be an OpResolverType, got {experimental_op_resolver_type!r}"
                )
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

    def _reload_hint(self) -> str:
        if self._model.path is not None:
            return f"pass the path {self._model.path!r} instead and create Interpreter(model_path=...) there"
        return "pass the model's bytes instead and create Interpreter(model_content=...) there"

    # -- construction conveniences (flutter_litert names) -------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> "Interpreter":
        return cls(model_path=path, **kwargs)

    @classmethod
    def from_buffer(cls, data: bytes | bytearray | memoryview, **kwargs: Any) -> "Interpreter":
        return cls(model_content=data, **kwargs)

    # -- compilation ---------------------------------------------------------------------------------------------
    def _compiled(self) -> Any:
        cm = self._cm
        if cm is not None:
            return cm
        with self._lock:
            if self._cm is None:
                if getattr(self, "_closed", False):
                    raise ClosedError("the interpreter is closed")
                cm, self._effective_options, self.fallback_reason = _compile(self._model, self._options)
                for (sig, slot), shape in self._resized.items():
                    cm.resize_input(sig, slot, shape, False)
                self._cm = cm
                self._install_fast_path(cm)
                if getattr(self, "_closed", False):  # close() ran during the compile (it takes no lock)
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
        names = [n for n in self._FAST_METHODS if getattr(cls, n) is getattr(Interpreter, n)]
        if not names:
            return
        run_slots = [self._in_slots[0], self._out_slots[0]] if len(self._in_slots) == 1 and self._out_slots else []
        fast = _runtime.native().InterpreterFastPath(
            cm,
            self._primary_index,
            list(self._input_by_tensor.items()),
            list(self._output_by_tensor.items()),
            run_slots,
            np.ndarray,
            weakref.ref(self),
            Interpreter,
        )
        for name in names:
            self.__dict__[name] = getattr(fast, name)

    def _drop_fast_path(self) -> None:
        if self._cm is not None:
            self._last_duration_us = self._cm.last_run_us
        for name in self._FAST_METHODS:
            self.__dict__.pop(name, None)

    @contextlib.contextmanager
    def locked(self) -> Iterator["Interpreter"]:
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
        """Compile the model (first call) and allocate buffers for the current input shapes."""
        with self._lock:
            cm = self._compiled()
            if self._primary is not None:
                cm.prepare(self._primary.index)

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
        return [_details(sig.inputs[j][1], self._current_shape(sig, j, False)) for j in self._in_slots]

    def get_output_details(self) -> list[dict[str, Any]]:
        """Details of the model's outputs, in the model's output order (tflite_runtime format)."""
        if self._primary is None:
            return []
        sig = self._primary
        return [_details(sig.outputs[j][1], self._current_shape(sig, j, True)) for j in self._out_slots]

    def get_tensor_details(self) -> list[dict[str, Any]]:
        """Details of every tensor of the main subgraph known to the runtime, sorted by index."""
        sg = self._model.subgraphs[self._model.main_subgraph]
        out = []
        for idx in sorted(sg.tensors):
            spec = sg.tensors[idx]
            shape = None
            if idx in self._input_by_tensor and self._primary is not None:
                shape = self._current_shape(self._primary, self._input_by_tensor[idx], False)
            elif idx in self._output_by_tensor and self._primary is not None:
                shape = self._current_shape(self._primary, self._output_by_tensor[idx], True)
            out.append(_details(spec, shape))
        return out

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
        self._on_current(lambda cm: cm.set_input(sig.index, slot, value))

    def get_tensor(self, tensor_index: int, subgraph_index: int = 0) -> np.ndarray:
        """A copy of an input, output or constant tensor."""
        cm = self._cm
        if cm is not None and subgraph_index == 0 and type(tensor_index) is int:  # hot path
            slot = self._output_by_tensor.get(tensor_index)
            if slot is not None:
                try:
                    return cm.get_output(self._primary_index, slot)  # type: ignore[no-any-return]
                except ClosedError:  # replaced by reset_all_variables() meanwhile: the general path below
                    if not cm.closed:
                        raise
        if subgraph_index != 0:
            raise UnsupportedError("only tensors of the main subgraph (subgraph_index=0) can be read")
        kind, slot = self._locate(tensor_index)
        if kind == "input":
            return self._on_current(lambda cm: cm.get_input(self._primary_sig().index, slot))  # type: ignore[no-any-return]
        if kind == "output":
            return self._on_current(lambda cm: cm.get_output(self._primary_sig().index, slot))  # type: ignore[no-any-return]
        const = self._model.constant(int(tensor_index), self._model.main_subgraph)
        if const is None:
            raise UnsupportedError(
                f"tensor {tensor_index} is an intermediate tensor; the LiteRT runtime does not expose intermediate "
                "tensors (only inputs, outputs and constants can be read)"
            )
        return const

    def tensor(self, tensor_index: int) -> Callable[[], np.ndarray]:
        """A function returning a numpy view of an input or output buffer (no copy; valid until a resize)."""
        kind, slot = self._locate(tensor_index)
        if kind not in ("input", "output"):
            raise UnsupportedError(f"tensor {tensor_index} is neither an input nor an output; no view is available")
        sig_index = self._primary_sig().index

        def view() -> np.ndarray:
            return self._on_current(  # type: ignore[no-any-return]
                lambda cm: cm.input_view(sig_index, slot) if kind == "input" else cm.output_view(sig_index, slot)
            )

        return view

    def resize_tensor_input(self, input_index: int, tensor_size: Sequence[int], strict: bool = False) -> None:
        """Resize an input; with ``strict`` only dynamic (-1) dimensions may change."""
        with self._lock:
            if getattr(self, "_closed", False):
                raise ClosedError("the interpreter is closed")
            kind, slot = self._locate(input_index)
            if kind != "input":
                raise InvalidArgumentError(f"tensor {input_index} is not an input of the model")
            sig = self._primary_sig()
            dims = _as_shape(tensor_size)
            _check_size(dims, sig.inputs[slot][1], sig.inputs[slot][1].name)
            if strict:
                signature = sig.inputs[slot][1].shape or ()
                if len(signature) != len(dims) or any(s >= 0 and s != d for s, d in zip(signature, dims)):
                    raise InvalidArgumentError(
                        f"cannot resize input {sig.inputs[slot][1].name!r} to {dims} strictly: its shape signature is "
                        f"{list(signature)} (only -1 dimensions may change)"
                    )
            if self._cm is not None:
                self._cm.resize_input(sig.index, slot, dims, False)
            self._resized[(sig.index, slot)] = dims

        # -- running -----------------------------------------------------------------------------------------------
    def invoke(self) -> None:
        """Run the model on the current input tensors."""
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
                if getattr(self, "_closed", False) or self._cm is cm or not cm.closed:
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
            for value, slot in zip(inputs, self._in_slots):
                spec = sig.inputs[slot][1]
                arr = _as_array(value, spec.name, spec)
                if list(arr.shape) != list(cm.input_shape(sig.index, slot)):
                    cm.resize_input(sig.index, slot, list(arr.shape), False)
                    self._resized[(sig.index, slot)] = list(arr.shape)
                arrays.append((slot, arr))
            for slot, arr in arrays:
                cm.set_input(sig.index, slot, arr)
            self.invoke()
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
        return [s for s in self._model.signatures if not s.is_default]

    def get_signature_list(self) -> dict[str, dict[str, list[str]]]:
        """``{signature_key: {"inputs": [...], "outputs": [...]}}`` of the model's signatures."""
        return {s.key: {"inputs": s.input_names, "outputs": s.output_names} for s in self._user_signatures()}

    def get_signature_runner(self, signature_key: str | None = None) -> "SignatureRunner":
        """A callable runner of one signature (by key; None when the model has exactly one)."""
        sigs = self._user_signatures()
        if signature_key is None:
            if len(sigs) != 1:
                raise InvalidArgumentError(
                    f"signature_key is None but the model has {len(sigs)} signatures; pass one of "
                    f"{[s.key for s in sigs]}"
                )
            return SignatureRunner(self, sigs[0])
        for s in sigs:
            if s.key == signature_key:
                return SignatureRunner(self, s)
        raise NotFoundError(f"no signature {signature_key!r}; available: {[s.key for s in sigs]}")

    # -- variables ---------------------------------------------------------------------------------------------
    def get_variable_tensor_count(self) -> int:
        """Number of resource variables (VAR_HANDLE ops) in the model."""
        from . import training

        return training.get_variable_tensor_count(self)

    def get_variable_tensor(self, i: int) -> dict[str, Any]:
        """Description of variable ``i``: name, shape, dtype and tensor indices, read from the model graph."""
        from . import training

        return training.get_variable_tensor(self, i)

    def reset_variable_tensors(self) -> None:
        """Restore every variable to its initial value (same as :meth:`reset_all_variables`)."""
        self.reset_all_variables()

    # -- state -----------------------------------------------------------------------------------------------
    def reset_all_variables(self) -> None:
        """Restore every variable (including resource variables) to its initial value.

        The runtime has no in-place reset, so the model is recompiled; input shapes and input contents are kept.
        """
        with self._lock:
            if getattr(self, "_closed", False):
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

    def __enter__(self) -> "Interpreter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Interpreter({self._model!r})"


class SignatureRunner:
    """Runs one signature by input names: ``runner(x=..., y=...) -> {"out": ...}``.

    Inputs are bound by name (the runtime's input order differs from the original function's argument order); an
    input whose shape differs from the current one is resized first.
    """

    def __init__(self, interpreter: Interpreter, signature: SignatureSpec) -> None:
        self._interpreter = interpreter
        self._signature = signature

    @property
    def signature_key(self) -> str:
        return self._signature.key

    def __call__(self, **kwargs: Any) -> dict[str, np.ndarray]:
        sig = self._signature
        names = sig.input_names
        unknown = [k for k in kwargs if k not in names]
        if unknown:
            raise InvalidArgumentError(f"unknown input(s) {unknown} for signature {sig.key!r}; inputs: {names}")
        missing = [n for n in names if n not in kwargs]
        if missing:
            raise InvalidArgumentError(f"missing input(s) {missing} for signature {sig.key!r}")
        arrays = []
        for name, spec in sig.inputs:
            v = kwargs[name]
            arrays.append(_as_array(v, name, spec))
        with self._interpreter._lock:  # a concurrent reset_all_variables() must not close the model mid-call
            cm = self._interpreter._compiled()
            outs = cm.run(sig.index, arrays, True)
        return dict(zip(sig.output_names, outs))

    def _current(self, slot: int, output: bool) -> list[int] | None:
        return self._interpreter._current_shape(self._signature, slot, output)

    def get_input_details(self) -> dict[str, dict[str, Any]]:
        return {n: _details(t, self._current(j, False)) for j, (n, t) in enumerate(self._signature.inputs)}

    def get_output_details(self) -> dict[str, dict[str, Any]]:
        return {n: _details(t, self._current(j, True)) for j, (n, t) in enumerate(self._signature.outputs)}

    def resize_input(self, input_name: str, new_shape: Sequence[int]) -> None:
        slot = self._signature.input_index(input_name)
        dims = _as_shape(new_shape)
        _check_size(dims, self._signature.inputs[slot][1], input_name)
        with self._interpreter._lock:
            self._interpreter._compiled().resize_input(self._signature.index, slot, dims, False)
            self._interpreter._resized[(self._signature.index, slot)] = dims

    def allocate_tensors(self) -> None:
        self._interpreter.allocate_tensors()


# tflite_runtime exports this name; custom-op registration goes through InterpreterOptions in litert_sdk.
InterpreterWithCustomOps = Interpreter
