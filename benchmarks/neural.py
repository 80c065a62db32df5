"""Neural models (recsys_lessons.neural) against the best classical model of each task, on three catalogues.

Three tasks, each on the protocol of the benchmark that owns it (its split functions are
imported from there, not rewritten), on MovieLens 100K, MovieLens Latest Small and the
simulated catalogue. k = 10 everywhere.

**Warm retrieval** (``benchmarks/movielens_100k.py``'s protocol, repeated over the split seeds
of ``benchmarks/hybrid.py``: 42, 1, 2, 3, 4): 75/25 split stratified by item, every test
rating relevant, the user's training items removed; nDCG@10, precision@10, recall@10 and the
mean training popularity of the recommended items. ``TwoTower`` with its class defaults
(history-mean user tower; id + ``item_content`` item tower: title words, genres, tags where
the catalogue has them, year bands; temperature 0.2, batch 1024, 4 epochs), with the logQ
correction and once without; model seed = split seed. ``ALS`` and ``EASE`` with the arguments
``benchmarks/movielens_100k.py`` chose on MovieLens 100K (read from ``movielens_100k.json``),
used as they are on every catalogue; EASE is skipped above ``EASE_MAX_ITEMS`` items, as in
``benchmarks/sequences.py``.

**Cold items** (``benchmarks/cold_start.py``'s protocol, its first five split seeds 0-4):
``cold_item_split`` holds out 20 % of the items with all their interactions, each user's shelf
ranks the cold items only, nDCG@10 and recall@10. ``AttributeMapping`` with the base model
and penalty that ``cold_start.tune_cold_items`` picks on that seed's validation cold items
(without the EASE base above ``EASE_MAX_ITEMS`` items: ``mapping_grid``).
``TwoTower`` content tower: ``item_content`` without the title-word block (release bands
relative to the last training event), temperature 0.1, 2 epochs, id-dropout chosen on the
same validation cold items (``cold_item_split(train, 0.25, seed)``) from ``ID_DROPOUT_GRID``. A
reference row, ``Oracle: true popularity``, ranks the cold items by how often they were
actually watched in the test period, the same list for every user: how far knowing only
popularity gets on this protocol (it is no model: it reads the answers).

**Next item** (``benchmarks/sequences.py``'s protocol): leave-last-out, the full catalogue
ranked with the history removed (HitRate@10, MRR@10, nDCG@10), and beside it the sampled
metric many papers report: the target ranked among 100 random unseen items
(``evaluate_sampled_next_item``, negatives seeded with 42, the same for every model).
Markov chain, session-kNN and the ALS + Markov blend with the arguments that
``sequences.run_catalogue`` tunes on its validation split. ``SASRec`` with 20 epochs, batch
64, learning rate 5e-3, class defaults otherwise (64 factors, length 50, 2 blocks, 1 head,
dropout 0.2, full-softmax loss). ``ALS + SASRec`` is ``ShortLongBlend`` with lesson 07's ALS
and that SASRec, its weight chosen by ``choose_blend_weight`` (MRR@10 on the validation split
carved from the training histories) once per split, and the SASRec of each seed's row as its
short-term model. On MovieLens the split is fixed, so the five seeds (42-46) are SASRec's
training seeds; the simulated catalogue (``session_focus=1``: sessions carry
intent) is regenerated with seeds 42-46, a new world and split each.

**Intervals.** Every row is one (model, seed). Summaries give the mean over seeds and a 95 %
Student-t interval (``seed_interval``); paired differences are taken per seed (neural minus
classical on the same split) with a t interval of the per-seed differences. On MovieLens'
fixed next-item split the classical models are deterministic (one row each, 95 % bootstrap
interval over users) and the neural-minus-classical difference is a paired bootstrap over
users of SASRec's per-user metric averaged over its seeds (training noise shows in SASRec's
own t interval). "Best classical" = the classical model with the highest mean of the task's
first metric.

**Cost.** Every row runs in a fresh process (spawned), so ``peak_rss_mb`` is that process's
``resource.getrusage(RUSAGE_SELF).ru_maxrss``: the peak resident memory of Python, the
imports (JAX alone is about 250 MB), the data and the model's fit and evaluation (tracemalloc
cannot see XLA's buffers). ``rss_before_fit_mb`` is the resident memory just before ``fit``,
so the difference is what fitting and scoring added. ``fit_seconds`` is the wall time of
``fit`` (JIT compilation included); ``cpu_per_wall`` is process CPU time / wall time during
``fit`` (about 1 = one core). XLA is pinned to one thread with
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false`` (set before JAX is imported; JAX 0.10
rejects ``--intra_op_parallelism_threads``, which is a TensorFlow option), BLAS to one thread.

Run ``RECSYS_LESSONS_DATA=/path/to/datasets python -m benchmarks.neural`` (``--quick``: two
seeds, 1-2 epochs, MovieLens 100K and the simulated catalogue). Writes
``benchmarks/results/neural.json`` after every (catalogue, task) block, so an interrupted run
keeps what finished (``complete`` lists the blocks); ``--merge`` keeps the blocks of an existing
JSON that a run with ``--datasets``/``--tasks`` does not redo.
"""

