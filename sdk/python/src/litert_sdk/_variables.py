"""Resource variables of a model, read from its graph, for the classic API (``Interpreter.get_variable_tensor*``).

A variable is a VAR_HANDLE (builtin operator 142) with the ASSIGN_VARIABLE (144) / READ_VARIABLE (143) operators that
use its handle. Its name is the VAR_HANDLE's ``shared_name`` (VarHandleOptions), read from the flatbuffer; where the
options carry none, the handle tensor's name. Variable *values* are not readable through the runtime's C API.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ._rewrite import RewriteError, _Model, _Table
from ._schema import BUILTIN_CODES
from ._types import detail_dtype
from .errors import InvalidArgumentError
from .model import Model

if TYPE_CHECKING:
    from .interpreter import Interpreter

__all__ = ["get_variable_tensor", "get_variable_tensor_count", "get_variable_tensors", "reset_variable_tensors"]

_OP_VAR_HANDLE = BUILTIN_CODES["VAR_HANDLE"]
_OP_READ_VARIABLE = BUILTIN_CODES["READ_VARIABLE"]
_OP_ASSIGN_VARIABLE = BUILTIN_CODES["ASSIGN_VARIABLE"]
_VAR_HANDLE_OPTIONS = 111  # BuiltinOptions union index of VarHandleOptions
# Field slots (TFLite schema): SubGraph.operators = 3; Operator.outputs = 2, builtin_options_type = 3,
# builtin_options = 4; VarHandleOptions.container = 0, shared_name = 1.
_SG_OPERATORS, _OP_OUTPUTS, _OP_OPTIONS_TYPE, _OP_OPTIONS = 3, 2, 3, 4


def _var_handle_names(content: bytes) -> dict[tuple[int, int], str]:
    """``{(subgraph, output tensor): "container/shared_name"}`` of every VAR_HANDLE op, read from the flatbuffer."""
    out: dict[tuple[int, int], str] = {}
    try:
        m = _Model(content)
        for si, sg in enumerate(m.subgraphs):
            for op in sg.tables(_SG_OPERATORS):
                if op.scalar(_OP_OPTIONS_TYPE, "<B", 0) != _VAR_HANDLE_OPTIONS:
                    continue
                outputs = op.ints(_OP_OUTPUTS)
                pos = op.target(_OP_OPTIONS)
                if not outputs or pos is None:
                    continue
                opts = _Table(m.d, pos)
                container, shared = opts.string(0) or "", opts.string(1) or ""
                out[(si, int(outputs[0]))] = f"{container}/{shared}" if container else shared
    except (RewriteError, ValueError, IndexError, UnicodeDecodeError, OSError):  # unreadable: tensor names
        return {}
    return out


_VARIABLES: weakref.WeakKeyDictionary[Model, list[dict[str, Any]]] = weakref.WeakKeyDictionary()


def _variables(model: Model) -> list[dict[str, Any]]:
    cached = _VARIABLES.get(model)
    if cached is not None:
        return cached
    shared = _var_handle_names(model.content())
    signature_subgraphs = {s.subgraph for s in model.signatures}
    # Variables are initialised (VAR_HANDLE + ASSIGN_VARIABLE) in the session-init subgraph that CALL_ONCE runs;
    # list those first, so the order is the initialisation order.
    order = sorted(range(len(model.subgraphs)), key=lambda i: (i in signature_subgraphs, i))
    # Without shared names one variable has a VAR_HANDLE in every subgraph that uses it; then only the init
    # subgraph's handles are counted (all handles when the model has no init subgraph).
    has_init = any(
        si not in signature_subgraphs and any(op.opcode == _OP_VAR_HANDLE for op in sg.ops)
        for si, sg in enumerate(model.subgraphs)
    )
    found: dict[str, dict[str, Any]] = {}
    for si in order:
        sg = model.subgraphs[si]
        handles: dict[int, str] = {}
        for op in sg.ops:
            if op.opcode == _OP_VAR_HANDLE and op.outputs:
                t = op.outputs[0]
                spec = sg.tensors.get(t)
                key = shared.get((si, t))
                if key is None:
                    if has_init and si in signature_subgraphs:
                        continue
                    key = spec.name if spec is not None else f"subgraph{si}:tensor{t}"
                handles[t] = key
                if key not in found:
                    found[key] = {
                        "name": key,
                        "subgraph": si,
                        "tensor_index": t,
                        "handle_tensor_name": spec.name if spec is not None else "",
                        "shared_name": shared.get((si, t)),
                        "_value": None,
                    }
            elif op.opcode in (_OP_ASSIGN_VARIABLE, _OP_READ_VARIABLE):
                if not op.inputs or op.inputs[0] not in handles:
                    continue
                entry = found[handles[op.inputs[0]]]
                value_t = op.inputs[1] if op.opcode == _OP_ASSIGN_VARIABLE and len(op.inputs) > 1 else (
                    op.outputs[0] if op.opcode == _OP_READ_VARIABLE and op.outputs else None)
                spec = sg.tensors.get(value_t) if value_t is not None else None
                if spec is None:
                    continue
                prev = entry["_value"]
                # Prefer a fully static shape (the init subgraph's assign is static).
                if prev is None or (prev.is_dynamic and not spec.is_dynamic):
                    entry["_value"] = spec
    result = []
    for i, entry in enumerate(found.values()):
        spec = entry.pop("_value")
        shape = list(spec.shape) if spec is not None and spec.shape is not None else []
        result.append(
            dict(
                entry,
                index=i,
                shape=np.array([1 if d < 0 else d for d in shape], dtype=np.int32),
                shape_signature=np.array(shape, dtype=np.int32),
                dtype=detail_dtype(spec.element_type) if spec is not None else np.void,
            )
        )
    _VARIABLES[model] = result
    return result


def _model_of(interpreter: Any) -> Model:
    model = getattr(interpreter, "_model", None)
    if not isinstance(model, Model):
        raise InvalidArgumentError(f"expected a litert_sdk Interpreter, got {type(interpreter).__name__}")
    return model


def get_variable_tensor_count(interpreter: Interpreter) -> int:
    """Number of resource variables (distinct VAR_HANDLE variables) in the interpreter's model."""
    return len(_variables(_model_of(interpreter)))


