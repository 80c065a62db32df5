"""The Microsoft Recommenders partition rebuilt by the ML-100K benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.movielens_100k import msr_partition


def _frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pairs = {(int(u), int(i)) for u, i in rng.integers(1, 40, size=(600, 2))}
    frame = pd.DataFrame(sorted(pairs), columns=["user_id", "item_id"])
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)


def _their_procedure(file_order: pd.DataFrame, seed: int) -> set[tuple[int, int]]:
    """Recommenders' _do_stratification(is_random=True, filter_by="item"), written out."""
    data = file_order.copy()
    np.random.seed(seed)  # noqa: NPY002 - their code uses the legacy global generator
    data["random"] = np.random.rand(data.shape[0])  # noqa: NPY002
    data = data.sort_values(["item_id", "random"])
    groups = data.groupby("item_id")
    data["rank"] = (groups.cumcount() + 1) / groups["item_id"].transform("count")
    train = data[data["rank"] <= 0.75]
    return set(zip(train["user_id"], train["item_id"], strict=True))


def test_partition_equals_their_procedure_on_rows_in_file_order():
    interactions = _frame()
    file_order = interactions.sample(frac=1.0, random_state=5)[["user_id", "item_id"]]
    train, test = msr_partition(interactions, file_order, seed=42)
    assert set(zip(train["user_id"], train["item_id"], strict=True)) == _their_procedure(
        file_order, 42
    )
    assert len(train) + len(test) == len(interactions)
    assert not set(train.index) & set(test.index)


def test_each_item_keeps_floor_of_three_quarters_in_train():
    interactions = _frame(3)
    train, _ = msr_partition(interactions, interactions[["user_id", "item_id"]])
    per_item = interactions["item_id"].value_counts()
    kept = train["item_id"].value_counts().reindex(per_item.index, fill_value=0)
    assert (kept == np.floor(0.75 * per_item)).all()


def test_row_order_changes_the_partition_as_the_benchmark_docstring_says():
    interactions = _frame(4)
    in_file_order, _ = msr_partition(interactions, interactions[["user_id", "item_id"]])
    reversed_order = interactions[["user_id", "item_id"]].iloc[::-1]
    in_other_order, _ = msr_partition(interactions, reversed_order)
    assert set(in_file_order.index) != set(in_other_order.index)
