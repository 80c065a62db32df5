"""FunkSVD on the official MovieLens 100K folds u1..u5, beside Surprise's published table.

Protocol: for each fold k in 1..5, fit on ``u{k}.base`` (80,000 ratings) and report the
RMSE of the predicted ratings on ``u{k}.test`` (20,000 ratings); the folds' test sets are
disjoint and together cover all 100,000 ratings. Matrices are built over the full
943 x 1,682 id set so every fold's matrices line up.

Hyperparameters are chosen honestly, without touching any ``.test`` file: 10% of the rows
of ``u1.base`` (random, seed 42) are held out as a validation set, every configuration of
a small grid is fitted on the other 90% with its validation RMSE recorded after each
epoch, and the configuration and epoch count with the lowest validation RMSE win. Only
then is the chosen configuration fitted on each full ``u{k}.base`` and scored on
``u{k}.test``. Two more rows: ``FunkSVD()`` with the class defaults (the best 100-factor
configuration of the same search), and Surprise's default SVD settings run with our
trainer, so speed and accuracy can be compared like for like.

Surprise's numbers (https://surpriselib.com and its README, MovieLens 100K, 5-fold cross
validation on its own random folds, times for all 5 folds on an Intel i5 laptop) are quoted,
not rerun: Surprise is not a dependency of the course. Its folds are not the official u1..u5
files, so the comparison is close but not identical.

Run ``RECSYS_LESSONS_DATA=/path/holding/ml-100k python -m benchmarks.funk_svd_folds``.
Prints the tables and writes ``benchmarks/results/funk_svd_folds.json``.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recsys_lessons.data import interaction_matrix
from recsys_lessons.models.funk_svd import FunkSVD

SEED = 42
VALIDATION_SHARE = 0.1
MAX_EPOCHS = 80
RESULTS = Path(__file__).resolve().parent / "results" / "funk_svd_folds.json"
N_USERS, N_ITEMS = 943, 1682

#: Searched on the u1.base validation split; learning_rate, bias_regularization and
#: batch_size stay fixed.
FIXED = {"learning_rate": 0.01, "bias_regularization": 0.02, "batch_size": 256, "seed": SEED}
GRID = {
    "factors": [50, 100, 200],
    "regularization": [0.06, 0.08, 0.1, 0.12],
    "init_std": [0.02, 0.1],
}

#: Surprise's defaults for ``SVD`` (its ``reg_all`` applies to biases and factors alike), in
#: the course's names (Surprise's ``n_factors``, ``n_epochs``, ``lr_all``, ``reg_all``).
SURPRISE_DEFAULTS = {
    "factors": 100,
    "iterations": 20,
    "learning_rate": 0.005,
    "regularization": 0.02,
    "bias_regularization": 0.02,
    "init_std": 0.1,
    "batch_size": 256,
    "seed": SEED,
}

PUBLISHED_SOURCE = (
    "Surprise README / surpriselib.com benchmark table, MovieLens 100K, 5-fold cross-validation "
    "on random folds (the same folds for every algorithm), laptop with an Intel i5 11th Gen 2.60GHz"
)
#: algorithm -> (RMSE, time for the 5 folds as h:mm:ss) as published by Surprise.
PUBLISHED = {
    "SVD": (0.934, "0:00:06"),
    "SVD++ (cache_ratings=False)": (0.919, "0:01:39"),
    "SVD++ (cache_ratings=True)": (0.919, "0:01:22"),
    "NMF": (0.963, "0:00:06"),
    "Slope One": (0.946, "0:00:09"),
    "k-NN": (0.98, "0:00:08"),
    "Centered k-NN": (0.951, "0:00:09"),
    "k-NN Baseline": (0.931, "0:00:13"),
    "Co-Clustering": (0.963, "0:00:06"),
    "Baseline": (0.944, "0:00:02"),
    "Random": (1.518, "0:00:01"),
}


def ml100k_dir() -> Path:
    """The ``ml-100k`` folder under ``RECSYS_LESSONS_DATA``, or a ``SystemExit`` saying what to set."""
    root = os.environ.get("RECSYS_LESSONS_DATA")
    folder = Path(root) / "ml-100k" if root else None
    if folder is None or not (folder / "u1.base").is_file():
        raise SystemExit(
            "Set RECSYS_LESSONS_DATA to a folder holding the extracted ml-100k/ release "
            "(with u1.base ... u5.test) and run again."
        )
    return folder


def read_ratings(path: Path) -> pd.DataFrame:
    """One official fold file: tab-separated ``user_id item_id rating unix_time``."""
    return pd.read_csv(path, sep="\t", names=["user_id", "item_id", "rating", "timestamp"])


def ratings_matrix(frame: pd.DataFrame):
    """CSR ratings matrix over all 943 users and 1,682 items of ML-100K (ids 1..n)."""
    return interaction_matrix(frame, np.arange(1, N_USERS + 1), np.arange(1, N_ITEMS + 1)).X


def search_hyperparameters(folder: Path) -> tuple[dict, list[dict]]:
    """Grid search on a validation split of ``u1.base``; returns the winner and every trial."""
    base = read_ratings(folder / "u1.base")
    held_out = np.random.default_rng(SEED).random(len(base)) < VALIDATION_SHARE
    train, validation = ratings_matrix(base[~held_out]), ratings_matrix(base[held_out])
    trials = []
    for values in itertools.product(*GRID.values()):
        params = {**FIXED, **dict(zip(GRID, values, strict=True)), "iterations": MAX_EPOCHS}
        start = time.perf_counter()
        history = FunkSVD(**params).fit(train, validation).history_
        best = history.loc[history["val_rmse"].idxmin()]
        trial = {
            **{key: params[key] for key in GRID},
            "best_epoch": int(best["epoch"]),
            "val_rmse": round(float(best["val_rmse"]), 5),
            "seconds": round(time.perf_counter() - start, 1),
        }
        trials.append(trial)
        print(f"  {trial}", flush=True)
    winner = min(trials, key=lambda trial: trial["val_rmse"])
    chosen = {**FIXED, **{key: winner[key] for key in GRID}, "iterations": winner["best_epoch"]}
    return chosen, trials


def evaluate_folds(folder: Path, params: dict) -> dict:
    """Fit on each ``u{k}.base``, RMSE on ``u{k}.test``; fit+predict time summed over folds."""
    rmses, seconds = [], 0.0
    for fold in range(1, 6):
        train = ratings_matrix(read_ratings(folder / f"u{fold}.base"))
        test = ratings_matrix(read_ratings(folder / f"u{fold}.test"))
        start = time.perf_counter()
        rmse = FunkSVD(**params).fit(train).rmse(test)
        seconds += time.perf_counter() - start
        rmses.append(round(rmse, 5))
    return {
        "rmse_per_fold": rmses,
        "rmse_mean": round(float(np.mean(rmses)), 4),
        "seconds_5_folds": round(seconds, 1),
    }


def main() -> None:
    folder = ml100k_dir()
    print(
        f"Hyperparameter search on a {VALIDATION_SHARE:.0%} validation split of u1.base "
        f"(seed {SEED}; no .test file is read):"
    )
    with threadpool_limits(1, "blas"):
        chosen, trials = search_hyperparameters(folder)
        print(f"Chosen: {chosen}\n")
        defaults = FunkSVD().get_params()
        rows = {
            "FunkSVD (tuned on u1.base validation)": (chosen, evaluate_folds(folder, chosen)),
            "FunkSVD() (class defaults)": (defaults, evaluate_folds(folder, defaults)),
            "FunkSVD (Surprise SVD defaults)": (
                SURPRISE_DEFAULTS,
                evaluate_folds(folder, SURPRISE_DEFAULTS),
            ),
        }

    table = [
        {
            "algorithm": name,
            "RMSE": result["rmse_mean"],
            "time (5 folds)": f"{result['seconds_5_folds']:.1f} s",
            "source": "this run",
        }
        for name, (_, result) in rows.items()
    ] + [
        {
            "algorithm": f"Surprise {name}",
            "RMSE": rmse,
            "time (5 folds)": duration,
            "source": "published",
        }
        for name, (rmse, duration) in PUBLISHED.items()
    ]
    frame = pd.DataFrame(table).sort_values("RMSE").reset_index(drop=True)
    print("MovieLens 100K, official folds u1..u5, mean test RMSE (lower is better):")
    print(frame.to_string(index=False))
    for name, (_, result) in rows.items():
        print(f"{name}: RMSE per fold {result['rmse_per_fold']}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "protocol": (
                    "MovieLens 100K official folds: fit on u{k}.base, RMSE on u{k}.test, k = 1..5, "
                    "mean over folds; matrices over all 943 users x 1,682 items."
                ),
                "tuning": (
                    f"grid search on a {VALIDATION_SHARE:.0%} random validation split of u1.base "
                    f"(seed {SEED}), iterations = epoch of the lowest validation RMSE (max "
                    f"{MAX_EPOCHS}); the .test files are used only for the final scores."
                ),
                "grid": {"fixed": FIXED, "searched": GRID, "max_epochs": MAX_EPOCHS},
                "trials": trials,
                "rows": [
                    {
                        "name": name,
                        "class_name": "FunkSVD",
                        "params": params,
                        **result,
                    }
                    for name, (params, result) in rows.items()
                ],
                "published_source": PUBLISHED_SOURCE,
                "published": {
                    name: {"rmse": rmse, "time_5_folds": duration}
                    for name, (rmse, duration) in PUBLISHED.items()
                },
                "environment": {
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                    "machine": platform.machine(),
                    "blas_threads": 1,
                },
            },
            indent=2,
        )
        + "\n"
    )
    print(
        f"\nWrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}"
    )


if __name__ == "__main__":
    main()