from __future__ import annotations

import os

# Pinned before anything imports JAX (XLA reads the flags once, at start-up).
XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false"
os.environ["XLA_FLAGS"] = XLA_FLAGS
os.environ.setdefault("RECSYS_LESSONS_NO_PROGRESS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from benchmarks.cold_start import (  # noqa: E402
    BASES,
    COLD_FRACTION,
    GRID,
    QUICK_GRID,
    VALIDATION_FRACTION,
    tune_cold_items,
)
from benchmarks.hybrid import SEEDS as WARM_SEEDS  # noqa: E402
from benchmarks.hybrid import component_params  # noqa: E402
from benchmarks.hybrid import splits as warm_splits  # noqa: E402
from benchmarks.sequences import EASE_MAX_ITEMS, run_catalogue  # noqa: E402
from benchmarks.sequences import build as build_sequential  # noqa: E402
from recsys_lessons import metrics, models  # noqa: E402
from recsys_lessons.coldstart import AttributeMapping, item_attributes  # noqa: E402
from recsys_lessons.data import generate_catalogue, interaction_matrix, load_dataset  # noqa: E402
from recsys_lessons.evaluation import (  # noqa: E402
    bootstrap_interval,
    cold_item_split,
    evaluate_cold_items,
    paired_bootstrap_interval,
    seed_interval,
)
from recsys_lessons.neural import SASRec, TwoTower, item_content  # noqa: E402
from recsys_lessons.sequences import (  # noqa: E402
    MatrixModel,
    ShortLongBlend,
    build_sequences,
    choose_blend_weight,
    evaluate_next_item,
    evaluate_sampled_next_item,
    next_item_split,
)

K = 10
RESULTS = Path(__file__).resolve().parent / "results" / "neural.json"
DATASETS = ("movielens-100k", "movielens-latest-small", "synthetic")
COLD_SEEDS = (0, 1, 2, 3, 4)
SEQUENCE_SEEDS = (42, 43, 44, 45, 46)
SESSION_FOCUS = 1.0
SAMPLED_NEGATIVES, SAMPLED_SEED = 100, 42
ID_DROPOUT_GRID = (0.25, 0.5, 0.75)
TWO_TOWER_COLD = {"temperature": 0.1, "iterations": 2}
SASREC = {"iterations": 20, "batch_size": 64, "learning_rate": 5e-3}
#: --quick: fewer epochs, one id-dropout, two seeds.
QUICK = {"two_tower_iterations": 1, "cold_iterations": 1, "sasrec_iterations": 2}
#: A reference row, neither neural nor a candidate "best classical" model.
ORACLE = "Oracle: true popularity"
NEURAL = {"TwoTower", "TwoTower, no logQ", "TwoTower content tower", "SASRec", "ALS + SASRec"}
FIRST_METRIC = {"warm": f"ndcg@{K}", "cold items": f"ndcg@{K}", "next item": f"hit_rate@{K}"}
ITEM_FEATURES = "item_content(dataset.items.reindex(matrix.item_ids))"


# --------------------------------------------------------------------------------------
# measuring one row in a fresh process
# --------------------------------------------------------------------------------------


