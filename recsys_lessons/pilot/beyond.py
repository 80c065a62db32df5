"""Beyond-accuracy and audit columns of the pilot report.

The audit table is lesson 11's :func:`recsys_lessons.responsible.audit.audit_report`, called with every
model's top-k lists for all users with training history, the test fold's held-out items
and, when the metadata file has genres, the items' genres (for the calibration column).
Its overall figures (``grouping == "all"``) become one row per model, and the nDCG gap of
niche / diverse / blockbuster users to the best of those groups (``grouping ==
"mainstream"``) three more columns.

The audit needs at least 2 test users in each of the niche / diverse / blockbuster groups
(20% / 60% / 20% of the users by the head share of their history). On a log too small for
that, the table falls back to the lesson 01 beyond-accuracy metrics of
:mod:`recsys_lessons.metrics` (coverage, novelty, Gini index, average popularity), and the
stated source says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons import metrics
from recsys_lessons.responsible import audit

BEYOND_ACCURACY = {
    "coverage": "share of the catalogue recommended to at least one user",
    "novelty": "mean -log2 of the popularity share of recommended items (higher = less obvious)",
    "gini": "Gini index of how often items are recommended (0 = even, 1 = one item)",
    "avg_popularity": "mean training popularity (interactions) of recommended items",
}

#: Descriptions of the audit table's columns (lesson 11).
AUDIT_COLUMNS = {
    "ndcg@k": "nDCG@k over the audited test users (as in the accuracy table, all users' lists)",
    "arp": "average recommendation popularity: mean training interactions of listed items",
    "aplt": "average percentage of long-tail items (outside the top 20% most popular) per list",
    "long_tail_exposure": "position-discounted share of attention going to long-tail items",
    "coverage": BEYOND_ACCURACY["coverage"],
    "gini": BEYOND_ACCURACY["gini"],
    "popularity_lift": "how much more popular the list is than the user's history (0 = same)",
    "popularity_miscalibration": "Jensen-Shannon divergence of head/tail mix, history vs list",
    "calibration_kl": "Steck's KL divergence of the genre mix, history vs list (0 = calibrated)",
    "ndcg_gap_<group>": "nDCG of niche / diverse / blockbuster users minus the best of the three",
}

#: Fewest test users a mainstream group needs for its interval and gap.
MIN_GROUP_USERS = 2


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


def genre_matrix(items: pd.DataFrame | None) -> sp.csr_matrix | None:
    """Items x genres 0/1 from the metadata's ``|``-separated genres, rows in column order.

    Items without a genre (or without metadata) get the label ``"(unknown)"``, so the
    calibration has somewhere to put their weight. ``None`` without a genres column.
    """
    if items is None or "genres" not in items:
        return None
    labels = [
        [label.strip() for label in value.split("|") if label.strip()] or ["(unknown)"]
        if isinstance(value, str)
        else ["(unknown)"]
        for value in items["genres"]
    ]
    names = sorted({label for row in labels for label in row})
    column = {name: j for j, name in enumerate(names)}
    rows = np.repeat(np.arange(len(labels)), [len(row) for row in labels])
    cols = [column[label] for row in labels for label in row]
    return sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(labels), len(names)))


def audit_table(
    lists: dict[str, np.ndarray], train, test, k: int, item_genres=None
) -> tuple[pd.DataFrame, str, pd.DataFrame | None]:
    """``(table, source, tidy)``: one row per model and where the figures come from.

    ``lists`` holds each model's top-``k`` lists for every row of ``train``; ``test`` is
    the test fold's held-out matrix. ``tidy`` is lesson 11's full table (``None`` on the
    fallback).
    """
    audited = np.flatnonzero(train.getnnz(axis=1) > 0)
    history, relevant = train[audited], test[audited]
    head = audit.head_items(history.getnnz(axis=0))
    groups = audit.mainstream_groups(history, head)
    evaluated = np.asarray(relevant.getnnz(axis=1) > 0)
    counts = {name: int((evaluated & (groups == name)).sum()) for name in audit.MAINSTREAM_GROUPS}
    if min(counts.values()) < MIN_GROUP_USERS:
        table = pd.DataFrame(
            {name: beyond_accuracy(rec[audited], history, k) for name, rec in lists.items()}
        ).T
        shown = ", ".join(f"{name} {count}" for name, count in counts.items())
        return (
            table,
            (
                "beyond-accuracy metrics of recsys_lessons.metrics (lesson 01), because the lesson "
                f"10 audit needs at least {MIN_GROUP_USERS} test users in each niche / diverse / "
                f"blockbuster group and this log has {shown}"
            ),
            None,
        )
    tidy = audit.audit_report(
        {name: rec[audited] for name, rec in lists.items()},
        history,
        relevant,
        item_genres=item_genres,
        k=k,
    )
    overall = tidy[tidy["grouping"] == "all"].pivot(index="model", columns="metric", values="value")
    overall = overall.rename(columns={f"ndcg@{k}": "ndcg@k"})
    gaps = tidy[(tidy["grouping"] == "mainstream") & (tidy["metric"] == "ndcg_gap")]
    gaps = gaps.pivot(index="model", columns="group", values="value")
    gaps = gaps[list(audit.MAINSTREAM_GROUPS)].add_prefix("ndcg_gap_")
    order = [name for name in AUDIT_COLUMNS if name in overall] + list(gaps)
    table = overall.join(gaps)[order].loc[list(lists)]
    left_out = train.shape[0] - audited.size
    source = (
        f"recsys_lessons.responsible.audit.audit_report (lesson 11) on the {audited.size:,} users with "
        "training history"
        + (f" ({left_out:,} without are left out)" if left_out else "")
        + (", genres from the item metadata" if item_genres is not None else ", no genres given")
    )
    return table, source, tidy
