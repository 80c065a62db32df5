"""Lesson 13: the same pipeline on Apache Spark (optional extra, ``make spark``).

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.scale.spark` | session, data, splits, ALS, top-k, metrics, the batch table, co-occurrence on Spark; memory formulas |
"""

from recsys_lessons.scale.spark import (
    DEFAULT_MASTER,
    MASTER_VARIABLE,
    MIN_JAVA,
    SCORE_CELLS,
    SHUFFLE_PARTITIONS,
    SparkUnavailable,
    capped_baskets,
    collect,
    cooccurrence_matrix,
    cooccurrence_spark,
    from_spark,
    memory_bytes,
    ranking_metrics_spark,
    read_shelf,
    recommend_all,
    recommendation_lists,
    spark_als,
    spark_problem,
    spark_session,
    stratified_split_spark,
    temporal_split_spark,
    to_spark,
    top_k_unseen,
    write_batch_table,
    zipf_log,
)

__all__ = [
    "DEFAULT_MASTER",
    "MASTER_VARIABLE",
    "MIN_JAVA",
    "SCORE_CELLS",
    "SHUFFLE_PARTITIONS",
    "SparkUnavailable",
    "capped_baskets",
    "collect",
    "cooccurrence_matrix",
    "cooccurrence_spark",
    "from_spark",
    "memory_bytes",
    "ranking_metrics_spark",
    "read_shelf",
    "recommend_all",
    "recommendation_lists",
    "spark_als",
    "spark_problem",
    "spark_session",
    "stratified_split_spark",
    "temporal_split_spark",
    "to_spark",
    "top_k_unseen",
    "write_batch_table",
    "zipf_log",
]
