"""``python -m recsys_lessons.pilot``: see :mod:`recsys_lessons.pilot.cli`."""

import sys

from recsys_lessons.pilot.cli import main

sys.exit(main())
