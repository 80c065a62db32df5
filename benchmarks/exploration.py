"""Exploration and off-policy evaluation on the simulated streaming service (lesson 10).

Three experiments, each repeated over seeds (a seed sets the catalogue, the environment and
every policy), reported as a mean with a 95% t-interval over seeds:

1. **Toy bandit.** Ten Bernoulli arms with click rates 0.10..0.60, one arm per round;
   cumulative regret of greedy, epsilon-greedy (0.1), UCB1 and Thompson sampling.
2. **Catalogue, 60 simulated days** (``OnlineEnvironment``, k = 10, return rate 0.1, so about
   100 visitors a day out of 1,000). Two learners, each greedy (epsilon 0: pure
   exploitation) and with epsilon in 0.01..0.3 of exploring slots:

   - lesson 04's **ALS**, refitted every morning on the watch history (it learns only from
     what was watched);
   - a **click-rate model**: each title's clicks per *look* (an impression at position ``j``
     counts ``1 / j``, the world's examination probability), with a Beta(1, 20) prior
     (``EpsilonGreedy(prior=, examination=)``): it learns from every impression, clicked or not.

   Also: popularity (pure exploitation of the history), Thompson sampling over titles (per
   look and per impression), ALS exploring among the 20 % least-shown titles, and LinUCB on
   metadata. Services: **young** (starts 60 days after the catalogue's first interaction:
   thin history) and **mature** (starts 90 days before its last interaction); on the young
   service also three **churn** levels (share of titles released during the simulated
   period, ``new_item_share`` 0.1, 0.3, 0.6). Measures: total watch hours, CTR, catalogue
   coverage, how many of the 10 truly best titles released during the run were clicked.
   Differences are paired by seed with the best pure exploiter of the same table (the same
   visitors meet every policy). **Selection and confirmation:** the best exploring policy
   and the best pure exploiter are picked on seeds 0-9 and compared again on fresh seeds
   10-29, so the reported gain is not the luck of the pick.
3. **Off-policy evaluation.** Logs of one day (return rate 0.3, about 3,000 impressions) from
   ALS with epsilon-greedy exploration; targets: ALS greedy, ALS + 5% / 50% exploration,
   random unwatched titles. Estimators: replay, IPS, SNIPS, DM, DR (reward model: logistic
   regression of the click on the ALS score and the position, fitted on each log; and, as a
   ceiling, DR with a perfect model: the simulator's own click chances). Truth:
   the simulator's expected clicks per slot of each target for the same visits. Two logging
   regimes: 20 % exploration (weights at most 5), and 2 % exploration (weights up to 50),
   where IPS and DR are also computed with weights clipped at 10. Bias and RMSE per
   estimator over 30 logs per seed (seeds 0-4), then the interval over seeds.

Run ``python -m benchmarks.exploration`` (about 14 minutes on 2 cores) or ``--quick``
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
from recsys_lessons.evaluation import seed_interval
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
from recsys_lessons.online import ModelPolicy, OnlineEnvironment, PopularityPolicy
from recsys_lessons.top_k import top_k_indices

RESULTS = Path(__file__).resolve().parent / "results" / "exploration.json"
K = 10
N_DAYS = 60
RETURN_RATE = 0.1
ALS_PARAMS = {"factors": 32, "regularization": 30.0, "alpha": 2.0, "iterations": 10}
RETRAIN_EVERY = 1
PRIOR = (1.0, 20.0)  # Beta prior of a title's click rate per look (mean about 5 %)
CHURN = (0.1, 0.3, 0.6)  # new_item_share of the churn comparison
LINUCB_ALPHA = 0.3
TOY_ARMS = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.60)
OPE_REGIMES = {  # logging epsilon, clipping of the weights
    "20% exploration": (0.2, None),
    "2% exploration, weights clipped at 10": (0.02, 10.0),
}
OPE_TARGETS = {"ALS greedy": 0.0, "ALS + 5%": 0.05, "ALS + 50%": 0.5, "random unwatched": 1.0}
ESTIMATORS = ("replay", "IPS", "SNIPS", "DM", "DR", "DR, perfect model")


def interval(values) -> dict:
    """Mean and 95% t-interval over seeds (:func:`recsys_lessons.evaluation.stats.seed_interval`).

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