def in_fresh_process(function, *args) -> dict:
    """``function(*args)`` in a newly spawned process; adds its peak resident memory."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_measured, function, *args).result()


def _measured(function, *args) -> dict:
    result = function(*args)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def resident_mb() -> float:
    """Current resident memory of this process (``VmRSS``), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_fit(fit) -> dict:
    """Run ``fit()``; wall seconds, CPU per wall second and the memory just before it."""
    before = resident_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    with threadpool_limits(1, "blas"):
        fit()
    wall = time.perf_counter() - wall
    return {
        "fit_seconds": wall,
        "cpu_per_wall": (time.process_time() - cpu) / wall,
        "rss_before_fit_mb": before,
    }


def load(name: str):
    return load_dataset(name, seed=42) if name == "synthetic" else load_dataset(name)


# --------------------------------------------------------------------------------------
# warm retrieval
# --------------------------------------------------------------------------------------


def warm_models(quick: bool) -> dict:
    """Row name -> (class name, arguments); ``ITEM_FEATURES`` stands for the frame."""
    classical = component_params(False, None, None)
    two_tower = {"item_features": ITEM_FEATURES}
    if quick:
        two_tower["iterations"] = QUICK["two_tower_iterations"]
    return {
        "TwoTower": ("TwoTower", two_tower),
        "TwoTower, no logQ": ("TwoTower", {**two_tower, "logq_correction": False}),
        "ALS": ("ALS", classical["ALS"]),
        "EASE": ("EASE", classical["EASE"]),
    }


def warm_row(dataset: str, seed: int, name: str, cls: str, params: dict) -> dict:
    data = load(dataset)
    full, (train, test, _, _) = warm_splits(data, seed)
    if cls == "TwoTower":
        features = item_content(data.items.reindex(full.item_ids))
        model = TwoTower(**{**params, "item_features": features, "seed": seed})
    else:
        model = getattr(models, cls)(**params)
    cost = timed_fit(lambda: model.fit(train))
    users = np.flatnonzero(np.diff(test.indptr))
    with threadpool_limits(1, "blas"):
        recommended, _ = model.recommend(users, k=K, exclude_seen=True)
    relevant = test[users]
    popularity = np.diff(train.tocsc().indptr)
    return {
        **cost,
        "users": len(users),
        f"ndcg@{K}": float(metrics.ndcg_at_k(recommended, relevant, k=K)),
        f"precision@{K}": float(metrics.precision_at_k(recommended, relevant, k=K)),
        f"recall@{K}": float(metrics.recall_at_k(recommended, relevant, k=K)),
        "mean_training_count_of_recommended": float(popularity[recommended].mean()),
    }


def run_warm(dataset: str, seeds, quick: bool) -> list[dict]:
    rows = []
    n_items = None
    for seed in seeds:
        for name, (cls, params) in warm_models(quick).items():
            if name == "EASE":
                n_items = n_items or load(dataset).items.shape[0]
                if n_items > EASE_MAX_ITEMS:
                    continue
            result = in_fresh_process(warm_row, dataset, seed, name, cls, params)
            rows.append(
                {
                    "dataset": dataset,
                    "task": "warm",
                    "model": name,
                    "class": cls,
                    "params": {**params, "seed": seed} if cls == "TwoTower" else params,
                    "split": {
                        "function": "benchmarks.hybrid.splits (stratified_split by item, 75/25)",
                        "seed": seed,
                    },
                    "seed": seed,
                    **result,
                }
            )
            print(f"  {dataset} warm seed {seed} {name}: {_brief(rows[-1], 'warm')}", flush=True)
    return rows


# --------------------------------------------------------------------------------------
# cold items
# --------------------------------------------------------------------------------------


def content_without_titles(items: pd.DataFrame, now):
    """``item_content`` minus its title-word block (title words name single films)."""
    features = item_content(items, now=now)
    return features.matrix[:, np.flatnonzero(features.blocks != "title")]


