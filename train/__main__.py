"""``python -m train`` runs the ``winnow`` command."""

import sys

from .cli import main

sys.exit(main())
