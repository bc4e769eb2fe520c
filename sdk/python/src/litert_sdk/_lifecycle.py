"""``with obj:`` for the SDK's objects that hold runtime resources: the block returns the object and closes it at
the end (its ``close()``), whatever ends the block."""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["Closable"]

_C = TypeVar("_C", bound="Closable")


class Closable:
    """Mix-in: ``__enter__`` returns the object, ``__exit__`` calls its ``close()``."""

    def close(self) -> None:  # pragma: no cover - every user defines it
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
