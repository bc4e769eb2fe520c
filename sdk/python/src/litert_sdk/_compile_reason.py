"""The operators a runtime compile error is about.

The native core puts the runtime's own reason into compile errors (it repeats a failed compile once with the TFLite
error reporter writing to a captured stderr, see ``compile_failure_reason`` in ``native/compiled_model.cc``). The
reason names an operator code, e.g. "Didn't find op for builtin opcode 'ADD' version '99'" or "Didn't find custom
op for name 'Foo' version '2'"; :func:`with_operators` adds which operators of the model use that code, so the
message points at them ("operator 0 (ADD, version 99) of subgraph 0").
"""

from __future__ import annotations

import re
import struct
from typing import Any

from ._rewrite import RewriteError, _Table
from .errors import LiteRtError

__all__ = ["with_operators", "operators_using"]

# TFLite schema slots: Model.operator_codes / subgraphs, SubGraph.operators, Operator.opcode_index,
# OperatorCode.deprecated_builtin_code / custom_code / version / builtin_code.
_MODEL_OPERATOR_CODES, _MODEL_SUBGRAPHS, _SUBGRAPH_OPERATORS, _OP_OPCODE_INDEX = 1, 2, 3, 0
_CODE_DEPRECATED, _CODE_CUSTOM, _CODE_VERSION, _CODE_BUILTIN = 0, 1, 2, 3
_MAX_LISTED = 5

_BUILTIN = re.compile(r"builtin opcode '(?P<name>[A-Z0-9_]+)' version '(?P<version>-?\d+)'")
_CUSTOM = re.compile(r"custom op for name '(?P<name>[^']*)' version '(?P<version>-?\d+)'")


def operators_using(content: bytes, name: str, version: int, custom: bool) -> list[str]:
    """Labels of the operators whose operator code is ``name`` (a builtin operator name, or a custom code when
    ``custom``) at ``version``."""
    from ._schema import BUILTIN_OP_NAMES

    try:
        model = _Table(content, int.from_bytes(content[:4], "little"))
        codes = []
        for c in model.tables(_MODEL_OPERATOR_CODES):
            code = max(c.scalar(_CODE_DEPRECATED, "<b", 0), c.scalar(_CODE_BUILTIN, "<i", 0))
            label = c.string(_CODE_CUSTOM) if custom else BUILTIN_OP_NAMES.get(code)
            codes.append(label == name and c.scalar(_CODE_VERSION, "<i", 1) == version)
        found = []
        for s, sg in enumerate(model.tables(_MODEL_SUBGRAPHS)):
            for k, op in enumerate(sg.tables(_SUBGRAPH_OPERATORS)):
                index = op.scalar(_OP_OPCODE_INDEX, "<I", 0)
                if index < len(codes) and codes[index]:
                    found.append(f"operator {k} ({name}, version {version}) of subgraph {s}")
        return found
    except (RewriteError, IndexError, ValueError, OverflowError, struct.error):  # never hide the original error
        return []


def with_operators(error: LiteRtError, model: Any) -> LiteRtError:
    """``error`` with the operators its runtime reason refers to appended (the same exception class and status);
    ``error`` itself when the reason names no operator code of the model."""
    message = error.message
    m = _BUILTIN.search(message) or _CUSTOM.search(message)
    if m is None:
        return error
    found = operators_using(model.content(), m.group("name"), int(m.group("version")), m.re is _CUSTOM)
    if not found:
        return error
    more = f" and {len(found) - _MAX_LISTED} more" if len(found) > _MAX_LISTED else ""
    try:
        return type(error)(f"{message} (at {', '.join(found[:_MAX_LISTED])}{more})", error.status)
    except TypeError:  # a subclass with another constructor
        return error
