"""The course pipeline on Apache Spark: session, data, splits, ALS, top-k, metrics, co-occurrence.

Lesson 13 (``notebooks/13_scale_out_with_spark.ipynb``) runs the same recommender as
lessons 01, 03 and 04 on Spark's MLlib and measures when that is worth it. Spark is an
optional extra: ``make spark`` installs ``pyspark`` (pinned in ``requirements-spark.lock``)
into the course's ``.venv``, and Spark needs a Java 17 or 21 runtime. Importing this module
never needs either; :func:`spark_session` checks both first and raises
:class:`SparkUnavailable` with what to install, before any JVM starts.

Data contract: :func:`to_spark` turns an interactions frame into a Spark DataFrame with
the original columns (``timestamp`` as Spark timestamps), ``row`` (0-based position in the
frame, to trace rows back) and, given an :class:`~recsys_lessons.data.matrix.InteractionMatrix`,
the 0-based ``user`` and ``item`` indices every model uses.

ALS parameter mapping (ours = :class:`recsys_lessons.models.ALS`, over ``implicit``)::

    ours factors=f          -> Spark rank=f
    ours iterations=n       -> Spark maxIter=n
    ours alpha=a            -> Spark alpha=a, implicitPrefs=True: both use the confidence
                               c_ui = 1 + a * r_ui and preference p_ui = 1 if r_ui > 0
    ours regularization=L   -> Spark regParam=L / n_ratings_per_row (roughly)

The regularization differs in kind: ours adds ``L * |x_u|^2`` for every user, whatever
their history length; Spark adds ``regParam * n_u * |x_u|^2``, where ``n_u`` is the number
of ratings of user ``u`` (and ``n_i`` for item ``i``): the "ALS-WR" weighting of Zhou et al.
2008. Spark has no switch to turn that scaling off, so no ``regParam`` reproduces ours
exactly; ``regParam = L / (mean ratings per user and item)`` gives the same penalty to an
average row, and :func:`spark_als` takes ``regParam`` directly. Spark's solver is an exact
normal-equation (Cholesky) solve where ``implicit`` uses conjugate gradient, and the random
initial factors differ, so the factors differ; the quality they reach is what we compare.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.validation import (
    check_finite_array,
    check_non_negative_int,
    check_number,
    check_positive_int,
    check_ratio,
    check_seed,
    is_integer,
)

#: Environment variable naming the Spark master; local mode on two cores by default.
MASTER_VARIABLE = "RECSYS_LESSONS_SPARK_MASTER"
DEFAULT_MASTER = "local[2]"
#: Shuffle partitions: Spark's default 200 is made for clusters and only costs time locally.
SHUFFLE_PARTITIONS = 4
MIN_JAVA = 17

_INSTALL_JAVA = (
    "install a Java 17 or 21 runtime (Debian/Ubuntu: sudo apt-get install "
    "openjdk-17-jre-headless; macOS: brew install openjdk@17; conda: conda install -c "
    "conda-forge openjdk=17) and make `java` reachable on PATH or set JAVA_HOME"
)
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing; the message says what to install."""


def spark_problem() -> str | None:
    """Why Spark cannot start here (a sentence saying what to install), or None if it can.

    Checks, without starting a JVM, that ``pyspark`` is importable and that a ``java`` of
    version 17 or newer is found (``$JAVA_HOME/bin/java`` first, then ``PATH``).
    """
    if importlib.util.find_spec("pyspark") is None:
        return (
            "pyspark is not installed: run `make spark` (installs requirements-spark.lock into "
            ".venv) or `pip install -r requirements-spark.lock`."
        )
    java = _java_executable()
    if java is None:
        return f"no Java runtime found (Spark runs on the JVM): {_INSTALL_JAVA}."
    version = _java_major_version(java)
    if version is None:
        return f"`{java} -version` did not run or did not report a version: {_INSTALL_JAVA}."
    if version < MIN_JAVA:
        return f"Java {version} found at {java}, but pyspark 4 needs Java 17 or newer: {_INSTALL_JAVA}."
    return None


def _require_pyspark() -> None:
    """Refuse, with :func:`spark_problem`'s install advice, to run without pyspark.

    Every function that builds Spark objects calls it first, so a missing pyspark gives the
    same sentence as :func:`spark_session` instead of a bare ``ModuleNotFoundError``.
    """
    if importlib.util.find_spec("pyspark") is None:
        raise SparkUnavailable(spark_problem())


