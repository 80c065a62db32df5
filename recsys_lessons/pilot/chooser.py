"""The algorithm chooser of lesson 12: situations, the approach, the lesson, the evidence.

The evidence column is read from ``benchmarks/results/*.json`` when the table is built, never
typed in: each :class:`Evidence` names its result file, the benchmark that writes it and a
function that turns the JSON (and the equivalence margin) into one sentence. When the file
is missing (or lacks the numbers), the cell says which benchmark to run instead. Later
lessons add rows with their own benchmarks by appending to :data:`SITUATIONS`.

Two models are called equivalent only when the interval of their difference lies inside
``[-margin, margin]`` (:func:`recsys_lessons.evaluation.stats.equivalence_verdict`); an
interval that merely includes 0 is "inconclusive", never "tied, so either will do".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recsys_lessons.evaluation.stats import Interval, equivalence_verdict
from recsys_lessons.validation import check_number

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
#: The course's equivalence margin on nDCG@10 (lessons 12 and 13 pass their own parameter).
MARGIN = 0.02


@dataclass(frozen=True)
class Evidence:
    """Where a row's measured evidence comes from."""

    result_file: str | None  # e.g. "movielens_100k.json"; None: no benchmark in the course yet
    benchmark: str  # the command (or lesson) that produces it
    summarize: Callable[[dict, float], str] | None = None  # (results, margin) -> sentence


@dataclass(frozen=True)
class Situation:
    situation: str
    approach: str
    lesson: str
    evidence: Evidence


def _rows(data: dict) -> dict:
    return {row["model"]: row for row in data["rows"]}


def _ndcg(row: dict) -> str:
    low, high = row["ndcg@10_95ci_bootstrap_users"]
    return f"{row['ndcg@10']:.3f} [{low:.3f}, {high:.3f}]"


def _versus(first: str, second: str) -> Callable[[dict, float], str]:
    def summarize(data: dict, margin: float) -> str:
        rows = _rows(data)
        return (
            f"nDCG@10 on MovieLens 100K: {first} {_ndcg(rows[first])} vs {second} "
            f"{_ndcg(rows[second])} (95% bootstrap intervals over users)"
        )

    return summarize


def _catalogue_cost(data: dict, margin: float) -> str:
    rows = _rows(data)
    return (
        f"MovieLens 100K (1,682 items): EASE fits in {rows['EASE']['fit_seconds']:.1f} s, "
        f"nDCG@10 {_ndcg(rows['EASE'])}; ALS {rows['ALS']['fit_seconds']:.1f} s, "
        f"{_ndcg(rows['ALS'])}. EASE's n_items^2 memory rules it out for huge catalogues."
    )


def _best_two(data: dict, margin: float) -> str:
    best = data["best_two_difference"]
    low, high = best["95ci_paired_bootstrap_users"]
    first, second = best["models"]
    difference = best["ndcg@10_difference"]
    verdict = equivalence_verdict(Interval(difference, low, high, 0.95), margin)
    reading = {
        "equivalent": f"the interval lies inside +-{margin:g}, so choose on cost and explainability",
        "different": f"the whole interval lies beyond {margin:g}: the better one earns its cost",
        "inconclusive": (
            f"the interval reaches past +-{margin:g}: a difference that matters is not ruled "
            "out; more users or interleaving decide"
        ),
    }[verdict]
    return (
        f"{first} vs {second}: nDCG@10 difference {difference:+.4f}, paired 95% interval "
        f"[{low:+.4f}, {high:+.4f}]: {verdict} at margin {margin:g} ({reading})"
    )


def _interval(mean: float, low: float, high: float) -> str:
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def _next_item(data: dict, margin: float) -> str:
    catalogue = next(c for c in data["catalogues"] if c["dataset"] == "movielens-100k")
    rows = {row["model"]: row["ndcg@10"] for row in catalogue["rows"]}
    best = max(rows, key=lambda name: rows[name]["mean"])
    return (
        f"next item on MovieLens 100K (leave-last-out, {catalogue['users_evaluated']} users): "
        f"{best} nDCG@10 {_interval(rows[best]['mean'], *rows[best]['ci95'])} vs ALS "
        f"{_interval(rows['ALS']['mean'], *rows['ALS']['ci95'])}, which ignores the order "
        "(95% bootstrap intervals over users)"
    )


def _fairness(data: dict, margin: float) -> str:
    audit = data["movielens-100k"]
    n_seeds = len(data["protocol"]["split_seeds"])
    best = max(audit["summary"], key=lambda row: row["ndcg@10"])
    gap = "niche_minus_blockbuster_ndcg"
    calibrated = {
        row["strength"]: row for row in audit["tradeoffs"] if row["method"] == "calibrated"
    }
    plain, strong = calibrated[0.0], calibrated[0.5]

    def value(row, name):
        return _interval(row[name], row[f"{name}_low"], row[f"{name}_high"])

    return (
        f"MovieLens 100K, {n_seeds} split seeds: {best['model']}'s nDCG@10 of niche minus "
        f"blockbuster users {value(best, gap)} (a gap to track, not a cause: lesson 11); "
        f"calibrated re-ranking (strength 0.5) moves calibration KL {value(plain, 'calibration_kl')}"
        f" -> {value(strong, 'calibration_kl')} and nDCG@10 {value(plain, 'ndcg@10')} -> "
        f"{value(strong, 'ndcg@10')} (95% intervals over seeds)"
    )


