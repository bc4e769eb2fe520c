"""Running models from several threads and from asyncio.

What is safe to share
---------------------
* :class:`~litert_sdk.CompiledModel`: one object may be used from many threads. Every call is serialised by a
  native mutex (the GIL is released while waiting for it and while the runtime runs), and ``run()`` is one call:
  resizing, copying the inputs in, running and copying the outputs out happen atomically. Results are never mixed,
  but the calls do not run in parallel. Multi-call sequences (``input_buffer()`` + ``run_buffers()`` +
  ``output_buffer()``) are *not* atomic across threads, and buffer views are shared memory.
* :class:`~litert_sdk.Interpreter`: its memory is never corrupted by concurrent use, but the classic
  ``set_tensor()`` / ``invoke()`` / ``get_tensor()`` sequence is **not atomic**, and neither are ``run()`` and
  ``run_for_multiple_inputs()`` (each is several runtime calls): two threads using one interpreter at once can run
  on each other's inputs and read each other's outputs. Views returned by ``tensor()`` must never cross threads.

The safe ways to use an interpreter from several threads or from an event loop are in this module:

* :class:`InterpreterPool` / :class:`CompiledModelPool`: N independent interpreters (compiled models); a caller
  holds one exclusively for the duration of ``with_interpreter(fn)`` (``with_model(fn)``), so any sequence of calls
  inside ``fn`` is atomic, and N calls run in parallel (the runtime releases the GIL).
* :class:`AsyncInterpreter` (alias :data:`IsolateInterpreter`, after flutter_litert): ``await`` inference from
  asyncio. All work on the wrapped interpreter runs on one dedicated worker thread, one job at a time, in submission
  order, so the event loop stays responsive and the interpreter is never used by two threads at once.

Example::

    from litert_sdk.concurrency import AsyncInterpreter, InterpreterPool

    with InterpreterPool(2).initialize("model.tflite") as pool:      # thread-safe, 2 runs in parallel
        y = pool.run(x)
        scores = pool.with_interpreter(lambda it: my_sequence(it))    # fn holds one interpreter exclusively

    async with AsyncInterpreter("model.tflite") as ai:                 # asyncio: inference off the loop thread
        y = await ai.run(x)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from . import _fork
from ._lifecycle import Closable
from .compiled_model import CompiledModel
from .errors import ClosedError, InvalidArgumentError, ReentrantCallError
from .interpreter import Interpreter, SignatureRunner
from .options import CpuOptions, Options, default_num_threads

__all__ = ["AsyncInterpreter", "AsyncSignatureRunner", "IsolateInterpreter", "InterpreterPool", "CompiledModelPool"]

T = TypeVar("T")
R = TypeVar("R")

ModelSource = str | os.PathLike[str] | bytes | bytearray | memoryview


def _is_model_source(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike, bytes, bytearray, memoryview))


def _resolve_options(
    performance_config: Any, options: Options | None, num_threads: int | None, default_threads: int | None = None
) -> Options | None:
    """Options from ``performance_config`` / ``options`` / ``num_threads`` (None: the Interpreter's defaults).

    ``performance_config`` may be a :class:`~litert_sdk.performance.PerformanceConfig`, an :class:`Options`, a
    :class:`CpuOptions`, or any object with a ``to_options(default_threads)`` method (``InterpreterOptions``).
    ``default_threads`` applies when nothing sets the thread count.
    """
    if performance_config is not None and options is not None:
        raise InvalidArgumentError("give performance_config or options, not both")
    cfg = performance_config if performance_config is not None else options
    if cfg is None:
        opts = None
    elif isinstance(cfg, Options):
        opts = cfg
    elif isinstance(cfg, CpuOptions):
        opts = Options(cpu=cfg)
    elif callable(getattr(cfg, "to_options", None)):  # PerformanceConfig, InterpreterOptions (duck-typed: those
        # modules build on this one)
        opts = cfg.to_options(default_threads if num_threads is None else None)
        if not isinstance(opts, Options):
            raise InvalidArgumentError(f"{type(cfg).__name__}.to_options() returned {type(opts).__name__}, not Options")
    else:
        raise InvalidArgumentError(
            f"performance_config/options must be an Options, a CpuOptions or have to_options(), got {cfg!r}"
        )
    if num_threads is not None:
        opts = (opts or Options()).with_cpu(num_threads=num_threads)
    elif default_threads is not None and (opts is None or opts.cpu.num_threads is None):
        opts = (opts or Options()).with_cpu(num_threads=default_threads)
    return opts


def _new_compiled_model(source: ModelSource, options: Options) -> CompiledModel:
    if isinstance(source, (str, os.PathLike)):
        return CompiledModel.from_file(source, options)
    return CompiledModel.from_buffer(source, options)


def _new_interpreter(source: ModelSource, options: Options | None) -> Interpreter:
    if isinstance(source, (str, os.PathLike)):
        return Interpreter(model_path=source, options=options)
    return Interpreter(model_content=source, options=options)


def _check_sync_fn(fn: Any) -> None:
    if not callable(fn):
        raise InvalidArgumentError(f"expected a callable, got {fn!r}")
    if inspect.iscoroutinefunction(fn):
        raise InvalidArgumentError("fn must be a plain function; it runs on a worker thread, not on the event loop")


# ---------------------------------------------------------------------------------------------------------------------
# AsyncInterpreter
# ---------------------------------------------------------------------------------------------------------------------


class AsyncInterpreter:
    """Runs an :class:`~litert_sdk.Interpreter` from asyncio without blocking the event loop.

    flutter_litert's ``IsolateInterpreter`` for Python. Every job runs on one dedicated worker thread owned by this
    object, one at a time and in submission order (FIFO); the runtime releases the GIL while it works, so the event
    loop keeps running.

    Args:
        interpreter_or_path: an existing :class:`~litert_sdk.Interpreter` (do not use it from other threads while
            this object lives), or a model path / model bytes to create one from.
        options: :class:`~litert_sdk.Options` (or a ``PerformanceConfig`` / ``InterpreterOptions``) for a created
            interpreter.
        num_threads: CPU threads for a created interpreter.
        own_interpreter: close the interpreter in :meth:`close`. Defaults to True when this object created it, False
            for an interpreter passed in.

    Cancellation: cancelling the task that awaits a call drops the job if it has not started yet; a job already
    running completes on the worker (the runtime cannot be interrupted) and its result is discarded. Either way the
    interpreter stays consistent.

    :meth:`close` (or leaving ``async with``) rejects new calls with :class:`~litert_sdk.ClosedError`, waits for the
    calls already submitted (``cancel_pending=True`` fails the ones that have not started with ``ClosedError``
    instead), then releases the interpreter and the worker thread.
    """

    def __init__(
        self,
        interpreter_or_path: Interpreter | ModelSource,
        *,
        options: Any = None,
        num_threads: int | None = None,
        own_interpreter: bool | None = None,
    ) -> None:
        if isinstance(interpreter_or_path, Interpreter):
            if options is not None or num_threads is not None:
                raise InvalidArgumentError(
                    "options/num_threads apply only when AsyncInterpreter creates the interpreter"
                )
            interpreter = interpreter_or_path
            owns = False
        elif _is_model_source(interpreter_or_path):
            interpreter = _new_interpreter(interpreter_or_path, _resolve_options(None, options, num_threads))
            owns = True
        else:
            raise InvalidArgumentError(
                f"expected an Interpreter, a model path or model bytes, got {type(interpreter_or_path).__name__}"
            )
        self._interpreter: Interpreter | None = interpreter
        self._own = owns if own_interpreter is None else bool(own_interpreter)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="litert-async")
        self._fork_generation = _fork.generation()  # its worker thread does not exist in a fork child
        self._lock = threading.Lock()
        self._closed = False
        self._drop_pending = False
        self._close_job: concurrent.futures.Future[None] | None = None

    @classmethod
    async def create(
        cls, interpreter_or_path: Interpreter | ModelSource, **kwargs: Any
    ) -> AsyncInterpreter:
        """Create one and compile / allocate the model on the worker thread (flutter_litert's ``create``)."""
        self = cls(interpreter_or_path, **kwargs)
        try:
            await self.call(Interpreter.allocate_tensors)
        except BaseException:
            await self.close()
            raise
        return self

    # -- job plumbing ----------------------------------------------------------------------------------------------
    def _job(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        if self._drop_pending:
            raise ClosedError("the AsyncInterpreter was closed before this call started")
        return fn(self._interpreter, *args, **kwargs)

    def _submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        if self._fork_generation != _fork.generation():  # the job would wait forever for the parent's worker
            raise ClosedError(f"this AsyncInterpreter {_fork.FORKED_MESSAGE}")
        with self._lock:
            if self._closed:
                raise ClosedError("the AsyncInterpreter is closed")
            return self._executor.submit(self._job, fn, args, kwargs)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(interpreter, *args, **kwargs)`` on the worker thread and return its result.

        The way to do anything the other methods do not cover (details, resizes, a classic set_tensor / invoke /
        get_tensor sequence): ``fn`` has the interpreter to itself while it runs.
        """
        _check_sync_fn(fn)
        return await asyncio.wrap_future(self._submit(fn, *args, **kwargs))

    # -- inference ---------------------------------------------------------------------------------------------------
    async def run(self, input: Any, output: np.ndarray | None = None) -> np.ndarray:  # noqa: A002 - flutter name
        """``Interpreter.run`` on the worker: single input -> output 0 (filled into ``output`` when given)."""
        return await self.call(Interpreter.run, input, output)

    async def run_for_multiple_inputs(
        self, inputs: Sequence[Any], outputs: Mapping[int, np.ndarray] | None = None
    ) -> dict[int, np.ndarray]:
        """``Interpreter.run_for_multiple_inputs`` on the worker: inputs in model order -> outputs by position."""
        return await self.call(Interpreter.run_for_multiple_inputs, list(inputs), outputs)

    async def run_signature(self, signature_key: str | None = None, /, **inputs: Any) -> dict[str, np.ndarray]:
        """Run a signature by input names on the worker: ``await ai.run_signature("serving_default", x=...)``."""
        return await self.get_signature_runner(signature_key)(**inputs)

    def get_signature_runner(self, signature_key: str | None = None) -> AsyncSignatureRunner:
        """An awaitable runner of one signature (``await runner(x=...)``), executing on the worker thread."""
        interpreter = self._live()
        return AsyncSignatureRunner(self, interpreter.get_signature_runner(signature_key))

    async def get_input_details(self) -> list[dict[str, Any]]:
        return await self.call(Interpreter.get_input_details)

    async def get_output_details(self) -> list[dict[str, Any]]:
        return await self.call(Interpreter.get_output_details)

    @property
    def last_inference_duration_us(self) -> float:
        """Wall time of the interpreter's last run in microseconds."""
        return self._live().last_inference_duration_us

    # -- state -------------------------------------------------------------------------------------------------------
    def _live(self) -> Interpreter:
        with self._lock:
            if self._closed or self._interpreter is None:
                raise ClosedError("the AsyncInterpreter is closed")
            return self._interpreter

    @property
    def interpreter(self) -> Interpreter:
        """The wrapped interpreter. Only touch it from :meth:`call` jobs while this object is open."""
        return self._live()

    @property
    def closed(self) -> bool:
        return self._closed

    def _finish(self) -> None:
        interpreter, self._interpreter = self._interpreter, None
        if self._own and interpreter is not None:
            interpreter.close()

    def _begin_close(self, cancel_pending: bool) -> concurrent.futures.Future[None]:
        if self._fork_generation != _fork.generation():  # fork child: no worker, no waiting; forget the interpreter
            self._closed = True
            self._finish()
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done
        with self._lock:
            if cancel_pending:
                self._drop_pending = True
            if self._close_job is None:
                self._closed = True
                # Queued after every accepted call (FIFO): runs once they are done, on the worker thread.
                self._close_job = self._executor.submit(self._finish)
                self._executor.shutdown(wait=False)
            return self._close_job

    async def close(self, *, cancel_pending: bool = False) -> None:
        """Stop accepting calls, wait for the submitted ones (or fail those not started, with ``cancel_pending``),
        then release the interpreter. Safe to call more than once; cancelling the caller does not stop the close."""
        job = self._begin_close(cancel_pending)
        await asyncio.shield(asyncio.wrap_future(job))

    def close_sync(self, *, cancel_pending: bool = False, timeout: float | None = None) -> None:
        """:meth:`close` for code outside the event loop (blocks; never call it from a :meth:`call` job)."""
        self._begin_close(cancel_pending).result(timeout)

    async def __aenter__(self) -> AsyncInterpreter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else repr(self._interpreter)
        return f"AsyncInterpreter({state})"


class AsyncSignatureRunner:
    """A signature runner whose calls run on an :class:`AsyncInterpreter`'s worker thread."""

    def __init__(self, owner: AsyncInterpreter, runner: SignatureRunner) -> None:
        self._owner = owner
        self._runner = runner

    @property
    def signature_key(self) -> str:
        return self._runner.signature_key

    async def __call__(self, **inputs: Any) -> dict[str, np.ndarray]:
        runner = self._runner
        return await self._owner.call(lambda _interpreter: runner(**inputs))

    async def get_input_details(self) -> dict[str, dict[str, Any]]:
        runner = self._runner
        return await self._owner.call(lambda _interpreter: runner.get_input_details())

    async def get_output_details(self) -> dict[str, dict[str, Any]]:
        runner = self._runner
        return await self._owner.call(lambda _interpreter: runner.get_output_details())


#: flutter_litert's name for :class:`AsyncInterpreter`.
IsolateInterpreter = AsyncInterpreter


# ---------------------------------------------------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------------------------------------------------


class _Pool(Closable, Generic[R]):
    """N exclusive slots over N resources: round-robin choice, any free slot when that one is busy, else wait."""

    _what = "resource"

    def __init__(self, pool_size: int) -> None:
        if not isinstance(pool_size, int) or isinstance(pool_size, bool) or pool_size < 1:
            raise InvalidArgumentError(f"pool_size must be a positive int, got {pool_size!r}")
        self._pool_size = pool_size
        self._cond = threading.Condition(threading.Lock())
        self._items: list[R] = []
        self._busy: list[bool] = []
        self._holders: list[int | None] = []
        self._disposed: set[int] = set()  # slots whose resource has been closed by dispose()
        self._rr = 0
        self._state = "new"  # -> "open" -> "closed"
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._fork_generation = _fork.generation()

    def _check_not_forked(self) -> None:
        if self._fork_generation != _fork.generation():  # slots and workers may belong to the parent's threads
            raise ClosedError(f"this {type(self).__name__} {_fork.FORKED_MESSAGE}")

    # -- set-up ------------------------------------------------------------------------------------------------------
    def _create(self, make: Callable[[], R], kind: type) -> None:
        with self._cond:
            if self._state != "new":
                raise InvalidArgumentError(
                    f"the pool is already {'initialized' if self._state == 'open' else 'disposed'}"
                )
            self._state = "initializing"
        items: list[R] = []
        try:
            for _ in range(self._pool_size):
                item = make()
                if not isinstance(item, kind):
                    raise InvalidArgumentError(f"the factory returned {type(item).__name__}, not {kind.__name__}")
                if any(item is other for other in items):
                    raise InvalidArgumentError("the factory returned the same object twice; each slot needs its own")
                items.append(item)
                self._warm(item)
        except BaseException:
            for item in items:
                self._close_item(item)
            with self._cond:
                self._state = "new"
            raise
        with self._cond:
            self._items = items
            self._busy = [False] * len(items)
            self._holders = [None] * len(items)
            self._state = "open"

    def _warm(self, item: R) -> None:  # compile / allocate before the first run
        pass

    def _close_item(self, item: R) -> None:
        close = getattr(item, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()

    # -- slots -------------------------------------------------------------------------------------------------------
    def _acquire(self, timeout: float | None) -> int:
        self._check_not_forked()
        me = threading.get_ident()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._state != "open":
                    raise self._not_open()
                n = len(self._items)
                start = self._rr
                self._rr = (start + 1) % n
                for k in range(n):  # the round-robin slot first, else any free one
                    i = (start + k) % n
                    if not self._busy[i]:
                        self._busy[i] = True
                        self._holders[i] = me
                        return i
                if all(h == me for h in self._holders):
                    raise self._nested_use(n)
                if deadline is None:
                    self._cond.wait()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"no free {self._what} in the pool after {timeout} s")
                    self._cond.wait(left)

    def _nested_use(self, n: int) -> ReentrantCallError:
        return ReentrantCallError(
            f"this thread already holds every {self._what} of the pool ({n}), e.g. inside `with pool.interpreter():`; "
            "waiting for a free one would deadlock. Use the one held, or a larger pool"
        )

    def _not_open(self) -> ClosedError:
        if self._state == "closed":
            return ClosedError(f"the {type(self).__name__} is disposed")
        return ClosedError(f"the {type(self).__name__} is not initialized; call initialize() first")

    def _release(self, i: int) -> None:
        item = None
        with self._cond:
            self._busy[i] = False
            self._holders[i] = None
            if self._state == "closed":
                if i not in self._disposed:
                    self._disposed.add(i)
                    item = self._items[i]
                self._cond.notify_all()
            else:
                self._cond.notify()
        if item is not None:
            self._close_item(item)

    def _use(self, fn: Callable[[R], T], timeout: float | None) -> T:
        i = self._acquire(timeout)
        try:
            return fn(self._items[i])
        finally:
            self._release(i)

    @contextlib.contextmanager
    def _hold(self, timeout: float | None) -> Iterator[R]:
        i = self._acquire(timeout)
        try:
            yield self._items[i]
        finally:
            self._release(i)

    async def _use_async(self, fn: Callable[[R], T], timeout: float | None) -> T:
        _check_sync_fn(fn)
        self._check_not_forked()
        me = threading.get_ident()
        with self._cond:
            if self._state != "open":
                raise self._not_open()
            if self._holders and all(h == me for h in self._holders):  # the event loop's thread holds them all
                raise self._nested_use(len(self._holders))
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self._pool_size, thread_name_prefix="litert-pool"
                )
            job = self._executor.submit(self._use, fn, timeout)
        return await asyncio.wrap_future(job)

    # -- state -------------------------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of slots (``pool_size``)."""
        return self._pool_size

    def __len__(self) -> int:
        return self._pool_size

    @property
    def closed(self) -> bool:
        return self._state == "closed"

    @property
    def initialized(self) -> bool:
        return self._state in ("open", "closed")

    def dispose(self, *, wait: bool = True) -> None:
        """Close the pool: new and waiting callers get :class:`~litert_sdk.ClosedError`.

        With ``wait`` (default), blocks until calls in progress in other threads finish; each resource is closed as
        soon as it is free. Safe to call more than once, and from inside ``with_*`` (the caller's own slot is closed
        when it is released).
        """
        if self._fork_generation != _fork.generation():
            # fork child: the parent's threads may hold slots (and this lock) forever; close every resource now
            # (inherited runtime objects are forgotten, not freed) without waiting
            self._state = "closed"
            self._executor = None
            for item in self._items:
                self._close_item(item)
            return
        me = threading.get_ident()
        executor = None
        with self._cond:
            if self._state != "closed":
                self._state = "closed"
                self._cond.notify_all()
                executor, self._executor = self._executor, None
            if wait:
                while any(b and h != me for b, h in zip(self._busy, self._holders, strict=False)):
                    self._cond.wait()
            free = [i for i, b in enumerate(self._busy) if not b and i not in self._disposed]
            self._disposed.update(free)
            items = [self._items[i] for i in free]
        for item in items:
            self._close_item(item)
        if executor is not None:
            executor.shutdown(wait=False)

    def _initialize(self, factory_or_path: Any, performance_config: Any, options: Options | None,
                    num_threads: int | None, from_source: Callable[[ModelSource, Options], R], kind: type) -> None:
        """``initialize``: the slots from a factory, or from a model path / bytes with resolved options."""
        if _is_model_source(factory_or_path):
            opts = _resolve_options(performance_config, options, num_threads, _pool_threads(self._pool_size))
            source = factory_or_path

            def make() -> R:
                return from_source(source, opts)

        elif callable(factory_or_path):
            if performance_config is not None or options is not None or num_threads is not None:
                raise InvalidArgumentError("performance_config/options/num_threads apply only to a model path")
            make = factory_or_path
        else:
            raise InvalidArgumentError(
                f"expected a factory callable, a model path or model bytes, got {type(factory_or_path).__name__}"
            )
        self._create(make, kind)

    def close(self) -> None:
        """:meth:`dispose` (waiting for calls in progress): what ``with pool:`` does at the end of the block."""
        self.dispose()

    async def dispose_async(self) -> None:
        """:meth:`dispose` without blocking the event loop."""
        await asyncio.to_thread(self.dispose)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self._pool_size}, state={self._state!r})"


