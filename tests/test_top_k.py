"""top_k_indices with a tie order (``tie_break``): priorities honoured, prefixes kept, bad input refused;
the fast cuts of long rows (top_k_of_long_rows, top_k_entries) give the same top-k."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recsys_lessons.top_k import top_k_entries, top_k_indices, top_k_of_long_rows


def test_tie_break_puts_the_smaller_priority_first_among_equal_scores():
    scores = np.array([[1.0, 3.0, 3.0, 3.0, 0.0]])
    priority = np.array([0, 2, 1, 0, 3])  # among items 1, 2, 3: item 3, then 2, then 1
    np.testing.assert_array_equal(top_k_indices(scores, 2, tie_break=priority), [[3, 2]])
    np.testing.assert_array_equal(top_k_indices(scores, 4, tie_break=priority), [[3, 2, 1, 0]])


def test_tie_break_never_overrides_a_higher_score():
    scores = np.array([[5.0, 1.0, 1.0, 4.0]])
    np.testing.assert_array_equal(top_k_indices(scores, 3, tie_break=[3, 2, 1, 0]), [[0, 3, 2]])


def test_equal_priorities_fall_back_to_the_lower_index():
    scores = np.zeros((1, 4))
    np.testing.assert_array_equal(
        top_k_indices(scores, 4, tie_break=[1.0, 0.5, 1.0, 0.5]), [[1, 3, 0, 2]]
    )


def test_an_all_tied_row_follows_the_permutation_not_the_item_numbering():
    permutation = np.random.default_rng(0).permutation(50)
    ranked = top_k_indices(np.zeros((3, 50)), 10, tie_break=permutation)
    np.testing.assert_array_equal(ranked, np.tile(np.argsort(permutation)[:10], (3, 1)))
    assert not np.array_equal(ranked[0], np.arange(10))


@settings(max_examples=80, deadline=None)
@given(
    arrays(np.float64, (6, 12), elements=st.sampled_from([-np.inf, np.nan, 0.0, 1.0, 2.5, 7.0])),
    st.permutations(range(12)),
    st.integers(1, 11),
)
def test_tie_break_equals_a_full_sort_and_nests_across_k(scores, priority, k):
    """A full sort by (-score, priority) cut at k, so top-k is a prefix of top-(k+1)."""
    priority = np.asarray(priority)
    clean = np.where(np.isnan(scores), -np.inf, scores)
    reference = np.lexsort((np.broadcast_to(priority, scores.shape), -clean), axis=1)
    top_k = top_k_indices(scores, k, tie_break=priority)
    np.testing.assert_array_equal(top_k, reference[:, :k])
    np.testing.assert_array_equal(top_k_indices(scores, k + 1, tie_break=priority)[:, :k], top_k)


def test_the_default_is_the_column_index():
    scores = np.random.default_rng(1).integers(0, 3, size=(5, 20)).astype(float)
    np.testing.assert_array_equal(
        top_k_indices(scores, 7), top_k_indices(scores, 7, tie_break=np.arange(20))
    )


@pytest.mark.parametrize(
    ("tie_break", "message"),
    [
        (np.arange(4), r"one priority per item, shape \(5,\)"),
        (np.arange(10).reshape(2, 5), r"shape \(5,\)"),
        (np.array([0.0, np.nan, 1.0, 2.0, 3.0]), "NaN or infinite"),
        (np.array([0.0, np.inf, 1.0, 2.0, 3.0]), "NaN or infinite"),
        (np.array(list("abcde")), "numbers"),
        (np.ones(5, dtype=bool), "numbers"),
    ],
)
def test_bad_tie_break_is_refused_with_a_clear_message(tie_break, message):
    with pytest.raises(ValueError, match=message):
        top_k_indices(np.zeros((2, 5)), 2, tie_break=tie_break)


@pytest.mark.parametrize("seed", range(6))
def test_top_k_of_long_rows_equals_top_k_indices(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n_rows, n_columns = int(rng.integers(1, 12)), int(rng.integers(1, 300))
        # k small enough for the group bound (n_columns >= 4k) half the time, any k otherwise
        short = max(1, n_columns // 4) if rng.random() < 0.5 else n_columns
        k = int(rng.integers(1, short + 1))
        if seed % 2:
            scores = rng.integers(-2, 3, size=(n_rows, n_columns)).astype(float)  # many ties
        else:
            scores = rng.normal(size=(n_rows, n_columns))
        scores[rng.random(scores.shape) < 0.2] = -np.inf  # seen items
        scores[rng.random(scores.shape) < 0.05] = np.nan  # ranks last, like -inf
        scores[0] = 0.0  # a user whom nothing reaches
        if n_rows > 1:
            scores[1] = -np.inf  # a user who has seen everything
        top = top_k_indices(scores, k)
        np.testing.assert_array_equal(top_k_of_long_rows(scores, k), top)
        no_nan = np.where(np.isnan(scores), -np.inf, scores)  # top_k_entries takes no NaN
        np.testing.assert_array_equal(top_k_entries(no_nan, k), flat_positions(top, n_columns))


def flat_positions(top, n_columns):
    """The entries of a top-k as top_k_entries returns them: flat positions, ascending."""
    return np.sort((top + n_columns * np.arange(len(top))[:, None]).ravel())


def test_top_k_entries_finds_the_kth_value_each_way_and_breaks_ties_by_column():
    """Rows whose k-th value comes from their few candidates, from their whole row (more than
    4k candidates: ties at the bound, -inf) and rows too short for the bound (k > n / 4)."""
    rng = np.random.default_rng(7)
    n_columns, k = 240, 6
    scores = rng.normal(size=(6, n_columns))
    scores[1] = np.round(scores[1])  # few candidates, many ties at the k-th value
    scores[2] = 0.0  # every column ties at the bound ...
    scores[2, [5, 77, 200]] = [3.0, 1.0, 2.0]  # ... but three are larger
    scores[3, 10:] = -np.inf  # fewer than k finite scores outside the first 10 columns
    scores[4] = -np.inf  # nothing finite at all
    scores[5, rng.permutation(n_columns)[:30]] = 9.0  # 30 ties above every other score
    for k in [6, 1, n_columns // 4, n_columns // 3, n_columns]:
        want = top_k_indices(scores, k)
        got = top_k_entries(scores, k)
        np.testing.assert_array_equal(got, flat_positions(want, n_columns))
        assert np.bincount(got // n_columns, minlength=len(scores)).tolist() == [k] * len(scores)
    tied = top_k_entries(scores[5:], 6) % n_columns
    np.testing.assert_array_equal(tied, np.sort(np.flatnonzero(scores[5] == 9.0))[:6])
