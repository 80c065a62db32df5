"""Tests of recsys_lessons.responsible.mitigate: hand cases and a plain-Python reference of each greedy."""

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_lessons.responsible import audit, mitigate
from recsys_lessons.top_k import top_k_indices

GENRES = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1]])  # items 0-1 A, 2-3 B, 4 both


def ranked(scores, n_candidates):
    """Each user's ``n_candidates`` best items and their scores, as ``recommend`` returns them."""
    scores = np.asarray(scores, dtype=float)
    items = top_k_indices(scores, n_candidates)
    return items, np.take_along_axis(scores, items, axis=1)


def test_calibrated_rerank_lambda_0_keeps_ranking_and_lambda_1_calibrates():
    scores = np.array([[0.9, 0.8, 0.3, 0.2, 0.1]])
    history = sp.csr_matrix(np.array([[1, 0, 1, 0, 0]]))  # p = (0.5, 0.5)
    kept = mitigate.calibrated_rerank(*ranked(scores, 5), history, GENRES, lambda_=0.0, k=2)
    np.testing.assert_array_equal(kept, [[0, 1]])
    calibrated = mitigate.calibrated_rerank(*ranked(scores, 5), history, GENRES, lambda_=1.0, k=2)
    # step 1: item 4 (half A, half B) alone matches p exactly (KL 0); step 2: items 0 and 2
    # tie on KL (q = 3/4 A or 3/4 B), and the better-scored candidate (0) wins the tie
    np.testing.assert_array_equal(calibrated, [[4, 0]])
    before = audit.calibration_kl(kept, history, GENRES, k=2)
    after = audit.calibration_kl(calibrated, history, GENRES, k=2)
    assert after[0] < before[0]


def _reference_calibrated(scores, p, per_item, lam, k, n_candidates, alpha):
    lists = []
    for u in range(scores.shape[0]):
        cands = list(np.lexsort((np.arange(scores.shape[1]), -scores[u]))[:n_candidates])
        s = scores[u, cands]
        s = (s - s.min()) / (s.max() - s.min())
        chosen, mass = [], np.zeros(per_item.shape[1])
        for step in range(k):
            best, best_value = None, -np.inf
            for j, item in enumerate(cands):
                if item in chosen:
                    continue
                q = (mass + per_item[item]) / (step + 1)
                qs = (1 - alpha) * q + alpha * p[u]
                kl = sum(p[u, g] * np.log(p[u, g] / qs[g]) for g in range(len(q)) if p[u, g] > 0)
                value = (1 - lam) * s[j] - lam * kl
                if value > best_value:
                    best, best_value = item, value
            chosen.append(best)
            mass += per_item[best]
        lists.append(chosen)
    return np.array(lists)


@pytest.mark.parametrize("lam", [0.1, 0.5, 0.9])
def test_calibrated_rerank_matches_plain_python_greedy(lam):
    rng = np.random.default_rng(3)
    n_users, n_items, n_genres = 6, 25, 4
    genres = (rng.random((n_items, n_genres)) < 0.4).astype(float)
    genres[genres.sum(axis=1) == 0, 0] = 1
    dense = (rng.random((n_users, n_items)) < 0.3).astype(float)
    dense[np.arange(n_users), np.arange(n_users)] = 1
    history = sp.csr_matrix(dense)
    scores = rng.random((n_users, n_items))
    got = mitigate.calibrated_rerank(*ranked(scores, 15), history, genres, lambda_=lam, k=5)
    p = audit.genre_distribution(history, genres)
    per_item = genres / genres.sum(axis=1, keepdims=True)
    expected = _reference_calibrated(scores, p, per_item, lam, 5, 15, 0.01)
    np.testing.assert_array_equal(got, expected)


def test_calibrated_rerank_never_shows_excluded_items_and_refuses_too_few():
    scores = np.array([[0.9, -np.inf, 0.3, 0.2, 0.1]])
    history = sp.csr_matrix(np.array([[0, 1, 0, 0, 0]]))
    lists = mitigate.calibrated_rerank(*ranked(scores, 5), history, GENRES, lambda_=1.0, k=4)
    assert 1 not in lists[0] and len(set(lists[0])) == 4
    with pytest.raises(ValueError, match="fewer than k"):
        mitigate.calibrated_rerank(*ranked(scores, 5), history, GENRES, lambda_=0.5, k=5)


def test_group_preference_shares():
    history = sp.csr_matrix(np.array([[1, 1, 1, 0], [0, 0, 0, 1]]))
    names, preference = mitigate.group_preference(history, np.array(["h", "t", "t", "t"]))
    assert names.tolist() == ["h", "t"]
    np.testing.assert_allclose(preference, [[1 / 3, 2 / 3], [0, 1]])


