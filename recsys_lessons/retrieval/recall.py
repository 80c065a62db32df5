"""How good and how fast is an approximate index? Recall@k against exact search, and speed.

``recall@k`` is the share of the exact top-k that the approximate search finds; speed is
queries per second, one query per call as a real-time service sees it, with the exact search
timed in the same process so that the speed-up is a ratio of two measurements taken side by
side. :func:`recall_speed_sweep` walks annoy's two knobs (``n_trees``, ``search_k``).

Lesson 04 (``notebooks/04_matrix_factorization.ipynb``) draws the recall-vs-latency curve;
``benchmarks/retrieval.py`` runs it on 100,000 items.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from recsys_lessons.retrieval.indexes import (
    ApproximateIndex,
    ExactIndex,
    as_vectors,
    check_search_k,
)
from recsys_lessons.validation import check_positive_int

__all__ = ["measure_recall", "recall_speed_sweep", "retrieval_recall"]


def retrieval_recall(approximate_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean share of the exact top-k found by the approximate search.

    ``recall@k = mean over queries of |approx_top_k & exact_top_k| / k``; both arrays have
    shape ``(n_queries, k)`` (padding ids ``-1`` never count as found).
    """
    approximate_ids, exact_ids = np.asarray(approximate_ids), np.asarray(exact_ids)
    for name, ids in (("approximate_ids", approximate_ids), ("exact_ids", exact_ids)):
        if ids.ndim != 2:
            raise ValueError(
                f"{name} must be a 2-D array of shape (n_queries, k); got shape {ids.shape}. "
                "For a single query wrap its ids in a list: [ids] (or ids[None, :])."
            )
    if approximate_ids.shape != exact_ids.shape:
        raise ValueError(
            f"approximate and exact ids must have the same shape; got {approximate_ids.shape} and "
            f"{exact_ids.shape}."
        )
    hits = (approximate_ids[:, :, None] == exact_ids[:, None, :]).any(axis=2) & (
        approximate_ids >= 0
    )
    return float(hits.mean())


def measure_recall(
    approximate: ApproximateIndex, exact: ExactIndex, queries, k: int = 10, repeat: int = 1
) -> dict:
    """Recall@k of ``approximate`` against ``exact`` and the speed of both, in one run.

    Speed is measured the way a real-time service sees it: one query per call, wall-clock
    time over all queries (the best of ``repeat`` passes, to damp noise from other
    processes), on whatever threads numpy and annoy use (limit BLAS threads with
    ``threadpoolctl`` for a single-core comparison).

    Returns
    -------
    dict
        ``recall@k``, ``approx_qps`` and ``exact_qps`` (queries per second, one at a time),
        ``speedup`` (= approx_qps / exact_qps) and ``search_k`` (the effective value).
    """
    queries = as_vectors(queries, "queries")
    exact_ids, exact_seconds = _one_query_at_a_time(exact, queries, k, repeat)
    return _compare(approximate, queries, k, repeat, exact_ids, exact_seconds)


def recall_speed_sweep(
    vectors,
    queries,
    k: int = 10,
    n_trees=(10, 50, 100),
    search_k=(1000, 10000),
    metric: str = "dot",
    seed: int = 42,
    repeat: int = 1,
) -> pd.DataFrame:
    """Recall@k and speed of annoy against exact search over a grid of settings.

    Builds one :class:`ApproximateIndex` per ``n_trees`` value (timing the build) and
    queries it with every ``search_k`` value (``-1`` = annoy's default); the exact search
    runs once, in the same process, and every row's speed-up is relative to it (see
    :func:`measure_recall`).

    Returns
    -------
    pandas.DataFrame
        One row per (n_trees, search_k): ``n_trees``, ``search_k`` (effective),
        ``recall@k``, ``approx_qps``, ``exact_qps``, ``speedup``, ``build_seconds``, plus
        ``exact_batch_qps``, the exact search's throughput when all queries are scored in
        batched matrix products (the batch-serving case).
    """
    vectors = as_vectors(vectors, "vectors")
    queries = as_vectors(queries, "queries")
    for value in search_k:  # before any index is built: fail fast, not after minutes
        check_search_k(value)
    exact = ExactIndex(metric=metric).build(vectors)
    exact_ids, exact_seconds = _one_query_at_a_time(exact, queries, k, repeat)
    exact_batch_seconds = min(_seconds(exact.query, queries, k) for _ in range(repeat))
    rows = []
    for trees in n_trees:
        start = time.perf_counter()
        approximate = ApproximateIndex(n_trees=trees, metric=metric, seed=seed).build(vectors)
        build_seconds = time.perf_counter() - start
        for candidates in search_k:
            approximate.search_k = candidates
            result = _compare(approximate, queries, k, repeat, exact_ids, exact_seconds)
            rows.append(
                {
                    "n_trees": trees,
                    **result,
                    "build_seconds": build_seconds,
                    "exact_batch_qps": len(queries) / exact_batch_seconds,
                }
            )
    columns = [
        "n_trees",
        "search_k",
        f"recall@{k}",
        "approx_qps",
        "exact_qps",
        "speedup",
        "build_seconds",
        "exact_batch_qps",
    ]
    return pd.DataFrame(rows, columns=columns)


def _compare(approximate, queries, k, repeat, exact_ids, exact_seconds) -> dict:
    approximate_ids, approximate_seconds = _one_query_at_a_time(approximate, queries, k, repeat)
    approx_qps, exact_qps = len(queries) / approximate_seconds, len(queries) / exact_seconds
    return {
        f"recall@{k}": retrieval_recall(approximate_ids, exact_ids),
        "approx_qps": approx_qps,
        "exact_qps": exact_qps,
        "speedup": approx_qps / exact_qps,
        "search_k": approximate.search_k if approximate.search_k != -1 else approximate.n_trees * k,
    }


def _one_query_at_a_time(
    index, queries: np.ndarray, k: int, repeat: int
) -> tuple[np.ndarray, float]:
    """Ids found with one ``query`` call per query vector, and the best time of ``repeat`` passes."""
    check_positive_int(repeat, "repeat", "timed passes")
    ids = np.empty((len(queries), k), dtype=np.int64)

    def one_pass():
        for row in range(len(queries)):
            ids[row] = index.query(queries[row : row + 1], k)[0][0]

    return ids, min(_seconds(one_pass) for _ in range(repeat))


def _seconds(function, *arguments) -> float:
    start = time.perf_counter()
    function(*arguments)
    return time.perf_counter() - start
