"""The fast ItemKNN / UserKNN / similarity_matrix against the straightforward implementation.

The reference below is the package's code before issue 26 (one dense block of ``A^T A`` per
group of rows, every row cut by ``top_k_indices``, every user's scores ranked over the whole
catalogue by ``Recommender.recommend``), kept here and only here as the definition of the
right answer: the fast code must give the same neighbours, the same similarities and scores
(to float tolerance) and the same recommendations, ties included.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_lessons.models import neighbors as neighbors_module
from recsys_lessons.models.base import as_interaction_csr
from recsys_lessons.models.neighbors import (
    SIMILARITIES,
    ItemKNN,
    UserKNN,
    similarity_matrix,
)
from recsys_lessons.top_k import top_k_indices

# --- the reference -----------------------------------------------------------------------------


def reference_similarity(X, similarity="cosine", *, alpha=0.5, shrink=0.0, neighbors=None):
    X = as_interaction_csr(X).astype(np.float64)
    n = X.shape[1]
    block_rows = max(1, 2**22 // n)
    columns_as_rows = X.T.tocsr()
    squared_norms = np.asarray(X.multiply(X).sum(axis=0)).ravel()
    rows, cols, values = [], [], []
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        dots = (columns_as_rows[start:stop] @ X).toarray()
        row_norms = squared_norms[start:stop]
        if similarity == "cosine":
            denominator = np.multiply.outer(np.sqrt(row_norms), np.sqrt(squared_norms))
        elif similarity == "asymmetric_cosine":
            denominator = np.multiply.outer(row_norms**alpha, squared_norms ** (1.0 - alpha))
        else:
            denominator = np.add.outer(row_norms, squared_norms)
            denominator -= dots
        denominator += shrink
        block = np.divide(dots, denominator, out=dots, where=denominator > 0)
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        if neighbors is None or neighbors >= n:
            block_row, block_col = np.nonzero(block)
            block_value = block[block_row, block_col]
        else:
            top = top_k_indices(block, neighbors)
            top_values = np.take_along_axis(block, top, axis=1)
            top_rows = np.broadcast_to(np.arange(stop - start)[:, None], top.shape)
            keep = top_values != 0
            block_row, block_col, block_value = top_rows[keep], top[keep], top_values[keep]
        rows.append(block_row + start)
        cols.append(block_col)
        values.append(block_value)
    S = sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    S.sort_indices()
    return S


def reference_weights(X, binarize):
    weights = as_interaction_csr(X).astype(np.float64)
    weights.eliminate_zeros()
    if binarize:
        weights.data[:] = 1.0
    return weights


def reference_recommend(seen, all_scores, users, k, exclude_seen):
    """``Recommender.recommend`` before issue 26: the whole row of scores, cut by top_k_indices."""
    scores = np.array(all_scores[users], dtype=np.float64)
    if exclude_seen:
        history = seen[users]
        rows = np.repeat(np.arange(len(users)), np.diff(history.indptr))
        scores[rows, history.indices] = -np.inf
    top = top_k_indices(scores, k)
    return top, np.take_along_axis(scores, top, axis=1)


# --- random data with ties, empty rows and empty columns ------------------------------------


def random_matrix(seed, kind, n_users=70, n_items=45, density=0.12):
    """A user x item matrix of one ``kind``: 0/1 (ties everywhere), integer ratings (ties),
    continuous values, or signed values; two users and two items without any interaction."""
    rng = np.random.default_rng(seed)
    X = sp.random(n_users, n_items, density=density, format="lil", random_state=rng)
    X[:, [3, n_items - 1]] = 0
    X[[0, n_users // 2], :] = 0
    X = X.tocsr()
    X.eliminate_zeros()
    if kind == "binary":
        X.data[:] = 1.0
    elif kind == "ratings":
        X.data = np.ceil(5 * X.data)
    elif kind == "signed":
        X.data = np.where(rng.random(X.nnz) < 0.3, -1.0, 1.0) * (0.5 + 2 * X.data)
    else:
        X.data = 1.0 + 4.0 * X.data
    return X.astype(np.float32)


def assert_same_similarity(ours, reference):
    np.testing.assert_array_equal(ours.indptr, reference.indptr)
    np.testing.assert_array_equal(ours.indices, reference.indices)
    np.testing.assert_allclose(ours.data, reference.data, rtol=1e-12, atol=0)


KINDS = ["binary", "ratings", "continuous", "signed"]


# --- similarity_matrix --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("similarity", SIMILARITIES)
@pytest.mark.parametrize("shrink", [0.0, 2.5])
def test_similarity_matches_the_reference(kind, similarity, shrink):
    X = random_matrix(seed=KINDS.index(kind), kind=kind)
    n_items = X.shape[1]
    for neighbors in [1, 2, 5, n_items - 1, n_items, n_items + 3, None]:
        reference = reference_similarity(
            X, similarity, alpha=0.3, shrink=shrink, neighbors=neighbors
        )
        for block_rows in [None, 1, 7, n_items]:
            ours = similarity_matrix(
                X,
                similarity,
                alpha=0.3,
                shrink=shrink,
                neighbors=neighbors,
                block_rows=block_rows,
            )
            assert_same_similarity(ours, reference)


def test_binary_data_really_has_ties_at_the_cut():
    """The tie test above is only a test if some rows tie at the cut of their neighbours."""
    X = random_matrix(seed=0, kind="binary")
    full = reference_similarity(X, neighbors=None).toarray()
    k = 5
    tied_rows = 0
    for row in full:
        kept = np.sort(row[row > 0])[::-1]
        if len(kept) > k and kept[k - 1] == kept[k]:
            tied_rows += 1
    assert tied_rows >= 5


def test_an_item_with_neighbours_on_both_sides_of_the_block_boundary():
    # Item 2 shares users with items 0 and 4; with blocks of 2 rows its dots with item 0
    # come from an earlier block and its dot with item 4 from its own strip.
    X = np.array([[1, 0, 1, 0, 0], [1, 0, 1, 0, 1], [0, 0, 1, 0, 1], [0, 1, 0, 1, 0]], float)
    for block_rows in [1, 2, 3]:
        ours = similarity_matrix(X, block_rows=block_rows)
        assert_same_similarity(ours, reference_similarity(X))
    assert ours[2].indices.tolist() == [0, 4]


# --- the top-k cut ------------------------------------------------------------------------------


# --- ItemKNN and UserKNN recommendations -------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("binarize", [False, True])
@pytest.mark.parametrize("model_class", [ItemKNN, UserKNN])
def test_recommendations_match_the_reference(kind, binarize, model_class):
    X = random_matrix(seed=10 + KINDS.index(kind), kind=kind)
    n_users, n_items = X.shape
    users = np.arange(n_users)
    for neighbors, shrink in [(3, 0.0), (8, 4.0), (n_items + 1, 1.0), (None, 0.0)]:
        model = model_class(neighbors=neighbors, shrink=shrink, binarize=binarize).fit(X)
        weights = reference_weights(X, binarize)
        if model_class is ItemKNN:
            S = reference_similarity(weights, shrink=shrink, neighbors=neighbors)
            all_scores = (weights @ S).toarray()
        else:
            S = reference_similarity(weights.T, shrink=shrink, neighbors=neighbors)
            all_scores = (S @ weights).toarray()
        assert_same_similarity(model.similarity_, S)
        np.testing.assert_allclose(model.score(users), all_scores, rtol=1e-12, atol=0)
        for k in [1, 10, n_items]:
            for exclude_seen in [True, False]:
                items, scores = model.recommend(users, k=k, exclude_seen=exclude_seen)
                want_items, want_scores = reference_recommend(
                    as_interaction_csr(X), all_scores, users, k, exclude_seen
                )
                np.testing.assert_array_equal(items, want_items)
                np.testing.assert_allclose(scores, want_scores, rtol=1e-12, atol=0)


def test_recommendations_of_a_subset_of_users_in_any_order():
    X = random_matrix(seed=20, kind="ratings")
    model = ItemKNN(neighbors=6).fit(X)
    users = np.array([5, 0, 41, 5, 12])
    items, scores = model.recommend(users, k=7)
    every_items, every_scores = model.recommend(k=7)
    np.testing.assert_array_equal(items, every_items[users])
    np.testing.assert_array_equal(scores, every_scores[users])


def test_users_without_enough_unseen_items_get_seen_items_at_minus_inf():
    X = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 0, 0, 0], [0, 1, 1, 1]], dtype=float))
    items, scores = ItemKNN(neighbors=2).fit(X).recommend(k=4)
    want_items, want_scores = reference_recommend(
        X, (X @ reference_similarity(X, neighbors=2)).toarray(), np.arange(3), 4, True
    )
    np.testing.assert_array_equal(items, want_items)
    np.testing.assert_array_equal(scores, want_scores)
    assert np.isneginf(scores[0, 1:]).all()


@pytest.mark.parametrize("kept_dots", [0, 40, 300])
def test_dots_that_do_not_fit_the_cache_are_recomputed_to_the_same_bits(monkeypatch, kept_dots):
    X = random_matrix(seed=30, kind="continuous")
    monkeypatch.setattr(neighbors_module, "KEPT_DOTS", kept_dots)
    for block_rows in [1, 4, 9]:
        ours = similarity_matrix(X, "jaccard", shrink=1.0, neighbors=6, block_rows=block_rows)
        assert_same_similarity(ours, reference_similarity(X, "jaccard", shrink=1.0, neighbors=6))


def test_each_dot_is_computed_once_when_the_cache_holds_them(monkeypatch):
    """The sparse products of the blocks add up to half of A^T A (plus the diagonal blocks)."""
    X = random_matrix(seed=31, kind="binary", n_items=40)
    full = (X.T @ X).nnz
    computed = []
    original = neighbors_module._dot_blocks

    def counting(A, block_rows):
        for start, stop, block in original(A, block_rows):
            computed.append(np.count_nonzero(block))
            yield start, stop, block

    products = []
    csr_matmul = sp.csr_matrix.__matmul__

    def counting_matmul(self, other):
        result = csr_matmul(self, other)
        products.append(result.nnz)
        return result

    monkeypatch.setattr(neighbors_module, "_dot_blocks", counting)
    monkeypatch.setattr(sp.csr_matrix, "__matmul__", counting_matmul)
    similarity_matrix(X, neighbors=3, block_rows=4)
    assert sum(computed) == full  # every dot reaches its row ...
    assert sum(products) < 0.6 * full  # ... but about half of them were multiplied out


@pytest.mark.parametrize("similarity, alpha", [("cosine", 0.5), ("jaccard", 0.5),
                                               ("asymmetric_cosine", 0.0),
                                               ("asymmetric_cosine", 1.0)])  # fmt: skip
def test_empty_items_get_no_neighbours_and_no_warning(similarity, alpha):
    """Without shrinkage an empty item's row or column divides 0 by 0 (``n_i^0 = 1`` leaves
    only one of them for alpha 0 or 1); the result is 0, nothing is kept, nothing warns."""
    X = random_matrix(seed=40, kind="continuous")  # items 3 and 44 are empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = similarity_matrix(X, similarity, alpha=alpha, neighbors=None)
    assert_same_similarity(ours, reference_similarity(X, similarity, alpha=alpha))
    dense = ours.toarray()
    assert np.isfinite(dense).all()
    assert not dense[[3, 44]].any() and not dense[:, [3, 44]].any()
    assert ours.nnz > 0.5 * (43 * 42)  # the other items do have neighbours


def test_the_blocks_and_the_kept_dots_change_no_bit(monkeypatch):
    """Dots copied from an earlier block, transposed, or recomputed are the same floats."""
    X = random_matrix(seed=41, kind="signed")
    want = similarity_matrix(X, "asymmetric_cosine", alpha=0.3, shrink=0.5, neighbors=7)
    for kept_dots in [0, 50, 2**23]:
        monkeypatch.setattr(neighbors_module, "KEPT_DOTS", kept_dots)
        for block_rows in [1, 3, 8, 45]:
            got = similarity_matrix(
                X, "asymmetric_cosine", alpha=0.3, shrink=0.5, neighbors=7, block_rows=block_rows
            )
            np.testing.assert_array_equal(got.indptr, want.indptr)
            np.testing.assert_array_equal(got.indices, want.indices)
            np.testing.assert_array_equal(got.data, want.data)
