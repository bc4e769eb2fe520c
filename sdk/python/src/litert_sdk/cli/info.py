"""``litert-sdk info``: signatures, tensors, operator histogram, custom ops and metadata of a model."""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from .. import _schema
from .._cli_base import (
    EXIT_OK,
)
from ._model import _fmt_shape, _load_model, bundled_custom_ops

BUILTIN_OP_NAMES = _schema.BUILTIN_OP_NAMES
"""TFLite builtin operator code -> name (``schema.fbs`` ``BuiltinOperator``; declared in ``litert_sdk._schema``)."""
_CUSTOM_OPCODE = _schema.BUILTIN_CODES["CUSTOM"]


def op_name(opcode: int) -> str:
    return BUILTIN_OP_NAMES.get(int(opcode), str(int(opcode)))


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
    from .._flatbuffer import read_model_bytes

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
