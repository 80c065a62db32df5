"""Tests for recsys_lessons.models.neighbors: hand-checked similarities, pruning, scoring,
explanations, and agreement with implicit's CosineRecommender."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender

from recsys_lessons.data import interaction_matrix
from recsys_lessons.models.neighbors import SIMILARITIES, ItemKNN, UserKNN, similarity_matrix

# Four users x four items, 0/1. Column counts n = (3, 3, 2, 1); common users:
# dot(0,1) = 2 (u0, u1), dot(0,2) = 1 (u1), dot(0,3) = 1 (u3), dot(1,2) = 2 (u1, u2),
# dot(1,3) = 0, dot(2,3) = 0.
TINY = np.array(
    [
        [1, 1, 0, 0],
        [1, 1, 1, 0],
        [0, 1, 1, 0],
        [1, 0, 0, 1],
    ],
    dtype=float,
)
R6, R3 = math.sqrt(6), math.sqrt(3)


def dense(S) -> np.ndarray:
    return S.toarray()


def random_ratings(seed=0, n_users=300, n_items=120, density=0.08) -> sp.csr_matrix:
    """Continuous values in [1, 5]: no two similarities tie, so tie-breaking never matters."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_users, n_items, density=density, format="csr", random_state=rng, dtype=np.float32
    )
    X.data = (1.0 + 4.0 * X.data).astype(np.float32)
    return X


# --- similarity_matrix: formulas by hand ------------------------------------------------------


def test_cosine_by_hand():
    # cos(i, j) = dot / sqrt(n_i n_j): 2/sqrt(3*3), 1/sqrt(3*2), 1/sqrt(3*1), 2/sqrt(3*2)
    expected = np.array(
        [
            [0, 2 / 3, 1 / R6, 1 / R3],
            [2 / 3, 0, 2 / R6, 0],
            [1 / R6, 2 / R6, 0, 0],
            [1 / R3, 0, 0, 0],
        ]
    )
    np.testing.assert_allclose(dense(similarity_matrix(TINY, "cosine")), expected)


def test_jaccard_by_hand():
    # |U_i & U_j| / |U_i | U_j| = dot / (n_i + n_j - dot):
    # (0,1) 2/(3+3-2), (0,2) 1/(3+2-1), (0,3) 1/(3+1-1), (1,2) 2/(3+2-2)
    expected = np.array(
        [
            [0, 1 / 2, 1 / 4, 1 / 3],
            [1 / 2, 0, 2 / 3, 0],
            [1 / 4, 2 / 3, 0, 0],
            [1 / 3, 0, 0, 0],
        ]
    )
    np.testing.assert_allclose(dense(similarity_matrix(TINY, "jaccard")), expected)


def test_asymmetric_cosine_alpha_one_is_confidence():
    # alpha = 1: S[i, j] = dot(i, j) / n_i = P(j | i); e.g. S[0, 3] = 1/3 but S[3, 0] = 1/1.
    expected = np.array(
        [
            [0, 2 / 3, 1 / 3, 1 / 3],
            [2 / 3, 0, 2 / 3, 0],
            [1 / 2, 2 / 2, 0, 0],
            [1 / 1, 0, 0, 0],
        ]
    )
    S = similarity_matrix(TINY, "asymmetric_cosine", alpha=1.0)
    np.testing.assert_allclose(dense(S), expected)


def test_asymmetric_cosine_general_alpha_and_half_is_cosine():
    # S[0, 2] = 1 / (3^0.75 * 2^0.25) and S[2, 0] = 1 / (2^0.75 * 3^0.25)
    S = dense(similarity_matrix(TINY, "asymmetric_cosine", alpha=0.75))
    assert S[0, 2] == pytest.approx(1 / (3**0.75 * 2**0.25))
    assert S[2, 0] == pytest.approx(1 / (2**0.75 * 3**0.25))
    X = random_ratings()
    np.testing.assert_allclose(
        dense(similarity_matrix(X, "asymmetric_cosine", alpha=0.5)),
        dense(similarity_matrix(X, "cosine")),
        rtol=1e-12,
    )


