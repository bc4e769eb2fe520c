"""Model files read once into the memory the runtime loads from, and reused while the file is unchanged.

``Model.from_file`` reads a file straight into 64-byte aligned native memory (``_native.ModelBytes``), which the
verifier checks as a read-only view and the runtime then loads without a copy: the runtime sees exactly the bytes
that were verified. Loading the same file again (a model per thread or per request) reuses that memory without
reading the file when its identity and stamps are unchanged: device, inode, size, modification and change times
(the change time cannot be set back by any user call, and every write moves it).

Timestamps have a coarse clock on most file systems: a file rewritten within one tick of the read that preceded it
could keep its stamps. As git does with its index, memory read from a file whose stamps were younger than
:data:`SETTLE_NS` at the time of the read is never reused (the next load reads the file again), so a rewrite is
always seen. Whatever is reused was verified: at worst a file rewritten behind a clock moved backwards loads its
earlier, verified contents.

At most :data:`MAX_FILES` files and :data:`MAX_BYTES` bytes are kept (least recently used first out), each at most
:data:`MAX_FILE_BYTES`: a closed model's memory may stay this long.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from typing import Any

from ._flatbuffer import check_model_file, read_model_file

__all__ = ["read_model", "forget", "MAX_FILES", "MAX_BYTES", "MAX_FILE_BYTES", "SETTLE_NS"]

SETTLE_NS = 2_000_000_000  # stamps at least this old when read: a later write gets other stamps
MAX_FILES = 8
MAX_BYTES = 256 << 20
MAX_FILE_BYTES = 64 << 20

# (st_dev, st_ino) -> ((size, mtime_ns, ctime_ns), holder, view)
_FILES: OrderedDict[tuple[int, int], tuple[tuple[int, int, int], Any, Any]] = OrderedDict()
_LOCK = threading.Lock()


def _stamps(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def read_model(path: str, native: Any) -> tuple[Any, Any]:
    """``(holder, view)``: a ``native.ModelBytes`` with the file's bytes and a read-only uint8 numpy view of them,
    read now or reused (see the module). Errors as :func:`litert_sdk._flatbuffer.read_model_file`."""
    st = check_model_file(path)  # ModelError for a missing path, a directory, a FIFO / device / socket
    key = (st.st_dev, st.st_ino)
    with _LOCK:
        hit = _FILES.get(key)
        if hit is not None and hit[0] == _stamps(st):
            _FILES.move_to_end(key)
            return hit[1], hit[2]

    def allocate(size: int) -> tuple[tuple[Any, Any], Any]:
        holder = native.ModelBytes(size)
        view = holder.view()
        return (holder, view), view

    started = time.time_ns()
    holder, view = read_model_file(path, allocate)
    view.flags.writeable = False
    try:
        after = os.stat(path)
    except OSError:
        return holder, view
    stamps = _stamps(after)
    # kept only when nothing wrote the file during the read and its stamps were settled before it
    settled = ((after.st_dev, after.st_ino) == key and stamps == _stamps(st)
               and max(after.st_mtime_ns, after.st_ctime_ns) < started - SETTLE_NS)
    if settled and after.st_size == len(view) and len(view) <= MAX_FILE_BYTES:
        with _LOCK:
            _FILES[key] = (stamps, holder, view)
            _FILES.move_to_end(key)
            held = sum(len(v[2]) for v in _FILES.values())
            while len(_FILES) > MAX_FILES or held > MAX_BYTES:
                _, (_, _, old) = _FILES.popitem(last=False)
                held -= len(old)
    return holder, view


def forget() -> None:
    """Drop every kept file's memory (models still loaded keep theirs)."""
    with _LOCK:
        _FILES.clear()
