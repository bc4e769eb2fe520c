"""Types a user's type checker sees: ``mypy --strict`` on a program over the public API (typecheck/user_script.py)
passes, and arrays come back as numpy's ndarray types, not ``Any`` (they were Any while ``np`` was typed Any)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import _missing

SCRIPT = Path(__file__).resolve().parent / "typecheck" / "user_script.py"


def test_mypy_strict_on_a_user_script() -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        _missing("mypy is not installed (pip install mypy)")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--no-error-summary",
                           str(SCRIPT)], capture_output=True, text=True, timeout=600, cwd=SCRIPT.parent)
    lines = proc.stdout.splitlines()
    errors = [ln for ln in lines if ": error:" in ln]
    assert errors == [] and proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    revealed = re.findall(r'Revealed type is "(.*)"', proc.stdout)
    assert len(revealed) == 4
    assert all("numpy.ndarray" in r for r in revealed), revealed
