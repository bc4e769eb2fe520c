"""Run-time guards for integer divisions the runtime's kernels cannot survive (see ``DIVISION_RULES`` in
:mod:`._kernel_rules`).

FLOOR_MOD of INT_MIN by -1 kills the process with SIGFPE inside the runtime. The verifier accepts an integer
FLOOR_MOD only when a constant operand rules the fatal pair out, an operand is a non-negative shape value, or the
operands are signature inputs (or constants). For the last kind :func:`division_guards` lists, per signature, which
inputs to check; the compiled model scans those inputs before every run and raises
:class:`~litert_sdk.errors.InvalidArgumentError` for a run that holds both fatal values (``set_division_guards`` in
``native/compiled_model.cc``).
"""

from __future__ import annotations

from typing import Any

from ._kernel_rules import DIVISION_RULES, SCHEMA_OPS, DivisionSite
from ._types import ElementType
from ._verifier import _Structural, _TooMany, _Verifier

__all__ = ["division_guards", "division_sites"]

_ELEMENT_TYPES = {"int32": ElementType.INT32, "int64": ElementType.INT64}
_CODES = frozenset(SCHEMA_OPS[name] for name in DIVISION_RULES)


def division_sites(data: bytes) -> list[DivisionSite]:
    """The integer divisions of a (valid) model whose operands must be checked at run time."""
    v = _Verifier(data)
    try:
        v.run()
    except (_Structural, _TooMany):
        return []
    return list(getattr(v, "division_sites", []))


def division_guards(model: Any) -> list[tuple[int, int, int, int, str]]:
    """``(signature index, dividend input position or -1, divisor input position or -1, element type,
    description)`` for every guarded division of ``model`` (a :class:`~litert_sdk.model.Model`); -1 stands for a
    constant that holds the fatal value. Empty (without reading the model again) when it has no such operator."""
    if not any(op.opcode in _CODES for sg in model.subgraphs for op in sg.ops):
        return []
    data = model.content()
    out = []
    for site in division_sites(data):
        for spec in model.signatures:
            if spec.subgraph != site.subgraph:
                continue
            positions = {t.index: k for k, (_, t) in enumerate(spec.inputs)}
            dividend = -1 if site.dividend_is_constant else positions.get(site.dividend)
            divisor = -1 if site.divisor_is_constant else positions.get(site.divisor)
            if dividend is None or divisor is None:
                continue  # not an input of this signature: it cannot be set, so it keeps its (zero) contents
            out.append((spec.index, dividend, divisor, int(_ELEMENT_TYPES[site.type_name]),
                        f"{site.label} (signature {spec.key!r})"))
    return out
