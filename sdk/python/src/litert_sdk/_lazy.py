"""numpy, imported on first use.

``import litert_sdk`` and resolving ``litert_sdk.Interpreter`` / ``CompiledModel`` do not import numpy (it is most of
the import time of a numpy-using package); the first model load or array conversion does. Modules on that import
path write ``from ._lazy import np`` and use ``np.*`` only inside functions (annotations are strings under
``from __future__ import annotations``). Each attribute is fetched from numpy once and then cached on the proxy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["np"]


class _LazyNumpy:
    def __getattr__(self, name: str) -> Any:
        import numpy

        value = getattr(numpy, name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return "<numpy, imported on first use>"


if TYPE_CHECKING:  # type checkers see numpy itself: ``np.ndarray`` annotations resolve to numpy's types
    import numpy as np
else:
    np = _LazyNumpy()