def test_cosine_on_weighted_values_uses_their_norms():
    # Item 0 = (3, 4) and item 1 = (4, 3) over two users: cos = (12 + 12) / (5 * 5).
    X = np.array([[3.0, 4.0], [4.0, 3.0]])
    assert dense(similarity_matrix(X))[0, 1] == pytest.approx(24 / 25)
    # Tanimoto: 24 / (25 + 25 - 24)
    assert dense(similarity_matrix(X, "jaccard"))[0, 1] == pytest.approx(24 / 26)


def test_shrink_divides_by_the_shrunk_denominator():
    # shrink = 1: dot / (sqrt(n_i n_j) + 1): (0,1) 2/(3+1), (0,2) 1/(sqrt6+1), (0,3) 1/(sqrt3+1)
    S = dense(similarity_matrix(TINY, "cosine", shrink=1.0))
    assert S[0, 1] == pytest.approx(2 / 4)
    assert S[0, 2] == pytest.approx(1 / (R6 + 1))
    assert S[0, 3] == pytest.approx(1 / (R3 + 1))
    J = dense(similarity_matrix(TINY, "jaccard", shrink=2.0))
    assert J[1, 2] == pytest.approx(2 / (3 + 2 - 2 + 2))


def test_shrink_prefers_the_neighbour_with_more_common_users():
    # Item t (users 0-3); rare item r (user 0 only): cos = 1 / sqrt(4 * 1) = 0.5.
    # Popular item p (users 1, 2, 4, 5, 6, 7): cos = 2 / sqrt(4 * 6) = 0.408.
    # shrink = 2: r -> 1 / (2 + 2) = 0.25, p -> 2 / (4.899 + 2) = 0.290: p overtakes r.
    X = np.zeros((8, 3))
    X[[0, 1, 2, 3], 0] = 1  # t
    X[0, 1] = 1  # r
    X[[1, 2, 4, 5, 6, 7], 2] = 1  # p
    plain = similarity_matrix(X, neighbors=1)
    shrunk = similarity_matrix(X, shrink=2.0, neighbors=1)
    assert plain[0].indices.tolist() == [1]
    assert plain[0].data[0] == pytest.approx(0.5)
    assert shrunk[0].indices.tolist() == [2]
    assert shrunk[0].data[0] == pytest.approx(2 / (math.sqrt(24) + 2))


def test_pruning_keeps_the_largest_per_row_by_hand():
    # Cosine rows of TINY: row 0 {1: 0.667, 2: 0.408, 3: 0.577}, row 1 {0: 0.667, 2: 0.816},
    # row 2 {0: 0.408, 1: 0.816}, row 3 {0: 0.577}.
    S = similarity_matrix(TINY, "cosine", neighbors=1)
    expected = np.zeros((4, 4))
    expected[0, 1], expected[1, 2], expected[2, 1], expected[3, 0] = 2 / 3, 2 / R6, 2 / R6, 1 / R3
    np.testing.assert_allclose(dense(S), expected)


@pytest.mark.parametrize("similarity", SIMILARITIES)
@pytest.mark.parametrize("shrink", [0.0, 5.0])
def test_pruning_keeps_the_top_k_of_each_full_row(similarity, shrink):
    X = random_ratings(seed=1)
    full = dense(similarity_matrix(X, similarity, alpha=0.3, shrink=shrink))
    k = 7
    pruned = dense(similarity_matrix(X, similarity, alpha=0.3, shrink=shrink, neighbors=k))
    kept = pruned != 0
    assert (kept.sum(axis=1) <= k).all()
    np.testing.assert_array_equal(pruned[kept], full[kept])
    smallest_kept = np.where(kept, pruned, np.inf).min(axis=1)
    largest_dropped = np.where(kept, -np.inf, full).max(axis=1)
    assert (smallest_kept >= largest_dropped).all()
    # rows with at least k non-zero similarities keep exactly k
    assert (kept.sum(axis=1)[(full != 0).sum(axis=1) >= k] == k).all()


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_blocks_do_not_change_the_result(similarity):
    X = random_ratings(seed=2)
    whole = similarity_matrix(X, similarity, alpha=0.7, shrink=3.0, neighbors=10)
    blocked = similarity_matrix(X, similarity, alpha=0.7, shrink=3.0, neighbors=10, block_rows=7)
    assert abs(whole - blocked).max() < 1e-12
    assert whole.diagonal().max() == 0


