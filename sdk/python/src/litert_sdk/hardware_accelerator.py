"""``HardwareAccelerator``: ai_edge_litert's name for the accelerator bit set (CPU 1, GPU 2, NPU 4).

``from litert_sdk.hardware_accelerator import HardwareAccelerator`` replaces ``from
ai_edge_litert.hardware_accelerator import HardwareAccelerator``; it is :class:`litert_sdk.Accelerator`, so values
combine with ``|`` and pass wherever the SDK takes accelerators.
"""

from __future__ import annotations

from .options import Accelerator

__all__ = ["HardwareAccelerator"]

HardwareAccelerator = Accelerator
