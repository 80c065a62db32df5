"""Exploration and off-policy evaluation on the simulated streaming service (lesson 09).

Three experiments, each repeated over seeds (a seed sets the catalogue, the environment and
every policy), reported as a mean with a 95% t-interval over seeds:

1. **Toy bandit.** Ten Bernoulli arms with click rates 0.10..0.60, one arm per round;
   cumulative regret of greedy, epsilon-greedy (0.1), UCB1 and Thompson sampling.
2. **Catalogue, 60 simulated days** (``OnlineEnvironment``, k = 10, return rate 0.1, so about
   100 visitors a day out of 1,000). Policies: lesson 04's ALS refitted weekly on the watch
   history, wrapped in ``ExploringPolicy`` with epsilon in 0..0.3; Thompson sampling over
   titles (prior Beta(1, 20)); LinUCB on metadata features; and on the young service ALS
   exploring among the 20 % least-shown titles ("under-exposed") instead of all titles. Two services: **young** (starts
   60 days after the catalogue's first interaction: thin history) and **mature** (starts 90
   days before its last interaction: long history). Measures: total watch hours, catalogue
   coverage, how many of the 10 truly best titles released during the run were clicked.
   Differences to greedy ALS are paired by seed (the same visitors meet every policy).
3. **Off-policy evaluation.** Logs of one day (return rate 0.3, about 3,000 impressions) from
   ALS with 20% epsilon-greedy exploration; targets: ALS greedy, ALS + 5% / 50% exploration,
   random unwatched titles. Estimators: replay, IPS, SNIPS, DM, DR (reward model: logistic
   regression of the click on the ALS score and the position, fitted on each log). Truth:
   the simulator's expected clicks per slot of each target for the same visits. Bias and
   RMSE per estimator over ``N_LOGS`` logs per seed, then the interval over seeds.

Run ``python -m benchmarks.exploration`` (about 15 minutes on 2 quiet cores) or ``--quick``
(2 seeds, fewer policies: a smoke test, not for claims). Prints the tables and writes
``benchmarks/results/exploration.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from recsys_lessons.data import load_dataset
from recsys_lessons.explore import (
    UCB1,
    EpsilonGreedy,
    ExploringPolicy,
    LinUCB,
    ThompsonSampling,
    direct_method_estimate,
    doubly_robust_estimate,
    epsilon_slates,
    ips_estimate,
    replay_estimate,
    simulate_bandit,
    snips_estimate,
)
from recsys_lessons.models import ALS
from recsys_lessons.models.base import top_k_indices
from recsys_lessons.simulate import ModelPolicy, OnlineEnvironment
from recsys_lessons.stats import seed_interval

RESULTS = Path(__file__).resolve().parent / "results" / "exploration.json"
K = 10
N_DAYS = 60
RETURN_RATE = 0.1
ALS_PARAMS = {"factors": 32, "regularization": 30.0, "alpha": 2.0, "iterations": 10}
RETRAIN_EVERY = 7
THOMPSON_PRIOR = (1.0, 20.0)
LINUCB_ALPHA = 0.3
TOY_ARMS = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.60)
OPE_EPSILON = 0.2
OPE_TARGETS = {"ALS greedy": 0.0, "ALS + 5%": 0.05, "ALS + 50%": 0.5, "random unwatched": 1.0}
ESTIMATORS = ("replay", "IPS", "SNIPS", "DM", "DR")


def interval(values) -> dict:
    """Mean and 95% t-interval over seeds (:func:`recsys_lessons.stats.seed_interval`).

    One seed gives a zero-width interval; a NaN value (an estimator with no answer on some
    seed) gives a NaN mean and bounds, recorded as such in the results.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return {"mean": mean, "low": mean, "high": mean, "n": len(values)}
    if not np.isfinite(values).all():
        return {"mean": mean, "low": float("nan"), "high": float("nan"), "n": len(values)}
    result = seed_interval(values)
    return {"mean": result.estimate, "low": result.low, "high": result.high, "n": len(values)}


