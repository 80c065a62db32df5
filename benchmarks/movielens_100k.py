"""MovieLens 100K on the Microsoft Recommenders protocol, beside their published table.

Protocol: a 75/25 split stratified **by item** with seed 42, every test rating is relevant,
k = 10, the user's training items are removed from the lists. Hyperparameters of tuned
models are chosen on a validation split carved from the training data only (the same kind
of split of train, seed 42); the test split is touched once, by the chosen configuration.

Two partitions, both following that procedure (``--partition``):

- ``course`` (default): :func:`recsys_lessons.evaluation.split.stratified_split`. The same procedure
  as Recommenders' ``python_stratified_split`` (one uniform key per row from
  ``np.random.seed(42); np.random.rand(n)``, rows ordered by key within each item), but
  **not the same rows**: our frame is sorted by timestamp while theirs is in ``u.data``
  file order, so the keys land on different rows; and we keep ``round(0.75 * n)`` ratings
  of an item in train where they keep ``floor(0.75 * n)`` (their ``rank / count <= 0.75``).
- ``msr``: their exact partition, rebuilt from ``u.data`` in file order with their floor
  rule (:func:`msr_partition`), so our models are scored on the very rows theirs were.

Run ``python -m benchmarks.movielens_100k [--partition course|msr|both]`` (``make bench``
runs both). Prints the tables and writes ``benchmarks/results/movielens_100k.json`` (the
``msr`` partition alone writes ``movielens_100k_msr.json``). Every row records the class
name in ``recsys_lessons.models``, the exact constructor arguments and how the training
matrix was built, so anyone can rebuild it; nDCG@10 comes with a 95% bootstrap interval
over test users.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recsys_lessons import models
from recsys_lessons.data import interaction_matrix, load_dataset
from recsys_lessons.evaluation import (
    bootstrap_interval,
    evaluate,
    paired_bootstrap_interval,
    stratified_split,
)

K = 10
K_LIST = K
SEED = 42
RESULTS = {
    "course": Path(__file__).resolve().parent / "results" / "movielens_100k.json",
    "msr": Path(__file__).resolve().parent / "results" / "movielens_100k_msr.json",
}

#: How every row's training matrix is built (ratings as values; models that want binary
#: input binarize it themselves, as their arguments say).
TRAINING_MATRIX = {
    "builder": "interaction_matrix(dataset.interactions).like(train_frame).X",
    "values": "rating (1-5, float32); every (user, item) of the dataset indexed",
    "as_seen_by_model": {
        "Random": "ignored",
        "Popularity": "count of stored ratings per item",
        "ContentBased": "ratings (user profile weights, centred per user)",
        "ItemKNN": "ratings (binarize=False)",
        "UserKNN": "ratings (binarize=False)",
        "EASE": "ratings",
        "ALS": "confidence 1 + alpha * rating",
        "BPR": "binary: every stored rating is one positive",
        "FunkSVD": "ratings (regression target)",
        "RP3beta": "binary: every stored rating is one edge of the user-item graph",
        "EDLAE": "ratings",
        "DLAE": "ratings",
        "IALS": "binary: every stored rating is one observed pair",
        "UniformBPR": "binary: every stored rating is one positive",
    },
}

#: Microsoft Recommenders README, "Algorithm Comparison" table, MovieLens 100K, k=10
#: (75/25 stratified split, 15 epochs). Their MAP divides by |relevant|, not min(k, |relevant|).
#: Their popularity baseline is not in that table: it comes from
#: examples/02_model_collaborative_filtering/baseline_deep_dive.ipynb, on a *random*
#: (python_random_split, not stratified) 75/25 split with seed 42.
PUBLISHED_SOURCE = (
    "Microsoft Recommenders README benchmark table (MovieLens 100K, k=10); popularity from "
    "examples/02_model_collaborative_filtering/baseline_deep_dive.ipynb (random 75/25 split, seed 42)"
)
PUBLISHED = {
    "BiVAE": {
        "map_recommenders": 0.146126,
        "ndcg@10": 0.475077,
        "precision@10": 0.411771,
        "recall@10": 0.219145,
    },
    "BPR (Cornac)": {
        "map_recommenders": 0.132478,
        "ndcg@10": 0.441997,
        "precision@10": 0.388229,
        "recall@10": 0.212522,
    },
    "LightGCN": {
        "map_recommenders": 0.088526,
        "ndcg@10": 0.419846,
        "precision@10": 0.379626,
        "recall@10": 0.144336,
    },
    "NCF": {
        "map_recommenders": 0.107720,
        "ndcg@10": 0.396118,
        "precision@10": 0.347296,
        "recall@10": 0.180775,
    },
    "SAR": {
        "map_recommenders": 0.110591,
        "ndcg@10": 0.382461,
        "precision@10": 0.330753,
        "recall@10": 0.176385,
    },
    "SVD (Surprise)": {
        "map_recommenders": 0.012873,
        "ndcg@10": 0.095930,
        "precision@10": 0.091198,
        "recall@10": 0.032783,
    },
    "Popularity (random 75/25 split)": {"ndcg@10": 0.2529, "precision@10": 0.2246},
}


@dataclass
class Candidate:
    """A model row: its class in ``recsys_lessons.models``, fixed arguments and a grid to tune."""

    name: str
    class_name: str
    fixed: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)

    def configurations(self):
        keys = list(self.grid)
        for values in itertools.product(*(self.grid[key] for key in keys)):
            yield {**self.fixed, **dict(zip(keys, values, strict=True))}

    def build(self, params: dict, items: pd.DataFrame):
        arguments = {key: items if value == ITEMS else value for key, value in params.items()}
        return getattr(models, self.class_name)(**arguments)


#: Stands for ``dataset.items.reindex(matrix.item_ids)`` in ContentBased's arguments (a frame
#: cannot go into JSON); :func:`main` substitutes the real frame when it builds the model.
ITEMS = "dataset.items.reindex(matrix.item_ids)"

CANDIDATES = [
    Candidate("Random", "Random", {"seed": SEED}),
    Candidate("Popularity", "Popularity"),
    Candidate(
        "ContentBased",
        "ContentBased",
        {"items": ITEMS},
        {"feature_weights": [None, {"genres": 1.0}, {"genres": 1.0, "title": 0.3}]},
    ),
    Candidate(
        "ItemKNN",
        "ItemKNN",
        {"binarize": False},
        {
            "similarity": ["cosine", "asymmetric_cosine"],
            "neighbors": [20, 50, 100, 200, None],
            "shrink": [0.0, 10.0],
        },
    ),
    Candidate(
        "EASE",
        "EASE",
        {},
        # A log-spaced grid, two points per doubling, from 250 to 16,000.
        {"regularization": [round(250.0 * 2 ** (step / 2), 1) for step in range(13)]},
    ),
    Candidate(
        "ALS",
        "ALS",
        {"iterations": 15, "seed": SEED},
        {"factors": [32, 64], "regularization": [10.0, 30.0, 60.0], "alpha": [0.5, 1.0, 2.0]},
    ),
    Candidate(
        "BPR",
        "BPR",
        {"seed": SEED},
        # Wide on purpose (issue 8): up to 256 factors and 200 epochs. implicit's sampler draws
        # negatives in proportion to item popularity, so longer training is not better here.
        {
            "factors": [32, 64, 128, 200, 256],
            "learning_rate": [0.01, 0.03],
            "regularization": [0.001, 0.01],
            "iterations": [10, 25, 50, 100, 200],
        },
    ),
    Candidate("FunkSVD", "FunkSVD", {"seed": SEED}),
    Candidate(
        "UserKNN",
        "UserKNN",
        {"similarity": "asymmetric_cosine", "binarize": False},
        {"alpha": [0.3, 0.5], "neighbors": [50, 100, 200], "shrink": [0.0, 10.0]},
    ),
    # Issue 26: stronger simple models. Grids centred on exploratory validation runs (course
    # partition, validation split only).
    Candidate(
        "RP3beta",
        "RP3beta",
        {},
        {"neighbors": [100, 200, 400], "alpha": [0.5, 0.75, 1.0], "beta": [0.3, 0.5]},
    ),
    Candidate(
        "EDLAE",
        "EDLAE",
        {},
        {"dropout": [0.67, 0.8, 0.9], "regularization": [1000.0, 3000.0, 10000.0]},
    ),
    Candidate(
        "DLAE",
        "DLAE",
        {},
        {"dropout": [0.67, 0.8, 0.9], "regularization": [1000.0, 3000.0, 10000.0]},
    ),
    Candidate(
        "IALS",
        "IALS",
        {"frequency_exponent": 1.0, "iterations": 16, "seed": SEED},
        {
            "factors": [64, 128],
            "regularization": [0.03, 0.05],
            "unobserved_weight": [0.01, 0.03],
        },
    ),
    Candidate(
        "UniformBPR",
        "UniformBPR",
        {"factors": 64, "iterations": 60, "batch_size": 64, "regularization": 0.001, "seed": SEED},
        {"learning_rate": [0.01, 0.02, 0.04]},
    ),
]


def ms_recommenders_map(per_user: pd.DataFrame, test) -> float:
    """MAP as Microsoft Recommenders computes it: sum over r<=k of P@r * rel_r / |relevant|.

    Our AP@k divides the same sum by min(k, |relevant|), so rescaling it per user converts.
    """
    n_relevant = np.diff(test.indptr)[per_user["user"].to_numpy()]
    return float(np.mean(per_user[f"map@{K}"].to_numpy() * np.minimum(n_relevant, K) / n_relevant))


def tune(candidate: Candidate, train_matrix, items: pd.DataFrame) -> tuple[dict, float | None]:
    """Choose the configuration with the best validation nDCG@10, using training data only."""
    configurations = list(candidate.configurations())
    if len(configurations) == 1:
        return configurations[0], None
    fit_part, validation = train_matrix
    table = evaluate(
        {
            json.dumps(params, sort_keys=True): candidate.build(params, items)
            for params in configurations
        },
        fit_part,
        validation,
        k=K,
        metrics=("ndcg",),
    )
    best = table[f"ndcg@{K}"].idxmax()
    return json.loads(best), float(table.loc[best, f"ndcg@{K}"])


def msr_partition(
    interactions: pd.DataFrame, file_order: pd.DataFrame, ratio: float = 0.75, seed: int = SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Microsoft Recommenders' ``python_stratified_split(filter_by="item")`` partition, exactly.

    Their procedure on rows in ``u.data`` file order: ``np.random.seed(seed)``, one key per
    row from ``np.random.rand(n)``, rows sorted by (item, key); a row goes to train when its
    rank within the item divided by the item's count is ``<= ratio`` (``floor(ratio * n)``
    ratings per item in train).

    Parameters
    ----------
    interactions : pandas.DataFrame
        The course's frame (``load_dataset("movielens-100k").interactions``).
    file_order : pandas.DataFrame
        ``user_id, item_id`` in the order of the rows to split (``u.data`` file order for
        the test split, :func:`msr_partition`'s own train order for validation).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``(train, test)``: rows of ``interactions``, in the partition's order.
    """
    keys = np.random.RandomState(seed).random_sample(len(file_order))
    ordered = file_order.assign(key=keys).sort_values(["item_id", "key"], kind="stable")
    rank = ordered.groupby("item_id").cumcount().to_numpy() + 1
    count = ordered.groupby("item_id")["item_id"].transform("size").to_numpy()
    in_train = rank / count <= ratio
    position = pd.Series(
        np.arange(len(interactions)),
        index=pd.MultiIndex.from_frame(interactions[["user_id", "item_id"]]),
    )
    rows = position.reindex(pd.MultiIndex.from_frame(ordered[["user_id", "item_id"]])).to_numpy()
    if np.isnan(rows.astype(float)).any():
        raise ValueError("file_order holds (user, item) pairs that interactions does not have.")
    train = interactions.iloc[rows[in_train]]
    test = interactions.iloc[rows[~in_train]]
    return train, test


