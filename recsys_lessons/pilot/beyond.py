"""Beyond-accuracy and audit columns of the pilot report.

When the lesson 10 module ``recsys_lessons.audit`` is installed, its ``audit_report`` makes
the audit table (called as ``audit_report(recommended, train, k=k)``); otherwise, and if that
call fails, the table is made of the lesson 01 beyond-accuracy metrics of
:mod:`recsys_lessons.metrics`: catalogue coverage, novelty, Gini index of exposure and
average recommendation popularity, with the source stated in the report.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from recsys_lessons import metrics

BEYOND_ACCURACY = {
    "coverage": "share of the catalogue recommended to at least one user",
    "novelty": "mean -log2 of the popularity share of recommended items (higher = less obvious)",
    "gini": "Gini index of how often items are recommended (0 = even, 1 = one item)",
    "avg_popularity": "mean training popularity (interactions) of recommended items",
}


def beyond_accuracy(recommended: np.ndarray, train, k: int) -> dict[str, float]:
    """The four metrics of :data:`BEYOND_ACCURACY` for one model's lists."""
    counts = np.asarray(train.getnnz(axis=0), dtype=float)
    n_items = train.shape[1]
    return {
        "coverage": float(metrics.catalog_coverage(recommended, n_items, k=k)),
        "novelty": float(metrics.novelty(recommended, counts, k=k)),
        "gini": float(metrics.gini_index(recommended, n_items, k=k)),
        "avg_popularity": float(
            metrics.average_recommendation_popularity(recommended, counts, k=k)
        ),
    }


def audit_table(lists: dict[str, np.ndarray], train, k: int) -> tuple[pd.DataFrame, str]:
    """``(table, source)``: one row per model, from lesson 10's audit when available."""
    try:
        audit = importlib.import_module("recsys_lessons.audit")
        table = pd.concat(
            {name: pd.Series(audit.audit_report(rec, train, k=k)) for name, rec in lists.items()},
            axis=1,
        ).T
        return table, "recsys_lessons.audit.audit_report (lesson 10)"
    except (ImportError, AttributeError, TypeError, ValueError):
        table = pd.DataFrame(
            {name: beyond_accuracy(rec, train, k) for name, rec in lists.items()}
        ).T
        return table, "beyond-accuracy metrics of recsys_lessons.metrics (lesson 01)"
