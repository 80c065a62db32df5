"""recsys_lessons.scale.spark: the course pipeline on Spark, checked against the single-machine code.

Needs the optional Spark extra (``make spark``) and Java 17+; skipped with the reason
otherwise. One SparkSession serves the whole module (start-up is the slow part).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_lessons import scale
from recsys_lessons.data import interaction_matrix, load_dataset
from recsys_lessons.evaluation import evaluate, stratified_split, temporal_split
from recsys_lessons.metrics import average_precision_at_k, ndcg_at_k, precision_at_k, recall_at_k
from recsys_lessons.models import ALS
from recsys_lessons.models.cooccurrence import cooccurrence_counts

_problem = scale.spark_problem()
if _problem is not None:
    print(f"tests/test_scale.py skipped: {_problem}")
    pytest.skip(_problem, allow_module_level=True)
pytest.importorskip("pyspark", reason="pyspark missing: run `make spark`")


@pytest.fixture(scope="module")
def spark():
    session = scale.spark_session("recsys-lessons-tests", master="local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def small():
    """A small simulated catalogue: 200 users, 150 items, 4,000 ratings."""
    data = load_dataset("synthetic", seed=3, n_users=200, n_items=150, n_interactions=4000)
    return data.interactions.reset_index(drop=True)


def test_missing_java_is_a_sentence_not_a_stack_trace(monkeypatch):
    monkeypatch.setenv("JAVA_HOME", "/nonexistent")
    monkeypatch.setenv("PATH", "/nonexistent")
    problem = scale.spark_problem()
    assert problem is not None and "Java" in problem and "openjdk" in problem
    with pytest.raises(scale.SparkUnavailable, match="no Java runtime found"):
        scale.spark_session()


def test_round_trip_keeps_every_row(spark, small):
    back = scale.from_spark(scale.to_spark(spark, small))
    pd.testing.assert_frame_equal(back, small.reset_index(drop=True), check_dtype=False)


def test_session_takes_the_master_from_the_environment(spark):
    assert spark.sparkContext.master == "local[2]"
    assert spark.conf.get("spark.sql.shuffle.partitions") == str(scale.SHUFFLE_PARTITIONS)


@pytest.mark.parametrize("by", ["user", "item"])
def test_stratified_split_gives_our_rows(spark, small, by):
    ours_train, ours_test = stratified_split(small, by=by, test_ratio=0.25, seed=7)
    frame = scale.to_spark(spark, small)
    train, test = scale.stratified_split_spark(frame, by=by, test_ratio=0.25, seed=7)
    train_rows = sorted(r[0] for r in train.select("row").collect())
    test_rows = sorted(r[0] for r in test.select("row").collect())
    assert train_rows == sorted(small.index.get_indexer(ours_train.index))
    assert test_rows == sorted(small.index.get_indexer(ours_test.index))


def test_temporal_split_gives_our_rows(spark, small):
    _, ours_test = temporal_split(small, test_ratio=0.2)
    _, test = scale.temporal_split_spark(scale.to_spark(spark, small), test_ratio=0.2)
    assert sorted(r[0] for r in test.select("row").collect()) == sorted(ours_test.index)


def test_bad_split_arguments_raise_value_errors(spark, small):
    frame = scale.to_spark(spark, small)
    with pytest.raises(ValueError, match="by must be"):
        scale.stratified_split_spark(frame, by="movie")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        scale.temporal_split_spark(frame, test_ratio=1.5)
    with pytest.raises(ValueError, match="to_spark"):
        scale.spark_als(frame)
    same_time = scale.to_spark(spark, small.assign(timestamp=small["timestamp"].iloc[0]))
    with pytest.raises(ValueError, match="train would be empty"):
        scale.temporal_split_spark(same_time)


def test_spark_metrics_equal_ours_on_the_same_lists(spark):
    # Hand-made lists: user 0 hits at ranks 1 and 3, user 1 never, user 2 at rank 2 with
    # more relevant items than k, user 3 has no list at all.
    k = 3
    lists = np.array([[5, 1, 2], [0, 1, 2], [7, 3, 9], [4, 6, 8]])
    relevant = [{5, 2}, {9}, {3, 0, 1, 2, 4}, {6}]
    rec_rows = [(u, int(i), r + 1) for u in range(3) for r, i in enumerate(lists[u])]
    recs = spark.createDataFrame(rec_rows, "user long, item long, rank int")
    test = spark.createDataFrame(
        [(u, i) for u, items in enumerate(relevant) for i in items], "user long, item long"
    )
    table = (
        scale.collect(scale.ranking_metrics_spark(recs, test, k=k)).set_index("user").sort_index()
    )
    lists_with_empty = lists.copy()
    lists_with_empty[3] = [10, 11, 12]  # user 3: a list without hits scores what no list scores
    for name, ours in [
        ("precision", precision_at_k),
        ("recall", recall_at_k),
        ("ndcg", ndcg_at_k),
        ("ap", average_precision_at_k),
    ]:
        expected = ours(lists_with_empty, relevant, k=k, per_user=True)
        np.testing.assert_allclose(table[name].to_numpy(), expected, rtol=1e-12, err_msg=name)
    assert table.loc[0, "precision"] == pytest.approx(2 / 3)


def test_recommend_all_removes_seen_items_and_matches_a_dense_ranking(spark, small):
    full = interaction_matrix(small)
    frame = scale.to_spark(spark, small, index=full)
    train, _ = scale.stratified_split_spark(frame, by="user", seed=1)
    model = scale.spark_als(train, factors=8, reg_param=0.1, iterations=5)
    recs = scale.collect(scale.recommend_all(model, train, k=10))
    seen = set(map(tuple, scale.collect(train.select("user", "item")).to_numpy()))
    assert not any((u, i) in seen for u, i in zip(recs["user"], recs["item"], strict=True))
    assert recs.groupby("user").size().eq(10).all()
    # the same lists by hand from the factors: score all, mask seen, take the best 10
    users = scale.collect(model.userFactors).sort_values("id")
    items = scale.collect(model.itemFactors).sort_values("id")
    scores = np.stack(users["features"]) @ np.stack(items["features"]).T
    item_ids = items["id"].to_numpy()
    for row, user in enumerate(users["id"].to_numpy()):
        masked = scores[row].copy()
        masked[np.isin(item_ids, [i for u, i in seen if u == user])] = -np.inf
        best = np.sort(masked)[::-1][:10]
        got = recs[recs["user"] == user].sort_values("rank")
        assert got["rank"].tolist() == list(range(1, 11))
        # the float32 factors multiplied in float64 on both sides: equal up to summation order
        np.testing.assert_allclose(got["score"].to_numpy(), best, rtol=1e-12, atol=1e-12)
        got_scores = scores[row][np.searchsorted(item_ids, got["item"].to_numpy())]
        np.testing.assert_allclose(got_scores, best, rtol=1e-12, atol=1e-12)


def test_top_k_unseen_keeps_ties_in_item_order_and_shortens_a_list_with_few_unseen(spark):
    """Items 0, 2, 3 tie: they come in item order; user 1 has seen all but one item."""
    items = spark.createDataFrame(
        [(0, [1.0]), (1, [3.0]), (2, [1.0]), (3, [1.0])], "item long, features array<double>"
    )
    users = spark.createDataFrame(
        [(0, [1.0]), (1, [2.0]), (2, [1.0])], "user long, features array<double>"
    )
    seen = spark.createDataFrame([(0, 1), (1, 0), (1, 1), (1, 3)], "user long, item long")
    got = scale.collect(scale.top_k_unseen(users, items, seen, k=3)).sort_values(["user", "rank"])
    assert got.to_numpy().tolist() == [
        [0, 0, 1.0, 1], [0, 2, 1.0, 2], [0, 3, 1.0, 3],
        [1, 2, 2.0, 1],
        [2, 1, 3.0, 1], [2, 0, 1.0, 2], [2, 2, 1.0, 3],
    ]  # fmt: skip


def test_scoring_in_chunks_of_one_user_gives_the_same_lists(spark, small, monkeypatch):
    full = interaction_matrix(small)
    frame = scale.to_spark(spark, small, index=full)
    train, _ = scale.stratified_split_spark(frame, by="user", seed=1)
    model = scale.spark_als(train, factors=8, reg_param=0.1, iterations=5)
    whole = scale.collect(scale.recommend_all(model, train, k=10))
    monkeypatch.setattr(scale.spark, "SCORE_CELLS", 1)  # one user per chunk
    chunked = scale.collect(scale.recommend_all(model, train, k=10))
    key = ["user", "rank"]
    pd.testing.assert_frame_equal(
        chunked.sort_values(key).reset_index(drop=True),
        whole.sort_values(key).reset_index(drop=True),
    )


def test_ranking_a_subset_of_users_gives_their_rows_of_ranking_everyone(spark, small):
    full = interaction_matrix(small)
    frame = scale.to_spark(spark, small, index=full)
    train, _ = scale.stratified_split_spark(frame, by="user", seed=1)
    model = scale.spark_als(train, factors=8, reg_param=0.1, iterations=5)
    lengths = scale.collect(train.groupBy("user").count()).sort_values("count")
    chosen = np.r_[lengths["user"].to_numpy()[:20], lengths["user"].to_numpy()[-3:]]  # heaviest too
    subset = spark.createDataFrame([(int(user),) for user in chosen], "user long")
    everyone = scale.collect(scale.recommend_all(model, train, k=10))
    some = scale.collect(scale.recommend_all(model, train, k=10, users=subset))
    key = ["user", "rank"]
    expected = everyone[everyone["user"].isin(chosen)].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(some.sort_values(key).reset_index(drop=True), expected)


def test_spark_als_reaches_the_quality_of_ours_on_a_small_matrix(spark):
    data = load_dataset("synthetic", seed=5, n_users=300, n_items=200, n_interactions=12000)
    interactions = data.interactions.reset_index(drop=True)
    full = interaction_matrix(interactions)
    ours_train, ours_test = stratified_split(interactions, by="user", seed=42)
    ours = evaluate(
        {"ALS": ALS(factors=16, regularization=20.0, alpha=2.0, iterations=10)},
        full.like(ours_train).X,
        full.like(ours_test).X,
        metrics=("ndcg",),
    ).loc["ALS", "ndcg@10"]
    frame = scale.to_spark(spark, interactions, index=full)
    train, test = scale.stratified_split_spark(frame, by="user", seed=42)
    per_row = (
        full.like(ours_train).X.nnz / full.shape[0] + full.like(ours_train).X.nnz / full.shape[1]
    ) / 2
    model = scale.spark_als(train, factors=16, reg_param=20.0 / per_row, alpha=2.0, iterations=10)
    metrics = scale.ranking_metrics_spark(scale.recommend_all(model, train, k=10), test)
    theirs = metrics.agg({"ndcg": "avg"}).first()[0]
    assert theirs == pytest.approx(ours, abs=0.03)


def test_cooccurrence_self_join_equals_lesson_03(spark, small):
    full = interaction_matrix(small)
    frame = scale.to_spark(spark, small, index=full)
    baskets = scale.capped_baskets(frame)
    counts = scale.cooccurrence_matrix(scale.cooccurrence_spark(baskets), baskets, full.shape[1])
    expected = cooccurrence_counts(full.X)
    assert (counts != expected).nnz == 0


def test_per_user_cap_keeps_at_most_the_cap_and_counts_what_it_keeps(spark, small):
    full = interaction_matrix(small)
    frame = scale.to_spark(spark, small, index=full)
    baskets = scale.capped_baskets(frame, max_items_per_user=5, seed=1)
    kept = scale.collect(baskets)
    assert kept.groupby("user").size().max() == 5
    history = small.groupby("user_id").size()
    assert len(kept) == int(np.minimum(history, 5).sum())
    capped = interaction_matrix(
        pd.DataFrame({"user_id": kept["user"], "item_id": kept["item"], "rating": 1.0})
    )
    counts = scale.cooccurrence_matrix(scale.cooccurrence_spark(baskets), baskets, full.shape[1])
    expected = cooccurrence_counts(capped.X)
    # capped.X has columns in the order of capped.item_ids; map them back to item indices
    order = capped.item_ids.to_numpy()
    assert (counts[order][:, order] != expected).nnz == 0
    with pytest.raises(ValueError, match="max_items_per_user"):
        scale.capped_baskets(frame, max_items_per_user=1)


def test_batch_table_is_bucketed_by_user_so_a_lookup_reads_one_folder(spark, small, tmp_path):
    full = interaction_matrix(small)
    frame = scale.to_spark(spark, small, index=full)
    model = scale.spark_als(frame, factors=8, reg_param=0.1, iterations=3)
    recs = scale.recommend_all(model, frame, k=5).cache()
    lists = scale.recommendation_lists(recs, n_users=full.shape[0], k=5)
    path = tmp_path / "recommendations"
    scale.write_batch_table(recs, path, n_buckets=7)
    # one folder per user bucket, each holding exactly the users of its bucket, all k ranks
    folders = sorted(p.name for p in path.iterdir() if p.is_dir())
    assert folders == [f"user_bucket={b}" for b in range(7)]
    for bucket in range(7):
        part = scale.collect(spark.read.parquet(str(path / f"user_bucket={bucket}")))
        assert (part["user"] % 7 == bucket).all()
        assert all(sorted(ranks) == [1, 2, 3, 4, 5] for _, ranks in part.groupby("user")["rank"])
    # the lookup serves the lists, and Spark prunes every other bucket's folder
    for user in (0, 8, 199):
        assert scale.read_shelf(spark, path, user, n_buckets=7) == lists[user].tolist()
    served = spark.read.parquet(str(path))
    lookup = served.where((served.user_bucket == 8 % 7) & (served.user == 8))
    plan = lookup._jdf.queryExecution().executedPlan().toString()
    assert "PartitionFilters: [" in plan and "user_bucket" in plan.split("PartitionFilters: [")[1]
    assert scale.read_shelf(spark, path, 10_000, n_buckets=7) == []


def test_batch_table_arguments_are_checked(spark, tmp_path):
    frame = spark.createDataFrame([(0, 1, 1, 0.5)], "user long, item long, rank int, score double")
    with pytest.raises(ValueError, match="n_buckets must be a positive integer"):
        scale.write_batch_table(frame, tmp_path / "t", n_buckets=0)
    with pytest.raises(ValueError, match="user must be a whole number >= 0"):
        scale.read_shelf(spark, tmp_path / "t", -1)