# --------------------------------------------------------------------------------------
# 1. Toy bandit
# --------------------------------------------------------------------------------------


def toy_bandit(seeds, n_rounds):
    rates = np.array(TOY_ARMS)
    makers = {
        "greedy": lambda s: EpsilonGreedy(len(rates), epsilon=0.0, seed=s),
        "epsilon-greedy 0.1": lambda s: EpsilonGreedy(len(rates), epsilon=0.1, seed=s),
        "UCB1": lambda s: UCB1(len(rates), seed=s),
        "Thompson": lambda s: ThompsonSampling(len(rates), n_propensity_draws=0, seed=s),
    }
    rows = []
    for name, make in makers.items():
        finals = [simulate_bandit(make(s), rates, n_rounds, seed=s)[-1] for s in seeds]
        rows.append(
            {
                "policy": name,
                "class": type(make(0)).__name__,
                "arguments": repr(make(0)),
                "arms": list(TOY_ARMS),
                "rounds": n_rounds,
                "seeds": list(seeds),
                "regret": interval(finals),
            }
        )
    return rows


# --------------------------------------------------------------------------------------
# 2. Catalogue runs
# --------------------------------------------------------------------------------------


def service(seed, kind):
    data = load_dataset("synthetic", seed=seed)
    if kind == "young":
        start = data.interactions["timestamp"].min().normalize() + pd.Timedelta(days=60)
    else:
        start = data.interactions["timestamp"].max().normalize() - pd.Timedelta(days=90)
    return data, start


def best_new_titles(world, start, n=10):
    release = world.release_date.astype("datetime64[D]")
    end = start + pd.Timedelta(days=N_DAYS)
    arriving = np.flatnonzero(
        (release >= np.datetime64(start.date())) & (release < np.datetime64(end.date()))
    )
    attraction = expit(
        (world.true_affinity(items=arriving) - world.CLICK_THRESHOLD) / world.CLICK_TEMPERATURE
    )
    return arriving[np.argsort(-attraction.mean(axis=0))[:n]]


def content_features(data, world, start):
    pre = data.interactions[data.interactions["timestamp"] < start]
    users = world.user_ids.get_indexer(pre["user_id"])
    items = world.item_ids.get_indexer(pre["item_id"])
    profile = np.zeros((world.n_users, world.item_content.shape[1]))
    np.add.at(profile, users, world.item_content[items])
    profile /= np.maximum(np.bincount(users, minlength=world.n_users), 1)[:, None]
    return (
        np.column_stack([np.ones(world.n_users), profile]),
        np.column_stack([np.ones(world.n_items), world.item_content]),
    )


def catalogue_policies(kind, epsilons, with_bandits):
    policies = {
        f"ALS epsilon {e:g}": (
            "ExploringPolicy(ModelPolicy(ALS))",
            {"epsilon": e, "als": ALS_PARAMS, "retrain_every": RETRAIN_EVERY},
        )
        for e in epsilons
    }
    if with_bandits:
        for e in (0.1, 0.2):
            policies[f"ALS epsilon {e:g} under-exposed"] = (
                "ExploringPolicy(ModelPolicy(ALS), explore='under_exposed')",
                {
                    "epsilon": e,
                    "under_exposed_share": 0.2,
                    "als": ALS_PARAMS,
                    "retrain_every": RETRAIN_EVERY,
                },
            )
        policies["Thompson (titles)"] = ("ThompsonSampling", {"prior": THOMPSON_PRIOR})
        policies["LinUCB (metadata)"] = ("LinUCB", {"alpha": LINUCB_ALPHA})
    return policies


