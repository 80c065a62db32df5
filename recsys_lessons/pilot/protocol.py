"""The offline protocol of a pilot: which split, which users are scored, which matrices.

The split is chosen by ``--protocol`` (``split=`` here): ``global``, ``per-user``, ``random``
or ``auto`` (the default), which picks by a stated rule (:func:`choose_split`):

- Timestamps present: a temporal split.

  * **global temporal** (:func:`~recsys_lessons.evaluation.split.temporal_split`): one cut in time, the
    latest ``test_ratio`` share of all events is the test set and every training event is
    earlier, exactly as a model trained today and deployed tomorrow. ``auto`` keeps it when
    the cut leaves enough *scorable* test users (users with training history, after the
    minimum counts, and test events): at least ``MIN_TEST_USERS`` (100) of them AND at least
    ``MIN_TEST_SHARE`` (10%) of the log's users. Fewer users make intervals too wide to
    decide anything (on MovieLens Latest Small the latest 20% of ratings come from a few
    very active raters: the cut scores only a few dozen of 610 users); ``auto`` then warns
    and switches, and ``--protocol global`` keeps the cut anyway (with the same warning).
  * **per-user temporal** (:func:`per_user_temporal_split`) otherwise: each user's latest
    ``round(test_ratio * n)`` of their ``n`` events (by timestamp, ties broken by item id)
    are the test set, so every user is scored on their own future; users whose share
    rounds to 0 events (1-2 events at 20%) stay in train. The price: the training set holds
    other users' events that happened after a test user's test events, so a model can
    learn later trends (mild leakage from the future that the global cut excludes).

- No timestamps (or ``random``): a user-stratified random split
  (:func:`~recsys_lessons.evaluation.split.stratified_split`).
- A validation split is carved from the (filtered) training events the same way, for
  tuning (a per-user test split gives a per-user validation split); test is used once.
- **Training period only.** The log arrives de-duplicated keeping each (user, item) pair's
  *earliest* event (:func:`~recsys_lessons.pilot.io.load_log`), so a pair consumed before
  the cut is a training event and never a test positive. The minimum counts are computed on
  the training events alone (:func:`training_filter`: items with fewer than
  ``min_item_count`` training events, then users with fewer than ``min_user_count``, one
  pass each); the test set keeps the events of the users and items that pass. Items first
  seen in the test period stay in the catalogue with no history (the cold-start items a
  deployed system meets); test users without training history (new users) or below the
  minimum are not scored, and ``recommendations.csv`` gives them the popularity fallback
  (:mod:`~recsys_lessons.pilot.coverage`).
- Every interaction counts as a positive (binary feedback), whatever its rating
  (``--min-rating`` drops low ratings before, in :func:`~recsys_lessons.pilot.io.load_log`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.data.matrix import interaction_matrix
from recsys_lessons.evaluation.split import stratified_split, temporal_split
from recsys_lessons.pilot.io import PilotInputError

#: The ``--protocol`` choices.
SPLITS = ("auto", "global", "per-user", "random")


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
    #: every event of the log in the same rows and columns (what each user has seen)
    seen: sp.csr_matrix | None = None
    #: the ``--protocol`` asked for and the counts left by each minimum-count filter
    requested: str = "auto"
    filters: dict | None = None

    def as_dict(self) -> dict:
        return {
            "split": self.name,
            "description": self.description,
            "reason": self.reason,
            "global_cut_test_users": self.global_cut_users,
            "rule": RULE,
            "requested": self.requested,
            "filters": self.filters,
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


def training_filter(
    train: pd.DataFrame, min_user_count: int = 1, min_item_count: int = 1
) -> tuple[pd.DataFrame, dict]:
    """Drop rare items, then rare users, counting the training events only.

    One pass each: items with fewer than ``min_item_count`` events, then users with fewer
    than ``min_user_count`` of the events left. Returns the kept events and the counts after
    each filter (``{"events", "users", "items"}`` under ``"before"``, ``"after_items"``,
    ``"after_users"``), which the "too few left" error and the report quote.
    """

    def sizes(frame):
        return {
            "events": len(frame),
            "users": int(frame["user_id"].nunique()),
            "items": int(frame["item_id"].nunique()),
        }

    def events_per(column):  # each row's id's number of rows, by hashing the ids once
        codes = pd.factorize(column)[0]
        return np.bincount(codes)[codes]

    counts = {"before": sizes(train)}
    kept = train[events_per(train["item_id"]) >= min_item_count]
    counts["after_items"] = sizes(kept)
    kept = kept[events_per(kept["user_id"]) >= min_user_count]
    counts["after_users"] = sizes(kept)
    return kept, counts


def choose_split(
    interactions: pd.DataFrame,
    test_ratio: float,
    seed: int,
    split: str = "auto",
    keep=lambda train: train,
):
    """``(train, test, name, reason, global_cut_users)`` by the rule of the module docstring.

    ``split`` is the ``--protocol`` asked for; ``keep`` filters training events (the
    minimum counts) before scorable users are counted. ``global_cut_users`` is how many
    users the global temporal cut scores (``None`` when it was not tried).
    """
    if split not in SPLITS:
        raise PilotInputError(f"--protocol must be one of {', '.join(SPLITS)}; got {split!r}.")
    has_time = "timestamp" in interactions.columns
    if split in ("global", "per-user") and not has_time:
        raise PilotInputError(
            f"--protocol {split} needs timestamps and the log has none; use --protocol random "
            "(or auto), or name the time column with --timestamp-col."
        )
    if split == "random" or not has_time:
        train, test = stratified_split(interactions, by="user", test_ratio=test_ratio, seed=seed)
        why = "--protocol random was asked for." if has_time else "the log has no timestamps."
        return train, test, "user-stratified random", why, None
    if split == "per-user":
        train, test = per_user_temporal_split(interactions, test_ratio)
        return train, test, "per-user temporal", "--protocol per-user was asked for.", None
    n_users = interactions["user_id"].nunique()
    train, test = temporal_split(interactions, test_ratio=test_ratio)
    scored = scorable_users(keep(train), test)
    enough = _enough(scored, n_users)
    seen = (
        f"the global temporal cut (latest {test_ratio:.0%} of all events, from "
        f"{test['timestamp'].min()}) leaves {scored:,} of {n_users:,} users with both "
        f"training history and test events"
    )
    needed = f"the rule asks for at least {MIN_TEST_USERS} users and {MIN_TEST_SHARE:.0%} of users"
    if enough:
        return train, test, "global temporal", f"{seen} ({needed}).", scored
    if split == "global":
        return train, test, "global temporal", f"--protocol global was asked for; {seen}.", scored
    train, test = per_user_temporal_split(interactions, test_ratio)
    return train, test, "per-user temporal", f"{seen}: too few, {needed}.", scored


def _enough(scored: int, n_users: int) -> bool:
    return scored >= MIN_TEST_USERS and scored >= MIN_TEST_SHARE * n_users


def make_protocol(
    interactions: pd.DataFrame,
    k: int = 10,
    test_ratio: float = 0.2,
    seed: int = 42,
    *,
    split: str = "auto",
    min_user_count: int = 1,
    min_item_count: int = 1,
):
    """Split the log into validation and test folds (see the module docstring).

    ``interactions`` is the de-duplicated log (one row per (user, item), the earliest event);
    the minimum counts are applied to each training period here, never to the whole log.
    """
    user_ids = pd.Index(np.sort(interactions["user_id"].unique()), name="user_id")

    def keep(train):
        return training_filter(train, min_user_count, min_item_count)[0]

    train, test, name, reason, global_cut_users = choose_split(
        interactions, test_ratio, seed, split, keep
    )
    # hashed, as scorable_users: np.setdiff1d compares string ids pair by pair (129 s at 10M)
    new_items = pd.Index(test["item_id"].unique()).difference(train["item_id"].unique()).to_numpy()
    train, counts = training_filter(train, min_user_count, min_item_count)
    check_enough_left(counts, min_user_count, min_item_count, "counted on the training period")
    item_ids = pd.Index(np.union1d(train["item_id"].unique(), new_items), name="item_id")
    per_user = name == "per-user temporal"
    validation_split = {"per-user temporal": "per-user", "user-stratified random": "random"}
    fit_part, validation, validation_name, validation_reason, _ = choose_split(
        train, test_ratio, seed + 1, validation_split.get(name, "auto")
    )
    notices: list[str] = []
    if per_user and split == "auto":
        notices.append(
            f"protocol: switched to a per-user temporal split because {reason} Every user is "
            "scored on their own latest events; the price is that training holds other users' "
            "later events. --protocol global keeps the cut anyway; --protocol per-user asks "
            "for this split directly."
        )
    elif split == "global" and not _enough(global_cut_users, len(user_ids)):
        notices.append(
            f"warning: protocol: {reason} Few scored users make wide intervals; "
            "--protocol auto would switch to a per-user temporal split."
        )
    else:
        notices.append(f"protocol: {name} split, because {reason}")
    if validation_name != name:
        notices.append(
            f"validation: {validation_name} split of the training events, because "
            f"{validation_reason}"
        )
    notices += _filter_notices(counts, test, item_ids, min_user_count, min_item_count)
    test = test[test["item_id"].isin(item_ids).to_numpy()]
    test_fold = _fold(train, test, user_ids, item_ids, "test", notices)
    validation_fold = _fold(fit_part, validation, user_ids, item_ids, "validation", notices)
    everything = interactions[interactions["item_id"].isin(item_ids).to_numpy()]
    full = interaction_matrix(keep(everything), user_ids, item_ids, value=_value(everything)).X
    seen = interaction_matrix(everything, user_ids, item_ids, value=None).X
    description = _describe(name, reason, validation_name, test_ratio, seed, k)
    return Protocol(
        name, description, reason, global_cut_users, test_ratio, seed, k, user_ids, item_ids,
        validation_fold, test_fold, full, notices, sp.csr_matrix(seen), split,
        {"min_user_count": min_user_count, "min_item_count": min_item_count,
         "training_period": counts, "new_items_in_test": int(len(new_items))},
    )  # fmt: skip


#: What each split leaves of leakage from the test period, stated in the protocol text.
LEAKAGE = {
    "global temporal": (
        "Remaining leakage: the catalogue lists the items first seen after the cut (their "
        "existence, not their events), as a deployed catalogue would."
    ),
    "per-user temporal": (
        "Remaining leakage: training holds other users' events from after a test user's "
        "test events, so a model can learn later trends (mild leakage from the future that a "
        "global cut avoids)."
    ),
    "user-stratified random": (
        "Remaining leakage: without time order, training holds events that happened after "
        "test events (other users' and the user's own)."
    ),
}


def _describe(name, reason, validation_name, test_ratio, seed, k) -> str:
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
    elif name == "per-user temporal":
        description = (
            f"per-user temporal split: each user's latest {held} of their own events (by time, "
            f"ties by item id; users with too few events to spare one stay in train) are the "
            f"test set, so every user is scored on their own future; {validation_text}. "
            f"Chosen because {reason}"
        )
    else:
        description = (
            f"user-stratified random split: {held} of each user's interactions are held out "
            f"(seed {seed}); {validation_text}. Chosen because {reason}"
        )
    return description + (
        " De-duplication keeps each (user, item) pair's earliest event (a pair consumed "
        "before the cut is never a test positive) and the minimum counts are computed on the "
        f"training events only. {LEAKAGE[name]} Top-{k} lists exclude the user's training "
        "items; every held-out interaction is relevant (binary feedback)."
    )


def check_enough_left(counts: dict, min_user_count: int, min_item_count: int, period: str):
    """Raise :class:`PilotInputError` with the counts after each filter (``counts`` from
    :func:`training_filter`) when fewer than 2 users or 2 items are left."""
    left = counts["after_users"]
    short = [kind for kind in ("users", "items") if left[kind] < 2]
    if not short:
        return
    steps = "; ".join(
        f"{label}: {counts[key]['events']:,} events, {counts[key]['users']:,} users, "
        f"{counts[key]['items']:,} items"
        for key, label in (
            ("before", "before the filters"),
            ("after_items", f"after --min-item-count {min_item_count}"),
            ("after_users", f"after --min-user-count {min_user_count}"),
        )
    )
    raise PilotInputError(
        f"fewer than 2 {' and '.join(short)} are left after dropping users/items below the "
        f"minimum counts, {period} ({steps}); lower --min-user-count / --min-item-count."
    )


def _filter_notices(counts, test, item_ids, min_user_count, min_item_count) -> list[str]:
    before, after_items, after = counts["before"], counts["after_items"], counts["after_users"]
    notices = []
    if after_items["items"] < before["items"]:
        notices.append(
            f"dropped {before['items'] - after_items['items']:,} items with fewer than "
            f"{min_item_count} training events ({before['events'] - after_items['events']:,} "
            "training events)."
        )
    if after["users"] < after_items["users"]:
        notices.append(
            f"dropped {after_items['users'] - after['users']:,} users with fewer than "
            f"{min_user_count} training events ({after_items['events'] - after['events']:,} "
            f"training events); they are not scored. recommendations.csv, refitted on the whole "
            f"log, gives the popularity fallback only to users with fewer than {min_user_count} "
            "events in the whole log."
        )
    lost = int((~test["item_id"].isin(item_ids)).sum())
    if lost:
        notices.append(
            f"{lost:,} test events are on items dropped by --min-item-count {min_item_count} "
            "in training; they are not scored (no model here can recommend those items)."
        )
    return notices


def _value(frame: pd.DataFrame) -> str | None:
    """``"weight"`` when the log has weights (``--weight-col``), else binary cells.

    A training cell then holds the pair's weight instead of 1.0; the models that read cell
    values use it (ALS as confidence ``1 + alpha * w``, EASE in its Gram matrix ``X^T X``,
    content-based with ``center=True`` in its profile weights); popularity, item-kNN
    (binarized) and BPR count each stored pair once. Test cells stay binary: every held-out pair is one positive.
    """
    return "weight" if "weight" in frame.columns else None


def _fold(train, test, user_ids, item_ids, label, notices) -> Fold:
    train_matrix = interaction_matrix(train, user_ids, item_ids, value=_value(train)).X
    test_matrix = interaction_matrix(test, user_ids, item_ids, value=None).X
    has_history = np.diff(train_matrix.indptr) > 0
    has_test = np.diff(test_matrix.indptr) > 0
    cold = int((has_test & ~has_history).sum())
    if cold:
        notices.append(
            f"{label}: {cold:,} users with held-out events have no training history (new "
            "users, or below the minimum count) and are not scored."
        )
    users = np.flatnonzero(has_test & has_history)
    if users.size == 0:
        raise ValueError(
            f"the {label} split has no user with both training and held-out interactions; "
            "the log is too small or too short in time for an offline comparison."
        )
    return Fold(sp.csr_matrix(train_matrix), sp.csr_matrix(test_matrix), users)
