"""``experimental_preserve_all_tensors``: a model whose intermediate tensors are extra outputs.

The runtime's C API gives no access to tensors that are neither signature inputs nor outputs, and its memory planner
reuses their memory. The Interpreter therefore compiles a copy of the model in which the requested tensors of one
subgraph are appended to that subgraph's outputs and to the outputs of the signatures that run it (named
``litert_sdk_preserved/<tensor index>``); their values after a run are read like outputs. The original model stays
what the Interpreter describes (details, signatures, results of signature runners).

The copy is written the way ``_rewrite`` writes its models: the original flatbuffer is kept byte for byte behind a
region holding the new root ``Model`` table and the tables that change (the subgraph, its outputs vector, the
signature defs and their output maps).
"""

from __future__ import annotations

from typing import Any

from ._rewrite import (
    _MODEL_FIELDS,
    _MODEL_SUBGRAPHS,
    _SUBGRAPH_FIELDS,
    RewriteError,
    _copy_fields,
    _Emitter,
    _Model,
    finish_rewrite,
)

__all__ = ["PRESERVED_PREFIX", "add_outputs"]

PRESERVED_PREFIX = "litert_sdk_preserved/"

# TFLite schema slots (table field ids) used here besides _rewrite's.
_MODEL_SIGNATURE_DEFS = 7
_SUBGRAPH_OUTPUTS = 2
_SIGNATURE_OUTPUTS, _SIGNATURE_SUBGRAPH_INDEX = 1, 4
_SIGNATURE_FIELDS = {0: "o", 1: "o", 2: "o", 3: "o", 4: "<I"}
_TENSOR_MAP_NAME, _TENSOR_MAP_INDEX = 0, 1


def add_outputs(data: bytes, subgraph: int, tensors: list[int]) -> bytes:
    """The model with ``tensors`` of ``subgraph`` appended, in this order, to the subgraph's outputs and to the
    outputs of every signature of that subgraph."""
    m = _Model(data)
    if not 0 <= subgraph < len(m.subgraphs):
        raise RewriteError(f"the model has no subgraph {subgraph}")
    if not tensors:
        return bytes(data)
    e = _Emitter()
    model_fields = _copy_fields(m.root, _MODEL_FIELDS, "Model")
    e.ref("table", model_fields)
    sg_refs: list[Any] = []
    model_fields[_MODEL_SUBGRAPHS] = ("o", e.ref("vec", sg_refs))
    for si, sg in enumerate(m.subgraphs):
        if si != subgraph:
            sg_refs.append(("old", sg.pos))
            continue
        fields = _copy_fields(sg, _SUBGRAPH_FIELDS, "SubGraph")
        sg_refs.append(e.ref("table", fields))
        outputs = list(sg.ints(_SUBGRAPH_OUTPUTS) or ())
        fields[_SUBGRAPH_OUTPUTS] = ("o", e.ref("ints", outputs + [t for t in tensors if t not in outputs]))
    signatures = m.root.tables(_MODEL_SIGNATURE_DEFS)
    if signatures:
        sig_refs: list[Any] = []
        model_fields[_MODEL_SIGNATURE_DEFS] = ("o", e.ref("vec", sig_refs))
        for st in signatures:
            if st.scalar(_SIGNATURE_SUBGRAPH_INDEX, "<I", 0) != subgraph:
                sig_refs.append(("old", st.pos))
                continue
            fields = _copy_fields(st, _SIGNATURE_FIELDS, "SignatureDef")
            sig_refs.append(e.ref("table", fields))
            maps: list[Any] = [("old", t.pos) for t in st.tables(_SIGNATURE_OUTPUTS)]
            fields[_SIGNATURE_OUTPUTS] = ("o", e.ref("vec", maps))
            for t in tensors:
                tensor_map: dict[int, Any] = {_TENSOR_MAP_INDEX: ("<I", t)}
                maps.append(e.ref("table", tensor_map))
                tensor_map[_TENSOR_MAP_NAME] = ("o", e.ref("str", f"{PRESERVED_PREFIX}{t}"))
    e.run()
    return finish_rewrite(m, e, bytearray(data))
