"""Next-item prediction: long-term, short-term and blended models on three catalogues.

Protocol (lesson 07): events ordered by time, same-second ties by item index; sessions cut at
a 30-minute pause (4 hours on the simulated catalogue, where titles follow each other by
their runtime); each user's last event is the target, everything before it (all users) is
the history; every model ranks the full catalogue, the user's history items removed;
HitRate@10, MRR@10, nDCG@10. Hyperparameters (Markov smoothing, session-kNN neighbours and
decay, the blend weight) are chosen on a validation split that holds out the last event of
every history, so the test targets are touched once.

Noise: leave-last-out has no random split, so on MovieLens each mean carries a 95 %
percentile-bootstrap interval over users (2,000 resamples) and each comparison a paired
bootstrap of the per-user difference. The simulated catalogue is regenerated with several
seeds (a new world and a new split each time): there each row reports the mean over seeds
with a 95 % t-interval, and the per-seed paired bootstrap of the headline comparison.

Run ``python -m benchmarks.sequences`` (``--quick``: MovieLens 100K and two simulated seeds).
Writes ``benchmarks/results/sequences.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_lessons import models
from recsys_lessons.data import generate_catalogue, load_dataset
from recsys_lessons.evaluation import bootstrap_interval, paired_bootstrap_interval, seed_interval
from recsys_lessons.sequences import build_sequences, evaluate_next_item, next_item_split
from recsys_lessons.sequences import models as sequential

K = 10
SEED = 42
N_BOOT = 2000
METRICS = (f"hit_rate@{K}", f"mrr@{K}", f"ndcg@{K}")
RESULTS = Path(__file__).resolve().parent / "results" / "sequences.json"
SMOOTHING_GRID = (0.1, 1.0, 10.0)
SKNN_GRID = tuple({"neighbors": n, "decay": d} for n in (50, 100, 200) for d in (1.0, 0.7, 0.5))
#: Long-term models (``recsys_lessons.models`` class name, constructor arguments).
LONG_TERM = {"Popularity": {}, "ALS": {"seed": SEED}, "EASE": {}}
#: EASE inverts an items x items matrix: skipped above this many items.
EASE_MAX_ITEMS = 5000


def validation_mrr(model, history) -> float:
    """MRR@K of ``model`` when the last event of every history is held out."""
    inner, targets, _ = next_item_split(history)
    return evaluate_next_item(model.fit(inner), inner, targets, k=K)[f"mrr@{K}"].mean()


def tune(build, grid, history) -> dict:
    scores = {
        json.dumps(params, sort_keys=True): validation_mrr(build(**params), history)
        for params in grid
    }
    return json.loads(max(scores, key=scores.get))


def run_catalogue(sequences, description: dict) -> tuple[list[dict], dict[str, pd.DataFrame]]:
    """Fit and score every model on one catalogue; rows with bootstrap intervals over users."""
    history, targets, _ = next_item_split(sequences)
    specs = {}
    for name, params in LONG_TERM.items():
        if name == "EASE" and sequences.n_items > EASE_MAX_ITEMS:
            continue
        specs[name] = ("MatrixModel", {"model": (name, params)})
    smoothing = tune(
        lambda **p: sequential.MarkovChain(**p), [{"smoothing": s} for s in SMOOTHING_GRID], history
    )
    sknn = tune(lambda **p: sequential.SessionKNN(**p), SKNN_GRID, history)
    specs["Markov chain"] = ("MarkovChain", smoothing)
    specs["Last-5 item-kNN"] = ("LastNItemKNN", {"n_last": 5, "decay": 0.7})
    specs["Session-kNN"] = ("SessionKNN", sknn)
    specs["ALS + Markov"] = (
        "ShortLongBlend",
        {"long_model": ("ALS", {"seed": SEED}), "short_model": ("MarkovChain", smoothing)},
    )
    specs["ALS + Session-kNN"] = (
        "ShortLongBlend",
        {"long_model": ("ALS", {"seed": SEED}), "short_model": ("SessionKNN", sknn)},
    )

    rows, per_user = [], {}
    for name, (cls, params) in specs.items():
        model = build(cls, params)
        if cls == "ShortLongBlend":
            sequential.choose_blend_weight(model, history, k=K, metric="mrr")
            params = {**params, "weight": model.weight}
        start = time.perf_counter()
        model.fit(history)
        fit_seconds = time.perf_counter() - start
        table = evaluate_next_item(model, history, targets, k=K)
        per_user[name] = table
        row = {
            "model": name,
            "class": cls,
            "arguments": params,
            **description,
            "fit_seconds": round(fit_seconds, 3),
        }
        for metric in METRICS:
            interval = bootstrap_interval(table[metric], n_resamples=N_BOOT, seed=SEED)
            row[metric] = {"mean": interval.estimate, "ci95": [interval.low, interval.high]}
        rows.append(row)
    return rows, per_user


def build(cls: str, params: dict):
    """Rebuild a model from the (class, arguments) recorded in a row."""

    def value(v):
        return build(*v) if isinstance(v, tuple) else v

    target = getattr(sequential, cls, None) or getattr(models, cls)
    return target(**{key: value(v) for key, v in params.items()})


def comparisons(per_user, pairs) -> list[dict]:
    out = []
    for a, b in pairs:
        entry = {"a": a, "b": b}
        for metric in METRICS[:2]:
            interval = paired_bootstrap_interval(
                per_user[a][metric], per_user[b][metric], n_resamples=N_BOOT, seed=SEED
            )
            entry[metric] = {
                "mean_difference": interval.estimate,
                "ci95": [interval.low, interval.high],
            }
        out.append(entry)
    return out


def movielens(name: str) -> dict:
    data = load_dataset(name)
    sequences = build_sequences(data.interactions, session_gap="30min")
    last = sequences.indptr[1:] - 1
    tied = float(np.mean(sequences.timestamps[last] == sequences.timestamps[last - 1]))
    description = {
        "dataset": name,
        "protocol": "leave-last-out, full ranking, seen items removed, k=10, session gap 30min, "
        "ties by item index",
        "matrix": "binary user x item matrix of the history (long-term models)",
        "split_seed": None,
    }
    rows, per_user = run_catalogue(sequences, description)
    best_long = max(
        ("ALS", "EASE"), key=lambda n: per_user[n][f"mrr@{K}"].mean() if n in per_user else -1
    )
    pairs = [
        (a, b)
        for a in ("Session-kNN", "ALS + Session-kNN", "ALS + Markov")
        for b in ("Popularity", "ALS")
    ]
    pairs.append(("ALS + Session-kNN", best_long))
    return {
        "dataset": name,
        "users_evaluated": len(per_user["ALS"]),
        "targets_tied_with_previous_event": tied,
        "rows": rows,
        "comparisons": comparisons(per_user, pairs),
    }


def simulated(seeds, focus: float) -> dict:
    per_seed_rows, per_seed_comparisons = [], []
    for seed in seeds:
        data = generate_catalogue(seed=seed, session_focus=focus)
        world = data.world
        sequences = build_sequences(
            data.interactions, world.user_ids, world.item_ids, session_gap="4h"
        )
        description = {
            "dataset": f"synthetic(seed={seed}, session_focus={focus})",
            "protocol": "leave-last-out, full ranking, seen items removed, k=10, session gap 4h",
            "matrix": "binary user x item matrix of the history (long-term models)",
            "split_seed": seed,
        }
        rows, per_user = run_catalogue(sequences, description)
        best_long = max(("ALS", "EASE"), key=lambda n: per_user[n][f"mrr@{K}"].mean())
        per_seed_rows.append(rows)
        per_seed_comparisons.append(
            {
                "seed": seed,
                "best_long_term": best_long,
                **comparisons(per_user, [("ALS + Session-kNN", best_long)])[0],
            }
        )
    summary = []
    for i, row in enumerate(per_seed_rows[0]):
        entry = {key: row[key] for key in ("model", "class")}
        entry["arguments_by_seed"] = [rows[i]["arguments"] for rows in per_seed_rows]
        entry["fit_seconds"] = float(np.mean([rows[i]["fit_seconds"] for rows in per_seed_rows]))
        for metric in METRICS:
            entry[metric] = mean_and_t_interval([rows[i][metric]["mean"] for rows in per_seed_rows])
        summary.append(entry)
    gains = {
        metric: mean_and_t_interval([c[metric]["mean_difference"] for c in per_seed_comparisons])
        for metric in METRICS[:2]
    }
    return {
        "dataset": f"synthetic(session_focus={focus})",
        "seeds": list(seeds),
        "protocol": "leave-last-out, full ranking, seen items removed, k=10, session gap 4h; "
        "a new world and split per seed",
        "rows": summary,
        "blend_minus_best_long_term_over_seeds": gains,
        "per_seed_paired_bootstrap": per_seed_comparisons,
        "per_seed_rows": per_seed_rows,
    }


def mean_and_t_interval(values) -> dict:
    """Mean and 95% t-interval over seeds (:func:`recsys_lessons.evaluation.stats.seed_interval`)."""
    interval = seed_interval(values)
    return {
        "mean": interval.estimate,
        "ci95": [interval.low, interval.high],
        "values": np.asarray(values, dtype=float).tolist(),
    }


def show(title: str, rows) -> None:
    table = pd.DataFrame(
        {
            row["model"]: {
                **{
                    m: f"{row[m]['mean']:.4f} [{row[m]['ci95'][0]:.4f}, {row[m]['ci95'][1]:.4f}]"
                    for m in METRICS
                },
                "fit s": f"{row['fit_seconds']:.2f}",
            }
            for row in rows
        }
    ).T
    print(f"\n{title}\n{table.to_string()}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="MovieLens 100K and two simulated seeds"
    )
    args = parser.parse_args(argv)
    seeds = (42, 43) if args.quick else (42, 43, 44, 45, 46)
    started = time.perf_counter()
    results = {"k": K, "quick": args.quick, "python": platform.python_version(), "catalogues": []}
    for name in ("movielens-100k",) if args.quick else ("movielens-100k", "movielens-latest-small"):
        result = movielens(name)
        results["catalogues"].append(result)
        show(
            f"{name} (95 % bootstrap intervals over {result['users_evaluated']} users; "
            f"{result['targets_tied_with_previous_event']:.0%} of targets tied in time)",
            result["rows"],
        )
        for c in result["comparisons"]:
            print(
                f"  {c['a']} - {c['b']}: "
                + ", ".join(
                    f"{m} {c[m]['mean_difference']:+.4f} [{c[m]['ci95'][0]:+.4f}, {c[m]['ci95'][1]:+.4f}]"
                    for m in METRICS[:2]
                )
            )
    for focus in (0.0, 1.0):
        result = simulated(seeds, focus)
        results["catalogues"].append(result)
        show(
            f"simulated catalogue, session_focus={focus} (mean over seeds {list(seeds)}, 95 % t-interval)",
            result["rows"],
        )
        for m, gain in result["blend_minus_best_long_term_over_seeds"].items():
            print(
                f"  ALS + Session-kNN - best long-term, {m}: {gain['mean']:+.4f} [{gain['ci95'][0]:+.4f}, {gain['ci95'][1]:+.4f}]"
            )
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, default=_jsonable) + "\n")
    print(f"\nwrote {RESULTS} in {results['total_seconds']} s")


def _jsonable(value):
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


if __name__ == "__main__":
    main()
