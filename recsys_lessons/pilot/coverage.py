"""``recommendations.csv`` for every user of the log, each row saying which model made it.

The chosen model, refitted on the whole log (``protocol.full``), ranks the unseen items of
every user it can score. Everybody else still gets a list, from a popularity fallback:

- users below ``--min-user-count`` (their rows are empty in ``protocol.full``, so the model
  knows nothing of them) get the most popular items they have not interacted with;
- a user for whom the model returns fewer than ``top_n`` finite scores (content-based for
  a user whose items have no metadata, say) keeps the model's items and gets the rest of the
  list from the fallback;
- one **default** list, written with an empty ``user_id`` and source ``"default"``, serves
  users the log has never seen: the ``top_n`` most popular items.

Popularity is the number of users who interacted with an item in ``protocol.full``
(lesson 01's :class:`~recsys_lessons.models.Popularity`); "unseen" uses every event of the
log (``protocol.seen``), the ones the minimum counts left out of training included.
The ``source`` column holds the chosen model's name, ``"popularity fallback"`` or
``"default"``; the ``score`` column holds the producing model's score (for the fallback and
the default list: the item's number of users).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.pilot.models import rank
from recsys_lessons.top_k import top_k_indices

FALLBACK = "popularity fallback"
DEFAULT = "default"
#: ``user_id`` of the default list (for users the log has never seen).
DEFAULT_USER_ID = ""
#: Users ranked per block by the fallback (bounds the dense users x items score block).
BLOCK_USERS = 256


def covering_recommendations(model, source: str, protocol, top_n: int):
    """``(frame, coverage)``: top-``top_n`` lists for every user and the default list.

    Parameters
    ----------
    model : Recommender
        The chosen model, unfitted; fitted here on ``protocol.full``.
    source : str
        Its row name, written in the ``source`` column of its rows.
    protocol : Protocol
        Gives ``full`` (training matrix of the refit), ``seen`` (every event of the log in
        the same rows and columns), ``user_ids`` and ``item_ids``.
    top_n : int
        Length of each list (at most the number of items).

    Returns
    -------
    (pandas.DataFrame, dict)
        Columns ``user_id, rank, item_id, score, source``; ``coverage`` counts the users per
        source (``by_source``: the model alone, the fallback alone, or both) and says why the
        fallback was needed.
    """
    full, seen = protocol.full, protocol.seen
    n = min(top_n, full.shape[1])
    popularity = np.asarray(full.getnnz(axis=0), dtype=float)
    has_history = np.diff(full.indptr) > 0
    scored = np.flatnonzero(has_history)
    blocks = []
    if scored.size:
        model.fit(full)
        items, scores = rank(model, scored, n)
        finite = np.isfinite(scores)
        rows, ranks = np.nonzero(finite)
        blocks.append(
            _rows(scored[rows], ranks + 1, items[rows, ranks], scores[rows, ranks], source)
        )
        for row in np.flatnonzero(finite.sum(axis=1) < n):  # rare: users the model cannot fill
            taken = items[row][finite[row]]
            blocks.append(_fallback(popularity, seen, scored[row : row + 1], n - taken.size, taken))
    unscored = np.flatnonzero(~has_history)
    for start in range(0, unscored.size, BLOCK_USERS):
        blocks.append(_fallback(popularity, seen, unscored[start : start + BLOCK_USERS], n))
    frame = pd.concat(blocks, ignore_index=True) if blocks else _rows([], [], [], [], source)
    frame = frame.sort_values(["user", "rank"], kind="stable")
    default = top_k_indices(popularity[None, :], n)[0]
    frame = pd.concat(
        [frame, _rows(np.full(n, -1), np.arange(1, n + 1), default, popularity[default], DEFAULT)],
        ignore_index=True,
    )
    user_ids = np.append(protocol.user_ids.to_numpy().astype(object), DEFAULT_USER_ID)
    out = pd.DataFrame(
        {
            "user_id": user_ids[frame["user"].to_numpy()],
            "rank": frame["rank"].to_numpy(),
            "item_id": protocol.item_ids.to_numpy()[frame["item"].to_numpy()],
            "score": frame["score"].to_numpy(),
            "source": frame["source"].to_numpy(),
        }
    )
    return out, _coverage(frame, source, has_history, n)


def coverage_sentence(coverage: dict) -> str:
    """One plain sentence: how many users got each kind of list."""
    parts = [f"{users:,} from {name}" for name, users in coverage["by_source"].items() if users]
    return (
        f"recommendations.csv covers all {coverage['users']:,} users of the log "
        f"({'; '.join(parts) or 'none'}), plus a default list of the {coverage['default_list']} "
        f'most popular items (empty user_id, source "{DEFAULT}") for users it has never seen.'
    )


def _fallback(popularity, seen, users, n, taken=()) -> pd.DataFrame:
    """Rows of the most popular items each of ``users`` has not seen (nor been given), ranked
    after the ``taken`` items; fewer than ``n`` when fewer are left."""
    scores = np.repeat(popularity[None, :], len(users), axis=0)
    block = sp.csr_matrix(seen[users])
    scores[np.repeat(np.arange(len(users)), np.diff(block.indptr)), block.indices] = -np.inf
    scores[:, np.asarray(taken, dtype=int)] = -np.inf
    top = top_k_indices(scores, n)
    valid = np.isfinite(np.take_along_axis(scores, top, axis=1))
    rows, ranks = np.nonzero(valid)
    item = top[rows, ranks]
    return _rows(users[rows], ranks + 1 + len(taken), item, popularity[item], FALLBACK)


def _rows(user, rank, item, score, source) -> pd.DataFrame:
    return pd.DataFrame(
        {"user": np.asarray(user, dtype=int), "rank": np.asarray(rank, dtype=int),
         "item": np.asarray(item, dtype=int), "score": np.asarray(score, dtype=float),
         "source": source}
    )  # fmt: skip


def _coverage(frame: pd.DataFrame, source, has_history, n) -> dict:
    lists = frame[frame["source"] != DEFAULT]
    flags = (
        pd.DataFrame(
            {
                "user": lists["user"].to_numpy(),
                "model": lists["source"].eq(source).to_numpy(),
                "fallback": lists["source"].eq(FALLBACK).to_numpy(),
            }
        )
        .groupby("user")
        .any()
    )
    model, fallback = flags["model"].to_numpy(), flags["fallback"].to_numpy()
    return {
        "users": int(has_history.size),
        "model": source,
        "by_source": {
            source: int((model & ~fallback).sum()),
            FALLBACK: int((~model & fallback).sum()),
            f"{source} + {FALLBACK}": int((model & fallback).sum()),
        },
        "below_min_user_count": int((~has_history).sum()),
        "no_list": int(has_history.size - len(flags)),
        "default_list": n,
        "default_user_id": DEFAULT_USER_ID,
    }
