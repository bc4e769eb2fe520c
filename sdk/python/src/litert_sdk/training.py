"""On-device training with models whose weights are resource variables.

A trainable ``.tflite`` model is a ``tf.Module`` whose weights are ``tf.Variable``\\ s, converted with
``experimental_enable_resource_variables=True``. By convention it exports these signatures (the names can be
changed in :class:`Trainer`):

* ``train(x, y, ...) -> {"loss": ...}``: one optimisation step on one batch (GradientTape + ``assign_sub``);
* ``infer(x, ...) -> {...}``: the forward pass;
* ``get_weights() -> {name: value, ...}`` and ``set_weights(name=value, ...) -> {...}``: read / assign the variables
  (a ``set_weights`` without outputs is pruned by the TFLite converter, so it has to return something).

The variables live in the compiled model and persist across calls of all its signatures; resetting them means
recompiling the model (:meth:`Trainer.reset`). With TFLITE_BUILTINS only (no Flex), a ``train`` signature usually
needs a fixed batch size (the gradient of a broadcast over a dynamic dimension is a Flex op); :meth:`Trainer.fit`
skips a smaller final batch in that case. ``tests/models/make_training_models.py`` shows how such models are built.

Example::

    from litert_sdk.training import Trainer

    trainer = Trainer("mlp.tflite")
    losses = trainer.fit([(x, y) for x, y in batches], epochs=5)
    probs = trainer.infer(x=x_test)["output"]
    trainer.save_weights("mlp_weights.npz")         # .npz, .safetensors or .json; written atomically
    trainer.load_weights("mlp_weights.npz")
    trainer.reset()                                  # back to the model's initial weights

Weights files are read and written by :mod:`litert_sdk.weights` (re-exported here).

Variables in the classic API
----------------------------
:func:`get_variable_tensor_count`, :func:`get_variable_tensor` and :func:`reset_variable_tensors` describe the
resource variables of an :class:`~litert_sdk.Interpreter`'s model from its graph: each variable is a VAR_HANDLE
op (builtin 142); its shape and dtype are those of the values written by ASSIGN_VARIABLE (144) or read by
READ_VARIABLE (143). Its name is the VAR_HANDLE's ``shared_name`` (the ``tf.Module`` attribute path, e.g.
``"w"``), read from the model file, which is only possible when the model was loaded from a file; for a model given
as bytes the runtime's C API does not report ``shared_name``, and the name falls back to the VAR_HANDLE's output
tensor name, which the converter makes unique across the model with a numeric suffix (e.g. ``"w4"``). Variable
*values* cannot be read through the classic API (the runtime exposes no variable tensors); use a ``get_weights``
signature.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._lifecycle import Closable
from ._variables import (  # (re-exported: they were defined here)
    get_variable_tensor,
    get_variable_tensor_count,
    get_variable_tensors,
    reset_variable_tensors,
)
from .errors import ClosedError, InvalidArgumentError, NotFoundError, UnsupportedError, WeightsFileError
from .interpreter import Interpreter
from .model import Model, SignatureSpec, TensorSpec
from .weights import (  # (re-exported: they were defined here)
    WEIGHTS_FORMATS,
    PathLike,
    _weights_path,
    read_weights,
    write_weights,
)

__all__ = [
    "Trainer",
    "WeightSpec",
    "WEIGHTS_FORMATS",
    "write_weights",
    "read_weights",
    "get_variable_tensor_count",
    "get_variable_tensor",
    "get_variable_tensors",
    "reset_variable_tensors",
]

_log = logging.getLogger("litert_sdk")

# Trainer.load_weights accepts files whose tensors declare at most this many times the model's weight bytes (or
# _LOAD_SLACK_BYTES, whichever is larger): a file that declares more is refused before anything is inflated.
_LOAD_SLACK_FACTOR = 16
_LOAD_SLACK_BYTES = 64 * 1024 * 1024

# ---------------------------------------------------------------------------------------------------------------
# Trainer
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightSpec:
    """Name, shape (``-1`` for a dynamic dimension) and dtype of one weight of a trainable model."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype

    def check(self, value: Any, where: str = "") -> np.ndarray:
        """``value`` as an array of this spec's dtype and shape, or InvalidArgumentError."""
        if isinstance(value, np.ndarray):
            arr = value
            if arr.dtype != self.dtype:
                raise InvalidArgumentError(
                    f"{where}weight {self.name!r} must have dtype {self.dtype.name}, got {arr.dtype.name}"
                )
        else:
            try:
                arr = np.asarray(value, dtype=self.dtype)
            except (TypeError, ValueError, OverflowError) as e:
                raise InvalidArgumentError(
                    f"{where}weight {self.name!r} cannot be converted to {self.dtype.name}: {e}"
                ) from None
        if arr.ndim != len(self.shape) or any(s >= 0 and s != d for s, d in zip(self.shape, arr.shape, strict=False)):
            raise InvalidArgumentError(
                f"{where}weight {self.name!r} must have shape {list(self.shape)}, got {list(arr.shape)}"
            )
        return arr


