"""The ``litert-sdk`` command line: inspect, run, benchmark and verify ``.tflite`` models.

Usage (also ``python -m litert_sdk ...``)::

    litert-sdk info MODEL [--json]
    litert-sdk run MODEL [--input NAME=FILE ...] [--random-inputs [--seed N]] [--output out.npz]
    litert-sdk bench MODEL [--threads N] [--accelerator cpu|gpu] [--runs N] [--warmup N] [--json] [--quiet]
    litert-sdk verify MODEL [--accelerator cpu|gpu] [--fp16] [--kernel-mode MODE] [--runs N] [--rtol X] [--atol X]
    litert-sdk verify --web MODEL [--web-accelerator webgpu|wasm] ...   (LiteRT.js in headless Chromium vs native)
    litert-sdk web [MODEL] --out DIR [--face-demo]   (a static site running MODEL in the browser with LiteRT.js)
    litert-sdk demo [--image PATH] [--output faces.png]   (default output: a new file in the temp directory)

Models whose custom ops have kernels in the SDK's bundled MediaPipe library (``Convolution2DTransposeBias``,
``Landmarks2TransformMatrix``, ``TransformLandmarks``, ``TransformTensorBilinear``) get those kernels automatically
(run, bench, verify); ``--no-mediapipe-ops`` turns that off.

Exit codes:

    0  success
    1  verify: an output differs from the reference beyond the tolerance
    2  the requested accelerator is unavailable (e.g. GPU compile failed) or the runtime fell back to the CPU
       where that defeats the purpose (verify); web, verify --web: the web runtime (web/ package, Chromium) is
       missing
    3  usage error: bad arguments, unreadable or mismatching input files
    4  the model cannot be loaded or compiled
    5  the runtime failed while running the model
  130  interrupted

Errors are reported as one line on stderr (``litert-sdk: error: ...``), without a traceback. With ``--json``, an
error is also printed on stdout as one JSON object,
``{"error": {"type": "ModelError", "message": "...", "exit_code": 4}}``, argument errors included.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .._cli_base import (
    EXIT_ACCELERATOR,
    EXIT_INTERRUPTED,
    EXIT_MISMATCH,
    EXIT_MODEL,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    PROG,
    CliError,
    run_guarded,
    wants_json,
)
from .bench import cmd_bench
from .info import BUILTIN_OP_NAMES, cmd_info, model_info, op_name
from .inputs import coerce_array, image_to_input, random_input
from .run import cmd_run
from .verify import cmd_verify
from .web import cmd_web

__all__ = [
    "BUILTIN_OP_NAMES",
    "EXIT_ACCELERATOR",
    "EXIT_INTERRUPTED",
    "EXIT_MISMATCH",
    "EXIT_MODEL",
    "EXIT_OK",
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "CliError",
    "build_parser",
    "coerce_array",
    "image_to_input",
    "main",
    "model_info",
    "op_name",
    "random_input",
    "wants_json",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and EXIT_USAGE instead of usage + exit 2
        raise CliError(f"{message} (see '{self.prog} --help')", EXIT_USAGE)


def _add_compile_args(p: argparse.ArgumentParser, accel_default: str = "cpu") -> None:
    p.add_argument("--accelerator", choices=("cpu", "gpu"), default=accel_default,
                   help="compile for the CPU (XNNPACK) or the GPU (WebGPU / Metal; CPU for unsupported ops)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads (default: cores, at most 4)")
    p.add_argument("--kernel-mode", choices=("xnnpack", "builtin", "reference"), default=None,
                   help="CPU kernels: XNNPACK (default), TFLite builtin or reference")
    p.add_argument("--fp16", action="store_true", help="let XNNPACK compute in fp16 (FORCE_FP16)")
    p.add_argument("--signature", default=None, metavar="KEY", help="signature key or index (default: the first)")
    p.add_argument("--shape", action="append", metavar="NAME=D0,D1,...",
                   help="resize a (dynamic) input before running; repeatable")
    p.add_argument("--no-mediapipe-ops", action="store_true",
                   help="do not give the model the SDK's bundled MediaPipe custom-op kernels (by default they are "
                        "used when the model's custom ops need them)")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog=PROG, description="Inspect, run, benchmark and verify LiteRT (.tflite) models.",
                     epilog="exit codes: 0 ok, 1 verify mismatch, 2 accelerator unavailable, 3 usage or input "
                            "error, 4 model cannot be loaded/compiled, 5 runtime failure")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("info", help="signatures, tensors, op histogram, custom ops, metadata")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("run", help="run a model on inputs from files (.npy/.npz/.png) or random data")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--input", "-i", action="append", metavar="NAME=FILE",
                   help="an input from FILE (.npy, .npz, or an image: .png, other formats with Pillow); a bare "
                        ".npz gives inputs by name; NAME may be the input's index; repeatable")
    p.add_argument("--random-inputs", action="store_true", help="seeded random data for inputs not given")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--image-range", metavar="LO,HI", default=None,
                   help="value range images are mapped to for float inputs (default 0,1; MediaPipe models: -1,1)")
    p.add_argument("--letterbox", action="store_true", help="keep the image's aspect ratio (pad) when resizing")
    p.add_argument("--output", "-o", metavar="OUT.npz", default=None, help="write the outputs, by name, to an .npz")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--isolated", action="store_true",
                   help="run the model in a worker process: a crash or a run past --deadline is reported as an error "
                        "(exit 5) instead of ending this process")
    p.add_argument("--deadline", type=float, default=None, metavar="SECONDS",
                   help="with --isolated: seconds the run may take (default: no limit)")
    _add_compile_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("bench", help="latency benchmark (median / p90 / mean / min) and compile time")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--runs", type=int, default=50, help="timed runs (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    p.add_argument("--seed", type=int, default=0, help="random input seed (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or warnings")
    _add_compile_args(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("verify", help="compare outputs against the CPU reference kernels on random inputs")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--runs", type=int, default=3, help="random input sets (default 3)")
    p.add_argument("--seed", type=int, default=0, help="random input seed (default 0)")
    p.add_argument("--rtol", type=float, default=None,
                   help="tolerance relative to the output's max |reference| (default 1e-4; 2e-2 with --fp16 / gpu)")
    p.add_argument("--atol", type=float, default=None, help="absolute tolerance (default 1e-5; 1e-3 with --fp16 / gpu)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--web", action="store_true",
                   help="run the model in headless Chromium with LiteRT.js instead, compared with this native compile "
                        "(default CPU / XNNPACK) on the same seeded inputs")
    p.add_argument("--web-accelerator", choices=("webgpu", "wasm"), default="webgpu",
                   help="with --web: LiteRT.js accelerator (default webgpu, falling back to wasm when the browser "
                        "has none; the report says which ran)")
    p.add_argument("--timeout", type=float, default=180.0, metavar="SECONDS",
                   help="with --web: seconds the browser may take (default 180)")
    _add_compile_args(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("web", help="write a static site (page, LiteRT.js runtime, model) that runs MODEL in a browser")
    p.add_argument("model", metavar="MODEL", nargs="?", default=None)
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="folder to write the site to")
    p.add_argument("--face-demo", action="store_true",
                   help="add face.html: face detection on a picked image (the bundled face model; MODEL "
                        "defaults to it)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=cmd_web)

    p = sub.add_parser("demo", help="face detection on the bundled photo (same as python -m litert_sdk.demo)",
                       add_help=False)
    p.add_argument("demo_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=None)
    return parser


def _join_negative_values(argv: list[str], options: Sequence[str]) -> list[str]:
    """``--image-range -1,1`` -> ``--image-range=-1,1`` (argparse would take ``-1,1`` for an option)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in options and i + 1 < len(argv) and argv[i + 1][:1] == "-" and argv[i + 1][1:2].isdigit():
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def _dispatch(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = _join_negative_values(argv, ("--image-range",))
    if argv and argv[0] == "demo":  # everything after "demo" belongs to the demo's own parser
        from ..demo import run_demo
        return run_demo(argv[1:], prog=f"{PROG} demo")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    return int(args.func(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``litert-sdk`` console script; returns the exit code."""
    argv = [os.fspath(a) for a in (sys.argv[1:] if argv is None else argv)]
    return run_guarded(_dispatch, argv, json_errors=wants_json(argv))


