"""Concurrency: pools, a CompiledModel shared between threads, AsyncInterpreter on asyncio.

Correctness checks compare every concurrent result with the sequential result of the same input; the only timing
check is the event-loop responsiveness one, with generous margins.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

import litert_sdk
from litert_sdk.concurrency import (
    AsyncInterpreter,
    CompiledModelPool,
    InterpreterPool,
    IsolateInterpreter,
)
from litert_sdk.errors import ClosedError, InvalidArgumentError

SINE = "tflm__sine_float.tflite"  # float32[-1, 1] -> float32[-1, 1], microseconds per run
FACE = "mp-py__face_detection_short_range.tflite"  # float32[1, 128, 128, 3], ~1 ms
POSE = "mp-py__pose_landmark_full.tflite"  # float32[1, 256, 256, 3], ~7 ms


@pytest.fixture(scope="module")
def sine(corpus):
    path = corpus / SINE
    if not path.is_file():
        pytest.skip(f"{SINE} missing from the corpus")
    return path


def _model(corpus, name):
    path = corpus / name
    if not path.is_file():
        pytest.skip(f"{name} missing from the corpus")
    return path


def _sine_inputs(n: int, offset: int = 0) -> list[np.ndarray]:
    """Distinct inputs; every 7th one has a batch of 3 (forces resizes inside the pooled interpreters)."""
    xs = []
    for i in range(offset, offset + n):
        v = np.float32((i % 6283) * 1e-3) + np.float32(i // 6283)
        xs.append(np.array([[v], [v + 1], [v + 2]], np.float32) if i % 7 == 0 else np.array([[v]], np.float32))
    return xs


def _sequential(path, xs):
    with litert_sdk.Interpreter(model_path=str(path), num_threads=1) as it:
        return [it.run(x) for x in xs]


def _run_threads(n, target):
    errors: list[BaseException] = []

    def wrap(k):
        try:
            target(k)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "worker threads hung"
    if errors:
        raise errors[0]


# ---------------------------------------------------------------------------------------------------------------------
# Pools and shared models under load
# ---------------------------------------------------------------------------------------------------------------------

THREADS, RUNS = 8, 2000


def test_interpreter_pool_8_threads_match_sequential(sine):
    xs = _sine_inputs(THREADS * RUNS)
    expected = _sequential(sine, xs)
    got: list[np.ndarray | None] = [None] * len(xs)

    def classic(it, x):
        # a multi-call sequence: atomic only because the slot is held for the whole function
        idx = it.get_input_details()[0]["index"]
        if list(it.get_input_details()[0]["shape"]) != list(x.shape):
            it.resize_tensor_input(idx, x.shape)
            it.allocate_tensors()
        it.set_tensor(idx, x)
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"])

    with InterpreterPool(4).initialize(sine, num_threads=1) as pool:

        def worker(k):
            for i in range(k * RUNS, (k + 1) * RUNS):
                if i % 5 == 0:
                    got[i] = pool.with_interpreter(lambda it, x=xs[i]: classic(it, x))
                else:
                    got[i] = pool.run(xs[i])

        _run_threads(THREADS, worker)
    mismatches = [i for i in range(len(xs)) if not np.array_equal(got[i], expected[i])]
    assert not mismatches, f"{len(mismatches)} pooled results differ from sequential ones, e.g. run {mismatches[0]}"


def test_compiled_model_shared_by_4_threads_is_serialised(sine):
    xs = _sine_inputs(4 * 1000, offset=50_000)
    with litert_sdk.CompiledModel.from_file(sine) as cm:
        expected = [cm.run([x])[0] for x in xs]
        got: list[np.ndarray | None] = [None] * len(xs)

        def worker(k):
            for i in range(k, len(xs), 4):
                got[i] = cm.run([xs[i]])[0]

        _run_threads(4, worker)
    mismatches = [i for i in range(len(xs)) if not np.array_equal(got[i], expected[i])]
    assert not mismatches, f"{len(mismatches)} results of the shared CompiledModel differ, e.g. run {mismatches[0]}"


def test_compiled_model_real_model_shared_by_4_threads(corpus):
    path = _model(corpus, FACE)
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal((1, 128, 128, 3)).astype(np.float32) for _ in range(32)]
    with litert_sdk.CompiledModel.from_file(path, litert_sdk.Options().with_cpu(num_threads=1)) as cm:
        expected = [cm.run({"input": x}) for x in xs]
        got: list[dict | None] = [None] * len(xs)

        def worker(k):
            for i in range(k, len(xs), 4):
                got[i] = cm.run({"input": xs[i]})

        _run_threads(4, worker)
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        assert g is not None and g.keys() == e.keys()
        for name in e:
            assert np.array_equal(g[name], e[name]), f"run {i}, output {name} differs"


def test_compiled_model_pool_matches_sequential(sine):
    xs = _sine_inputs(4 * 500, offset=90_000)
    expected = _sequential(sine, xs)
    got: list[np.ndarray | None] = [None] * len(xs)
    with CompiledModelPool(2).initialize(sine) as pool:
        assert pool.size == 2

        def worker(k):
            for i in range(k, len(xs), 4):
                if i % 2:
                    got[i] = pool.run([xs[i]])[0]
                else:
                    got[i] = pool.run({"dense_input": xs[i]})["dense_2"]

        _run_threads(4, worker)
    assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=False))


# ---------------------------------------------------------------------------------------------------------------------
# Pool semantics
# ---------------------------------------------------------------------------------------------------------------------


def test_pool_round_robin_and_busy_slot_fallback(sine):
    with InterpreterPool(3).initialize(sine) as pool:
        order = [pool.with_interpreter(lambda it: it) for _ in range(6)]
        assert len({id(it) for it in order}) == 3
        assert order[:3] == order[3:]  # 0, 1, 2, 0, 1, 2
        with pool.interpreter() as held:
            # the round-robin slot may be the held one: the caller takes another free slot instead of waiting
            others = [pool.with_interpreter(lambda it: it, timeout=5) for _ in range(4)]
            assert all(o is not held for o in others)
            assert len({id(o) for o in others}) == 2


def test_pool_blocks_when_all_busy(sine):
    with InterpreterPool(1).initialize(sine) as pool:
        release = threading.Event()
        entered = threading.Event()

        def hold():
            def fn(it):
                entered.set()
                release.wait(10)

            pool.with_interpreter(fn)

        holder = threading.Thread(target=hold)
        holder.start()
        assert entered.wait(10)
        with pytest.raises(TimeoutError):
            pool.with_interpreter(lambda it: None, timeout=0.05)
        got = []
        waiter = threading.Thread(target=lambda: got.append(pool.run(np.array([[1.0]], np.float32))))
        waiter.start()
        time.sleep(0.05)
        assert not got  # still waiting for the only interpreter
        release.set()
        holder.join(10)
        waiter.join(10)
        assert len(got) == 1 and got[0].shape == (1, 1)


def test_pool_exception_propagates_and_frees_slot(sine):
    with InterpreterPool(1).initialize(sine) as pool:

        class Boom(Exception):
            pass

        def fail(it):
            raise Boom("from fn")

        for _ in range(3):
            with pytest.raises(Boom):
                pool.with_interpreter(fail)
        # the single slot is free again: this would time out otherwise
        assert pool.with_interpreter(lambda it: 42, timeout=1) == 42
        with pytest.raises(InvalidArgumentError):  # a runtime-side error propagates the same way
            pool.run(np.zeros((1, 1), np.float64))
        assert pool.run(np.array([[0.0]], np.float32)).shape == (1, 1)


def test_pool_dispose_and_closed_errors(sine):
    pool = InterpreterPool(2)
    with pytest.raises(ClosedError):  # not initialized yet
        pool.run(np.array([[0.0]], np.float32))
    pool.initialize(sine)
    with pytest.raises(InvalidArgumentError):
        pool.initialize(sine)
    interpreters = [pool.with_interpreter(lambda it: it) for _ in range(2)]
    assert not pool.closed
    pool.dispose()
    assert pool.closed
    with pytest.raises(ClosedError):
        pool.run(np.array([[0.0]], np.float32))
    with pytest.raises(ClosedError):
        pool.with_interpreter(lambda it: None)
    with pytest.raises(ClosedError):
        asyncio.run(pool.run_async(np.array([[0.0]], np.float32)))
    with pytest.raises(ClosedError):
        with pool.interpreter():
            pass
    for it in interpreters:  # the interpreters were released
        with pytest.raises(ClosedError):
            it.invoke()
    pool.dispose()  # idempotent


def test_pool_dispose_waits_for_running_call_and_wakes_waiters(sine):
    pool = InterpreterPool(1).initialize(sine)
    inside = threading.Event()
    release = threading.Event()
    results: dict[str, object] = {}

    def long_call():
        def fn(it):
            inside.set()
            release.wait(10)
            return it.run(np.array([[0.25]], np.float32))  # still usable: dispose waits for us

        results["long"] = pool.with_interpreter(fn)

    def waiter():
        try:
            pool.run(np.array([[0.5]], np.float32))
            results["waiter"] = "ran"
        except ClosedError:
            results["waiter"] = "closed"

    t1 = threading.Thread(target=long_call)
    t1.start()
    assert inside.wait(10)
    t2 = threading.Thread(target=waiter)
    t2.start()
    time.sleep(0.05)
    disposer = threading.Thread(target=pool.dispose)
    disposer.start()
    t2.join(10)
    assert results.get("waiter") == "closed"
    time.sleep(0.05)
    assert disposer.is_alive()  # waiting for the call in progress
    release.set()
    for t in (t1, disposer):
        t.join(10)
        assert not t.is_alive()
    assert np.asarray(results["long"]).shape == (1, 1)


def test_pool_arguments(sine):
    with pytest.raises(InvalidArgumentError):
        InterpreterPool(0)
    with pytest.raises(InvalidArgumentError):
        InterpreterPool(True)
    shared = litert_sdk.Interpreter(model_path=str(sine))
    with pytest.raises(InvalidArgumentError):
        InterpreterPool(2).initialize(lambda: shared)  # one interpreter for two slots
    with pytest.raises(InvalidArgumentError):
        InterpreterPool(2).initialize(lambda: litert_sdk.CompiledModel.from_file(sine))
    with pytest.raises(InvalidArgumentError):
        InterpreterPool(2).initialize(lambda: litert_sdk.Interpreter(model_path=str(sine)), num_threads=1)
    with pytest.raises(InvalidArgumentError):
        InterpreterPool(2).initialize(sine, litert_sdk.Options(), options=litert_sdk.Options())
    made = []

    def factory():
        made.append(litert_sdk.Interpreter(model_path=str(sine), num_threads=1))
        return made[-1]

    with InterpreterPool(3).initialize(factory) as pool:
        assert len(made) == 3 and pool.size == len(pool) == 3
        assert {id(pool.with_interpreter(lambda it: it)) for _ in range(3)} == {id(m) for m in made}
    # default: the usable cores are shared between the slots
    with InterpreterPool(2).initialize(sine) as pool:
        threads = pool.with_interpreter(lambda it: it._options.cpu.num_threads)
        assert threads == max(1, litert_sdk.default_num_threads() // 2)
    with InterpreterPool(2).initialize(sine, litert_sdk.CpuOptions(num_threads=1)) as pool:
        assert pool.with_interpreter(lambda it: it._options.cpu.num_threads) == 1
    from litert_sdk.performance import PerformanceConfig

    with InterpreterPool(2).initialize(sine, PerformanceConfig.xnnpack(1)) as pool:
        assert pool.with_interpreter(lambda it: it._options.cpu.num_threads) == 1
    with CompiledModelPool(2).initialize(sine, performance_config=PerformanceConfig()) as cpool:
        assert cpool.with_model(lambda cm: cm.options.cpu.num_threads) == max(1, litert_sdk.default_num_threads() // 2)
    with InterpreterPool(1).initialize(sine.read_bytes()) as pool:  # model bytes
        assert pool.run_signature(dense_input=np.array([[0.0]], np.float32))["dense_2"].shape == (1, 1)


def test_pool_async(sine):
    xs = _sine_inputs(64, offset=200_000)
    expected = _sequential(sine, xs)

    async def main():
        with InterpreterPool(2).initialize(sine) as pool:
            got = await asyncio.gather(*(pool.run_async(x) for x in xs))
            sig = await pool.run_signature_async("serving_default", dense_input=xs[1])
            n = await pool.with_interpreter_async(lambda it: len(it.get_input_details()))
            with pytest.raises(InvalidArgumentError):

                async def coro(it):  # coroutine functions are refused
                    return None

                await pool.with_interpreter_async(coro)
            return got, sig, n

    got, sig, n = asyncio.run(main())
    assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=False))
    assert np.array_equal(sig["dense_2"], expected[1]) and n == 1


# ---------------------------------------------------------------------------------------------------------------------
# AsyncInterpreter
# ---------------------------------------------------------------------------------------------------------------------


def test_async_interpreter_keeps_event_loop_responsive(corpus):
    path = _model(corpus, POSE)
    x = np.random.default_rng(3).standard_normal((1, 256, 256, 3)).astype(np.float32)

    def long_job(it):
        runs, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.3 or runs == 0:  # one job of ~300 ms of inference
            it.run(x)
            runs += 1
        return runs, time.perf_counter() - t0

    async def main():
        async with AsyncInterpreter(path) as ai:
            await ai.run(x)  # compile and warm up outside the measured window
            ticks = 0
            stop = asyncio.Event()

            async def ticker():
                nonlocal ticks
                while not stop.is_set():
                    await asyncio.sleep(0.01)
                    ticks += 1

            task = asyncio.create_task(ticker())
            await asyncio.sleep(0)
            runs, seconds = await ai.call(long_job)
            stop.set()
            await task
            return ticks, runs, seconds

    ticks, runs, seconds = asyncio.run(main())
    assert runs >= 1 and seconds >= 0.3
    # ~30 ticks fit in 300 ms; a blocked loop would manage at most one
    assert ticks >= 5, f"only {ticks} ticks of 10 ms while a {seconds:.2f} s inference job ran"


def test_async_interpreter_fifo_and_results(sine):
    xs = _sine_inputs(20, offset=300_000)
    expected = _sequential(sine, xs)

    async def main():
        started: list[int] = []
        finished: list[int] = []
        async with IsolateInterpreter(sine, num_threads=1) as ai:
            assert isinstance(ai, AsyncInterpreter)

            async def one(i):
                def job(it):
                    started.append(i)  # runs on the worker thread
                    return it.run(xs[i])

                y = await ai.call(job)
                finished.append(i)
                return y

            tasks = [asyncio.create_task(one(i)) for i in range(len(xs))]
            got = await asyncio.gather(*tasks)
            multi = await ai.run_for_multiple_inputs([xs[3]])
            sig = await ai.get_signature_runner()(dense_input=xs[4])
            details = await ai.get_output_details()
        return started, finished, got, multi, sig, details

    started, finished, got, multi, sig, details = asyncio.run(main())
    assert started == list(range(len(xs)))
    assert finished == list(range(len(xs)))
    assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=False))
    assert np.array_equal(multi[0], expected[3]) and np.array_equal(sig["dense_2"], expected[4])
    assert details[0]["dtype"] == np.float32


def test_async_interpreter_cancel_queued_call(sine):
    async def main():
        gate = threading.Event()
        ran: list[str] = []
        async with AsyncInterpreter(sine) as ai:
            blocker = asyncio.create_task(ai.call(lambda it: (gate.wait(10), ran.append("blocker"))))
            queued = asyncio.create_task(ai.call(lambda it: ran.append("queued")))
            await asyncio.sleep(0.02)  # both submitted; the worker is inside the blocker
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            gate.set()
            await blocker
            y = await ai.run(np.array([[0.5]], np.float32))
        return ran, y

    ran, y = asyncio.run(main())
    assert ran == ["blocker"]  # the cancelled job never ran
    assert y.shape == (1, 1)


def test_async_interpreter_cancel_running_call(sine):
    async def main():
        gate = threading.Event()
        entered = threading.Event()
        done: list[np.ndarray] = []
        async with AsyncInterpreter(sine) as ai:

            def job(it):
                entered.set()
                gate.wait(10)
                done.append(it.run(np.array([[1.0]], np.float32)))
                return done[-1]

            running = asyncio.create_task(ai.call(job))
            while not entered.is_set():
                await asyncio.sleep(0.005)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            gate.set()
            after = await ai.run(np.array([[1.0]], np.float32))  # queued behind the running job
        return done, after

    done, after = asyncio.run(main())
    assert len(done) == 1  # the running job completed; its result was discarded
    assert np.array_equal(done[0], after)


def test_async_interpreter_close_semantics(sine):
    async def main():
        it = litert_sdk.Interpreter(model_path=str(sine))
        ai = AsyncInterpreter(it)
        gate = threading.Event()
        first = asyncio.create_task(ai.call(lambda i: (gate.wait(10), "first")[1]))
        second = asyncio.create_task(ai.run(np.array([[0.5]], np.float32)))
        await asyncio.sleep(0.02)
        closing = asyncio.create_task(ai.close())
        await asyncio.sleep(0.02)
        assert ai.closed and not closing.done()  # waits for the submitted calls
        with pytest.raises(ClosedError):
            await ai.run(np.array([[0.5]], np.float32))
        with pytest.raises(ClosedError):
            ai.get_signature_runner()
        gate.set()
        await closing
        assert await first == "first"
        assert (await second).shape == (1, 1)  # submitted before close: completed
        with pytest.raises(ClosedError):
            _ = ai.interpreter
        await ai.close()  # idempotent
        # an interpreter passed in is not closed by default
        assert it.run(np.array([[0.5]], np.float32)).shape == (1, 1)

        # an interpreter created from a path is owned and closed; cancel_pending fails queued calls
        ai2 = await AsyncInterpreter.create(sine)
        inner = ai2.interpreter
        gate2 = threading.Event()
        running = asyncio.create_task(ai2.call(lambda i: (gate2.wait(10), "ran")[1]))
        pending = asyncio.create_task(ai2.run(np.array([[0.5]], np.float32)))
        await asyncio.sleep(0.02)
        closing2 = asyncio.create_task(ai2.close(cancel_pending=True))
        await asyncio.sleep(0.02)
        gate2.set()
        await closing2
        assert await running == "ran"
        with pytest.raises(ClosedError):
            await pending
        with pytest.raises(ClosedError):
            inner.invoke()

        async with AsyncInterpreter(sine) as ai3:
            pass
        assert ai3.closed
        with pytest.raises(ClosedError):
            await ai3.run_signature("serving_default", dense_input=np.array([[0.5]], np.float32))

    asyncio.run(main())
    ai4 = AsyncInterpreter(sine)
    ai4.close_sync(timeout=10)
    assert ai4.closed


def test_async_interpreter_arguments(sine):
    it = litert_sdk.Interpreter(model_path=str(sine))
    with pytest.raises(InvalidArgumentError):
        AsyncInterpreter(it, num_threads=1)
    with pytest.raises(InvalidArgumentError):
        AsyncInterpreter(42)  # type: ignore[arg-type]

    async def main():
        async with AsyncInterpreter(sine.read_bytes()) as ai:

            async def coro(interpreter):
                return None

            with pytest.raises(InvalidArgumentError):
                await ai.call(coro)
            with pytest.raises(InvalidArgumentError):  # errors of the job propagate
                await ai.run(np.zeros((1, 1), np.float64))
            assert (await ai.run(np.array([[0.5]], np.float32))).shape == (1, 1)

    asyncio.run(main())