def test_empty_columns_get_zero_similarity():
    X = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    for similarity in SIMILARITIES:
        S = dense(similarity_matrix(X, similarity, alpha=1.0))
        assert np.isfinite(S).all()
        assert not S[1].any() and not S[:, 1].any()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"similarity": "pearson"}, "similarity must be one of"),
        ({"alpha": 1.5}, "alpha must lie in"),
        ({"alpha": "half"}, "alpha must be a finite number"),
        ({"shrink": -1.0}, "shrink must lie in"),
        ({"neighbors": 0}, "neighbors must be a positive integer"),
        ({"neighbors": 2.5}, "neighbors must be a positive integer"),
        ({"block_rows": 0}, "block_rows must be a positive integer"),
    ],
)
def test_bad_options_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        similarity_matrix(TINY, **kwargs)


# --- ItemKNN -----------------------------------------------------------------------------------


def test_item_knn_scores_by_hand_and_excludes_seen():
    # u0 has items 0 and 1: score(u0, 2) = S[0,2] + S[1,2] = 1/sqrt6 + 2/sqrt6,
    # score(u0, 3) = S[0,3] + S[1,3] = 1/sqrt3.
    model = ItemKNN(neighbors=None).fit(TINY)
    scores = model.score([0])[0]
    assert scores[2] == pytest.approx(3 / R6)
    assert scores[3] == pytest.approx(1 / R3)
    items, top = model.recommend([0], k=2)
    assert items.tolist() == [[2, 3]]
    np.testing.assert_allclose(top, [[3 / R6, 1 / R3]])


def test_item_knn_uses_ratings_unless_binarized():
    X = random_ratings(seed=3)
    weighted = ItemKNN(neighbors=20, binarize=False).fit(X)
    binary = ItemKNN(neighbors=20, binarize=True).fit(X)
    B = X.copy()
    B.data[:] = 1.0
    np.testing.assert_allclose(weighted.score(), (X @ weighted.similarity_).toarray(), rtol=1e-6)
    np.testing.assert_allclose(binary.score(), (B @ binary.similarity_).toarray(), rtol=1e-12)
    assert abs(binary.similarity_ - similarity_matrix(B, neighbors=20)).max() < 1e-12


def test_recommend_never_returns_seen_items():
    X = random_ratings(seed=4)
    items, _ = ItemKNN(neighbors=10).fit(X).recommend(k=10)
    assert not np.asarray(X[np.arange(X.shape[0])[:, None], items].todense()).any()
    items, _ = UserKNN(neighbors=10).fit(X).recommend(k=10)
    assert not np.asarray(X[np.arange(X.shape[0])[:, None], items].todense()).any()


def test_similar_items_reads_the_pruned_row():
    model = ItemKNN(neighbors=2).fit(TINY)
    items, scores = model.similar_items(0, n=5)
    assert items.tolist() == [1, 3]  # 2/3 then 1/sqrt3; 1/sqrt6 was pruned
    np.testing.assert_allclose(scores, [2 / 3, 1 / R3])
    items, _ = model.similar_items(0, n=1)
    assert items.tolist() == [1]


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_item_knn_explanations_sum_to_the_score(similarity):
    X = random_ratings(seed=5)
    model = ItemKNN(similarity=similarity, alpha=0.8, shrink=2.0, neighbors=15).fit(X)
    recommended, scores = model.recommend(np.arange(20), k=3)
    for user in range(20):
        for item, score in zip(recommended[user], scores[user], strict=True):
            full = model.explain(user, int(item), n=None)
            assert full["contribution"].sum() == pytest.approx(score, rel=1e-9)
            assert set(full["item"]) <= set(X[user].indices)
            np.testing.assert_allclose(
                full["contribution"], full["weight"] * full["similarity"], rtol=1e-12
            )
            top = model.explain(user, int(item), n=2)
            pd.testing.assert_frame_equal(top, full.head(2))
            assert full["contribution"].is_monotonic_decreasing


def test_item_knn_explain_by_hand():
    model = ItemKNN(neighbors=None).fit(TINY)
    table = model.explain(0, 2)
    assert table["item"].tolist() == [1, 0]
    np.testing.assert_allclose(table["contribution"], [2 / R6, 1 / R6])


