"""Kernel rules: operand facts the runtime's builtin kernels and its XNNPACK delegate trust without checking.

Each rule below comes from a model that passed the structural and shape checks of :mod:`._verifier` and then
crashed the process (issue 17). The verifier calls :func:`check_kernel_rules` once the model is known to be
well-formed; every violation is reported as a problem that names the operator (index, subgraph and name), the
tensor and the rule, so :func:`~litert_sdk._verifier.verify_model_bytes` raises a typed
:class:`~litert_sdk.errors.ModelError` before the runtime sees the bytes.

Rules (tables below):

* **Requantization limits** (:data:`REQUANT_RULES`). Quantized ADD, SUB (int8, uint8, int16) and
  SQUARED_DIFFERENCE (int8) turn their scales into fixed-point multipliers in ``Prepare`` and abort the process
  (a ``TFLITE_CHECK``) when a multiplier that must be below one is not: ``0 < m < 1`` and, once rounded to a Q31
  significand, an exponent ``<= 0``. With ``s1, s2`` the input scales, ``so`` the output scale and ``L`` the
  kernel's left shift (20 for 8-bit, 15 for 16-bit, 7 for SQUARED_DIFFERENCE):

  - input multipliers ``s_i / (2 max(s1, s2))``;
  - output multiplier ``2 max(s1, s2) / (2^L so)`` (``(2 max)^2 / (2^(2L) so)`` for SQUARED_DIFFERENCE);
  - SUB takes another path for an output multiplier above one, so only ``m <= 1`` must pass the test there.

  So ADD aborts from an input/output scale ratio of 2^19 (8-bit) or 2^14 (16-bit) on, SUB at exactly those ratios
  (and the few multipliers just below one that round up to one), SQUARED_DIFFERENCE from ``(2 max)^2/so >= 2^14``.
  int16 ADD/SUB whose options ask for power-of-two scales (``pot_scale_int16``, the default when the options are
  present) and whose three scales are powers of two take a path without these checks. The kernels see one scale
  per tensor: a tensor with no scale or with several is seen with scale 0, which the multipliers refuse too
  (measured: every such int8/uint8 ADD/SUB/SQUARED_DIFFERENCE aborts), except int16 ADD whose input 0 has no
  quantization at all, which the kernel computes as plain integers.
  MUL, DIV and the comparisons were measured not to abort for any scale ratio (their multipliers may exceed one).
* **Convolution operands** (:data:`CONV_RULES`). XNNPACK reads ``output channels`` bias values and filter slices
  sized from the other operands without checking them: the bias must hold exactly one value per output channel,
  the filter's output channels must be the output's channels, and its input channels must divide (CONV_2D, as
  groups), equal (TRANSPOSE_CONV, FULLY_CONNECTED) or divide into (DEPTHWISE_CONV_2D, a depth multiplier) the
  input's channels.

* **Quantized comparisons** (:data:`COMPARE_RULES`): each input scale is quantized as a multiplier; exactly 1.0
  (or 0: no single scale) aborts.
* **Integer division** (:data:`DIVISION_RULES`): FLOOR_MOD of INT_MIN by -1 (SIGFPE); see :mod:`._division_guard`.
* **No broadcasting** (:data:`SAME_SHAPE_OPS`): ATAN2 reads every input with input 0's element count.
* **Options tables** (:data:`REQUIRED_OPTIONS`): SPLIT reads SplitOptions without checking the table's type.

The TFLite schema facts these rules use (operator codes, tensor types, options tables and slots) are declared once,
in :data:`SCHEMA_OPS`, :data:`TENSOR_TYPES`, :data:`OPTIONS_TABLES` and :data:`OPTION_FIELDS`; the rule tables
refer to them by name.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._arrays import isin
from ._schema import BUILTIN_CODES

if TYPE_CHECKING:
    from ._verifier import _Tables, _Verifier

__all__ = ["OperatorView", "check_kernel_rules", "REQUANT_RULES", "COMPARE_RULES", "CONV_RULES", "DIVISION_RULES",
           "REQUIRED_OPTIONS", "SAME_SHAPE_OPS", "DivisionSite", "SCHEMA_OPS", "TENSOR_TYPES", "OPTION_FIELDS",
           "OPTIONS_TABLES",
           "ALLOW_UNBOUNDED_DIVISION_ENV", "multiplier_below_one_ok", "requant_problem"]

# ---- TFLite schema facts (schema.fbs), the only literals of this module -------------------------------------------
SCHEMA_OPS: dict[str, int] = {name: BUILTIN_CODES[name] for name in (  # BuiltinOperator, from _schema
    "ADD", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MUL", "SUB", "DIV", "TRANSPOSE_CONV", "FLOOR_DIV",
    "FLOOR_MOD", "SQUARED_DIFFERENCE", "ARG_MAX", "ARG_MIN", "SHAPE", "RANK", "SPLIT", "LESS", "GREATER",
    "GREATER_EQUAL", "LESS_EQUAL", "EQUAL", "NOT_EQUAL", "ATAN2")}
# BuiltinOptions union types of the options tables named by the rules.
OPTIONS_TABLES: dict[str, int] = {"SplitOptions": 35}
TENSOR_TYPES: dict[str, int] = {  # TensorType
    "float32": 0, "float16": 1, "int32": 2, "uint8": 3, "int64": 4, "int16": 7, "int8": 9,
}
# option name -> (operator, BuiltinOptions union type of its options table, field slot, struct format, default)
OPTION_FIELDS: dict[str, tuple[str, int, int, str, Any]] = {
    "AddOptions.pot_scale_int16": ("ADD", 11, 1, "<?", True),
    "SubOptions.pot_scale_int16": ("SUB", 28, 1, "<?", True),
}
# Table field slots: Operator.builtin_options_type / builtin_options, Tensor.name / quantization,
# QuantizationParameters.scale / zero_point, Model.signature_defs, SignatureDef.subgraph_index, Model.subgraphs,
# SubGraph.inputs.
_OPERATOR_OPTIONS_TYPE, _OPERATOR_OPTIONS = 3, 4
_MODEL_SIGNATURE_DEFS, _SIGNATURE_SUBGRAPH = 7, 4
_MODEL_SUBGRAPHS, _SUBGRAPH_INPUTS = 2, 1
_TENSOR_NAME, _TENSOR_QUANTIZATION = 3, 4
_QUANT_SCALE, _QUANT_ZERO_POINT = 2, 3

_OP_NAMES = {code: name for name, code in SCHEMA_OPS.items()}
_TYPE_NAMES = {code: name for name, code in TENSOR_TYPES.items()}


# ---- rule tables ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequantRule:
    """Fixed-point multipliers a quantized elementwise kernel derives from its scales (see the module doc)."""

    left_shift: dict[str, int]  # tensor type name -> the kernel's left shift
    squared: bool = False  # SQUARED_DIFFERENCE: the output multiplier uses (2 max)^2 and 2^(2L)
    above_one_ok: bool = False  # SUB: an output multiplier above one takes another (checked) path
    pot_option: str | None = None  # OPTION_FIELDS entry that selects the power-of-two int16 path
    # types for which an input 0 without quantization parameters selects plain integer arithmetic (no multipliers)
    plain_if_input0_unquantized: tuple[str, ...] = ()


REQUANT_RULES: dict[str, RequantRule] = {
    "ADD": RequantRule({"int8": 20, "uint8": 20, "int16": 15}, pot_option="AddOptions.pot_scale_int16",
                       plain_if_input0_unquantized=("int16",)),
    "SUB": RequantRule({"int8": 20, "uint8": 20, "int16": 15}, above_one_ok=True,
                       pot_option="SubOptions.pot_scale_int16"),
    "SQUARED_DIFFERENCE": RequantRule({"int8": 7}, squared=True),
}


@dataclass(frozen=True)
class InputScaleRule:
    """A quantized comparison: each input's scale is quantized as a multiplier, with the "smaller than one" routine
    for scales up to one (so a scale of exactly 1.0, or 0 for a tensor without one scale, aborts) and another one
    above. Measured on ai-edge-litert 2.3.0: int8/uint8 LESS, GREATER, GREATER_EQUAL, LESS_EQUAL; int8/uint8/int16
    EQUAL and NOT_EQUAL (int16 with an unquantized input 0 compares plain integers)."""

    types: tuple[str, ...]
    plain_if_input0_unquantized: tuple[str, ...] = ()


_ORDERED = InputScaleRule(("int8", "uint8"))
_EQUALITY = InputScaleRule(("int8", "uint8", "int16"), plain_if_input0_unquantized=("int16",))
COMPARE_RULES: dict[str, InputScaleRule] = {"LESS": _ORDERED, "GREATER": _ORDERED, "GREATER_EQUAL": _ORDERED,
                                            "LESS_EQUAL": _ORDERED, "EQUAL": _EQUALITY, "NOT_EQUAL": _EQUALITY}


@dataclass(frozen=True)
class ConvRule:
    """Operand positions and filter layout of a convolution-like operator."""

    input: int  # position of the data input
    filter: int  # position of the filter / weights
    bias: int  # position of the (optional) bias
    filter_rank: int
    out_axis: int  # filter axis of the output channels
    in_axis: int  # filter axis of the input channels
    channels: str  # how input channels relate to the filter's: "groups", "equal", "depthwise", "flatten"


CONV_RULES: dict[str, ConvRule] = {
    "CONV_2D": ConvRule(input=0, filter=1, bias=2, filter_rank=4, out_axis=0, in_axis=3, channels="groups"),
    "DEPTHWISE_CONV_2D": ConvRule(input=0, filter=1, bias=2, filter_rank=4, out_axis=3, in_axis=0,
                                  channels="depthwise"),
    "TRANSPOSE_CONV": ConvRule(input=2, filter=1, bias=3, filter_rank=4, out_axis=0, in_axis=3, channels="equal"),
    "FULLY_CONNECTED": ConvRule(input=0, filter=1, bias=2, filter_rank=2, out_axis=0, in_axis=1,
                                channels="flatten"),
}


# ---- the fixed-point arithmetic of the kernels ---------------------------------------------------------------------
def multiplier_below_one_ok(m: float) -> bool:
    """Whether the kernels' "multiplier smaller than one" quantization accepts ``m``: ``0 < m < 1`` and the Q31
    significand, rounded half away from zero, does not round up to an exponent above zero."""
    if not (0.0 < m < 1.0):  # also False for NaN
        return False
    q, shift = math.frexp(m)
    q_fixed = math.floor(q * (1 << 31) + 0.5)
    if q_fixed == 1 << 31:
        shift += 1
    return shift <= 0


def _is_power_of_two(scale: float) -> bool:
    """The kernels' test for a power-of-two scale: log2 within 1e-3 of an integer."""
    if not scale > 0.0 or not math.isfinite(scale):
        return False
    x = math.log(scale) * (1.0 / math.log(2.0))
    return abs(x - round(x)) < 1e-3