def spark_session(app_name: str = "recsys-lessons", master: str | None = None):
    """A quiet SparkSession: local mode on two cores unless told otherwise.

    The master is ``master``, else the environment variable ``RECSYS_LESSONS_SPARK_MASTER``,
    else ``local[2]``: the same code runs on a cluster with e.g.
    ``RECSYS_LESSONS_SPARK_MASTER=spark://host:7077`` (or ``yarn``, ``k8s://...``). Logs
    are limited to errors (no start-up banner on stderr), the web UI is off and shuffles use
    ``SHUFFLE_PARTITIONS`` partitions, which suits one machine (raise it on a cluster, to a
    few times the number of cores). A checkpoint folder is set (a fresh temporary folder;
    on a cluster use shared storage), so ALS cuts its lineage every 10 iterations.

    Raises
    ------
    SparkUnavailable
        When pyspark or Java is missing (see :func:`spark_problem`), before any JVM starts.
    """
    problem = spark_problem()
    if problem is not None:
        raise SparkUnavailable(problem)
    java = _java_executable()
    if "JAVA_HOME" not in os.environ:
        os.environ["JAVA_HOME"] = str(Path(java).resolve().parent.parent)
    from pyspark.sql import SparkSession

    # pyspark 4.3 warns (on stderr) that pandas 3 is not fully supported; the conversions
    # here go through plain Python rows (to_spark, collect), which do not depend on it.
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    # The executors' Python (mapInArrow in top_k_unseen) is the driver's unless told
    # otherwise: its numpy and this package, not whatever `python3` PATH finds first.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    folder = Path(tempfile.gettempdir())
    log_config = folder / "recsys_lessons_spark_log4j2.properties"
    log_config.write_text(_LOG4J2)
    java_options = f"-Dlog4j2.configurationFile=file:{log_config}"
    conf = (
        SparkConf()
        .setAppName(app_name)
        .setMaster(master or os.environ.get(MASTER_VARIABLE, DEFAULT_MASTER))
        .set("spark.driver.extraJavaOptions", java_options)
        .set("spark.executor.extraJavaOptions", java_options)
        .set("spark.sql.shuffle.partitions", str(SHUFFLE_PARTITIONS))
        .set("spark.default.parallelism", str(SHUFFLE_PARTITIONS))
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.sql.session.timeZone", "UTC")
        .set("spark.sql.execution.arrow.pyspark.enabled", "false")
    )
    if SparkContext._active_spark_context is None:
        # The JVM's own stdout/stderr (start-up banner, native BLAS notices) go to a log
        # file instead of the notebook; errors still reach Python as exceptions.
        if SparkContext._gateway is None:
            log = open(folder / "recsys_lessons_spark.log", "ab")  # noqa: SIM115 (lives with the JVM)
            SparkContext._gateway = launch_gateway(
                conf, popen_kwargs={"stdout": log, "stderr": log}
            )
            SparkContext._jvm = SparkContext._gateway.jvm
        SparkContext(conf=conf)
    session = SparkSession.builder.config(conf=conf).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    # ALS checkpoints its factors every 10 iterations (checkpointInterval) once a folder is
    # set; without it the lineage grows each iteration and can overflow the JVM stack.
    session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="recsys_lessons_spark_"))
    return session


# --------------------------------------------------------------------------------------
# Data in and out
# --------------------------------------------------------------------------------------