def test_item_knn_input_errors():
    model = ItemKNN()
    with pytest.raises(ValueError, match="not fitted"):
        model.similar_items(0)
    model.fit(TINY)
    with pytest.raises(ValueError, match="out of range"):
        model.similar_items(4)
    with pytest.raises(ValueError, match="integer item index"):
        model.similar_items("Toy Story")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        model.similar_items(0, n=0)
    with pytest.raises(ValueError, match="user index 9 is out of range"):
        model.explain(9, 0)
    with pytest.raises(ValueError, match="similarity must be one of"):
        ItemKNN(similarity="euclid").fit(TINY)


def test_get_params_round_trip():
    model = ItemKNN(similarity="jaccard", alpha=0.2, shrink=10.0, neighbors=50, binarize=True)
    params = model.get_params()
    assert params == {
        "similarity": "jaccard",
        "alpha": 0.2,
        "shrink": 10.0,
        "neighbors": 50,
        "binarize": True,
    }
    assert UserKNN(**params).get_params() == params


# --- UserKNN -----------------------------------------------------------------------------------


def test_user_knn_by_hand():
    # Users as vectors over items: u0 {0,1}, u1 {0,1,2}, u2 {1,2}, u3 {0,3}.
    # cos(u0,u1) = 2/sqrt6, cos(u0,u2) = 1/2, cos(u0,u3) = 1/2.
    # score(u0, 2) = cos(u0,u1)*1 + cos(u0,u2)*1 = 2/sqrt6 + 1/2; score(u0, 3) = cos(u0,u3) = 1/2.
    model = UserKNN(neighbors=None).fit(TINY)
    scores = model.score([0])[0]
    assert scores[2] == pytest.approx(2 / R6 + 1 / 2)
    assert scores[3] == pytest.approx(1 / 2)
    users, sims = model.similar_users(0, n=3)
    assert users.tolist() == [1, 2, 3]
    np.testing.assert_allclose(sims, [2 / R6, 1 / 2, 1 / 2])
    table = model.explain(0, 2, n=None)
    assert table["user"].tolist() == [1, 2]
    assert table["contribution"].sum() == pytest.approx(scores[2])


def test_user_knn_prunes_neighbours_per_user():
    # neighbors=1: u0 keeps only u1 (2/sqrt6 > 1/2), so item 3 (held by u3 only) scores 0.
    model = UserKNN(neighbors=1).fit(TINY)
    assert model.similarity_[0].indices.tolist() == [1]
    assert model.score([0])[0, 3] == 0.0
    assert model.score([0])[0, 2] == pytest.approx(2 / R6)


def test_user_knn_explanations_sum_to_the_score():
    X = random_ratings(seed=6)
    model = UserKNN(similarity="asymmetric_cosine", alpha=0.7, neighbors=30, binarize=True).fit(X)
    recommended, scores = model.recommend(np.arange(15), k=3)
    for user in range(15):
        for item, score in zip(recommended[user], scores[user], strict=True):
            table = model.explain(user, int(item), n=None)
            assert table["contribution"].sum() == pytest.approx(score, rel=1e-9)


# --- agreement with implicit -------------------------------------------------------------------


def implicit_cosine(X: sp.csr_matrix, K: int):
    """implicit's CosineRecommender(K): its similarity without the diagonal, and its top-10."""
    model = CosineRecommender(K=K, num_threads=1)
    model.fit(X, show_progress=False)
    S = model.similarity.tocsr()
    S = sp.csr_matrix(S - sp.diags(S.diagonal()))
    S.eliminate_zeros()
    items, scores = model.recommend(np.arange(X.shape[0]), X, N=10)
    return S, items, scores


def assert_same_rows_up_to_ties(ours: sp.csr_matrix, theirs: sp.csr_matrix, neighbors: int):
    """Each row keeps the same similarity values; returns the rows whose items differ (ties).

    implicit counts the item itself among its K neighbours. When other items tie with it at
    similarity 1, it may keep K others instead of K - 1, so compare the largest values only.
    """
    differing = []
    for row in range(ours.shape[0]):
        mine = np.sort(ours[row].data)[::-1]
        other = np.sort(theirs[row].data)[::-1]
        assert len(mine) == min(neighbors, len(other)), row
        np.testing.assert_allclose(mine, other[: len(mine)], rtol=1e-6, atol=1e-9)
        if set(ours[row].indices) != set(theirs[row].indices):
            differing.append(row)
    return np.array(differing, dtype=np.int64)


