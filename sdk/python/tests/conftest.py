"""Fixtures of the SDK tests: the shared model corpus, the peer runtime (ai-edge-litert 2.3.0), seeded inputs.

The corpus is fetched by models/fetch_corpus.py (sha256-pinned) into <repo>/.cache/models (or $LITERT_SDK_MODELS)
the first time it is needed. With LITERT_SDK_STRICT=1 (set by .ci/run) a missing corpus or peer fails the run instead of
skipping tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
TESTS = Path(__file__).resolve().parent
GENERATED = TESTS / "models"
BUNDLED_FACE_MODEL = REPO / "sdk" / "python" / "src" / "litert_sdk" / "data" / "face_detection_short_range.tflite"
STRICT = os.environ.get("LITERT_SDK_STRICT") == "1"

# Corpus models that need custom ops nobody ships yet (issue: custom ops).
NEEDS_CUSTOM_OPS = {"mp-npm__face_landmark_with_attention.tflite", "mp-py__face_landmark_with_attention.tflite"}


def _missing(reason: str) -> None:
    if STRICT:
        pytest.fail(reason)
    pytest.skip(reason)


def _corpus_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_litert_sdk_fetch_corpus", REPO / "models" / "fetch_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_CORPUS = _corpus_module()


def corpus_dir() -> Path:
    return _CORPUS.default_dir()


def corpus_available() -> bool:
    return _CORPUS.is_complete(corpus_dir())


def _ensure_corpus() -> Path:
    out = corpus_dir()
    if _CORPUS.is_complete(out):
        return out
    proc = subprocess.run([sys.executable, str(REPO / "models" / "fetch_corpus.py"), str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        _missing(f"fetching the model corpus failed: {proc.stderr[-1000:]}")
    return out


@pytest.fixture(scope="session")
def corpus() -> Path:
    return _ensure_corpus()


def corpus_names() -> list[str]:
    """The corpus file names, known statically (the fetch script's table) so tests can be parametrized."""
    return list(_CORPUS.NAMES)


def _flex_unavailable() -> str | None:
    import importlib.util

    hint = "from the repository root: pip install ./sdk/python ./flex"
    if importlib.util.find_spec("tensorflow") is None:
        return f"tensorflow is not installed ({hint})"
    if importlib.util.find_spec("litert_sdk_flex") is None:
        return f"litert_sdk_flex is not installed ({hint})"
    return None


_FLEX_REASON = _flex_unavailable()
# Tests that need the Flex runtime (litert-sdk-flex and TensorFlow).
requires_flex = pytest.mark.skipif(_FLEX_REASON is not None, reason=f"Flex runtime unavailable: {_FLEX_REASON}")


@pytest.fixture(scope="session")
def peer():
    """ai_edge_litert.interpreter (the same runtime version, 2.3.0): the reference the SDK must match."""
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        _missing("ai-edge-litert==2.3.0 is not installed (pip install ai-edge-litert==2.3.0)")
    return interpreter


def random_input(shape, dtype, rng: np.random.Generator) -> np.ndarray:
    """Seeded input for a tensor: normal floats, small-range integers, random bools."""
    dtype = np.dtype(dtype)
    shape = [1 if int(s) < 0 else int(s) for s in shape]
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -100), min(info.max, 100), shape, endpoint=True).astype(dtype)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
