"""``python -m litert_sdk ...`` runs the ``litert-sdk`` command line (see :mod:`litert_sdk.cli`)."""

import sys

from .cli import main

sys.exit(main())
