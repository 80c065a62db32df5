"""Lesson 06: business rules respect what a user has seen; per-user candidate recall."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recsys_lessons.hybrid import apply_business_rules, candidate_recall, generate_candidates


def history(n_users, n_items, pairs):
    users, items = zip(*pairs, strict=True) if pairs else ((), ())
    return sp.csr_matrix((np.ones(len(users)), (users, items)), shape=(n_users, n_items))


def test_a_pinned_title_the_user_watched_is_not_pinned_for_that_user():
    groups = np.array([0, 0, 1, 1, 2, 2])
    ranked = np.array([[0, 1, 2, 4], [0, 1, 2, 4], [0, 1, 2, 4]])
    seen = history(3, 6, [(0, 5), (1, 3)])  # user 0 watched pin 5, user 1 watched pin 3
    rows = apply_business_rules(ranked, groups, k=4, pinned=[5, 3], seen=seen)
    assert rows.tolist() == [[3, 0, 1, 2], [5, 0, 1, 2], [5, 3, 0, 1]]
    # without the filter every user gets both pins, whatever they watched
    assert (apply_business_rules(ranked, groups, k=4, pinned=[5, 3])[:, :2] == [5, 3]).all()


def test_seen_candidates_are_skipped_and_group_caps_count_only_shown_pins():
    groups = np.array([0, 0, 0, 1, 1])
    ranked = np.array([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]])
    seen = history(2, 5, [(0, 1), (0, 2), (1, 0)])  # user 0 pinned item 2 is already watched
    rows = apply_business_rules(ranked, groups, k=3, max_per_group=2, pinned=[2], seen=seen)
    # user 0: pin skipped, candidate 1 seen -> 0, 3, 4; user 1: pin 2, then 1 (0 seen), cap reached
    assert rows.tolist() == [[0, 3, 4], [2, 1, 3]]


def test_business_rules_refuse_a_seen_matrix_of_other_users_or_items():
    ranked = np.array([[0, 1], [1, 0]])
    groups = np.array([0, 1, 1])
    with pytest.raises(ValueError, match="user rows"):
        apply_business_rules(ranked, groups, k=2, seen=history(3, 3, []))
    with pytest.raises(ValueError, match="item columns"):
        apply_business_rules(ranked, groups, k=2, seen=history(2, 4, []))
    with pytest.raises(ValueError, match="sparse"):
        apply_business_rules(ranked, groups, k=2, seen=np.zeros((2, 3)))


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int8, (4, 8), elements=st.integers(0, 1)),
    st.lists(st.integers(0, 7), max_size=3, unique=True),
    st.integers(1, 6),
    st.one_of(st.none(), st.integers(1, 3)),
    st.integers(0, 2**16),
)
def test_no_row_ever_shows_a_seen_item(watched, pinned, k, cap, seed):
    rng = np.random.default_rng(seed)
    ranked = np.array([rng.permutation(8) for _ in range(4)])
    groups = rng.integers(0, 3, 8)
    if cap is not None and len(pinned) > 0:
        cap = max(cap, np.bincount(groups[pinned]).max())  # pins alone may not break the cap
    k = max(k, len(pinned))
    rows = apply_business_rules(
        ranked, groups, k=k, max_per_group=cap, pinned=pinned, seen=sp.csr_matrix(watched)
    )
    for user, row in enumerate(rows):
        shown = row[row >= 0]
        assert not watched[user, shown].any()
        assert len(set(shown.tolist())) == len(shown)
        unseen_pins = [p for p in pinned if not watched[user, p]]
        assert shown[: len(unseen_pins)].tolist() == unseen_pins


class FixedSource:
    def __init__(self, items):
        self.items = np.asarray(items)

    def recommend(self, users, k=10, exclude_seen=True):
        items = self.items[users, :k]
        return items, -np.arange(items.shape[1], dtype=float) + np.zeros(items.shape)


def test_candidate_recall_per_user_gives_each_users_share_and_their_mean():
    frame = generate_candidates({"a": FixedSource([[1, 2], [3, 4], [0, 1]])}, [0, 1, 2], n=2)
    relevant = history(3, 6, [(0, 1), (0, 5), (1, 3), (1, 4)])  # user 2 has nothing held out
    per_user = candidate_recall(frame, relevant, per_user=True)
    np.testing.assert_allclose(per_user, [0.5, 1.0])
    assert candidate_recall(frame, relevant) == pytest.approx(per_user.mean())
    np.testing.assert_allclose(
        candidate_recall(frame, relevant, source="a", n=1, per_user=True), [0.5, 0.5]
    )