def cold_row(dataset: str, seed: int, method: str, quick: bool) -> dict:
    data = load(dataset)
    full = interaction_matrix(data.interactions, value=None)
    items = data.items.reindex(full.item_ids)
    train, test = cold_item_split(data.interactions, COLD_FRACTION, seed)
    train_X = full.like(train, value=None).X
    test_X = full.like(test, value=None).X
    cold = full.item_index(np.sort(test["item_id"].unique()))
    now = train["timestamp"].max()
    if method == "AttributeMapping":
        best, validation = tune_cold_items(train, full, items, mapping_grid(quick, items), seed)
        mapping = best["mapping"]
        attributes = item_attributes(items, now=now)
        model = AttributeMapping(BASES[mapping["base"]](), attributes, alpha=mapping["alpha"])
        params = dict(mapping)
        fit = lambda: model.fit(train_X)  # noqa: E731
    elif method == ORACLE:
        params, validation = {"scores": "each cold item's count in the test period"}, None
        model = _TruePopularity(np.asarray(test_X.sum(axis=0)).ravel(), train_X.shape[0])
        fit = lambda: None  # noqa: E731
    else:
        settings = dict(TWO_TOWER_COLD, seed=seed)
        if quick:
            settings["iterations"] = QUICK["cold_iterations"]
        grid = ID_DROPOUT_GRID[1:2] if quick else ID_DROPOUT_GRID
        dropout, validation = choose_id_dropout(train, full, items, settings, grid, seed)
        params = {**settings, "id_dropout": dropout, "item_features": "item_content minus title"}
        model = TwoTower(**settings, id_dropout=dropout)
        features = content_without_titles(items, now)
        fit = lambda: model.fit(train_X, item_features=features)  # noqa: E731
    cost = timed_fit(fit)
    table = evaluate_cold_items(
        {method: model.score()}, test_X, cold, k=K, metrics=("ndcg", "recall")
    )
    return {
        **cost,
        "params": params,
        "validation_ndcg": validation,
        "ranked_among": table.loc[method, "ranked_among"],
        "users": int(table.loc[method, "users"]),
        f"ndcg@{K}": float(table.loc[method, f"ndcg@{K}"]),
        f"recall@{K}": float(table.loc[method, f"recall@{K}"]),
    }


class _TruePopularity:
    """The oracle of the cold-item protocol: every user gets the items' true test counts."""

    def __init__(self, counts: np.ndarray, n_users: int):
        self.counts, self.n_users = counts, n_users

    def score(self) -> np.ndarray:
        return np.tile(self.counts.astype(float), (self.n_users, 1))


def mapping_grid(quick: bool, items: pd.DataFrame) -> dict:
    """``cold_start``'s grid; without the EASE base above ``EASE_MAX_ITEMS`` items (as in
    ``benchmarks.sequences``: on MovieLens Latest Small one EASE fit takes minutes)."""
    grid = QUICK_GRID if quick else GRID
    if len(items) <= EASE_MAX_ITEMS:
        return grid
    bases = [base for base in grid["mapping"]["base"] if not base.startswith("EASE")]
    return {**grid, "mapping": {**grid["mapping"], "base": bases}}


def choose_id_dropout(train, full, items, settings, grid, seed):
    """The id-dropout with the best nDCG@10 on validation cold items carved from ``train``."""
    fit_part, validation = cold_item_split(train, VALIDATION_FRACTION, seed)
    fit_X = full.like(fit_part, value=None).X
    validation_X = full.like(validation, value=None).X
    cold = full.item_index(np.sort(validation["item_id"].unique()))
    features = content_without_titles(items, fit_part["timestamp"].max())
    scores = {
        str(rate): TwoTower(**settings, id_dropout=rate).fit(fit_X, item_features=features).score()
        for rate in grid
    }
    table = evaluate_cold_items(scores, validation_X, cold, k=K, metrics=("ndcg",))
    ndcg = table[f"ndcg@{K}"]
    return float(ndcg.idxmax()), {f"id_dropout={rate}": float(v) for rate, v in ndcg.items()}


