#!/usr/bin/env bash
# Lint checks of the repository (run by .ci/run after the SDK is installed; runnable from any directory):
#
#   PY=path/to/python bash ci/lint.sh
#
#   ruff          ruff check of every tracked Python file (rules: ruff.toml)
#   clang-format  clang-format --dry-run -Werror of every tracked C/C++ file (style: .clang-format)
#   mypy          mypy --strict on sdk/python/tests/typecheck/user_script.py, a user's program over the public API
#
# PY (default python3) must have litert_sdk installed (mypy reads its types) and ruff and mypy importable; the
# clang-format executable is taken from PY's scripts directory (pip install clang-format) or else from PATH.
# CI pins ruff==0.8.4 mypy==1.13.0 clang-format==19.1.5: other versions may format or report differently.
# One line per check; the first failing check prints its findings and ends the script with a non-zero status.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-python3}"

fail() { echo "lint: $1: FAILED"; [ -n "${2:-}" ] && printf '%s\n' "$2"; exit 1; }

mapfile -t py_files < <(git ls-files '*.py')
out=$("$PY" -m ruff check --no-cache --quiet "${py_files[@]}" 2>&1) || fail "ruff (${#py_files[@]} files)" "$out"
echo "lint: ruff $("$PY" -m ruff --version | cut -d' ' -f2): ${#py_files[@]} Python files clean"

scripts=$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
CLANG_FORMAT="$scripts/clang-format"
[ -x "$CLANG_FORMAT" ] || CLANG_FORMAT="$(command -v clang-format || true)"
[ -n "$CLANG_FORMAT" ] || fail "clang-format" "clang-format not found (pip install clang-format==19.1.5)"
cf_version=$("$CLANG_FORMAT" --version | sed -n 's/.*clang-format version \([0-9.]*\).*/\1/p')
mapfile -t c_files < <(git ls-files '*.cc' '*.h' '*.c' '*.cpp' '*.hpp')
out=$("$CLANG_FORMAT" --dry-run -Werror "${c_files[@]}" 2>&1) \
  || fail "clang-format $cf_version (${#c_files[@]} files; fix with clang-format -i)" "$(printf '%s\n' "$out" | head -60)"
echo "lint: clang-format $cf_version: ${#c_files[@]} C/C++ files formatted"

script=sdk/python/tests/typecheck/user_script.py
# (from the script's directory, as tests/test_typing.py runs it: litert_sdk resolves to the installed package)
out=$(cd "$(dirname "$script")" && "$PY" -m mypy --strict --no-incremental --no-error-summary "$(basename "$script")" 2>&1) \
  || fail "mypy --strict $script" "$out"
echo "lint: mypy $("$PY" -m mypy --version | cut -d' ' -f2) --strict: $script clean"
