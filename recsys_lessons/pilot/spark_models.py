"""The pilot's popularity and ALS rows fitted and ranked on Apache Spark (``--engine spark``).

Both classes follow the course's model protocol (``fit(X) -> self``,
``recommend(users, k, exclude_seen=True) -> (items, scores)``), so the pilot's protocol,
per-user metrics, intervals and choice rule run unchanged on their lists; only the fit and
the top-k (seen items removed on the executors, :func:`recsys_lessons.scale.spark.top_k_unseen`)
happen in Spark. The training matrix reaches Spark as a Parquet file (:func:`to_parquet`:
pyarrow writes the three COO columns, ``spark.read.parquet`` reads them in the JVM), not as
Python rows: on a 10M-event log, ``createDataFrame`` of Python tuples spends minutes
serializing them one by one. The top-k lists come back the same way (Spark writes Parquet,
pyarrow reads it), not through ``collect``'s Python rows. Lists shorter than ``k`` (a user Spark's ALS never saw, or fewer than
``k`` unseen items) are padded, as a local model's seen items at score ``-inf`` would be,
with the lowest-index items not yet in the list, at score ``-inf`` (``recommendations.csv``
drops them). Lesson 13 (``notebooks/13_scale_out_with_spark.ipynb``)
teaches the Spark side.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import scipy.sparse as sp

from recsys_lessons import scale
from recsys_lessons.models.base import Estimator
from recsys_lessons.pilot.models import REGISTRY, ModelSpec

#: Reason written in the report for every row the Spark engine does not run.
NOT_ON_SPARK = "not available on the spark engine (only popularity and als run on Spark)."


class _SparkRanker(Estimator):
    """Shared fit bookkeeping and the collect of a Spark top-k into ``(items, scores)``.

    ``get_params``/``set_params`` and ``sklearn.base.clone`` work as for every course model.
    """

    def fit(self, X):
        X = sp.coo_matrix(X)
        self.n_users_, self.n_items_ = X.shape
        self.mean_per_row_ = (X.nnz / X.shape[0] + X.nnz / X.shape[1]) / 2
        spark = scale.spark_session("recsys-pilot")
        # the folder lives as long as the model: Spark reads the file lazily
        self.folder_ = tempfile.TemporaryDirectory(prefix="recsys_pilot_spark_")
        path = to_parquet(X, Path(self.folder_.name) / "train.parquet")
        self.seen_ = spark.read.parquet(str(path)).cache()
        self._fit_spark(spark)
        return self

    def recommend(self, users, k: int = 10, exclude_seen: bool = True):
        if not exclude_seen:
            raise ValueError(
                "the Spark rows always remove seen items; call with exclude_seen=True."
            )
        # the lists come back the way the matrix went in: Spark writes Parquet, pyarrow reads
        users = np.asarray(users)
        everyone = np.unique(users).size == self.n_users_
        subset = None if everyone else self._users_frame(users)
        path = Path(self.folder_.name) / f"top_{k}.parquet"
        self._top_k(k, subset).select("user", "item", "score", "rank").write.mode(
            "overwrite"
        ).parquet(str(path))
        table = pq.read_table(path).to_pandas()
        items = np.full((self.n_users_, k), -1, dtype=np.int64)
        scores = np.full((self.n_users_, k), -np.inf)
        where = (table["user"].to_numpy(np.int64), table["rank"].to_numpy(np.int64) - 1)
        items[where] = table["item"].to_numpy(np.int64)
        scores[where] = table["score"].to_numpy(float)
        return _pad(items[users], self.n_items_), scores[users]

    def _users_frame(self, users: np.ndarray):
        """The distinct ``users`` as a one-column Spark DataFrame ``user`` (through Parquet,
        like the training matrix)."""
        import pyarrow as pa

        distinct = np.unique(users).astype(np.int64)
        # one file per set of users: Spark may still list a file it read before
        path = (
            Path(self.folder_.name)
            / f"users_{hashlib.sha1(distinct.tobytes()).hexdigest()}.parquet"
        )
        if not path.exists():
            pq.write_table(pa.table({"user": pa.array(distinct)}), path)
        return scale.spark_session("recsys-pilot").read.parquet(str(path))


def to_parquet(X: sp.coo_matrix, path: Path) -> Path:
    """Write ``X``'s nonzeros as a Parquet file of ``user long, item long, rating double``
    (one row per nonzero, in COO order) with pyarrow; return ``path``.

    Columnar and binary, so Spark reads it in the JVM at disk speed, where
    ``spark.createDataFrame`` of Python rows pickles every value through the Python worker.
    """
    import pyarrow as pa

    table = pa.table(
        {
            "user": pa.array(X.row.astype(np.int64)),
            "item": pa.array(X.col.astype(np.int64)),
            "rating": pa.array(X.data.astype(np.float64)),
        }
    )
    pq.write_table(table, path)
    return path


def _pad(items: np.ndarray, n_items: int) -> np.ndarray:
    """Fill each row's trailing ``-1`` slots with the lowest-index items not in that row."""
    k = items.shape[1]
    candidates = np.arange(min(n_items, 2 * k))
    free = ~(candidates[None, :, None] == items[:, None, :]).any(axis=2)
    extra = np.take_along_axis(
        np.broadcast_to(candidates, free.shape), np.argsort(~free, axis=1, kind="stable"), axis=1
    )
    filled = (items >= 0).sum(axis=1, keepdims=True)
    slot = np.clip(np.arange(k)[None, :] - filled, 0, extra.shape[1] - 1)
    return np.where(items >= 0, items, np.take_along_axis(extra, slot, axis=1))