def run_cold(dataset: str, seeds, quick: bool) -> list[dict]:
    rows = []
    for seed in seeds:
        for method, cls in (
            ("AttributeMapping", "AttributeMapping"),
            ("TwoTower content tower", "TwoTower"),
            (ORACLE, "reference (not a model)"),
        ):
            result = in_fresh_process(cold_row, dataset, seed, method, quick)
            rows.append(
                {
                    "dataset": dataset,
                    "task": "cold items",
                    "model": method,
                    "class": cls,
                    "params": result.pop("params"),
                    "matrix": "implicit: 1.0 per (user, item) pair of train",
                    "split": {
                        "function": "cold_item_split",
                        "fraction": COLD_FRACTION,
                        "seed": seed,
                        "validation": f"cold_item_split(train, {VALIDATION_FRACTION}, seed={seed})",
                    },
                    "seed": seed,
                    **result,
                }
            )
            print(f"  {dataset} cold seed {seed} {method}: {_brief(rows[-1], 'cold items')}")
    return rows


# --------------------------------------------------------------------------------------
# next item
# --------------------------------------------------------------------------------------


def sequences_of(dataset: str, seed: int):
    """``(sequences, description)`` as ``benchmarks.sequences`` builds them."""
    if dataset == "synthetic":
        data = generate_catalogue(seed=seed, session_focus=SESSION_FOCUS)
        world = data.world
        sequences = build_sequences(
            data.interactions, world.user_ids, world.item_ids, session_gap="4h"
        )
        return sequences, {
            "dataset": f"synthetic(seed={seed}, session_focus={SESSION_FOCUS})",
            "protocol": "leave-last-out, full ranking, seen items removed, k=10, session gap 4h",
        }
    sequences = build_sequences(load_dataset(dataset).interactions, session_gap="30min")
    return sequences, {
        "dataset": dataset,
        "protocol": "leave-last-out, full ranking, seen items removed, k=10, session gap 30min",
    }


def tuned_classical(dataset: str, seed: int) -> dict:
    """``sequences.run_catalogue``'s tuned (class, arguments) of the three classical rows."""
    sequences, description = sequences_of(dataset, seed)
    rows, _ = run_catalogue(sequences, description)
    wanted = ("Markov chain", "Session-kNN", "ALS + Markov")
    chosen = {row["model"]: (row["class"], row["arguments"]) for row in rows}
    return {"chosen": {name: chosen[name] for name in wanted}}


def sequence_row(dataset: str, seed: int, cls: str, arguments: dict) -> dict:
    sequences, _ = sequences_of(dataset, seed)
    history, targets, _ = next_item_split(sequences)
    model = SASRec(**arguments) if cls == "SASRec" else build_sequential(cls, arguments)
    cost = timed_fit(lambda: model.fit(history))
    return {**cost, **next_item_metrics(model, history, targets)}


def sasrec_rows(dataset: str, seed: int, arguments: dict, long_model, weight: float) -> dict:
    """SASRec alone and blended with ALS (``ShortLongBlend``) from one SASRec fit.

    The blend's weight was chosen on validation (:func:`blend_weight`); the fitted SASRec
    becomes the blend's short-term model, so the blend costs one ALS fit more.
    """
    sequences, _ = sequences_of(dataset, seed)
    history, targets, _ = next_item_split(sequences)
    sasrec = SASRec(**arguments)
    cost = timed_fit(lambda: sasrec.fit(history))
    blend = ShortLongBlend(build_sequential(*long_model), SASRec(**arguments), weight)
    blend.n_users_, blend.n_items_ = history.n_users, history.n_items
    als_cost = timed_fit(
        lambda: setattr(blend, "long_", MatrixModel(blend.long_model).fit(history))
    )
    blend.short_ = sasrec
    blend_cost = {**cost, "fit_seconds": cost["fit_seconds"] + als_cost["fit_seconds"]}
    return {
        "SASRec": {**cost, **next_item_metrics(sasrec, history, targets)},
        "ALS + SASRec": {**blend_cost, **next_item_metrics(blend, history, targets)},
    }


def blend_weight(dataset: str, seed: int, arguments: dict, long_model) -> dict:
    """The ALS + SASRec weight ``choose_blend_weight`` picks on the validation split (MRR@10)."""
    sequences, _ = sequences_of(dataset, seed)
    history, _, _ = next_item_split(sequences)
    blend = ShortLongBlend(build_sequential(*long_model), SASRec(**arguments))
    choose_blend_weight(blend, history, k=K, metric="mrr")
    return {"weight": blend.weight}