def build(name, seed, world, features):
    if name.startswith("ALS"):
        epsilon = float(name.split(" ")[2])
        explore = "under_exposed" if name.endswith("under-exposed") else "random"
        model = ModelPolicy(ALS(**ALS_PARAMS, seed=seed), retrain_every=RETRAIN_EVERY)
        return ExploringPolicy(model, world.n_items, epsilon=epsilon, explore=explore, seed=seed)
    if name.startswith("Thompson"):
        return ThompsonSampling(
            world.n_items, prior=THOMPSON_PRIOR, n_propensity_draws=0, seed=seed
        )
    return LinUCB(*features, alpha=LINUCB_ALPHA)


def catalogue(kind, seeds, epsilons, with_bandits):
    policies = catalogue_policies(kind, epsilons, with_bandits)
    per_seed = {name: [] for name in policies}
    for seed in seeds:
        data, start = service(seed, kind)
        world = data.world
        best = best_new_titles(world, start)
        features = content_features(data, world, start) if with_bandits else None
        for name in policies:
            env = OnlineEnvironment(
                world,
                seed=seed,
                k=K,
                start=start,
                history=data.interactions,
                return_rate=RETURN_RATE,
            )
            began = time.perf_counter()
            log = env.run(build(name, seed, world, features), N_DAYS)
            clicked = np.unique(log.loc[log["clicked"], "item"])
            per_seed[name].append(
                {
                    "watch_hours": log["watch_seconds"].sum() / 3600,
                    "coverage": log["item"].nunique() / world.n_items,
                    "best_new_found": int(np.isin(best, clicked).sum()),
                    "seconds": time.perf_counter() - began,
                }
            )
        print(f"  {kind} service, seed {seed} done", flush=True)
    greedy = [r["watch_hours"] for r in per_seed[f"ALS epsilon {epsilons[0]:g}"]]
    rows = []
    for name, (cls, arguments) in policies.items():
        runs = per_seed[name]
        rows.append(
            {
                "service": kind,
                "policy": name,
                "class": cls,
                "arguments": arguments,
                "environment": {
                    "k": K,
                    "n_days": N_DAYS,
                    "return_rate": RETURN_RATE,
                    "start": "first interaction + 60 days"
                    if kind == "young"
                    else "last interaction - 90 days",
                    "history": "dataset interactions before the start",
                },
                "seeds": list(seeds),
                "watch_hours": interval([r["watch_hours"] for r in runs]),
                "watch_hours_vs_greedy": interval(
                    [r["watch_hours"] - g for r, g in zip(runs, greedy, strict=True)]
                ),
                "coverage": interval([r["coverage"] for r in runs]),
                "best_new_found": interval([r["best_new_found"] for r in runs]),
                "seconds_per_run": float(np.mean([r["seconds"] for r in runs])),
            }
        )
    return rows


# --------------------------------------------------------------------------------------
# 3. Off-policy evaluation
# --------------------------------------------------------------------------------------


