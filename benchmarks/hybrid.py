"""Lesson 06 hybrid ranking on the Microsoft Recommenders MovieLens 100K protocol.

Protocol: item-stratified 75/25 split, k = 10, seen items removed, every test rating
relevant (as ``benchmarks/movielens_100k.py``, whose split and tuning helpers this script
reuses), five split seeds. Everything a hybrid learns is chosen on **validation folds carved
from train** (:func:`recsys_lessons.hybrid.folds.validation_folds`: three stratified 75/25
re-splits of train, fold 0 the course's usual validation split); the test split is touched
once per seed.

- Components (ALS, EASE, DLAE, RP3beta, UserKNN, ItemKNN, IALS): the configurations
  ``benchmarks.movielens_100k`` chose with its ``tune`` helper on the seed-42 validation
  split, read from ``benchmarks/results/movielens_100k.json`` (``--tune`` re-runs that tuning
  for the lesson's four), then kept fixed for every split seed.
- Users are split once per seed: two thirds teach (their rows of every fold train the
  ranker and tune the blend), one third is held out to choose between configurations.
- Blend: per-user z-scores of ALS, DLAE, RP3beta and ItemKNN, weights on the 0.1 simplex
  grid with the best mean validation nDCG@10 over the folds (teaching users).
- Stacked ranker: LightGBM lambdarank (``LearnedRanker``) over the union of every
  component's top 50 unseen items (``stacking_candidates``), features = every component's
  per-user z-score and rank, how many propose the item, item popularity, user activity,
  genre match (``candidate_features``); leaves and trees chosen on the held-out users'
  validation nDCG@10, then refitted on every user's folds. For the test, the components are
  refitted on all of train and the ranker scores their candidates.
- The reported hybrid (the ``movielens_100k_row``) is the one of the two with the higher
  held-out validation nDCG@10, averaged over the seeds.
- Real-time latency (ALS fold-in + annoy lookup + LightGBM ranker on 200 candidates) on the
  simulated catalogue at lesson 04's largest size (100,000 items, 64 factors), one thread.

Run ``python -m benchmarks.hybrid`` (``--quick``: 3 split seeds instead of 5;
``--only-seed S``: compute one seed's row into ``hybrid.seed<S>.partial.json`` and stop, so
seeds can run in parallel; ``--resume``: reuse those files). Writes
``benchmarks/results/hybrid.json``, including a ``movielens_100k_row`` for the best hybrid
in the format of ``benchmarks/results/movielens_100k.json`` rows.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.stats
from threadpoolctl import threadpool_limits

from benchmarks.movielens_100k import CANDIDATES, ms_recommenders_map, tune
from recsys_lessons import metrics, models
from recsys_lessons.data import generate_catalogue, interaction_matrix, load_dataset
from recsys_lessons.evaluation import stratified_split
from recsys_lessons.hybrid import (
    LearnedRanker,
    RealTimeRecommender,
    candidate_features,
    feature_columns,
    genre_matrix,
    label_candidates,
    latency_ms,
    normalize_scores,
    rank_candidates,
    tune_weights,
    weight_grid,
)
from recsys_lessons.hybrid.folds import validation_folds
from recsys_lessons.hybrid.stacking import stacking_candidates
from recsys_lessons.retrieval import ApproximateIndex
from recsys_lessons.top_k import top_k_indices

K = 10
SEEDS = (42, 1, 2, 3, 4)
#: The lesson's four components (``component_params`` default; ``benchmarks.neural`` reads it).
COMPONENTS = ("ALS", "EASE", "UserKNN", "ItemKNN")
#: Every model the stacked ranker reads.
STACKED = ("ALS", "EASE", "DLAE", "RP3beta", "UserKNN", "ItemKNN", "IALS")
#: The blend's components: the best of each family on the seed-42 validation split.
BLENDED = ("ALS", "DLAE", "RP3beta", "ItemKNN")
N_FOLDS = 3
PER_MODEL = 50
RANKER_LEAVES = (15, 31)
RANKER_TREES = (10, 20, 50, 100, 200)
RANKER_LEARNING_RATE = 0.05
RANKER_MIN_CHILD = 100
CANDIDATE_N = 200  # candidates of the real-time latency measurement
RESULTS = Path(__file__).resolve().parent / "results" / "hybrid.json"
MOVIELENS_RESULTS = Path(__file__).resolve().parent / "results" / "movielens_100k.json"


def item_split(frame: pd.DataFrame, train_share: float, seed: int):
    """``stratified_split`` by item keeping ``train_share`` of every item's rows in train."""
    return stratified_split(frame, by="item", test_ratio=1.0 - train_share, seed=seed)


