"""The offline protocol of a pilot: which split, which users are scored, which matrices.

- Timestamps present: a temporal split, chosen by a stated rule (:func:`choose_split`).

  * **global temporal** (:func:`~recsys_lessons.evaluation.split.temporal_split`): one cut in time, the
    latest ``test_ratio`` share of all events is the test set and every training event is
    earlier, exactly as a model trained today and deployed tomorrow. Kept when the cut leaves
    enough *scorable* test users (users with both training history and test events): at
    least ``MIN_TEST_USERS`` (100) of them AND at least ``MIN_TEST_SHARE`` (10%) of the log's
    users. Fewer users make intervals too wide to decide anything (on MovieLens Latest
    Small the latest 20% of ratings come from a few very active raters: the cut scores only
    a few dozen of 610 users).
  * **per-user temporal** (:func:`per_user_temporal_split`) otherwise: each user's latest
    ``round(test_ratio * n)`` of their ``n`` events (by timestamp, ties broken by item id)
    are the test set, so every user is scored on their own future; users whose share
    rounds to 0 events (1-2 events at 20%) stay in train. The price: the training set holds
    other users' events that happened after a test user's test events, so a model can
    learn later trends (mild leakage from the future that the global cut excludes).

- No timestamps: a user-stratified random split (:func:`~recsys_lessons.evaluation.split.stratified_split`).
- A validation split is carved from train the same way, for tuning (the same rule; a per-user
  test split gives a per-user validation split); test is used once.
- Test keeps the users that have training history (new users are a cold-start problem the
  models here cannot score); every item of the log stays a column, so items first seen in
  test are in the catalogue with no history (the cold-start items a deployed system meets).
- Every interaction counts as a positive (binary feedback), whatever its rating.

Lesson 12 (``notebooks/12_capstone_pilot.ipynb``) reads the protocol on MovieLens Latest Small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.data.matrix import interaction_matrix
from recsys_lessons.evaluation.split import stratified_split, temporal_split


@dataclass
class Fold:
    """Train and test matrices on the same rows/columns, and the users to score."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    users: np.ndarray

    @property
    def relevant(self) -> sp.csr_matrix:
        return self.test[self.users]


@dataclass
class Protocol:
    """The chosen protocol, its folds and the id maps."""

    name: str
    description: str
    reason: str
    global_cut_users: int | None
    test_ratio: float
    seed: int
    k: int
    user_ids: pd.Index
    item_ids: pd.Index
    validation: Fold
    test: Fold
    full: sp.csr_matrix
    notices: list[str]

    def as_dict(self) -> dict:
        return {
            "split": self.name,
            "description": self.description,
            "reason": self.reason,
            "global_cut_test_users": self.global_cut_users,
            "rule": RULE,
            "test_ratio": self.test_ratio,
            "seed": self.seed,
            "k": self.k,
            "n_users": len(self.user_ids),
            "n_items": len(self.item_ids),
            "test_users": int(self.test.users.size),
            "validation_users": int(self.validation.users.size),
            "notices": self.notices,
        }


MIN_TEST_USERS = 100
MIN_TEST_SHARE = 0.10
RULE = (
    f"the global temporal cut is kept when at least {MIN_TEST_USERS} users and at least "
    f"{MIN_TEST_SHARE:.0%} of the log's users have both training history and test events; "
    "otherwise each user's own latest events are the test set (per-user temporal)."
)