def assert_same_top_lists(model, users, their_items, their_scores):
    """Same scores rank by rank, and implicit's items get those scores from our model too:
    the two lists can then only differ by the order of tied items."""
    items, scores = model.recommend(users, k=10)
    np.testing.assert_allclose(scores, their_scores, rtol=1e-6, atol=1e-9)
    full = model.score(users)
    np.testing.assert_allclose(
        np.take_along_axis(full, their_items, axis=1), their_scores, rtol=1e-6, atol=1e-9
    )
    return (items == their_items).all(axis=1).mean()


@pytest.mark.filterwarnings("ignore:Method expects CSR input")
@pytest.mark.parametrize("K", [5, 20, 200])
def test_matches_implicit_cosine_on_random_data(K):
    """Continuous values never tie, so neighbourhoods and lists must be identical."""
    X = random_ratings(seed=7)
    model = ItemKNN(similarity="cosine", shrink=0.0, neighbors=K - 1, binarize=False).fit(X)
    S, their_items, their_scores = implicit_cosine(X, K)
    assert assert_same_rows_up_to_ties(model.similarity_, S, K - 1).size == 0
    users = np.flatnonzero((their_scores > 0).all(axis=1))
    assert len(users) > 0.9 * X.shape[0]
    assert assert_same_top_lists(model, users, their_items[users], their_scores[users]) == 1.0


@pytest.mark.filterwarnings("ignore:Method expects CSR input")
@pytest.mark.parametrize("value", ["rating", None])
def test_matches_implicit_cosine_on_movielens_100k(ml100k_dir, value):
    """Same top-10 lists as implicit.CosineRecommender(K=21) on all of MovieLens 100K.

    implicit uses the matrix values as given (ratings, or 1.0 with value=None) both to
    compute the cosine and to weight a user's history, like ItemKNN(binarize=False); it keeps
    the item itself among its K neighbours, hence neighbors = K - 1.

    Rare films make similarities tie at the K-th place, where the two libraries may keep
    different (equally similar) neighbours. So the check is in three parts: every row keeps
    the same similarity values; scoring implicit's own similarity with our formula
    (x_u @ S, seen items removed) gives implicit's lists for every user; and for every user
    whose history avoids the tied rows, our model's lists equal implicit's.
    """
    ratings = pd.read_csv(
        ml100k_dir / "u.data", sep="\t", names=["user_id", "item_id", "rating", "timestamp"]
    )
    X = interaction_matrix(ratings, value=value).X
    K = 21
    model = ItemKNN(similarity="cosine", shrink=0.0, neighbors=K - 1, binarize=False).fit(X)
    S, their_items, their_scores = implicit_cosine(X, K)
    assert (their_scores > 0).all()

    differing = assert_same_rows_up_to_ties(model.similarity_, S, K - 1)
    assert len(differing) < 0.35 * X.shape[1]

    formula = (X.astype(np.float64) @ S).toarray()
    formula[X.nonzero()] = -np.inf
    order = np.argsort(-formula, axis=1, kind="stable")[:, :10]
    np.testing.assert_allclose(np.take_along_axis(formula, order, 1), their_scores, rtol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(formula, their_items, 1), their_scores, rtol=1e-6)

    users = np.flatnonzero(X[:, differing].getnnz(axis=1) == 0)
    assert len(users) > 250
    identical = assert_same_top_lists(model, users, their_items[users], their_scores[users])
    assert identical > 0.99


def test_tied_neighbours_at_the_cut_go_to_the_lower_item_index():
    # Item 0 is equally similar to items 1..8; keeping 3 neighbours must not depend on how
    # numpy's partition (which differs between CPUs) orders the ties.
    X = sp.csr_matrix(np.ones((4, 9)))
    S = similarity_matrix(X, neighbors=3)
    assert S[0].indices.tolist() == [1, 2, 3]
    assert S[8].indices.tolist() == [0, 1, 2]