def to_spark(spark, interactions: pd.DataFrame, index=None):
    """The interactions as a Spark DataFrame, plus ``row`` and (given ``index``) ``user``/``item``.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    interactions : pandas.DataFrame
        Needs ``user_id`` and ``item_id``; ``rating`` and ``timestamp`` are carried along.
    index : InteractionMatrix, optional
        Adds the 0-based ``user`` and ``item`` indices of this matrix (every id must be in it).

    Returns
    -------
    pyspark.sql.DataFrame
        The frame's columns, ``row`` (0-based position in ``interactions``), and ``user``,
        ``item`` when ``index`` is given.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed (the message says how to install it).
    ValueError
        When ``interactions`` is not a DataFrame with ``user_id`` and ``item_id``, or its
        ratings are not finite numbers or its timestamps not dates.
    """
    if not isinstance(interactions, pd.DataFrame):
        raise ValueError(
            f"to_spark needs a pandas DataFrame of interactions (dataset.interactions), got "
            f"{type(interactions).__name__}."
        )
    missing = [c for c in ("user_id", "item_id") if c not in interactions.columns]
    if missing:
        raise ValueError(f"interactions need user_id and item_id; {missing} missing.")
    ratings = stamps = None
    if "rating" in interactions.columns:
        ratings = check_finite_array(
            interactions["rating"], "interactions['rating']", meaning="one rating per row"
        )
    if "timestamp" in interactions.columns:
        try:
            stamps = pd.to_datetime(interactions["timestamp"]).to_numpy("datetime64[us]")
        except (TypeError, ValueError):
            raise ValueError(
                "interactions['timestamp'] could not be read as dates; convert it with "
                "pandas.to_datetime (giving unit= for epoch numbers) first."
            ) from None
        if np.isnat(stamps).any():
            raise ValueError("interactions['timestamp'] has missing values; drop those rows first.")
    _require_pyspark()
    from pyspark.sql import types as T

    columns = {"row": np.arange(len(interactions), dtype=np.int64)}
    fields = [T.StructField("row", T.LongType(), False)]
    for name in ("user_id", "item_id"):
        values = interactions[name]
        if pd.api.types.is_integer_dtype(values):
            columns[name] = values.to_numpy(np.int64)
            fields.append(T.StructField(name, T.LongType(), False))
        else:
            columns[name] = values.astype(str).to_numpy(object)
            fields.append(T.StructField(name, T.StringType(), False))
    if ratings is not None:
        columns["rating"] = ratings
        fields.append(T.StructField("rating", T.DoubleType(), False))
    if stamps is not None:
        columns["timestamp"] = stamps.astype(object)
        fields.append(T.StructField("timestamp", T.TimestampNTZType(), False))
    if index is not None:
        columns["user"] = index.user_index(interactions["user_id"]).astype(np.int64)
        columns["item"] = index.item_index(interactions["item_id"]).astype(np.int64)
        fields += [
            T.StructField("user", T.LongType(), False),
            T.StructField("item", T.LongType(), False),
        ]
    records = zip(*(_python_values(v) for v in columns.values()), strict=True)
    return spark.createDataFrame(records, T.StructType(fields))


def from_spark(frame) -> pd.DataFrame:
    """A Spark DataFrame of interactions back in pandas, in ``row`` order when it has one.

    The helper columns ``row``, ``user`` and ``item`` are dropped, so
    ``from_spark(to_spark(spark, df))`` equals ``df`` (with a fresh RangeIndex).
    """
    if "row" in frame.columns:
        frame = frame.orderBy("row")
    table = collect(frame)
    table = table.drop(columns=[c for c in ("row", "user", "item") if c in table.columns])
    if "timestamp" in table.columns:
        table["timestamp"] = pd.to_datetime(table["timestamp"]).astype("datetime64[ns]")
    return table


def collect(frame) -> pd.DataFrame:
    """Any (small) Spark DataFrame as a pandas DataFrame, through ``collect``.

    Used instead of ``DataFrame.toPandas``, which warns (on stderr) when pyarrow is absent
    and about pandas 3; the rows reach the driver either way, so keep them few.
    """
    return pd.DataFrame(frame.collect(), columns=frame.columns)


def _python_values(values: np.ndarray) -> list:
    return values.tolist() if values.dtype != object else list(values)


# --------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------


def stratified_split_spark(frame, by: str = "user", test_ratio: float = 0.25, seed: int = 42):
    """:func:`recsys_lessons.evaluation.split.stratified_split` in Spark: ``(train, test)`` DataFrames.

    Every group (user or item) of ``n`` rows keeps ``round((1 - test_ratio) * n)`` rows in
    train (half to even, as ours), the rows with the smallest keys. The keys are
    ``numpy.random.RandomState(seed).random_sample(n_rows)`` indexed by the ``row`` column,
    exactly ours, so **the rows are the same as ours** on the same frame and seed. Drawing
    the keys costs 8 bytes per row on the driver; past a few hundred million rows draw them
    in Spark instead (``pyspark.sql.functions.rand(seed)``), which gives a different (and
    partition-dependent) but equally valid split.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed.
    ValueError
        For a bad ``by``, ``test_ratio`` or ``seed``, or a frame without ``row``.
    """
    _require_pyspark()
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    column = {"user": "user_id", "item": "item_id"}.get(by)
    if column is None:
        raise ValueError(f"by must be 'user' or 'item', not {by!r}.")
    check_ratio(test_ratio, "test_ratio")
    check_seed(seed)
    if "row" not in frame.columns:
        raise ValueError(
            "the frame needs the `row` column that to_spark adds; build it with to_spark."
        )
    n_rows = frame.count()
    keys = np.random.RandomState(seed).random_sample(n_rows)
    spark = frame.sparkSession
    key_frame = spark.createDataFrame(
        zip(range(n_rows), keys.tolist(), strict=True), "row long, split_key double"
    )
    group = Window.partitionBy(column)
    ordered = group.orderBy("split_key", "row")
    marked = (
        frame.join(key_frame, "row")
        .withColumn("position", F.row_number().over(ordered) - 1)
        .withColumn("n_train", F.bround(F.count("*").over(group) * (1.0 - test_ratio)))
        .withColumn("in_test", F.col("position") >= F.col("n_train"))
    )
    return _sides(marked, frame.columns)


