"""Train/test splits of an interactions frame: random, stratified, temporal, leave-last-out.

How you hold data out decides what an offline score means:

- :func:`random_split` answers "can the model fill in missing ratings?" but lets the model
  train on the future;
- :func:`stratified_split` keeps every user (or item) in both sides in the same proportion,
  so no one is scored on a history much shorter than everyone else's;
- :func:`temporal_split` cuts once in time, as a deployed system lives: train on the past,
  test on what happened next;
- :func:`leave_last_out` holds out each user's most recent events, the classic protocol
  for next-item and session recommenders;
- :func:`cold_item_split` (at random, or the newest items by release time) and
  :func:`cold_user_split` hold out whole items or users, so the
  test is truly unseen: the cold start of lesson 05 (``notebooks/05_cold_start.ipynb``).

Every function takes a frame with ``user_id``, ``item_id`` (and ``timestamp`` where time
matters) and returns ``(train, test)`` (``cold_user_split`` also returns the held-out users'
onboarding events, as ``(train, onboarding, test)``): frames holding every input row exactly once,
each keeping the input's row order and index, so a row can be traced back. The ratio
splits all take ``test_ratio``, the share held out for testing (default 0.25). Lesson 01
(``notebooks/01_baselines_and_evaluation.ipynb``) compares them.

Every function refuses, with a ``ValueError`` that says what to do, a split that leaves the
train or the test side empty (too few rows per user for the ratio, every user with at most
``n`` events...) and a seed that is not a whole number >= 0.

Repeated (user, item) pairs: :func:`random_split` and :func:`stratified_split` refuse them,
since the copies could land on both sides and the test set would hold interactions the
model trained on (leakage). Keep one row per pair first, e.g.
``interactions.drop_duplicates(["user_id", "item_id"], keep="last")`` (the row
:func:`recsys_lessons.data.matrix.interaction_matrix` would keep), or aggregate them. The
time-based :func:`temporal_split` and :func:`leave_last_out` accept them: there each row is
an event at its own time (a repeat purchase, a second viewing), and a repeat after the cut
is a genuine future event. Note that ``recommend(exclude_seen=True)`` can never hit a test
item the user already has in train, so :func:`recsys_lessons.evaluation.harness.evaluate` refuses
such overlaps: drop them from the test side if you evaluate on repeat data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from recsys_lessons.validation import (
    check_interactions_frame,
    check_non_negative_int,
    check_positive_int,
    check_ratio,
    check_seed,
    check_timestamps,
)

_GROUP_COLUMNS = {"user": "user_id", "item": "item_id"}


def random_split(
    interactions: pd.DataFrame, test_ratio: float = 0.25, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a uniformly random share of all rows.

    ``n_test = round(test_ratio * n)`` rows, drawn without replacement by a permutation
    from ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    interactions : pandas.DataFrame
        Needs ``user_id`` and ``item_id``, one row per (user, item) pair.
    test_ratio : float
        Share of rows in the test set, strictly between 0 and 1 (default 0.25).
    seed : int
        Seed of the random permutation (a whole number >= 0): the same seed gives the same
        split.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``(train, test)``.
    """
    check_interactions_frame(interactions, ("user_id", "item_id"), unique_pairs=True)
    check_ratio(test_ratio, "test_ratio")
    check_seed(seed)
    n = len(interactions)
    n_test = round(test_ratio * n)
    if not 0 < n_test < n:
        raise ValueError(
            f"test_ratio={test_ratio} of {n} rows gives {n_test} test rows; both sides need "
            "at least one row. Use more data or a ratio nearer 0.5."
        )
    in_test = np.zeros(n, dtype=bool)
    in_test[np.random.default_rng(seed).permutation(n)[:n_test]] = True
    return _split(interactions, in_test)


