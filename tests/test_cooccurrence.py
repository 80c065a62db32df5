"""Tests for recsys_lessons.models.cooccurrence: counts, confidence and lift checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_lessons.models.cooccurrence import bought_together, cooccurrence_counts

# Five baskets over items A, B, C, D (columns 0..3). count(A) = 4, count(B) = 4,
# count(C) = 2, count(D) = 1; count(A,B) = 3 (b0, b1, b4), count(A,C) = 2 (b1, b2),
# count(B,C) = 1 (b1), count(B,D) = 1 (b3), count(A,D) = count(C,D) = 0.
BASKETS = np.array(
    [
        [1, 1, 0, 0],
        [1, 1, 1, 0],
        [1, 0, 1, 0],
        [0, 1, 0, 1],
        [1, 1, 0, 0],
    ],
    dtype=float,
)
A, B, C, D = range(4)
N = 5


def test_counts_by_hand():
    expected = np.array([[4, 3, 2, 0], [3, 4, 1, 1], [2, 1, 2, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(cooccurrence_counts(BASKETS).toarray(), expected)


def test_only_presence_matters():
    ratings = BASKETS * np.array([5, 2, 3.5, 1])
    np.testing.assert_array_equal(
        cooccurrence_counts(sp.csr_matrix(ratings)).toarray(),
        cooccurrence_counts(BASKETS).toarray(),
    )
    assert bought_together(ratings, A, measure="lift").equals(
        bought_together(BASKETS, A, measure="lift")
    )


def test_count_confidence_and_lift_by_hand():
    # For A: confidence(A -> B) = 3/4, (A -> C) = 2/4;
    # lift(A, B) = 3 * 5 / (4 * 4) = 0.9375, lift(A, C) = 2 * 5 / (4 * 2) = 1.25.
    by_count = bought_together(BASKETS, A, measure="count")
    assert by_count["item"].tolist() == [B, C]
    assert by_count["count"].tolist() == [3, 2]
    np.testing.assert_allclose(by_count["confidence"], [3 / 4, 2 / 4])
    np.testing.assert_allclose(by_count["lift"], [3 * N / (4 * 4), 2 * N / (4 * 2)])
    by_lift = bought_together(BASKETS, A, measure="lift")
    assert by_lift["item"].tolist() == [C, B]  # C is rarer, so its 2 co-occurrences lift more


def test_min_support_filters_rare_pairs():
    # For B: lift(B, D) = 1 * 5 / (4 * 1) = 1.25 beats lift(B, A) = 0.9375 on a single basket.
    assert bought_together(BASKETS, B, measure="lift")["item"].tolist() == [D, A, C]
    filtered = bought_together(BASKETS, B, measure="lift", min_support=2)
    assert filtered["item"].tolist() == [A]


def test_ties_break_by_count_then_index():
    # For B by count: C and D both co-occur once -> lower index first.
    assert bought_together(BASKETS, B, measure="count")["item"].tolist() == [A, C, D]
    # For B by confidence: 3/4, 1/4, 1/4 -> same order.
    assert bought_together(BASKETS, B, measure="confidence")["item"].tolist() == [A, C, D]


def test_n_limits_the_list_and_the_anchor_is_never_listed():
    top = bought_together(BASKETS, A, n=1)
    assert top["item"].tolist() == [B]
    assert A not in bought_together(BASKETS, A, n=4)["item"].tolist()
    assert bought_together(BASKETS, D, n=4)["item"].tolist() == [B]


def test_lift_of_independent_items_is_one():
    # 8 baskets, each combination of items 0 and 1 twice (two baskets hold neither):
    # lift = count(0,1) * N / (count(0) * count(1)) = 2 * 8 / (4 * 4) = 1.
    X = np.array([[1, 1], [1, 0], [0, 1], [0, 0], [1, 1], [1, 0], [0, 1], [0, 0]], dtype=float)
    assert bought_together(X, 0, measure="lift")["lift"].tolist() == [pytest.approx(1.0)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"measure": "support"}, "measure must be one of"),
        ({"min_support": 0}, "min_support must be a positive integer"),
        ({"n": 0}, "n must be a positive integer"),
        ({"item": 4}, "out of range"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    arguments = {"X": BASKETS, "item": A} | kwargs
    with pytest.raises(ValueError, match=message):
        bought_together(**arguments)