def next_item_metrics(model, history, targets) -> dict:
    """Full-ranking and sampled-100 metrics, means and the per-user arrays."""
    full = evaluate_next_item(model, history, targets, k=K)
    sampled = evaluate_sampled_next_item(
        model, history, targets, n_negatives=SAMPLED_NEGATIVES, k=K, seed=SAMPLED_SEED
    )
    per_user = {m: full[m].to_numpy() for m in (f"hit_rate@{K}", f"mrr@{K}", f"ndcg@{K}")}
    per_user[f"sampled_hit_rate@{K}"] = sampled[f"hit_rate@{K}"].to_numpy()
    return {
        "users": len(full),
        **{m: float(v.mean()) for m, v in per_user.items()},
        "per_user": per_user,
    }


def run_next_item(dataset: str, seeds, quick: bool) -> tuple[list[dict], dict]:
    """Rows and, on MovieLens (fixed split), per-user arrays for paired bootstraps."""
    sasrec = dict(SASREC, progress=False)
    if quick:
        sasrec["iterations"] = QUICK["sasrec_iterations"]
    fixed_split = dataset != "synthetic"
    rows, per_user = [], {}
    for seed in seeds:
        results = {}
        if not fixed_split or seed == seeds[0]:
            classical = in_fresh_process(tuned_classical, dataset, seed)["chosen"]
            long_model = classical["ALS + Markov"][1]["long_model"]
            weight = in_fresh_process(
                blend_weight, dataset, seed, {**sasrec, "seed": seed}, long_model
            )["weight"]
            for name, (cls, arguments) in classical.items():
                result = in_fresh_process(sequence_row, dataset, seed, cls, arguments)
                results[name] = (cls, arguments, None if fixed_split else seed, result)
        arguments = {**sasrec, "seed": seed}
        both = in_fresh_process(sasrec_rows, dataset, seed, arguments, long_model, weight)
        for name in ("SASRec", "ALS + SASRec"):  # one process measured both
            both[name]["peak_rss_mb"] = both["peak_rss_mb"]
        blend_arguments = {
            "long_model": long_model,
            "short_model": ("SASRec", arguments),
            "weight": weight,
        }
        results["SASRec"] = ("SASRec", arguments, seed, both["SASRec"])
        results["ALS + SASRec"] = ("ShortLongBlend", blend_arguments, seed, both["ALS + SASRec"])
        for name, (cls, arguments, row_seed, result) in results.items():
            users = result.pop("per_user")
            if fixed_split:
                per_user.setdefault(name, []).append(users)
            rows.append(
                {
                    "dataset": dataset
                    if fixed_split
                    else f"synthetic(session_focus={SESSION_FOCUS})",
                    "task": "next item",
                    "model": name,
                    "class": cls,
                    "params": arguments,
                    "split": {
                        "function": "next_item_split (leave-last-out)",
                        "world_seed": None if fixed_split else seed,
                        "sampled": f"{SAMPLED_NEGATIVES} unseen negatives, seed {SAMPLED_SEED}",
                    },
                    "seed": row_seed,
                    **result,
                }
            )
            print(f"  {dataset} next item seed {seed} {name}: {_brief(rows[-1], 'next item')}")
    return rows, per_user


# --------------------------------------------------------------------------------------
# summaries, differences, output
# --------------------------------------------------------------------------------------

METRICS = {
    "warm": (f"ndcg@{K}", f"precision@{K}", f"recall@{K}", "mean_training_count_of_recommended"),
    "cold items": (f"ndcg@{K}", f"recall@{K}"),
    "next item": (f"hit_rate@{K}", f"ndcg@{K}", f"mrr@{K}", f"sampled_hit_rate@{K}"),
}