def stratified_split(
    interactions: pd.DataFrame,
    by: str = "user",
    *,
    test_ratio: float = 0.25,
    seed: int = 42,
    ratio: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out the share ``test_ratio`` of every user's (or item's) rows, chosen at random.

    Each group of ``n`` rows keeps ``round((1 - test_ratio) * n)`` of them in train
    (Python's ``round``: halves go to the even number, so 0.75 * 2 = 1.5 keeps 2) and the
    rest go to test; a user with a single row stays in train whenever ``test_ratio <= 0.5``.

    The rows kept are chosen as in Microsoft Recommenders' ``python_stratified_split``
    (whose ``ratio`` is the train share, ``1 - test_ratio``): every row draws a uniform key
    from ``numpy.random.RandomState(seed)`` (the same numbers as their
    ``np.random.seed(seed); np.random.rand(n)``), rows are ordered by key within their
    group, and the first rows in that order go to train. One difference: they keep the rows
    whose position / n <= 1 - test_ratio, i.e. ``floor((1 - test_ratio) * n)`` per group,
    where this function keeps ``round((1 - test_ratio) * n)``. With the same seed and row
    order, their train set is therefore contained in ours and equal to it in every group
    where ``(1 - test_ratio) * n`` does not round up (for example whenever it is a whole
    number).

    Parameters
    ----------
    interactions : pandas.DataFrame
        Needs ``user_id`` and ``item_id``, one row per (user, item) pair.
    by : {"user", "item"}
        Stratify per user (default: every user appears in test in proportion) or per item.
    test_ratio : float, keyword-only
        Share of each group held out for testing, strictly between 0 and 1 (default 0.25),
        as in :func:`random_split` and :func:`temporal_split`.
    seed : int, keyword-only
        Seed of the random keys (a whole number >= 0): the same seed gives the same split.
    ratio : float, optional, deprecated
        The old keyword: the share kept in TRAIN, i.e. ``1 - test_ratio``. Still accepted
        (the split is the same) with a ``DeprecationWarning``; pass ``test_ratio`` instead.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``(train, test)``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"user_id": [1, 1, 1, 1, 2, 2, 2, 2], "item_id": [1, 2, 3, 4] * 2})
    >>> train, test = stratified_split(frame, test_ratio=0.25, seed=42)
    >>> len(train), len(test)
    (6, 2)
    >>> test["user_id"].value_counts().sort_index().to_dict()  # one of each user's four rows
    {1: 1, 2: 1}
    """
    if ratio is not None:
        if test_ratio != 0.25:
            raise ValueError(
                f"pass test_ratio (the share held out) or the deprecated ratio (the share kept "
                f"in train), not both; got test_ratio={test_ratio!r} and ratio={ratio!r}."
            )
        check_ratio(ratio, "ratio")
        warnings.warn(
            f"stratified_split(ratio={ratio!r}) is deprecated: ratio was the share kept in "
            f"TRAIN, while every split now takes test_ratio, the share held out. Write "
            f"stratified_split(..., test_ratio={1 - ratio:.10g}) (test_ratio = 1 - ratio); "
            "the split is the same.",
            DeprecationWarning,
            stacklevel=2,
        )
    if by not in _GROUP_COLUMNS:
        raise ValueError(f"by must be 'user' or 'item', not {by!r}.")
    check_interactions_frame(interactions, ("user_id", "item_id"), unique_pairs=True)
    if ratio is None:
        check_ratio(test_ratio, "test_ratio")
    check_seed(seed)
    train_share = ratio if ratio is not None else 1 - test_ratio
    groups = pd.factorize(interactions[_GROUP_COLUMNS[by]])[0]
    keys = np.random.RandomState(seed).random_sample(len(interactions))
    order = np.lexsort((keys, groups))
    group_sizes = np.bincount(groups)
    sorted_groups = groups[order]
    group_starts = np.concatenate(([0], np.cumsum(group_sizes)[:-1]))
    position_in_group = np.arange(len(order)) - group_starts[sorted_groups]
    n_train = np.rint(train_share * group_sizes)
    in_test = np.empty(len(order), dtype=bool)
    in_test[order] = position_in_group >= n_train[sorted_groups]
    _check_sides(
        in_test,
        f"test_ratio={1 - train_share:.10g} per {by} (each {by} with n rows keeps "
        f"round({train_share:.10g} * n) in train; the largest {by} has {group_sizes.max()} rows)",
        f"choose test_ratio nearer 0.5, use random_split, or give each {by} more rows",
    )
    return _split(interactions, in_test)


def temporal_split(
    interactions: pd.DataFrame, test_ratio: float = 0.25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cut once in time: everything before the cut trains, everything from it on tests.

    The cut is the timestamp of the event at position ``n - round(test_ratio * n)`` in
    time order (at least one test event). Test holds every event at or after the cut, so
    every training event is strictly earlier than every test event. Events sharing the cut
    timestamp all go to test, which can make the test share slightly larger than asked.

    Parameters
    ----------
    interactions : pandas.DataFrame
        Needs ``user_id``, ``item_id`` and ``timestamp`` (datetime or numeric).
    test_ratio : float
        Share of events after the cut, strictly between 0 and 1 (default 0.25).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``(train, test)``; users and items first seen after the cut appear only in test
        (the cold-start cases a deployed system faces).
    """
    check_interactions_frame(interactions, ("user_id", "item_id", "timestamp"))
    check_ratio(test_ratio, "test_ratio")
    timestamps = check_timestamps(interactions)
    n = len(timestamps)
    n_test = max(1, round(test_ratio * n))
    cut = np.partition(timestamps, n - n_test)[n - n_test]
    in_test = timestamps >= cut
    if in_test.all():
        raise ValueError(
            "every event is at or after the cut time, so train would be empty: the "
            "timestamps are too coarse (or too few) to cut here; lower test_ratio."
        )
    return _split(interactions, in_test)