def ml100k_file_order() -> pd.DataFrame:
    """``user_id, item_id`` of ``u.data`` in file order, from wherever the course finds ML-100K."""
    import zipfile

    from recsys_lessons.data import RELEASES
    from recsys_lessons.data import loading as course_data

    source = course_data._locate(RELEASES["movielens-100k"], None, None)
    columns = {"names": ["user_id", "item_id", "rating", "timestamp"], "sep": "\t"}
    if source.suffix == ".zip":
        with zipfile.ZipFile(source) as archive, archive.open("ml-100k/u.data") as handle:
            frame = pd.read_csv(handle, **columns)
    else:
        frame = pd.read_csv(source / "u.data", **columns)
    return frame[["user_id", "item_id"]]


def splits(data, partition: str):
    """``(train, test, fit, validation)`` frames of one partition (see the module docstring)."""
    if partition == "course":
        train, test = stratified_split(data.interactions, by="item", test_ratio=0.25, seed=SEED)
        fit, validation = stratified_split(train, by="item", test_ratio=0.25, seed=SEED)
    else:
        train, test = msr_partition(data.interactions, ml100k_file_order())
        fit, validation = msr_partition(data.interactions, train[["user_id", "item_id"]])
    return train, test, fit, validation


PARTITION_DESCRIPTION = {
    "course": "recsys_lessons.evaluation.split.stratified_split(by='item', test_ratio=0.25, seed=42): "
    "rows in time order, round(0.75 n) per item in train",
    "msr": "benchmarks.movielens_100k.msr_partition: Recommenders' python_stratified_split "
    "(filter_by='item', seed=42) rebuilt exactly: u.data file order, floor(0.75 n) per item in train",
}