def summarise(rows, per_user: dict) -> list[dict]:
    """Mean and 95 % interval per (dataset, task, model): t over seeds, or bootstrap over users."""
    summary = []
    frame = pd.DataFrame(rows)
    for (dataset, task, model), group in frame.groupby(["dataset", "task", "model"], sort=False):
        entry = {"dataset": dataset, "task": task, "model": model, "runs": len(group)}
        for metric in METRICS[task]:
            values = group[metric].to_numpy(dtype=float)
            if len(values) >= 2:
                interval, kind = seed_interval(values), "t over seeds"
            else:
                users = per_user[(dataset, model)][0][metric]
                interval, kind = bootstrap_interval(users, seed=42), "bootstrap over users"
            entry[metric] = {
                "mean": interval.estimate,
                "ci95": [interval.low, interval.high],
                "interval": kind,
            }
        for cost in ("fit_seconds", "cpu_per_wall", "peak_rss_mb", "rss_before_fit_mb"):
            entry[cost] = float(group[cost].mean())
        summary.append(entry)
    return summary


def differences(rows, per_user: dict) -> list[dict]:
    """Each neural row minus each classical row of its (dataset, task), paired."""
    frame = pd.DataFrame(rows)
    out = []
    for (dataset, task), group in frame.groupby(["dataset", "task"], sort=False):
        first = FIRST_METRIC[task]
        means = group.groupby("model")[first].mean()
        classical = [m for m in means.index if m not in NEURAL and m != ORACLE]
        best = max(classical, key=means.get)
        for neural in [m for m in means.index if m in NEURAL]:
            for other in classical:
                entry = {
                    "dataset": dataset,
                    "task": task,
                    "a": neural,
                    "b": other,
                    "b_is_best_classical": other == best,
                }
                for metric in METRICS[task][:3]:
                    entry[metric] = difference(group, per_user, dataset, neural, other, metric)
                out.append(entry)
    return out


def difference(group, per_user, dataset, a, b, metric) -> dict:
    if (dataset, a) in per_user:  # fixed split: paired bootstrap over users
        mean_a = np.mean([users[metric] for users in per_user[(dataset, a)]], axis=0)
        interval = paired_bootstrap_interval(mean_a, per_user[(dataset, b)][0][metric], seed=42)
        kind = f"paired bootstrap over users ({a} averaged over its seeds)"
    else:  # paired by seed
        values = group.pivot_table(index="seed", columns="model", values=metric)
        interval = seed_interval((values[a] - values[b]).dropna().to_numpy())
        kind = "t over seeds of per-seed differences"
    return {
        "mean_difference": interval.estimate,
        "ci95": [interval.low, interval.high],
        "interval": kind,
    }


def show(summary, diffs, dataset, task) -> None:
    table = {}
    for entry in summary:
        if entry["dataset"] == dataset and entry["task"] == task:
            cells = {
                m: f"{entry[m]['mean']:.4f} [{entry[m]['ci95'][0]:.4f}, {entry[m]['ci95'][1]:.4f}]"
                for m in METRICS[task]
                if m != "mean_training_count_of_recommended"
            }
            if task == "warm":
                cells["pop. of recs"] = f"{entry['mean_training_count_of_recommended']['mean']:.0f}"
            cells["fit s"] = f"{entry['fit_seconds']:.1f}"
            cells["peak MB"] = f"{entry['peak_rss_mb']:.0f}"
            table[entry["model"]] = cells
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(f"\n{dataset}, {task} (mean [95 % interval])\n{pd.DataFrame(table).T.to_string()}")
    for d in diffs:
        if d["dataset"] == dataset and d["task"] == task:
            first = FIRST_METRIC[task]
            best = " (best classical)" if d["b_is_best_classical"] else ""
            low, high = d[first]["ci95"]
            print(
                f"  {d['a']} - {d['b']}{best}: {first} {d[first]['mean_difference']:+.4f} "
                f"[{low:+.4f}, {high:+.4f}]"
            )


def _brief(row, task) -> str:
    return (
        f"{FIRST_METRIC[task]} {row[FIRST_METRIC[task]]:.4f}, fit {row['fit_seconds']:.1f} s, "
        f"peak {row['peak_rss_mb']:.0f} MB"
    )


