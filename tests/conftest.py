"""Shared fixtures: where the real MovieLens files are, skipping cleanly when they are not."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp


def _dataset_dir(folder: str, marker: str) -> Path | None:
    root = os.environ.get("RECSYS_LESSONS_DATA")
    if not root:
        return None
    path = Path(root) / folder
    return path if (path / marker).is_file() else None


@pytest.fixture
def ml100k_dir() -> Path:
    """The extracted ``ml-100k`` folder under ``RECSYS_LESSONS_DATA``; skips the test if absent."""
    path = _dataset_dir("ml-100k", "u.data")
    if path is None:
        pytest.skip(
            "MovieLens 100K not available: set RECSYS_LESSONS_DATA to a folder holding ml-100k/"
        )
    return path


@pytest.fixture
def ml_latest_small_dir() -> Path:
    """The extracted ``ml-latest-small`` folder under ``RECSYS_LESSONS_DATA``; skips if absent."""
    path = _dataset_dir("ml-latest-small", "ratings.csv")
    if path is None:
        pytest.skip(
            "MovieLens Latest Small not available: set RECSYS_LESSONS_DATA to a folder holding ml-latest-small/"
        )
    return path


@pytest.fixture(scope="session")
def taste_groups():
    """Users and items in 4 taste groups; items also have a Zipf popularity.

    A user watches items of their group far more often, the popular ones most. Item
    features: the group (one-hot) plus 3 noise columns. Returns train, test, features, group.
    """
    n_users, n_items, n_groups = 240, 60, 4
    rng = np.random.default_rng(0)
    user_group = np.arange(n_users) % n_groups
    item_group = np.arange(n_items) % n_groups
    popularity = 1.0 / (1.0 + rng.permutation(n_items)) ** 0.7
    affinity = np.where(user_group[:, None] == item_group[None, :], 1.0, 0.08)
    probability = np.minimum(1.0, 3.0 * affinity * popularity / popularity.mean() * 0.12)
    watched = rng.random((n_users, n_items)) < probability
    watched[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    in_test = watched & (rng.random(watched.shape) < 0.3)
    train = sp.csr_matrix((watched & ~in_test).astype(np.float32))
    test = sp.csr_matrix(in_test.astype(np.float32))
    features = np.hstack([np.eye(n_groups)[item_group], rng.random((n_items, 3)) * 0.3])
    return train, test, features, item_group