def service(seed, kind, new_item_share=None):
    """The dataset of catalogue ``seed`` and the start date of a young or mature service."""
    options = {} if new_item_share is None else {"new_item_share": new_item_share}
    data = load_dataset("synthetic", seed=seed, **options)
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
    attraction = world.attraction_probability(items=arriving)  # clickbait included, if any
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


# Each policy: (is it pure exploitation?, description for the JSON, factory(seed, world, data, start)).
def _als(epsilon, explore="random"):
    def make(seed, world, data, start):
        model = ModelPolicy(ALS(**ALS_PARAMS, seed=seed), retrain_every=RETRAIN_EVERY)
        return ExploringPolicy(model, world.n_items, epsilon=epsilon, explore=explore, seed=seed)

    description = f"ExploringPolicy(ModelPolicy(ALS(**ALS_PARAMS), retrain_every={RETRAIN_EVERY}), epsilon={epsilon}, explore={explore!r})"
    return epsilon == 0, description, make


def _click_rate(epsilon):
    def make(seed, world, data, start):
        return EpsilonGreedy(
            world.n_items,
            epsilon=epsilon,
            prior=PRIOR,
            examination=world.examination_probability(K),
            seed=seed,
        )

    description = f"EpsilonGreedy(epsilon={epsilon}, prior={PRIOR}, examination=world.examination_probability({K}))"
    return epsilon == 0, description, make


def _thompson(per_look):
    def make(seed, world, data, start):
        examination = world.examination_probability(K) if per_look else None
        return ThompsonSampling(
            world.n_items, prior=PRIOR, n_propensity_draws=0, examination=examination, seed=seed
        )

    counting = f", examination=world.examination_probability({K})" if per_look else ""
    return False, f"ThompsonSampling(prior={PRIOR}{counting})", make


def _linucb():
    def make(seed, world, data, start):
        return LinUCB(*content_features(data, world, start), alpha=LINUCB_ALPHA)

    return (
        False,
        f"LinUCB(constant + pre-period content profile x constant + metadata, alpha={LINUCB_ALPHA})",
        make,
    )


def _popularity():
    return (
        True,
        "PopularityPolicy() (most watched so far)",
        lambda seed, world, data, start: PopularityPolicy(),
    )


def policy_set(kind, epsilons, full=True):
    """The policies run on one service, by display name."""
    policies = {"Popularity": _popularity()}
    policies.update({f"ALS, epsilon {e:g}": _als(e) for e in epsilons})
    policies.update({f"click rate, epsilon {e:g}": _click_rate(e) for e in epsilons})
    policies["Thompson, click rate per look"] = _thompson(per_look=True)
    if full:
        policies["Thompson, click rate per impression"] = _thompson(per_look=False)
        policies["ALS, epsilon 0.1, under-exposed"] = _als(0.1, explore="under_exposed")
        policies["LinUCB (metadata)"] = _linucb()
    return policies


def run_policies(kind, seeds, policies, new_item_share=None):
    """Per policy, one dict of measures per seed (same visitors for every policy of a seed)."""
    per_seed = {name: [] for name in policies}
    for seed in seeds:
        data, start = service(seed, kind, new_item_share)
        world = data.world
        best = best_new_titles(world, start)
        for name, (_, _, make) in policies.items():
            env = OnlineEnvironment(
                world,
                seed=seed,
                k=K,
                start=start,
                history=data.interactions,
                return_rate=RETURN_RATE,
            )
            began = time.perf_counter()
            log = env.run(make(seed, world, data, start), N_DAYS)
            clicked = np.unique(log.loc[log["clicked"], "item"])
            per_seed[name].append(
                {
                    "watch_hours": log["watch_seconds"].sum() / 3600,
                    "ctr": float(log["clicked"].mean()),
                    "coverage": log["item"].nunique() / world.n_items,
                    "best_new_found": int(np.isin(best, clicked).sum()),
                    "seconds": time.perf_counter() - began,
                }
            )
        print(f"  {kind} service, churn {new_item_share or 0.3}, seed {seed} done", flush=True)
    return per_seed


