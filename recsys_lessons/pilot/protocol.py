"""The offline protocol of a pilot: which split, which users are scored, which matrices.

- Timestamps present: :func:`~recsys_lessons.split.temporal_split` (train strictly before
  test, as the model would be deployed); else a user-stratified random split
  (:func:`~recsys_lessons.split.stratified_split`).
- A validation split is carved from train the same way, for tuning; test is used once.
- Test keeps the users that have training history (new users are a cold-start problem the
  models here cannot score); every item of the log stays a column, so items first seen in
  test are in the catalogue with no history (the cold-start items a deployed system meets).
- Every interaction counts as a positive (binary feedback), whatever its rating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.matrix import interaction_matrix
from recsys_lessons.split import stratified_split, temporal_split


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
            "test_ratio": self.test_ratio,
            "seed": self.seed,
            "k": self.k,
            "n_users": len(self.user_ids),
            "n_items": len(self.item_ids),
            "test_users": int(self.test.users.size),
            "validation_users": int(self.validation.users.size),
            "notices": self.notices,
        }


def split_log(interactions: pd.DataFrame, test_ratio: float, seed: int):
    """``(train, test, name)`` by the rule above."""
    if "timestamp" in interactions.columns:
        train, test = temporal_split(interactions, test_ratio=test_ratio)
        return train, test, "temporal"
    train, test = stratified_split(interactions, by="user", test_ratio=test_ratio, seed=seed)
    return train, test, "user-stratified random"


def make_protocol(interactions: pd.DataFrame, k: int = 10, test_ratio: float = 0.2, seed: int = 42):
    """Split the log into validation and test folds (see the module docstring)."""
    user_ids = pd.Index(np.sort(interactions["user_id"].unique()), name="user_id")
    item_ids = pd.Index(np.sort(interactions["item_id"].unique()), name="item_id")
    train, test, name = split_log(interactions, test_ratio, seed)
    fit_part, validation, _ = split_log(train, test_ratio, seed + 1)
    notices: list[str] = []
    test_fold = _fold(train, test, user_ids, item_ids, "test", notices)
    validation_fold = _fold(fit_part, validation, user_ids, item_ids, "validation", notices)
    full = interaction_matrix(interactions, user_ids, item_ids, value=None).X
    held = f"{test_ratio:.0%}"
    if name == "temporal":
        description = (
            f"temporal split: the latest {held} of events are the test set, every training "
            f"event is earlier; validation is the latest {held} of the training events."
        )
    else:
        description = (
            f"no timestamps, so a user-stratified random split: {held} of each user's "
            f"interactions are held out (seed {seed}); validation is carved the same way "
            f"from train (seed {seed + 1})."
        )
    description += (
        f" Top-{k} lists exclude the user's training items; every held-out interaction is "
        "relevant (binary feedback)."
    )
    return Protocol(
        name, description, test_ratio, seed, k, user_ids, item_ids,
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
