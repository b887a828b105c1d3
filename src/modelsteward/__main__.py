"""``python -m modelsteward``: the same as the ``steward`` command."""

import sys

from modelsteward.cli.main import main

sys.exit(main())
