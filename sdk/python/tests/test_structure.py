"""Structure of the Python package: no import cycles inside litert_sdk, counting imports inside functions (lazy
imports hide cycles without removing them) and leaving out those under ``if TYPE_CHECKING:``."""

from __future__ import annotations

import ast
from pathlib import Path

import litert_sdk

PACKAGE = Path(litert_sdk.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    mods = {}
    for p in PACKAGE.rglob("*.py"):
        parts = ("litert_sdk",) + p.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = p
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {id(n) for node in ast.walk(tree)
                 if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                 for n in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only or not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rsplit(".", 1)[0]
            module = (base + ("." + node.module if node.module else "")) if node.level else (node.module or "")
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in mods else module for a in node.names]
        for t in targets:
            while t not in mods and "." in t:
                t = t.rsplit(".", 1)[0]
            if t in mods and t not in (name, "litert_sdk"):  # (the package's lazy re-exports are not edges)
                found.add(t)
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    mods = _modules()
    edges = {m: _imports(m, p, mods) for m, p in mods.items()}
    assert len(mods) > 30 and edges["litert_sdk.interpreter"] >= {"litert_sdk.compiled_model", "litert_sdk.model"}
    assert _cycles(edges) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    """The check itself: a lazy import back from the module that is imported is a cycle."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


def test_the_native_core_imports_no_litert_sdk_module() -> None:
    """Layering: the C++ core reports through callables litert_sdk._runtime hands it (``_install_hooks``), it does not
    import the Python package above it."""
    import re

    src = Path(__file__).resolve().parents[1] / "src" / "native"
    sources = sorted(src.glob("*.cc")) + sorted(src.glob("*.h"))
    assert len(sources) > 10
    offenders = [p.name for p in sources if re.search(r'import_\(\s*"litert_sdk', p.read_text(encoding="utf-8"))]
    assert offenders == []
    from litert_sdk import _runtime

    assert hasattr(_runtime.native(), "_install_hooks")


def test_all_is_written_out_and_matches_the_lazy_exports() -> None:
    """``__all__`` is a literal list (type checkers read re-exports from it, not from a computed one) naming every
    lazily exported name and public submodule, each of which resolves."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    assigned = [n.value for n in tree.body if isinstance(n, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)]
    assert len(assigned) == 1 and isinstance(assigned[0], ast.List)
    literal = [ast.literal_eval(e) for e in assigned[0].elts]
    assert literal == litert_sdk.__all__
    submodules = ["__version__", "errors", "utils", "delegates", "vision", "training", "custom_ops", "weights"]
    assert sorted(literal) == sorted(list(litert_sdk._EXPORTS) + submodules)
    assert len(set(literal)) == len(literal)
    for name in literal:
        assert getattr(litert_sdk, name) is not None, name


def test_loading_a_model_imports_no_heavy_numpy_submodules() -> None:
    """numpy 2 imports numpy.ma on the first np.unique / np.isin call (8-30 ms); the first model load of a process
    (verify, load, compile, run) must not pay it, nor import the SDK's optional layers."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, litert_sdk\n"
        "from litert_sdk import vision\n"  # (only for the bundled model's path)
        "before = set(sys.modules)\n"
        "it = litert_sdk.Interpreter(model_path=str(vision.DEFAULT_FACE_MODEL))\n"
        "it.allocate_tensors()\n"
        "it.set_tensor(it.get_input_details()[0]['index'], np.zeros((1, 128, 128, 3), np.float32))\n"
        "it.invoke()\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = proc.stdout.strip().splitlines()[-1]
    for heavy in ("'numpy.ma'", "'litert_sdk.training'", "'litert_sdk.cli'", "'litert_sdk.concurrency'",
                  "'litert_sdk.delegates'",
                  "'flatbuffers'"):
        assert heavy not in loaded, loaded