def run(partition: str, names: list[str] | None = None) -> dict:
    """Tune, fit and score every candidate on one partition; print and return the result.

    With ``names``, only those candidates run and their rows are merged into the partition's
    existing JSON (see :func:`merge_rows`) instead of rewriting it.
    """
    started = time.perf_counter()
    data = load_dataset("movielens-100k")
    train_frame, test_frame, fit_frame, validation_frame = splits(data, partition)
    full = interaction_matrix(data.interactions)
    train, test = full.like(train_frame).X, full.like(test_frame).X
    validation_pair = (full.like(fit_frame).X, full.like(validation_frame).X)
    items = data.items.reindex(full.item_ids)

    rows, per_user_ndcg = [], {}
    for candidate in [c for c in CANDIDATES if names is None or c.name in names]:
        params, validation_ndcg = tune(candidate, validation_pair, items)
        with threadpool_limits(1, "blas"):
            table, per_user = evaluate(
                {candidate.name: candidate.build(params, items)},
                train,
                test,
                k=K,
                metrics=("map", "ndcg", "precision", "recall"),
                per_user=True,
            )
        row = table.iloc[0]
        per_user_ndcg[candidate.name] = per_user[f"ndcg@{K}"].to_numpy()
        interval = bootstrap_interval(per_user_ndcg[candidate.name], seed=SEED)
        rows.append(
            {
                "model": candidate.name,
                "class": f"recsys_lessons.models.{candidate.class_name}",
                "params": params,
                "tuned_over": candidate.grid,
                "training_matrix": {
                    "builder": TRAINING_MATRIX["builder"],
                    "values": TRAINING_MATRIX["values"],
                    "as_seen_by_model": TRAINING_MATRIX["as_seen_by_model"][candidate.name],
                },
                "partition": partition,
                "validation_ndcg@10": validation_ndcg,
                "map@10": row[f"map@{K}"],
                "map_recommenders": ms_recommenders_map(per_user, test),
                "ndcg@10": row[f"ndcg@{K}"],
                "ndcg@10_95ci_bootstrap_users": [interval.low, interval.high],
                "precision@10": row[f"precision@{K}"],
                "recall@10": row[f"recall@{K}"],
                "fit_seconds": row["fit_seconds"],
                "recommend_seconds": row["recommend_seconds"],
            }
        )

    ours = pd.DataFrame(rows).set_index("model")
    ours["nDCG 95% CI"] = [
        f"[{low:.4f}, {high:.4f}]" for low, high in ours["ndcg@10_95ci_bootstrap_users"]
    ]
    columns = ["map@10", "map_recommenders", "ndcg@10", "nDCG 95% CI", "precision@10", "recall@10"]
    print(f"\n=== partition: {partition}: {PARTITION_DESCRIPTION[partition]}")
    print(f"MovieLens 100K, 75/25 split stratified by item, seed {SEED}, k={K}, seen items removed")
    print(
        f"train {train.nnz:,} ratings, test {test.nnz:,} ratings, "
        f"{len(np.flatnonzero(np.diff(test.indptr)))} test users\n"
    )
    print("recsys-lessons (map@10 = design definition, divides by min(k, |relevant|);")
    print("                map_recommenders = their definition, divides by |relevant|;")
    print("                nDCG 95% CI = percentile bootstrap over test users)")
    print(ours[columns].round(4).to_string())
    print("\nChosen on validation (nDCG@10 on the split of train), then refitted on all of train:")
    for row in rows:
        tuned = (
            ""
            if row["validation_ndcg@10"] is None
            else f"  (validation nDCG@10 {row['validation_ndcg@10']:.4f})"
        )
        print(
            f"  {row['class']}({', '.join(f'{k}={v!r}' for k, v in row['params'].items())}){tuned}"
        )

    if names is not None:
        return merge_rows(partition, rows, time.perf_counter() - started)
    ranked = ours["ndcg@10"].sort_values(ascending=False).index
    best, second = ranked[0], ranked[1]
    difference = paired_bootstrap_interval(per_user_ndcg[best], per_user_ndcg[second], seed=SEED)
    verdict = "differ" if difference.excludes_zero() else "are not distinguishable on this split"
    print(
        f"\n{best} - {second}: nDCG@10 difference {difference} (paired bootstrap over users): "
        f"they {verdict}."
    )

    print(f"\nPublished: {PUBLISHED_SOURCE}")
    print(
        pd.DataFrame(PUBLISHED)
        .T.reindex(columns=["map_recommenders", "ndcg@10", "precision@10", "recall@10"])
        .to_string(na_rep="-")
    )
    popularity_gap = (
        ours.loc["Popularity", "ndcg@10"] - PUBLISHED["Popularity (random 75/25 split)"]["ndcg@10"]
    )
    print(
        f"\nPopularity nDCG@10 differs from their popularity baseline by {popularity_gap:+.4f} "
        "(theirs used a random split; ours a stratified-by-item split)."
    )

    result = {
        "protocol": {
            "dataset": "movielens-100k",
            "split": "stratified by item, 75/25",
            "partition": PARTITION_DESCRIPTION[partition],
            "seed": SEED,
            "k": K,
            "exclude_seen": True,
            "relevance": "every test rating",
            "tuning": "validation = the same kind of 75/25 split of train (seed 42); criterion nDCG@10",
            "training_matrix": TRAINING_MATRIX,
            "intervals": "nDCG@10 95% percentile bootstrap over test users (2,000 resamples, seed 42)",
        },
        "rows": rows,
        "best_two_difference": {
            "models": [best, second],
            "ndcg@10_difference": difference.estimate,
            "95ci_paired_bootstrap_users": [difference.low, difference.high],
        },
        "published": {"source": PUBLISHED_SOURCE, "rows": PUBLISHED},
    }
    result["environment"] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    result["total_seconds"] = time.perf_counter() - started
    path = RESULTS[partition]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():  # rows other scripts own (e.g. the hybrid of benchmarks/hybrid.py) stay
        kept = [row for row in json.loads(path.read_text())["rows"] if row.get("added_by")]
        result["rows"] = rows + kept
    path.write_text(json.dumps(result, indent=2, default=float) + "\n")
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    print(f"\nwritten {shown} ({result['total_seconds']:.1f} s)")
    return result