def _pool_threads(pool_size: int) -> int:
    """Default CPU threads per pooled model: the usable cores shared between the slots (at least 1)."""
    return max(1, default_num_threads() // pool_size)


class InterpreterPool(_Pool[Interpreter]):
    """A thread-safe pool of ``pool_size`` independent :class:`~litert_sdk.Interpreter` objects.

    Each call holds one interpreter exclusively: the round-robin one, or any free one when that is busy; when all
    are busy it waits. Up to ``pool_size`` calls run in parallel (the runtime releases the GIL).

    Example::

        pool = InterpreterPool(2).initialize("model.tflite")
        y = pool.run(x)                                            # from any thread
        out = pool.with_interpreter(lambda it: it.run_for_multiple_inputs([a, b]))
        y = await pool.run_async(x)                                # from asyncio
        pool.dispose()

    Using a pool that is not initialized, or disposed, raises :class:`~litert_sdk.ClosedError`.
    """

    _what = "interpreter"

    def __init__(self, pool_size: int) -> None:
        super().__init__(pool_size)

    def initialize(
        self,
        factory_or_path: Callable[[], Interpreter] | ModelSource,
        performance_config: Any = None,
        *,
        options: Options | None = None,
        num_threads: int | None = None,
    ) -> InterpreterPool:
        """Create the ``pool_size`` interpreters and allocate their tensors; returns the pool.

        Args:
            factory_or_path: a callable returning a new :class:`~litert_sdk.Interpreter` (called once per slot), or
                a model path / model bytes.
            performance_config, options: compilation options for interpreters created from a path: a
                :class:`~litert_sdk.performance.PerformanceConfig`, :class:`~litert_sdk.Options`,
                :class:`~litert_sdk.CpuOptions`, or an object with ``to_options()`` (``InterpreterOptions``).
            num_threads: CPU threads per interpreter. With no thread count given anywhere, the usable cores are
                shared between the slots (``max(1, default_num_threads() // pool_size)``) so that the pool does not
                oversubscribe the CPU.
        """
        self._initialize(factory_or_path, performance_config, options, num_threads, _new_interpreter, Interpreter)
        return self

    def _warm(self, item: Interpreter) -> None:
        item.allocate_tensors()

    # -- use ---------------------------------------------------------------------------------------------------------
    def with_interpreter(self, fn: Callable[[Interpreter], T], *, timeout: float | None = None) -> T:
        """Run ``fn(interpreter)`` holding one interpreter exclusively, return its result.

        Exceptions from ``fn`` propagate; the interpreter is freed either way. Results that alias interpreter memory
        (``tensor()`` views) must not outlive ``fn``. ``timeout`` (seconds) bounds the wait for a free interpreter
        (:class:`TimeoutError`).
        """
        _check_sync_fn(fn)
        return self._use(fn, timeout)

    async def with_interpreter_async(self, fn: Callable[[Interpreter], T], *, timeout: float | None = None) -> T:
        """:meth:`with_interpreter` on one of the pool's worker threads, awaited from asyncio.

        Cancelling the awaiting task drops the job if it has not started; a started one completes (result discarded).
        """
        return await self._use_async(fn, timeout)

    def interpreter(self, *, timeout: float | None = None) -> contextlib.AbstractContextManager[Interpreter]:
        """``with pool.interpreter() as it:`` holds one interpreter exclusively for the ``with`` block."""
        return self._hold(timeout)

    def run(self, input: Any, output: np.ndarray | None = None) -> np.ndarray:  # noqa: A002 - flutter name
        """``Interpreter.run`` on a pooled interpreter: single input -> output 0."""
        return self._use(lambda it: it.run(input, output), None)

    def run_for_multiple_inputs(
        self, inputs: Sequence[Any], outputs: Mapping[int, np.ndarray] | None = None
    ) -> dict[int, np.ndarray]:
        """``Interpreter.run_for_multiple_inputs`` on a pooled interpreter."""
        return self._use(lambda it: it.run_for_multiple_inputs(inputs, outputs), None)

    def run_signature(self, signature_key: str | None = None, /, **inputs: Any) -> dict[str, np.ndarray]:
        """Run a signature by input names on a pooled interpreter."""
        return self._use(lambda it: it.get_signature_runner(signature_key)(**inputs), None)

    async def run_async(self, input: Any, output: np.ndarray | None = None) -> np.ndarray:  # noqa: A002
        """:meth:`run` awaited from asyncio."""
        return await self._use_async(lambda it: it.run(input, output), None)

    async def run_signature_async(self, signature_key: str | None = None, /, **inputs: Any) -> dict[str, np.ndarray]:
        """:meth:`run_signature` awaited from asyncio."""
        return await self._use_async(lambda it: it.get_signature_runner(signature_key)(**inputs), None)


class CompiledModelPool(_Pool[CompiledModel]):
    """A thread-safe pool of ``pool_size`` independent :class:`~litert_sdk.CompiledModel` objects.

    One CompiledModel is already safe to share, but serialises its calls; a pool runs up to ``pool_size`` of them in
    parallel. Slot selection and errors are as in :class:`InterpreterPool`.

    Example::

        with CompiledModelPool(2).initialize("model.tflite", num_threads=1) as pool:
            outputs = pool.run({"input": x})            # dict by name -> dict by name; list -> list
    """

    _what = "compiled model"

    def __init__(self, pool_size: int) -> None:
        super().__init__(pool_size)

    def initialize(
        self,
        factory_or_path: Callable[[], CompiledModel] | ModelSource,
        performance_config: Any = None,
        *,
        options: Options | None = None,
        num_threads: int | None = None,
    ) -> CompiledModelPool:
        """Compile the ``pool_size`` models; returns the pool. Arguments as in :meth:`InterpreterPool.initialize`
        (a factory returns a new :class:`~litert_sdk.CompiledModel`). Each slot loads its own copy of the model."""
        self._initialize(factory_or_path, performance_config, options, num_threads, _new_compiled_model,
                         CompiledModel)
        return self

    def with_model(self, fn: Callable[[CompiledModel], T], *, timeout: float | None = None) -> T:
        """Run ``fn(compiled_model)`` holding one compiled model exclusively (see
        :meth:`InterpreterPool.with_interpreter`)."""
        _check_sync_fn(fn)
        return self._use(fn, timeout)

    async def with_model_async(self, fn: Callable[[CompiledModel], T], *, timeout: float | None = None) -> T:
        """:meth:`with_model` on one of the pool's worker threads, awaited from asyncio."""
        return await self._use_async(fn, timeout)

    def model(self, *, timeout: float | None = None) -> contextlib.AbstractContextManager[CompiledModel]:
        """``with pool.model() as cm:`` holds one compiled model exclusively for the ``with`` block."""
        return self._hold(timeout)

    def run(self, inputs: Any, signature: str | int | None = None) -> Any:
        """``CompiledModel.run`` on a pooled model: dict by input name -> dict by output name, list -> list."""
        return self._use(lambda cm: cm.run(inputs, signature), None)

    async def run_async(self, inputs: Any, signature: str | int | None = None) -> Any:
        """:meth:`run` awaited from asyncio."""
        return await self._use_async(lambda cm: cm.run(inputs, signature), None)
