"""Set operations on integer arrays for the model checks, without numpy's ``unique`` / ``isin``: numpy 2 imports
``numpy.ma`` on their first call (8-30 ms of a cold start: the first model load of a process paid it)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["isin", "unique"]


def unique(a: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted unique values, index of each one's first occurrence, counts), as ``np.unique(a, return_index=True,
    return_counts=True)`` gives them."""
    a = np.asarray(a).ravel()
    order = np.argsort(a, kind="stable")
    s = a[order]
    if not s.size:
        return s, order, np.zeros(0, np.int64)
    mask = np.empty(s.shape, bool)
    mask[0] = True
    np.not_equal(s[1:], s[:-1], out=mask[1:])
    starts = np.flatnonzero(mask)
    return s[mask], order[mask], np.diff(np.append(starts, s.size))


def isin(a: Any, b: Any) -> np.ndarray:
    """``np.isin(a, b)``: for each element of ``a`` (any shape), whether it is in ``b``."""
    a = np.asarray(a)
    values = np.sort(np.asarray(b).ravel())
    if not values.size:
        return np.zeros(a.shape, bool)
    i = np.searchsorted(values, a)
    i[i == values.size] = 0
    return values[i] == a
