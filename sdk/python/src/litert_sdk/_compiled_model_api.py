"""ai_edge_litert's CompiledModel API (signatures by index and key, TensorBuffers, ``run_by_index`` /
``run_by_name``), mixed into :class:`litert_sdk.CompiledModel` with upstream's names and semantics.

Runs bind the buffers' host memory directly (native ``run_host_buffers``: no copies). Where ai_edge_litert raises
``RuntimeError`` for a bad signature, name, index or buffer, these methods raise
:class:`~litert_sdk.errors.RuntimeArgumentError` (a ``RuntimeError`` and a ``ValueError``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._types import element_type_name
from .errors import ClosedError, InvalidArgumentError, RuntimeArgumentError, UnsupportedError
from .options import Accelerator, CpuOptions, Options
from .tensor_buffer import TensorBuffer

if TYPE_CHECKING:
    from . import _runtime
    from .model import Model, SignatureSpec

__all__ = ["UpstreamCompiledModelAPI", "resolve_options"]


def resolve_options(options: Any, hardware_accel: Any) -> Options | None:
    """The SDK options for ``from_file`` / ``from_buffer``: ``options`` (the SDK's :class:`Options`), or
    ai_edge_litert's ``hardware_accel`` shortcut (also accepted as the second positional argument), which compiles
    for exactly those accelerators with one CPU thread, as upstream (no silent CPU fallback)."""
    if isinstance(options, int) and not isinstance(options, bool):  # from_file(path, HardwareAccelerator.CPU)
        if hardware_accel is not None:
            raise InvalidArgumentError("Pass either options or hardware_accel, not both.")
        options, hardware_accel = None, options
    if hardware_accel is None:
        if options is not None and not isinstance(options, Options):
            raise InvalidArgumentError(f"options must be a litert_sdk.Options, got {type(options).__name__}")
        return options
    if options is not None:
        raise InvalidArgumentError("Pass either options or hardware_accel, not both.")
    if isinstance(hardware_accel, bool) or not isinstance(hardware_accel, int):
        raise InvalidArgumentError(f"hardware_accel must be a HardwareAccelerator, got {hardware_accel!r}")
    return Options(accelerators=Accelerator(int(hardware_accel)), cpu=CpuOptions(num_threads=1), gpu_fallback=False)


def _io_dict(spec: SignatureSpec) -> dict[str, list[str]]:
    return {"inputs": spec.input_names, "outputs": spec.output_names}


class UpstreamCompiledModelAPI:
    """ai_edge_litert's ``CompiledModel`` methods (mixed into :class:`litert_sdk.CompiledModel`)."""

    model: Model
    _native: Any

    if TYPE_CHECKING:
        def signature(self, signature: str | int | None = None) -> SignatureSpec: ...
        def resize_input(self, name: str | int, shape: Sequence[int], signature: str | int | None = None, *,
                         strict: bool = True) -> None: ...

    # -- signatures ------------------------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._native.closed:
            raise ClosedError("the compiled model is closed")

    def _upstream_signature(self, key: str | int) -> SignatureSpec:
        """The signature by key or index; ``RuntimeArgumentError`` when there is none (``ClosedError`` once
        closed)."""
        self._check_open()
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            raise RuntimeArgumentError(f"signature must be a key or an index, got {key!r}")
        sigs = self.model.signatures
        if isinstance(key, int):
            if not 0 <= key < len(sigs):
                raise RuntimeArgumentError(f"Signature index {key} is out of range ({len(sigs)} signatures)")
            return sigs[key]
        for s in sigs:
            if s.key == key:
                return s
        raise RuntimeArgumentError(f"Signature not found: {key}")

    @property
    def environment(self) -> _runtime.Environment:
        """The LiteRT environment the model was loaded in."""
        return self.model.environment

    def get_signature_list(self) -> dict[str, dict[str, list[str]]]:
        """``{key: {"inputs": [names], "outputs": [names]}}`` for every signature, in the model's order."""
        self._check_open()
        return {s.key: _io_dict(s) for s in self.model.signatures}

    def get_signature_by_index(self, index: int) -> dict[str, Any]:
        """``{"key": key, "inputs": [names], "outputs": [names]}`` of signature ``index``."""
        spec = self._upstream_signature(int(index))
        return {"key": spec.key, **_io_dict(spec)}

    def get_num_signatures(self) -> int:
        self._check_open()
        return len(self.model.signatures)

    def get_signature_index(self, key: str) -> int:
        """The index of signature ``key``, or -1 when the model has none of that name."""
        self._check_open()
        for s in self.model.signatures:
            if s.key == key:
                return s.index
        return -1

    def _tensor_details(self, signature_key: str, output: bool) -> dict[str, Any]:
        spec = self._upstream_signature(str(signature_key))
        out: dict[str, Any] = {}
        for i, (name, t) in enumerate(spec.outputs if output else spec.inputs):
            if output:  # RuntimeFailure when the outputs cannot be laid out for the current input shapes
                try:
                    self._native.host_buffer_bytes(spec.index, i, True)
                except (UnsupportedError, InvalidArgumentError):  # string or dynamic outputs still have details
                    pass
            shape = (self._native.output_shape if output else self._native.input_shape)(spec.index, i)
            out[name] = {"name": t.name, "index": t.index, "dtype": element_type_name(t.element_type),
                         "shape": [int(d) for d in shape]}
        return out

    def get_input_tensor_details(self, signature_key: str) -> dict[str, Any]:
        """``{input name: {"name", "index", "dtype", "shape"}}``; shapes are the current ones (after resizes)."""
        return self._tensor_details(signature_key, False)

    def get_output_tensor_details(self, signature_key: str) -> dict[str, Any]:
        """``{output name: {"name", "index", "dtype", "shape"}}``; shapes are the current ones (after resizes)."""
        return self._tensor_details(signature_key, True)

    # -- buffers ---------------------------------------------------------------------------------------------------
    def _io_position(self, spec: SignatureSpec, key: int | str, output: bool) -> int:
        names = spec.output_names if output else spec.input_names
        what = "Output" if output else "Input"
        if isinstance(key, str):
            if key not in names:
                raise RuntimeArgumentError(f"{what} tensor not found: {key} (signature {spec.key!r} has {names})")
            return names.index(key)
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < len(names):
            raise RuntimeArgumentError(f"{what} index {key!r} is out of range ({len(names)} {what.lower()}s)")
        return key

    def _buffer_bytes(self, spec: SignatureSpec, index: int, output: bool) -> int:
        try:
            return int(self._native.host_buffer_bytes(spec.index, index, output))
        except InvalidArgumentError as e:
            raise RuntimeArgumentError(str(e), e.status) from None

    def _requirements(self, signature_index: int, index: int, output: bool) -> dict[str, Any]:
        spec = self._upstream_signature(int(signature_index))
        i = self._io_position(spec, int(index), output)
        return {"buffer_size": self._buffer_bytes(spec, i, output), "supported_types": [1]}  # 1: host memory

    def get_input_buffer_requirements(self, input_index: int, signature_index: int = 0) -> dict[str, Any]:
        """``{"buffer_size": bytes, "supported_types": [1]}`` (1: host memory) at the input's current shape."""
        return self._requirements(signature_index, input_index, False)

    def get_output_buffer_requirements(self, output_index: int, signature_index: int = 0) -> dict[str, Any]:
        """``{"buffer_size": bytes, "supported_types": [1]}`` (1: host memory) at the output's current shape."""
        return self._requirements(signature_index, output_index, True)

    def _new_buffer(self, spec: SignatureSpec, index: int, output: bool) -> TensorBuffer:
        t = (spec.outputs if output else spec.inputs)[index][1]
        shape = (self._native.output_shape if output else self._native.input_shape)(spec.index, index)
        return TensorBuffer._allocate(element_type_name(t.element_type), shape, self._buffer_bytes(spec, index, output))

    def create_input_buffer_by_name(self, signature_key: str, input_name: str) -> TensorBuffer:
        spec = self._upstream_signature(str(signature_key))
        return self._new_buffer(spec, self._io_position(spec, str(input_name), False), False)

    def create_output_buffer_by_name(self, signature_key: str, output_name: str) -> TensorBuffer:
        spec = self._upstream_signature(str(signature_key))
        return self._new_buffer(spec, self._io_position(spec, str(output_name), True), True)

    def create_input_buffers(self, signature_index: int) -> list[TensorBuffer]:
        """New zeroed buffers for every input of the signature, at the inputs' current shapes."""
        spec = self._upstream_signature(int(signature_index))
        return [self._new_buffer(spec, i, False) for i in range(len(spec.inputs))]

    def create_output_buffers(self, signature_index: int) -> list[TensorBuffer]:
        """New zeroed buffers for every output of the signature, at the outputs' current shapes."""
        spec = self._upstream_signature(int(signature_index))
        return [self._new_buffer(spec, i, True) for i in range(len(spec.outputs))]

    # -- resizing --------------------------------------------------------------------------------------------------
    def resize_input_tensor(
        self, input_index: int, dims: Sequence[int], signature_index: int = 0, strict: bool = True
    ) -> None:
        """Resize an input; with ``strict`` only dimensions the model marks dynamic may change. Buffers created
        afterwards have the new shapes."""
        spec = self._upstream_signature(int(signature_index))
        index = self._io_position(spec, int(input_index), False)
        try:
            self.resize_input(index, list(dims), spec.index, strict=strict)
        except InvalidArgumentError as e:
            raise RuntimeArgumentError(str(e), e.status) from None

    def resize_input_tensor_by_name(
        self, signature_key: str, input_name: str, dims: Sequence[int], strict: bool = True
    ) -> None:
        spec = self._upstream_signature(str(signature_key))
        index = self._io_position(spec, str(input_name), False)
        self.resize_input_tensor(index, dims, spec.index, strict)

    # -- running ---------------------------------------------------------------------------------------------------
    def _run_plan(self, signature_index: int) -> tuple[SignatureSpec, tuple[str, ...], tuple[str, ...]]:
        """(signature, input dtype names, output dtype names), cached per index (signatures never change)."""
        plans: dict[int, Any] = self.__dict__.setdefault("_upstream_run_plans", {})
        plan = plans.get(signature_index)
        if plan is None:
            spec = self._upstream_signature(signature_index)
            plan = (spec, tuple(element_type_name(t.element_type) for _, t in spec.inputs),
                    tuple(element_type_name(t.element_type) for _, t in spec.outputs))
            plans[signature_index] = plan
        return plan

    @staticmethod
    def _bind(spec: SignatureSpec, buffers: Sequence[TensorBuffer], wanted: tuple[str, ...], output: bool) -> list[Any]:
        """The buffers' byte views for the native run, after checking each one's type and dtype."""
        views = []
        for i, (buf, want) in enumerate(zip(buffers, wanted, strict=False)):
            if type(buf) is not TensorBuffer and not isinstance(buf, TensorBuffer):
                name = (spec.outputs if output else spec.inputs)[i][0]
                raise RuntimeArgumentError(f"{'output' if output else 'input'} {i} ({name!r}) must be a TensorBuffer, "
                                           f"got {type(buf).__name__}")
            dtype, view = buf._bind(output)
            if dtype != want:
                name = (spec.outputs if output else spec.inputs)[i][0]
                raise RuntimeArgumentError(f"{'output' if output else 'input'} {name!r} is {want}, got a {dtype} "
                                           "TensorBuffer")
            views.append(view)
        return views

    def run_by_index(
        self, signature_index: int, input_buffers: Sequence[TensorBuffer], output_buffers: Sequence[TensorBuffer]
    ) -> None:
        """Run signature ``signature_index``: inputs are read from ``input_buffers`` and outputs written into
        ``output_buffers`` (signature order, no copies). Each buffer must hold its tensor's dtype and bytes at the
        tensor's current shape (a rank-1 buffer from ``create_from_host_memory`` of the same size is fine)."""
        self._check_open()
        spec, in_types, out_types = self._run_plan(int(signature_index))
        if not isinstance(input_buffers, (list, tuple)):
            input_buffers = list(input_buffers)
        if not isinstance(output_buffers, (list, tuple)):
            output_buffers = list(output_buffers)
        if len(input_buffers) != len(in_types) or len(output_buffers) != len(out_types):
            raise RuntimeArgumentError(
                f"signature {spec.key!r} takes {len(in_types)} input and {len(out_types)} output buffers, got "
                f"{len(input_buffers)} and {len(output_buffers)}")
        in_views = self._bind(spec, input_buffers, in_types, False)
        out_views = self._bind(spec, output_buffers, out_types, True)
        try:
            self._native.run_host_buffers(spec.index, in_views, out_views)
        except InvalidArgumentError as e:
            raise RuntimeArgumentError(str(e), e.status) from None

    def run_by_name(
        self, signature_key: str, input_map: Mapping[str, TensorBuffer], output_map: Mapping[str, TensorBuffer]
    ) -> None:
        """Run signature ``signature_key`` with buffers by input and output name (every name must be given)."""
        spec = self._upstream_signature(str(signature_key))
        ordered = []
        for names, given, what in ((spec.input_names, input_map, "input"), (spec.output_names, output_map, "output")):
            unknown = [k for k in given if k not in names]
            missing = [n for n in names if n not in given]
            if unknown or missing:
                raise RuntimeArgumentError(
                    f"signature {spec.key!r} {what}s are {names}; unknown: {unknown}, missing: {missing}")
            ordered.append([given[n] for n in names])
        self.run_by_index(spec.index, ordered[0], ordered[1])