def _spec_dtype(spec: TensorSpec, what: str) -> np.dtype:
    dt = spec.dtype
    if dt is None:
        raise UnsupportedError(f"{what} has element type {spec.type_name}, which numpy cannot hold")
    return dt


class Trainer(Closable):
    """Trains a model on device through its ``train`` signature and manages its weights.

    Args:
        model: a ``.tflite`` path, the model's bytes, or an :class:`~litert_sdk.Interpreter` (shared: its variables
            are the ones trained).
        train_signature: the signature that runs one optimisation step and returns the loss (output ``"loss"``, or
            its only output).
        infer_signature, get_weights_signature, set_weights_signature: the other signatures; each is optional and
            only needed by the methods that use it.
        options: :class:`~litert_sdk.Options` for the interpreter created from a path or bytes.

    The variables persist across calls of all signatures of the one compiled model. Not thread-safe: use one
    Trainer from one thread at a time.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | bytes | bytearray | memoryview | Interpreter,
        *,
        train_signature: str = "train",
        infer_signature: str = "infer",
        get_weights_signature: str = "get_weights",
        set_weights_signature: str = "set_weights",
        options: Any = None,
    ) -> None:
        self._closed = False  # (set first: close() and __del__ may run on a half-built object)
        if isinstance(model, Interpreter):
            if options is not None:
                raise InvalidArgumentError("options cannot be given with an existing Interpreter")
            self._interpreter = model
            self._owns = False
        elif isinstance(model, (bytes, bytearray, memoryview)):
            self._interpreter = Interpreter(model_content=model, options=options)
            self._owns = True
        elif isinstance(model, (str, os.PathLike)):
            self._interpreter = Interpreter(model_path=model, options=options)
            self._owns = True
        else:
            raise InvalidArgumentError(
                f"model must be a path, bytes or an Interpreter, got {type(model).__name__}"
            )
        self._model: Model = self._interpreter._model
        self._sig_names = {
            "train": train_signature,
            "infer": infer_signature,
            "get_weights": get_weights_signature,
            "set_weights": set_weights_signature,
        }
        self._sigs: dict[str, SignatureSpec | None] = {}
        for role, key in self._sig_names.items():
            self._sigs[role] = next((s for s in self._model.signatures if s.key == key and not s.is_default), None)
        train = self._sigs["train"]
        if train is None:
            raise NotFoundError(
                f"the model has no signature {train_signature!r} to train with; signatures: "
                f"{[s.key for s in self._model.signatures]}"
            )
        if "loss" in train.output_names:
            self._loss_name = "loss"
        elif len(train.outputs) == 1:
            self._loss_name = train.output_names[0]
        else:
            raise InvalidArgumentError(
                f"signature {train_signature!r} has outputs {train.output_names}: name the loss 'loss' "
                "or return only the loss"
            )
        #: The train signature's input names in the order tuples are mapped to them (sorted by name, the order
        #: tf.lite.Interpreter.get_signature_list() reports; e.g. ("x", "y")).
        self.train_input_names: tuple[str, ...] = tuple(sorted(train.input_names))
        self._runners: dict[str, Any] = {}
        self.last_train_outputs: dict[str, np.ndarray] = {}
        #: Batches fit() skipped because they were smaller than the train signature's fixed batch size.
        self.skipped_batches = 0

    # -- introspection ---------------------------------------------------------------------------------------------
    @property
    def interpreter(self) -> Interpreter:
        """The interpreter whose variables are trained."""
        return self._interpreter

    def _sig(self, role: str) -> SignatureSpec:
        s = self._sigs[role]
        if s is None:
            raise NotFoundError(
                f"the model has no {self._sig_names[role]!r} signature (needed for {role}); signatures: "
                f"{[x.key for x in self._model.signatures if not x.is_default]}"
            )
        return s

    def _runner(self, role: str) -> Any:
        if self._closed:
            raise ClosedError("the trainer is closed")
        r = self._runners.get(role)
        if r is None:
            r = self._runners[role] = self._interpreter.get_signature_runner(self._sig(role).key)
        return r

    @property
    def weight_specs(self) -> dict[str, WeightSpec]:
        """The weights ``set_weights`` accepts (else those ``get_weights`` returns), by name, sorted."""
        if self._sigs["set_weights"] is not None:
            pairs = self._sigs["set_weights"].inputs
        else:
            pairs = self._sig("get_weights").outputs
        return {
            n: WeightSpec(n, tuple(t.shape or ()), _spec_dtype(t, f"weight {n!r}")) for n, t in sorted(pairs)
        }

    @property
    def train_batch_size(self) -> int | None:
        """The train signature's fixed batch size (leading dimension of its inputs), None if dynamic."""
        sizes = {t.shape[0] for _, t in self._sig("train").inputs if t.shape and t.shape[0] >= 0}
        return sizes.pop() if len(sizes) == 1 else None

    # -- inputs ----------------------------------------------------------------------------------------------------
    def _prepare(self, role: str, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        sig = self._sig(role)
        sig.check_input_names(values)
        out = {}
        for name, spec in sorted(sig.inputs, key=lambda p: p[0]):
            dtype = _spec_dtype(spec, f"input {name!r} of {sig.key!r}")
            v = values[name]
            if v is None:
                raise InvalidArgumentError(f"input {name!r} of {sig.key!r} is None")
            arr = v if isinstance(v, np.ndarray) else np.asarray(v)
            if arr.dtype != dtype:
                if not np.can_cast(arr.dtype, dtype, casting="same_kind"):
                    raise InvalidArgumentError(
                        f"input {name!r} of {sig.key!r} must have dtype {dtype.name}, got {arr.dtype.name}"
                    )
                arr = arr.astype(dtype)
            shape = spec.shape
            if shape is not None and (
                arr.ndim != len(shape) or any(s >= 0 and s != d for s, d in zip(shape, arr.shape, strict=False))
            ):
                fixed = " (the signature has a fixed batch size)" if shape and shape[0] >= 0 else ""
                raise InvalidArgumentError(
                    f"input {name!r} of {sig.key!r} must have shape {list(shape)} (-1: any), got {list(arr.shape)}"
                    + fixed
                )
            out[name] = arr
        return out

    # -- training ------------------------------------------------------------------------------------------------
    def step(self, **batch: Any) -> float:
        """Run one training step on a batch given by input name (``trainer.step(x=..., y=...)``); returns the loss."""
        arrays = self._prepare("train", batch)
        out = self._runner("train")(**arrays)
        self.last_train_outputs = out
        loss = np.asarray(out[self._loss_name])
        if loss.size != 1:
            raise InvalidArgumentError(
                f"output {self._loss_name!r} of {self._sig('train').key!r} has shape {list(loss.shape)}; "
                "a loss must have one element"
            )
        return float(loss.reshape(-1)[0])

    def _batch_dict(self, batch: Any) -> dict[str, Any]:
        if isinstance(batch, Mapping):
            return dict(batch)
        names = self.train_input_names
        if isinstance(batch, (tuple, list)):
            if len(batch) != len(names):
                raise InvalidArgumentError(
                    f"a batch tuple must have {len(names)} element(s) for the inputs {list(names)} (in that order), "
                    f"got {len(batch)}"
                )
            return dict(zip(names, batch, strict=False))
        if isinstance(batch, np.ndarray) and len(names) == 1:
            return {names[0]: batch}
        raise InvalidArgumentError(
            f"a batch must be a dict by input name or a tuple in the order {list(names)}, got {type(batch).__name__}"
        )

    def _is_incomplete(self, batch: dict[str, Any]) -> bool:
        sig = self._sig("train")
        for name, spec in sig.inputs:
            v = batch.get(name)
            if v is None or not spec.shape or spec.shape[0] < 0:
                continue
            shape = np.shape(v)
            if len(shape) == len(spec.shape) and 0 < shape[0] < spec.shape[0] and tuple(shape[1:]) == tuple(
                d if s < 0 else s for s, d in zip(spec.shape[1:], shape[1:], strict=False)
            ):
                return True
        return False

    def fit(
        self,
        dataset: Iterable[Any] | Callable[[], Iterable[Any]],
        epochs: int = 1,
        callback: Callable[[int, int, float], Any] | None = None,
        progress: bool = False,
        *,
        drop_incomplete: bool = True,
    ) -> list[float]:
        """Train for ``epochs`` passes over ``dataset``; returns the loss of every step, in order.

        ``dataset`` yields batches: dicts by train input name, or tuples mapped to :attr:`train_input_names`
        (sorted input names, e.g. ``(x, y)``). It must be re-iterable (a list, a numpy-backed sequence...) or a
        callable returning a fresh iterable per epoch when ``epochs > 1``.

        ``callback(epoch, step, loss)`` is called after every step (0-based epoch, step within the epoch); returning
        ``False`` stops training. With ``progress`` a summary line per epoch goes to stderr.

        When the train signature has a fixed batch size, a smaller batch (typically the last one of an epoch) is
        skipped with ``drop_incomplete`` (counted in :attr:`skipped_batches`, logged once per fit) and raises
        InvalidArgumentError otherwise.
        """
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise InvalidArgumentError(f"epochs must be a non-negative int, got {epochs!r}")
        if callable(dataset) and not isinstance(dataset, Iterable):
            make = dataset
        else:
            if not isinstance(dataset, Iterable):
                raise InvalidArgumentError(f"dataset must be iterable, got {type(dataset).__name__}")
            if epochs > 1 and iter(dataset) is dataset:
                raise InvalidArgumentError(
                    "dataset is a one-shot iterator; for epochs > 1 pass a list or a callable returning an iterable"
                )

            def make() -> Iterable[Any]:
                return dataset  # type: ignore[return-value]

        losses: list[float] = []
        warned = False
        for epoch in range(epochs):
            epoch_losses: list[float] = []
            stop = False
            for batch in make():
                arrays = self._batch_dict(batch)
                if drop_incomplete and self._is_incomplete(arrays):
                    self.skipped_batches += 1
                    if not warned:
                        _log.warning(
                            "skipping a batch smaller than the train signature's fixed batch size %s",
                            self.train_batch_size,
                        )
                        warned = True
                    continue
                loss = self.step(**arrays)
                losses.append(loss)
                epoch_losses.append(loss)
                if callback is not None and callback(epoch, len(epoch_losses) - 1, loss) is False:
                    stop = True
                    break
            if progress:
                mean = sum(epoch_losses) / len(epoch_losses) if epoch_losses else float("nan")
                print(f"epoch {epoch + 1}/{epochs}: {len(epoch_losses)} steps, mean loss {mean:.6g}"
                      + (" (stopped by callback)" if stop else ""), file=sys.stderr, flush=True)
            if stop:
                break
        return losses

    # -- inference -----------------------------------------------------------------------------------------------
    def infer(self, **inputs: Any) -> dict[str, np.ndarray]:
        """Run the infer signature with inputs by name; returns its outputs by name."""
        return self._runner("infer")(**self._prepare("infer", inputs))

    # -- weights ---------------------------------------------------------------------------------------------------
    def get_weights(self) -> dict[str, np.ndarray]:
        """The current weights (copies), by name, sorted."""
        out = self._runner("get_weights")()
        return {k: np.array(out[k], copy=True) for k in sorted(out)}

    def _check_weights(self, weights: Mapping[str, Any], partial: bool, where: str = "") -> dict[str, np.ndarray]:
        if not isinstance(weights, Mapping):
            raise InvalidArgumentError(f"weights must be a mapping name -> array, got {type(weights).__name__}")
        specs = self.weight_specs
        unknown = sorted(k for k in weights if k not in specs)
        if unknown:
            raise NotFoundError(f"{where}unknown weight(s) {unknown}; the model's weights are {list(specs)}")
        missing = sorted(k for k in specs if k not in weights)
        if missing and not partial:
            raise InvalidArgumentError(f"{where}missing weight(s) {missing} (pass partial=True to keep their values)")
        return {k: specs[k].check(v, where) for k, v in weights.items()}

    def set_weights(self, weights: Mapping[str, Any], *, partial: bool = False) -> None:
        """Assign weights by name. Shapes and dtypes must match :attr:`weight_specs` exactly (InvalidArgumentError).

        Every weight must be given unless ``partial`` (the others then keep their current values).
        """
        arrays = self._check_weights(weights, partial)
        sig = self._sig("set_weights")
        if len(arrays) < len(sig.inputs):
            current = self.get_weights()
            for n in sig.input_names:
                if n not in arrays:
                    arrays[n] = current[n]
        self._runner("set_weights")(**arrays)

    def _weights_read_limit(self) -> int | None:
        """Bytes a weights file for this model may declare: the weights' own size with a wide margin (None when a
        weight has a dynamic dimension)."""
        total = 0
        for spec in self.weight_specs.values():
            if any(d < 0 for d in spec.shape):
                return None
            total += math.prod(spec.shape) * spec.dtype.itemsize
        return max(total * _LOAD_SLACK_FACTOR, _LOAD_SLACK_BYTES)

    def save_weights(self, path: PathLike, format: str | None = None) -> None:  # noqa: A002
        """Write the current weights to ``path`` atomically (.npz default, .safetensors or .json; see the module)."""
        write_weights(path, self.get_weights(), format)

    def load_weights(self, path: PathLike, format: str | None = None, *, partial: bool = False) -> None:  # noqa: A002
        """Read weights written by :meth:`save_weights` and assign them.

        Names, shapes and dtypes are checked against the model; a corrupt, truncated or mismatched file raises
        :class:`~litert_sdk.errors.WeightsFileError` and leaves the weights unchanged.
        """
        p = _weights_path(path)
        weights = read_weights(p, format, max_bytes=self._weights_read_limit())
        try:
            arrays = self._check_weights(weights, partial, f"{p!r}: ")
        except InvalidArgumentError as e:
            raise WeightsFileError(f"weights file does not match the model: {e}", p) from None
        self.set_weights(arrays, partial=partial)

    # -- state -----------------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Restore the model's initial weights (and optimiser state): the model is recompiled."""
        if self._closed:
            raise ClosedError("the trainer is closed")
        self._interpreter.reset_all_variables()

    def close(self) -> None:
        """Release the interpreter (when the Trainer created it)."""
        if self._owns and not self._closed:
            self._interpreter.close()
        self._closed = True

    def __repr__(self) -> str:
        return f"Trainer({self._model!r}, train={self._sig_names['train']!r})"