def test_xquad_by_hand():
    # items 0-2 head, 3-4 tail; the user likes the tail 75 %
    scores = np.array([[1.0, 0.9, 0.8, 0.5, 0.0]])
    groups = np.array(["head", "head", "head", "tail", "tail"])
    preference = np.array([[0.25, 0.75]])
    plain = mitigate.xquad_rerank(*ranked(scores, 5), groups, preference, lambda_=0.0, k=3)
    np.testing.assert_array_equal(plain, [[0, 1, 2]])
    # lam = 0.5: step 1 values: item0 .5+.125=.625, item3 .25+.375=.625 (tie -> item 0)
    # step 2 (head share 1): item1 .45+0=.45, item3 .25+.375=.625 -> 3
    # step 3 (shares .5/.5): item1 .45+.0625=.5125, item4 0+.1875 -> 1
    mixed = mitigate.xquad_rerank(*ranked(scores, 5), groups, preference, lambda_=0.5, k=3)
    np.testing.assert_array_equal(mixed, [[0, 3, 1]])


def test_xquad_raises_long_tail_share_monotonically_on_random_scores():
    rng = np.random.default_rng(0)
    scores = rng.random((50, 60)) + np.linspace(1, 0, 60)  # popular items score higher
    tail = np.arange(60) >= 12
    groups = np.where(tail, "tail", "head")
    shares = [
        audit.average_percentage_long_tail(
            mitigate.xquad_rerank(*ranked(scores, 40), groups, [[0.5, 0.5]], lambda_=lam, k=10),
            ~tail,
        )
        for lam in (0.0, 0.3, 0.6, 0.9)
    ]
    assert shares == sorted(shares) and shares[-1] > shares[0]


def test_inverse_popularity_weights():
    X = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [1, 0, 1], [1, 0, 0]], dtype=float))
    assert (mitigate.inverse_popularity_weights(X, 0.0) != X).nnz == 0
    weighted = mitigate.inverse_popularity_weights(X, 1.0)
    # raw weights 1/4 (item 0, four times), 1 (item 1), 1 (item 2); mean over 6 entries = 0.5
    np.testing.assert_allclose(weighted.toarray()[:, 0], [0.5] * 4)
    np.testing.assert_allclose(weighted.toarray()[0, 1], 2.0)
    assert weighted.data.mean() == pytest.approx(1.0)
    # every item weighs the same in total at power 1
    np.testing.assert_allclose(np.asarray(weighted.sum(axis=0)).ravel(), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="power"):
        mitigate.inverse_popularity_weights(X, 2.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: mitigate.calibrated_rerank(
                *ranked(np.ones((1, 5)), 5), sp.csr_matrix(np.eye(1, 5)), GENRES, lambda_=2.0, k=2
            ),
            "lambda_",
        ),
        (
            lambda: mitigate.calibrated_rerank(
                *ranked(np.ones((1, 5)), 2), sp.csr_matrix(np.eye(1, 5)), GENRES, k=3
            ),
            "k=3 is larger",
        ),
        (
            lambda: mitigate.calibrated_rerank(
                np.array([[0, 1]]), np.ones((1, 3)), sp.csr_matrix(np.eye(1, 5)), GENRES, k=1
            ),
            "same shape",
        ),
        (
            lambda: mitigate.xquad_rerank(
                *ranked(np.ones((1, 5)), 5), np.array(["a", "b"]), [[0.5, 0.5]], k=2
            ),
            "one label per item",
        ),
        (
            lambda: mitigate.group_preference(sp.csr_matrix((1, 2)), np.array(["a", "b"])),
            "empty history",
        ),
    ],
)
def test_bad_input_raises_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("rerank", ["calibrated", "xquad"])
def test_rerankers_take_the_ranked_candidates_recommend_returns(rerank):
    """The one convention: (items, scores) best first; the no-re-ranking end keeps that order."""
    from recsys_lessons.models import Popularity

    X = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 1]]))
    items, scores = Popularity().fit(X).recommend([0], k=4)  # user 0 has item 0
    if rerank == "calibrated":
        lists = mitigate.calibrated_rerank(items, scores, X[[0]], GENRES, lambda_=0.0, k=3)
    else:
        groups = np.array(["a", "a", "b", "b", "b"])
        lists = mitigate.xquad_rerank(items, scores, groups, [[0.5, 0.5]], lambda_=0.0, k=3)
    np.testing.assert_array_equal(lists, items[:, :3])
