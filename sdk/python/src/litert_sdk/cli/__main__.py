"""``python -m litert_sdk.cli``: the ``litert-sdk`` command line."""

import sys

from . import main

sys.exit(main())
