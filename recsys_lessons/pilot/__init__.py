"""The pilot kit: your own interaction log to an honest comparison and audit report.

Lesson 12 (``notebooks/12_capstone_pilot.ipynb``). One module per job:

- :mod:`~recsys_lessons.pilot.io`: read and validate the log and item metadata;
- :mod:`~recsys_lessons.pilot.protocol`: the split (``--protocol``), the minimum counts on the
  training period, and the folds;
- :mod:`~recsys_lessons.pilot.models`: the registry of model rows and tuning under a budget
  (a team's rows: :func:`register`, or ``--plugin module:function`` on the command line);
- :mod:`~recsys_lessons.pilot.beyond`: beyond-accuracy and audit columns;
- :mod:`~recsys_lessons.pilot.run`: the whole run and the choice rule;
- :mod:`~recsys_lessons.pilot.coverage`: ``recommendations.csv`` for every user (a ``source``
  column, the popularity fallback, the default list);
- :mod:`~recsys_lessons.pilot.provenance`: what reproduces a run (command, settings, input
  hashes, code, machine, package versions) and ``--params``;
- :mod:`~recsys_lessons.pilot.output`: the output folder, checked first and written all or nothing;
- :mod:`~recsys_lessons.pilot.report`: the self-contained ``report.html``;
- :mod:`~recsys_lessons.pilot.cli`: the ``recsys-pilot`` command.
"""

from recsys_lessons.pilot.coverage import covering_recommendations
from recsys_lessons.pilot.io import PilotInputError, load_items, load_log
from recsys_lessons.pilot.models import REGISTRY, ModelSpec, register
from recsys_lessons.pilot.output import OUTPUT_FILES, check_output_folder, write_outputs
from recsys_lessons.pilot.provenance import record_provenance, tuned_params
from recsys_lessons.pilot.run import per_user_table, run_pilot

__all__ = [
    "OUTPUT_FILES",
    "REGISTRY",
    "ModelSpec",
    "PilotInputError",
    "check_output_folder",
    "covering_recommendations",
    "load_items",
    "load_log",
    "per_user_table",
    "record_provenance",
    "register",
    "run_pilot",
    "tuned_params",
    "write_outputs",
]
