"""models/fetch_corpus.py: the pinned corpus is complete and a damaged file is fetched again."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import _CORPUS, REPO, corpus_names

SCRIPT = REPO / "models" / "fetch_corpus.py"


def test_corpus_table_is_complete_and_unique() -> None:
    names = [e.name for e in _CORPUS.CORPUS]
    assert len(names) == len(set(names)) == 30
    assert corpus_names() == sorted(names)
    assert all(len(e.sha256) == 64 and int(e.sha256, 16) >= 0 for e in _CORPUS.CORPUS)
    listed = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, check=True)
    assert listed.stdout.split() == sorted(names)


def test_fetched_corpus_matches_pins(corpus: Path) -> None:
    for e in _CORPUS.CORPUS:
        assert hashlib.sha256((corpus / e.name).read_bytes()).hexdigest() == e.sha256, e.name


def test_damaged_model_is_replaced(corpus: Path, tmp_path: Path) -> None:
    """A copy of the corpus with one file truncated: a fetch (from the cached downloads) restores it."""
    out = tmp_path / "models"
    out.mkdir()
    os.symlink(corpus / ".dl", out / ".dl")
    for name in corpus_names():
        shutil.copyfile(corpus / name, out / name)
    victim = out / "tflm__sine_float.tflite"
    victim.write_bytes(victim.read_bytes()[:100])
    proc = subprocess.run([sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "OK: 30 models" in proc.stdout
    assert victim.read_bytes() == (corpus / victim.name).read_bytes()