def temporal_split_spark(frame, test_ratio: float = 0.25):
    """:func:`recsys_lessons.evaluation.split.temporal_split` in Spark: one cut in time, same rows as ours.

    The cut is the timestamp at position ``n - round(test_ratio * n)`` in time order (a
    distributed sort); every event at or after it is test.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed.
    ValueError
        For a bad ``test_ratio``, a frame without ``timestamp``, or timestamps too coarse
        to cut.
    """
    _require_pyspark()
    from pyspark.sql import functions as F

    check_ratio(test_ratio, "test_ratio")
    if "timestamp" not in frame.columns:
        raise ValueError(
            "a temporal split needs a `timestamp` column; build the frame with to_spark."
        )
    n_rows = frame.count()
    n_test = max(1, round(test_ratio * n_rows))
    cut = frame.select("timestamp").orderBy("timestamp").offset(n_rows - n_test).first()[0]
    if cut <= frame.agg(F.min("timestamp")).first()[0]:
        raise ValueError(
            "every event is at or after the cut time, so train would be empty: the timestamps "
            "are too coarse (or too few) to cut here; lower test_ratio."
        )
    marked = frame.withColumn("in_test", F.col("timestamp") >= F.lit(cut))
    return _sides(marked, frame.columns)


def _sides(marked, columns):
    from pyspark.sql import functions as F

    train = marked.where(~F.col("in_test")).select(*columns)
    test = marked.where(F.col("in_test")).select(*columns)
    return train, test


# --------------------------------------------------------------------------------------
# ALS, top-k, metrics
# --------------------------------------------------------------------------------------


def spark_als(
    train,
    factors: int = 64,
    reg_param: float = 1.0,
    alpha: float = 2.0,
    iterations: int = 15,
    seed: int = 42,
):
    """Fit Spark MLlib's implicit-feedback ALS on the ``user``, ``item``, ``rating`` columns.

    ``ALS(rank=factors, regParam=reg_param, alpha=alpha, maxIter=iterations, seed=seed,
    implicitPrefs=True, coldStartStrategy="drop")``: confidence ``1 + alpha * rating`` as
    ours, penalty ``reg_param * n_u`` per user (see the module docstring for the mapping).
    Returns the fitted ``pyspark.ml.recommendation.ALSModel``.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed (the message says how to install it).
    ValueError
        When ``factors`` or ``iterations`` is not a positive whole number, ``reg_param`` or
        ``alpha`` not a finite number >= 0, ``seed`` not a seed, or a column is missing
        (checked here rather than by the JVM, whose errors name none of them).
    """
    factors = check_positive_int(factors, "factors", "latent factors")
    iterations = check_positive_int(iterations, "iterations", "ALS sweeps")
    reg_param = check_number(reg_param, "reg_param", low=0)
    alpha = check_number(alpha, "alpha (the confidence weight)", low=0)
    seed = check_seed(seed)
    _require_pyspark()
    from pyspark.ml.recommendation import ALS as SparkALS

    for name in ("user", "item", "rating"):
        if name not in train.columns:
            raise ValueError(
                f"spark_als needs a `{name}` column; build the frame with to_spark(spark, "
                "interactions, index=matrix) so it carries 0-based user and item indices."
            )
    als = SparkALS(
        rank=factors,
        maxIter=iterations,
        regParam=reg_param,
        alpha=alpha,
        implicitPrefs=True,
        seed=seed,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        coldStartStrategy="drop",
    )
    return als.fit(train)


#: Scores held at once by :func:`top_k_unseen`'s executor code (users per chunk times items):
#: 2**22 float64 scores are 32 MB per running task.
SCORE_CELLS = 2**22


def recommend_all(model, seen, k: int = 10, users=None):
    """Top-``k`` unseen items for every user the model knows (or for ``users``, a DataFrame
    with one column ``user``): ``(user, item, score, rank)``.

    Exact: the fitted ALS model's user and item factors go to :func:`top_k_unseen`, which
    scores every item for each user on the executors, removes the user's ``seen`` items and
    keeps the best ``k`` (rank 1 = best; ties broken by the lower item index, as ours).

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed (the message says how to install it).
    ValueError
        When ``k`` is not a positive whole number.
    """
    k = check_positive_int(k, "k", "the length of each list")
    _require_pyspark()
    return top_k_unseen(
        model.userFactors.withColumnRenamed("id", "user"),
        model.itemFactors.withColumnRenamed("id", "item"),
        seen,
        k,
        users,
    )


