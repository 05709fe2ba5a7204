"""``python -m edgeui`` runs the same CLI as the ``edgeui`` command."""

import sys

from edgeui.cli import main

sys.exit(main())