def _serving(data: dict, margin: float) -> str:
    latency = data["realtime_latency"]
    return (
        f"real time: top-10 from {latency['n_items']:,} items through an ANN index and a "
        f"re-ranker, median {latency['median_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} ms per "
        f"request ({latency['requests']} requests); batch: one table lookup, computed nightly"
    )


def _retrieval(data: dict, margin: float) -> str:
    best = data["catalogues"]["clustered-cosine"]["best_at_target_recall"]
    exact = data["catalogues"]["clustered-cosine"]["exact"]["ms_per_query"]
    return (
        f"100,000 embedding-like items: exact top-10 {exact:.2f} ms/query; annoy "
        f"({best['n_trees']} trees) {best['ms_per_query']:.2f} ms/query at recall@10 "
        f"{best['recall@10']:.3f} ({best['speedup']:.1f}x faster)"
    )


ML100K = "movielens_100k.json"
RUN_ML100K = "python -m benchmarks.movielens_100k"
SITUATIONS: list[Situation] = [
    Situation(
        "no history at all (new product, new user)",
        "popularity (trending, recent), then personalize as events arrive",
        "01",
        Evidence(ML100K, RUN_ML100K, _versus("Popularity", "Random")),
    ),
    Situation(
        "metadata only (new items, no interactions yet)",
        "content-based on titles, genres, tags",
        "02, 05",
        Evidence(ML100K, RUN_ML100K, _versus("ContentBased", "Random")),
    ),
    Situation(
        "small catalogue (up to about 10,000 items), enough interactions",
        "EASE, item-kNN or ALS: compare them on your own log with the pilot kit",
        "03, 04",
        Evidence(ML100K, RUN_ML100K, _catalogue_cost),
    ),
    Situation(
        "huge catalogue (millions of items)",
        "ALS/BPR embeddings + approximate nearest-neighbour retrieval",
        "04",
        Evidence("retrieval.json", "python -m benchmarks.retrieval", _retrieval),
    ),
    Situation(
        "session-driven consumption (what next, now)",
        "sequence / session models (next-item prediction)",
        "07",
        Evidence("sequences.json", "python -m benchmarks.sequences", _next_item),
    ),
    Situation(
        'explanations required ("because you watched X")',
        "item-kNN or content-based: every score is a sum over named items",
        "02, 03",
        Evidence(ML100K, RUN_ML100K, _versus("ItemKNN", "ContentBased")),
    ),
    Situation(
        "real-time serving vs nightly batch",
        "batch: precompute top-N; real-time: embeddings + an ANN index",
        "06",
        Evidence("hybrid.json", "python -m benchmarks.hybrid", _serving),
    ),
    Situation(
        "strong popularity skew",
        "a personalized model beats the popular shelf; check coverage/novelty and re-rank",
        "01, 06, 10",
        Evidence(ML100K, RUN_ML100K, _versus("ItemKNN", "Popularity")),
    ),
    Situation(
        "two strong models tied offline",
        "equivalent within a stated margin: the cheaper, explainable one; inconclusive: "
        "interleaving or an A/B test before choosing",
        "04, 08",
        Evidence(ML100K, RUN_ML100K, _best_two),
    ),
    Situation(
        "fairness constraints (groups of users, providers)",
        "audit exposure and group metrics; constrained re-ranking",
        "10",
        Evidence("audit.json", "python -m benchmarks.audit", _fairness),
    ),
]


def evidence_text(
    evidence: Evidence, results_dir: Path = RESULTS, margin: float = MARGIN, lesson: str = ""
) -> str:
    """One sentence of measured evidence, or what to run (and which lesson to read) to get it."""
    read = f", or read lesson {lesson}" if lesson else ""
    if evidence.result_file is None:
        return f"not measured in this course version: see {evidence.benchmark}"
    path = Path(results_dir) / evidence.result_file
    if not path.is_file():
        return f"missing {evidence.result_file}: run `{evidence.benchmark}` to measure it{read}"
    try:
        return evidence.summarize(json.loads(path.read_text()), margin)
    except (KeyError, TypeError, ValueError, IndexError):
        return (
            f"{evidence.result_file} lacks the numbers this row needs: re-run "
            f"`{evidence.benchmark}`"
        )


def algorithm_chooser(results_dir=RESULTS, margin: float = MARGIN) -> pd.DataFrame:
    """The chooser table, its evidence read from ``results_dir`` now.

    ``margin`` is the nDCG@10 difference below which two models count as equivalent (the
    rows that compare two models read their interval against it).
    """
    margin = check_number(
        margin, "margin (the smallest nDCG@10 difference that matters)", low=0, low_open=True
    )
    return pd.DataFrame(
        [
            {
                "situation": row.situation,
                "recommended approach": row.approach,
                "lesson": row.lesson,
                "measured evidence": evidence_text(row.evidence, results_dir, margin, row.lesson),
            }
            for row in SITUATIONS
        ]
    ).set_index("situation")
