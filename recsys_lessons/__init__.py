"""recsys-lessons: the helper package of a hands-on course on recommender systems.

The folders are the course's table of contents: each lesson's ideas live in one subpackage,
and a few core modules at the top are shared by all of them.

| lesson | topic | subpackage |
| --- | --- | --- |
| 00 | welcome and data | :mod:`recsys_lessons.data` |
| 01 | baselines and evaluation | :mod:`recsys_lessons.evaluation`, :mod:`recsys_lessons.metrics` |
| 01-04 | content-based, item-kNN, matrix factorization | :mod:`recsys_lessons.models` |
| 04 | nearest-neighbour retrieval | :mod:`recsys_lessons.retrieval` |
| 05 | cold start | :mod:`recsys_lessons.coldstart` |
| 06 | hybrid ranking, freshness, re-ranking, serving | :mod:`recsys_lessons.hybrid` |
| 07 | sequences, sessions and watch time | :mod:`recsys_lessons.sequences` |
| 08 | deep learning: autodiff matrix factorization, two towers, SASRec (JAX) | :mod:`recsys_lessons.neural` |
| 09 | online experiments: A/B tests, interleaving, shadow mode | :mod:`recsys_lessons.online` |
| 10 | exploration and off-policy evaluation | :mod:`recsys_lessons.explore` |
| 11 | responsible personalization: audits, mitigation, feedback loops, privacy, explanations | :mod:`recsys_lessons.responsible` |
| 12 | capstone: the pilot kit (``recsys-pilot``) | :mod:`recsys_lessons.pilot` |
| 13 | scale-out on Apache Spark (optional extra) | :mod:`recsys_lessons.scale` |
| all | exercise checks (``q1.check()``) | :mod:`recsys_lessons.checks` |

Core modules used everywhere:

- :mod:`recsys_lessons.metrics`: ranking and beyond-accuracy metrics (design section 4.1).
- :mod:`recsys_lessons.top_k`: the one top-k (``top_k_indices``, ties to the lower index).
- :mod:`recsys_lessons.validation`: every argument check, so every module accepts and refuses
  the same things.

Each subpackage's ``__init__`` lists its modules and re-exports its public names:
``from recsys_lessons.online import OnlineEnvironment``.
"""

__version__ = "0.1.0"
