"""The ``litert-sdk`` command line: inspect, run, benchmark and verify ``.tflite`` models.

Usage (also ``python -m litert_sdk ...``)::

    litert-sdk info MODEL [--json]
    litert-sdk run MODEL [--input NAME=FILE ...] [--random-inputs [--seed N]] [--output out.npz]
    litert-sdk bench MODEL [--threads N] [--accelerator cpu|gpu] [--runs N] [--warmup N] [--json] [--quiet]
    litert-sdk verify MODEL [--accelerator cpu|gpu] [--fp16] [--kernel-mode MODE] [--runs N] [--rtol X] [--atol X]
    litert-sdk demo [--image PATH] [--output faces.png]   (default output: a new file in the temp directory)

Models whose custom ops have kernels in the SDK's bundled MediaPipe library (``Convolution2DTransposeBias``,
``Landmarks2TransformMatrix``, ``TransformLandmarks``, ``TransformTensorBilinear``) get those kernels automatically
(run, bench, verify); ``--no-mediapipe-ops`` turns that off.

Exit codes:

    0  success
    1  verify: an output differs from the reference beyond the tolerance
    2  the requested accelerator is unavailable (e.g. GPU compile failed) or the runtime fell back to the CPU
       where that defeats the purpose (verify)
    3  usage error: bad arguments, unreadable or mismatching input files
    4  the model cannot be loaded or compiled
    5  the runtime failed while running the model
  130  interrupted

Errors are reported as one line on stderr (``litert-sdk: error: ...``), without a traceback. With ``--json``, an
error is also printed on stdout as one JSON object,
``{"error": {"type": "ModelError", "message": "...", "exit_code": 4}}``, argument errors included.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import _schema
from ._cli_base import (
    EXIT_ACCELERATOR,
    EXIT_MISMATCH,
    EXIT_MODEL,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    PROG,
    CliError,
    run_guarded,
    wants_json,
)
from ._cli_base import check_input_file as _check_input_file
from ._cli_base import one_line as _one_line

__all__ = [
    "BUILTIN_OP_NAMES",
    "EXIT_ACCELERATOR",
    "EXIT_MISMATCH",
    "EXIT_MODEL",
    "EXIT_OK",
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "main",
]

BUILTIN_OP_NAMES = _schema.BUILTIN_OP_NAMES
"""TFLite builtin operator code -> name (``schema.fbs`` ``BuiltinOperator``; declared in ``litert_sdk._schema``)."""
_CUSTOM_OPCODE = 32


def op_name(opcode: int) -> str:
    return BUILTIN_OP_NAMES.get(int(opcode), str(int(opcode)))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and EXIT_USAGE instead of usage + exit 2
        raise CliError(f"{message} (see '{self.prog} --help')", EXIT_USAGE)


# ---------------------------------------------------------------------------------------------- flatbuffer extras
def _model_extras(data: bytes) -> dict[str, Any]:
    """Fields the runtime's C API does not report: schema version, description, static tensor shapes, metadata
    names. Slots from the public TFLite schema (Model: version 0, subgraphs 2, description 3, metadata 6;
    SubGraph.tensors 0; Tensor.shape 0; Metadata: name 0, buffer 1)."""
    from flatbuffers import encode, number_types, packer, table

    out: dict[str, Any] = {"version": None, "description": None, "static_shapes": [], "metadata_names": []}
    try:
        buf = bytearray(data)
        model = table.Table(buf, encode.Get(packer.uoffset, buf, 0))
        o = model.Offset(4)
        if o:
            out["version"] = int(model.Get(number_types.Uint32Flags, o + model.Pos))
        o = model.Offset(4 + 2 * 3)
        if o:
            out["description"] = model.String(o + model.Pos).decode("utf-8", "replace")
        o = model.Offset(4 + 2 * 2)
        if o:
            start, count = model.Vector(o), model.VectorLen(o)
            for i in range(count):
                sg = table.Table(buf, model.Indirect(start + 4 * i))
                shapes: dict[int, tuple[int, ...]] = {}
                to = sg.Offset(4)
                if to:
                    tstart, tcount = sg.Vector(to), sg.VectorLen(to)
                    for j in range(tcount):
                        t = table.Table(buf, sg.Indirect(tstart + 4 * j))
                        so = t.Offset(4)
                        if so:
                            shapes[j] = tuple(int(v) for v in t.GetVectorAsNumpy(number_types.Int32Flags, so))
                out["static_shapes"].append(shapes)
        o = model.Offset(4 + 2 * 6)
        if o:
            start, count = model.Vector(o), model.VectorLen(o)
            for i in range(count):
                md = table.Table(buf, model.Indirect(start + 4 * i))
                no = md.Offset(4)
                if no:
                    out["metadata_names"].append(md.String(no + md.Pos).decode("utf-8", "replace"))
    except Exception:  # noqa: BLE001 - malformed flatbuffer: report what the runtime gives
        pass
    return out


# ----------------------------------------------------------------------------------------------------- helpers
def _load_model(path: str) -> Any:
    """Model.from_file, which checks the path first: a missing path, a directory or something that is not a regular
    file (FIFO, device) is a ModelError (EXIT_MODEL) with a message saying which."""
    from .model import Model

    return Model.from_file(path)


def bundled_custom_ops(model: Any) -> list[str]:
    """The model's custom codes that the SDK's bundled MediaPipe library has kernels for ([] when it has none, or the
    library is not part of this build)."""
    codes = model.custom_op_codes()
    if not codes:
        return []
    from .custom_ops import mediapipe_ops
    from .errors import LiteRtError

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
    from .custom_ops import mediapipe_ops

    return (mediapipe_ops(),)


def _signature(model: Any, key: str | None) -> Any:
    if key is not None and key.isdigit() and key not in model.signature_keys:
        return model.signature(int(key))
    return model.signature(key)


def _has_field(cls: type, name: str) -> bool:
    return any(f.name == name for f in fields(cls))


def _options(accelerator: str = "cpu", threads: int | None = None, kernel_mode: str | None = None,
             fp16: bool = False, allow_fallback: bool = True, custom_ops: Sequence[Any] = ()) -> Any:
    from .options import Accelerator, CpuOptions, Options, XNNPackFlags

    cpu_kw: dict[str, Any] = {"num_threads": threads, "kernel_mode": kernel_mode}
    if fp16:
        if kernel_mode not in (None, "xnnpack"):
            raise CliError("--fp16 applies to the XNNPACK kernels; it cannot be combined with --kernel-mode "
                           f"{kernel_mode}")
        if _has_field(CpuOptions, "extra_xnnpack_flags"):
            cpu_kw["extra_xnnpack_flags"] = XNNPackFlags.FORCE_FP16
        else:  # the XNNPACK delegate's defaults (QS8 | QU8) plus FORCE_FP16
            cpu_kw["xnnpack_flags"] = XNNPackFlags.QS8 | XNNPackFlags.QU8 | XNNPackFlags.FORCE_FP16
    kw: dict[str, Any] = {"cpu": CpuOptions(**cpu_kw)}
    if accelerator == "gpu":
        kw["accelerators"] = Accelerator.GPU | Accelerator.CPU  # CPU runs the ops the GPU cannot
        if _has_field(Options, "gpu_fallback"):
            kw["gpu_fallback"] = allow_fallback
    if custom_ops:
        kw["custom_ops"] = tuple(custom_ops)
    return Options(**kw)


def _compile(model: Any, options: Any, accelerator: str) -> tuple[Any, float]:
    """Compile; returns (compiled model, compile ms). GPU failures become EXIT_ACCELERATOR."""
    from .compiled_model import CompiledModel
    from .errors import LiteRtError

    t0 = time.perf_counter()
    try:
        cm = CompiledModel(model, options)
    except LiteRtError as e:
        if accelerator == "gpu":
            raise CliError(f"GPU accelerator unavailable: {_one_line(e, 300)}", EXIT_ACCELERATOR) from None
        raise CliError(f"cannot compile {Path(model.path or 'model').name}: {_one_line(e, 300)}", EXIT_MODEL) from None
    return cm, (time.perf_counter() - t0) * 1e3


def _fallback_reason(cm: Any) -> str | None:
    if getattr(cm, "did_fallback", False):
        return str(getattr(cm, "fallback_reason", None) or "GPU compile failed")
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


def random_input(shape: Sequence[int], dtype: np.dtype, rng: np.random.Generator) -> np.ndarray:
    """Seeded random data for one input: floats uniform in [-1, 1], small non-negative ints for int32/int64
    (often indices), the full range for 8/16-bit ints, random booleans."""
    dt = np.dtype(dtype)
    shape = tuple(int(d) for d in shape)
    if np.issubdtype(dt, np.floating):
        return rng.uniform(-1.0, 1.0, shape).astype(dt)
    if dt == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if np.issubdtype(dt, np.integer):
        if dt.itemsize >= 4:
            return rng.integers(0, 10, shape, dtype=dt, endpoint=False)
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
    if np.issubdtype(dt, np.complexfloating):
        return (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)).astype(dt)
    raise CliError(f"cannot make random data of type {dt}")


def _random_inputs(cm: Any, spec: Any, rng: np.random.Generator, names: Sequence[str] | None = None
                   ) -> dict[str, np.ndarray]:
    out = {}
    for name, t in spec.inputs:
        if names is not None and name not in names:
            continue
        if t.dtype is None:
            raise CliError(f"input {name!r} has type {t.type_name}: give it explicitly, no random data for it")
        shape = _current_shape(cm, spec, name)
        if any(d < 0 for d in shape):
            raise CliError(f"input {name!r} has a dynamic shape {list(t.shape or ())}: set one with "
                           f"--shape {name}=D0,D1,...")
        out[name] = random_input(shape, t.dtype, rng)
    return out


def _fmt_shape(shape: Sequence[int] | None) -> str:
    return "?" if shape is None else "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _quant_dict(q: Any) -> dict[str, Any] | None:
    if q is None:
        return None
    scales = [float(s) for s in np.asarray(q.scales).ravel()]
    zps = [int(z) for z in np.asarray(q.zero_points).ravel()]
    return {"scale": scales if len(scales) != 1 else scales[0], "zero_point": zps if len(zps) != 1 else zps[0],
            "quantized_dimension": int(q.quantized_dimension)}


def _fmt_quant(q: Any) -> str:
    if q is None:
        return ""
    scales = np.asarray(q.scales).ravel()
    zps = np.asarray(q.zero_points).ravel()
    if scales.size == 1:
        return f"scale={float(scales[0]):.6g} zero_point={int(zps[0])}"
    return f"per-channel ({scales.size} scales, axis {int(q.quantized_dimension)})"


# -------------------------------------------------------------------------------------------------------- info
def _tensor_info(t: Any, static: dict[int, tuple[int, ...]]) -> dict[str, Any]:
    shape = static.get(t.index, t.shape)
    return {
        "name": t.name,
        "tensor_index": t.index,
        "dtype": t.type_name,
        "shape": None if shape is None else list(shape),
        "shape_signature": None if t.shape is None else list(t.shape),
        "quantization": _quant_dict(t.quantization),
    }


def model_info(path: str) -> dict[str, Any]:
    """Everything ``litert-sdk info`` reports, as a JSON-able dict."""
    from ._flatbuffer import read_model_bytes

    model = _load_model(path)
    extras = _model_extras(read_model_bytes(path))
    static = extras["static_shapes"]
    signatures = []
    for s in model.signatures:
        st = static[s.subgraph] if s.subgraph < len(static) else {}
        signatures.append({
            "key": s.key,
            "default": bool(s.is_default),
            "subgraph": s.subgraph,
            "inputs": [dict(_tensor_info(t, st), name=n, tensor=t.name) for n, t in s.inputs],
            "outputs": [dict(_tensor_info(t, st), name=n, tensor=t.name) for n, t in s.outputs],
        })
    hist: Counter[str] = Counter()
    custom: Counter[str] = Counter()
    for sg in model.subgraphs:
        for op in sg.ops:
            if op.custom_code is not None or op.opcode == _CUSTOM_OPCODE:
                custom[op.custom_code or "?"] += 1
                hist[f"CUSTOM:{op.custom_code}"] += 1
            else:
                hist[op_name(op.opcode)] += 1
    metadata: dict[str, Any] = {}
    for key in extras["metadata_names"]:
        value = model.metadata(key)
        entry: dict[str, Any] = {"size": None if value is None else len(value)}
        if value is not None and key in ("min_runtime_version", "conversion_metadata_version"):
            text = value.rstrip(b"\x00").decode("ascii", "replace")
            if text.isprintable():
                entry["value"] = text
        metadata[key] = entry
    return {
        "path": os.fspath(path),
        "size_bytes": Path(path).stat().st_size,
        "schema_version": extras["version"],
        "description": extras["description"],
        "subgraphs": len(model.subgraphs),
        "main_subgraph": model.main_subgraph,
        "signatures": signatures,
        "op_count": sum(hist.values()),
        "ops": dict(hist.most_common()),
        "custom_ops": dict(sorted(custom.items())),
        # custom codes the SDK's bundled MediaPipe kernels provide (run/bench/verify use them automatically)
        "custom_ops_bundled": bundled_custom_ops(model),
        "metadata": metadata,
    }


def _print_tensor_rows(rows: list[dict[str, Any]]) -> None:
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        line = f"    {r['name']:<{width}}  {r['dtype']:<8} {_fmt_shape(r['shape'])}"
        if r["shape_signature"] is not None and r["shape_signature"] != r["shape"]:
            line += f"  signature {_fmt_shape(r['shape_signature'])}"
        if r["tensor"] != r["name"]:
            line += f"  (tensor {r['tensor']!r})"
        q = r["quantization"]
        if q is not None:
            if isinstance(q["scale"], list):
                line += f"  per-channel quantization ({len(q['scale'])} scales, axis {q['quantized_dimension']})"
            else:
                line += f"  quantized scale={q['scale']:.6g} zero_point={q['zero_point']}"
        print(line)


def cmd_info(args: argparse.Namespace) -> int:
    info = model_info(args.model)
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    print(f"model: {info['path']} ({info['size_bytes']:,} bytes)")
    extra = []
    if info["schema_version"] is not None:
        extra.append(f"schema v{info['schema_version']}")
    if info["description"]:
        extra.append(f"description {info['description']!r}")
    if extra:
        print("  " + ", ".join(extra))
    print(f"subgraphs: {info['subgraphs']} (main: {info['main_subgraph']})")
    for s in info["signatures"]:
        title = "signature (none in the model; the runtime's default)" if s["default"] else f"signature {s['key']!r}"
        print(f"{title}, subgraph {s['subgraph']}:")
        print("  inputs:")
        _print_tensor_rows(s["inputs"])
        print("  outputs:")
        _print_tensor_rows(s["outputs"])
    print(f"ops: {info['op_count']}")
    width = max((len(k) for k in info["ops"]), default=4)
    for name, n in info["ops"].items():
        print(f"    {name:<{width}}  {n}")
    if info["custom_ops"]:
        print("custom ops: " + ", ".join(f"{k} (x{v})" for k, v in info["custom_ops"].items()))
        if info["custom_ops_bundled"]:
            print("  bundled MediaPipe kernels (used by run/bench/verify unless --no-mediapipe-ops): "
                  + ", ".join(info["custom_ops_bundled"]))
    else:
        print("custom ops: none")
    if info["metadata"]:
        parts = []
        for k, v in info["metadata"].items():
            parts.append(f"{k} = {v['value']!r}" if "value" in v else f"{k} ({v['size']} bytes)")
        print("metadata: " + ", ".join(parts))
    else:
        print("metadata: none")
    return EXIT_OK


# --------------------------------------------------------------------------------------------------------- run
def _parse_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise CliError(f"--image-range expects LO,HI (e.g. 0,1 or -1,1), got {text!r}") from None
    if not hi > lo:
        raise CliError(f"--image-range must satisfy LO < HI, got {text!r}")
    return lo, hi


def image_to_input(image: np.ndarray, shape: Sequence[int], dtype: np.dtype, name: str, *,
                   value_range: tuple[float, float] | None = None, quantization: Any = None,
                   letterbox: bool = False) -> np.ndarray:
    """Convert a uint8 RGB image to an image-like input of ``shape`` (NHWC/NCHW/HWC, 1/3/4 channels).

    Float inputs get pixel values mapped to ``value_range`` (default ``[0, 1]``). Integer inputs get raw pixels
    (uint8) or pixels - 128 (int8), or, when ``value_range`` is given and the input is quantized, the range
    quantized with the input's scale and zero point.
    """
    from .utils import letterbox as _letterbox
    from .utils import resize_bilinear

    dims = [int(d) for d in shape]
    dt = np.dtype(dtype)
    nchw = False
    if len(dims) == 4:
        if dims[0] not in (1, -1):
            raise CliError(f"input {name!r} has batch size {dims[0]}; an image fills a batch of 1")
        if dims[3] not in (1, 3, 4) and dims[1] in (1, 3, 4):
            nchw = True
        body = dims[1:]
    elif len(dims) == 3:
        if dims[2] not in (1, 3, 4) and dims[0] in (1, 3, 4):
            nchw = True
        body = dims
    else:
        raise CliError(f"input {name!r} has shape {_fmt_shape(dims)}, which is not an image (expected [1, H, W, C], "
                       "[1, C, H, W] or [H, W, C]); give a .npy file instead")
    c, h, w = (body[0], body[1], body[2]) if nchw else (body[2], body[0], body[1])
    if c not in (1, 3, 4):
        raise CliError(f"input {name!r} has {c} channels; images can fill 1, 3 or 4 channels")
    if h <= 0 or w <= 0:
        raise CliError(f"input {name!r} has a dynamic image size {_fmt_shape(dims)}: set it with --shape")
    rgb = image
    if c == 1:
        pix = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[:, :, None]
    elif c == 4:
        pix = np.concatenate([rgb.astype(np.float32), np.full(rgb.shape[:2] + (1,), 255.0, np.float32)], axis=2)
    else:
        pix = rgb.astype(np.float32)
    if pix.shape[:2] != (h, w):
        pix = _letterbox(pix, (h, w), 0.0)[0] if letterbox else resize_bilinear(pix, (h, w))
    if np.issubdtype(dt, np.floating):
        lo, hi = value_range or (0.0, 1.0)
        data = pix / 255.0 * (hi - lo) + lo
    elif np.issubdtype(dt, np.integer):
        info = np.iinfo(dt)
        if value_range is not None and quantization is not None and np.asarray(quantization.scales).size == 1:
            lo, hi = value_range
            real = pix / 255.0 * (hi - lo) + lo
            scale = float(np.asarray(quantization.scales).ravel()[0])
            zp = int(np.asarray(quantization.zero_points).ravel()[0])
            data = np.rint(real / scale + zp)
        else:
            data = np.rint(pix) - (128 if dt == np.int8 else 0)
        data = np.clip(data, info.min, info.max)
    else:
        raise CliError(f"input {name!r} has type {dt}; images can only fill numeric inputs")
    if nchw:
        data = np.transpose(data, (2, 0, 1))
    if len(dims) == 4:
        data = data[None]
    return np.ascontiguousarray(data.astype(dt))


def coerce_array(arr: np.ndarray, name: str, dtype: np.dtype, signature_shape: Sequence[int] | None,
                 current_shape: Sequence[int], source: str) -> np.ndarray:
    """Check/convert an array loaded from a file for input ``name``; clear errors instead of runtime failures."""
    dt = np.dtype(dtype)
    if arr.dtype != dt:
        ok = (arr.dtype.kind in "fc" and dt.kind in "fc") or (
            arr.dtype.kind in "iub" and dt.kind in "iu" and arr.size and
            int(arr.min()) >= np.iinfo(dt).min and int(arr.max()) <= np.iinfo(dt).max) or (
            arr.dtype.kind in "iu" and dt.kind == "f") or (arr.dtype.kind == "b" and dt.kind == "b")
        if not ok and arr.size == 0 and arr.dtype.kind in "iub" and dt.kind in "iu":
            ok = True
        if not ok:
            raise CliError(f"input {name!r} expects {dt}, {source} holds {arr.dtype} values that do not convert "
                           f"(e.g. np.save(..., x.astype(np.{dt.name})))")
        arr = arr.astype(dt)
    cur = tuple(int(d) for d in current_shape)
    sig = tuple(int(d) for d in signature_shape) if signature_shape is not None else cur

    def fits(s: tuple[int, ...]) -> bool:
        return len(s) == len(sig) and all(d == e or e < 0 for d, e in zip(s, sig, strict=False))

    if arr.shape == cur or fits(arr.shape):
        return np.ascontiguousarray(arr)
    if len(arr.shape) + 1 == len(sig) and sig[0] in (1, -1) and fits((1,) + arr.shape):
        return np.ascontiguousarray(arr[None])
    raise CliError(f"input {name!r} expects shape {_fmt_shape(cur)}"
                   + (f" (signature {_fmt_shape(sig)})" if sig != cur else "")
                   + f", {source} has shape {_fmt_shape(arr.shape)}")


def _load_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise CliError(f"cannot read {path}: {_one_line(e)}") from None


def _load_inputs(cm: Any, spec: Any, items: Sequence[str], args: argparse.Namespace) -> dict[str, np.ndarray]:
    from .vision import load_image

    feed: dict[str, np.ndarray] = {}
    value_range = _parse_range(args.image_range) if args.image_range else None
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:  # a bare .npz: arrays by input name
            path, name = item, ""
        _check_input_file(path)
        suffix = Path(path).suffix.lower()
        if not name:
            if suffix != ".npz":
                raise CliError(f"--input {item!r}: use NAME=FILE (a bare file must be an .npz keyed by input name)")
            for key, arr in _load_npz(path).items():
                real = _resolve_name(spec, key)
                t = dict(spec.inputs)[real]
                feed[real] = coerce_array(arr, real, t.dtype, t.shape, _current_shape(cm, spec, real),
                                          f"{path}[{key}]")
            continue
        real = _resolve_name(spec, name)
        t = dict(spec.inputs)[real]
        if t.dtype is None:
            raise CliError(f"input {real!r} has type {t.type_name}, which cannot be loaded from a file")
        if suffix == ".npy":
            try:
                arr = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise CliError(f"cannot read {path}: {_one_line(e)}") from None
            source = path
        elif suffix == ".npz":
            arrays = _load_npz(path)
            if name in arrays:
                arr = arrays[name]
            elif real in arrays:
                arr = arrays[real]
            elif len(arrays) == 1:
                arr = next(iter(arrays.values()))
            else:
                raise CliError(f"{path} has arrays {sorted(arrays)}; none is named {name!r}")
            source = path
        else:
            image = load_image(path)
            arr = image_to_input(image, _current_shape(cm, spec, real), t.dtype, real, value_range=value_range,
                                 quantization=t.quantization, letterbox=args.letterbox)
            source = path
        feed[real] = coerce_array(arr, real, t.dtype, t.shape, _current_shape(cm, spec, real), source)
    return feed


def _summary_rows(outputs: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    rows = []
    for name, a in outputs.items():
        row: dict[str, Any] = {"name": name, "shape": list(a.shape), "dtype": str(a.dtype)}
        if a.size and (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) and not np.iscomplexobj(a):
            x = a.astype(np.float64)
            row.update(min=float(np.nanmin(x)) if not np.isnan(x).all() else math.nan,
                       max=float(np.nanmax(x)) if not np.isnan(x).all() else math.nan, mean=float(np.mean(x)))
        rows.append(row)
    return rows


def cmd_run(args: argparse.Namespace) -> int:
    model = _load_model(args.model)
    spec = _signature(model, args.signature)
    opts = _options(args.accelerator, args.threads, args.kernel_mode, args.fp16,
                    custom_ops=_custom_ops_for(model, args))
    cm, compile_ms = _compile(model, opts, args.accelerator)
    reason = _fallback_reason(cm)
    if reason:
        print(f"{PROG}: warning: GPU unavailable, running on CPU ({_one_line(reason, 200)})", file=sys.stderr)
    _apply_shapes(cm, spec, _parse_shapes(args.shape))
    feed = _load_inputs(cm, spec, args.input or [], args)
    missing = [n for n in spec.input_names if n not in feed]
    if missing:
        if not args.random_inputs:
            raise CliError(f"missing input(s) {missing}: give --input NAME=FILE (.npy, .npz, .png) or --random-inputs")
        feed.update(_random_inputs(cm, spec, np.random.default_rng(args.seed), missing))
    for name, arr in feed.items():  # resize dynamic inputs to the data
        if tuple(arr.shape) != _current_shape(cm, spec, name):
            cm.resize_input(name, arr.shape, spec.key, strict=False)
    t0 = time.perf_counter()
    try:
        if args.isolated:  # the run itself in a worker process: a crash or a stuck run is an error, not our exit
            from .isolation import IsolatedModel

            with IsolatedModel(args.model, opts, deadline=args.deadline) as isolated:
                t0 = time.perf_counter()
                outputs = isolated.run(feed, spec.key)
        else:
            outputs = cm.run(feed, spec.key)
    except Exception as e:
        from .errors import InvalidArgumentError, LiteRtError
        if isinstance(e, InvalidArgumentError):
            raise
        if isinstance(e, LiteRtError):
            raise CliError(f"running the model failed: {_one_line(e, 300)}", EXIT_RUNTIME) from None
        raise
    run_ms = (time.perf_counter() - t0) * 1e3
    saved = None
    if args.output:
        out_path = args.output if args.output.endswith(".npz") else args.output + ".npz"
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {k: np.asarray(v) for k, v in outputs.items()}
        np.savez(out_path, **arrays)
        saved = out_path
    rows = _summary_rows(outputs)
    if args.json:
        print(json.dumps({"signature": spec.key, "compile_ms": compile_ms, "run_ms": run_ms, "outputs": rows,
                          "saved": saved, "fallback": reason}, indent=2))
        return EXIT_OK
    print(f"ran {Path(args.model).name} (signature {spec.key!r}) in {run_ms:.2f} ms (compile {compile_ms:.1f} ms)")
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        stats = (f"min {r['min']:.6g}  max {r['max']:.6g}  mean {r['mean']:.6g}" if "min" in r else "")
        print(f"  {r['name']:<{width}}  {r['dtype']:<8} {_fmt_shape(r['shape']):<18} {stats}")
    if saved:
        print(f"outputs written to {saved}")
    return EXIT_OK


# ------------------------------------------------------------------------------------------------------- bench
class _Progress:
    """A plain-text progress bar on stderr (only when it is a terminal)."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label = total, label
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self._last = -1.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < self.total and now - self._last < 0.05:
            return
        self._last = now
        width = 30
        filled = int(width * done / self.total)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * (len(self.label) + 45) + "\r")
            sys.stderr.flush()


