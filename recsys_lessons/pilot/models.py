"""The pilot's model rows: a registry of candidates, tuned on validation under a time budget.

Each :class:`ModelSpec` is one row of the report: a name, the lesson that teaches it, a
factory building the model from hyperparameters, a small grid (tried in order, the
defaults first) and a reason to skip it on this log (``None`` when it applies). Later
lessons add rows with :func:`register`.

The last row is the lesson 06 hybrid: a :class:`~recsys_lessons.hybrid.LinearBlend` of
per-user z-scored scores of the rows already tuned, namely the two with the best validation
nDCG (content-based aside) plus content-based when item metadata is given, each with its own
tuned parameters (recorded in its row). Its grid is the weight simplex in steps of
:data:`BLEND_STEP`, the most even weighting first and, among equally even ones, more weight on
the better component (:func:`evenness_order`); the components are fitted once on the validation
fold and every weighting is scored on their normalized scores
(:func:`~recsys_lessons.hybrid.tune_weights`), within the row's share of the budget. When
the tuned weights put 1.0 on one component, the hybrid ranks exactly as that component
alone (z-scoring keeps each user's order) and :func:`same_as` names it.

Tuning: for each row, the grid points are fitted on the validation fold's train part and
scored by nDCG@k on its held-out part (over at most :data:`MAX_TUNING_USERS` validation users,
a seeded sample, :func:`tuning_fold`: ranking every item for every user is most of a fit's
cost on a large log), in grid order, as many as the row's share of the fit
budget allows (:mod:`recsys_lessons.pilot.budget`: a count of fits, so the tuned parameters
do not depend on the machine's speed; the first point is always tried; an optional time
limit can stop a grid early, :mod:`recsys_lessons.pilot.time_limit`, and the run records it).
Each trial records its fit and ranking seconds (the time limit plans from them). The winner
is refitted on the full training set for the test comparison.
"""

from __future__ import annotations

import itertools
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from recsys_lessons import metrics
from recsys_lessons.hybrid import LinearBlend, normalized_unseen_scores, tune_weights, weight_grid
from recsys_lessons.models import ALS, BPR, EASE, ContentBased, ItemKNN, Popularity
from recsys_lessons.models.base import Recommender

#: EASE keeps about three n_items x n_items float64 matrices while it inverts the Gram matrix.
EASE_WORKING_COPIES = 3
#: Step of the hybrid's weight simplex (two components: 5 weightings, three: 15).
BLEND_STEP = 0.25
#: Most validation users a grid point is scored on. The standard error of a mean nDCG over
#: 5,000 users is at most 0.5 / sqrt(5000) = 0.007 (per-user nDCG lies in [0, 1]), and the
#: paired difference of two grid points is far tighter: enough to pick a point.
MAX_TUNING_USERS = 5_000
#: Users ranked per ``recommend`` call (:func:`rank`): 128 users x 20,000 items of float64
#: scores is 20 MB, below glibc's 32 MB mmap threshold, so the buffers are reused instead of
#: mapped and zeroed again for every batch (on the 2M-event log, 2048-user calls spent more
#: CPU time in the kernel than in numpy).
RANK_CHUNK = 128


@dataclass
class Context:
    """What a factory or a skip rule may look at."""

    n_users: int
    n_items: int
    items: pd.DataFrame | None  # metadata aligned with the item columns, or None
    memory_limit_mb: float
    seed: int
    #: name -> {"params", "validation_ndcg"} of the rows tuned so far (filled by the run)
    tuned: dict[str, dict] = field(default_factory=dict)
    #: the run's clock, in seconds (``time.perf_counter``; tests pass a fake one)
    clock: Callable[[], float] = time.perf_counter


@dataclass
class ModelSpec:
    name: str
    lesson: str
    factory: Callable[[dict, Context], object]
    grid: dict[str, list] | Callable[[Context], list[dict]] = field(default_factory=dict)
    skip: Callable[[Context], str | None] = lambda context: None
    #: scores the grid itself: (points, context, fold, k, may_try, progress) -> (params, trials),
    #: trying a further point only while ``may_try(trials)`` is true (``trials``: the points
    #: tried so far, dicts with ``params``, ``validation_ndcg`` and, to plan a time limit,
    #: ``fit_seconds`` and ``recommend_seconds`` measured with ``context.clock``)
    tuner: Callable | None = None

    def candidates(self, context: Context) -> list[dict]:
        """Grid points in order; the first holds every default."""
        if callable(self.grid):
            return self.grid(context)
        keys = list(self.grid)
        return [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*self.grid.values())
        ]


def _needs_metadata(context: Context) -> str | None:
    if context.items is None:
        return "no item metadata given (--items): content-based rows need titles/genres/tags."
    return None


