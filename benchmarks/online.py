"""Online experiments on simulated users: do the statistics keep their promises, and how much
does interleaving save? (lesson 09, notebooks/09_online_experiments.ipynb)

For each seed (the simulated world ``load_dataset("synthetic", seed=s)``, 1,000 users x 1,700
titles, and an ``OnlineEnvironment`` with the same seed, k = 10, mean return rate 0.3):

1. **A/A.** Everybody gets the production ranker (item-kNN, refitted weekly) for 28 days.
   Metric: watch minutes per user (every world user, 0 when absent). 1,000 random half/half
   splits of the users give the false-positive rate of Welch's test at alpha = 0.05 and the
   coverage of its 95 % interval; testing the cumulative metric after each day and stopping at
   the first p < 0.05 gives the **peeking** false-positive rate.
2. **CUPED.** Then a 14-day A/B test (item-kNN vs EASE, users assigned at random); the
   covariate is each user's watch minutes in the 28-day pre-period. Reported: the variance
   reduction ``1 - var(Y_cuped) / var(Y)`` (= rho^2).
3. **Users needed, A/B vs interleaving.** Fresh environments (seeds ``s + 1000 r`` for
   ``r < replications``: the same users, new visits and clicks, outcomes pooled), 14 days with
   everybody on A, with everybody on B, and with everybody on the team-draft interleaving of
   A and B. Users for which each method names the truly better ranker (the one with the higher
   expected CTR under the world's click model) with 95 % probability, by the normal
   approximation ``users_to_pick_winner`` (A/B: half the users per arm, on watch minutes;
   interleaving: per-user preference from credited clicks), and their ratio. Two pairs: a clear
   one (item-kNN vs EASE) and a close one (EASE vs ALS).
4. **Offline vs online.** Eight course models: NDCG@10 on a temporal split of the world's
   history (last 20 % of events held out, binary matrices over all world ids), and watch
   minutes per user online for 14 days (fitted on the whole history, refitted weekly).
   Kendall's tau between the two orders.

Summary rows give the mean over seeds and a 95 % t-interval (for ratios: over log ratios).

Run ``python -m benchmarks.online`` (5 seeds, several minutes) or ``--quick`` (2 seeds, fewer
repetitions and models). Prints the tables and writes ``benchmarks/results/online.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from recsys_lessons import metrics
from recsys_lessons.data import interaction_matrix, load_dataset
from recsys_lessons.evaluation import seed_interval, temporal_split
from recsys_lessons.models import ALS, BPR, EASE, ContentBased, ItemKNN, Popularity, Random, UserKNN
from recsys_lessons.online import ModelPolicy, OnlineEnvironment
from recsys_lessons.online.experiment import (
    InterleavingPolicy,
    ab_test,
    cuped,
    interleaving_preference,
    users_to_pick_winner,
)

RESULTS = Path(__file__).resolve().parent / "results" / "online.json"
SETTINGS = {
    "world": "load_dataset('synthetic', seed=s): 1,000 users x 1,700 titles",
    "environment": "OnlineEnvironment.from_dataset(data, seed=s, k=10, return_rate=0.3)",
    "k": 10,
    "return_rate": 0.3,
    "pre_days": 28,
    "test_days": 14,
    "retrain_every_days": 7,
    "alpha": 0.05,
    "metric": "watch minutes per world user over the period (0 when the user did not come)",
    "offline_split": "temporal_split(world history, test_ratio=0.2); binary matrices over all world ids",
}
ALL_MODELS = ["Random", "Popularity", "ContentBased", "ItemKNN", "UserKNN", "EASE", "ALS", "BPR"]
FULL = {"seeds": [1, 2, 3, 4, 5], "repetitions": 1000, "models": ALL_MODELS, "replications": 3}
QUICK = {
    "seeds": [1, 2],
    "repetitions": 400,
    "models": ["Random", "Popularity", "ItemKNN", "EASE"],
    "replications": 1,
}


def make_models(data, seed):
    """The course models compared offline and online (fresh, unfitted instances)."""
    world = data.world
    return {
        "Random": Random(seed=seed),
        "Popularity": Popularity(),
        "ContentBased": ContentBased(data.items.reindex(world.item_ids)),
        "ItemKNN": ItemKNN(),
        "UserKNN": UserKNN(),
        "EASE": EASE(),
        "ALS": ALS(),
        "BPR": BPR(),
    }


def minutes_per_user(log, n_users, days=None):
    if days is not None:
        log = log[log["day"].isin(days)]
    minutes = log.groupby("user")["watch_seconds"].sum() / 60
    return minutes.reindex(np.arange(n_users), fill_value=0.0).to_numpy()


def environment(data, seed):
    return OnlineEnvironment.from_dataset(
        data, seed=seed, k=SETTINGS["k"], return_rate=SETTINGS["return_rate"]
    )


def policy(model):
    return ModelPolicy(model, retrain_every=SETTINGS["retrain_every_days"])


def aa_and_peeking(pre_log, n_users, repetitions, rng):
    days = SETTINGS["pre_days"]
    daily = np.zeros((n_users, days))
    per_day = pre_log.groupby(["user", "day"])["watch_seconds"].sum() / 60
    daily[per_day.index.get_level_values(0), per_day.index.get_level_values(1)] = per_day
    cumulative = daily.cumsum(axis=1)
    splits = np.argsort(rng.random((repetitions, n_users)), axis=1)
    arm_a, arm_b = splits[:, : n_users // 2], splits[:, n_users // 2 :]
    final = ab_test(cumulative[arm_a, -1], cumulative[arm_b, -1])
    p_by_day = np.column_stack(
        [ab_test(cumulative[arm_a, d], cumulative[arm_b, d]).p_value for d in range(days)]
    )
    return {
        "aa_false_positive_rate": float(final.significant.mean()),
        "aa_interval_coverage": float(((final.ci_low <= 0) & (0 <= final.ci_high)).mean()),
        "peeking_false_positive_rate": float((p_by_day < SETTINGS["alpha"]).any(axis=1).mean()),
    }


def users_needed(data, make_a, make_b, env_seeds):
    """Users for A/B and for interleaving to name the truly better ranker with 95 % chance.

    Each environment seed replays the same 1,000 users with new visits and clicks; the
    per-user outcomes of all replications are pooled to estimate means and spreads.
    """
    n_users, days = data.world.n_users, SETTINGS["test_days"]
    a, b, preference, truth = [], [], [], []
    for env_seed in env_seeds:
        log_a = environment(data, env_seed).run(policy(make_a()), n_days=days)
        log_b = environment(data, env_seed).run(policy(make_b()), n_days=days)
        a.append(minutes_per_user(log_a, n_users))
        b.append(minutes_per_user(log_b, n_users))
        truth.append(log_b["click_probability"].mean() - log_a["click_probability"].mean())
        interleaving = InterleavingPolicy(policy(make_a()), policy(make_b()), seed=env_seed)
        log = environment(data, env_seed).run(interleaving, n_days=days)
        log = log.merge(interleaving.teams, on=["day", "user", "position"])
        per_user = interleaving_preference(log["team"], log["clicked"], log["user"])
        preference.append(per_user.reindex(np.arange(n_users), fill_value=0).to_numpy())
    a, b, preference = np.concatenate(a), np.concatenate(b), np.concatenate(preference)
    sign = np.sign(np.mean(truth))  # the truly better ranker, by the world's click model

    def needed(mean, std):
        return users_to_pick_winner(mean, std) if np.sign(mean) == sign else float("inf")

    ab = needed(b.mean() - a.mean(), np.sqrt(2 * (a.var() + b.var())))
    il = needed(preference.mean(), preference.std())
    return {
        "environment_seeds": list(env_seeds),
        "expected_ctr_difference_b_minus_a": float(np.mean(truth)),
        "watch_minutes_difference_b_minus_a": float(b.mean() - a.mean()),
        "mean_preference_for_b": float(preference.mean()),
        "share_users_without_preference": float((preference == 0).mean()),
        "ab_users": ab,
        "interleaving_users": il,
        "ratio": ab / il if np.isfinite(ab) and np.isfinite(il) else float("nan"),
    }


def offline_online(data, seed, names):
    world = data.world
    train, test = temporal_split(data.interactions, test_ratio=0.2)
    ids = {"user_ids": world.user_ids, "item_ids": world.item_ids, "value": None}
    train_X = interaction_matrix(train, **ids).X
    test_X = interaction_matrix(test, **ids).X
    users = np.flatnonzero(np.diff(test_X.indptr))
    rows = []
    for name in names:
        model = make_models(data, seed)[name]
        recommended, _ = model.fit(train_X).recommend(users, k=SETTINGS["k"])
        env = environment(data, seed)
        online = make_models(data, seed)[name]
        log = env.run(policy(online), n_days=SETTINGS["test_days"])
        rows.append(
            {
                "seed": seed,
                "model": name,
                "class": type(model).__name__,
                "params": {k: repr(v) for k, v in model.get_params().items()},
                "offline_ndcg_at_10": float(
                    metrics.ndcg_at_k(recommended, test_X[users], k=SETTINGS["k"])
                ),
                "online_watch_minutes_per_user": float(minutes_per_user(log, world.n_users).mean()),
                "online_ctr": float(log["clicked"].mean()),
            }
        )
    frame = pd.DataFrame(rows)
    tau = stats.kendalltau(frame["offline_ndcg_at_10"], frame["online_watch_minutes_per_user"])
    return rows, float(tau.statistic)


def run_seed(seed, repetitions, names, replications):
    data = load_dataset("synthetic", seed=seed)
    n_users = data.world.n_users
    rng = np.random.default_rng(seed)
    env = environment(data, seed)
    pre_log = env.run(policy(ItemKNN()), n_days=SETTINGS["pre_days"])
    row = {"seed": seed, **aa_and_peeking(pre_log, n_users, repetitions, rng)}

    ab_log = env.run({"A": policy(ItemKNN()), "B": policy(EASE())}, n_days=SETTINGS["test_days"])
    y, x = minutes_per_user(ab_log, n_users), minutes_per_user(pre_log, n_users)
    row["cuped_variance_reduction"] = float(1 - cuped(y, x).var() / y.var())
    row["pre_in_correlation"] = float(np.corrcoef(x, y)[0, 1])

    pairs = {"clear (ItemKNN vs EASE)": (ItemKNN, EASE), "close (EASE vs ALS)": (EASE, ALS)}
    env_seeds = [seed + 1000 * r for r in range(replications)]
    row["users_needed"] = {
        label: users_needed(data, a, b, env_seeds) for label, (a, b) in pairs.items()
    }
    models, row["kendall_tau_offline_online"] = offline_online(data, seed, names)
    return row, models


def interval(values, log=False):
    """Mean and 95% t-interval over seeds (:func:`recsys_lessons.evaluation.stats.seed_interval`).

    Non-finite values are dropped. With ``log`` the interval is taken on the logarithms and
    mapped back with ``exp`` (a geometric mean and its interval). One value gives NaN bounds.
    """
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(values) == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    data = np.log(values) if log else values
    if len(data) > 1:
        result = seed_interval(data)
        mean, low, high = result.estimate, result.low, result.high
    else:
        mean, low, high = data.mean(), float("nan"), float("nan")
    transform = np.exp if log else float
    return {
        "mean": float(transform(mean)),
        "low": float(transform(low)),
        "high": float(transform(high)),
        "n": int(len(data)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, fewer repetitions")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    names = plan["models"]
    started = time.perf_counter()
    rows, model_rows = [], []
    with threadpool_limits(1):
        for seed in plan["seeds"]:
            row, models = run_seed(seed, plan["repetitions"], names, plan["replications"])
            rows.append(row)
            model_rows.extend(models)
            print(f"seed {seed} done ({time.perf_counter() - started:.0f} s)", flush=True)

    summary = {
        key: interval([r[key] for r in rows])
        for key in (
            "aa_false_positive_rate",
            "aa_interval_coverage",
            "peeking_false_positive_rate",
            "cuped_variance_reduction",
            "pre_in_correlation",
            "kendall_tau_offline_online",
        )
    }
    for label in rows[0]["users_needed"]:
        needed = [r["users_needed"][label] for r in rows]
        summary[f"users needed, {label}"] = {
            "ab_users": interval([n["ab_users"] for n in needed], log=True),
            "interleaving_users": interval([n["interleaving_users"] for n in needed], log=True),
            "ratio": interval([n["ratio"] for n in needed], log=True),
            "seeds_where_a_method_prefers_the_worse_ranker": int(
                sum(not np.isfinite(n["ratio"]) for n in needed)
            ),
        }
    models = pd.DataFrame(model_rows)
    per_model = models.groupby("model")[
        ["offline_ndcg_at_10", "online_watch_minutes_per_user", "online_ctr"]
    ].agg(["mean", "std"])

    print("\nStatistics (mean over seeds [95% interval])")
    for key, value in summary.items():
        if "mean" in value:
            print(f"  {key:32s} {_span(value, '.3f')}")
    print("\nUsers to pick the better ranker with 95% probability (geometric mean [95% interval])")
    for key, value in summary.items():
        if "ratio" in value:
            cells = "  ".join(
                f"{name} {_span(value[name], ',.0f')}"
                for name in ("ab_users", "interleaving_users", "ratio")
            )
            print(f"  {key}: {cells}")
    print("\nOffline NDCG@10 vs online watch minutes per user (mean, std over seeds)")
    print(per_model.round(3).to_string())

    result = {
        "protocol": __doc__.split("\n\n", 1)[1].split("Run ``python")[0].strip(),
        "settings": SETTINGS,
        "plan": {**plan, "models": names, "quick": args.quick},
        "summary": summary,
        "per_seed": rows,
        "models": model_rows,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(_finite(result), indent=2) + "\n")
    print(f"\nwrote {RESULTS}")
    return 0


def _span(value, spec):
    """``mean [low, high]`` formatted, or "n/a" when no seed gave a finite value."""
    if value["mean"] is None:
        return "n/a"
    low, high = value["low"], value["high"]
    bounds = f"[{low:{spec}}, {high:{spec}}]" if np.isfinite(low) else "[single seed]"
    return f"{value['mean']:{spec}} {bounds} (n={value['n']})"


def _finite(value):
    """JSON-ready copy: numpy scalars to Python, infinite or NaN numbers to None."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


if __name__ == "__main__":
    raise SystemExit(main())
