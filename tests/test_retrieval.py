"""Exact and annoy retrieval: correctness against numpy, recall, persistence and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from annoy import AnnoyIndex
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recsys_lessons.retrieval import (
    ApproximateIndex,
    ExactIndex,
    measure_recall,
    recall_speed_sweep,
    retrieval_recall,
)
from recsys_lessons.top_k import top_k_indices


@pytest.fixture(scope="module")
def vectors():
    return np.random.default_rng(0).normal(size=(2000, 16))


@pytest.fixture(scope="module")
def queries():
    return np.random.default_rng(1).normal(size=(50, 16))


def reference_scores(metric, queries, vectors):
    if metric == "dot":
        return queries @ vectors.T
    if metric == "angular":
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return queries / np.linalg.norm(queries, axis=1, keepdims=True) @ unit.T
    return -np.linalg.norm(queries[:, None, :] - vectors[None, :, :], axis=2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("metric", ["dot", "angular", "euclidean"])
def test_exact_index_equals_argsort_of_the_scores(metric, dtype, vectors, queries):
    index = ExactIndex(metric=metric, batch_size=16, dtype=dtype).build(vectors)
    ids, scores = index.query(queries, k=10)
    expected_scores = reference_scores(metric, queries, vectors)
    expected_ids = np.argsort(-expected_scores, axis=1)[:, :10]
    np.testing.assert_array_equal(ids, expected_ids)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(
        scores, np.take_along_axis(expected_scores, expected_ids, axis=1), rtol=tolerance
    )


def test_exact_index_orders_equal_scores_by_lower_id():
    vectors = np.array([[1.0], [2.0], [2.0], [0.5], [2.0]])
    ids, scores = ExactIndex().build(vectors).query([[1.0]], k=4)
    np.testing.assert_array_equal(ids, [[1, 2, 4, 0]])
    np.testing.assert_array_equal(scores, [[2.0, 2.0, 2.0, 1.0]])


def test_exact_index_keeps_the_lower_ids_when_a_tie_straddles_the_cut():
    # three items tie at 2.0 and only two fit: the lower ids 1 and 2 (was [2, 4])
    vectors = np.array([[1.0], [2.0], [2.0], [0.5], [2.0]])
    for dtype in ("float32", "float64"):
        ids, scores = ExactIndex(dtype=dtype).build(vectors).query([[1.0]], k=2)
        np.testing.assert_array_equal(ids, [[1, 2]])
        np.testing.assert_array_equal(scores, [[2.0, 2.0]])


@st.composite
def tied_vectors_and_k(draw):
    """Small integer-valued vectors (so many scores tie exactly) and a k inside the catalogue."""
    n_items = draw(st.integers(2, 30))
    dimension = draw(st.integers(1, 3))
    vectors = draw(arrays(np.float64, (n_items, dimension), elements=st.integers(-2, 2)))
    queries = draw(
        arrays(np.float64, (draw(st.integers(1, 5)), dimension), elements=st.integers(-2, 2))
    )
    return vectors, queries, draw(st.integers(1, n_items))


@settings(max_examples=150, deadline=None)
@given(tied_vectors_and_k(), st.integers(1, 4))
def test_exact_index_agrees_with_top_k_indices_on_ties(case, batch_size):
    vectors, queries, k = case
    for metric in ("dot", "euclidean"):
        index = ExactIndex(metric=metric, batch_size=batch_size, dtype="float64").build(vectors)
        ids, scores = index.query(queries, k=k)
        if metric == "dot":
            exact = queries @ vectors.T
        else:  # minus the squared distance ranks like minus the distance, without rounding
            exact = -((queries[:, None, :] - vectors[None, :, :]) ** 2).sum(axis=2)
        np.testing.assert_array_equal(ids, top_k_indices(exact, k))


@pytest.mark.parametrize("metric", ["dot", "angular", "euclidean"])
def test_annoy_recall_is_high_and_its_scores_are_the_true_scores(metric, vectors, queries):
    exact_ids, _ = ExactIndex(metric=metric).build(vectors).query(queries, k=10)
    index = ApproximateIndex(n_trees=20, metric=metric, search_k=4000, seed=1).build(vectors)
    ids, scores = index.query(queries, k=10)
    assert retrieval_recall(ids, exact_ids) >= 0.9
    expected = np.take_along_axis(reference_scores(metric, queries, vectors), ids, axis=1)
    np.testing.assert_allclose(scores, expected, atol=1e-4)  # annoy stores float32
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_annoy_is_exact_when_it_inspects_every_vector(vectors, queries):
    exact_ids, _ = ExactIndex().build(vectors).query(queries, k=5)
    ids, _ = ApproximateIndex(n_trees=5, search_k=5 * len(vectors)).build(vectors).query(queries, 5)
    assert retrieval_recall(ids, exact_ids) == 1.0


def test_dot_index_is_an_angular_index_over_augmented_vectors(vectors, queries):
    # Bachrach et al. 2014: v -> [v, sqrt(M^2 - |v|^2)], q -> [q, 0]; same seed, same forest.
    lengths = np.exp(np.random.default_rng(2).normal(0.0, 0.8, size=len(vectors)))
    items = vectors * lengths[:, None]
    norms = np.linalg.norm(items, axis=1)
    augmented = np.hstack([items, np.sqrt(norms.max() ** 2 - norms**2)[:, None]])
    by_hand = ApproximateIndex(n_trees=5, metric="angular", search_k=300, seed=7).build(augmented)
    expected_ids, _ = by_hand.query(np.hstack([queries, np.zeros((len(queries), 1))]), 10)
    ids, scores = (
        ApproximateIndex(n_trees=5, metric="dot", search_k=300, seed=7)
        .build(items)
        .query(queries, 10)
    )
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(
        scores, np.take_along_axis(queries @ items.T, ids, axis=1), atol=1e-4
    )


def test_dot_index_finds_more_than_annoys_own_dot_metric(vectors, queries):
    # Vectors of very different lengths, as popularity gives factor models: the reason
    # ApproximateIndex does the reduction itself instead of using annoy's "dot".
    items = vectors * np.exp(np.random.default_rng(3).normal(0.0, 0.6, size=len(vectors)))[:, None]
    exact_ids, _ = ExactIndex().build(items).query(queries, 10)
    ours, _ = (
        ApproximateIndex(n_trees=10, metric="dot", search_k=200, seed=1)
        .build(items)
        .query(queries, 10)
    )
    annoy_dot = AnnoyIndex(items.shape[1], "dot")
    annoy_dot.set_seed(1)
    for item, vector in enumerate(items):
        annoy_dot.add_item(item, vector)
    annoy_dot.build(10, n_jobs=1)
    theirs = np.array([annoy_dot.get_nns_by_vector(query, 10, 200) for query in queries])
    assert retrieval_recall(ours, exact_ids) >= retrieval_recall(theirs, exact_ids) + 0.1


def test_zero_query_scores_zero_with_dot(vectors):
    ids, scores = ApproximateIndex(n_trees=3, search_k=100).build(vectors).query(np.zeros(16), 5)
    assert (ids >= 0).all()
    np.testing.assert_allclose(scores, 0.0, atol=1e-6)


def test_same_seed_same_forest(vectors, queries):
    def results(seed):
        return (
            ApproximateIndex(n_trees=3, search_k=30, seed=seed).build(vectors).query(queries, 10)[0]
        )

    np.testing.assert_array_equal(results(5), results(5))
    assert not np.array_equal(results(5), results(6))


def test_too_small_search_k_pads_with_minus_one_and_minus_inf(vectors, queries):
    ids, scores = ApproximateIndex(n_trees=1, search_k=1).build(vectors).query(queries, 10)
    padded = ids == -1
    assert padded.any()
    assert np.isneginf(scores[padded]).all() and np.isfinite(scores[~padded]).all()
    exact_ids, _ = ExactIndex().build(vectors).query(queries, 10)
    assert retrieval_recall(ids, exact_ids) <= (~padded).mean()


def test_retrieval_recall_counts_the_shared_ids():
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    approximate = np.array([[4, 3, 9, 1], [5, -1, -1, -1]])
    assert retrieval_recall(approximate, exact) == pytest.approx((3 / 4 + 1 / 4) / 2)
    with pytest.raises(ValueError, match="same shape"):
        retrieval_recall(approximate[:, :3], exact)


def test_approximate_save_load_round_trip(tmp_path, vectors, queries):
    index = ApproximateIndex(n_trees=10, metric="angular", search_k=500, seed=3).build(vectors)
    path = tmp_path / "items.ann"
    index.save(path)
    loaded = ApproximateIndex.load(path, dimension=16, metric="angular")
    assert (loaded.n_trees, loaded.metric, loaded.search_k, loaded.seed) == (10, "angular", 500, 3)
    for original, restored in zip(index.query(queries, 10), loaded.query(queries, 10), strict=True):
        np.testing.assert_array_equal(original, restored)


def test_exact_save_load_round_trip(tmp_path, vectors, queries):
    index = ExactIndex(metric="euclidean", batch_size=7, dtype="float64").build(vectors)
    index.save(tmp_path / "items")
    loaded = ExactIndex.load(tmp_path / "items.npz", dimension=16, metric="euclidean")
    assert (loaded.batch_size, loaded.dtype) == (7, "float64")
    for original, restored in zip(index.query(queries, 10), loaded.query(queries, 10), strict=True):
        np.testing.assert_array_equal(original, restored)


def test_loading_the_wrong_index_fails_clearly(tmp_path, vectors):
    path = tmp_path / "items.ann"
    ApproximateIndex(n_trees=2).build(vectors).save(path)
    with pytest.raises(ValueError, match="16-dimensional vectors, not 32"):
        ApproximateIndex.load(path, dimension=32)
    with pytest.raises(ValueError, match="built with metric 'dot', not 'angular'"):
        ApproximateIndex.load(path, metric="angular")
    with pytest.raises(ValueError, match="no saved ExactIndex"):
        ExactIndex.load(tmp_path / "nothing")
    # the annoy file and its settings do not belong together
    ApproximateIndex(n_trees=2).build(vectors[:, :8]).save(tmp_path / "small.ann")
    (tmp_path / "small.ann").replace(path)
    with pytest.raises(ValueError, match="does not match its settings file"):
        ApproximateIndex.load(path)
    # a raw annoy file without settings
    (tmp_path / "items.ann.json").unlink()
    with pytest.raises(ValueError, match="no settings file"):
        ApproximateIndex.load(path)
    with pytest.raises(ValueError, match="no saved index"):
        ApproximateIndex.load(tmp_path / "missing.ann")


def test_a_settings_file_of_another_kind_is_refused(tmp_path, vectors):
    path = tmp_path / "items.ann"
    ApproximateIndex(n_trees=2).build(vectors).save(path)
    settings = json.loads((tmp_path / "items.ann.json").read_text())
    (tmp_path / "items.ann.json").write_text(json.dumps({**settings, "kind": "exact"}))
    with pytest.raises(ValueError, match="not saved by this kind of index"):
        ApproximateIndex.load(path)
    # a dot index saved before the format changed (annoy's own "dot", no max_norm)
    (tmp_path / "items.ann.json").write_text(json.dumps({**settings, "format_version": 1}))
    with pytest.raises(ValueError, match="saved in format 1 by another version"):
        ApproximateIndex.load(path)


def test_measure_recall_and_sweep(vectors, queries):
    exact = ExactIndex().build(vectors)
    approximate = ApproximateIndex(n_trees=4, seed=0).build(vectors)
    result = measure_recall(approximate, exact, queries, k=10, repeat=2)
    assert set(result) == {"recall@10", "approx_qps", "exact_qps", "speedup", "search_k"}
    assert 0 < result["recall@10"] <= 1 and result["search_k"] == 40
    assert result["speedup"] == pytest.approx(result["approx_qps"] / result["exact_qps"])

    table = recall_speed_sweep(vectors, queries, k=10, n_trees=(2, 8), search_k=(-1, 16000))
    assert list(table.columns) == [
        "n_trees",
        "search_k",
        "recall@10",
        "approx_qps",
        "exact_qps",
        "speedup",
        "build_seconds",
        "exact_batch_qps",
    ]
    assert table[["n_trees", "search_k"]].values.tolist() == [
        [2, 20],
        [2, 16000],
        [8, 80],
        [8, 16000],
    ]
    assert (table.loc[table["search_k"] == 16000, "recall@10"] == 1.0).all()
    assert table["recall@10"].iloc[2] >= table["recall@10"].iloc[0]  # more trees, more recall
    assert table["exact_qps"].nunique() == 1  # one exact pass shared by every row
    with pytest.raises(ValueError, match="repeat must be a positive integer"):
        measure_recall(approximate, exact, queries, k=10, repeat=0)


def test_bad_input_raises_value_errors(vectors):
    with pytest.raises(ValueError, match="metric must be one of"):
        ApproximateIndex(metric="cosine")
    with pytest.raises(ValueError, match="metric must be one of"):
        ExactIndex(metric="manhattan")
    with pytest.raises(ValueError, match="n_trees must be a positive integer"):
        ApproximateIndex(n_trees=0)
    with pytest.raises(ValueError, match="search_k must be -1"):
        ApproximateIndex(search_k=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ExactIndex(batch_size=0)
    with pytest.raises(ValueError, match="dtype must be"):
        ExactIndex(dtype="int8")
    with pytest.raises(ValueError, match="is empty; call .build"):
        ExactIndex().query(vectors[:2], 3)
    with pytest.raises(ValueError, match="non-empty 2-D array"):
        ExactIndex().build(vectors[0])
    bad = vectors[:10].copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        ApproximateIndex().build(bad)
    for index in (ExactIndex().build(vectors), ApproximateIndex(n_trees=2).build(vectors)):
        with pytest.raises(ValueError, match="query vectors have 8 dimensions"):
            index.query(vectors[:2, :8], 3)
        with pytest.raises(ValueError, match="k must be a positive integer"):
            index.query(vectors[:2], 0)
        with pytest.raises(ValueError, match="larger than the index"):
            index.query(vectors[:2], 2001)
        assert index.query(vectors[0], 3)[0].shape == (1, 3)  # a single vector is one query


# ---------------------------------------------------------------- bad inputs and damaged files


def test_sweep_validates_search_k_before_building(vectors, queries):
    with pytest.raises(ValueError, match="search_k must be -1"):
        recall_speed_sweep(vectors, queries[:3], n_trees=(2,), search_k=(0,))
    with pytest.raises(ValueError, match="search_k must be -1"):
        recall_speed_sweep(vectors, queries[:3], n_trees=(2,), search_k=(100, -5))
    index = ApproximateIndex(n_trees=2).build(vectors)
    index.search_k = 0  # set after construction: still refused at query time
    with pytest.raises(ValueError, match="search_k must be -1"):
        index.query(queries[:1], k=5)


def test_retrieval_recall_explains_1d_input():
    with pytest.raises(ValueError, match=r"2-D array of shape \(n_queries, k\).*ids\[None, :\]"):
        retrieval_recall(np.array([1, 2, 3]), np.array([1, 2, 4]))


def test_saving_into_a_missing_folder_says_create_it(tmp_path, vectors):
    for index, name in ((ExactIndex(), "items"), (ApproximateIndex(n_trees=2), "items.ann")):
        with pytest.raises(ValueError, match="no such folder. Create it first"):
            index.build(vectors).save(tmp_path / "nope" / name)
    assert not (tmp_path / "nope").exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not an npz at all"),
        lambda path: path.write_bytes(path.read_bytes()[:200]),
        lambda path: np.savez(path, vectors=np.ones((3, 2))),  # no settings saved
        lambda path: np.savez(path, vectors=np.ones((3, 2)), metadata=np.array("{not json")),
    ],
)
def test_a_damaged_exact_index_file_is_explained_without_pickle_advice(tmp_path, vectors, damage):
    path = tmp_path / "items.npz"
    ExactIndex().build(vectors).save(path)
    damage(path)
    with pytest.raises(ValueError, match="not a complete index saved by ExactIndex.save") as caught:
        ExactIndex.load(path)
    assert "pickle" not in str(caught.value)


@pytest.mark.parametrize(
    "settings_text",
    ['{"kind": "annoy", "format_version": 2', '{"kind": "annoy", "format_version": 2}', "[1, 2]"],
)
def test_a_damaged_annoy_settings_file_is_explained(tmp_path, vectors, settings_text):
    path = tmp_path / "items.ann"
    ApproximateIndex(n_trees=2).build(vectors).save(path)
    (tmp_path / "items.ann.json").write_text(settings_text)
    with pytest.raises(ValueError, match="not a complete index saved by ApproximateIndex.save"):
        ApproximateIndex.load(path)