def _ease_skip(context: Context) -> str | None:
    need = EASE_WORKING_COPIES * context.n_items**2 * 8 / 2**20
    if need > context.memory_limit_mb:
        return (
            f"{context.n_items:,} items: the Gram matrix and its inverse need about {need:,.0f} MB, "
            f"above --memory-limit-mb {context.memory_limit_mb:,.0f}; raise the limit or "
            "--min-item-count."
        )
    return None


def blend_components(context: Context) -> list[str]:
    """The hybrid's components: the two best tuned rows by validation nDCG (registry order
    on a tie), content-based aside, then content-based when it was tuned."""
    others = [name for name in context.tuned if name not in ("content_based", "hybrid")]
    best = sorted(others, key=lambda name: -context.tuned[name]["validation_ndcg"])[:2]
    return best + (["content_based"] if "content_based" in context.tuned else [])


def _blend_grid(context: Context) -> list[dict]:
    names = blend_components(context)
    return sorted(weight_grid(names, step=BLEND_STEP), key=lambda w: evenness_order(w, names))


def evenness_order(weights: dict, names: list[str]) -> tuple:
    """Sort key of a blend grid: the most even weighting first, then more weight on the
    better component (``names`` is best first).

    Evenness is the squared distance to equal weights, ``sum_i (w_i - 1/n)^2``, so with three
    components the first point is ``{best: 0.5, second: 0.25, content: 0.25}`` at step 0.25,
    never one that leaves the best model out; when the budget stops after a few points, the
    ones tried are the balanced blends around the best model.
    """
    even = 1 / len(names)
    spread = round(sum((weights.get(name, 0.0) - even) ** 2 for name in names), 12)
    return (spread, *(-weights.get(name, 0.0) for name in names))


def _hybrid_factory(params: dict, context: Context) -> LinearBlend:
    models = {name: _spec(name).factory(context.tuned[name]["params"], context) for name in params}
    return LinearBlend(models, params, normalization="zscore")


def _hybrid_skip(context: Context) -> str | None:
    names = blend_components(context)
    if len(names) < 2:
        return (
            f"the hybrid blends at least two compared rows; only {names or 'none'} was "
            "compared before it (--models)."
        )
    need = (len(names) + 2) * context.n_users * context.n_items * 8 / 2**20
    if need > context.memory_limit_mb:
        return (
            f"tuning the blend keeps {len(names)} dense users x items score matrices "
            f"(about {need:,.0f} MB), above --memory-limit-mb {context.memory_limit_mb:,.0f}."
        )
    return None


def _tune_blend(points, context: Context, fold, k: int, may_try, progress=None):
    """Fit each component once on ``fold.train``, then score the weightings in order.

    The first trial's seconds hold the components' fits and scores (what the test repeats);
    the later ones, the scoring of their weighting only."""
    clock = context.clock
    fit_seconds, rank_seconds, normalized = 0.0, 0.0, {}
    for name in points[0]:
        started = clock()
        model = _spec(name).factory(context.tuned[name]["params"], context).fit(fold.train)
        fitted = clock()
        normalized[name] = normalized_unseen_scores(model, fold.users, "zscore")
        fit_seconds, rank_seconds = fit_seconds + fitted - started, rank_seconds + clock() - fitted
    trials = []
    for weights in points:
        if not may_try(trials):
            break
        started = clock()
        ndcg = tune_weights(normalized, fold.relevant, [weights], k=k)[1][0][1]
        trials.append(
            {"params": weights, "validation_ndcg": ndcg, "fit_seconds": fit_seconds,
             "recommend_seconds": rank_seconds + clock() - started}
        )  # fmt: skip
        fit_seconds = rank_seconds = 0.0
        if progress is not None:
            progress.step()
    best = max(trials, key=lambda trial: trial["validation_ndcg"])  # first wins a tie
    return best["params"], trials


def same_as(params: dict) -> str | None:
    """The component a blend's weights reduce to (weight 1.0 on it), else ``None``."""
    alone = [name for name, weight in params.items() if weight == 1.0]
    return alone[0] if alone else None


REGISTRY: list[ModelSpec] = [
    ModelSpec("popularity", "01", lambda p, c: Popularity()),
    ModelSpec(
        "item_knn",
        "03",
        lambda p, c: ItemKNN(binarize=True, **p),
        {"neighbors": [100, 50, 200], "shrink": [0.0, 10.0]},
    ),
    ModelSpec(
        "ease", "04", lambda p, c: EASE(**p), {"regularization": [500.0, 100.0, 2000.0]}, _ease_skip
    ),
    ModelSpec(
        "als",
        "04",
        lambda p, c: ALS(seed=c.seed, **p),
        {"regularization": [30.0, 10.0, 100.0], "factors": [32, 64]},
    ),
    ModelSpec(
        "bpr",
        "04",
        lambda p, c: BPR(seed=c.seed, **p),
        {"learning_rate": [0.01, 0.05], "factors": [64, 32]},
    ),
    ModelSpec(
        "content_based",
        "02",
        lambda p, c: ContentBased(c.items, **p),
        {"center": [False, True]},
        _needs_metadata,
    ),
    ModelSpec("hybrid", "06", _hybrid_factory, _blend_grid, _hybrid_skip, _tune_blend),
]


