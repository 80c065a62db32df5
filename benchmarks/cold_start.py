"""Cold start on MovieLens 100K and the simulated catalogue: new items and new users.

Lesson 05 (``notebooks/05_cold_start.ipynb``) teaches every method measured here.

Protocol, repeated for every split seed (mean and 95% interval over the seeds, t interval):

**Cold items.** :func:`~recsys_lessons.evaluation.split.cold_item_split` holds out 20% of the items with
all their interactions (implicit feedback: 1.0 per rated pair). Each user with at least one
held-out interaction gets a "new titles" shelf of 10 items ranked **among the cold items
only** (:func:`~recsys_lessons.evaluation.cold.evaluate_cold_items`); nDCG@10. Metadata =
:func:`~recsys_lessons.coldstart.new_items.item_attributes` (genres, tags and provider where they
exist, release-year band, "released N days before the last training event" band).
Hyperparameters are tuned on a validation split carved from the warm (training) data only: a
further 25% of the training items (20% of all) are held out as validation cold items, each
configuration is fitted on the rest, and the best validation nDCG@10 wins; only then is it
refitted on the whole training part and scored on the test items.

- ``Random``; ``PredictedPopularity`` (ridge from attributes to log popularity);
- ``ContentBased`` (lesson 02, cosine on genres, plus tags where they exist);
- ``AttributeMapping`` (Gantner et al. 2010): ridge from attributes to ALS or EASE item vectors.

**Cold users.** :func:`~recsys_lessons.evaluation.split.cold_user_split` holds out 20% of the users;
the rest trains. Each held-out user's first 15 events in time are what they could tell us
(the "pool"); the events after them are the test, **the same for every method**, and every
list ranks all items minus the pool (:func:`~recsys_lessons.evaluation.cold.evaluate_cold_users`);
nDCG@10. ALS and EASE use their class defaults (tuned on MovieLens 100K in lesson 04).

- ``Popularity`` and ``SegmentPopularity`` (ML-100K: age band x gender; synthetic: segment)
  know nothing of the user;
- onboarding questionnaire (Rashid et al. 2002): items asked in the order of a strategy
  (popularity, entropy, log popularity x entropy, computed on the warm users' ratings) until
  the user has answered 3, 5 or 10 (a user can answer about the items in their pool); the
  answers are folded into ALS (:meth:`~recsys_lessons.models.ALS.fold_in`).
  ``questions`` is the mean number of items shown to collect the answers;
- fold-in: the user's first 3, 5 or 10 events in time (what a new member actually watched
  first) folded into ALS and into EASE.

Run ``RECSYS_LESSONS_DATA=/path/holding/ml-100k python -m benchmarks.cold_start`` (``--quick``
uses fewer grid points and the minimum of 5 seeds). Prints the tables and writes
``benchmarks/results/cold_start.json``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recsys_lessons.coldstart import (
    QUESTION_STRATEGIES,
    AttributeMapping,
    PredictedPopularity,
    SegmentPopularity,
    item_attributes,
    onboarding_answers,
    question_order,
    segment_labels,
)
from recsys_lessons.data import interaction_matrix, load_dataset
from recsys_lessons.evaluation import (
    cold_item_split,
    cold_user_split,
    evaluate_cold_items,
    evaluate_cold_users,
    seed_interval,
)
from recsys_lessons.models import ALS, EASE, ContentBased, Popularity, Random

RESULTS = Path(__file__).resolve().parent / "results" / "cold_start.json"
COLD_FRACTION = 0.2
VALIDATION_FRACTION = 0.25  # of the training items: 20% of all items
K = 10
N_ANSWERS = (3, 5, 10)
POOL = 15  # each new user's first POOL events: what they can tell us; the rest is the test
SEGMENT_COLUMNS = {"movielens-100k": ["age", "gender"], "synthetic": ["segment"]}

GRID = {
    "mapping": {
        "base": ["ALS(factors=64)", "EASE(regularization=500.0)"],
        "alpha": [10.0, 100.0, 1000.0],
    },
    "predicted_popularity": {"alpha": [1.0, 10.0, 100.0]},
}
QUICK_GRID = {
    "mapping": {"base": ["ALS(factors=64)", "EASE(regularization=500.0)"], "alpha": [100.0]},
    "predicted_popularity": {"alpha": [10.0]},
}
BASES = {
    "ALS(factors=64)": lambda: ALS(factors=64),
    "EASE(regularization=500.0)": lambda: EASE(regularization=500.0),
}


def interval(values) -> tuple[float, float, float]:
    """Mean and 95% t interval over split seeds (:func:`recsys_lessons.evaluation.stats.seed_interval`)."""
    result = seed_interval(values)
    return result.estimate, result.low, result.high


# --------------------------------------------------------------------------------------
# cold items
# --------------------------------------------------------------------------------------


def content_weights(items) -> dict:
    return {"genres": 1.0, **({"tags": 1.0} if "tags" in items.columns else {})}


def score_cold_item_methods(train_X, attributes, items, mapping, popularity_alpha, seed):
    return {
        "Random": (Random(seed=seed), {"seed": seed}),
        "PredictedPopularity": (
            PredictedPopularity(attributes, alpha=popularity_alpha),
            {"alpha": popularity_alpha},
        ),
        "ContentBased": (
            ContentBased(items, feature_weights=content_weights(items)),
            {"feature_weights": content_weights(items)},
        ),
        "AttributeMapping": (
            AttributeMapping(BASES[mapping["base"]](), attributes, alpha=mapping["alpha"]),
            dict(mapping),
        ),
    }


def tune_cold_items(train, full, items, grid, seed):
    """Best mapping and predicted-popularity settings on validation cold items carved from train."""
    fit_part, validation = cold_item_split(train, VALIDATION_FRACTION, seed)
    fit_X = full.like(fit_part, value=None).X
    validation_X = full.like(validation, value=None).X
    cold = full.item_index(np.sort(validation["item_id"].unique()))
    attributes = item_attributes(items, now=fit_part["timestamp"].max())
    scores, settings = {}, {}
    for base, alpha in itertools.product(grid["mapping"]["base"], grid["mapping"]["alpha"]):
        name = f"mapping {base} alpha={alpha}"
        scores[name] = AttributeMapping(BASES[base](), attributes, alpha=alpha).fit(fit_X).score()
        settings[name] = ("mapping", {"base": base, "alpha": alpha})
    for alpha in grid["predicted_popularity"]["alpha"]:
        name = f"popularity alpha={alpha}"
        scores[name] = PredictedPopularity(attributes, alpha=alpha).fit(fit_X).score()
        settings[name] = ("predicted_popularity", {"alpha": alpha})
    table = evaluate_cold_items(scores, validation_X, cold, k=K, metrics=("ndcg",))
    best = {}
    for name in table[f"ndcg@{K}"].sort_values(ascending=False, kind="stable").index:
        best.setdefault(settings[name][0], settings[name][1])
    return best, table[f"ndcg@{K}"].to_dict()


def run_cold_items(dataset, grid, seeds):
    full = interaction_matrix(dataset.interactions, value=None)
    items = dataset.items.reindex(full.item_ids)
    rows = []
    for seed in seeds:
        started = time.perf_counter()
        train, test = cold_item_split(dataset.interactions, COLD_FRACTION, seed)
        best, validation = tune_cold_items(train, full, items, grid, seed)
        train_X = full.like(train, value=None).X
        test_X = full.like(test, value=None).X
        cold = full.item_index(np.sort(test["item_id"].unique()))
        attributes = item_attributes(items, now=train["timestamp"].max())
        methods = score_cold_item_methods(
            train_X, attributes, items, best["mapping"], best["predicted_popularity"]["alpha"], seed
        )
        scores = {name: model.fit(train_X).score() for name, (model, _) in methods.items()}
        table = evaluate_cold_items(scores, test_X, cold, k=K, metrics=("ndcg", "recall"))
        for name, (model, params) in methods.items():
            rows.append(
                {
                    "dataset": dataset.name,
                    "task": "cold items",
                    "method": name,
                    "class": type(model).__name__,
                    "params": params,
                    "matrix": "implicit: 1.0 per (user, item) pair of train",
                    "split": {
                        "function": "cold_item_split",
                        "fraction": COLD_FRACTION,
                        "seed": seed,
                        "validation": f"cold_item_split(train, {VALIDATION_FRACTION}, seed={seed})",
                    },
                    "ranked_among": table.loc[name, "ranked_among"],
                    "users": int(table.loc[name, "users"]),
                    f"ndcg@{K}": table.loc[name, f"ndcg@{K}"],
                    f"recall@{K}": table.loc[name, f"recall@{K}"],
                    "validation_ndcg": validation if name == "AttributeMapping" else None,
                }
            )
        print(f"  {dataset.name} cold items seed {seed}: {time.perf_counter() - started:.1f}s")
    return rows


# --------------------------------------------------------------------------------------
# cold users
# --------------------------------------------------------------------------------------


def user_rows(dataset_name, seed, method, cls, params, result, questions=None, n_known=0):
    return [
        {
            "dataset": dataset_name,
            "task": "cold users",
            "method": method,
            "class": cls,
            "params": params,
            "matrix": "implicit: 1.0 per (user, item) pair of the warm users",
            "split": {
                "function": "cold_user_split",
                "fraction": COLD_FRACTION,
                "seed": seed,
                "n_known": n_known,
            },
            "ranked_among": result["ranked_among"],
            "users": int(result["users"]),
            f"ndcg@{K}": result[f"ndcg@{K}"],
            "questions": questions,
        }
    ]


def run_cold_users(dataset, seeds):
    full = interaction_matrix(dataset.interactions, value=None)
    ratings = interaction_matrix(
        dataset.interactions, user_ids=full.user_ids, item_ids=full.item_ids
    ).X
    columns = SEGMENT_COLUMNS.get(dataset.name, ["segment"])
    labels = segment_labels(dataset.users.reindex(full.user_ids), columns).to_numpy()
    rows = []
    for seed in seeds:
        started = time.perf_counter()
        train, pool, test = cold_user_split(dataset.interactions, COLD_FRACTION, seed, POOL)
        train_X = full.like(train, value=None).X
        warm_users = full.user_index(np.sort(train["user_id"].unique()))
        cold_users = full.user_index(np.sort(test["user_id"].unique()))
        pool_X = full.like(pool, value=None).X[cold_users]
        test_X = full.like(test, value=None).X[cold_users]
        # models see the warm users only: the cold users' rows of train_X are empty
        als, ease = ALS().fit(train_X), EASE().fit(train_X)

        # every method ranks all items minus the user's first POOL events, on the same test
        evaluate = functools.partial(
            evaluate_cold_users, test=test_X, known=pool_X, k=K, metrics=("ndcg",)
        )
        segments = SegmentPopularity(labels[warm_users]).fit(train_X[warm_users])
        table = evaluate(
            {
                "Popularity": Popularity().fit(train_X).score(cold_users),
                "SegmentPopularity": segments.score_segments(labels[cold_users]),
            }
        )
        rows += user_rows(dataset.name, seed, "Popularity", "Popularity", {}, table.iloc[0])
        rows += user_rows(
            dataset.name,
            seed,
            "SegmentPopularity",
            "SegmentPopularity",
            {"segments": columns},
            table.iloc[1],
        )
        train_ratings = ratings[warm_users]
        for strategy, n in itertools.product(QUESTION_STRATEGIES, N_ANSWERS):
            answers, asked = onboarding_answers(question_order(train_ratings, strategy), pool_X, n)
            table = evaluate({"ALS": als.fold_in(answers)})
            params = {**als.get_params(), "strategy": strategy, "answers": n}
            rows += user_rows(
                dataset.name,
                seed,
                f"questionnaire {strategy}, {n} answers",
                "ALS",
                params,
                table.iloc[0],
                questions=float(asked.mean()),
            )
        for n in N_ANSWERS:
            _, known, _ = cold_user_split(dataset.interactions, COLD_FRACTION, seed, n_known=n)
            known_X = full.like(known, value=None).X[cold_users]
            table = evaluate({"ALS": als.fold_in(known_X), "EASE": ease.fold_in(known_X)})
            for name, model in (("ALS", als), ("EASE", ease)):
                rows += user_rows(
                    dataset.name,
                    seed,
                    f"fold-in {name}, first {n} events",
                    name,
                    model.get_params(),
                    table.loc[name],
                    n_known=n,
                )
        print(f"  {dataset.name} cold users seed {seed}: {time.perf_counter() - started:.1f}s")
    return rows


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def summarise(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    summary = []
    for (dataset, task, method), group in frame.groupby(["dataset", "task", "method"], sort=False):
        mean, low, high = interval(group[f"ndcg@{K}"])
        entry = {
            "dataset": dataset,
            "task": task,
            "method": method,
            f"ndcg@{K}": round(mean, 4),
            "95% interval": f"[{low:.3f}, {high:.3f}]",
            "seeds": len(group),
        }
        if "questions" in group and group["questions"].notna().all():
            entry["questions"] = round(float(group["questions"].mean()), 1)
        summary.append(entry)
    return pd.DataFrame(summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller tuning grid, 5 seeds")
    parser.add_argument("--seeds", type=int, default=None, help="number of split seeds (>= 5)")
    args = parser.parse_args()
    n_seeds = args.seeds or (5 if args.quick else 10)
    if n_seeds < 5:
        parser.error("use at least 5 split seeds: differences are read against their noise.")
    seeds = list(range(n_seeds))
    grid = QUICK_GRID if args.quick else GRID
    names = ["synthetic"]
    if os.environ.get("RECSYS_LESSONS_DATA"):
        names.insert(0, "movielens-100k")
    started = time.perf_counter()
    rows = []
    with threadpool_limits(1, "blas"):
        for name in names:
            dataset = load_dataset(name, seed=42) if name == "synthetic" else load_dataset(name)
            rows += run_cold_items(dataset, grid, seeds)
            rows += run_cold_users(dataset, seeds)
    summary = summarise(rows)
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(summary.to_string(index=False))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "protocol": __doc__,
                "grid": grid,
                "seeds": seeds,
                "k": K,
                "summary": summary.to_dict(orient="records"),
                "rows": rows,
                "seconds": round(time.perf_counter() - started, 1),
                "machine": platform.platform(),
                "quick": args.quick,
            },
            indent=2,
            default=float,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