def leave_last_out(interactions: pd.DataFrame, n: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each user's ``n`` most recent events.

    Events are ordered by ``timestamp``; among events with the same timestamp the later row
    counts as more recent. Users with ``n`` events or fewer stay entirely in train, since
    holding out all of a history leaves nothing to recommend from.

    Parameters
    ----------
    interactions : pandas.DataFrame
        Needs ``user_id``, ``item_id`` and ``timestamp``.
    n : int
        Events per user to hold out (default 1).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``(train, test)``.
    """
    n = check_positive_int(n, "n", "events held out per user")
    check_interactions_frame(interactions, ("user_id", "item_id", "timestamp"))
    users = pd.factorize(interactions["user_id"])[0]
    in_time_order = np.argsort(check_timestamps(interactions), kind="stable")
    users_in_time = users[in_time_order]
    events_after = (
        pd.Series(users_in_time).groupby(users_in_time).cumcount(ascending=False).to_numpy()
    )
    history_length = np.bincount(users)[users_in_time]
    in_test = np.empty(len(users), dtype=bool)
    in_test[in_time_order] = (events_after < n) & (history_length > n)
    _check_sides(
        in_test,
        f"n={n} (a user needs more than {n} event(s) to lend any to test; the longest history "
        f"has {np.bincount(users).max()})",
        "lower n, or use users with longer histories",
    )
    return _split(interactions, in_test)


def _split(interactions: pd.DataFrame, in_test: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    return interactions[~in_test], interactions[in_test]


def _check_sides(in_test: np.ndarray, setting: str, advice: str) -> None:
    """Refuse a split with an empty train or test side, naming the setting that caused it."""
    if in_test.all() or not in_test.any():
        empty = "train" if in_test.all() else "test"
        raise ValueError(f"the {empty} set would be empty: {setting}. To fix: {advice}.")


# --------------------------------------------------------------------------------------
# Cold-start splits (lesson 05, notebooks/05_cold_start.ipynb)
# --------------------------------------------------------------------------------------


def cold_item_split(
    interactions: pd.DataFrame, fraction: float = 0.2, seed: int = 42, by: str = "random"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a share of the *items* with all their interactions: new titles.

    ``n_cold = round(fraction * n_items)`` distinct items go to test with every one of
    their rows; no cold item appears in train, so a model trained on ``train`` has never
    seen them. Which items:

    - ``by="random"``: drawn by a permutation of the sorted item ids from
      ``numpy.random.default_rng(seed)``. Old and new titles alike: the cold items include
      classics whose interactions happened long before the last training event, so this
      measures "an item without interactions", not "a title released this morning";
    - ``by="release"``: the ``n_cold`` items that appeared **last**, ordered by the time of
      their first interaction (ties: the larger item id counts as newer). This is the
      release-time protocol: every test item appeared after every train item did. Train
      still holds the warm items' later events; for a model that must not see anything
      after the release either, drop the train rows from the cut on
      (``train[train["timestamp"] < test["timestamp"].min()]``).

    Parameters
    ----------
    interactions : pandas.DataFrame
        Needs ``user_id`` and ``item_id``, and ``timestamp`` when ``by="release"``.
    fraction : float
        Share of the distinct items held out, strictly between 0 and 1 (default 0.2).
    seed : int
        Seed of the random choice of items (``by="random"``; not used by ``"release"``).
    by : {"random", "release"}
        How the cold items are chosen (default ``"random"``).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``(train, test)``: the warm items' rows and the cold items' rows.
    """
    if by not in ("random", "release"):
        raise ValueError(f"by must be 'random' or 'release', not {by!r}.")
    columns = ("user_id", "item_id") + (("timestamp",) if by == "release" else ())
    check_interactions_frame(interactions, columns)
    check_ratio(fraction, "fraction")
    check_seed(seed)
    if by == "release":
        cold = _newest_item_ids(interactions, fraction)
    else:
        cold = _draw_cold_ids(interactions["item_id"], fraction, seed, "item")
    return _split(interactions, interactions["item_id"].isin(cold).to_numpy())


def cold_user_split(
    interactions: pd.DataFrame, fraction: float = 0.2, seed: int = 42, n_known: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Hold out a random share of the *users*; reveal each one's first ``n_known`` events.

    ``n_cold = round(fraction * n_users)`` distinct users are drawn as in
    :func:`cold_item_split`. Each cold user's events are put in time order (ties: the earlier
    row first); the first ``n_known`` become the user's onboarding history (what they told
    or showed us on day one), the rest their test. Warm users stay entirely in train.

    Parameters
    ----------
    interactions : pandas.DataFrame
        Needs ``user_id``, ``item_id``, and ``timestamp`` when ``n_known > 0``.
    fraction : float
        Share of the distinct users held out, strictly between 0 and 1 (default 0.2).
    seed : int
        Seed of the random choice of users.
    n_known : int >= 0
        Earliest events of each cold user revealed as onboarding history. Every cold user
        needs more than ``n_known`` events (something must be left to test): drop shorter
        histories first, or lower ``n_known``.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, pandas.DataFrame)
        ``(train, onboarding, test)``: the warm users' rows, the cold users' revealed rows
        (empty when ``n_known == 0``) and the cold users' remaining rows. Together they hold
        every input row exactly once.
    """
    n_known = check_non_negative_int(n_known, "n_known", "onboarding events revealed per user")
    columns = ("user_id", "item_id") + (("timestamp",) if n_known > 0 else ())
    check_interactions_frame(interactions, columns)
    check_ratio(fraction, "fraction")
    check_seed(seed)
    cold = _draw_cold_ids(interactions["user_id"], fraction, seed, "user")
    is_cold = interactions["user_id"].isin(cold).to_numpy()
    if n_known == 0:
        train, test = _split(interactions, is_cold)
        return train, interactions.iloc[:0], test
    counts = interactions.loc[is_cold, "user_id"].value_counts()
    short = counts[counts <= n_known]
    if len(short):
        raise ValueError(
            f"{len(short)} held-out user(s) have {n_known} events or fewer (e.g. user "
            f"{short.index[0]!r} has {short.iloc[0]}), so nothing would be left to test after "
            f"revealing n_known={n_known}. Lower n_known or keep only users with more than "
            f"{n_known} events before splitting."
        )
    in_time_order = np.argsort(check_timestamps(interactions), kind="stable")
    users_in_time = interactions["user_id"].to_numpy()[in_time_order]
    rank = pd.Series(users_in_time).groupby(users_in_time).cumcount().to_numpy()
    is_known = np.empty(len(interactions), dtype=bool)
    is_known[in_time_order] = rank < n_known
    is_known &= is_cold
    return (
        interactions[~is_cold],
        interactions[is_known],
        interactions[is_cold & ~is_known],
    )


def _draw_cold_ids(ids: pd.Series, fraction: float, seed: int, kind: str) -> np.ndarray:
    distinct = np.sort(ids.unique())
    n_cold = _count_cold(len(distinct), fraction, kind)
    return distinct[np.random.default_rng(seed).permutation(len(distinct))[:n_cold]]


def _newest_item_ids(interactions: pd.DataFrame, fraction: float) -> np.ndarray:
    """The ``round(fraction * n_items)`` items whose first interaction is the latest."""
    first_seen = (
        pd.Series(check_timestamps(interactions), index=interactions["item_id"].to_numpy())
        .groupby(level=0)
        .min()
    )
    n_cold = _count_cold(len(first_seen), fraction, "item")
    newest_first = np.lexsort((first_seen.index.to_numpy(), first_seen.to_numpy()))[::-1]
    return first_seen.index.to_numpy()[newest_first[:n_cold]]


def _count_cold(n_distinct: int, fraction: float, kind: str) -> int:
    n_cold = round(fraction * n_distinct)
    if not 0 < n_cold < n_distinct:
        raise ValueError(
            f"fraction={fraction} of {n_distinct} {kind}s gives {n_cold} cold {kind}s; both "
            f"sides need at least one {kind}. Use more data or a fraction nearer 0.5."
        )
    return n_cold