def _bench_stats(times_ms: Sequence[float]) -> dict[str, float]:
    t = np.asarray(times_ms, dtype=np.float64)
    return {
        "median": float(np.median(t)),
        "p90": float(np.percentile(t, 90)),
        "mean": float(t.mean()),
        "min": float(t.min()),
        "max": float(t.max()),
        "std": float(t.std()),
    }


def cmd_bench(args: argparse.Namespace) -> int:
    if args.runs < 1:
        raise CliError("--runs must be at least 1")
    if args.warmup < 0:
        raise CliError("--warmup must not be negative")
    model = _load_model(args.model)
    spec = _signature(model, args.signature)
    opts = _options(args.accelerator, args.threads, args.kernel_mode, args.fp16,
                    custom_ops=_custom_ops_for(model, args))
    cm, compile_ms = _compile(model, opts, args.accelerator)
    reason = _fallback_reason(cm)
    if reason and not args.quiet:
        print(f"{PROG}: warning: GPU unavailable, benchmarking the CPU ({_one_line(reason, 200)})", file=sys.stderr)
    _apply_shapes(cm, spec, _parse_shapes(args.shape))
    feed = _random_inputs(cm, spec, np.random.default_rng(args.seed))
    # Zero-copy: fill the runtime's input buffers once and time only the invocations.
    try:
        for name, arr in feed.items():
            buf = cm.input_buffer(name, spec.key)
            if buf.shape != arr.shape:
                raise ValueError("buffer shape differs")
            buf[...] = arr

        def invoke() -> None:
            cm.run_buffers(spec.key)
        invoke()
    except Exception:  # noqa: BLE001 - buffers unavailable for this model: time run() with copies instead
        def invoke() -> None:
            cm.run(feed, spec.key)
        try:
            invoke()
        except Exception as e:
            from .errors import LiteRtError
            if isinstance(e, LiteRtError) and not isinstance(e, ValueError):
                raise CliError(f"running the model failed: {_one_line(e, 300)}", EXIT_RUNTIME) from None
            raise
    progress = _Progress(args.warmup + args.runs, "bench", not args.quiet and not args.json)
    for i in range(args.warmup):
        invoke()
        progress.update(i + 1)
    times = []
    perf = time.perf_counter
    for i in range(args.runs):
        t0 = perf()
        invoke()
        times.append((perf() - t0) * 1e3)
        progress.update(args.warmup + i + 1)
    progress.close()
    stats = _bench_stats(times)
    threads = opts.cpu.effective_num_threads
    kernel = args.kernel_mode or "xnnpack"
    result = {
        "model": os.fspath(args.model),
        "signature": spec.key,
        "accelerator": args.accelerator,
        "fallback": reason,
        "fully_accelerated": bool(cm.is_fully_accelerated()),
        "threads": threads,
        "kernel_mode": kernel,
        "fp16": bool(args.fp16),
        "runs": args.runs,
        "warmup": args.warmup,
        "compile_ms": compile_ms,
        "latency_ms": stats,
        "throughput_per_s": 1e3 / stats["median"] if stats["median"] > 0 else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_OK
    where = "cpu" if reason else args.accelerator
    print(f"model: {Path(args.model).name}  signature: {spec.key!r}")
    print(f"accelerator: {where}{' (requested gpu)' if reason else ''}, {kernel} kernels, {threads} thread(s)"
          f"{', fp16' if args.fp16 else ''}; fully accelerated: {'yes' if result['fully_accelerated'] else 'no'}")
    print(f"compile: {compile_ms:.1f} ms; warmup: {args.warmup} run(s)")
    print(f"latency over {args.runs} run(s), ms: median {stats['median']:.3f}  p90 {stats['p90']:.3f}  "
          f"mean {stats['mean']:.3f}  min {stats['min']:.3f}  max {stats['max']:.3f}")
    return EXIT_OK


# ------------------------------------------------------------------------------------------------------ verify
def compare_outputs(got: np.ndarray, want: np.ndarray) -> dict[str, float]:
    """max |got - want|, max |want| and their ratio (NaNs at the same places count as equal)."""
    g = np.asarray(got).astype(np.float64)
    w = np.asarray(want).astype(np.float64)
    if g.shape != w.shape:
        return {"max_abs": math.inf, "ref_max_abs": math.nan, "max_rel": math.inf}
    both_nan = np.isnan(g) & np.isnan(w)
    diff = np.where(both_nan, 0.0, np.abs(g - w))
    diff = np.where(np.isnan(diff), np.inf, diff)
    max_abs = float(diff.max()) if diff.size else 0.0
    finite = w[np.isfinite(w)]
    ref = float(np.abs(finite).max()) if finite.size else 0.0
    return {"max_abs": max_abs, "ref_max_abs": ref, "max_rel": max_abs / ref if ref > 0 else (0.0 if max_abs == 0
                                                                                              else math.inf)}


def cmd_verify(args: argparse.Namespace) -> int:
    loose = args.fp16 or args.accelerator == "gpu"
    rtol = args.rtol if args.rtol is not None else (2e-2 if loose else 1e-4)
    atol = args.atol if args.atol is not None else (1e-3 if loose else 1e-5)
    if args.runs < 1:
        raise CliError("--runs must be at least 1")
    if rtol < 0 or atol < 0:
        raise CliError("--rtol and --atol must not be negative")
    model = _load_model(args.model)
    spec = _signature(model, args.signature)
    custom_ops = _custom_ops_for(model, args)
    opts = _options(args.accelerator, args.threads, args.kernel_mode, args.fp16, allow_fallback=False,
                    custom_ops=custom_ops)
    cm, _ = _compile(model, opts, args.accelerator)
    reason = _fallback_reason(cm)
    if reason:
        raise CliError(f"GPU accelerator unavailable (the runtime fell back to the CPU: {_one_line(reason, 200)}); "
                       "nothing to verify", EXIT_ACCELERATOR)
    ref, _ = _compile(model, _options("cpu", 1, "reference", custom_ops=custom_ops), "cpu")
    shapes = _parse_shapes(args.shape)
    _apply_shapes(cm, spec, shapes)
    _apply_shapes(ref, spec, shapes)
    rng = np.random.default_rng(args.seed)
    stats: dict[str, dict[str, float]] = {}
    for _ in range(args.runs):
        feed = _random_inputs(cm, spec, rng)
        try:
            got = cm.run(feed, spec.key)
            want = ref.run(feed, spec.key)
        except Exception as e:
            from .errors import LiteRtError
            if isinstance(e, LiteRtError) and not isinstance(e, ValueError):
                raise CliError(f"running the model failed: {_one_line(e, 300)}", EXIT_RUNTIME) from None
            raise
        for name in spec.output_names:
            c = compare_outputs(got[name], want[name])
            s = stats.setdefault(name, {"max_abs": 0.0, "ref_max_abs": 0.0})
            s["max_abs"] = max(s["max_abs"], c["max_abs"])
            s["ref_max_abs"] = max(s["ref_max_abs"], c["ref_max_abs"])
    out_types = dict(spec.outputs)
    results: list[dict[str, Any]] = []
    for name, s in stats.items():
        dt = out_types[name].dtype
        tol = atol + rtol * s["ref_max_abs"]
        if dt is not None and np.issubdtype(dt, np.integer):
            tol = max(tol, 1.0)  # quantized outputs: one step of rounding difference is expected
        ref_max = s["ref_max_abs"]
        rel = s["max_abs"] / ref_max if ref_max > 0 else (0.0 if s["max_abs"] == 0 else math.inf)
        results.append({"name": name, "max_abs_error": s["max_abs"], "max_rel_error": rel,
                        "reference_max_abs": ref_max, "tolerance": tol, "ok": bool(s["max_abs"] <= tol)})
    passed = all(r["ok"] for r in results)
    what = (f"{args.accelerator}" + (f" {args.kernel_mode}" if args.kernel_mode else " xnnpack" if
                                     args.accelerator == "cpu" else "") + (" fp16" if args.fp16 else ""))
    if args.json:
        print(json.dumps({"model": os.fspath(args.model), "signature": spec.key, "candidate": what,
                          "reference": "cpu reference kernels", "runs": args.runs, "seed": args.seed, "rtol": rtol,
                          "atol": atol, "passed": passed, "outputs": results}, indent=2))
    else:
        print(f"verify {Path(args.model).name}: {what} vs cpu reference kernels, {args.runs} seeded random input "
              f"set(s); pass if max|err| <= atol + rtol * max|ref| (rtol={rtol:g}, atol={atol:g})")
        width = max((len(r["name"]) for r in results), default=4)
        for r in results:
            print(f"  {'ok  ' if r['ok'] else 'FAIL'} {r['name']:<{width}}  max abs {r['max_abs_error']:.3g}  "
                  f"max rel {r['max_rel_error']:.3g}  (|ref| <= {r['reference_max_abs']:.4g}, "
                  f"tolerance {r['tolerance']:.3g})")
        print("PASS" if passed else "FAIL: outputs differ beyond the tolerance")
    cm.close()
    ref.close()
    return EXIT_OK if passed else EXIT_MISMATCH


# ------------------------------------------------------------------------------------------------------ parser
def _add_compile_args(p: argparse.ArgumentParser, accel_default: str = "cpu") -> None:
    p.add_argument("--accelerator", choices=("cpu", "gpu"), default=accel_default,
                   help="compile for the CPU (XNNPACK) or the GPU (WebGPU / Metal; CPU for unsupported ops)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads (default: cores, at most 4)")
    p.add_argument("--kernel-mode", choices=("xnnpack", "builtin", "reference"), default=None,
                   help="CPU kernels: XNNPACK (default), TFLite builtin or reference")
    p.add_argument("--fp16", action="store_true", help="let XNNPACK compute in fp16 (FORCE_FP16)")
    p.add_argument("--signature", default=None, metavar="KEY", help="signature key or index (default: the first)")
    p.add_argument("--shape", action="append", metavar="NAME=D0,D1,...",
                   help="resize a (dynamic) input before running; repeatable")
    p.add_argument("--no-mediapipe-ops", action="store_true",
                   help="do not give the model the SDK's bundled MediaPipe custom-op kernels (by default they are "
                        "used when the model's custom ops need them)")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog=PROG, description="Inspect, run, benchmark and verify LiteRT (.tflite) models.",
                     epilog="exit codes: 0 ok, 1 verify mismatch, 2 accelerator unavailable, 3 usage or input "
                            "error, 4 model cannot be loaded/compiled, 5 runtime failure")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("info", help="signatures, tensors, op histogram, custom ops, metadata")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("run", help="run a model on inputs from files (.npy/.npz/.png) or random data")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--input", "-i", action="append", metavar="NAME=FILE",
                   help="an input from FILE (.npy, .npz, or an image: .png, other formats with Pillow); a bare "
                        ".npz gives inputs by name; NAME may be the input's index; repeatable")
    p.add_argument("--random-inputs", action="store_true", help="seeded random data for inputs not given")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--image-range", metavar="LO,HI", default=None,
                   help="value range images are mapped to for float inputs (default 0,1; MediaPipe models: -1,1)")
    p.add_argument("--letterbox", action="store_true", help="keep the image's aspect ratio (pad) when resizing")
    p.add_argument("--output", "-o", metavar="OUT.npz", default=None, help="write the outputs, by name, to an .npz")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--isolated", action="store_true",
                   help="run the model in a worker process: a crash or a run past --deadline is reported as an error "
                        "(exit 5) instead of ending this process")
    p.add_argument("--deadline", type=float, default=None, metavar="SECONDS",
                   help="with --isolated: seconds the run may take (default: no limit)")
    _add_compile_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("bench", help="latency benchmark (median / p90 / mean / min) and compile time")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--runs", type=int, default=50, help="timed runs (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    p.add_argument("--seed", type=int, default=0, help="random input seed (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or warnings")
    _add_compile_args(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("verify", help="compare outputs against the CPU reference kernels on random inputs")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--runs", type=int, default=3, help="random input sets (default 3)")
    p.add_argument("--seed", type=int, default=0, help="random input seed (default 0)")
    p.add_argument("--rtol", type=float, default=None,
                   help="tolerance relative to the output's max |reference| (default 1e-4; 2e-2 with --fp16 / gpu)")
    p.add_argument("--atol", type=float, default=None, help="absolute tolerance (default 1e-5; 1e-3 with --fp16 / gpu)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    _add_compile_args(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("demo", help="face detection on the bundled photo (same as python -m litert_sdk.demo)",
                       add_help=False)
    p.add_argument("demo_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=None)
    return parser


def _join_negative_values(argv: list[str], options: Sequence[str]) -> list[str]:
    """``--image-range -1,1`` -> ``--image-range=-1,1`` (argparse would take ``-1,1`` for an option)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in options and i + 1 < len(argv) and argv[i + 1][:1] == "-" and argv[i + 1][1:2].isdigit():
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def _dispatch(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = _join_negative_values(argv, ("--image-range",))
    if argv and argv[0] == "demo":  # everything after "demo" belongs to the demo's own parser
        from .demo import run_demo
        return run_demo(argv[1:], prog=f"{PROG} demo")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    return int(args.func(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``litert-sdk`` console script; returns the exit code."""
    argv = [os.fspath(a) for a in (sys.argv[1:] if argv is None else argv)]
    return run_guarded(_dispatch, argv, json_errors=wants_json(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