def write(result, rows, per_user, started, path: Path = RESULTS, kept=None) -> None:
    """Write the JSON; ``kept`` (from :func:`kept_blocks`) is prepended to this run's blocks."""
    kept = kept or {"complete": [], "summary": [], "differences": [], "rows": []}
    result["summary"] = kept["summary"] + summarise(rows, per_user)
    result["differences"] = kept["differences"] + differences(rows, per_user)
    result["rows"] = kept["rows"] + rows
    result["complete"] = kept["complete"] + [
        block for block in result["complete"] if block not in kept["complete"]
    ]
    result["seconds"] = round(time.perf_counter() - started, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=_jsonable) + "\n")


def kept_blocks(path: Path, names, tasks) -> dict:
    """The (catalogue, task) blocks of an earlier JSON at ``path`` that this run will not redo.

    Their rows, summaries and differences are copied as they are (the per-user arrays behind
    a fixed split's bootstrap are not stored, so a kept block cannot be re-summarised).
    """
    if not path.exists():
        return None
    earlier = json.loads(path.read_text())
    redone = {(name, task) for name in names for task in FIRST_METRIC if not tasks or task in tasks}
    complete = [b for b in earlier["complete"] if (b["dataset"], b["task"]) not in redone]
    rows = [
        row
        for row in earlier["rows"]
        if (row.get("catalogue", row["dataset"]), row["task"]) not in redone
    ]
    labels = {(row["dataset"], row["task"]) for row in rows}
    return {
        "complete": complete,
        "rows": rows,
        "summary": [e for e in earlier["summary"] if (e["dataset"], e["task"]) in labels],
        "differences": [e for e in earlier["differences"] if (e["dataset"], e["task"]) in labels],
    }


def _jsonable(value):
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="two seeds, 1-2 epochs, MovieLens 100K and the simulated catalogue",
    )
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=None)
    parser.add_argument("--tasks", nargs="+", choices=tuple(FIRST_METRIC), default=None)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the blocks of the existing --output that this run does not run",
    )
    args = parser.parse_args(argv)
    n_seeds = 2 if args.quick else 5
    names = args.datasets or (("movielens-100k", "synthetic") if args.quick else DATASETS)
    import jax

    started = time.perf_counter()
    result = {
        "protocol": __doc__,
        "quick": args.quick,
        "k": K,
        "seeds": {
            "warm (split seeds)": list(WARM_SEEDS[:n_seeds]),
            "cold items (split seeds)": list(COLD_SEEDS[:n_seeds]),
            "next item (SASRec training seeds; synthetic: world seeds)": list(
                SEQUENCE_SEEDS[:n_seeds]
            ),
        },
        "xla_flags": XLA_FLAGS,
        "threads": "XLA_FLAGS pins XLA's CPU backend to one thread; BLAS one thread "
        "(threadpoolctl, OPENBLAS_NUM_THREADS=1); cpu_per_wall of every row records what fit used",
        "memory": "peak_rss_mb = ru_maxrss of a fresh spawned process per row (Python, imports, "
        "data, fit and evaluation); rss_before_fit_mb = VmRSS just before fit",
        "machine": platform.platform(),
        "processor_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "complete": [],
    }
    rows, per_user = [], {}
    kept = kept_blocks(args.output, names, args.tasks) if args.merge else None
    tasks = (
        ("warm", run_warm, WARM_SEEDS),
        ("cold items", run_cold, COLD_SEEDS),
        ("next item", run_next_item, SEQUENCE_SEEDS),
    )
    for name in names:
        for task, run, seeds in tasks:
            if args.tasks and task not in args.tasks:
                continue
            block_started = time.perf_counter()
            output = run(name, seeds[:n_seeds], args.quick)
            if task == "next item":
                output, users = output
                per_user.update({(name, model): runs for model, runs in users.items()})
            rows += [{"catalogue": name, **row} for row in output]
            result["complete"].append(
                {
                    "dataset": name,
                    "task": task,
                    "seconds": round(time.perf_counter() - block_started, 1),
                }
            )
            write(result, rows, per_user, started, args.output, kept)
            dataset = output[0]["dataset"]
            show(result["summary"], result["differences"], dataset, task)
    print(f"\nwrote {args.output} in {result['seconds']} s")
    return result


if __name__ == "__main__":
    main()
