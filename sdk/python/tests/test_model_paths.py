"""Model paths that are not model files: a missing path, a directory, a FIFO, a character device (/dev/zero).

Model.from_file and _flatbuffer.read_model_bytes check the path with os.stat before opening it and raise ModelError
saying which; the CLI reports it with EXIT_MODEL. A FIFO is never opened for reading (that blocks until a writer
appears), so the FIFO cases run in a subprocess with a timeout: a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import litert_sdk
from litert_sdk import _flatbuffer, cli, errors, vision

FACE = str(vision.DEFAULT_FACE_MODEL)
DEV_ZERO = "/dev/zero"
TIMEOUT = 60

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
needs_dev_zero = pytest.mark.skipif(not os.path.exists(DEV_ZERO), reason="no /dev/zero on this platform")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "model.fifo"
    os.mkfifo(path)
    return path


def loaders():
    return [("Model.from_file", litert_sdk.Model.from_file), ("read_model_bytes", _flatbuffer.read_model_bytes),
            ("CompiledModel.from_file", litert_sdk.CompiledModel.from_file),
            ("Interpreter", lambda p: litert_sdk.Interpreter(model_path=str(p)))]


def test_missing_path_is_model_not_found(tmp_path: Path) -> None:
    for what, load in loaders():
        with pytest.raises(errors.ModelError, match="model file not found") as info:
            load(tmp_path / "absent.tflite")
        assert isinstance(info.value, errors.LiteRtError) and isinstance(info.value, ValueError), what
        with pytest.raises(errors.ModelError, match="model file not found"):
            load(Path(FACE) / "below_a_file.tflite")  # a file used as a directory


def test_directory_is_reported_as_a_directory(tmp_path: Path) -> None:
    for what, load in loaders():
        with pytest.raises(errors.ModelError, match="is a directory") as info:
            load(tmp_path)
        assert str(tmp_path) in str(info.value), what


@needs_dev_zero
def test_character_device_is_not_a_regular_file() -> None:
    for _what, load in loaders():
        with pytest.raises(errors.ModelError, match="is not a regular file: it is a character device"):
            load(DEV_ZERO)


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], check=False, capture_output=True, text=True,
                          timeout=TIMEOUT)


FIFO_API = """
import sys
from litert_sdk import CompiledModel, Interpreter, Model, _flatbuffer, errors
for load in (Model.from_file, _flatbuffer.read_model_bytes, CompiledModel.from_file,
             lambda p: Interpreter(model_path=p)):
    try:
        load(sys.argv[1])
    except errors.ModelError as e:
        print(e)
    else:
        print("loaded")
# a path that turns into a FIFO after the stat: read_model_bytes opens without blocking and rejects it
_flatbuffer.check_model_file = lambda path: None
try:
    _flatbuffer.read_model_bytes(sys.argv[1])
except errors.ModelError as e:
    print(e)
"""


@needs_fifo
def test_fifo_is_not_a_regular_file_and_is_not_opened(fifo: Path) -> None:
    proc = run_python(FIFO_API, str(fifo))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5, proc.stdout
    for line in lines:
        assert "is not a regular file: it is a FIFO (named pipe)" in line and str(fifo) in line, line


# --------------------------------------------------------------------------------------------------------- CLI
def test_cli_missing_directory_and_device(capsys, tmp_path: Path) -> None:
    cases = [(tmp_path / "absent.tflite", "model file not found"), (tmp_path, "is a directory")]
    if os.path.exists(DEV_ZERO):
        cases.append((Path(DEV_ZERO), "is not a regular file: it is a character device"))
    for path, message in cases:
        for argv in (("info", path), ("run", path, "--random-inputs"), ("bench", path), ("verify", path)):
            code = cli.main([str(a) for a in argv])
            out, err = capsys.readouterr()
            assert code == cli.EXIT_MODEL, (argv, err)
            assert err.startswith("litert-sdk: error:") and err.count("\n") == 1 and message in err, err
            assert str(path) in err
        code = cli.main(["info", str(path), "--json"])
        out, _ = capsys.readouterr()
        assert code == cli.EXIT_MODEL
        assert json.loads(out)["error"] == {"type": "ModelError", "message": json.loads(out)["error"]["message"],
                                            "exit_code": cli.EXIT_MODEL}
        assert message in json.loads(out)["error"]["message"]


def test_cli_input_file_directory_and_device(capsys, tmp_path: Path) -> None:
    cases = [(tmp_path, "is a directory")]
    if os.path.exists(DEV_ZERO):
        cases.append((Path(DEV_ZERO), "is not a regular file"))
    for path, message in cases:
        code = cli.main(["run", FACE, "-i", f"input={path}"])
        _, err = capsys.readouterr()
        assert code == cli.EXIT_USAGE and message in err and err.count("\n") == 1, err


@needs_fifo
def test_cli_fifo_model_and_input(fifo: Path) -> None:
    for argv in (("info", str(fifo)), ("run", str(fifo), "--random-inputs"), ("info", str(fifo), "--json")):
        proc = subprocess.run([sys.executable, "-m", "litert_sdk", *argv], check=False, capture_output=True,
                              text=True, timeout=TIMEOUT)
        assert proc.returncode == cli.EXIT_MODEL, proc.stderr
        assert "is not a regular file: it is a FIFO (named pipe)" in proc.stderr and proc.stderr.count("\n") == 1
        if "--json" in argv:
            assert json.loads(proc.stdout)["error"]["exit_code"] == cli.EXIT_MODEL
    proc = subprocess.run([sys.executable, "-m", "litert_sdk", "run", FACE, "-i", f"input={fifo}"], check=False,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == cli.EXIT_USAGE and "is not a regular file" in proc.stderr, proc.stderr
