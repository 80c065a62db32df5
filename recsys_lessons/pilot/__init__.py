"""The pilot kit: your own interaction log to a decision a product team can sign.

Lesson 12 (``notebooks/12_capstone_pilot.ipynb``). One module per job:

- :mod:`~recsys_lessons.pilot.io`: read and validate the log and item metadata (epoch
  seconds, milliseconds or microseconds; ``--weight-col``, ``--min-rating``);
- :mod:`~recsys_lessons.pilot.protocol`: the split (``--protocol``), earliest-event
  de-duplication, the minimum counts on the training period, and the folds;
- :mod:`~recsys_lessons.pilot.models`: the registry of model rows and their tuning
  (a team's rows: :func:`register`, or ``--plugin module:function`` on the command line);
- :mod:`~recsys_lessons.pilot.budget`: the tuning budget in fits (``--fit-budget``, default by
  the log's size);
- :mod:`~recsys_lessons.pilot.time_limit`: the optional ``--time-limit`` for the whole run,
  planned from the run's own measurements (grids stopped, rows skipped, the plan recorded);
- :mod:`~recsys_lessons.pilot.progress`: each phase's start and end, with elapsed time;
- :mod:`~recsys_lessons.pilot.beyond`: beyond-accuracy and audit columns;
- :mod:`~recsys_lessons.pilot.decision`: the verdict (ship a row, keep the popularity shelf, or
  inconclusive against the ``--margin``), the detectable difference and what would settle it;
- :mod:`~recsys_lessons.pilot.brief`: the decision brief around it (lift, users scored,
  caveats, example lists, segments, audit gaps, next steps, glossary);
- :mod:`~recsys_lessons.pilot.run`: the whole run;
- :mod:`~recsys_lessons.pilot.coverage`: ``recommendations.csv`` for every user (a ``source``
  column, the popularity fallback, the default list);
- :mod:`~recsys_lessons.pilot.provenance`: what reproduces a run (command, settings, input
  hashes, code, machine, package versions) and ``--params``;
- :mod:`~recsys_lessons.pilot.output`: the output folder, checked first and written all or nothing;
- :mod:`~recsys_lessons.pilot.report`: the self-contained ``report.html``;
- :mod:`~recsys_lessons.pilot.spark_models`: the popularity and ALS rows on Apache Spark
  (``--engine spark``; the training matrix handed over as Parquet);
- :mod:`~recsys_lessons.pilot.cli`: the ``recsys-pilot`` command;
- :mod:`~recsys_lessons.pilot.chooser`: lesson 12's algorithm chooser.
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
