"""Fork safety of the Python layer.

After ``os.fork()`` the child has copies of every object of the parent, but only the thread that called fork. The
runtime's objects (compiled models with their XNNPACK worker threads, their mutexes) and the Python locks that guard
them may belong to threads that do not exist in the child: touching them crashes or hangs. The native core refuses
inherited runtime objects (ClosedError; their destruction forgets the handles). This module gives the Python layer
the same notion: a fork generation bumped in every child, and a lock that refuses to be taken in a child of the
process that created it (it could be held forever by a thread the child does not have).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from .errors import ClosedError

__all__ = ["generation", "ForkAwareLock", "FORKED_MESSAGE"]

_generation = 0

FORKED_MESSAGE = (
    "was created in the parent process before os.fork(); the runtime's threads do not exist in this child "
    "process, so it cannot be used here: create it again in the child"
)


def _after_fork_in_child() -> None:
    global _generation
    _generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def generation() -> int:
    """Number of fork() calls between the first process and this one (0 in the process that imported litert_sdk)."""
    return _generation


class ForkAwareLock:
    """A re-entrant lock that raises :class:`ClosedError` instead of waiting when used in a fork child, or once its
    owner is closed (:meth:`mark_closed`): a holder stuck in an endless run must not block callers of a closed
    object."""

    __slots__ = ("_lock", "_generation", "_what", "_closed")

    def __init__(self, what: str) -> None:
        self._lock = threading.RLock()
        self._generation = _generation
        self._what = what
        self._closed = False

    @property
    def forked(self) -> bool:
        return self._generation != _generation

    def mark_closed(self) -> None:
        """Waiting and later acquisitions raise ClosedError (holders keep the lock until they release it)."""
        self._closed = True

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._generation != _generation:
            raise ClosedError(f"this {self._what} {FORKED_MESSAGE}")
        if self._lock.acquire(False):
            return True
        if not blocking:
            return False
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        while True:
            if self._closed:
                raise ClosedError(f"the {self._what} is closed")
            wait = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if wait <= 0:
                return False
            if self._lock.acquire(True, wait):
                return True

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> ForkAwareLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()
