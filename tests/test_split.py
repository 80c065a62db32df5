"""Train/test splits: disjoint, complete, exact per-group counts, deterministic, time-safe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_lessons.evaluation import leave_last_out, random_split, stratified_split, temporal_split


def make_interactions(n_users=40, max_events=25, seed=0, tie_every=1) -> pd.DataFrame:
    """Users with 1..max_events events at random times (coarse times create ties).

    One row per (user, item) pair, as the splits require. The index is a shuffled,
    non-default one so tests can see that it is preserved.
    """
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, max_events + 1, size=n_users)
    users = np.repeat(np.arange(100, 100 + n_users), counts)
    n = len(users)
    seconds = rng.integers(0, 10_000, size=n) // tie_every * tie_every
    frame = pd.DataFrame(
        {
            "user_id": users,
            "item_id": rng.integers(0, 60, size=n),
            "rating": rng.integers(1, 6, size=n).astype(float),
            "timestamp": pd.to_datetime(seconds, unit="s"),
        }
    ).drop_duplicates(["user_id", "item_id"], ignore_index=True)
    frame.index = rng.permutation(len(frame)) + 1000
    return frame


def assert_partition(original: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> None:
    """train and test are disjoint, together hold every row once, in the original order."""
    assert train.index.intersection(test.index).empty
    assert len(train) + len(test) == len(original)
    in_train = original.index.isin(train.index)
    pd.testing.assert_frame_equal(train, original[in_train])
    pd.testing.assert_frame_equal(test, original[~in_train])


@pytest.fixture
def interactions() -> pd.DataFrame:
    return make_interactions()


# ---------------------------------------------------------------- random_split


def test_random_split_holds_out_round_ratio_of_rows(interactions):
    train, test = random_split(interactions, test_ratio=0.3, seed=1)
    assert_partition(interactions, train, test)
    assert len(test) == round(0.3 * len(interactions))


def test_random_split_is_deterministic_per_seed(interactions):
    first = random_split(interactions, seed=7)[1].index
    again = random_split(interactions, seed=7)[1].index
    other = random_split(interactions, seed=8)[1].index
    assert first.equals(again)
    assert not first.equals(other)


def test_random_split_draws_every_row_with_equal_chance():
    frame = make_interactions(n_users=5, max_events=4, seed=3)
    hits = np.zeros(len(frame))
    for seed in range(400):
        hits += frame.index.isin(random_split(frame, test_ratio=0.5, seed=seed)[1].index)
    share = hits / 400
    assert np.all(np.abs(share - round(0.5 * len(frame)) / len(frame)) < 0.12)


# ---------------------------------------------------------------- stratified_split


@pytest.mark.parametrize("by, column", [("user", "user_id"), ("item", "item_id")])
@pytest.mark.parametrize("test_ratio", [0.5, 0.25, 0.2])
def test_stratified_split_keeps_round_ratio_of_each_group(interactions, by, column, test_ratio):
    train, test = stratified_split(interactions, by=by, test_ratio=test_ratio, seed=3)
    assert_partition(interactions, train, test)
    sizes = interactions[column].value_counts()
    kept = train[column].value_counts().reindex(sizes.index, fill_value=0)
    expected = sizes.map(lambda n: round((1 - test_ratio) * n))
    pd.testing.assert_series_equal(kept, expected, check_names=False)


def test_stratified_split_hand_computed_counts():
    # 1 event: round(0.75) = 1 kept; 2: round(1.5) = 2 (ties to even); 4: 3; 10: round(7.5) = 8.
    frame = pd.DataFrame(
        {"user_id": np.repeat([1, 2, 3, 4], [1, 2, 4, 10]), "item_id": np.arange(17)}
    )
    train, test = stratified_split(frame, test_ratio=0.25, seed=0)
    assert train["user_id"].value_counts().sort_index().tolist() == [1, 2, 3, 8]
    assert test["user_id"].value_counts().sort_index().tolist() == [1, 2]
    assert sorted(test["user_id"].unique()) == [3, 4]


def test_stratified_split_is_deterministic_per_seed(interactions):
    first = stratified_split(interactions, seed=11)[1].index
    assert first.equals(stratified_split(interactions, seed=11)[1].index)
    assert not first.equals(stratified_split(interactions, seed=12)[1].index)


def microsoft_stratified_train(data: pd.DataFrame, ratio: float, seed: int, column: str):
    """Reference: the train rows Microsoft Recommenders' python_stratified_split keeps.

    Their recipe (recommenders/datasets/python_splitters.py): seed NumPy's global generator,
    draw one uniform number per row, sort by (group, number), and keep the rows whose
    position-in-group / group-size is <= ratio.
    """
    # They call np.random.seed(seed); np.random.rand(n): the legacy Mersenne Twister stream,
    # which RandomState(seed).rand(n) reproduces without touching the global generator.
    random = np.random.RandomState(seed).rand(len(data))
    ordered = data.assign(random=random).sort_values([column, "random"])
    groups = ordered.groupby(column)
    rank = (groups.cumcount() + 1) / groups[column].transform("count")
    return ordered.index[rank <= ratio], ordered


@pytest.mark.parametrize("test_ratio", [0.5, 0.3, 0.25])
def test_stratified_split_matches_microsoft_recommenders_up_to_rounding(interactions, test_ratio):
    ratio = 1 - test_ratio  # their ratio is the train share
    ours = stratified_split(interactions, by="user", test_ratio=test_ratio, seed=42)[0].index
    theirs, their_order = microsoft_stratified_train(interactions, ratio, 42, "user_id")
    assert set(theirs) <= set(ours)
    for user, rows in their_order.groupby("user_id"):
        n = len(rows)
        ours_here = rows.index[rows.index.isin(ours)]
        theirs_here = rows.index[rows.index.isin(theirs)]
        # Both take a prefix of the same shuffled order; only its length can differ.
        assert ours_here.equals(rows.index[: round(ratio * n)]), user
        assert len(ours_here) - len(theirs_here) in (0, 1)
        if round(ratio * n) == int(np.floor(ratio * n + 1e-9)):
            assert ours_here.equals(theirs_here), user


@given(
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=12),
    test_ratio=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=60, deadline=None)
def test_stratified_split_counts_property(sizes, test_ratio, seed):
    frame = pd.DataFrame(
        {"user_id": np.repeat(np.arange(len(sizes)), sizes), "item_id": np.arange(sum(sizes))}
    )
    frame = frame.sample(frac=1.0, random_state=seed % 1000)  # groups not contiguous
    expected = [round((1 - test_ratio) * n) for n in sizes]
    if sum(expected) in (0, sum(sizes)):  # one side would be empty
        with pytest.raises(ValueError, match="set would be empty"):
            stratified_split(frame, test_ratio=test_ratio, seed=seed)
        return
    train, test = stratified_split(frame, test_ratio=test_ratio, seed=seed)
    assert_partition(frame, train, test)
    kept = train["user_id"].value_counts().reindex(range(len(sizes)), fill_value=0)
    assert kept.tolist() == expected


def test_stratified_split_rejects_unknown_group(interactions):
    with pytest.raises(ValueError, match="'user' or 'item'"):
        stratified_split(interactions, by="users")


# ---------------------------------------------------------------- temporal_split


def test_temporal_split_puts_no_future_event_in_train(interactions):
    train, test = temporal_split(interactions, test_ratio=0.25)
    assert_partition(interactions, train, test)
    assert train["timestamp"].max() < test["timestamp"].min()


def test_temporal_split_exact_share_with_distinct_times():
    frame = pd.DataFrame(
        {
            "user_id": np.arange(20) % 3,
            "item_id": np.arange(20),
            "timestamp": pd.to_datetime(np.random.default_rng(0).permutation(20), unit="D"),
        }
    )
    train, test = temporal_split(frame, test_ratio=0.25)
    assert len(test) == 5
    assert sorted(test["timestamp"].dt.day.tolist()) == [16, 17, 18, 19, 20]


def test_temporal_split_keeps_events_tied_at_the_cut_together():
    # Times 0..5 then four events at 6 and two at 7: a 25% cut (3 of 12) lands inside the 6s.
    seconds = [0, 1, 2, 3, 4, 5, 6, 6, 6, 6, 7, 7]
    frame = pd.DataFrame(
        {"user_id": 1, "item_id": range(12), "timestamp": pd.to_datetime(seconds, unit="s")}
    )
    train, test = temporal_split(frame, test_ratio=0.25)
    assert test["item_id"].tolist() == [6, 7, 8, 9, 10, 11]
    assert train["timestamp"].max() < test["timestamp"].min()


def test_temporal_split_accepts_numeric_and_time_zone_aware_times(interactions):
    expected = temporal_split(interactions)[1].index
    as_seconds = interactions.assign(timestamp=interactions["timestamp"].astype("int64"))
    aware = interactions.assign(timestamp=interactions["timestamp"].dt.tz_localize("Europe/Paris"))
    assert temporal_split(as_seconds)[1].index.equals(expected)
    assert temporal_split(aware)[1].index.equals(expected)


def test_temporal_split_refuses_a_cut_that_empties_train():
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [1, 2, 3], "timestamp": [5, 5, 5]})
    with pytest.raises(ValueError, match="train would be empty"):
        temporal_split(frame, test_ratio=0.3)


@given(
    seconds=st.lists(st.integers(0, 20), min_size=2, max_size=60),
    ratio=st.floats(0.05, 0.95),
)
@settings(max_examples=60, deadline=None)
def test_temporal_split_property(seconds, ratio):
    frame = pd.DataFrame(
        {
            "user_id": 0,
            "item_id": range(len(seconds)),
            "timestamp": pd.to_datetime(seconds, unit="s"),
        }
    )
    # The definition, spelled out: the cut is the time of the event n - n_test in time order.
    n_test = max(1, round(ratio * len(seconds)))
    cut = sorted(seconds)[len(seconds) - n_test]
    expected_test = [item for item, second in enumerate(seconds) if second >= cut]
    if len(expected_test) == len(seconds):
        with pytest.raises(ValueError, match="train would be empty"):
            temporal_split(frame, test_ratio=ratio)
        return
    train, test = temporal_split(frame, test_ratio=ratio)
    assert_partition(frame, train, test)
    assert test["item_id"].tolist() == expected_test
    assert train["timestamp"].max() < test["timestamp"].min()
    assert len(test) >= n_test


# ---------------------------------------------------------------- leave_last_out


def test_leave_last_out_hand_computed():
    frame = pd.DataFrame(
        {
            "user_id": [1, 2, 1, 1, 3, 2, 1, 2],
            "item_id": [10, 20, 11, 12, 30, 21, 13, 22],
            "timestamp": pd.to_datetime([5, 1, 3, 9, 4, 7, 9, 2], unit="s"),
        }
    )
    # user 1: times 5,3,9,9 -> the last by time is the later of the two rows at 9 (item 13).
    # user 2: times 1,7,2 -> item 21. user 3: a single event stays in train.
    train, test = leave_last_out(frame, n=1)
    assert_partition(frame, train, test)
    assert sorted(test["item_id"]) == [13, 21]
    _, test_two = leave_last_out(frame, n=2)
    assert sorted(test_two["item_id"]) == [12, 13, 21, 22]
    _, test_three = leave_last_out(frame, n=3)
    assert sorted(test_three["item_id"]) == [10, 12, 13]  # user 2 has only 3 events


@given(
    counts=st.lists(st.integers(1, 8), min_size=1, max_size=10),
    n=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
@settings(max_examples=60, deadline=None)
def test_leave_last_out_property(counts, n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(len(counts)), counts),
            "item_id": np.arange(sum(counts)),
            "timestamp": pd.to_datetime(rng.integers(0, 5, size=sum(counts)), unit="s"),
        }
    ).sample(frac=1.0, random_state=seed)
    if max(counts) <= n:  # nobody has an event to spare: the test set would be empty
        with pytest.raises(ValueError, match="test set would be empty"):
            leave_last_out(frame, n=n)
        return
    train, test = leave_last_out(frame, n=n)
    assert_partition(frame, train, test)
    per_user = test["user_id"].value_counts()
    for user, count in enumerate(counts):
        assert per_user.get(user, 0) == (n if count > n else 0)
        if count > n:
            assert (
                train.loc[train["user_id"] == user, "timestamp"].max()
                <= test.loc[test["user_id"] == user, "timestamp"].min()
            )


def test_leave_last_out_picks_latest_events_on_realistic_data(interactions):
    train, test = leave_last_out(interactions, n=2)
    assert_partition(interactions, train, test)
    sizes = interactions["user_id"].value_counts()
    assert set(test["user_id"]) == set(sizes.index[sizes > 2])
    latest_train = train.groupby("user_id")["timestamp"].max()
    earliest_test = test.groupby("user_id")["timestamp"].min()
    assert (latest_train.reindex(earliest_test.index) <= earliest_test).all()


def test_leave_last_out_breaks_time_ties_by_row_order():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 3, size=600),
            "item_id": np.arange(600),
            "timestamp": pd.to_datetime(rng.integers(0, 4, size=600), unit="s"),
        }
    )
    _, test = leave_last_out(frame, n=5)
    expected = []
    for user in range(3):  # reference: Python's sort is stable, so later rows stay later
        rows = sorted(
            frame.index[frame["user_id"] == user], key=lambda row: frame.at[row, "timestamp"]
        )
        expected += rows[-5:]
    assert sorted(test.index) == sorted(expected)


@pytest.mark.parametrize("n", [0, -1, 1.5, "1", True])
def test_leave_last_out_rejects_bad_n(interactions, n):
    with pytest.raises(ValueError, match="n must be"):
        leave_last_out(interactions, n=n)


# ---------------------------------------------------------------- shared validation


@pytest.mark.parametrize("ratio", [0, 1, -0.1, 1.5, "0.3", True, float("nan")])
def test_bad_ratios_are_refused(interactions, ratio):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        random_split(interactions, test_ratio=ratio)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        stratified_split(interactions, test_ratio=ratio)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        temporal_split(interactions, test_ratio=ratio)


@pytest.mark.parametrize("split", [random_split, stratified_split, temporal_split, leave_last_out])
def test_empty_or_malformed_input_is_refused(interactions, split):
    with pytest.raises(ValueError, match="empty"):
        split(interactions.iloc[:0])
    with pytest.raises(ValueError, match="user_id"):
        split(interactions.drop(columns="user_id"))
    with pytest.raises(ValueError, match="DataFrame"):
        split(interactions.to_numpy())


def test_time_splits_need_complete_timestamps(interactions):
    broken = interactions.copy()
    broken.iloc[0, broken.columns.get_loc("timestamp")] = pd.NaT
    for split in (temporal_split, leave_last_out):
        with pytest.raises(ValueError, match="timestamps are missing"):
            split(broken)
        with pytest.raises(ValueError, match="timestamp"):
            split(interactions.drop(columns="timestamp"))


def test_random_split_refuses_too_few_rows():
    frame = pd.DataFrame({"user_id": [1], "item_id": [1]})
    with pytest.raises(ValueError, match="both sides"):
        random_split(frame)


# ---------------------------------------------------------------- test_ratio everywhere


@pytest.mark.parametrize("train_share", [0.75, 0.5, 0.8, 0.7])
def test_stratified_split_old_ratio_keyword_warns_and_gives_the_same_split(
    interactions, train_share
):
    with pytest.warns(DeprecationWarning, match=r"test_ratio=.*1 - ratio") as caught:
        old = stratified_split(interactions, ratio=train_share, seed=5)
    assert f"test_ratio={1 - train_share:.10g}" in str(caught[0].message)
    new = stratified_split(interactions, test_ratio=1 - train_share, seed=5)
    if train_share in (0.75, 0.5):  # 1 - (1 - r) == r exactly: identical rows
        assert old[0].index.equals(new[0].index) and old[1].index.equals(new[1].index)
    # test_ratio is the share held out, as in random_split: about a quarter of the rows
    assert abs(len(new[1]) / len(interactions) - (1 - train_share)) < 0.1


def test_stratified_split_takes_test_ratio_like_the_other_splits(interactions):
    frame = pd.DataFrame({"user_id": np.repeat([1, 2], 8), "item_id": np.arange(16)})
    for split_test in (
        stratified_split(frame, test_ratio=0.25)[1],
        random_split(frame, test_ratio=0.25)[1],
    ):
        assert len(split_test) == 4
    with pytest.raises(TypeError):  # a positional third argument is no longer a ratio
        stratified_split(frame, "user", 0.75)


def test_stratified_split_refuses_both_keywords(interactions):
    with pytest.raises(ValueError, match="not both"):
        stratified_split(interactions, test_ratio=0.3, ratio=0.7)


# ---------------------------------------------------------------- silent wrong answers refused


def test_one_row_per_user_gives_no_silently_empty_test_set():
    frame = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "item_id": [7, 8, 9],
            "timestamp": pd.to_datetime([1, 2, 3], unit="s"),
        }
    )
    with pytest.raises(ValueError, match="test set would be empty.*test_ratio=0.25 per user"):
        stratified_split(frame, test_ratio=0.25)
    with pytest.raises(ValueError, match="test set would be empty.*lower n"):
        leave_last_out(frame)


def test_a_large_test_ratio_gives_no_silently_empty_train_set():
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [7, 8, 9]})
    with pytest.raises(ValueError, match="train set would be empty.*nearer 0.5"):
        stratified_split(frame, test_ratio=0.7)


@pytest.mark.parametrize("split", [random_split, stratified_split])
def test_duplicated_pairs_are_refused_before_they_leak(interactions, split):
    repeated = pd.concat([interactions, interactions.iloc[[0, 3]]])
    with pytest.raises(ValueError, match=r"4 rows repeat a \(user, item\) pair.*drop_duplicates"):
        split(repeated)


@pytest.mark.parametrize("seed", [-1, "abc", 1.5, True, None])
def test_bad_seeds_are_refused(interactions, seed):
    for split in (random_split, stratified_split):
        with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
            split(interactions, seed=seed)


@pytest.mark.parametrize("split", [temporal_split, leave_last_out])
def test_time_splits_keep_repeat_events_in_time_order(split):
    # user 1 buys item 5 three times: each purchase is its own event, split by time
    frame = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2, 2],
            "item_id": [5, 6, 5, 5, 7, 8],
            "timestamp": pd.to_datetime([1, 2, 3, 9, 4, 8], unit="s"),
        }
    )
    train, test = split(frame)
    assert_partition(frame, train, test)
    assert (1, 5) in set(zip(test["user_id"], test["item_id"], strict=True))
    assert (1, 5) in set(zip(train["user_id"], train["item_id"], strict=True))
    for user in (1, 2):
        assert (
            train.loc[train["user_id"] == user, "timestamp"].max()
            < test.loc[test["user_id"] == user, "timestamp"].min()
        )