def requant_problem(rule: RequantRule, type_name: str, s1: float, s2: float, so: float, pot: bool) -> str | None:
    """Why the kernel would abort for these (effective, float32) scales, or None when it accepts them."""
    shift = rule.left_shift.get(type_name)
    if shift is None:
        return None
    if type_name == "int16" and pot and all(_is_power_of_two(s) for s in (s1, s2, so)):
        return None  # the power-of-two int16 path: no multipliers
    f32 = np.float32
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        twice_max = float(f32(2) * max(f32(s1), f32(s2)))
        for k, s in ((1, s1), (2, s2)):
            m = float(np.float64(f32(s)) / twice_max) if twice_max else math.nan
            if not multiplier_below_one_ok(m):
                return (f"input {k - 1} multiplier scale/(2*max input scale) = {m:.6g} is not in the kernel's "
                        f"range (0, 1)")
        if rule.squared:
            denom = float(f32(1 << (2 * shift)) * f32(so))
            m = twice_max * twice_max / denom if denom else math.inf
            what = f"(2*max input scale)^2 / (2^{2 * shift} * output scale)"
        else:
            denom = float(f32(1 << shift) * f32(so))
            m = twice_max / denom if denom else math.inf
            what = f"2*max input scale / (2^{shift} * output scale)"
    if rule.above_one_ok and m > 1.0 and math.isfinite(m):
        return None
    if multiplier_below_one_ok(m):
        return None
    limit = " or above 1" if rule.above_one_ok else ""
    return (f"output multiplier {what} = {m:.6g} must be in (0, 1){limit} after Q31 rounding "
            f"(input scales {s1:.6g}, {s2:.6g}, output scale {so:.6g}; the kernel aborts the process otherwise)")


