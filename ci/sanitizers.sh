#!/usr/bin/env bash
# Memory-safety checks of the SDK's native core (Linux, gcc or clang).
#
#   ci/sanitizers.sh [asan|valgrind|all]     (default: all)
#
# asan:     builds litert_sdk._native with -fsanitize=address,undefined into its own venv and build folder
#           ($LITERT_SDK_CACHE/asan-venv, .../asan-build; the normal install is untouched) and runs the reliability
#           tests with it: model verifier, bad inputs, lifecycle, fuzz smoke (+ fuzz regressions), the corpus, the
#           Interpreter's native hot path, string tensors, the Interpreter API, and the shape-engine and recurrent
#           test sets (outputs the runtime lays out during the run, batch 0, fused LSTM state).
#           The ASan runtime is LD_PRELOADed into python; leak detection is off (CPython keeps objects alive at
#           exit by design); any ASan report or UBSan finding aborts the run.
# valgrind: runs ci/valgrind_smoke.py (two models loaded, compiled and run, bad inputs, bad models, closed objects)
#           under memcheck with the normal build, PYTHONMALLOC=malloc and ci/valgrind-python.supp; any error or
#           definite leak fails.
#
# Environment: PYTHON (interpreter for the asan venv, default python3), LITERT_SDK_MODELS (model corpus; corpus
# tests are skipped without it), VALGRIND_PYTHON (python with litert_sdk installed, default python3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${LITERT_SDK_CACHE:-$ROOT/.cache}"
WHAT="${1:-all}"
start=$SECONDS
step() { echo "== [$((SECONDS - start))s] $*"; }
pipq() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }

run_asan() {
  local venv="$CACHE/asan-venv" build="$CACHE/asan-build"
  local cxx="${CXX:-g++}"
  step "asan: venv $venv"
  [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
  pipq "$venv/bin/python" -m pip install -q numpy flatbuffers nanobind scikit-build-core pyyaml pytest pip \
    "ai-edge-litert==2.3.0"
  step "asan: build the extension with -fsanitize=address,undefined"
  local flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
  pipq "$venv/bin/python" -m pip install --no-build-isolation -q ./sdk/python \
    -Cbuild-dir="$build" -Ccmake.build-type=RelWithDebInfo \
    -Ccmake.define.CMAKE_CXX_COMPILER="$cxx" \
    -Ccmake.define.CMAKE_CXX_FLAGS="$flags" \
    -Ccmake.define.CMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -Ccmake.define.CMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF
  # the extension must really be instrumented
  local so
  so="$("$venv/bin/python" -c 'import glob, litert_sdk, os; print(glob.glob(os.path.join(os.path.dirname(litert_sdk.__file__), "_native*.so"))[0])')"
  # (grep reads all of nm's output: with -q it would stop early, and pipefail would report nm's SIGPIPE)
  nm -D "$so" | grep __asan_report >/dev/null || { echo "error: $so is not built with ASan" >&2; exit 1; }

  step "asan: tests"
  local libasan libstdcxx
  libasan="$("$cxx" -print-file-name=libasan.so)"
  libstdcxx="$("$cxx" -print-file-name=libstdc++.so.6)"
  [ -f "$libasan" ] || { echo "error: libasan.so not found for $cxx" >&2; exit 1; }
  # libstdc++ is preloaded too: python itself does not link it, and ASan's __cxa_throw interceptor needs the real
  # symbol at start-up (otherwise the first C++ exception aborts with "real___cxa_throw != 0").
  # abort_on_error: a report kills the process (and fails the test that spawned it);
  # detect_leaks=0: CPython leaks by design; protect_shadow_gap=0: the runtime maps memory near the shadow gap.
  LD_PRELOAD="$libasan $libstdcxx" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0:protect_shadow_gap=0:allocator_may_return_null=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  LITERT_SDK_SANITIZER=asan \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not slow" \
      sdk/python/tests/test_verifier.py sdk/python/tests/test_bad_inputs.py sdk/python/tests/test_lifecycle.py \
      sdk/python/tests/test_fuzz_smoke.py sdk/python/tests/test_corpus.py \
      sdk/python/tests/test_fast_path.py sdk/python/tests/test_strings.py sdk/python/tests/test_interpreter_api.py \
      sdk/python/tests/test_shape_engine.py sdk/python/tests/test_recurrent.py \
      sdk/python/tests/test_kernel_rules.py sdk/python/tests/test_integer_division.py \
      sdk/python/tests/test_compile_reason.py sdk/python/tests/test_isolation.py
}

run_valgrind() {
  command -v valgrind >/dev/null || { echo "error: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
  local py="${VALGRIND_PYTHON:-python3}"
  step "valgrind: memcheck on ci/valgrind_smoke.py"
  PYTHONMALLOC=malloc valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=30 \
    --suppressions="$ROOT/ci/valgrind-python.supp" \
    "$py" "$ROOT/ci/valgrind_smoke.py"
}

case "$WHAT" in
  asan) run_asan ;;
  valgrind) run_valgrind ;;
  all) run_asan; run_valgrind ;;
  *) echo "usage: $0 [asan|valgrind|all]" >&2; exit 2 ;;
esac
step "done"
