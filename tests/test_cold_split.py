"""Cold-start splits: held-out items or users are truly unseen, counts exact, onboarding first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_lessons.evaluation import cold_item_split, cold_user_split


def make_interactions(n_users=30, n_items=50, min_events=4, max_events=20, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(min_events, max_events + 1, size=n_users)
    users = np.repeat(np.arange(100, 100 + n_users), counts)
    n = len(users)
    frame = pd.DataFrame(
        {
            "user_id": users,
            "item_id": rng.integers(0, n_items, size=n) + 500,
            "rating": rng.integers(1, 6, size=n).astype(float),
            "timestamp": pd.to_datetime(rng.integers(0, 10_000, size=n), unit="s"),
        }
    )
    frame.index = rng.permutation(n) + 1000
    return frame


@pytest.fixture
def interactions():
    return make_interactions()


def test_cold_item_split_holds_out_round_fraction_of_items_with_all_their_rows(interactions):
    train, test = cold_item_split(interactions, fraction=0.2, seed=3)
    n_items = interactions["item_id"].nunique()
    cold = set(test["item_id"])
    assert len(cold) == round(0.2 * n_items)
    assert cold.isdisjoint(train["item_id"])
    # every row of a cold item is in test, and the two sides partition the input in order
    assert (interactions["item_id"].isin(cold) == interactions.index.isin(test.index)).all()
    pd.testing.assert_frame_equal(pd.concat([train, test]).loc[interactions.index], interactions)
    assert len(train) + len(test) == len(interactions)


def test_cold_item_split_hand_computed():
    frame = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 20, 30, 40]})
    train, test = cold_item_split(frame, fraction=0.25, seed=0)
    # sorted ids [10, 20, 30, 40]; default_rng(0).permutation(4)[0] picks the cold one
    cold_id = np.array([10, 20, 30, 40])[np.random.default_rng(0).permutation(4)[0]]
    assert set(test["item_id"]) == {cold_id}
    assert list(train.index) == [i for i in frame.index if frame.loc[i, "item_id"] != cold_id]


def test_cold_item_split_is_deterministic_and_seed_dependent(interactions):
    a = cold_item_split(interactions, 0.3, seed=1)[1]
    b = cold_item_split(interactions, 0.3, seed=1)[1]
    c = cold_item_split(interactions, 0.3, seed=2)[1]
    pd.testing.assert_frame_equal(a, b)
    assert set(a["item_id"]) != set(c["item_id"])


def test_cold_item_split_does_not_depend_on_row_order(interactions):
    shuffled = interactions.sample(frac=1.0, random_state=0)
    assert set(cold_item_split(interactions, 0.2, 5)[1]["item_id"]) == set(
        cold_item_split(shuffled, 0.2, 5)[1]["item_id"]
    )


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, True, "0.2", np.nan])
def test_cold_splits_reject_fractions_outside_zero_one(interactions, fraction):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        cold_item_split(interactions, fraction=fraction)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        cold_user_split(interactions, fraction=fraction)


def test_cold_split_refuses_a_fraction_that_empties_a_side():
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [1, 2, 3]})
    with pytest.raises(ValueError, match="at least one item"):
        cold_item_split(frame, fraction=0.1)
    with pytest.raises(ValueError, match="at least one user"):
        cold_user_split(frame, fraction=0.9)


def test_cold_user_split_without_history(interactions):
    train, onboarding, test = cold_user_split(interactions, fraction=0.2, seed=4)
    cold = set(test["user_id"])
    assert len(cold) == round(0.2 * interactions["user_id"].nunique())
    assert cold.isdisjoint(train["user_id"])
    assert onboarding.empty and list(onboarding.columns) == list(interactions.columns)
    assert (interactions["user_id"].isin(cold) == interactions.index.isin(test.index)).all()


def test_cold_user_split_reveals_the_earliest_events(interactions):
    train, onboarding, test = cold_user_split(interactions, fraction=0.3, seed=4, n_known=3)
    assert set(onboarding["user_id"]) == set(test["user_id"])
    assert set(train["user_id"]).isdisjoint(test["user_id"])
    assert (onboarding.groupby("user_id").size() == 3).all()
    # every revealed event is no later than every test event of the same user
    last_known = onboarding.groupby("user_id")["timestamp"].max()
    first_test = test.groupby("user_id")["timestamp"].min()
    assert (last_known <= first_test.loc[last_known.index]).all()
    parts = pd.concat([train, onboarding, test])
    assert parts.index.is_unique and len(parts) == len(interactions)
    pd.testing.assert_frame_equal(parts.loc[interactions.index], interactions)


def test_cold_user_split_hand_computed_ties_go_to_the_earlier_row():
    frame = pd.DataFrame(
        {
            "user_id": [7, 7, 7, 8, 8, 8],
            "item_id": [1, 2, 3, 1, 2, 3],
            "timestamp": [5, 1, 1, 3, 2, 1],
        }
    )
    train, onboarding, test = cold_user_split(frame, fraction=0.5, seed=0, n_known=2)
    cold = np.array([7, 8])[np.random.default_rng(0).permutation(2)[0]]
    expected_known = {7: [1, 2], 8: [4, 5]}[cold]  # rows (index labels) revealed first
    assert sorted(onboarding.index) == expected_known
    assert set(test["user_id"]) == {cold}
    assert len(test) == 1 and set(train["user_id"]) == {15 - cold}


def test_cold_user_split_refuses_users_with_too_few_events():
    frame = make_interactions(min_events=2, max_events=3)
    with pytest.raises(ValueError, match="n_known=3"):
        cold_user_split(frame, fraction=0.5, seed=0, n_known=3)


@pytest.mark.parametrize("n_known", [-1, 1.5, True, "2"])
def test_cold_user_split_rejects_bad_n_known(interactions, n_known):
    with pytest.raises(ValueError, match="n_known"):
        cold_user_split(interactions, n_known=n_known)


def test_cold_user_split_needs_timestamps_only_with_history(interactions):
    no_time = interactions.drop(columns="timestamp")
    cold_user_split(no_time, fraction=0.2)
    with pytest.raises(ValueError, match="timestamp"):
        cold_user_split(no_time, fraction=0.2, n_known=1)


@settings(max_examples=30, deadline=None)
@given(
    fraction=st.floats(0.05, 0.95),
    seed=st.integers(0, 10_000),
    n_known=st.integers(0, 3),
)
def test_cold_user_split_property(fraction, seed, n_known):
    frame = make_interactions(n_users=25, min_events=4, seed=seed % 7)
    n_users = frame["user_id"].nunique()
    if not 0 < round(fraction * n_users) < n_users:
        return
    train, onboarding, test = cold_user_split(frame, fraction, seed, n_known=n_known)
    assert test["user_id"].nunique() == round(fraction * n_users)
    assert len(onboarding) == n_known * test["user_id"].nunique()
    assert len(train) + len(onboarding) + len(test) == len(frame)


# ----------------------------------------------------- release-time protocol (by="release")


def test_release_split_holds_out_the_items_that_appeared_last(interactions):
    train, test = cold_item_split(interactions, fraction=0.2, by="release")
    first_seen = interactions.groupby("item_id")["timestamp"].min()
    n_cold = round(0.2 * len(first_seen))
    assert test["item_id"].nunique() == n_cold
    assert not set(train["item_id"]) & set(test["item_id"])
    # every cold item appeared no earlier than every warm item
    assert first_seen[test["item_id"].unique()].min() >= first_seen[train["item_id"].unique()].max()
    assert len(train) + len(test) == len(interactions)
    assert list(test.index) == [i for i in interactions.index if i in set(test.index)]


def test_release_split_hand_computed_ties_to_the_larger_id():
    frame = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2, 3],
            "item_id": [10, 11, 12, 13, 10],
            "timestamp": [5, 1, 7, 7, 9],  # first seen: 11 at 1, 10 at 5, 12 and 13 at 7
        }
    )
    train, test = cold_item_split(frame, fraction=0.25, by="release")
    assert test["item_id"].tolist() == [13]
    train, test = cold_item_split(frame, fraction=0.5, by="release")
    assert sorted(test["item_id"]) == [12, 13] and sorted(train["item_id"].unique()) == [10, 11]


def test_release_split_ignores_the_seed(interactions):
    by_release = cold_item_split(interactions, fraction=0.3, seed=1, by="release")[1]
    assert by_release.equals(cold_item_split(interactions, fraction=0.3, seed=2, by="release")[1])


def test_release_split_needs_timestamps_and_a_known_protocol(interactions):
    with pytest.raises(ValueError, match="timestamp"):
        cold_item_split(interactions.drop(columns="timestamp"), by="release")
    with pytest.raises(ValueError, match="'random' or 'release'"):
        cold_item_split(interactions, by="newest")
