"""Routing of the runtime's own output to Python's logging.

The runtime prints a few lines straight to stderr (its logger option cannot silence TFLite's one-off
"Created TensorFlow Lite XNNPACK delegate" line, for example). While quiet mode is on (the default), the native core
captures that output around the calls that produce it and hands it here, where it goes to the logger
``litert_sdk.runtime`` at DEBUG level (failures that matter are raised as exceptions carrying the text, so nothing
here needs a louder level; enable it with ``logging.getLogger("litert_sdk.runtime").setLevel(logging.DEBUG)``).
"""

from __future__ import annotations

import logging

__all__ = ["runtime_logger", "forward_runtime_output"]

runtime_logger = logging.getLogger("litert_sdk.runtime")


def forward_runtime_output(text: str) -> None:
    """Log each non-empty captured line."""
    for line in text.splitlines():
        if line.strip():
            runtime_logger.debug("%s", line.rstrip())