def per_user_temporal_split(
    interactions: pd.DataFrame, test_ratio: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each user's latest ``round(test_ratio * n)`` of their ``n`` events.

    Events are ordered by ``timestamp``, ties by ``item_id`` (one row per (user, item), so
    the order is total and does not depend on the row order of the file). ``round`` is
    numpy's (halves to even); at most ``n - 1`` events go to test, so a user whose share
    rounds to 0 (with 20%: 1 or 2 events) stays entirely in train and everyone in test has
    training history.

    Parameters
    ----------
    interactions : pandas.DataFrame
        ``user_id``, ``item_id``, ``timestamp``, one row per (user, item) pair.
    test_ratio : float
        Share of each user's events held out, strictly between 0 and 1.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``(train, test)``.
    """
    users = pd.factorize(interactions["user_id"], sort=True)[0]
    items = pd.factorize(interactions["item_id"], sort=True)[0]
    order = np.lexsort((items, interactions["timestamp"].to_numpy(), users))
    counts = np.bincount(users)
    n_test = np.minimum(np.rint(test_ratio * counts).astype(int), counts - 1)
    sorted_users = users[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(order)) - starts[sorted_users]
    in_test = np.empty(len(order), dtype=bool)
    in_test[order] = position >= counts[sorted_users] - n_test[sorted_users]
    return interactions[~in_test], interactions[in_test]


def scorable_users(train: pd.DataFrame, test: pd.DataFrame) -> int:
    """How many users have both training history and test events.

    ``pandas.Index.isin`` hashes the ids; ``numpy.isin`` on string ids compares every pair,
    so its time grows with the square of the user count (25 s at 40,000 users).
    """
    return int(pd.Index(test["user_id"].unique()).isin(train["user_id"].unique()).sum())


def choose_split(interactions: pd.DataFrame, test_ratio: float, seed: int, per_user: bool = False):
    """``(train, test, name, reason, global_cut_users)`` by the rule of the module docstring.

    ``global_cut_users`` is how many users the global temporal cut would score (``None``
    when it was not tried).

    ``per_user=True`` skips the global cut (a validation split carved from a per-user
    temporal train set is per-user as well).
    """
    if "timestamp" not in interactions.columns:
        train, test = stratified_split(interactions, by="user", test_ratio=test_ratio, seed=seed)
        return train, test, "user-stratified random", "the log has no timestamps.", None
    n_users = interactions["user_id"].nunique()
    if per_user:
        train, test = per_user_temporal_split(interactions, test_ratio)
        return train, test, "per-user temporal", "the test split is per-user temporal.", None
    train, test = temporal_split(interactions, test_ratio=test_ratio)
    scored = scorable_users(train, test)
    enough = scored >= MIN_TEST_USERS and scored >= MIN_TEST_SHARE * n_users
    seen = (
        f"the global temporal cut (latest {test_ratio:.0%} of all events, from "
        f"{test['timestamp'].min()}) leaves {scored:,} of {n_users:,} users with both "
        f"training history and test events"
    )
    needed = f"the rule asks for at least {MIN_TEST_USERS} users and {MIN_TEST_SHARE:.0%} of users"
    if enough:
        return train, test, "global temporal", f"{seen} ({needed}).", scored
    train, test = per_user_temporal_split(interactions, test_ratio)
    return train, test, "per-user temporal", f"{seen}: too few, {needed}.", scored


def make_protocol(interactions: pd.DataFrame, k: int = 10, test_ratio: float = 0.2, seed: int = 42):
    """Split the log into validation and test folds (see the module docstring)."""
    user_ids = pd.Index(np.sort(interactions["user_id"].unique()), name="user_id")
    item_ids = pd.Index(np.sort(interactions["item_id"].unique()), name="item_id")
    train, test, name, reason, global_cut_users = choose_split(interactions, test_ratio, seed)
    per_user = name == "per-user temporal"
    fit_part, validation, validation_name, validation_reason, _ = choose_split(
        train, test_ratio, seed + 1, per_user=per_user
    )
    notices: list[str] = []
    if per_user:
        notices.append(
            f"protocol: switched to a per-user temporal split because {reason} Every user is "
            "scored on their own latest events; the price is that training holds other users' "
            "later events."
        )
    else:
        notices.append(f"protocol: {name} split, because {reason}")
    if validation_name != name:
        notices.append(
            f"validation: {validation_name} split of the training events, because "
            f"{validation_reason}"
        )
    test_fold = _fold(train, test, user_ids, item_ids, "test", notices)
    validation_fold = _fold(fit_part, validation, user_ids, item_ids, "validation", notices)
    full = interaction_matrix(interactions, user_ids, item_ids, value=None).X
    held = f"{test_ratio:.0%}"
    validation_text = {
        "global temporal": f"validation is the latest {held} of the training events",
        "per-user temporal": f"validation is each user's latest {held} of their training events",
        "user-stratified random": (
            f"validation is carved the same way from train (seed {seed + 1})"
        ),
    }[validation_name]
    if name == "global temporal":
        description = (
            f"global temporal split: the latest {held} of events are the test set, every "
            f"training event is earlier; {validation_text}. Chosen because {reason}"
        )
    elif per_user:
        description = (
            f"per-user temporal split: each user's latest {held} of their own events (by time, "
            f"ties by item id; users with too few events to spare one stay in train) are the "
            f"test set, so every user is scored on their own future; {validation_text}. "
            f"Chosen because {reason} The price: training holds other users' events from after "
            "a test user's test events, so a model can learn later trends (mild leakage from "
            "the future that a global cut avoids)."
        )
    else:
        description = (
            f"no timestamps, so a user-stratified random split: {held} of each user's "
            f"interactions are held out (seed {seed}); {validation_text}."
        )
    description += (
        f" Top-{k} lists exclude the user's training items; every held-out interaction is "
        "relevant (binary feedback)."
    )
    return Protocol(
        name, description, reason, global_cut_users, test_ratio, seed, k, user_ids, item_ids,
        validation_fold, test_fold, full, notices,
    )  # fmt: skip


def _fold(train, test, user_ids, item_ids, label, notices) -> Fold:
    train_matrix = interaction_matrix(train, user_ids, item_ids, value=None).X
    test_matrix = interaction_matrix(test, user_ids, item_ids, value=None).X
    has_history = np.diff(train_matrix.indptr) > 0
    has_test = np.diff(test_matrix.indptr) > 0
    cold = int((has_test & ~has_history).sum())
    if cold:
        notices.append(
            f"{label}: {cold:,} users have no training history (new users) and are not scored."
        )
    users = np.flatnonzero(has_test & has_history)
    if users.size == 0:
        raise ValueError(
            f"the {label} split has no user with both training and held-out interactions; "
            "the log is too small or too short in time for an offline comparison."
        )
    return Fold(sp.csr_matrix(train_matrix), sp.csr_matrix(test_matrix), users)
