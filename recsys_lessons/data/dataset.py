"""The one shape every data source takes: :class:`Dataset`.

Lesson 00 (``notebooks/00_welcome_and_data.ipynb``) walks through it on real data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

INTERACTION_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
ITEM_COLUMNS = ("title", "genres", "year")


@dataclass(frozen=True)
class Dataset:
    """Tidy frames describing who interacted with what, identical in shape for every source.

    Attributes
    ----------
    name : str
        ``"movielens-100k"``, ``"movielens-latest-small"`` or ``"synthetic"``.
    interactions : pandas.DataFrame
        One row per event with columns ``user_id``, ``item_id``, ``rating`` (float) and
        ``timestamp`` (datetime64), sorted by timestamp.
    items : pandas.DataFrame
        Indexed by ``item_id``; at least ``title`` (str), ``genres`` (list of str) and
        ``year`` (nullable Int64), plus whatever the source has (tags, description, ...).
    users : pandas.DataFrame
        Indexed by ``user_id``; demographics where the source has them, else no columns.
    license : str
        Who made the data and under which terms it may be used.
    citation : str
        How to cite the data in a paper or a slide.
    world : object or None
        For the simulated catalogue only: the :class:`recsys_lessons.data.world.SimulatedWorld`
        holding the true affinities, so later lessons can serve recommendations to simulated
        users and observe their reactions. ``None`` for real data.
    """

    name: str
    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    license: str
    citation: str = ""
    world: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        validate_schema(self)

    @property
    def n_users(self) -> int:
        """Number of distinct users with at least one interaction."""
        return int(self.interactions["user_id"].nunique())

    @property
    def n_items(self) -> int:
        """Number of distinct items with at least one interaction."""
        return int(self.interactions["item_id"].nunique())

    @property
    def density(self) -> float:
        """Share of the user x item matrix that is filled: ``n_interactions / (n_users * n_items)``."""
        return len(self.interactions) / (self.n_users * self.n_items)

    def summary(self) -> pd.Series:
        """One line of facts per dataset: sizes, density and rating scale."""
        ratings = self.interactions["rating"]
        return pd.Series(
            {
                "interactions": len(self.interactions),
                "users": self.n_users,
                "items": self.n_items,
                "items in catalogue": len(self.items),
                "density": round(self.density, 4),
                "rating scale": f"{ratings.min():g}..{ratings.max():g}",
            },
            name=self.name,
        )


def validate_schema(dataset: Dataset) -> None:
    """Raise ``ValueError`` when a :class:`Dataset` does not follow the data contract."""
    frame = dataset.interactions
    missing = [c for c in INTERACTION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"Dataset {dataset.name!r}: interactions lack the columns {missing}; "
            f"every source must provide {list(INTERACTION_COLUMNS)}."
        )
    if len(frame) == 0:
        raise ValueError(f"Dataset {dataset.name!r} has no interactions; check the source files.")
    if frame["rating"].isna().any():
        raise ValueError(f"Dataset {dataset.name!r} has missing ratings; drop or fill them first.")
    if not pd.api.types.is_datetime64_any_dtype(frame["timestamp"]):
        raise ValueError(f"Dataset {dataset.name!r}: timestamp must be datetime64.")
    missing = [c for c in ITEM_COLUMNS if c not in dataset.items.columns]
    if missing:
        raise ValueError(f"Dataset {dataset.name!r}: items lack the columns {missing}.")
    if dataset.items.index.name != "item_id" or dataset.users.index.name != "user_id":
        raise ValueError(
            f"Dataset {dataset.name!r}: items must be indexed by 'item_id' and users by 'user_id'."
        )
