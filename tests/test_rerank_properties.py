"""Properties every re-ranker of the course keeps, whatever the candidates (hypothesis).

Lesson 06's MMR and business rules and lesson 11's calibrated and xQuAD re-rankers all take
ranked candidates ``(items, scores)`` as ``recommend`` returns them. Each must return ``k``
distinct items drawn from each user's candidates, and at ``lambda_ = 0`` (the course's one
convention: the no-diversity end) give back the candidates' own order. The vector
retriever of lesson 06 must rank like the one top-k of the course, ties included.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recsys_lessons.hybrid import IndexRetriever, apply_business_rules, mmr_rerank
from recsys_lessons.models import ALS
from recsys_lessons.responsible.mitigate import calibrated_rerank, group_preference, xquad_rerank
from recsys_lessons.retrieval import ExactIndex
from recsys_lessons.top_k import top_k_indices


@st.composite
def ranked_candidates(draw):
    """Users' candidates ranked by score (ties to the lower id), with the catalogue they come from."""
    n_items = draw(st.integers(3, 25))
    n_users = draw(st.integers(1, 4))
    n_candidates = draw(st.integers(2, n_items))
    # small integers: many scores tie exactly, as genre-only models do
    scores = draw(arrays(np.float64, (n_users, n_items), elements=st.integers(0, 4)))
    items = top_k_indices(scores, n_candidates)
    relevance = np.take_along_axis(scores, items, axis=1)
    k = draw(st.integers(1, n_candidates))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    genres = (rng.random((n_items, 3)) < 0.5).astype(np.float64)
    genres[genres.sum(axis=1) == 0, 0] = 1.0  # every item has a genre
    histories = (rng.random((n_users, n_items)) < 0.3).astype(np.float64)
    histories[np.arange(n_users), rng.integers(0, n_items, n_users)] = 1.0  # nobody is empty
    return items, relevance, k, genres, sp.csr_matrix(histories)


def assert_k_distinct_candidates(lists, items, k):
    assert lists.shape == (len(items), k)
    for row, candidates in zip(lists, items, strict=True):
        assert len(set(row.tolist())) == k
        assert set(row.tolist()) <= set(candidates.tolist())


@settings(max_examples=80, deadline=None)
@given(ranked_candidates(), st.floats(0.0, 1.0))
def test_mmr_chooses_k_distinct_candidates_and_keeps_the_order_at_lambda_zero(case, lambda_):
    items, relevance, k, genres, _ = case
    assert_k_distinct_candidates(
        mmr_rerank(items, relevance, genres, k=k, lambda_=lambda_), items, k
    )
    np.testing.assert_array_equal(
        mmr_rerank(items, relevance, genres, k=k, lambda_=0.0), items[:, :k]
    )


@settings(max_examples=60, deadline=None)
@given(ranked_candidates(), st.floats(0.0, 1.0))
def test_calibrated_chooses_k_distinct_candidates_and_keeps_the_order_at_lambda_zero(case, lambda_):
    items, relevance, k, genres, histories = case
    lists = calibrated_rerank(items, relevance, histories, genres, lambda_=lambda_, k=k)
    assert_k_distinct_candidates(lists, items, k)
    kept = calibrated_rerank(items, relevance, histories, genres, lambda_=0.0, k=k)
    np.testing.assert_array_equal(kept, items[:, :k])


@settings(max_examples=60, deadline=None)
@given(ranked_candidates(), st.floats(0.0, 1.0))
def test_xquad_chooses_k_distinct_candidates_and_keeps_the_order_at_lambda_zero(case, lambda_):
    items, relevance, k, genres, histories = case
    groups = np.where(genres[:, 0] > 0, "head", "tail")
    _, preference = group_preference(histories, groups)
    lists = xquad_rerank(items, relevance, groups, preference, lambda_=lambda_, k=k)
    assert_k_distinct_candidates(lists, items, k)
    kept = xquad_rerank(items, relevance, groups, preference, lambda_=0.0, k=k)
    np.testing.assert_array_equal(kept, items[:, :k])


@settings(max_examples=60, deadline=None)
@given(ranked_candidates())
def test_business_rules_without_rules_keep_the_candidates_order(case):
    items, _, k, genres, _ = case
    groups = genres.argmax(axis=1)
    np.testing.assert_array_equal(apply_business_rules(items, groups, k=k), items[:, :k])
    capped = apply_business_rules(items, groups, k=k, max_per_group=1)
    for row in capped:
        shown = row[row >= 0]
        assert len(set(shown.tolist())) == len(shown)
        assert np.bincount(groups[shown], minlength=groups.max() + 1).max() <= 1


@pytest.fixture(scope="module")
def factor_model():
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((12, 20)) < 0.3).astype(np.float32))
    return ALS(factors=2, iterations=2, num_threads=1).fit(X)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (12, 1), elements=st.integers(-2, 2)),
    arrays(np.float64, (20, 1), elements=st.integers(-2, 2)),
    st.integers(1, 8),
)
def test_index_retriever_ranks_like_the_one_top_k_ties_included(factor_model, users, items, k):
    """With an exact index, the retriever's unseen top-k is top_k_indices of the masked scores."""
    model = factor_model
    model.user_factors_, model.item_factors_ = users, items
    retrieved, _ = IndexRetriever(model, ExactIndex(metric="dot")).recommend(np.arange(12), k=k)
    scores = users @ items.T
    scores[model.X_.nonzero()] = -np.inf
    np.testing.assert_array_equal(retrieved, top_k_indices(scores, k))
