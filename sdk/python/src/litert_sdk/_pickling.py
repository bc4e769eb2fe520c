"""Objects that hold runtime handles (models, compiled models, interpreters) cannot be pickled or copied.

Their state lives in the native runtime (compiled kernels, thread pools, tensor buffers), which has no serialised
form. Pickling or copying one raises :class:`~litert_sdk.errors.UnsupportedError` that says how to re-create the
object elsewhere: from the model file's path or from the model's bytes (``Model.content()``).
"""

from __future__ import annotations

from typing import NoReturn

from .errors import UnsupportedError

__all__ = ["Unpicklable"]


class Unpicklable:
    """Mixin: ``pickle``, ``copy.copy`` and ``copy.deepcopy`` raise :class:`UnsupportedError`."""

    __slots__ = ()

    def _reload_hint(self) -> str:  # overridden by the classes: how to load the same model again
        return "load the model again from its file or bytes"

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise UnsupportedError(
            f"a {type(self).__name__} cannot be pickled or copied: it holds the LiteRT runtime's native state "
            f"(compiled kernels, threads, buffers), which has no serialised form; {self._reload_hint()}"
        )

    def __reduce__(self) -> NoReturn:
        self.__reduce_ex__(0)


def reload_hint(kind: str, path: str | None) -> str:
    """The "load it again" advice for an object of class ``kind`` made from the file ``path`` (None: from bytes)."""
    if path is not None:
        return f"pass the path {path!r} instead and call {kind}.from_file() (or {kind}(...)) there"
    return f"pass the model's bytes (Model.content()) instead and call {kind}.from_buffer() there"
