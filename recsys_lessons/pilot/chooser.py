"""The algorithm chooser of lesson 11: situations, the approach, the lesson, the evidence.

The evidence column is read from ``benchmarks/results/*.json`` when the table is built, never
typed in: each :class:`Evidence` names its result file, the benchmark that writes it and a
function that turns the JSON into one sentence. When the file is missing (or lacks the
numbers), the cell says which benchmark to run instead. Later lessons add rows with their
own benchmarks by appending to :data:`SITUATIONS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


@dataclass(frozen=True)
class Evidence:
    """Where a row's measured evidence comes from."""

    result_file: str | None  # e.g. "movielens_100k.json"; None: no benchmark in the course yet
    benchmark: str  # the command (or lesson) that produces it
    summarize: Callable[[dict], str] | None = None


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


def _versus(first: str, second: str) -> Callable[[dict], str]:
    def summarize(data: dict) -> str:
        rows = _rows(data)
        return (
            f"nDCG@10 on MovieLens 100K: {first} {_ndcg(rows[first])} vs {second} "
            f"{_ndcg(rows[second])} (95% bootstrap intervals over users)"
        )

    return summarize


def _catalogue_cost(data: dict) -> str:
    rows = _rows(data)
    return (
        f"MovieLens 100K (1,682 items): EASE fits in {rows['EASE']['fit_seconds']:.1f} s, "
        f"nDCG@10 {_ndcg(rows['EASE'])}; ALS {rows['ALS']['fit_seconds']:.1f} s, "
        f"{_ndcg(rows['ALS'])}. EASE's n_items^2 memory rules it out for huge catalogues."
    )


def _best_two(data: dict) -> str:
    best = data["best_two_difference"]
    low, high = best["95ci_paired_bootstrap_users"]
    first, second = best["models"]
    return (
        f"{first} vs {second}: nDCG@10 difference {best['ndcg@10_difference']:+.4f}, paired 95% "
        f"interval [{low:+.4f}, {high:+.4f}]: a tie means choose on cost and explainability"
    )


def _retrieval(data: dict) -> str:
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
        "EASE or item-kNN; ALS when a tie",
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
        Evidence(None, "lesson 07 (sequences and sessions) and its benchmark"),
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
        "04",
        Evidence("retrieval.json", "python -m benchmarks.retrieval", _retrieval),
    ),
    Situation(
        "strong popularity skew",
        "a personalized model beats the popular shelf; check coverage/novelty and re-rank",
        "01, 06, 10",
        Evidence(ML100K, RUN_ML100K, _versus("ItemKNN", "Popularity")),
    ),
    Situation(
        "two strong models tied offline",
        "pick the cheaper, explainable one; settle with interleaving or an A/B test",
        "04, 08",
        Evidence(ML100K, RUN_ML100K, _best_two),
    ),
    Situation(
        "fairness constraints (groups of users, providers)",
        "audit exposure and group metrics; constrained re-ranking",
        "10",
        Evidence(None, "lesson 10 (bias and fairness audits) and its audit benchmark"),
    ),
]


def evidence_text(evidence: Evidence, results_dir: Path = RESULTS) -> str:
    """One sentence of measured evidence, or what to run to get it."""
    if evidence.result_file is None:
        return f"not measured in this course version: see {evidence.benchmark}"
    path = Path(results_dir) / evidence.result_file
    if not path.is_file():
        return f"missing {evidence.result_file}: run `{evidence.benchmark}` to measure it"
    try:
        return evidence.summarize(json.loads(path.read_text()))
    except (KeyError, TypeError, ValueError, IndexError):
        return (
            f"{evidence.result_file} lacks the numbers this row needs: re-run "
            f"`{evidence.benchmark}`"
        )


def algorithm_chooser(results_dir=RESULTS) -> pd.DataFrame:
    """The chooser table, its evidence read from ``results_dir`` now."""
    return pd.DataFrame(
        [
            {
                "situation": row.situation,
                "recommended approach": row.approach,
                "lesson": row.lesson,
                "measured evidence": evidence_text(row.evidence, results_dir),
            }
            for row in SITUATIONS
        ]
    ).set_index("situation")
