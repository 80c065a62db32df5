"""recsys-lessons: the helper package of a hands-on course on recommender systems.

Every lesson notebook imports from here. The modules are small and meant to be read:

- :mod:`recsys_lessons.data`: load MovieLens or the simulated catalogue, build matrices.
- :mod:`recsys_lessons.split`: train/test splits (random, stratified, temporal, leave-last-out).
- :mod:`recsys_lessons.metrics`: ranking and beyond-accuracy metrics.
- :mod:`recsys_lessons.evaluate`: fit a dict of models and compare them in one table.
- :mod:`recsys_lessons.models`: the recommenders, one file per family.
- :mod:`recsys_lessons.checks`: instant feedback for the exercise notebooks.
"""

__version__ = "0.1.0"