class SparkPopularity(_SparkRanker):
    """Lesson 01's popularity on Spark: score(i) = number of training users of item i."""

    def _fit_spark(self, spark):
        from pyspark.sql import functions as F

        counts = self.seen_.groupBy("item").agg(F.count("*").cast("double").alias("score"))
        items = spark.range(self.n_items_).withColumnRenamed("id", "item")
        self.counts_ = items.join(counts, "item", "left").fillna(0.0, ["score"])  # all items
        self.spark_ = spark

    def _top_k(self, k: int, users=None):
        from pyspark.sql import functions as F

        # s_ui = 1 * count_i: every user's vector is (1), every item's (its count)
        every_user = self.spark_.range(self.n_users_).select(
            F.col("id").alias("user"), F.array(F.lit(1.0)).alias("features")
        )
        items = self.counts_.select("item", F.array("score").alias("features"))
        return scale.top_k_unseen(every_user, items, self.seen_, k, users)


class SparkALS(_SparkRanker):
    """Lesson 04's implicit ALS on Spark MLlib, with our hyperparameters mapped.

    ``factors``, ``alpha``, ``iterations`` and ``seed`` carry over as they are;
    ``regularization`` L becomes ``regParam = L / mean_per_row``, with ``mean_per_row`` the
    mean of ratings per user and per item in the training matrix (the mapping documented in
    :mod:`recsys_lessons.scale.spark`: same penalty for an average row).
    """

    def __init__(self, factors=32, regularization=30.0, alpha=2.0, iterations=15, seed=42):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed

    def _fit_spark(self, spark):
        self.reg_param_ = self.regularization / self.mean_per_row_
        self.model_ = scale.spark_als(
            self.seen_,
            factors=self.factors,
            reg_param=self.reg_param_,
            alpha=self.alpha,
            iterations=self.iterations,
            seed=self.seed,
        )

    def _top_k(self, k: int, users=None):
        return scale.recommend_all(self.model_, self.seen_, k=k, users=users)


def spark_registry() -> list[ModelSpec]:
    """The registry for ``--engine spark``: popularity and ALS on Spark, the rest skipped.

    ALS has one grid point, the local row's first (its defaults), mapped as in
    :class:`SparkALS`: every Spark fit costs seconds of start-up, so no grid search.
    """
    spark_rows = {
        "popularity": {"factory": lambda p, c: SparkPopularity(), "grid": {}},
        "als": {
            "factory": lambda p, c: SparkALS(seed=c.seed, **p),
            "grid": {"regularization": [30.0], "factors": [32]},
        },
    }
    return [
        replace(spec, skip=lambda context: None, tuner=None, **spark_rows[spec.name])
        if spec.name in spark_rows
        else replace(spec, skip=lambda context: NOT_ON_SPARK, tuner=None)
        for spec in REGISTRY
    ]