def per_op(arr: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> list[list[int]]:
    """The values of a gathered per-operator vector (values, owning operator, position), as one list per operator."""
    vals, owner, _ = arr
    out: list[list[int]] = [[] for _ in range(n)]
    for val, o in zip(vals.tolist(), owner.tolist(), strict=False):
        out[o].append(val)
    return out


# ---- reading the verified flatbuffer -------------------------------------------------------------------------------
class OperatorView:
    """The operators of a verified model as the verifier's passes read them: tables, subgraph and index of each,
    builtin code, and each one's input and output tensor lists (``per_op``)."""

    def __init__(self, v: _Verifier, ops: _Tables, o_sg: np.ndarray, o_local: np.ndarray, code: np.ndarray,
                 io: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        self.v, self.ops, self.o_sg, self.o_local, self.code = v, ops, o_sg, o_local, code
        self.ins = per_op(io["input"], len(ops))
        self.outs = per_op(io["output"], len(ops))
        self.data = v.u8


class _Facts(OperatorView):
    """Per-tensor and per-operator facts read from an already verified model (bounds were checked)."""

    def __init__(self, v: _Verifier, ops: _Tables, o_sg: np.ndarray, o_local: np.ndarray, code: np.ndarray,
                 io: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        super().__init__(v, ops, o_sg, o_local, code, io)
        # lazily filled caches (integer division rule)
        self.writers: dict[int, dict[int, int]] = {}  # subgraph -> {tensor: opcode of its writer}
        self.subgraph_inputs: dict[int, set[int]] = {}
        self.signature_subgraphs: set[int] | None = None

    # table primitives on single, verified tables
    def _field(self, pos: int, slot: int) -> int:
        vt = pos - struct.unpack_from("<i", self.data, pos)[0]
        vtsize = struct.unpack_from("<H", self.data, vt)[0]
        vo = 4 + 2 * slot
        if vo + 2 > vtsize:
            return 0
        off = struct.unpack_from("<H", self.data, vt + vo)[0]
        return pos + off if off else 0

    def _target(self, pos: int, slot: int) -> int:
        fp = self._field(pos, slot)
        return fp + struct.unpack_from("<I", self.data, fp)[0] if fp else 0

    def _vector(self, pos: int, slot: int, fmt: str) -> tuple[Any, ...]:
        tgt = self._target(pos, slot)
        if not tgt:
            return ()
        n = struct.unpack_from("<I", self.data, tgt)[0]
        return struct.unpack_from(f"<{n}{fmt}", self.data, tgt + 4)

    # operators
    def label(self, op: int) -> str:
        c = int(self.code[op])
        return f"operator {int(self.o_local[op])} ({_OP_NAMES.get(c, f'builtin operator {c}')}) of subgraph " \
               f"{int(self.o_sg[op])}"

    def option(self, op: int, name: str) -> Any:
        """An options field as the runtime's parser reads it: the default when the options table is absent or of
        another type; ``None`` (the parser's zero-initialised parameters) when there are no such options at all."""
        _, utype, slot, fmt, default = OPTION_FIELDS[name]
        pos = int(self.ops.pos[op])
        tfp = self._field(pos, _OPERATOR_OPTIONS_TYPE)
        if not tfp or self.data[tfp] != utype:
            return None
        tab = self._target(pos, _OPERATOR_OPTIONS)
        if not tab:
            return None
        fp = self._field(tab, slot)
        return struct.unpack_from(fmt, self.data, fp)[0] if fp else default

    # tensors
    def _g(self, sg: int, t: int) -> int:
        return int(self.v.t_first[sg]) + t

    def type(self, sg: int, t: int) -> int:
        return int(self.v.t_type[self._g(sg, t)])

    def shape(self, sg: int, t: int) -> list[int]:
        """Declared shape, with -1 where the shape signature marks a dimension as dynamic; for a computed tensor
        declared with another shape, the one the kernel computes, which the runtime is given (the shape checker's
        ``shape_hints``, gathered before these rules run)."""
        v, g = self.v, self._g(sg, t)
        hinted = v.stats.shape_hints.get((sg, t))
        if hinted is not None:
            return list(hinted)
        start, ln = v.t_shape
        n = int(ln[g])
        dims = v.i32[int(start[g]) >> 2: (int(start[g]) >> 2) + n].tolist()
        sig_start, sig_len, has_sig = v.t_sig
        if has_sig[g] and int(sig_len[g]) == n:
            sig = v.i32[int(sig_start[g]) >> 2: (int(sig_start[g]) >> 2) + n].tolist()
            dims = [-1 if s < 0 else d for d, s in zip(dims, sig, strict=False)]
        return dims

    def name(self, sg: int, t: int) -> str:
        tensors = getattr(self.v, "tensors", None)
        if tensors is None:
            return ""
        tgt = self._target(int(tensors.pos[self._g(sg, t)]), _TENSOR_NAME)
        if not tgt:
            return ""
        n = struct.unpack_from("<I", self.data, tgt)[0]
        return bytes(self.data[tgt + 4: tgt + 4 + min(n, 80)]).decode("utf-8", "replace")

    def tensor(self, sg: int, t: int) -> str:
        name = self.name(sg, t)
        return f"tensor {t}" + (f" {name!r}" if name else "")

    def scales(self, sg: int, t: int) -> tuple[float, ...]:
        tensors = getattr(self.v, "tensors", None)
        if tensors is None:
            return ()
        q = self._target(int(tensors.pos[self._g(sg, t)]), _TENSOR_QUANTIZATION)
        return tuple(float(s) for s in self._vector(q, _QUANT_SCALE, "f")) if q else ()

    def effective_scale(self, sg: int, t: int) -> float:
        """The scale the kernels see: the only scale of a per-tensor quantized tensor, else 0."""
        s = self.scales(sg, t)
        return s[0] if len(s) == 1 else 0.0


Check = Callable[[_Facts, int, str, int, list[int], list[int]], Iterator[str]]


def _requant(f: _Facts, op: int, name: str, sg: int, ins: list[int], outs: list[int]) -> Iterator[str]:
    rule = REQUANT_RULES[name]
    if len(ins) != 2 or len(outs) != 1 or min(*ins, *outs) < 0:
        return
    type_name = _TYPE_NAMES.get(f.type(sg, outs[0]), "")
    if type_name not in rule.left_shift:
        return
    if type_name in rule.plain_if_input0_unquantized and not f.scales(sg, ins[0]):
        return
    s1, s2, so = (f.effective_scale(sg, t) for t in (ins[0], ins[1], outs[0]))
    pot = bool(f.option(op, rule.pot_option)) if rule.pot_option else False
    why = requant_problem(rule, type_name, s1, s2, so, pot)
    if why:
        yield (f"{f.label(op)}: {type_name} output {f.tensor(sg, outs[0])} breaks the requantization rule: {why}")


def _compare(f: _Facts, op: int, name: str, sg: int, ins: list[int], outs: list[int]) -> Iterator[str]:
    rule = COMPARE_RULES[name]
    if len(ins) != 2 or min(ins) < 0:
        return
    type_name = _TYPE_NAMES.get(f.type(sg, ins[0]), "")
    if type_name not in rule.types:
        return
    if type_name in rule.plain_if_input0_unquantized and not f.scales(sg, ins[0]):
        return
    for k, t in enumerate(ins):
        m = f.effective_scale(sg, t)
        if m > 1.0 and math.isfinite(m) or multiplier_below_one_ok(m):
            continue
        none = " (none, or several)" if not m else ""
        yield (f"{f.label(op)}: {type_name} input {k} {f.tensor(sg, t)} has scale {m:.6g}{none}; the "
               f"kernel quantizes each input scale as a multiplier and aborts the process for 0, 1.0 and values that "
               f"round to one (rule: input scales of quantized comparisons must be in (0, 1) or above 1)")


def _conv(f: _Facts, op: int, name: str, sg: int, ins: list[int], outs: list[int]) -> Iterator[str]:
    rule = CONV_RULES[name]
    if len(ins) <= max(rule.input, rule.filter) or not outs or outs[0] < 0:
        return
    if ins[rule.input] < 0 or ins[rule.filter] < 0:
        return
    w = f.shape(sg, ins[rule.filter])
    if len(w) != rule.filter_rank:
        yield (f"{f.label(op)}: filter {f.tensor(sg, ins[rule.filter])} has rank {len(w)}, the kernel needs "
               f"rank {rule.filter_rank}")
        return
    oc = w[rule.out_axis]
    fin = w[rule.in_axis]
    out = f.shape(sg, outs[0])
    lbl = f.label(op)
    if out and oc >= 0 and out[-1] >= 0 and out[-1] != oc:
        yield (f"{lbl}: output {f.tensor(sg, outs[0])} has {out[-1]} channels but filter "
               f"{f.tensor(sg, ins[rule.filter])} has {oc} output channels (rule: output channels == filter "
               f"dimension {rule.out_axis})")
    if len(ins) > rule.bias and ins[rule.bias] >= 0 and oc >= 0:
        b = f.shape(sg, ins[rule.bias])
        count = int(np.prod(b, dtype=np.int64)) if b and min(b) >= 0 else (1 if not b else -1)
        if count >= 0 and count != oc:
            yield (f"{lbl}: bias {f.tensor(sg, ins[rule.bias])} has {count} elements (shape {b}) but the filter "
                   f"{f.tensor(sg, ins[rule.filter])} has {oc} output channels (rule: bias length == output "
                   f"channels)")
    x = f.shape(sg, ins[rule.input])
    ic = x[-1] if x else -1
    if ic < 0 or fin < 0:
        return
    filt = f.tensor(sg, ins[rule.filter])
    inp = f.tensor(sg, ins[rule.input])
    if rule.channels == "groups":
        if fin == 0 or ic % fin or (oc >= 0 and oc % (ic // fin or 1)):
            yield (f"{lbl}: input {inp} has {ic} channels, filter {filt} {fin} input and {oc} output channels "
                   f"(rule: input channels == groups * filter input channels, output channels divisible by groups)")
    elif rule.channels == "equal":
        if ic != fin:
            yield (f"{lbl}: input {inp} has {ic} channels but filter {filt} has {fin} input channels (rule: "
                   f"input channels == filter dimension {rule.in_axis})")
    elif rule.channels == "depthwise":
        if fin != 1 or ic == 0 or (oc >= 0 and oc % ic):
            yield (f"{lbl}: input {inp} has {ic} channels, filter {filt} has shape {w} (rule: filter dimension 0 "
                   f"== 1, output channels == input channels * depth multiplier)")
    elif rule.channels == "flatten":
        count = int(np.prod(x, dtype=np.int64)) if min(x) >= 0 else -1
        if fin <= 0 or (count >= 0 and count % fin):
            yield (f"{lbl}: input {inp} of shape {x} cannot be split into rows of the filter's {fin} input "
                   f"values (rule: input elements divisible by filter dimension 1)")


@dataclass(frozen=True)
class DivisionRule:
    """An integer division kernel that divides with the machine instruction: INT_MIN by -1 raises SIGFPE."""

    types: tuple[str, ...]


# Measured with ai-edge-litert 2.3.0 (child processes): FLOOR_MOD of INT_MIN by -1 dies with SIGFPE for int32 and
# int64. DIV int32 saturates (2147483647), FLOOR_DIV int32 returns INT_MIN, DIV/FLOOR_DIV int64 are refused with a
# typed error, and a zero divisor is a typed "Division by 0" error everywhere: only FLOOR_MOD needs the rule.
DIVISION_RULES: dict[str, DivisionRule] = {"FLOOR_MOD": DivisionRule(("int32", "int64"))}
# Operators whose integer outputs are never negative (shapes, ranks, indices): never INT_MIN, never -1.
NON_NEGATIVE_OUTPUTS = frozenset({"SHAPE", "RANK", "ARG_MAX", "ARG_MIN"})
ALLOW_UNBOUNDED_DIVISION_ENV = "LITERT_SDK_ALLOW_UNBOUNDED_INTEGER_DIVISION"


@dataclass(frozen=True)
class DivisionSite:
    """An integer division whose fatal operand pair can only come from signature inputs: checked before each run.
    ``dividend``/``divisor`` are tensor indices of ``subgraph``; a constant operand holds the fatal value."""

    subgraph: int
    label: str
    type_name: str
    dividend: int
    divisor: int
    dividend_is_constant: bool
    divisor_is_constant: bool


def _constant_values(f: _Facts, sg: int, t: int, type_name: str) -> np.ndarray | None:
    v = f.v
    g = f._g(sg, t)
    b = int(v.t_buf[g])
    size, pos = int(v.buf_bytes[b]), int(v.buf_pos[b])
    if size <= 0:
        return None
    dtype = "<i4" if type_name == "int32" else "<i8"
    item = np.dtype(dtype).itemsize
    if size % item or pos + size > v.n:
        return None
    return np.frombuffer(bytes(f.data[pos: pos + size]), dtype)


def _writers(f: _Facts, sg: int) -> dict[int, int]:
    if sg not in f.writers:
        w: dict[int, int] = {}
        for op in np.flatnonzero(f.o_sg == sg).tolist():
            for t in f.outs[op]:
                if t >= 0:
                    w[t] = int(f.code[op])
        f.writers[sg] = w
    return f.writers[sg]


def _signature_subgraphs(f: _Facts) -> set[int]:
    data = f.data
    root = struct.unpack_from("<I", data, 0)[0]
    tgt = f._target(root, _MODEL_SIGNATURE_DEFS)
    if not tgt:
        return {0}  # the runtime's default signature runs subgraph 0
    n = struct.unpack_from("<I", data, tgt)[0]
    out = set()
    for k in range(n):
        p = tgt + 4 + 4 * k
        fp = f._field(p + struct.unpack_from("<I", data, p)[0], _SIGNATURE_SUBGRAPH)
        out.add(struct.unpack_from("<I", data, fp)[0] if fp else 0)
    return out


def _division(f: _Facts, op: int, name: str, sg: int, ins: list[int], outs: list[int]) -> Iterator[str]:
    rule = DIVISION_RULES[name]
    if len(ins) != 2 or min(ins) < 0:
        return
    type_name = _TYPE_NAMES.get(f.type(sg, ins[0]), "")
    if type_name not in rule.types:
        return
    info = np.iinfo(np.int32 if type_name == "int32" else np.int64)
    writers = _writers(f, sg)
    non_negative = {SCHEMA_OPS[n] for n in NON_NEGATIVE_OUTPUTS}
    state = []
    for t, fatal in ((ins[0], int(info.min)), (ins[1], -1)):
        values = _constant_values(f, sg, t, type_name)
        if values is not None:
            state.append("safe" if not (values == fatal).any() else "constant")
        elif writers.get(t) in non_negative:
            state.append("safe")
        elif t not in writers and _is_signature_input(f, sg, t):
            state.append("input")
        else:
            state.append("computed")
    if "safe" in state:
        return
    label = f.label(op)
    if "computed" not in state:
        sites: list[DivisionSite] = f.v.__dict__.setdefault("division_sites", [])  # read by _division_guard
        sites.append(DivisionSite(sg, label, type_name, ins[0], ins[1], state[0] == "constant",
                                  state[1] == "constant"))
        return
    if os.environ.get(ALLOW_UNBOUNDED_DIVISION_ENV) == "1":
        return
    yield (f"{label}: {type_name} dividend {f.tensor(sg, ins[0])} and divisor {f.tensor(sg, ins[1])} are computed by "
           f"the model, so the SDK cannot bound them; {info.min} modulo -1 kills the process (SIGFPE) in the "
           f"runtime's kernel (rule: integer FLOOR_MOD operands must be constants without the fatal value, "
           f"non-negative shape values or signature inputs, which the SDK checks before each run; set "
           f"{ALLOW_UNBOUNDED_DIVISION_ENV}=1 to load such models anyway)")


def _is_signature_input(f: _Facts, sg: int, t: int) -> bool:
    """Whether tensor ``t`` is an input of subgraph ``sg`` and that subgraph is run by a signature (the SDK sees and
    can check the values of those inputs; inputs of control-flow bodies are computed)."""
    if f.signature_subgraphs is None:
        f.signature_subgraphs = _signature_subgraphs(f)
    if sg not in f.signature_subgraphs:
        return False
    if sg not in f.subgraph_inputs:
        data = f.data
        root = struct.unpack_from("<I", data, 0)[0]
        tgt = f._target(root, _MODEL_SUBGRAPHS)
        p = tgt + 4 + 4 * sg
        f.subgraph_inputs[sg] = set(f._vector(p + struct.unpack_from("<I", data, p)[0], _SUBGRAPH_INPUTS, "i"))
    return t in f.subgraph_inputs[sg]


# Operators whose kernel reads its parameters without checking that the options table is of its own type: another
# type (or none) leaves them unset and the kernel crashes (measured: SPLIT with ConcatenationOptions or without
# options segfaults ai-edge-litert 2.3.0 at allocation; found by the fuzzer's operator-code mutation).
REQUIRED_OPTIONS: dict[str, str] = {"SPLIT": "SplitOptions"}


# Elementwise operators whose kernel does not broadcast: it sizes the output from input 0 and reads every other
# input with input 0's element count (measured: ATAN2 of x [n] and y [1] reads n values of y, garbage for small n and
# SIGSEGV from about 2^17 elements; found by the semantic fuzzer, which made an ADD into ATAN2).
SAME_SHAPE_OPS = frozenset({"ATAN2"})


def _same_shape(f: _Facts, op: int, name: str, sg: int, ins: list[int], outs: list[int]) -> Iterator[str]:
    if len(ins) < 2 or min(ins) < 0:
        return
    first = f.shape(sg, ins[0])
    for k, t in enumerate(ins[1:], 1):
        other = f.shape(sg, t)
        if other != first and -1 not in other + first:
            yield (f"{f.label(op)}: input {k} {f.tensor(sg, t)} has shape {other} but input 0 {f.tensor(sg, ins[0])} "
                   f"has shape {first} (rule: the kernel does not broadcast; every input has input 0's shape)")


def _options_type(f: _Facts, op: int, name: str, sg: int, ins: list[int], outs: list[int]) -> Iterator[str]:
    want = REQUIRED_OPTIONS[name]
    pos = int(f.ops.pos[op])
    tfp = f._field(pos, _OPERATOR_OPTIONS_TYPE)
    got = int(f.data[tfp]) if tfp else 0
    if got != OPTIONS_TABLES[want] or not f._target(pos, _OPERATOR_OPTIONS):
        yield (f"{f.label(op)} has builtin options of union type {got}{' (none)' if not got else ''}, not {want} "
               f"({OPTIONS_TABLES[want]}) (rule: the kernel reads {want} without checking; any other options crash it)")


_CHECKS: dict[int, tuple[str, Check]] = {
    **{SCHEMA_OPS[name]: (name, _requant) for name in REQUANT_RULES},
    **{SCHEMA_OPS[name]: (name, _conv) for name in CONV_RULES},
    **{SCHEMA_OPS[name]: (name, _division) for name in DIVISION_RULES},
    **{SCHEMA_OPS[name]: (name, _options_type) for name in REQUIRED_OPTIONS},
    **{SCHEMA_OPS[name]: (name, _compare) for name in COMPARE_RULES},
    **{SCHEMA_OPS[name]: (name, _same_shape) for name in SAME_SHAPE_OPS},
}


def check_kernel_rules(v: _Verifier, ops: _Tables, o_sg: np.ndarray, o_local: np.ndarray, code: np.ndarray,
                       io: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Reports (``v.problem``) every operator that breaks a kernel rule. Call only on a structurally valid model."""
    if not len(ops) or not isin(code, list(_CHECKS)).any():
        return
    f = _Facts(v, ops, o_sg, o_local, code, io)
    for op in np.flatnonzero(isin(code, list(_CHECKS))).tolist():
        name, check = _CHECKS[int(code[op])]
        sg = int(o_sg[op])
        for problem in check(f, op, name, sg, f.ins[op], f.outs[op]):
            v.problem(problem)
