"""Tests of the lesson 06 pipeline (recsys_lessons.hybrid): hand-computed fixtures and references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons.hybrid import (
    BatchTable,
    IndexRetriever,
    LearnedRanker,
    LinearBlend,
    RealTimeRecommender,
    apply_business_rules,
    candidate_features,
    candidate_recall,
    decay,
    freshness_boost,
    generate_candidates,
    genre_matrix,
    label_candidates,
    latency_ms,
    mmr_rerank,
    normalize_scores,
    normalized_unseen_scores,
    rank_candidates,
    recent_matrix,
    trending_scores,
    tune_weights,
    weight_grid,
)
from recsys_lessons.models import ALS, EASE, Popularity
from recsys_lessons.retrieval import ApproximateIndex, ExactIndex
from recsys_lessons.top_k import top_k_indices

INF = np.inf


def random_matrix(n_users=40, n_items=30, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n_users, n_items, density=density, random_state=rng, format="csr")
    X.data[:] = 1.0
    return X


class FixedSource:
    """A source whose lists are given: recommend(users, k) returns the first k columns."""

    def __init__(self, items, scores):
        self.items, self.scores = np.asarray(items), np.asarray(scores, dtype=float)

    def recommend(self, users, k=10, exclude_seen=True):
        return self.items[users, :k], self.scores[users, :k]


# --------------------------------------------------------------------------------------
# normalize
# --------------------------------------------------------------------------------------


def test_zscore_rank_minmax_by_hand():
    scores = np.array([[1.0, 2.0, 3.0, -INF], [10.0, 10.0, 40.0, 20.0]])
    z = normalize_scores(scores, "zscore")
    np.testing.assert_allclose(z[0, :3], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    assert z[0, 3] == -INF
    # second row: mean 20, population std sqrt((100+100+400+0)/4) = sqrt(150)
    np.testing.assert_allclose(z[1], np.array([-10, -10, 20, 0]) / np.sqrt(150))
    np.testing.assert_allclose(normalize_scores(scores, "rank")[0, :3], [0.0, 0.5, 1.0])
    # ties share the average rank: ranks 1.5, 1.5, 4, 3 of 4 -> (r - 1) / 3
    np.testing.assert_allclose(normalize_scores(scores, "rank")[1], [0.5 / 3, 0.5 / 3, 1.0, 2 / 3])
    np.testing.assert_allclose(normalize_scores(scores, "minmax")[1], [0.0, 0.0, 1.0, 1 / 3])


@pytest.mark.parametrize("method", ["zscore", "rank", "minmax"])
def test_normalization_is_per_user_and_ignores_scale(method):
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(5, 20))
    rescaled = scores * np.array([1, 10, 100, 0.5, 3])[:, None] + np.arange(5)[:, None]
    np.testing.assert_allclose(normalize_scores(scores, method), normalize_scores(rescaled, method))


def test_constant_row_and_bad_input():
    assert (normalize_scores([[2.0, 2.0, -INF]], "zscore")[0, :2] == 0).all()
    with pytest.raises(ValueError, match="method"):
        normalize_scores([[1.0]], "softmax")
    with pytest.raises(ValueError, match="NaN"):
        normalize_scores([[np.nan, 1.0]])


# --------------------------------------------------------------------------------------
# blend
# --------------------------------------------------------------------------------------


def test_weight_grid_is_the_simplex():
    grid = weight_grid(["a", "b", "c"], step=0.5)
    assert len(grid) == 6  # (0,0,1) (0,.5,.5) (0,1,0) (.5,0,.5) (.5,.5,0) (1,0,0)
    assert all(np.isclose(sum(w.values()), 1.0) for w in grid)
    with pytest.raises(ValueError, match="divide 1"):
        weight_grid(["a"], step=0.3)


def test_tune_weights_picks_the_model_that_finds_the_relevant_item():
    relevant = sp.csr_matrix(np.array([[0, 0, 1, 0], [1, 0, 0, 0]]))
    good = np.array([[0.0, 0.1, 0.9, -INF], [0.9, 0.1, 0.0, -INF]])
    bad = np.array([[0.9, 0.1, 0.0, -INF], [0.0, 0.1, 0.9, -INF]])
    best, table = tune_weights(
        {"good": good, "bad": bad}, relevant, weight_grid(["good", "bad"], 0.5), k=1
    )
    assert best == {"good": 1.0, "bad": 0.0}
    assert dict((tuple(w.values()), v) for w, v in table)[(1.0, 0.0)] == 1.0


def test_linear_blend_with_one_weight_is_that_model_normalized():
    X = random_matrix()
    blend = LinearBlend(
        {"ease": EASE(regularization=10.0), "pop": Popularity()}, {"ease": 1.0}
    ).fit(X)
    users = np.arange(X.shape[0])
    expected = normalized_unseen_scores(blend.models_["ease"], users)
    np.testing.assert_allclose(blend.score(users), expected)
    items, _ = blend.recommend(users, k=3)
    assert not np.asarray(X[users[:, None], items].todense()).any()


def test_linear_blend_fits_clones_and_leaves_the_callers_models_unfitted():
    X = random_matrix()
    ease, pop = EASE(regularization=10.0), Popularity()
    blend = LinearBlend({"ease": ease, "pop": pop}, {"ease": 0.5, "pop": 0.5}).fit(X)
    assert not hasattr(ease, "weights_") and not hasattr(pop, "item_counts_")  # fitted before
    assert blend.models_["ease"] is not ease
    assert list(blend.models_) == ["ease", "pop"]


def test_linear_blend_rejects_unknown_weights():
    with pytest.raises(ValueError, match="not in the blend"):
        LinearBlend({"pop": Popularity()}, {"als": 1.0}).fit(random_matrix())


# --------------------------------------------------------------------------------------
# candidates
# --------------------------------------------------------------------------------------


def test_generate_candidates_keeps_every_source_rank_and_score():
    a = FixedSource([[1, 2], [3, 4]], [[0.9, 0.5], [0.8, 0.7]])
    b = FixedSource([[2, 5], [4, 1]], [[3.0, 2.0], [1.0, -INF]])  # user 1 has one item left
    frame = generate_candidates({"a": a, "b": b}, [0, 1], n=2)
    assert list(zip(frame.user, frame.item, strict=True)) == [
        (0, 1),
        (0, 2),
        (0, 5),
        (1, 3),
        (1, 4),
    ]
    assert frame["a_rank"].tolist() == [1, 2, 3, 1, 2]
    assert frame["b_rank"].tolist() == [3, 1, 2, 3, 1]
    assert frame["n_sources"].tolist() == [1, 2, 1, 1, 2]
    assert np.isnan(frame["b_score"].iloc[0]) and frame["b_score"].iloc[1] == 3.0
    relevant = sp.csr_matrix((np.ones(3), ([0, 0, 1], [5, 7, 4])), shape=(2, 8))
    # user 0: 5 of {5, 7} reached; user 1: 4 reached
    assert candidate_recall(frame, relevant) == pytest.approx((0.5 + 1.0) / 2)
    assert candidate_recall(frame, relevant, source="a") == pytest.approx((0.0 + 1.0) / 2)
    assert candidate_recall(frame, relevant, source="b", n=1) == pytest.approx((0.0 + 1.0) / 2)
    with pytest.raises(ValueError, match="no source named"):
        candidate_recall(frame, relevant, source="c")


def test_rank_candidates_orders_within_each_user():
    frame = pd.DataFrame({"user": [0, 0, 0, 2, 2], "item": [4, 5, 6, 1, 2]})
    users, items = rank_candidates(frame, [0.1, 0.9, 0.5, 0.2, 0.2], k=2)
    assert users.tolist() == [0, 2]
    assert items.tolist() == [[5, 6], [1, 2]]  # tie -> lower item first
    with pytest.raises(ValueError, match="fewer than k"):
        rank_candidates(frame, np.zeros(5), k=3)


@pytest.mark.parametrize("index", [ExactIndex(), ApproximateIndex(n_trees=20, seed=0)])
def test_index_retriever_matches_the_model(index):
    X = random_matrix(60, 50, 0.15)
    model = ALS(factors=8, regularization=1.0, iterations=5).fit(X)
    users = np.arange(60)
    expected, _ = model.recommend(users, k=5)
    got, scores = IndexRetriever(model, index).recommend(users, k=5)
    assert not np.asarray(X[users[:, None], got].todense()).any()
    overlap = np.mean([len(set(e) & set(g)) / 5 for e, g in zip(expected, got, strict=True)])
    assert overlap >= (1.0 if isinstance(index, ExactIndex) else 0.9)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


class _ReversedTiesIndex:
    """An index that returns equal scores highest id first, as an approximate index may."""

    metric = "dot"

    def build(self, vectors):
        self.vectors = np.asarray(vectors)
        return self

    def query(self, queries, k):
        scores = queries @ self.vectors.T
        order = np.lexsort((-np.arange(scores.shape[1])[None, :].repeat(len(scores), 0), -scores))
        order = order[:, :k]
        return order, np.take_along_axis(scores, order, axis=1)


def test_index_retriever_orders_ties_by_the_lower_item_id_whatever_the_index_returns():
    X = sp.csr_matrix(np.eye(4, 6))
    model = ALS(factors=2, iterations=1).fit(X)
    model.user_factors_ = np.ones((4, 1))
    model.item_factors_ = np.array([[1.0], [2.0], [2.0], [0.5], [2.0], [2.0]])
    # The index hands back its 5 best, ties highest id first: [5, 4, 2, 1, 0].
    items, scores = IndexRetriever(model, _ReversedTiesIndex()).recommend([3], k=4)
    assert items.tolist() == model.recommend([3], k=4)[0].tolist() == [[1, 2, 4, 5]]
    assert scores.tolist() == [[2.0, 2.0, 2.0, 2.0]]
    with pytest.raises(ValueError, match="positive integer"):
        IndexRetriever(model, _ReversedTiesIndex()).recommend([3], k=2.0)


# --------------------------------------------------------------------------------------
# features and ranker
# --------------------------------------------------------------------------------------


def test_features_by_hand():
    items = pd.DataFrame({"genres": [["Drama"], ["Comedy"], ["Drama", "Comedy"]]})
    G = genre_matrix(items)  # columns sorted: Comedy, Drama
    assert G.toarray().tolist() == [[0, 1], [1, 0], [1, 1]]
    X = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0]], dtype=float))
    frame = pd.DataFrame({"user": [0, 0, 1], "item": [1, 2, 2], "a_score": [1.0, 3.0, 2.0]})
    features = candidate_features(frame, X, genres=G, item_age_days=[5.0, 6.0, 7.0])
    # user 0 profile = Drama only; item 1 Comedy -> 0; item 2 both -> 1/sqrt(2)
    np.testing.assert_allclose(features["genre_match"], [0.0, 1 / np.sqrt(2), 1.0])
    np.testing.assert_allclose(features["a_z"], [-1.0, 1.0, 0.0])
    # item counts [2, 1, 0] -> percentiles 3/3, 2/3, 1/3; user counts [1, 2] -> 1/2, 2/2
    np.testing.assert_allclose(features["item_popularity"], [2 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(features["user_activity"], [0.5, 0.5, 1.0])
    assert features["item_age_days"].tolist() == [6.0, 7.0, 7.0]


def test_recent_matrix_keeps_the_last_events():
    events = pd.DataFrame(
        {
            "user_id": [7, 7, 7, 8],
            "item_id": [1, 2, 3, 1],
            "timestamp": pd.to_datetime([3, 1, 2, 5], unit="D"),
        }
    )
    recent = recent_matrix(events, user_ids=[7, 8], item_ids=[1, 2, 3], last=2)
    assert recent.toarray().tolist() == [[1, 0, 1], [1, 0, 0]]


def ranking_problem(seed=0, n_users=60, per_user=20):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "user": np.repeat(np.arange(n_users), per_user),
            "item": np.tile(np.arange(per_user), n_users),
            "signal": rng.normal(size=n_users * per_user),
            "noise": rng.normal(size=n_users * per_user),
        }
    )
    labels = (frame["signal"] > 0.8).astype(int).to_numpy()
    return frame, labels


@pytest.mark.parametrize("kind", ["lambdarank", "pointwise"])
def test_ranker_learns_the_signal(kind):
    frame, labels = ranking_problem()
    ranker = LearnedRanker(kind, iterations=30, min_child_samples=5).fit(
        frame, labels, ["signal", "noise"]
    )
    test, test_labels = ranking_problem(seed=1)
    scores = ranker.predict(test)
    # a relevant row scores above an irrelevant one nearly always (AUC)
    pos, neg = scores[test_labels == 1], scores[test_labels == 0]
    assert (pos[:, None] > neg[None, :]).mean() > 0.95


def test_ranker_importances_and_contributions():
    frame, labels = ranking_problem()
    ranker = LearnedRanker(iterations=30, min_child_samples=5).fit(
        frame, labels, ["signal", "noise"]
    )
    assert ranker.feature_importances().index[0] == "signal"
    contributions = ranker.contributions(frame.head(50))
    np.testing.assert_allclose(contributions.sum(axis=1), ranker.predict(frame.head(50)), atol=1e-9)
    with pytest.raises(ValueError, match="lambdarank"):
        LearnedRanker("pointwise", iterations=5).fit(
            frame, labels, ["signal"]
        ).feature_importances()


def test_ranker_input_errors():
    frame, labels = ranking_problem()
    with pytest.raises(ValueError, match="nothing to learn"):
        LearnedRanker().fit(frame, np.zeros_like(labels), ["signal"])
    with pytest.raises(ValueError, match="sorted by user"):
        LearnedRanker().fit(frame.iloc[::-1], labels, ["signal"])
    with pytest.raises(ValueError, match="not fitted"):
        LearnedRanker().predict(frame)


def test_label_candidates():
    frame = pd.DataFrame({"user": [0, 0, 1], "item": [1, 2, 0]})
    relevant = sp.csr_matrix(np.array([[0, 0, 1], [1, 0, 0]]))
    assert label_candidates(frame, relevant).tolist() == [0, 1, 1]


# --------------------------------------------------------------------------------------
# freshness
# --------------------------------------------------------------------------------------


def test_decay_and_trending_by_hand():
    np.testing.assert_allclose(decay([0, 7, 14, -3], half_life=7), [1.0, 0.5, 0.25, 1.0])
    now = pd.Timestamp("2020-01-15")
    events = pd.DataFrame(
        {
            "item_id": [10, 10, 20, 20],
            "timestamp": pd.to_datetime(["2020-01-15", "2020-01-08", "2020-01-01", "2020-01-14"]),
        }
    )
    # the 2020-01-15 event is not before now and is ignored; 7 days -> 0.5; 14 -> 0.25; 1 -> 2^(-1/7)
    np.testing.assert_allclose(
        trending_scores(events, [10, 20, 30], now, 7), [0.5, 0.25 + 2 ** (-1 / 7), 0.0]
    )
    with pytest.raises(ValueError, match="half_life"):
        decay([1.0], 0)


def test_freshness_boost_moves_fresh_items_up():
    base = np.array([[3.0, 2.0, 1.0, -INF]])
    signal = np.array([0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(freshness_boost(base, signal, 0.0), normalize_scores(base))
    boosted = freshness_boost(base, signal, 5.0)
    assert np.argmax(boosted[0]) == 2 and boosted[0, 3] == -INF


# --------------------------------------------------------------------------------------
# re-ranking
# --------------------------------------------------------------------------------------


def test_mmr_by_hand():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # items 0 and 1 identical
    items = np.array([[0, 1, 2]])
    relevance = np.array([[1.0, 0.9, 0.0]])
    assert mmr_rerank(items, relevance, vectors, k=3, lambda_=0.0).tolist() == [[0, 1, 2]]
    # lambda 0.5: after item 0, item 1 gets 0.5*0.9 - 0.5*1 < item 2's 0.5*0 - 0.5*0
    assert mmr_rerank(items, relevance, vectors, k=3, lambda_=0.5).tolist() == [[0, 2, 1]]
    # lambda_ weighs diversity: at 0.1 item 1 still wins (0.9*0.9 - 0.1*1 > 0), at 0.9 it loses
    assert mmr_rerank(items, relevance, vectors, k=3, lambda_=0.1).tolist() == [[0, 1, 2]]
    assert mmr_rerank(items, relevance, vectors, k=3, lambda_=0.9).tolist() == [[0, 2, 1]]


def test_mmr_never_repeats_and_keeps_the_candidates():
    rng = np.random.default_rng(3)
    items = np.array([rng.permutation(50)[:20] for _ in range(30)])
    chosen = mmr_rerank(
        items, rng.normal(size=items.shape), rng.normal(size=(50, 4)), k=10, lambda_=0.3
    )
    for row, candidates in zip(chosen, items, strict=True):
        assert len(set(row)) == 10 and set(row) <= set(candidates)


def test_business_rules_by_hand():
    groups = np.array([0, 0, 0, 1, 1, 2])
    ranked = np.array([[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]])
    rows = apply_business_rules(ranked, groups, k=4, max_per_group=2, pinned=[3])
    assert rows.tolist() == [[3, 0, 1, 4], [3, 5, 4, 2]]
    with pytest.raises(ValueError, match="pinned"):
        apply_business_rules(ranked, groups, k=1, pinned=[1, 2])


# --------------------------------------------------------------------------------------
# serving
# --------------------------------------------------------------------------------------


def test_fold_in_is_the_als_closed_form():
    X = random_matrix(30, 20, 0.3, seed=4)
    model = ALS(factors=4, regularization=2.0, alpha=3.0, iterations=3).fit(X)
    server = RealTimeRecommender(model, ExactIndex())
    Y = model.item_factors_.astype(np.float64)
    history = X[0].indices
    confidence = np.ones(20)
    confidence[history] = 1 + 3.0
    preference = np.zeros(20)
    preference[history] = 1.0
    expected = np.linalg.solve(
        Y.T @ (confidence[:, None] * Y) + 2.0 * np.eye(4), Y.T @ (confidence * preference)
    )
    np.testing.assert_allclose(server.user_vector(history), expected, rtol=1e-6, atol=1e-8)
    items = server.recommend(history, k=5)
    assert not set(items) & set(history)
    np.testing.assert_allclose(server.user_vectors(X[:2])[0], expected, rtol=1e-6, atol=1e-8)


def _per_user_fold_in(model, histories):
    """The serving fold-in as it was before the batched one: one solve per history."""
    Y = model.item_factors_.astype(np.float64)
    vectors = []
    for row in sp.csr_matrix(histories):
        watched = Y[np.unique(row.indices)]
        c = 1.0 + model.alpha
        A = Y.T @ Y + (c - 1.0) * watched.T @ watched + model.regularization * np.eye(Y.shape[1])
        vectors.append(np.linalg.solve(A, c * watched.sum(axis=0)))
    return np.vstack(vectors)


def test_batched_serving_fold_in_equals_the_per_user_loop_it_replaced():
    X = random_matrix(40, 25, 0.3, seed=6)
    X.data = np.random.default_rng(1).integers(1, 6, X.nnz).astype(np.float32)  # values ignored
    model = ALS(factors=5, regularization=3.0, alpha=2.0, iterations=3).fit(X)
    server = RealTimeRecommender(model, ExactIndex())
    histories = X[:12]
    np.testing.assert_allclose(
        server.user_vectors(histories), _per_user_fold_in(model, histories), rtol=1e-9, atol=1e-12
    )
    for user in range(12):
        vector = _per_user_fold_in(model, X[user])
        expected = top_k_indices(
            np.where(X[user].toarray() > 0, -np.inf, vector @ model.item_factors_.T), 5
        )[0]
        np.testing.assert_array_equal(server.recommend(X[user].indices, k=5), expected)


def test_batch_table_is_the_model_lists():
    X = random_matrix()
    model = Popularity().fit(X)
    table = BatchTable(n=5).build(model, np.arange(X.shape[0]))
    expected, _ = model.recommend([3], k=5)
    assert table.lookup(3, k=5).tolist() == expected[0].tolist()
    assert table.nbytes_ == X.shape[0] * 5 * 8
    with pytest.raises(ValueError, match="not in the batch table"):
        table.lookup(999)


def test_latency_reports_median_and_p99():
    report = latency_ms(lambda n: sum(range(n)), [10, 20, 30], repeats=2)
    assert report["requests"] == 6 and 0 <= report["median_ms"] <= report["p99_ms"]