def get_variable_tensor(interpreter: Interpreter, index: int) -> dict[str, Any]:
    """Details of resource variable ``index`` (0 <= index < :func:`get_variable_tensor_count`).

    Keys: ``name`` (shared_name, or the handle tensor name when the model was given as bytes; see the module),
    ``index`` (the variable's position), ``shape`` / ``shape_signature`` (int32 arrays), ``dtype`` (numpy type),
    ``subgraph`` and ``tensor_index`` (the VAR_HANDLE output the variable was found at), ``handle_tensor_name``,
    ``shared_name`` (None when it could not be read).
    """
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise InvalidArgumentError(f"variable index must be an int, got {type(index).__name__}")
    vs = _variables(_model_of(interpreter))
    if not 0 <= int(index) < len(vs):
        raise InvalidArgumentError(f"variable index {index} out of range (the model has {len(vs)} variables)")
    d = vs[int(index)]
    return dict(d, shape=d["shape"].copy(), shape_signature=d["shape_signature"].copy())


def get_variable_tensors(interpreter: Interpreter) -> list[dict[str, Any]]:
    """:func:`get_variable_tensor` for every variable."""
    return [get_variable_tensor(interpreter, i) for i in range(get_variable_tensor_count(interpreter))]


def reset_variable_tensors(interpreter: Interpreter) -> None:
    """Restore every variable to its initial value (recompiles the model: ``interpreter.reset_all_variables()``)."""
    interpreter.reset_all_variables()
