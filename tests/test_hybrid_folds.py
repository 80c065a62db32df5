"""Validation folds carved from train (recsys_lessons.hybrid.folds): no test row ever leaks in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.evaluation import stratified_split
from recsys_lessons.hybrid.folds import validation_folds


@pytest.fixture
def interactions():
    rng = np.random.default_rng(0)
    pairs = {
        (int(u), int(i))
        for u, i in zip(rng.integers(0, 60, 1500), rng.integers(0, 40, 1500), strict=True)
    }
    users, items = zip(*sorted(pairs), strict=True)
    return pd.DataFrame({"user_id": users, "item_id": items, "rating": 1.0})


def pair_set(frame):
    return set(zip(frame["user_id"], frame["item_id"], strict=True))


def test_folds_never_hold_a_test_pair(interactions):
    train, test = stratified_split(interactions, by="item", test_ratio=0.25, seed=5)
    for fit, validation in validation_folds(train, 4, seed=5):
        assert not pair_set(fit) & pair_set(test)
        assert not pair_set(validation) & pair_set(test)


def test_each_fold_partitions_train(interactions):
    train, _ = stratified_split(interactions, by="item", test_ratio=0.25, seed=5)
    for fit, validation in validation_folds(train, 3, seed=5):
        assert not set(fit.index) & set(validation.index)
        assert sorted([*fit.index, *validation.index]) == sorted(train.index)


def test_fold_zero_is_the_single_validation_split_and_the_others_differ(interactions):
    train, _ = stratified_split(interactions, by="item", test_ratio=0.25, seed=7)
    folds = validation_folds(train, 3, seed=7)
    single = stratified_split(train, by="item", test_ratio=0.25, seed=7)
    assert folds[0][1].index.equals(single[1].index)
    validations = [set(validation.index) for _, validation in folds]
    assert validations[0] != validations[1] != validations[2] != validations[0]


def test_each_fold_holds_out_the_share_of_every_item(interactions):
    train, _ = stratified_split(interactions, by="item", test_ratio=0.25, seed=1)
    per_item = train.groupby("item_id").size()
    for _, validation in validation_folds(train, 2, seed=1):
        held = validation.groupby("item_id").size().reindex(per_item.index, fill_value=0)
        kept = per_item - held
        expected_kept = [round(0.75 * n) for n in per_item]
        assert kept.tolist() == expected_kept


@pytest.mark.parametrize("n_folds", [0, -1, 1.5, "3"])
def test_bad_fold_count_is_refused(interactions, n_folds):
    with pytest.raises(ValueError, match="n_folds"):
        validation_folds(interactions, n_folds)


def test_frame_without_ids_is_refused():
    with pytest.raises(ValueError, match="user_id"):
        validation_folds(pd.DataFrame({"user": [1], "item": [2]}))
