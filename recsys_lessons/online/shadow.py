"""Shadow mode: run a candidate policy on live requests without showing its lists (lesson 09)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from recsys_lessons.online.policies import PolicyWrapper

__all__ = ["ShadowPolicy"]


class ShadowPolicy(PolicyWrapper):
    """Serve ``production``; run ``candidate`` on the same requests without showing it.

    For each request the candidate's list, its latency and any error are recorded in
    :attr:`shadow_log` (``day``, ``user``, ``overlap`` = shared items / k, ``latency_ms``
    of the candidate's call for the day's batch of requests, ``error``: "" or the
    exception of that user's request), and :attr:`candidate_items` keeps its lists (``-1``
    where it failed). Nobody sees the candidate's items, so shadow mode measures agreement,
    speed and robustness, never clicks (lesson 10 estimates those off-policy).

    Parameters
    ----------
    production, candidate : policy, Recommender or function
        See :func:`~recsys_lessons.online.policies.as_policy`.
    """

    def __init__(self, production, candidate) -> None:
        super().__init__(production, candidate)
        self.production, self.candidate = self.policies
        self._rows: list[pd.DataFrame] = []
        self.candidate_items: list[np.ndarray] = []

    def make_slate(self, users, k):
        shown = self.production.recommend(users, k)
        begin = time.perf_counter()
        candidate, error = self._candidate_lists(users, k)
        latency = (time.perf_counter() - begin) * 1000.0
        overlap = (shown.items[:, :, None] == candidate[:, None, :]).any(axis=2).mean(axis=1)
        self.candidate_items.append(candidate)
        self._rows.append(
            pd.DataFrame(
                {
                    "day": self.current_context().day,
                    "user": users,
                    "overlap": overlap,
                    "latency_ms": latency,
                    "error": error,
                }
            )
        )
        return shown

    def _candidate_lists(self, users, k):
        """The candidate's lists and an error message per user ("" when it answered).

        One call for the whole batch; if it fails, one call per user, so a bug that hits
        some users is logged for those users only.
        """
        try:
            return self.candidate.recommend(users, k).items, np.full(len(users), "", dtype=object)
        except Exception:  # shadow mode exists to catch failures without harming users
            lists = np.full((len(users), k), -1)
            errors = np.full(len(users), "", dtype=object)
            for row in range(len(users)):
                try:
                    lists[row] = self.candidate.recommend(users[row : row + 1], k).items[0]
                except Exception as exc:
                    errors[row] = f"{type(exc).__name__}: {exc}"
            return lists, errors

    @property
    def shadow_log(self) -> pd.DataFrame:
        if not self._rows:
            return pd.DataFrame(columns=["day", "user", "overlap", "latency_ms", "error"])
        return pd.concat(self._rows, ignore_index=True)