def summarize(kind, seeds, policies, per_seed, new_item_share=None):
    """One JSON row per policy: intervals over seeds, and paired differences to the best
    pure exploiter of this table (by mean watch hours)."""
    exploiters = [name for name, (pure, _, _) in policies.items() if pure]
    reference = max(exploiters, key=lambda n: np.mean([r["watch_hours"] for r in per_seed[n]]))
    base = [r["watch_hours"] for r in per_seed[reference]]
    rows = []
    for name, (pure, description, _) in policies.items():
        runs = per_seed[name]
        rows.append(
            {
                "service": kind,
                "new_item_share": 0.3 if new_item_share is None else new_item_share,
                "policy": name,
                "pure_exploitation": pure,
                "construction": description,
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
                "reference_exploiter": reference,
                "watch_hours_vs_reference": interval(
                    [r["watch_hours"] - b for r, b in zip(runs, base, strict=True)]
                ),
                "ctr": interval([r["ctr"] for r in runs]),
                "coverage": interval([r["coverage"] for r in runs]),
                "best_new_found": interval([r["best_new_found"] for r in runs]),
                "seconds_per_run": float(np.mean([r["seconds"] for r in runs])),
            }
        )
    return rows


def catalogue(kind, seeds, epsilons, full=True, new_item_share=None):
    policies = policy_set(kind, epsilons, full)
    per_seed = run_policies(kind, seeds, policies, new_item_share)
    return summarize(kind, seeds, policies, per_seed, new_item_share), policies


def confirm(rows, policies, seeds):
    """Re-run the best exploring policy and the best pure exploiter of ``rows`` (chosen on
    their seeds) on fresh ``seeds``: the paired difference there is free of the selection."""
    mean = {r["policy"]: r["watch_hours"]["mean"] for r in rows}
    exploring = max((r["policy"] for r in rows if not r["pure_exploitation"]), key=mean.get)
    exploiter = max((r["policy"] for r in rows if r["pure_exploitation"]), key=mean.get)
    chosen = {name: policies[name] for name in (exploiter, exploring)}
    per_seed = run_policies(rows[0]["service"], seeds, chosen)
    hours = {name: [r["watch_hours"] for r in per_seed[name]] for name in chosen}
    difference = [e - x for e, x in zip(hours[exploring], hours[exploiter], strict=True)]
    return {
        "chosen_on_seeds": rows[0]["seeds"],
        "confirmed_on_seeds": list(seeds),
        "best_exploring": exploring,
        "best_pure_exploitation": exploiter,
        "exploring_watch_hours": interval(hours[exploring]),
        "exploitation_watch_hours": interval(hours[exploiter]),
        "difference_hours": interval(difference),
        "relative_gain": interval(
            [d / x for d, x in zip(difference, hours[exploiter], strict=True)]
        ),
    }


# --------------------------------------------------------------------------------------
# 3. Off-policy evaluation
# --------------------------------------------------------------------------------------


