"""Process isolation for models the SDK cannot prove safe: the runtime runs in a worker process.

The verifier and the kernel rules refuse what static checks can see, but some faults depend on the values a model
meets at run time (an integer division by -1 of INT_MIN, a loop whose condition stays true). :class:`IsolatedModel`
loads and runs the model in a worker process; inputs and outputs travel through shared memory (a file under
``/dev/shm`` that both processes map), requests through a pipe. A worker that dies (a signal, an abort) or misses
the deadline costs one typed :class:`~litert_sdk.errors.RuntimeFailure` naming the signal or the deadline; the
next call starts a fresh worker. The caller's process never runs the runtime.

    with IsolatedModel("model.tflite", deadline=5.0) as m:
        outputs = m.run({"x": x})

Costs: a worker start (a fresh interpreter, numpy and the runtime: about 0.2 s) and, per run, a round trip through
the pipe and two copies through shared memory (``sdk/python/benchmarks/bench_isolation.py`` measures it).
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import signal
import tempfile
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ._lazy import np
from ._lifecycle import Closable
from .errors import ClosedError, InvalidArgumentError, LiteRtError, RuntimeFailure
from .options import Options

__all__ = ["IsolatedModel"]

_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


class _Segment:
    """A file both processes map: the parent creates, grows and deletes it; the worker maps it by path."""

    def __init__(self, tag: str) -> None:
        fd, self.path = tempfile.mkstemp(prefix=f"litert_sdk_{tag}_", dir=_SHM_DIR)
        self._file = os.fdopen(fd, "r+b")
        self.size = 0
        self.map: mmap.mmap | None = None

    def ensure(self, size: int) -> None:
        if size <= self.size:
            return
        size = max(size, 4096, self.size * 2)
        if self.map is not None:
            self.map.close()
        self._file.truncate(size)
        self.map = mmap.mmap(self._file.fileno(), size)
        self.size = size

    def close(self) -> None:
        if self.map is not None:
            self.map.close()
            self.map = None
        self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _layout(arrays: Mapping[str, Any]) -> tuple[list[tuple[str, str, tuple[int, ...], int]], int]:
    """(name, dtype, shape, offset) of each array packed 64-byte aligned, and the total size."""
    layout, offset = [], 0
    for name, a in arrays.items():
        layout.append((name, a.dtype.str, tuple(a.shape), offset))
        offset += (a.nbytes + 63) // 64 * 64
    return layout, offset


def _write(buf: Any, arrays: Mapping[str, Any], layout: list[tuple[str, str, tuple[int, ...], int]]) -> None:
    for name, dtype, shape, offset in layout:
        np.ndarray(shape, dtype, buffer=buf, offset=offset)[...] = arrays[name]


def _read(buf: Any, layout: list[tuple[str, str, tuple[int, ...], int]]) -> dict[str, Any]:
    return {name: np.ndarray(shape, dtype, buffer=buf, offset=offset).copy() for name, dtype, shape, offset in layout}


def _serve(conn: Any, source: str | bytes, options: Options | None) -> None:
    """The worker: load and compile, then answer run requests until told to stop or the pipe closes."""
    from . import CompiledModel

    try:
        cm = (CompiledModel.from_buffer(source, options) if isinstance(source, bytes)
              else CompiledModel.from_file(source, options))
    except LiteRtError as e:
        conn.send(("error", type(e).__name__, str(e)))
        return
    conn.send(("ready", [(s.key, list(s.input_names), list(s.output_names)) for s in cm.signatures]))
    maps: dict[tuple[str, int], mmap.mmap] = {}

    def mapped(path: str, size: int) -> mmap.mmap:
        key = (path, size)
        if key not in maps:
            for old in [k for k in maps if k[0] == path]:
                maps.pop(old).close()
            with open(path, "r+b") as f:
                maps[key] = mmap.mmap(f.fileno(), size)
        return maps[key]

    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg[0] == "close":
            return
        _, signature, in_path, in_size, layout, out_path, out_size = msg
        try:
            inputs = _read(mapped(in_path, in_size), layout)
            outputs = cm.run(inputs, signature)
        except LiteRtError as e:
            conn.send(("error", type(e).__name__, str(e)))
            continue
        out_layout, total = _layout(outputs)
        if total <= out_size:
            _write(mapped(out_path, out_size), outputs, out_layout)
            conn.send(("ok", out_layout, None))
        else:  # does not fit: through the pipe this time (the parent grows the segment for the next run)
            conn.send(("ok", out_layout, {k: np.ascontiguousarray(v) for k, v in outputs.items()}))


_ERRORS: dict[str, type[LiteRtError]] = {}


def _error_type(name: str) -> type[LiteRtError]:
    if not _ERRORS:
        from . import errors

        _ERRORS.update({k: v for k, v in vars(errors).items() if isinstance(v, type) and issubclass(v, LiteRtError)})
    return _ERRORS.get(name, RuntimeFailure)


class IsolatedModel(Closable):
    """A model run by the runtime in a worker process (see the module docstring).

    ``model``: a path or the model's bytes. ``deadline``: seconds a run may take (None: no limit); a run past it
    kills the worker and raises RuntimeFailure. Errors the worker's runtime raises come back with their type
    (``ModelError``, ``InvalidArgumentError``, ...); a worker that dies raises RuntimeFailure naming the signal.
    """

    def __init__(self, model: str | os.PathLike[str] | bytes | bytearray | memoryview,
                 options: Options | None = None, *, deadline: float | None = None,
                 start_timeout: float = 120.0) -> None:
        if isinstance(model, (bytes, bytearray, memoryview)):
            self._source: str | bytes = bytes(model)
        elif isinstance(model, (str, os.PathLike)):
            self._source = os.fspath(model)
            if not isinstance(self._source, str):
                self._source = os.fsdecode(self._source)
        else:
            raise InvalidArgumentError(f"model must be a path or bytes, got {type(model).__name__}")
        if deadline is not None and not deadline > 0:
            raise InvalidArgumentError(f"deadline must be a positive number of seconds, got {deadline!r}")
        self._options = options
        self.deadline = deadline
        self._start_timeout = start_timeout
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process that runs runtime threads
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None
        self._in: _Segment | None = _Segment("in")
        self._out: _Segment | None = _Segment("out")
        self._out.ensure(1 << 16)
        self.signatures: list[tuple[str, list[str], list[str]]] = []
        self._start()

    # -- the worker ------------------------------------------------------------------------------------------------
    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(child, self._source, self._options), daemon=True,
                                 name="litert_sdk-isolated")
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        reply = self._receive(self._start_timeout, "loading the model")
        if reply[0] == "error":
            self._stop()
            raise _error_type(reply[1])(reply[2])
        self.signatures = reply[1]

    def _stop(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5)

    def _receive(self, timeout: float | None, what: str) -> Any:
        conn, proc = self._conn, self._proc
        if not conn.poll(timeout):
            self._stop()
            raise RuntimeFailure(f"the isolated worker passed the deadline of {timeout} s while {what}; it was "
                                 "killed (the next call starts a new one)")
        try:
            return conn.recv()
        except (EOFError, OSError):
            proc.join(5)
            code = proc.exitcode
            self._stop()
            if code is not None and code < 0:
                why = f"was killed by signal {signal.Signals(-code).name}"
            else:
                why = f"exited with status {code}"
            raise RuntimeFailure(f"the isolated worker {why} while {what} (the model crashed the runtime; the next "
                                 "call starts a new worker)") from None

    @property
    def pid(self) -> int | None:
        """The worker's process id (None when no worker runs)."""
        return None if self._proc is None else self._proc.pid

    # -- running ---------------------------------------------------------------------------------------------------
    def run(self, inputs: Mapping[str, Any] | Sequence[Any], signature: str | int | None = None, *,
            deadline: float | None = None) -> dict[str, Any]:
        """Runs ``signature`` (key, index, or None for the first) on ``inputs`` (by name, or in signature order) in
        the worker and returns its outputs by name."""
        with self._lock:
            if self._in is None or self._out is None:
                raise ClosedError("the isolated model is closed")
            if self._proc is None:
                self._start()
            sig = self._signature(signature)
            key, in_names, _ = self.signatures[sig]
            if isinstance(inputs, Mapping):
                arrays = {str(k): np.asarray(v) for k, v in inputs.items()}
            else:
                items = list(inputs)
                if len(items) != len(in_names):
                    raise InvalidArgumentError(f"signature {key!r} takes {len(in_names)} inputs, got {len(items)}")
                arrays = {n: np.asarray(v) for n, v in zip(in_names, items, strict=False)}
            if any(v.dtype.kind in "OUS" for v in arrays.values()):
                raise InvalidArgumentError("string inputs are not supported in isolation mode")
            arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
            layout, total = _layout(arrays)
            self._in.ensure(total)
            _write(self._in.map, arrays, layout)
            self._conn.send(("run", sig, self._in.path, self._in.size, layout, self._out.path, self._out.size))
            reply = self._receive(self.deadline if deadline is None else deadline, f"running signature {key!r}")
            if reply[0] == "error":
                raise _error_type(reply[1])(reply[2])
            _, out_layout, inline = reply
            if inline is not None:
                self._out.ensure(_layout(inline)[1])
                return {name: np.array(inline[name]) for name, *_ in out_layout}
            return _read(self._out.map, out_layout)

    def _signature(self, signature: str | int | None) -> int:
        if signature is None:
            return 0
        if isinstance(signature, int):
            if not 0 <= signature < len(self.signatures):
                raise InvalidArgumentError(f"signature index {signature} out of range ({len(self.signatures)})")
            return signature
        for i, (key, _, _) in enumerate(self.signatures):
            if key == signature:
                return i
        raise InvalidArgumentError(f"no signature {signature!r}; available: {[k for k, _, _ in self.signatures]}")

    # -- lifetime --------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Stops the worker and removes the shared memory (idempotent)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(("close",))
                except OSError:
                    pass
                if self._proc is not None:
                    self._proc.join(2)
            self._stop()
            for seg in (self._in, self._out):
                if seg is not None:
                    seg.close()
            self._in = self._out = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"IsolatedModel(pid={self.pid}, deadline={self.deadline})"
