"""What the command-line tools share: exit codes, the one-line error type, error reporting (text or JSON) and
input-file checks. ``litert_sdk.cli`` and ``litert_sdk.demo`` both build on it (neither imports the other).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["EXIT_ACCELERATOR", "EXIT_INTERRUPTED", "EXIT_MISMATCH", "EXIT_MODEL", "EXIT_OK", "EXIT_RUNTIME",
           "EXIT_USAGE", "PROG", "CliError", "check_input_file", "error_json", "one_line", "run_guarded",
           "wants_json"]

PROG = "litert-sdk"

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_ACCELERATOR = 2
EXIT_USAGE = 3
EXIT_MODEL = 4
EXIT_RUNTIME = 5
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """An error reported as one line with a specific exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def one_line(err: BaseException | str, limit: int = 400) -> str:
    text = str(err).strip()
    line = text.splitlines()[0].strip() if text else type(err).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _error_code(e: BaseException) -> int:
    from . import errors

    if isinstance(e, CliError):
        return e.code
    if isinstance(e, errors.ModelError):
        return EXIT_MODEL
    if isinstance(e, errors.InvalidArgumentError):
        return EXIT_USAGE
    if isinstance(e, errors.UnsupportedError):
        return EXIT_ACCELERATOR
    if isinstance(e, errors.LiteRtError):
        return EXIT_RUNTIME
    return EXIT_USAGE  # OSError, ValueError from bad files / arguments


# The "type" reported for CliError, by exit code (other errors report their class name).
_CLI_ERROR_TYPES = {EXIT_MISMATCH: "VerifyMismatch", EXIT_ACCELERATOR: "AcceleratorUnavailable",
                    EXIT_USAGE: "UsageError", EXIT_MODEL: "ModelError", EXIT_RUNTIME: "RuntimeFailure"}


def error_json(e: BaseException, code: int, message: str | None = None) -> dict[str, Any]:
    """The JSON object printed on stdout for an error under ``--json``."""
    if isinstance(e, CliError):
        kind = _CLI_ERROR_TYPES.get(code, "UsageError")
    elif isinstance(e, KeyboardInterrupt):
        kind = "Interrupted"
    else:
        kind = type(e).__name__
    return {"error": {"type": kind, "message": one_line(e) if message is None else message, "exit_code": code}}


def wants_json(argv: Sequence[str]) -> bool:
    """Whether ``argv`` asks for JSON output (``--json`` or an abbreviation argparse accepts), before parsing, so
    that argument errors can be reported as JSON too. Arguments after ``--`` are not options."""
    for a in argv:
        if a == "--":
            return False
        if len(a) >= 3 and "--json".startswith(a):
            return True
    return False


def run_guarded(fn: Any, *args: Any, prog: str = PROG, json_errors: bool = False) -> int:
    """Call ``fn(*args)`` and turn expected errors into a one-line message on stderr and an exit code; with
    ``json_errors``, also one JSON object on stdout (:func:`error_json`)."""
    from . import errors

    try:
        return int(fn(*args) or 0)
    except KeyboardInterrupt as e:
        print(f"{prog}: interrupted", file=sys.stderr)
        if json_errors:
            print(json.dumps(error_json(e, EXIT_INTERRUPTED, "interrupted")), flush=True)
        return EXIT_INTERRUPTED
    except (CliError, errors.LiteRtError, OSError, ValueError) as e:
        code = _error_code(e)
        print(f"{prog}: error: {one_line(e)}", file=sys.stderr)
        if json_errors:
            print(json.dumps(error_json(e, code)), flush=True)
        return code


def check_input_file(path: str, what: str = "input file") -> None:
    """A file given as input must be an existing regular file (a FIFO would block the reader, a device never ends)."""
    import stat

    try:
        st = os.stat(path)
    except (OSError, ValueError):
        raise CliError(f"{what} not found: {path}") from None
    if stat.S_ISDIR(st.st_mode):
        raise CliError(f"{what} not found: {path} is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise CliError(f"{what} {path} is not a regular file")