def top_k_unseen(user_vectors, item_vectors, seen, k: int, users=None):
    """The best ``k`` unseen items per user, scored ``s_ui = x_u . y_i`` on the executors.

    The item vectors are collected once and broadcast (a catalogue's factors are small:
    100,000 items x 32 factors is 13 MB); each task takes a batch of users, with their
    vectors and the items they have ``seen``, and, in chunks of :data:`SCORE_CELLS` scores,
    multiplies them by every item vector (one BLAS product, in float64), sets the seen
    items to ``-inf`` and keeps the best ``k`` with the course's one top-k
    (:func:`recsys_lessons.top_k.top_k_of_long_rows`, ties to the lower item index). A
    user left with fewer than ``k`` unseen items gets a shorter list. Why not MLlib's
    ``recommendForAllUsers``: it ranks before the seen items can be removed, so an exact
    answer must ask each user for ``k`` + their history; on the pilot's 10M-event log
    (250,000 users x 100,000 items, two cores) it was still ranking after 30 minutes, where
    the whole ALS test phase (fit, and ranking 215,716 users here) took 223 s
    (``benchmarks/README.md``, pilot section).

    Parameters
    ----------
    user_vectors : pyspark.sql.DataFrame
        ``(user, features)``: one vector (array of numbers, the same length for all) per user.
    item_vectors : pyspark.sql.DataFrame
        ``(item, features)``: one vector per item that may be recommended, of that length.
    seen : pyspark.sql.DataFrame
        ``(user, item, ...)`` pairs to exclude.
    k : int
    users : pyspark.sql.DataFrame or None
        One column ``user``: rank only these users (None: every user of ``user_vectors``).

    Returns
    -------
    pyspark.sql.DataFrame
        ``(user long, item long, score double, rank int)``, rank 1 = best.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed (the message says how to install it).
    ValueError
        When ``k`` is not a positive whole number.

    Notes
    -----
    The executors need numpy and this package (in local mode the driver's Python, which
    :func:`spark_session` names as ``PYSPARK_PYTHON``; on a cluster, install them there).
    """
    k = check_positive_int(k, "k", "the length of each list")
    _require_pyspark()
    from pyspark.sql import functions as F

    catalogue = collect(item_vectors.select("item", "features").orderBy("item"))
    item_ids = catalogue["item"].to_numpy(np.int64)
    vectors = np.array(catalogue["features"].tolist(), dtype=np.float64).reshape(len(item_ids), -1)
    if users is not None:
        user_vectors = user_vectors.join(users.select("user"), "user", "left_semi")
    histories = seen.groupBy("user").agg(F.collect_list("item").alias("seen"))
    batches = user_vectors.select("user", "features").join(histories, "user", "left")
    shared = batches.sparkSession.sparkContext.broadcast((item_ids, vectors))
    cells = SCORE_CELLS  # read here, on the driver, and shipped with the function
    with warnings.catch_warnings():  # pyspark 4.3's pandas-3 notice; no pandas is used here
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        return batches.mapInArrow(
            lambda chunks: _rank_batches(chunks, shared.value, k, cells),
            "user long, item long, score double, rank int",
        )