def splits(data, seed: int):
    """(train, test, fit, validation) matrices of one split seed, all on the full id maps."""
    train, test = item_split(data.interactions, 0.75, seed)
    fit, validation = item_split(train, 0.75, seed)
    full = interaction_matrix(data.interactions)
    return full, [full.like(frame).X for frame in (train, test, fit, validation)]


def component_params(retune: bool, validation_pair, items, names=COMPONENTS) -> dict:
    """Constructor arguments of ``names``, tuned on seed-42 validation (or read back)."""
    if not retune:
        rows = {
            row["model"]: row["params"]
            for row in json.loads(MOVIELENS_RESULTS.read_text())["rows"]
            if row.get("partition", "course") == "course"
        }
        return {name: rows[name] for name in names}
    chosen = {}
    for candidate in CANDIDATES:
        if candidate.name in names:
            chosen[candidate.name], _ = tune(candidate, validation_pair, items)
    return chosen


def build(name: str, params: dict):
    return getattr(models, name)(**params)


def evaluated_users(relevant):
    return np.flatnonzero(np.diff(relevant.indptr))


def accuracy(recommended, relevant) -> dict:
    return {
        "ndcg@10": float(metrics.ndcg_at_k(recommended, relevant, k=K)),
        "precision@10": float(metrics.precision_at_k(recommended, relevant, k=K)),
        "recall@10": float(metrics.recall_at_k(recommended, relevant, k=K)),
        "map@10": float(metrics.map_at_k(recommended, relevant, k=K)),
    }


def blend_top_k(normalized: dict, weights: dict) -> np.ndarray:
    seen = ~np.isfinite(next(iter(normalized.values())))
    total = sum(w * np.where(seen, 0.0, normalized[n]) for n, w in weights.items() if w)
    return top_k_indices(np.where(seen, -np.inf, total), K)


def unseen_scores(model, users) -> np.ndarray:
    """A fitted model's scores for ``users``, ``-inf`` on the items they have seen."""
    scores = np.array(model.score(users), dtype=np.float64)
    scores[model.X_[users].nonzero()] = -np.inf
    return scores


def scored_users(X, users, params: dict, genres) -> tuple[pd.DataFrame, dict]:
    """Fit every stacked model on ``X``; the stacking table and the blend's z-scores of ``users``."""
    scores = {name: unseen_scores(build(name, params[name]).fit(X), users) for name in STACKED}
    table = candidate_features(stacking_candidates(scores, users, n=PER_MODEL), X, genres=genres)
    normalized = {name: normalize_scores(scores[name]) for name in scores}
    return table, normalized


def ranked_ndcg(table: pd.DataFrame, scores, relevant) -> float:
    """nDCG@10 of each user's candidates ordered by ``scores`` against ``relevant``."""
    users, items = rank_candidates(table, scores, K)
    return float(metrics.ndcg_at_k(items, relevant[users], k=K))


