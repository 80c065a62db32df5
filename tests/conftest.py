"""Shared fixtures: where the real MovieLens files are, skipping cleanly when they are not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


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