def _rank_batches(batches, catalogue, k: int, cells: int):
    """Executor side of :func:`top_k_unseen`: Arrow batches of ``(user, features, seen)``
    in, Arrow batches of ``(user, item, score, rank)`` out."""
    import pyarrow as pa

    from recsys_lessons.top_k import top_k_of_long_rows

    item_ids, vectors = catalogue
    n_items = len(item_ids)
    column_of = np.full(int(item_ids.max(initial=-1)) + 1, -1, dtype=np.int64)
    column_of[item_ids] = np.arange(n_items)
    length = min(k, n_items)
    rows_per_chunk = max(1, cells // max(n_items, 1))
    for batch in batches:
        for start in range(0, batch.num_rows, rows_per_chunk):
            chunk = batch.slice(start, rows_per_chunk)
            if chunk.num_rows == 0 or length == 0:
                continue
            features = chunk.column("features")
            x = features.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
            scores = x.reshape(chunk.num_rows, -1) @ vectors.T
            history = chunk.column("seen")
            seen_items = history.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
            owners = np.repeat(
                np.arange(chunk.num_rows), history.value_lengths().fill_null(0).to_numpy()
            )
            known = seen_items < len(column_of)
            columns = column_of[seen_items[known]]
            scores[owners[known][columns >= 0], columns[columns >= 0]] = -np.inf
            best = top_k_of_long_rows(scores, length)
            best_scores = np.take_along_axis(scores, best, axis=1)
            keep = np.isfinite(best_scores)
            row, rank = np.nonzero(keep)
            yield pa.record_batch(
                {
                    "user": pa.array(chunk.column("user").to_numpy()[row], pa.int64()),
                    "item": pa.array(item_ids[best[keep]], pa.int64()),
                    "score": pa.array(best_scores[keep], pa.float64()),
                    "rank": pa.array(rank + 1, pa.int32()),
                }
            )


def ranking_metrics_spark(recommendations, test, k: int = 10):
    """Per-user precision, recall, nDCG and AP at ``k`` as a Spark DataFrame expression.

    Same definitions as :mod:`recsys_lessons.metrics` (binary relevance; AP divides by
    ``min(|relevant|, k)``; IDCG over ``min(|relevant|, k)`` ranks). ``recommendations`` has
    ``user``, ``item``, ``rank`` (1 = best); ``test`` has ``user``, ``item`` (every row
    relevant). One row per test user; a test user without recommendations scores 0.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``user``, ``n_relevant``, ``precision``, ``recall``, ``ndcg``, ``ap``.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed (the message says how to install it).
    ValueError
        When ``k`` is not a positive whole number.
    """
    k = check_positive_int(k, "k", "the number of ranks evaluated")
    _require_pyspark()
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    relevant = test.select("user", "item").distinct().withColumn("hit", F.lit(1))
    n_relevant = relevant.groupBy("user").agg(F.count("*").alias("n_relevant"))
    top = recommendations.where(F.col("rank") <= k).select("user", "item", "rank")
    hits = top.join(relevant, ["user", "item"], "left").fillna(0, ["hit"])
    upto = Window.partitionBy("user").orderBy("rank")
    hits = hits.withColumn("hits_so_far", F.sum("hit").over(upto))
    per_user = hits.groupBy("user").agg(
        F.sum("hit").alias("n_hits"),
        F.sum(F.col("hit") / F.log2(F.col("rank") + 1)).alias("dcg"),
        F.sum(F.col("hit") * F.col("hits_so_far") / F.col("rank")).alias("ap_sum"),
    )
    cut = F.least(F.col("n_relevant"), F.lit(k))
    ideal = F.aggregate(
        F.sequence(F.lit(1), cut), F.lit(0.0), lambda acc, r: acc + 1.0 / F.log2(r + 1)
    )
    table = n_relevant.join(per_user, "user", "left").fillna(0, ["n_hits", "dcg", "ap_sum"])
    return table.select(
        "user",
        "n_relevant",
        (F.col("n_hits") / k).alias("precision"),
        (F.col("n_hits") / F.col("n_relevant")).alias("recall"),
        (F.col("dcg") / ideal).alias("ndcg"),
        (F.col("ap_sum") / cut).alias("ap"),
    )


def recommendation_lists(recommendations, n_users: int, k: int = 10) -> np.ndarray:
    """The Spark top-k as the course's ``(n_users, k)`` array (-1 where a list is short).

    Raises
    ------
    ValueError
        When ``n_users`` or ``k`` is not a positive whole number, or a row's user or rank
        does not fit the array.
    """
    n_users = check_positive_int(n_users, "n_users", "rows of the array")
    k = check_positive_int(k, "k", "the length of each list")
    table = collect(recommendations.select("user", "item", "rank"))
    users, ranks = table["user"].to_numpy(), table["rank"].to_numpy()
    if len(table) and (users.min() < 0 or users.max() >= n_users):
        raise ValueError(
            f"recommendations hold user indices from {users.min()} to {users.max()}, outside "
            f"0..{n_users - 1}; pass n_users = the number of users of the matrix."
        )
    if len(table) and (ranks.min() < 1 or ranks.max() > k):
        raise ValueError(
            f"recommendations hold ranks up to {ranks.max()}, beyond k={k}; pass the k given "
            "to recommend_all."
        )
    lists = np.full((n_users, k), -1, dtype=np.int64)
    lists[users, ranks - 1] = table["item"].to_numpy()
    return lists


def write_batch_table(recommendations, path, n_buckets: int = 16) -> None:
    """Write every user's top-k as the Parquet table a website reads with a key lookup.

    The nightly batch job of lesson 06: rows ``(user, item, rank, score)`` are partitioned by
    ``user_bucket = user mod n_buckets``, so folder ``user_bucket=b`` holds all the rows of
    the users with ``user % n_buckets == b`` (one file, sorted by user and rank). A lookup
    of one user then opens one folder (Spark prunes the others; a service computes the
    same bucket). Partitioning by ``rank`` would do the opposite: every folder holds a
    slice of every user, so each lookup opens all ``k`` of them; partitioning by ``user``
    itself would write one folder per user, millions of tiny files. Pick ``n_buckets`` so a
    bucket holds a few hundred MB on a real table.

    Parameters
    ----------
    recommendations : pyspark.sql.DataFrame
        Columns ``user`` (0-based, non-negative), ``item``, ``rank``, ``score``, as
        :func:`recommend_all` returns them.
    path : str or Path
        Output folder (overwritten).
    n_buckets : int
        Number of user buckets (folders).

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed (the message says how to install it).
    """
    _require_pyspark()
    from pyspark.sql import functions as F

    n_buckets = check_positive_int(n_buckets, "n_buckets", "folders of the table")
    table = recommendations.select("user", "item", "rank", "score").withColumn(
        "user_bucket", F.pmod(F.col("user"), F.lit(n_buckets))
    )
    (
        table.repartition("user_bucket")
        .sortWithinPartitions("user", "rank")
        .write.mode("overwrite")
        .partitionBy("user_bucket")
        .parquet(str(path))
    )


def read_shelf(spark, path, user: int, n_buckets: int = 16) -> list[int]:
    """One user's ranked items from a table of :func:`write_batch_table`: the key lookup.

    Filters on the user's bucket first (``user mod n_buckets``), so Spark reads only that
    folder, then on the user; ``n_buckets`` must be the value the table was written with.
    Returns an empty list for a user the table does not hold.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed (the message says how to install it).
    """
    _require_pyspark()
    from pyspark.sql import functions as F

    n_buckets = check_positive_int(n_buckets, "n_buckets", "folders of the table")
    user = check_non_negative_int(user, "user", "a 0-based user index")
    table = spark.read.parquet(str(path))
    shelf = table.where((F.col("user_bucket") == user % n_buckets) & (F.col("user") == user))
    return [row.item for row in shelf.orderBy("rank").select("item").collect()]


# --------------------------------------------------------------------------------------
# Co-occurrence
# --------------------------------------------------------------------------------------


def capped_baskets(frame, max_items_per_user: int | None = None, seed: int = 42):
    """Distinct ``(user, item)`` pairs, at most ``max_items_per_user`` per user.

    The pairs a user keeps are those with the smallest ``xxhash64(user, item, seed)``: a
    pseudo-random choice that does not depend on partitioning. The cap bounds the pairs a
    user generates (``m`` items give ``m (m - 1) / 2`` pairs), the usual guard against the
    few users who watched everything and would otherwise dominate the shuffle.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed.
    ValueError
        When ``max_items_per_user`` is not None or a whole number >= 2, or ``seed`` is not
        a seed.
    """
    check_seed(seed)
    _require_pyspark()
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    baskets = frame.select("user", "item").distinct()
    if max_items_per_user is None:
        return baskets
    if not is_integer(max_items_per_user) or max_items_per_user < 2:
        raise ValueError(
            f"max_items_per_user must be a whole number >= 2 (or None for no cap), not "
            f"{max_items_per_user!r}."
        )
    order = Window.partitionBy("user").orderBy(F.xxhash64("user", "item", F.lit(seed)), "item")
    return (
        baskets.withColumn("position", F.row_number().over(order))
        .where(F.col("position") <= max_items_per_user)
        .drop("position")
    )


def cooccurrence_spark(baskets):
    """Pairs of items held by the same user, counted with a Spark SQL self-join.

    ``count(i, j)`` = number of users holding both ``i`` and ``j`` (lesson 03's
    :func:`recsys_lessons.models.cooccurrence.cooccurrence_counts`, without the diagonal
    and for ``i < j`` only; the matrix is symmetric). ``baskets`` has distinct ``user``,
    ``item`` pairs (see :func:`capped_baskets`).

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``item_i``, ``item_j``, ``count``.
    """
    baskets.createOrReplaceTempView("baskets")
    return baskets.sparkSession.sql(
        """
        SELECT a.item AS item_i, b.item AS item_j, COUNT(*) AS count
        FROM baskets a JOIN baskets b ON a.user = b.user AND a.item < b.item
        GROUP BY a.item, b.item
        """
    )


def cooccurrence_matrix(pairs, baskets, n_items: int) -> sp.csr_matrix:
    """The full symmetric count matrix from :func:`cooccurrence_spark` (for checks).

    Mirrors the ``i < j`` pairs and puts each item's number of users on the diagonal, the
    layout of ``cooccurrence_counts``.

    Raises
    ------
    SparkUnavailable
        When pyspark is not installed (the message says how to install it).
    """
    _require_pyspark()
    from pyspark.sql import functions as F

    upper = collect(pairs)
    diagonal = collect(baskets.groupBy("item").agg(F.count("*").alias("count")))
    rows = np.concatenate([upper["item_i"], upper["item_j"], diagonal["item"]])
    cols = np.concatenate([upper["item_j"], upper["item_i"], diagonal["item"]])
    values = np.concatenate([upper["count"], upper["count"], diagonal["count"]]).astype(np.float64)
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(n_items, n_items))
    matrix.sort_indices()
    return matrix