def as_queries(tables: list[pd.DataFrame], n_users: int) -> pd.DataFrame:
    """Stack the folds' tables; ``user`` becomes ``fold * n_users + user``, one query per pair.

    Only queries with at least one relevant candidate are kept: lambdarank learns nothing
    from a user whose candidates are all irrelevant.
    """
    stacked = pd.concat(
        [table.assign(user=table["user"] + fold * n_users) for fold, table in enumerate(tables)],
        ignore_index=True,
    )
    return stacked[stacked.groupby("user")["label"].transform("max") > 0]


def one_seed(data, seed: int, params: dict, genres) -> dict:
    """Blend and stacked ranker tuned on validation folds, then tested once, on one split seed."""
    full = interaction_matrix(data.interactions)
    n_users = full.X.shape[0]
    train, test = item_split(data.interactions, 0.75, seed)
    held_out = np.random.default_rng(seed).permutation(n_users)[: n_users // 3]
    tables, blend_inputs, relevants = [], [], []
    with threadpool_limits(1, "blas"):
        for fit, validation in validation_folds(train, N_FOLDS, seed=seed):
            X, relevant = full.like(fit).X, full.like(validation).X
            table, normalized = scored_users(X, evaluated_users(relevant), params, genres)
            table["label"] = label_candidates(table, relevant)
            tables.append(table)
            blend_inputs.append((evaluated_users(relevant), normalized))
            relevants.append(relevant)

    def held(users):
        return np.isin(users, held_out)

    # blend: weights tuned on the teaching users of every fold (mean nDCG over folds)
    teach = [(~held(users), normalized) for users, normalized in blend_inputs]
    stacked_scores = {n: np.vstack([z[n][rows] for rows, z in teach]) for n in BLENDED}
    stacked_relevant = sp.vstack(
        [relevants[f][blend_inputs[f][0][rows]] for f, (rows, _) in enumerate(teach)]
    ).tocsr()
    weights, _ = tune_weights(stacked_scores, stacked_relevant, weight_grid(BLENDED, 0.1), k=K)

    def held_out_ndcg(rank_one_fold) -> float:
        """Mean over folds of the held-out users' validation nDCG@10."""
        values = []
        for f, (users, normalized) in enumerate(blend_inputs):
            rows = held(users)
            values.append(
                rank_one_fold(f, users[rows], {n: z[rows] for n, z in normalized.items()})
            )
        return float(np.mean(values))

    def blend_fold(f, users, normalized):
        return float(metrics.ndcg_at_k(blend_top_k(normalized, weights), relevants[f][users], k=K))

    validation = {"Blend": held_out_ndcg(blend_fold)}
    for name in STACKED:
        validation[name] = held_out_ndcg(
            lambda f, users, z, name=name: float(
                metrics.ndcg_at_k(top_k_indices(z[name], K), relevants[f][users], k=K)
            )
        )

    # stacked ranker: leaves and trees chosen on the held-out users, then refitted on everyone
    columns = feature_columns(tables[0].drop(columns="label"))
    teaching = as_queries([t[~held(t["user"].to_numpy())] for t in tables], n_users)
    curve = {}
    for leaves in RANKER_LEAVES:
        ranker = LearnedRanker(
            iterations=max(RANKER_TREES),
            learning_rate=RANKER_LEARNING_RATE,
            num_leaves=leaves,
            min_child_samples=RANKER_MIN_CHILD,
            seed=seed,
        ).fit(teaching, teaching["label"].to_numpy(), columns)
        for trees in RANKER_TREES:
            curve[f"{leaves} leaves, {trees} trees"] = float(
                np.mean(
                    [
                        ranked_ndcg(
                            t[held(t["user"].to_numpy())],
                            ranker.predict(t[held(t["user"].to_numpy())], iterations=trees),
                            relevants[f],
                        )
                        for f, t in enumerate(tables)
                    ]
                )
            )
    chosen = max(curve, key=curve.get)
    leaves, trees = (int(part.split()[0]) for part in chosen.split(", "))
    validation["StackedRanker"] = curve[chosen]
    everyone = as_queries(tables, n_users)
    ranker = LearnedRanker(
        iterations=trees,
        learning_rate=RANKER_LEARNING_RATE,
        num_leaves=leaves,
        min_child_samples=RANKER_MIN_CHILD,
        seed=seed,
    ).fit(everyone, everyone["label"].to_numpy(), columns)
    del teaching, everyone

    # test: components refitted on all of train, touched once
    X, relevant = full.like(train).X, full.like(test).X
    users = evaluated_users(relevant)
    with threadpool_limits(1, "blas"):
        table, normalized = scored_users(X, users, params, genres)
    ranked_users, ranked = rank_candidates(table, ranker.predict(table), K)
    assert np.array_equal(ranked_users, users), "every test user has candidates"
    row = {
        "seed": seed,
        "blend_weights": weights,
        "ranker": {"num_leaves": leaves, "iterations": trees},
        "held_out_validation_ndcg@10": validation,
        "ranker_validation_curve": curve,
        "Blend": accuracy(blend_top_k(normalized, weights), relevant[users]),
        "StackedRanker": accuracy(ranked, relevant[users]),
    }
    for name in STACKED:
        row[name] = accuracy(top_k_indices(normalized[name], K), relevant[users])
    if seed == 42:
        for name, recommended in (
            ("Blend", blend_top_k(normalized, weights)),
            ("StackedRanker", ranked),
        ):
            per_user = pd.DataFrame(
                {
                    "user": users,
                    f"map@{K}": metrics.map_at_k(recommended, relevant[users], k=K, per_user=True),
                }
            )
            row[name]["map_recommenders"] = ms_recommenders_map(per_user, relevant)
    return row


def interval(values) -> dict:
    """Mean and 95 % t-interval over split seeds."""
    values = np.asarray(values, dtype=np.float64)
    half = scipy.stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return {
        "mean": float(values.mean()),
        "low": float(values.mean() - half),
        "high": float(values.mean() + half),
    }


def realtime_latency(seed: int = 42) -> dict:
    """One request = ALS fold-in of the user's history + annoy top-200 + LightGBM on 200 rows."""
    catalogue = generate_catalogue(
        seed, n_users=500, n_items=100_000, n_interactions=20_000, n_factors=64
    )
    # every title of the catalogue gets a column (and a vector in the index), watched or not
    matrix = interaction_matrix(catalogue.interactions, item_ids=catalogue.items.index, value=None)
    X = matrix.X
    model = models.ALS(factors=64, regularization=1.0, iterations=10, seed=seed).fit(X)
    server = RealTimeRecommender(model, ApproximateIndex(n_trees=25, search_k=5_000, seed=seed))
    # a small ranker on (ALS score, ALS rank, item popularity) trained on half the users' lists
    popularity = np.asarray(X.sum(axis=0)).ravel()
    users = np.arange(X.shape[0])
    items, scores = server.retriever.recommend(users, k=CANDIDATE_N)
    frame = pd.DataFrame(
        {
            "user": np.repeat(users, CANDIDATE_N),
            "score": scores.ravel(),
            "rank": np.tile(np.arange(1, CANDIDATE_N + 1), len(users)),
            "popularity": popularity[items.ravel()],
        }
    )
    rng = np.random.default_rng(seed)
    labels = (rng.random(len(frame)) < 0.5 * 0.5 ** (frame["rank"].to_numpy() / 20)).astype(int)
    ranker = LearnedRanker(iterations=100).fit(frame, labels, ["score", "rank", "popularity"])

    def request(user: int):
        history = X[user].indices
        candidates, candidate_scores = server.recommend_with_scores(history, CANDIDATE_N)
        features = pd.DataFrame(
            {
                "score": candidate_scores,
                "rank": np.arange(1, CANDIDATE_N + 1),
                "popularity": popularity[candidates],
            }
        )
        return candidates[np.argsort(-ranker.predict(features))[:K]]

    with threadpool_limits(1):
        report = latency_ms(request, users[:200], repeats=1)
    return {
        **report,
        "n_items": int(X.shape[1]),
        "factors": 64,
        "index": "ApproximateIndex(n_trees=25, search_k=5000)",
        "candidates": CANDIDATE_N,
    }


def partial_path(seed: int) -> Path:
    return RESULTS.with_name(f"hybrid.seed{seed}.partial.json")


def seed_row(data, seed: int, params: dict, genres, resume: bool) -> dict:
    """One seed's row: read back from its partial file (``resume``) or computed and saved."""
    path = partial_path(seed)
    if resume and path.is_file():
        saved = json.loads(path.read_text())
        if saved["components"] != params:
            raise ValueError(
                f"{path.name} was computed with other components; delete it or run without --resume."
            )
        return saved["row"]
    row = one_seed(data, seed, params, genres)
    path.write_text(json.dumps({"components": params, "row": row}, indent=2, default=float) + "\n")
    return row


def main(quick=False, retune=False, resume=False, only_seed=None) -> dict:
    started = time.perf_counter()
    data = load_dataset("movielens-100k")
    full, (_, _, fit42, val42) = splits(data, 42)
    items = data.items.reindex(full.item_ids)
    params = {
        **component_params(False, None, None, STACKED),
        **component_params(retune, (fit42, val42), items),
    }
    genres = genre_matrix(items)
    if only_seed is not None:
        row = seed_row(data, only_seed, params, genres, resume)
        print(f"seed {only_seed}: written {partial_path(only_seed).name}", flush=True)
        return row
    seeds = SEEDS[:3] if quick else SEEDS
    per_seed = []
    for seed in seeds:
        per_seed.append(seed_row(data, seed, params, genres, resume))
        row = per_seed[-1]
        print(
            f"seed {seed}: ALS {row['ALS']['ndcg@10']:.4f} blend {row['Blend']['ndcg@10']:.4f} "
            f"stacked ranker {row['StackedRanker']['ndcg@10']:.4f} "
            f"(weights {row['blend_weights']}, ranker {row['ranker']})",
            flush=True,
        )
    hybrids = ("StackedRanker", "Blend")
    names = [*hybrids, *STACKED]
    summary = {
        name: {
            "seed_42": per_seed[0][name]["ndcg@10"],
            "held_out_validation_mean": float(
                np.mean([r["held_out_validation_ndcg@10"][name] for r in per_seed])
            ),
            **interval([r[name]["ndcg@10"] for r in per_seed]),
        }
        for name in names
    }
    minus_als = {}
    for name in hybrids:
        gain = [r[name]["ndcg@10"] - r["ALS"]["ndcg@10"] for r in per_seed]
        minus_als[name] = {"per_seed": gain, **interval(gain)}
    best = max(hybrids, key=lambda name: summary[name]["held_out_validation_mean"])
    print(
        f"\nnDCG@10, MovieLens 100K, item-stratified 75/25, k={K}, seeds {list(seeds)} "
        "(95 % t-interval over seeds; validation = held-out users, mean over folds)"
    )
    print(pd.DataFrame(summary).T.round(4).to_string())
    for name, gain in minus_als.items():
        print(
            f"{name} minus ALS, per seed {np.round(gain['per_seed'], 4).tolist()}: "
            f"{gain['mean']:+.4f} [{gain['low']:+.4f}, {gain['high']:+.4f}]"
        )
    print(f"chosen on validation: {best}")

    latency = realtime_latency()
    print(
        f"Real-time request ({latency['n_items']:,} items): median {latency['median_ms']:.2f} ms, "
        f"p99 {latency['p99_ms']:.2f} ms"
    )
    seed42 = per_seed[0]
    component_rows = {
        name: {"class": f"recsys_lessons.models.{name}", "params": params[name]} for name in STACKED
    }
    if best == "StackedRanker":
        described = {
            "model": "Hybrid (stacked LightGBM ranker)",
            "class": "recsys_lessons.hybrid.LearnedRanker",
            "params": {
                "models": component_rows,
                "candidates": f"stacking_candidates, top {PER_MODEL} unseen items per model",
                "features": "per-model z-score and rank, n_sources, item_popularity, user_activity, genre_match",
                "ranker": {
                    "kind": "lambdarank",
                    "learning_rate": RANKER_LEARNING_RATE,
                    "min_child_samples": RANKER_MIN_CHILD,
                    **seed42["ranker"],
                },
            },
            "tuned_over": {
                "num_leaves": list(RANKER_LEAVES),
                "iterations": list(RANKER_TREES),
                "components": "benchmarks.movielens_100k grids",
            },
        }
    else:
        described = {
            "model": "Hybrid (z-score blend)",
            "class": "recsys_lessons.hybrid.LinearBlend",
            "params": {
                "models": {name: component_rows[name] for name in BLENDED},
                "weights": seed42["blend_weights"],
                "normalization": "zscore",
            },
            "tuned_over": {
                "weights": "0.1 simplex grid over the components",
                "components": "benchmarks.movielens_100k grids",
            },
        }
    movielens_row = {
        **described,
        "validation_ndcg@10": seed42["held_out_validation_ndcg@10"][best],
        **{
            key: seed42[best][key]
            for key in ("map@10", "map_recommenders", "ndcg@10", "precision@10", "recall@10")
        },
        "ndcg@10_over_seeds": summary[best],
        "ndcg@10_minus_als_over_seeds": minus_als[best],
    }
    result = {
        "protocol": {
            "dataset": "movielens-100k",
            "split": "stratified by item, 75/25",
            "seeds": list(seeds),
            "k": K,
            "exclude_seen": True,
            "tuning": (
                f"{N_FOLDS} validation folds = stratified-by-item 75/25 re-splits of train "
                "(validation_folds, fold 0 with the split seed); a third of the users held out "
                "to choose the ranker's leaves and trees and the reported hybrid; criterion nDCG@10"
            ),
            "intervals": "95 % t-interval over split seeds; differences paired per seed",
            "quick": quick,
            "components_retuned_here": retune,
        },
        "components": component_rows,
        "blended": list(BLENDED),
        "per_seed": per_seed,
        "ndcg@10_summary": summary,
        "minus_als": minus_als,
        "chosen_on_validation": best,
        "realtime_latency": latency,
        "movielens_100k_row": movielens_row,
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.machine(),
        },
        "total_seconds": time.perf_counter() - started,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=float) + "\n")
    for seed in seeds:
        partial_path(seed).unlink(missing_ok=True)
    record_in_movielens_table(movielens_row)
    print(
        f"\nwritten {RESULTS.name} and the hybrid row of {MOVIELENS_RESULTS.name} "
        f"({result['total_seconds']:.0f} s)"
    )
    return result


def record_in_movielens_table(row: dict) -> None:
    """Put the best hybrid's row into ``movielens_100k.json`` beside the single models.

    The row carries ``added_by`` so that ``benchmarks.movielens_100k`` keeps it when it
    rewrites its own rows, and replaces any earlier hybrid row.
    """
    table = json.loads(MOVIELENS_RESULTS.read_text())
    row = {**row, "partition": "course", "added_by": "benchmarks/hybrid.py"}
    table["rows"] = [r for r in table["rows"] if r.get("added_by") != row["added_by"]] + [row]
    MOVIELENS_RESULTS.write_text(json.dumps(table, indent=2, default=float) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 split seeds instead of 5")
    parser.add_argument("--tune", action="store_true", help="re-tune the lesson's components here")
    parser.add_argument(
        "--resume", action="store_true", help="reuse the per-seed files of an interrupted run"
    )
    parser.add_argument(
        "--only-seed", type=int, help="compute this split seed's row into its partial file and stop"
    )
    arguments = parser.parse_args()
    main(arguments.quick, arguments.tune, arguments.resume, arguments.only_seed)
