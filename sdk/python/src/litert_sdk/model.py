"""Loaded models and their static description (signatures, tensors, ops)."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import _runtime
from ._lazy import np
from ._pickling import Unpicklable, reload_hint
from ._types import element_type_name, numpy_dtype
from .errors import InvalidArgumentError, LiteRtError, ModelError, NotFoundError, UnsupportedError

__all__ = ["Model", "TensorSpec", "SignatureSpec", "OpSpec", "SubgraphSpec", "Quantization"]

# Placeholder key the runtime gives the signature it synthesises for models that define none.
DEFAULT_SIGNATURE_KEY = "<placeholder signature>"


@dataclass(frozen=True)
class Quantization:
    """Affine quantization parameters: real = scale * (q - zero_point), per tensor or along ``quantized_dimension``."""

    scales: np.ndarray
    zero_points: np.ndarray
    quantized_dimension: int = 0

    @property
    def per_tensor(self) -> tuple[float, int]:
        """(scale, zero_point) of a per-tensor quantization, ``(0.0, 0)`` when per-channel (tflite convention)."""
        if self.scales.size == 1:
            return float(self.scales[0]), int(self.zero_points[0])
        return 0.0, 0


@dataclass(frozen=True)
class TensorSpec:
    """Static description of a tensor in the model graph.

    ``shape`` is the shape signature from the model, with ``-1`` for dynamic dimensions (None when unranked).
    """

    name: str
    index: int
    element_type: int
    shape: tuple[int, ...] | None
    quantization: Quantization | None = None

    @property
    def dtype(self) -> np.dtype | None:
        t = numpy_dtype(self.element_type)
        return None if t is None else np.dtype(t)

    @property
    def type_name(self) -> str:
        return element_type_name(self.element_type)

    @property
    def is_dynamic(self) -> bool:
        return self.shape is None or any(d < 0 for d in self.shape)

    @staticmethod
    def _from_native(d: dict[str, Any], signatures: dict[int, tuple[int, ...]] | None = None) -> TensorSpec:
        """From the runtime's description; ``signatures`` (tensor index -> shape signature) replaces the static
        shape where the model stores one of the same rank."""
        q = d.get("quantization")
        quant = None
        if q is not None:
            scales, zps, dim = q
            quant = Quantization(np.asarray(scales, np.float32), np.asarray(zps, np.int64), int(dim))
        index = int(d["index"])
        shape = None if d["shape"] is None else tuple(int(x) for x in d["shape"])
        if signatures is not None and shape is not None:
            sig = signatures.get(index)
            if sig is not None and len(sig) == len(shape):
                shape = sig
        return TensorSpec(str(d["name"]), index, int(d["element_type"]), shape, quant)


@dataclass(frozen=True)
class SignatureSpec:
    """A model signature: named inputs and outputs (in the runtime's order) of one subgraph."""

    key: str
    index: int
    subgraph: int
    inputs: tuple[tuple[str, TensorSpec], ...]
    outputs: tuple[tuple[str, TensorSpec], ...]

    @property
    def input_names(self) -> list[str]:
        return [n for n, _ in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [n for n, _ in self.outputs]

    def check_input_names(self, given: Iterable[str]) -> None:
        """InvalidArgumentError unless ``given`` names exactly this signature's inputs."""
        names = self.input_names
        given = list(given)
        unknown = [k for k in given if k not in names]
        if unknown:
            raise InvalidArgumentError(f"unknown input(s) {unknown} for signature {self.key!r}; inputs: {names}")
        missing = [n for n in names if n not in given]
        if missing:
            raise InvalidArgumentError(f"missing input(s) {missing} for signature {self.key!r}")

    @property
    def is_default(self) -> bool:
        """True for the signature the runtime synthesises for models that define none."""
        return self.key == DEFAULT_SIGNATURE_KEY

    def input_index(self, name: str) -> int:
        for i, (n, _) in enumerate(self.inputs):
            if n == name:
                return i
        raise NotFoundError(f"signature {self.key!r} has no input {name!r}; inputs: {self.input_names}")

    def output_index(self, name: str) -> int:
        for i, (n, _) in enumerate(self.outputs):
            if n == name:
                return i
        raise NotFoundError(f"signature {self.key!r} has no output {name!r}; outputs: {self.output_names}")


@dataclass(frozen=True)
class OpSpec:
    opcode: int
    custom_code: str | None
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    custom_options: bytes | None = None


@dataclass(frozen=True)
class SubgraphSpec:
    index: int
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    ops: tuple[OpSpec, ...]
    tensors: dict[int, TensorSpec] = field(repr=False)


_CUSTOM_OPCODE = 32  # _rewrite.CUSTOM_OPCODE (not imported here: model loading does not need the rewriter)


def _load_failure(content: bytes, error: LiteRtError) -> LiteRtError:
    """The runtime's refusal to load a verified model, explained where the SDK knows the cause."""
    from ._rewrite import variable_tensors
    from ._schema import op_name

    try:
        variables = variable_tensors(content)
    except (ValueError, IndexError, struct.error):  # (RewriteError is a ValueError) parts the verifier does not read
        return error
    if not variables:
        return error
    sg, index, name, code = variables[0]
    user = f" (state of {op_name(code)})" if code is not None else ""
    more = f" and {len(variables) - 1} more" if len(variables) > 1 else ""
    return UnsupportedError(
        f"tensor {index} {name!r} of subgraph {sg}{user}{more} is a TFLite variable tensor: libLiteRt refuses "
        "variable tensors (\"Variable tensors not yet supported\"), so this model cannot run on it. Convert the "
        "model without fused stateful kernels (e.g. a Keras 3 LSTM/GRU, whose state the converter keeps in resource "
        f"variables, which the SDK runs). Runtime said: {error}")


def _custom_codes_missing(d: dict[str, Any]) -> bool:
    return any(op["opcode"] == _CUSTOM_OPCODE and op["custom_code"] is None
               for sg in d["subgraphs"] for op in sg["ops"])


def _fill_custom_ops(d: dict[str, Any], content: bytes) -> None:
    """Custom codes and options from the flatbuffer (the custom-op rewriter's analysis), where the runtime cannot
    report them (libLiteRt.dll 2.3.0 does not export LiteRtGetCustomCode / LiteRtGetCustomOptions). When the file
    cannot be analysed, the codes stay unknown and compiling reports the unresolved ops."""
    from ._rewrite import RewriteError, analyze

    try:
        nodes = analyze(content).nodes
    except RewriteError:
        return
    subgraphs = d["subgraphs"]
    for n in nodes:
        if n.subgraph < len(subgraphs) and n.index < len(subgraphs[n.subgraph]["ops"]):
            op = subgraphs[n.subgraph]["ops"][n.index]
            if op["opcode"] == _CUSTOM_OPCODE and op["custom_code"] is None:
                op["custom_code"] = n.name
                op["custom_options"] = n.options


def _check_environment(environment: Any) -> _runtime.Environment:
    """``environment``, or the shared default one for None; InvalidArgumentError for anything else."""
    if environment is None:
        return _runtime.default_environment()
    if not isinstance(environment, _runtime.Environment):
        raise InvalidArgumentError(
            f"environment must be a litert_sdk.Environment or None, got {type(environment).__name__} {environment!r}"
        )
    return environment


class Model(Unpicklable):
    """A TFLite model loaded by the runtime, with its signatures, subgraphs and metadata.

    Create with :meth:`from_file` or :meth:`from_buffer`; compile it with :class:`litert_sdk.CompiledModel`.
    """

    def __init__(
        self,
        native_model: Any,
        environment: _runtime.Environment,
        path: str | None,
        content: Any,
        shape_signatures: list[dict[int, tuple[int, ...]]] | None = None,
        memo: dict[str, Any] | None = None,
    ) -> None:
        """``memo``: facts kept with the verifier's verdict for these bytes (the description is taken from it when a
        model of the same bytes was loaded before, and left there otherwise)."""
        self._native = native_model
        self.environment = environment
        self._engine: Any = None  # see _shape_engine
        self._compiled_form: Model | None = None  # see _runtime_model
        self._compiled_form_known = False
        # Set by _runtime_model: output tensors whose shape only the run tells ({subgraph: {tensor}}; read back after
        # each run), and such outputs of a type the copy operator cannot take (refused at compile time).
        self._dynamic: dict[int, set[int]] = {}
        self._refused: list[tuple[Any, str, int, tuple[int, int]]] = []
        self.path = path
        self.size = len(content)
        # The model's bytes: ``bytes``, or a read-only view of the memory a file was read into (Model.from_file).
        self._content: bytes | Any = content
        # The runtime reports a tensor's static shape where the model stores a separate shape signature
        # (dynamic dims as -1); take the signatures from the flatbuffer itself.
        if shape_signatures is None:
            from ._flatbuffer import shape_signatures as read_signatures  # (models that skipped the verifier)

            shape_signatures = read_signatures(content)
        self._shape_signatures = shape_signatures or []
        self.subgraphs: tuple[SubgraphSpec, ...]
        self.main_subgraph: int
        self.signatures: tuple[SignatureSpec, ...]
        # Facts derived from the graph (see _fact): kept with the verdict, so models of the same bytes share them
        self._facts: dict[str, Any] = memo if memo is not None else {}
        described = None if memo is None else memo.get("description")
        if described is not None:  # (the specs are frozen: models of the same bytes share them)
            self.subgraphs, self.main_subgraph, self.signatures = described
            return
        self._describe(native_model, content)
        if memo is not None:
            memo["description"] = (self.subgraphs, self.main_subgraph, self.signatures)

    def _describe(self, native_model: Any, content: Any) -> None:
        d = native_model.describe()
        if _custom_codes_missing(d):
            _fill_custom_ops(d, content if isinstance(content, bytes) else bytes(content))
        self.subgraphs = tuple(
            SubgraphSpec(
                i,
                str(sg["name"]),
                tuple(int(t) for t in sg["inputs"]),
                tuple(int(t) for t in sg["outputs"]),
                tuple(
                    OpSpec(
                        int(op["opcode"]),
                        None if op["custom_code"] is None else str(op["custom_code"]),
                        tuple(int(t) for t in op["inputs"]),
                        tuple(int(t) for t in op["outputs"]),
                        None if op["custom_options"] is None else bytes(op["custom_options"]),
                    )
                    for op in sg["ops"]
                ),
                {int(k): self._spec(v, i) for k, v in sg["tensors"].items()},
            )
            for i, sg in enumerate(d["subgraphs"])
        )
        self.main_subgraph = int(d["main_subgraph"])
        self.signatures = tuple(
            SignatureSpec(
                str(s["key"]),
                i,
                int(s["subgraph"]),
                tuple((str(n), self._spec(t, int(s["subgraph"]))) for n, t in s["inputs"]),
                tuple((str(n), self._spec(t, int(s["subgraph"]))) for n, t in s["outputs"]),
            )
            for i, s in enumerate(d["signatures"])
        )

    def _spec(self, d: dict[str, Any], subgraph: int) -> TensorSpec:
        sigs = self._shape_signatures[subgraph] if 0 <= subgraph < len(self._shape_signatures) else None
        return TensorSpec._from_native(d, sigs)

    def _reload_hint(self) -> str:
        return reload_hint("Model", self.path)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], environment: _runtime.Environment | None = None) -> Model:
        env = _check_environment(environment)
        if not isinstance(path, (str, os.PathLike)):
            raise ModelError(f"model path must be a str or os.PathLike, got {type(path).__name__}")
        from ._model_files import read_model
        from ._verifier import verify_for_runtime

        p = os.fspath(path)
        if not isinstance(p, str):
            p = os.fsdecode(p)
        # The file is read once, straight into aligned memory the runtime then loads from: the runtime sees exactly
        # the bytes verified (a file changed after the check cannot slip through), and nothing is copied; an
        # unchanged file loaded again reuses that memory (_model_files). The path is checked with os.stat first:
        # ModelError for a missing path, a directory, or a FIFO / device / socket, which are never opened.
        native = _runtime.native()
        holder, view = read_model(p, native)
        memo: list[dict[str, Any]] = []
        fixed, sigs = verify_for_runtime(view, memo, immutable=True)  # the runtime only sees verified models
        try:
            if fixed is None:
                native_model = native.Model.from_model_bytes(env._native, holder)
            else:  # with the computed shapes of tensors whose declared shape differs
                native_model = native.Model.from_buffer(env._native, fixed)
        except LiteRtError as e:
            raise _load_failure(bytes(view) if fixed is None else fixed, e) from None
        return cls(native_model, env, p, view if fixed is None else fixed, sigs, memo[0])

    @classmethod
    def from_buffer(cls, data: bytes | bytearray | memoryview,
                    environment: _runtime.Environment | None = None) -> Model:
        env = _check_environment(environment)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ModelError(f"model content must be bytes-like, got {type(data).__name__}")
        raw = bytes(data)
        if len(raw) < 8:
            raise ModelError(f"model content is too short to be a TFLite model ({len(raw)} bytes)")
        from ._verifier import verify_for_runtime

        memo: list[dict[str, Any]] = []
        fixed, sigs = verify_for_runtime(raw, memo)  # the runtime only sees verified models
        raw = raw if fixed is None else fixed  # (with the computed shapes of tensors whose declared shape differs)
        try:
            native_model = _runtime.native().Model.from_buffer(env._native, raw)
        except LiteRtError as e:
            raise _load_failure(raw, e) from None
        return cls(native_model, env, None, raw, sigs, memo[0])

    # -- signatures -------------------------------------------------------------------------------------------
    @property
    def signature_keys(self) -> list[str]:
        return [s.key for s in self.signatures]

    def signature(self, key: str | int | None = None) -> SignatureSpec:
        """A signature by key or index; None gives the first one."""
        if not self.signatures:
            raise NotFoundError("the model has no signatures")
        if key is None:
            return self.signatures[0]
        if isinstance(key, int):
            if not 0 <= key < len(self.signatures):
                raise NotFoundError(f"signature index {key} out of range (model has {len(self.signatures)})")
            return self.signatures[key]
        for s in self.signatures:
            if s.key == key:
                return s
        raise NotFoundError(f"no signature {key!r}; available: {self.signature_keys}")

    # -- graph ---------------------------------------------------------------------------------------------------
    def content(self) -> bytes:
        """The model's flatbuffer bytes: those the runtime loaded (for a file, as read when it was loaded)."""
        if isinstance(self._content, bytes):
            return self._content
        return bytes(self._content)  # (a copy of the file's bytes in the runtime's memory, made when asked)

    def _fact(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per model bytes: facts of the graph that every load of the same bytes shares."""
        try:
            return self._facts[name]
        except KeyError:
            value = self._facts[name] = compute()
            return value

    def has_shape_arithmetic(self) -> bool:
        """True when an operator turns tensor shapes into values (SHAPE, RANK, BROADCAST_ARGS): output shapes may
        then follow the inputs through shape arithmetic, which the SDK's shape engine follows (``_shapes``)."""
        from ._schema import SHAPE_SOURCE_OPS

        return bool(self._fact("shape_arithmetic", lambda: any(
            op.opcode in SHAPE_SOURCE_OPS for sg in self.subgraphs for op in sg.ops)))

    def needs_shape_engine(self) -> bool:
        """True when the runtime's own output layouts cannot be trusted after a resize: the model has shape arithmetic
        or an operator whose output the runtime reports with its declared shape (``_schema.DECLARED_LAYOUT_OPS``)."""
        from ._schema import DECLARED_LAYOUT_OPS

        return self.has_shape_arithmetic() or bool(self._fact("declared_layouts", lambda: any(
            op.opcode in DECLARED_LAYOUT_OPS for sg in self.subgraphs for op in sg.ops)))

    def may_have_value_dependent_shapes(self) -> bool:
        """True when an operator's output shape may depend on tensor values: WHERE, UNIQUE, NMS, ..., or an operator
        whose shape operand (RESHAPE's shape, RANGE's bounds, ...) is computed rather than constant. The compile then
        checks that no signature output does (``_shapes.value_dependent_outputs``). Reads only the graph."""
        return bool(self._fact("value_dependent", self._scan_value_dependent))

    def _scan_value_dependent(self) -> bool:
        from ._schema import RUNTIME_DYNAMIC_OPS, SHAPE_VALUE_OPERANDS, VALUE_DEPENDENT_OPS

        for sg in self.subgraphs:
            computed = set(sg.inputs)
            for op in sg.ops:
                if op.opcode in VALUE_DEPENDENT_OPS or op.opcode in RUNTIME_DYNAMIC_OPS:
                    return True
                positions = SHAPE_VALUE_OPERANDS.get(op.opcode, ())
                if any(k < len(op.inputs) and op.inputs[k] in computed for k in positions):
                    return True
                computed.update(op.outputs)
        return False

    def _shape_engine(self) -> Any:
        """The model's shape engine (``_shapes.ShapeEngine``), made on first use."""
        if self._engine is None:
            from ._shapes import ShapeEngine

            self._engine = ShapeEngine(self.content())
        return self._engine

    def _runtime_model(self) -> Model:
        """The model the runtime compiles: this one, or, where outputs are produced by operators with computed shape
        operands or have shapes only the run tells (which cannot take client buffers), a copy of it in which such
        outputs are written by a copy operator (``_rewrite.add_output_copies``). Tensor indices and signatures are the
        same in both. Also finds the outputs whose shape is read back after each run (``_dynamic_outputs``)."""
        if not self._compiled_form_known:
            self._compiled_form_known = True  # (a reference to itself would keep every model alive until a GC pass)
            if self.has_shape_arithmetic() or self.may_have_value_dependent_shapes():
                from ._rewrite import add_output_copies
                from ._shapes import COPYABLE_TYPES, dynamic_outputs, outputs_needing_copies

                engine = self._shape_engine()
                outputs: dict[int, list[int]] = {}
                for s in self.signatures:
                    outputs.setdefault(s.subgraph, []).extend(t.index for _, t in s.outputs)
                targets = outputs_needing_copies(engine, outputs)
                for s in self.signatures:
                    shapes = [tuple(max(d, 1) for d in t.shape or ()) for _, t in s.inputs]
                    found = dynamic_outputs(engine, s.subgraph, [t.index for _, t in s.inputs], shapes,
                                            [t.index for _, t in s.outputs])
                    types = engine._subgraphs[s.subgraph][0]
                    for name, t in s.outputs:
                        if t.index not in found:
                            continue
                        if types[t.index].scalar(1, "<b", 0) in COPYABLE_TYPES:
                            self._dynamic.setdefault(s.subgraph, set()).add(t.index)
                            if t.index not in targets.get(s.subgraph, []):
                                targets.setdefault(s.subgraph, []).append(t.index)
                        else:
                            self._refused.append((s, name, t.index, found[t.index]))
                if targets:
                    data = add_output_copies(self.content(), targets)
                    self._compiled_form = Model.from_buffer(data, self.environment)
        return self if self._compiled_form is None else self._compiled_form

    def custom_op_codes(self) -> list[str]:
        """Custom op codes used anywhere in the model (sorted, unique)."""
        return sorted({op.custom_code for sg in self.subgraphs for op in sg.ops if op.custom_code is not None})

    def metadata(self, key: str) -> bytes | None:
        """Metadata buffer stored in the model under ``key`` (e.g. ``"TFLITE_METADATA"``), or None."""
        out = self._native.metadata(key)
        return None if out is None else bytes(out)

    def constant(self, tensor_index: int, subgraph: int = 0) -> np.ndarray | None:
        """Constant data of a tensor as a numpy array, or None if it has none."""
        spec = self.subgraphs[subgraph].tensors.get(tensor_index)
        if spec is None or spec.dtype is None or spec.shape is None:
            return None
        raw = self._native.constant_bytes(subgraph, tensor_index)
        if raw is None:
            return None
        arr = np.frombuffer(raw, dtype=spec.dtype)
        if arr.size != int(np.prod(spec.shape, dtype=np.int64)):
            return None  # e.g. sparse or packed storage
        return arr.reshape(spec.shape).copy()

    def __repr__(self) -> str:
        where = self.path or f"<{self.size} bytes>"
        return f"Model({where!r}, signatures={self.signature_keys})"