# --------------------------------------------------------------------------------------
# Java discovery
# --------------------------------------------------------------------------------------


def _java_executable() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def _java_major_version(java: str) -> int | None:
    try:
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def zipf_log(n_interactions: int, seed: int = 42, exponent: float = 1.0) -> pd.DataFrame:
    """A large implicit-feedback log for timing runs: Zipf item popularity, skewed users.

    ``n_users = n_interactions // 100`` and ``n_items = max(1000, n_interactions // 200)``
    (MovieLens-like 100 events per user); item ``i`` (0-based rank) is drawn with
    probability proportional to ``(i + 1) ** -exponent``, users with log-normal activity.
    Repeated pairs are dropped, so the log holds fewer rows than asked (about 35-45% fewer
    from 100k to 1M: heavy users draw popular items again). It has the
    size and skew of a catalogue but no taste structure: use it for time and memory, not
    accuracy (the simulated catalogue of :mod:`recsys_lessons.data.catalogue` is for that).
    Columns ``user_id``, ``item_id`` (0-based ints) and ``rating`` (1.0 per play).

    Raises
    ------
    ValueError
        When ``n_interactions`` is not a whole number >= 1000, ``seed`` is not a seed, or
        ``exponent`` is not a finite number >= 0.
    """
    if not is_integer(n_interactions) or n_interactions < 1000:
        raise ValueError(f"n_interactions must be a whole number >= 1000, not {n_interactions!r}.")
    exponent = check_number(exponent, "exponent (of the Zipf popularity)", low=0)
    rng = np.random.default_rng(check_seed(seed))
    n_users, n_items = n_interactions // 100, max(1000, n_interactions // 200)
    activity = rng.lognormal(0.0, 1.0, n_users)
    users = rng.choice(n_users, size=n_interactions, p=activity / activity.sum())
    popularity = np.arange(1, n_items + 1, dtype=np.float64) ** -exponent
    items = rng.choice(n_items, size=n_interactions, p=popularity / popularity.sum())
    pairs = np.unique(users.astype(np.int64) * n_items + items)
    return pd.DataFrame(
        {"user_id": pairs // n_items, "item_id": pairs % n_items, "rating": np.float32(1.0)}
    )


def memory_bytes(n_users: int, n_items: int, nnz: int, factors: int = 64) -> dict[str, float]:
    """Back-of-the-envelope memory of the single-machine models, in bytes.

    - interaction matrix (CSR, float32 values, int32 indices): ``8 * nnz + 4 * (n_users + 1)``;
    - ALS factors (float32): ``4 * factors * (n_users + n_items)``;
    - EASE's dense item x item Gram matrix and its inverse (float64): ``2 * 8 * n_items^2``;
    - item-kNN similarities before pruning (float64 CSR, worst case dense): ``12 * n_items^2``;
    - scoring every item for a batch of 1,000 users (float64): ``8 * 1000 * n_items``.

    Raises
    ------
    ValueError
        When ``n_users``, ``n_items`` or ``factors`` is not a positive whole number, or
        ``nnz`` not a whole number >= 0.
    """
    n_users = check_positive_int(n_users, "n_users", "users in the matrix")
    n_items = check_positive_int(n_items, "n_items", "items in the matrix")
    nnz = check_non_negative_int(nnz, "nnz", "stored interactions")
    factors = check_positive_int(factors, "factors", "latent factors of ALS")
    return {
        "matrix": 8.0 * nnz + 4.0 * (n_users + 1),
        "als_factors": 4.0 * factors * (n_users + n_items),
        "ease": 16.0 * n_items**2,
        "item_knn_dense": 12.0 * n_items**2,
        "score_batch": 8.0 * 1000 * n_items,
    }