def ope(seeds, n_logs, logging_epsilon, max_weight=None):
    """Bias and RMSE of each estimator over ``n_logs`` logs per seed, for logs of ALS with
    ``logging_epsilon`` exploration; with ``max_weight``, clipped IPS and DR too.

    Returns the rows and, paired by seed, RMSE(DR) - RMSE(IPS) pooled over targets (and the
    same for the clipped pair)."""
    estimators = ESTIMATORS + (("IPS clipped", "DR clipped") if max_weight else ())
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
        attraction = world.attraction_probability()
        examination = world.examination_probability(K)
        pool_attraction = (
            np.where(blocked, 0.0, attraction).sum(axis=1)
            - np.take_along_axis(attraction, top, axis=1).sum(axis=1)
        ) / pool_size
        errors = {(t, e): [] for t in OPE_TARGETS for e in estimators}
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
                epsilon=logging_epsilon,
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
                true_slot = (1 - eps) * attraction[u, planned] + eps * pool_attraction[u]
                estimates = {
                    "replay": replay_estimate(i, r, target_items)
                    if (target_items == i).any()
                    else np.nan,
                    "IPS": ips_estimate(r, p, q),
                    "SNIPS": snips_estimate(r, p, q),
                    "DM": direct_method_estimate(vhat),
                    "DR": doubly_robust_estimate(r, p, q, rhat(u, i, j), vhat),
                    # The best any reward model could do: the simulator's own click chances.
                    "DR, perfect model": doubly_robust_estimate(
                        r, p, q, log["click_probability"].to_numpy(), true_slot * examination[j - 1]
                    ),
                }
                if max_weight:
                    estimates["IPS clipped"] = ips_estimate(r, p, q, max_weight=max_weight)
                    estimates["DR clipped"] = doubly_robust_estimate(
                        r, p, q, rhat(u, i, j), vhat, max_weight=max_weight
                    )
                for name, value in estimates.items():
                    errors[(target, name)].append((value - truth, truth))
        per_seed.append(errors)
        print(
            f"  off-policy evaluation (logging epsilon {logging_epsilon}), seed {seed} done",
            flush=True,
        )
    rows = []
    for target in OPE_TARGETS:
        for name in estimators:
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
                    "logging": f"ExploringPolicy(ALS top-{K}, epsilon={logging_epsilon}), one day, return rate 0.3",
                    "max_weight": max_weight if name.endswith("clipped") else None,
                    "reward_model": "LogisticRegression(C=10) on ALS score + position one-hot",
                    "logs_per_seed": n_logs,
                    "seeds": list(seeds),
                    "bias": interval(bias),
                    "rmse": interval(rmse),
                    "relative_error": interval(relative),
                }
            )

    # Paired by seed: RMSE(DR) - RMSE(IPS) over all targets' errors pooled per seed.
    def pooled_rmse(errors, name):
        return np.sqrt(np.mean([e[0] ** 2 for t in OPE_TARGETS for e in errors[(t, name)]]))

    pairs = [("DR", "IPS"), ("DR, perfect model", "IPS")]
    pairs += [("DR clipped", "IPS clipped")] if max_weight else []
    paired = {
        f"{a} - {b}": {
            "rmse": {
                a: interval([pooled_rmse(errors, a) for errors in per_seed]),
                b: interval([pooled_rmse(errors, b) for errors in per_seed]),
            },
            "difference": interval(
                [pooled_rmse(errors, a) - pooled_rmse(errors, b) for errors in per_seed]
            ),
        }
        for a, b in pairs
    }
    return rows, paired


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, fewer policies (smoke test)")
    args = parser.parse_args(argv)
    quick = args.quick
    seeds = [0, 1] if quick else list(range(10))
    confirm_seeds = [2, 3] if quick else list(range(10, 30))
    young_eps = (0.0, 0.05, 0.2) if quick else (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
    mature_eps = (0.0, 0.05) if quick else (0.0, 0.02, 0.05, 0.2)
    churn_eps = (0.0, 0.05) if quick else (0.0, 0.02, 0.05, 0.1, 0.2)
    began = time.perf_counter()

    print("toy bandit ...", flush=True)
    toy = toy_bandit(range(20 if not quick else 5), 2000 if not quick else 500)
    print("catalogue ...", flush=True)
    young, young_policies = catalogue("young", seeds, young_eps)
    confirmation = confirm(young, young_policies, confirm_seeds)
    mature, _ = catalogue("mature", seeds, mature_eps, full=False)
    churn = []
    for share in CHURN:
        churn += catalogue("young", seeds, churn_eps, full=False, new_item_share=share)[0]
    print("off-policy evaluation ...", flush=True)
    ope_rows, ope_paired = [], {}
    for regime, (logging_epsilon, max_weight) in OPE_REGIMES.items():
        rows, paired = ope(seeds[:5], 10 if quick else 30, logging_epsilon, max_weight)
        ope_rows += [{"regime": regime, **row} for row in rows]
        ope_paired[regime] = paired

    def fmt(cell):
        return f"{cell['mean']:.1f} [{cell['low']:.1f}, {cell['high']:.1f}]"

    def fmt4(cell):
        return f"{cell['mean']:.4f} [{cell['low']:.4f}, {cell['high']:.4f}]"

    print("\nToy bandit: cumulative regret (mean [95% interval] over runs)")
    print(pd.DataFrame({r["policy"]: {"regret": fmt(r["regret"])} for r in toy}).T.to_string())
    for title, rows in (("Young service", young), ("Mature service", mature)):
        print(f"\n{title}, {N_DAYS} days (mean [95% interval] over seeds)")
        print(catalogue_table(rows, fmt).to_string())
    print("\nChurn (young service): watch hours vs the best pure exploiter, paired")
    print(
        pd.DataFrame(
            [
                {
                    "policy": r["policy"],
                    "churn": f"new titles {r['new_item_share']:g}",
                    "cell": fmt(r["watch_hours_vs_reference"]),
                }
                for r in churn
            ]
        )
        .pivot(index="policy", columns="churn", values="cell")
        .to_string()
    )
    print("\nConfirmation on fresh seeds:", json.dumps(confirmation, indent=1))
    for regime in OPE_REGIMES:
        print(
            f"\nOff-policy evaluation, logging with {regime}: RMSE and bias (mean [95% interval] over seeds)"
        )
        table = pd.DataFrame(
            {
                (r["target"], r["estimator"]): {
                    "bias": fmt4(r["bias"]),
                    "RMSE": fmt4(r["rmse"]),
                    "relative error": f"{r['relative_error']['mean']:.3f}",
                }
                for r in ope_rows
                if r["regime"] == regime
            }
        ).T
        print(table.to_string())
        for pair, cell in ope_paired[regime].items():
            print(
                f"RMSE({pair.replace(' - ', ') - RMSE(')}), pooled over targets, paired by seed: {fmt4(cell['difference'])}"
            )

    standard, clipped = (ope_paired[regime] for regime in OPE_REGIMES)
    gain = confirmation["difference_hours"]
    targets = {
        "best_exploring_policy_young": confirmation["best_exploring"],
        "best_pure_exploitation_young": confirmation["best_pure_exploitation"],
        "best_exploring_beats_pure_exploitation_on_fresh_seeds": bool(gain["low"] > 0),
        "exploring_minus_exploitation_hours_fresh_seeds": gain,
        "unpaired_intervals_do_not_overlap": bool(
            confirmation["exploring_watch_hours"]["low"]
            > confirmation["exploitation_watch_hours"]["high"]
        ),
        "dr_minus_ips_rmse_20pct_logging": standard["DR - IPS"]["difference"],
        "dr_not_worse_than_ips_20pct_logging": bool(
            standard["DR - IPS"]["difference"]["high"] <= 0
        ),
        "perfect_model_dr_minus_ips_rmse_20pct_logging": standard["DR, perfect model - IPS"][
            "difference"
        ],
        "dr_minus_ips_rmse_clipped_2pct_logging": clipped["DR clipped - IPS clipped"]["difference"],
        "dr_better_than_ips_clipped_2pct_logging": bool(
            clipped["DR clipped - IPS clipped"]["difference"]["high"] < 0
        ),
    }
    print("\nTargets:", json.dumps(targets, indent=1))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "exploration",
                "quick": quick,
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "seconds": time.perf_counter() - began,
                "toy_bandit": toy,
                "catalogue": young + mature,
                "churn": churn,
                "confirmation": confirmation,
                "off_policy": ope_rows,
                "off_policy_paired": ope_paired,
                "targets": targets,
            },
            indent=1,
        )
    )
    print(f"wrote {RESULTS}")
    return 0


def catalogue_table(rows, fmt):
    return pd.DataFrame(
        {
            r["policy"]: {
                "watch hours": fmt(r["watch_hours"]),
                f"vs {r['reference_exploiter']} (paired)": fmt(r["watch_hours_vs_reference"]),
                "CTR": f"{r['ctr']['mean']:.4f}",
                "coverage": f"{r['coverage']['mean']:.3f}",
                "best new found": f"{r['best_new_found']['mean']:.1f}",
            }
            for r in rows
        }
    ).T


if __name__ == "__main__":
    raise SystemExit(main())
