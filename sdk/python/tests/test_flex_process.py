"""Flex (Select TF ops) in a fresh process: what a Flex model leaves behind in the interpreter.

Each test runs a child Python (sys.executable) that loads and runs flex_cumprod.tflite and then does something
else. They must run in a fresh process: pytest itself imports hashlib/ssl at start-up, so in-process tests cannot
see what loading TensorFlow's libraries does to modules imported *after* it (libtensorflow_framework bundles
BoringSSL and zlib, exported without symbol versions; loaded RTLD_GLOBAL they interposed on the system libcrypto
that ``_hashlib``/``_ssl`` load later, and ``import hashlib`` segfaulted).

Needs tensorflow-cpu and litert-sdk-flex installed; skipped otherwise.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import requires_flex

REPO = Path(__file__).resolve().parents[3]
MODELS = REPO / "flex" / "tests" / "models"


pytestmark = requires_flex

# Loads and runs a Flex model, checks it against TensorFlow's reference output (committed .npz).
_RUN_FLEX = textwrap.dedent(
    """
    import sys
    import numpy as np
    import litert_sdk
    _ref = np.load(sys.argv[1] + "/flex_cumprod.npz")
    _x = _ref["in:serving_default:x"]
    _cm = litert_sdk.CompiledModel.from_file(sys.argv[1] + "/flex_cumprod.tflite")
    for _ in range(2):
        _got = _cm.run({"x": _x})[_cm.output_names()[0]]
        np.testing.assert_allclose(_got, _ref["out:serving_default:y"], rtol=1e-6)
    print("flex ok", flush=True)
    """
)

_AFTER = {
    "hashlib": "import hashlib\nprint('sha256', hashlib.sha256(b'x').hexdigest(), flush=True)\n",
    "numpy.random": "import numpy.random\nprint('rng', repr(numpy.random.default_rng(0).random()), flush=True)\n",
    "ssl": textwrap.dedent(
        """
        import ssl
        ctx = ssl.create_default_context()
        print('ssl', ctx.verify_mode == ssl.CERT_REQUIRED, ssl.OPENSSL_VERSION.split()[0], flush=True)
        import hashlib
        print('sha256', hashlib.sha256(b'x').hexdigest(), flush=True)
        """
    ),
    "tensorflow": textwrap.dedent(
        """
        import tensorflow as tf
        _tf = tf.math.cumprod(tf.constant(_x), axis=1).numpy()
        np.testing.assert_allclose(_tf, _ref["out:serving_default:y"], rtol=1e-6)
        print('tf ok', tf.__version__, flush=True)
        np.testing.assert_allclose(_cm.run({"x": _x})[_cm.output_names()[0]], _tf, rtol=1e-6)  # Flex still runs
        print('flex again ok', flush=True)
        import hashlib, ssl
        ssl.create_default_context()
        print('sha256', hashlib.sha256(b'x').hexdigest(), flush=True)
        """
    ),
}


def _expected_lines(after: str) -> list[str]:
    sha = f"sha256 {hashlib.sha256(b'x').hexdigest()}"
    return {
        "hashlib": [sha],
        "numpy.random": [f"rng {np.random.default_rng(0).random()!r}"],
        "ssl": ["ssl True", sha],
        "tensorflow": ["tf ok", "flex again ok", sha],
    }[after]


def _run_child(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, str(MODELS)], capture_output=True, text=True, timeout=300,
                          cwd=REPO, env=env)


def _check(proc: subprocess.CompletedProcess[str], expected: list[str]) -> None:
    assert proc.returncode == 0, f"child exited with {proc.returncode}:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    lines = proc.stdout.splitlines()
    for want in expected:
        assert any(line.startswith(want) for line in lines), f"{want!r} not in the child's output:\n{proc.stdout}"


@pytest.mark.parametrize("after", sorted(_AFTER))
def test_imports_after_a_flex_model_ran(after: str) -> None:
    # hashlib (numpy.random imports it), ssl: CPython's OpenSSL modules loaded after TensorFlow's libraries
    proc = _run_child(_RUN_FLEX + _AFTER[after])
    _check(proc, ["flex ok", *_expected_lines(after)])


def test_flex_model_after_import_tensorflow() -> None:
    code = "import tensorflow as tf\nprint('tf ok', tf.__version__, flush=True)\n" + _RUN_FLEX + _AFTER["hashlib"]
    proc = _run_child(code)
    _check(proc, ["tf ok", "flex ok", *_expected_lines("hashlib")])


def test_tensorflow_libraries_stay_out_of_the_global_namespace() -> None:
    # dlsym(RTLD_DEFAULT, ...) searches the global namespace: a BoringSSL function that only TensorFlow defines
    # (the system libcrypto is not loaded in the child) must not be found there after a Flex run
    code = _RUN_FLEX + textwrap.dedent(
        """
        import ctypes
        default = ctypes.CDLL(None)
        for name in ("EVP_MD_CTX_new", "CRYPTO_THREADID_current", "TFE_NewContext", "TF_Version"):
            print(name, hasattr(default, name), flush=True)
        """
    )
    if sys.platform != "linux":
        pytest.skip("checks the ELF global scope")
    proc = _run_child(code)
    _check(proc, ["flex ok", "EVP_MD_CTX_new False", "CRYPTO_THREADID_current False", "TFE_NewContext False",
                  "TF_Version False"])


# ------------------------------------------------------------------------------------------- TensorFlow's logs
def _env(**values: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in values.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def test_a_flex_run_prints_nothing_to_stderr() -> None:
    # TensorFlow's INFO/WARNING lines (the oneDNN notice its static initialisers log through absl, the CPU feature
    # guard, ...) are silenced by default: TF_CPP_MIN_LOG_LEVEL=2 unless the user set it
    code = _RUN_FLEX + "import os\nprint('level', os.environ['TF_CPP_MIN_LOG_LEVEL'], flush=True)\n"
    proc = _run_child(code, env=_env(TF_CPP_MIN_LOG_LEVEL=None))
    _check(proc, ["flex ok", "level 2"])
    assert proc.stderr == ""


def test_the_users_tf_cpp_min_log_level_is_kept() -> None:
    code = _RUN_FLEX + "import os\nprint('level', os.environ['TF_CPP_MIN_LOG_LEVEL'], flush=True)\n"
    proc = _run_child(code, env=_env(TF_CPP_MIN_LOG_LEVEL="3"))
    _check(proc, ["flex ok", "level 3"])
    assert proc.stderr == ""


@pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64",
                    reason="the oneDNN notice is what x86_64 Linux builds of TensorFlow log at load")
def test_tf_cpp_min_log_level_0_shows_tensorflow_logs() -> None:
    proc = _run_child(_RUN_FLEX, env=_env(TF_CPP_MIN_LOG_LEVEL="0", TF_ENABLE_ONEDNN_OPTS="1"))
    _check(proc, ["flex ok"])
    assert "oneDNN custom operations are on" in proc.stderr


_FILTER = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = sys.argv[2]
    import litert_sdk_flex
    print("to stderr before", file=sys.stderr, flush=True)
    with litert_sdk_flex._tf_log_filter():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
        os.write(2, b"I0000 00:00:1700000000.123456   1234 port.cc:153] an info line\\n")
        os.write(2, b"2025-01-01 12:00:00.123456: W tensorflow/core/x.cc:7] a warning line\\n")
        os.write(2, b"E0000 00:00:1700000000.123456   1234 op_kernel.cc:1858] an error line\\n")
        os.write(2, b"not a log line\\n")
        print("python's stderr inside", file=sys.stderr)
    print("to stderr after", file=sys.stderr, flush=True)
    """
)


@pytest.mark.parametrize(("level", "kept"), [
    ("0", ["WARNING: All log", "an info line", "a warning line", "an error line"]),
    ("1", ["a warning line", "an error line"]),
    ("2", ["an error line"]),
    ("3", []),
])
def test_log_filter_while_tensorflow_loads(level: str, kept: list[str]) -> None:
    proc = _run_child(_FILTER.replace("sys.argv[2]", repr(level)))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == "to stderr before" and lines[-1] == "to stderr after", lines
    middle = lines[1:-1]
    assert "not a log line" in middle and "python's stderr inside" in middle  # other output passes through
    logs = [line for line in middle if line not in ("not a log line", "python's stderr inside")]
    assert len(logs) == len(kept) and all(want in line for want, line in zip(kept, logs, strict=False)), logs