def merge_rows(partition: str, rows: list[dict], seconds: float) -> dict:
    """Put ``rows`` into the partition's JSON, leaving every other byte of it as it was.

    A row replaces the row of the same model, or is inserted before the rows other scripts
    own (``added_by``); the run is logged under ``"partial_runs"``. The summary fields
    (``best_two_difference``, ``total_seconds``) stay those of the last
    full run.
    """
    path = RESULTS[partition]
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist yet; run without --models once to write the full table."
        )
    result = json.loads(path.read_text())
    by_name = {row["model"]: row for row in rows}
    kept = [by_name.pop(row["model"], row) for row in result["rows"]]
    owned = [row for row in kept if row.get("added_by")]
    result["rows"] = (
        [row for row in kept if not row.get("added_by")] + list(by_name.values()) + owned
    )
    result.setdefault("partial_runs", []).append(
        {
            "models": [row["model"] for row in rows],
            "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "seconds": seconds,
        }
    )
    path.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"\nmerged {len(rows)} row(s) into {path.name} ({seconds:.1f} s)")
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--partition",
        choices=("course", "msr", "both"),
        default="both",
        help="which 75/25 partition to score on (see the module docstring); default both",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=[candidate.name for candidate in CANDIDATES],
        help="run only these rows and merge them into the existing JSON (other rows kept "
        "byte for byte); default: every model, rewriting the JSON",
    )
    args = parser.parse_args(argv)
    partitions = ("course", "msr") if args.partition == "both" else (args.partition,)
    return {partition: run(partition, args.models) for partition in partitions}


if __name__ == "__main__":
    main()