def _spec(name: str) -> ModelSpec:
    return next(spec for spec in REGISTRY if spec.name == name)


def register(spec: ModelSpec) -> None:
    """Add (or replace, by name) a row of the comparison."""
    REGISTRY[:] = [row for row in REGISTRY if row.name != spec.name] + [spec]


@dataclass
class Scored:
    """One fitted model scored on one fold."""

    recommended: np.ndarray
    ndcg: np.ndarray  # per scored user
    recall: np.ndarray
    fit_seconds: float
    recommend_seconds: float
    peak_memory_mb: float
    every_user: np.ndarray | None = None  # top-k of every row of the training matrix


def fit_and_score(
    model,
    fold,
    k: int,
    measure_memory: bool = False,
    rank_every_user: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> Scored:
    """Fit on ``fold.train`` and score the top-``k`` of ``fold.users`` against ``fold.test``.

    ``rank_every_user=True`` ranks every user once (kept in ``every_user``, the audit's
    input) and takes the scored users' lists from it, instead of ranking them twice.
    Seconds are read from ``clock``.
    """
    if measure_memory:
        tracemalloc.start()
    started = clock()
    model.fit(fold.train)
    fitted = clock()
    if measure_memory:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    every_user = None
    if rank_every_user:
        every_user = rank(model, np.arange(fold.train.shape[0]), k)[0]
        recommended = every_user[fold.users]
    else:
        recommended = rank(model, fold.users, k)[0]
    finished = clock()
    relevant = fold.relevant
    return Scored(
        recommended,
        metrics.ndcg_at_k(recommended, relevant, k=k, per_user=True),
        metrics.recall_at_k(recommended, relevant, k=k, per_user=True),
        fitted - started,
        finished - fitted,
        peak if measure_memory else float("nan"),
        every_user,
    )


def rank(model, users: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``model.recommend(users, k)`` (seen items removed), :data:`RANK_CHUNK` users at a time
    for the course's models (each user's list does not depend on the others in the call); a
    model of another kind (a Spark row ranks everyone in one job) in one call."""
    if not isinstance(model, Recommender):
        items, scores = model.recommend(users, k=k, exclude_seen=True)
        return np.asarray(items), np.asarray(scores, dtype=float)
    parts = [
        model.recommend(users[start : start + RANK_CHUNK], k=k, exclude_seen=True)
        for start in range(0, len(users), RANK_CHUNK)
    ]
    return (
        np.concatenate([np.asarray(items) for items, _ in parts]),
        np.concatenate([np.asarray(scores, dtype=float) for _, scores in parts]),
    )


def tuning_fold(fold, seed: int, max_users: int = MAX_TUNING_USERS):
    """``fold`` scored on at most ``max_users`` of its users: a sample drawn with ``seed``,
    kept in index order (the fold itself when it has no more users than that)."""
    if fold.users.size <= max_users:
        return fold
    users = np.random.default_rng(seed).choice(fold.users, size=max_users, replace=False)
    return replace(fold, users=np.sort(users))


def tune(spec: ModelSpec, context: Context, fold, k: int, may_try, progress=None):
    """Try ``spec``'s grid on the validation ``fold`` in order, a further point only while
    ``may_try(trials)`` is true (``trials``: the points tried so far); return
    ``(best_params, trials)``, each trial with its fit and ranking seconds."""
    if spec.tuner is not None:
        return spec.tuner(spec.candidates(context), context, fold, k, may_try, progress)
    trials = []
    for params in spec.candidates(context):
        if not may_try(trials):
            break
        scored = fit_and_score(spec.factory(params, context), fold, k, clock=context.clock)
        trials.append(
            {"params": params, "validation_ndcg": float(np.mean(scored.ndcg)),
             "fit_seconds": scored.fit_seconds, "recommend_seconds": scored.recommend_seconds}
        )  # fmt: skip
        if progress is not None:
            progress.step()
    best = max(trials, key=lambda trial: trial["validation_ndcg"])  # first wins a tie
    return best["params"], trials


def planned_grid_sizes(specs: list[ModelSpec], context: Context) -> list[int]:
    """Grid points each of ``specs`` will have when its turn comes, 0 for a row that will be
    skipped: the rows not tuned yet are assumed tuned when their skip rule lets them (the
    hybrid's grid and skip rule depend on which rows were tuned before it)."""
    planning = replace(context, tuned=dict(context.tuned))
    sizes = []
    for spec in specs:
        if spec.skip(planning):
            sizes.append(0)
            continue
        sizes.append(len(spec.candidates(planning)))
        planning.tuned.setdefault(spec.name, {"params": {}, "validation_ndcg": 0.0})
    return sizes
