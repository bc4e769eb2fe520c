"""What the subcommands share: loading a model, the custom ops it needs, compile options, compiling (with the
runtime's reasons), signatures and input shapes."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._cli_base import (
    EXIT_ACCELERATOR,
    EXIT_MODEL,
    CliError,
)
from .._cli_base import one_line as _one_line


def _load_model(path: str) -> Any:
    """Model.from_file, which checks the path first: a missing path, a directory or something that is not a regular
    file (FIFO, device) is a ModelError (EXIT_MODEL) with a message saying which."""
    from ..model import Model

    return Model.from_file(path)


def bundled_custom_ops(model: Any) -> list[str]:
    """The model's custom codes that the SDK's bundled MediaPipe library has kernels for ([] when it has none, or the
    library is not part of this build)."""
    codes = model.custom_op_codes()
    if not codes:
        return []
    from ..custom_ops import mediapipe_ops
    from ..errors import LiteRtError

    try:
        names = set(mediapipe_ops().names)
    except LiteRtError:  # no bundled library in this build: the runtime reports the unresolved ops
        return []
    return [c for c in codes if c in names]


def _custom_ops_for(model: Any, args: argparse.Namespace) -> tuple[Any, ...]:
    """Custom-op kernels to compile ``model`` with: the bundled MediaPipe kernels when its custom codes need them,
    unless ``--no-mediapipe-ops``."""
    if getattr(args, "no_mediapipe_ops", False) or not bundled_custom_ops(model):
        return ()
    from ..custom_ops import mediapipe_ops

    return (mediapipe_ops(),)


def _signature(model: Any, key: str | None) -> Any:
    if key is not None and key.isdigit() and key not in model.signature_keys:
        return model.signature(int(key))
    return model.signature(key)


def _options(accelerator: str = "cpu", threads: int | None = None, kernel_mode: str | None = None,
             fp16: bool = False, allow_fallback: bool = True, custom_ops: Sequence[Any] = ()) -> Any:
    from ..options import Accelerator, CpuOptions, Options, XNNPackFlags

    cpu_kw: dict[str, Any] = {"num_threads": threads, "kernel_mode": kernel_mode}
    if fp16:
        if kernel_mode not in (None, "xnnpack"):
            raise CliError("--fp16 applies to the XNNPACK kernels; it cannot be combined with --kernel-mode "
                           f"{kernel_mode}")
        cpu_kw["extra_xnnpack_flags"] = XNNPackFlags.FORCE_FP16
    kw: dict[str, Any] = {"cpu": CpuOptions(**cpu_kw)}
    if accelerator == "gpu":
        kw["accelerators"] = Accelerator.GPU | Accelerator.CPU  # CPU runs the ops the GPU cannot
        kw["gpu_fallback"] = allow_fallback
    if custom_ops:
        kw["custom_ops"] = tuple(custom_ops)
    return Options(**kw)


def _compile(model: Any, options: Any, accelerator: str) -> tuple[Any, float]:
    """Compile; returns (compiled model, compile ms). GPU failures become EXIT_ACCELERATOR."""
    from ..compiled_model import CompiledModel
    from ..errors import LiteRtError

    t0 = time.perf_counter()
    try:
        cm = CompiledModel(model, options)
    except LiteRtError as e:
        if accelerator == "gpu":
            raise CliError(f"GPU accelerator unavailable: {_one_line(e, 300)}", EXIT_ACCELERATOR) from None
        raise CliError(f"cannot compile {Path(model.path or 'model').name}: {_one_line(e, 300)}", EXIT_MODEL) from None
    return cm, (time.perf_counter() - t0) * 1e3


def _fallback_reason(cm: Any) -> str | None:
    if cm.did_fallback:
        return str(cm.fallback_reason or "GPU compile failed")
    return None


def _parse_shapes(items: Sequence[str] | None) -> dict[str, list[int]]:
    shapes: dict[str, list[int]] = {}
    for item in items or ():
        name, sep, dims = item.rpartition("=")
        if not sep or not name:
            raise CliError(f"--shape expects NAME=D0,D1,..., got {item!r}")
        try:
            shapes[name] = [int(d) for d in dims.replace("x", ",").split(",") if d.strip()]
        except ValueError:
            raise CliError(f"--shape {item!r}: dimensions must be integers") from None
    return shapes


def _resolve_name(spec: Any, name: str, what: str = "input") -> str:
    names = spec.input_names
    if name in names:
        return name
    if name.isdigit() and int(name) < len(names):
        return names[int(name)]
    raise CliError(f"signature {spec.key!r} has no {what} {name!r}; inputs: {names}")


def _apply_shapes(cm: Any, spec: Any, shapes: dict[str, list[int]]) -> None:
    for name, dims in shapes.items():
        real = _resolve_name(spec, name)
        cm.resize_input(real, dims, spec.key, strict=False)


def _current_shape(cm: Any, spec: Any, name: str) -> tuple[int, ...]:
    return tuple(int(d) for d in cm.input_shape(name, spec.key))

def _fmt_shape(shape: Sequence[int] | None) -> str:
    return "?" if shape is None else "[" + ", ".join(str(int(d)) for d in shape) + "]"


@dataclass
class Compiled:
    """A subcommand's model, compiled from its arguments (see :func:`compile_from_args`)."""

    model: Any
    spec: Any
    options: Any
    cm: Any
    compile_ms: float
    fallback_reason: str | None
    custom_ops: tuple[Any, ...]
    shapes: dict[str, list[int]]


def compile_from_args(args: argparse.Namespace, *, allow_fallback: bool = True) -> Compiled:
    """What run, bench and verify begin with: load ``args.model``, pick the signature, give it the bundled custom ops
    it needs, compile for ``args.accelerator`` and resize the inputs given with ``--shape``."""
    model = _load_model(args.model)
    spec = _signature(model, args.signature)
    custom_ops = _custom_ops_for(model, args)
    opts = _options(args.accelerator, args.threads, args.kernel_mode, args.fp16, allow_fallback=allow_fallback,
                    custom_ops=custom_ops)
    cm, compile_ms = _compile(model, opts, args.accelerator)
    shapes = _parse_shapes(args.shape)
    _apply_shapes(cm, spec, shapes)
    return Compiled(model, spec, opts, cm, compile_ms, _fallback_reason(cm), custom_ops, shapes)