def ope(seeds, n_logs):
    per_seed = []
    for seed in seeds:
        data, start = service(seed, "young")
        world = data.world
        env0 = OnlineEnvironment(world, seed=seed, k=K, start=start, history=data.interactions)
        history = env0.history_matrix()
        blocked = history.toarray().astype(bool) | ~env0.available_items(0)[None, :]
        als = ALS(**ALS_PARAMS, seed=seed).fit(history)
        raw = als.score()
        top = top_k_indices(np.where(blocked, -np.inf, raw), K)
        pool_size = (~blocked).sum(axis=1) - K
        attraction = expit(
            (world.true_affinity() - world.CLICK_THRESHOLD) / world.CLICK_TEMPERATURE
        )
        examination = world.examination_probability(K)
        pool_attraction = (
            np.where(blocked, 0.0, attraction).sum(axis=1)
            - np.take_along_axis(attraction, top, axis=1).sum(axis=1)
        ) / pool_size
        errors = {(t, e): [] for t in OPE_TARGETS for e in ESTIMATORS}
        for rep in range(n_logs):
            env = OnlineEnvironment(
                world,
                seed=10_000 * seed + rep,
                k=K,
                start=start,
                history=data.interactions,
                return_rate=0.3,
            )
            policy = ExploringPolicy(
                lambda users, k, top=top: top[users, :k],
                world.n_items,
                epsilon=OPE_EPSILON,
                seed=rep,
            )
            log = env.run(policy, n_days=1)
            u, j, i = (log[c].to_numpy() for c in ("user", "position", "item"))
            r, p = log["clicked"].to_numpy(float), log["propensity"].to_numpy()
            visitors, visit = u[j == 1], np.arange(len(log)) // K
            features = np.column_stack([raw[u, i], np.eye(K)[j - 1]])
            fit = LogisticRegression(C=10.0, max_iter=1000).fit(features, log["clicked"])
            coef, intercept = fit.coef_[0], fit.intercept_[0]

            def rhat(users, items, positions, coef=coef, intercept=intercept, raw=raw):
                return expit(intercept + coef[0] * raw[users, items] + coef[1:][positions - 1])

            every = rhat(
                visitors[:, None, None],
                np.arange(world.n_items)[None, None, :],
                np.arange(1, K + 1)[None, :, None],
            )
            every = np.where(blocked[visitors][:, None, :], 0.0, every)
            in_top = np.take_along_axis(
                every, np.repeat(top[visitors][:, None, :], K, axis=1), axis=2
            ).sum(axis=2)
            explored = ((every.sum(axis=2) - in_top) / pool_size[visitors][:, None])[visit, j - 1]
            planned = top[u, j - 1]
            in_slate = (top[u] == i[:, None]).any(axis=1)
            replay_rng = np.random.default_rng([seed, rep])
            for target, eps in OPE_TARGETS.items():
                # Replay compares the logged item with what the target would pick in that slot.
                target_slates = epsilon_slates(replay_rng, top[visitors], ~blocked[visitors], eps)[
                    0
                ]
                target_items = target_slates[visit, j - 1]
                q = np.where(planned == i, 1 - eps, 0.0) + np.where(
                    ~in_slate & ~blocked[u, i], eps / pool_size[u], 0.0
                )
                vhat = (1 - eps) * rhat(u, planned, j) + eps * explored
                kept = attraction[visitors[:, None], top[visitors]]
                per_slot = (1 - eps) * kept + eps * pool_attraction[visitors][:, None]
                truth = float((per_slot * examination).mean())
                estimates = {
                    "replay": replay_estimate(i, r, target_items)
                    if (target_items == i).any()
                    else np.nan,
                    "IPS": ips_estimate(r, p, q),
                    "SNIPS": snips_estimate(r, p, q),
                    "DM": direct_method_estimate(vhat),
                    "DR": doubly_robust_estimate(r, p, q, rhat(u, i, j), vhat),
                }
                for name, value in estimates.items():
                    errors[(target, name)].append((value - truth, truth))
        per_seed.append(errors)
        print(f"  off-policy evaluation, seed {seed} done", flush=True)
    rows = []
    for target in OPE_TARGETS:
        for name in ESTIMATORS:
            bias, rmse, relative = [], [], []
            for errors in per_seed:
                e = np.array(errors[(target, name)])
                bias.append(e[:, 0].mean())
                rmse.append(np.sqrt((e[:, 0] ** 2).mean()))
                relative.append((np.abs(e[:, 0]) / e[:, 1]).mean())
            rows.append(
                {
                    "target": target,
                    "target_epsilon_around_als": OPE_TARGETS[target],
                    "estimator": name,
                    "logging": f"ExploringPolicy(ALS top-{K}, epsilon={OPE_EPSILON}), one day, return rate 0.3",
                    "reward_model": "LogisticRegression(C=10) on ALS score + position one-hot",
                    "logs_per_seed": n_logs,
                    "seeds": list(seeds),
                    "bias": interval(bias),
                    "rmse": interval(rmse),
                    "relative_error": interval(relative),
                }
            )
    # Paired by seed: RMSE(DR) - RMSE(IPS) over all targets' errors pooled per seed.
    paired = []
    for errors in per_seed:
        pooled = {
            name: np.sqrt(np.mean([e[0] ** 2 for t in OPE_TARGETS for e in errors[(t, name)]]))
            for name in ("IPS", "DR")
        }
        paired.append(pooled["DR"] - pooled["IPS"])
    return rows, interval(paired)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, fewer policies (smoke test)")
    args = parser.parse_args(argv)
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4]
    young_eps = (0.0, 0.05, 0.2) if args.quick else (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
    mature_eps = (0.0, 0.05) if args.quick else (0.0, 0.02, 0.05, 0.2)
    began = time.perf_counter()

    print("toy bandit ...", flush=True)
    toy = toy_bandit(range(20 if not args.quick else 5), 2000 if not args.quick else 500)
    print("catalogue ...", flush=True)
    young = catalogue("young", seeds, young_eps, with_bandits=True)
    mature = catalogue("mature", seeds, mature_eps, with_bandits=False)
    print("off-policy evaluation ...", flush=True)
    ope_rows, dr_minus_ips = ope(seeds, 10 if args.quick else 30)

    def fmt(cell):
        return f"{cell['mean']:.1f} [{cell['low']:.1f}, {cell['high']:.1f}]"

    def fmt4(cell):
        return f"{cell['mean']:.4f} [{cell['low']:.4f}, {cell['high']:.4f}]"

    print("\nToy bandit: cumulative regret (mean [95% interval] over runs)")
    print(pd.DataFrame({r["policy"]: {"regret": fmt(r["regret"])} for r in toy}).T.to_string())
    for rows in (young, mature):
        print(
            f"\n{rows[0]['service'].capitalize()} service, {N_DAYS} days (mean [95% interval] over seeds)"
        )
        table = pd.DataFrame(
            {
                r["policy"]: {
                    "watch hours": fmt(r["watch_hours"]),
                    "vs greedy (paired)": fmt(r["watch_hours_vs_greedy"]),
                    "coverage": f"{r['coverage']['mean']:.3f}",
                    "best new found": f"{r['best_new_found']['mean']:.1f}",
                }
                for r in rows
            }
        ).T
        print(table.to_string())
    print("\nOff-policy evaluation: RMSE and bias per estimator (mean [95% interval] over seeds)")
    table = pd.DataFrame(
        {
            (r["target"], r["estimator"]): {
                "bias": fmt4(r["bias"]),
                "RMSE": fmt4(r["rmse"]),
                "relative error": f"{r['relative_error']['mean']:.3f}",
            }
            for r in ope_rows
        }
    ).T
    print(table.to_string())
    print(f"\nRMSE(DR) - RMSE(IPS), pooled over targets, paired by seed: {fmt4(dr_minus_ips)}")

    exploring = [r for r in young if r["policy"] != "ALS epsilon 0"]
    best = max(exploring, key=lambda r: r["watch_hours_vs_greedy"]["mean"])
    targets = {
        "dr_rmse_not_worse_than_ips": bool(dr_minus_ips["high"] <= 0),
        "dr_rmse_minus_ips_rmse": dr_minus_ips,
        "best_exploring_policy_young": best["policy"],
        "best_exploring_beats_greedy_young": bool(best["watch_hours_vs_greedy"]["low"] > 0),
        "best_exploring_vs_greedy_young_hours": best["watch_hours_vs_greedy"],
    }
    print("\nTargets:", json.dumps(targets, indent=1))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "exploration",
                "quick": args.quick,
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "seconds": time.perf_counter() - began,
                "toy_bandit": toy,
                "catalogue": young + mature,
                "off_policy": ope_rows,
                "targets": targets,
            },
            indent=1,
        )
    )
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
