"""Candidate retrieval: the top-k items for a query vector, exactly or approximately.

A factor model scores an item by a dot product, ``score(u, i) = user_vector . item_vector``.
Scoring every item is exact but costs ``n_items * dimension`` multiply-adds per request;
an approximate nearest-neighbour (ANN) index such as Spotify's ``annoy`` looks at a small
part of the catalogue and usually finds almost the same top-k, far faster.

- :class:`ExactIndex`: brute-force search in numpy (batched matrix products).
- :class:`ApproximateIndex`: an ``annoy`` forest of random-projection trees.

How close the approximate search comes, and how much faster it is, is measured in
:mod:`recsys_lessons.retrieval.recall`.

Both indexes share one interface: ``build(vectors)``, ``query(vectors, k) -> (ids, scores)``
for a batch of queries, ``save(path)`` and ``Index.load(path)``. ``ids`` are row positions in
the vectors given to ``build``; ``scores`` are "higher is better" for every metric:

- ``"dot"``: the dot product ``q . v`` (what a factor model ranks by);
- ``"angular"``: the cosine similarity ``q . v / (|q| |v|)``;
- ``"euclidean"``: minus the Euclidean distance, ``-|q - v|``.

Lesson 04 (``notebooks/04_matrix_factorization.ipynb``) draws the recall-vs-latency curve and
explains batch (precomputed tables) vs real-time (ANN at request time) serving.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
from annoy import AnnoyIndex

from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import check_positive_int, is_integer

METRICS = ("dot", "angular", "euclidean")


class _VectorIndex:
    """What both indexes share: settings checks, input checks and the saved metadata."""

    kind = ""
    format_version = 1

    def _check_metric(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}; got {self.metric!r}.")

    def _check_built(self) -> None:
        if not hasattr(self, "dimension_"):
            raise ValueError(f"{type(self).__name__} is empty; call .build(vectors) first.")

    def _check_queries(self, vectors, k) -> tuple[np.ndarray, int]:
        self._check_built()
        queries = as_vectors(vectors, "query vectors", allow_1d=True)
        if queries.shape[1] != self.dimension_:
            raise ValueError(
                f"query vectors have {queries.shape[1]} dimensions but the index holds "
                f"{self.dimension_}-dimensional vectors; use vectors from the same model."
            )
        k = check_positive_int(k, "k", "results per query")
        if k > self.n_items_:
            raise ValueError(
                f"k={k} is larger than the index ({self.n_items_} vectors); choose k <= {self.n_items_}."
            )
        return queries, k

    def _metadata(self) -> dict:
        return {
            "format_version": self.format_version,
            "kind": self.kind,
            "metric": self.metric,
            "dimension": self.dimension_,
            "n_items": self.n_items_,
        }


class ExactIndex(_VectorIndex):
    """Brute-force top-k search: score every vector, keep the best ``k``.

    Queries are scored in batches by one matrix product each, then
    :func:`recsys_lessons.top_k.top_k_indices` picks the ``k`` best of every row in linear
    time (equal scores: the lower id first, as everywhere in the course). This is the
    baseline an approximate index must beat, so it is kept lean.

    Parameters
    ----------
    metric : {"dot", "angular", "euclidean"}
        How a query is compared with a vector (see the module docstring for the scores).
    batch_size : int
        Queries scored per matrix product; memory is ``batch_size * n_items`` floats.
        Small batches (tens of queries) are fastest for large catalogues: the score
        matrix then stays in cache.
    dtype : {"float32", "float64"}
        Precision of the stored vectors and of the arithmetic. ``float32`` (as annoy
        stores them) halves memory and roughly doubles speed; scores keep about 7
        significant digits, so only near-ties can swap places.
    """

    kind = "exact"

    def __init__(self, metric: str = "dot", batch_size: int = 64, dtype: str = "float32"):
        self.metric = metric
        self.batch_size = batch_size
        self.dtype = dtype
        self._check_metric()
        check_positive_int(batch_size, "batch_size", "queries scored per matrix product")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}.")

    def build(self, vectors) -> ExactIndex:
        """Store the vectors (row ``j`` gets id ``j``); returns ``self``."""
        self.vectors_ = as_vectors(vectors, "vectors").astype(self.dtype)
        self.n_items_, self.dimension_ = self.vectors_.shape
        # squared norms summed directly (not sqrt then squared), so equal distances tie exactly
        self._squared_norms = np.einsum("ij,ij->i", self.vectors_, self.vectors_)
        if self.metric == "angular":
            norms = np.sqrt(self._squared_norms)
            self._searched = self.vectors_ / np.where(norms > 0, norms, 1.0)[:, None]
        else:
            self._searched = self.vectors_
        return self

    def query(self, vectors, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best ids and their scores for each query vector, best first.

        Returns
        -------
        ids : ndarray of int, shape (n_queries, k)
        scores : ndarray of float, shape (n_queries, k)
            Equal scores are ordered by the lower id.
        """
        queries, k = self._check_queries(vectors, k)
        queries = queries.astype(self.dtype)
        ids = np.empty((len(queries), k), dtype=np.int64)
        scores = np.empty((len(queries), k))
        for start in range(0, len(queries), self.batch_size):
            batch_scores = self._scores(queries[start : start + self.batch_size])
            top = top_k_indices(batch_scores, k)
            ids[start : start + len(top)] = top
            scores[start : start + len(top)] = np.take_along_axis(batch_scores, top, axis=1)
        if self.metric == "euclidean":
            scores = -np.sqrt(np.maximum(-scores, 0.0))
        return ids, scores

    def _scores(self, queries: np.ndarray) -> np.ndarray:
        """Dot products, cosines, or minus *squared* distances (same order, cheaper)."""
        if self.metric == "angular":
            norms = np.linalg.norm(queries, axis=1, keepdims=True)
            return (queries / np.where(norms > 0, norms, 1.0)) @ self._searched.T
        products = queries @ self._searched.T
        if self.metric == "dot":
            return products
        return 2 * products - self._squared_norms[None, :] - (queries**2).sum(axis=1, keepdims=True)

    def save(self, path) -> None:
        """Write the vectors and settings to one ``.npz`` file (``path`` gets that suffix)."""
        self._check_built()
        settings = {**self._metadata(), "batch_size": self.batch_size, "dtype": self.dtype}
        _check_folder(path)
        np.savez(
            _with_suffix(path, ".npz"),
            vectors=self.vectors_,
            metadata=np.array(json.dumps(settings)),
        )

    @classmethod
    def load(cls, path, dimension: int | None = None, metric: str | None = None) -> ExactIndex:
        """Read an index written by :meth:`save`.

        ``dimension`` / ``metric``, when given, must match the saved index, else
        ``ValueError``: a guard against serving vectors of another model.
        """
        path = _with_suffix(path, ".npz")
        if not path.is_file():
            raise ValueError(f"no saved ExactIndex at {path}; save one with ExactIndex.save first.")
        try:
            with np.load(path, allow_pickle=False) as stored:
                metadata = json.loads(str(stored["metadata"]))
                _check_metadata(metadata, cls, path, dimension, metric)
                index = cls(
                    metric=metadata["metric"],
                    batch_size=metadata["batch_size"],
                    dtype=metadata["dtype"],
                )
                return index.build(stored["vectors"])
        except _IndexFileError:
            raise
        except _DAMAGED as error:
            raise ValueError(_damaged(path, "ExactIndex", error)) from None


class ApproximateIndex(_VectorIndex):
    """Approximate top-k search with an ``annoy`` forest of random-projection trees.

    Each tree splits the vectors recursively by random hyperplanes; a query walks down the
    trees, gathers about ``search_k`` candidate vectors from the leaves it reaches, scores
    only those exactly and returns the best ``k``. More trees (``n_trees``, fixed at build
    time) and more candidates (``search_k``, free at query time) raise recall and cost speed.

    ``"dot"`` (maximum inner product search) is reduced to angular search with one extra
    coordinate (Bachrach et al. 2014, "Speeding up the Xbox recommender system")::

        item  v  ->  [v, sqrt(M^2 - |v|^2)],   M = max_j |v_j|   (every item now has length M)
        query q  ->  [q, 0]
        cos([q, 0], [v, ...]) = q . v / (|q| M),  so the angular order is the dot-product order

    and the augmented vectors are indexed with annoy's ``"angular"`` metric. Annoy's own
    ``"dot"`` metric describes the same reduction, but in annoy 1.17.3 it finds far fewer
    of the true top-k at the same ``search_k`` (measured in ``benchmarks/retrieval.py``:
    e.g. recall@10 0.63 instead of 0.94 for ALS vectors of MovieLens 100K with 5 trees and
    500 candidates), so it is not used.

    Parameters
    ----------
    n_trees : int
        Trees in the forest: build time and index size grow linearly with it.
    metric : {"dot", "angular", "euclidean"}
        How a query is compared with a vector (see the module docstring for the scores).
    search_k : int
        Candidates inspected per query; ``-1`` means annoy's default ``n_trees * k``.
        When too small, fewer than ``k`` results may be found: :meth:`query` then pads
        the row with id ``-1`` and score ``-inf``.
    seed : int
        Seeds the random hyperplanes; the index is built on one thread, so a seed gives
        the same forest every time.
    """

    kind = "annoy"
    format_version = 2  # 2: "dot" indexes hold augmented vectors under annoy's "angular"

    def __init__(self, n_trees: int = 50, metric: str = "dot", search_k: int = -1, seed: int = 42):
        self.n_trees = n_trees
        self.metric = metric
        self.search_k = search_k
        self.seed = seed
        self._check_metric()
        check_positive_int(n_trees, "n_trees", "trees in the forest")
        check_search_k(search_k)

    def build(self, vectors) -> ApproximateIndex:
        """Add every vector (row ``j`` gets id ``j``) and build the forest; returns ``self``."""
        vectors = as_vectors(vectors, "vectors")
        self.n_items_, self.dimension_ = vectors.shape
        if self.metric == "dot":
            norms = np.linalg.norm(vectors, axis=1)
            self.max_norm_ = float(norms.max())
            extra = np.sqrt(np.maximum(self.max_norm_**2 - norms**2, 0.0))
            vectors = np.hstack([vectors, extra[:, None]])
        self._annoy = self._empty_annoy()
        self._annoy.set_seed(int(self.seed))
        for item, vector in enumerate(vectors.tolist()):  # annoy takes one vector per call
            self._annoy.add_item(item, vector)
        self._annoy.build(int(self.n_trees), n_jobs=1)
        return self

    def query(self, vectors, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The approximately ``k`` best ids and their scores for each query vector, best first.

        Annoy answers one query at a time, so this loops over the queries.

        Returns
        -------
        ids : ndarray of int, shape (n_queries, k)
            ``-1`` pads a row when ``search_k`` was too small to find ``k`` vectors.
        scores : ndarray of float, shape (n_queries, k)
            ``-inf`` where the id is ``-1``.
        """
        queries, k = self._check_queries(vectors, k)
        # Python lists reach annoy's C code without a per-element conversion
        searched = queries.tolist()
        if self.metric == "dot":  # the query's extra coordinate is 0
            searched = [query + [0.0] for query in searched]
        search_k = check_search_k(self.search_k)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        distances = np.full((len(queries), k), np.nan)
        for row, query in enumerate(searched):
            found, found_distances = self._annoy.get_nns_by_vector(query, k, search_k, True)
            ids[row, : len(found)] = found
            distances[row, : len(found)] = found_distances
        return ids, self._scores(queries, distances)

    def _scores(self, queries: np.ndarray, distances: np.ndarray) -> np.ndarray:
        """Annoy's distances as "higher is better" scores; ``-inf`` where nothing was found.

        Angular distances are ``sqrt(2 - 2 cos)``, so ``cos = 1 - distance^2 / 2``; for
        ``"dot"`` the cosine of the augmented vectors times ``|q| M`` is ``q . v``.
        """
        missing = np.isnan(distances)
        if self.metric == "euclidean":
            scores = np.negative(distances)
        else:
            scores = 1.0 - 0.5 * distances * distances
            if self.metric == "dot":
                query_norms = np.sqrt(np.einsum("ij,ij->i", queries, queries))
                scores *= query_norms[:, None] * self.max_norm_
        scores[missing] = -np.inf
        return scores

    def _empty_annoy(self) -> AnnoyIndex:
        if self.metric == "dot":
            return AnnoyIndex(self.dimension_ + 1, "angular")
        return AnnoyIndex(self.dimension_, self.metric)

    def save(self, path) -> None:
        """Write the annoy file at ``path`` and its settings beside it (``path + ".json"``)."""
        self._check_built()
        path = Path(path)
        _check_folder(path)
        self._annoy.save(str(path))
        metadata = {
            **self._metadata(),
            "n_trees": self.n_trees,
            "search_k": self.search_k,
            "seed": self.seed,
        }
        if self.metric == "dot":
            metadata["max_norm"] = self.max_norm_
        _metadata_path(path).write_text(json.dumps(metadata, indent=2) + "\n")

    @classmethod
    def load(
        cls, path, dimension: int | None = None, metric: str | None = None
    ) -> ApproximateIndex:
        """Read an index written by :meth:`save` (memory-mapped by annoy, so loading is instant).

        ``dimension`` / ``metric``, when given, must match the saved index, else
        ``ValueError``: a guard against serving vectors of another model. A raw annoy file
        without its ``.json`` settings is refused, since annoy cannot tell its own dimension
        or metric and would silently return nonsense.
        """
        path = Path(path)
        if not path.is_file():
            raise ValueError(
                f"no saved index at {path}; save one with ApproximateIndex.save first."
            )
        meta_path = _metadata_path(path)
        if not meta_path.is_file():
            raise ValueError(
                f"{path} has no settings file {meta_path.name} beside it, so its dimension and metric "
                "are unknown; save indexes with ApproximateIndex.save (which writes both files)."
            )
        try:
            metadata = json.loads(meta_path.read_text())
            _check_metadata(metadata, cls, path, dimension, metric)
            index = cls(
                n_trees=metadata["n_trees"],
                metric=metadata["metric"],
                search_k=metadata["search_k"],
                seed=metadata["seed"],
            )
            index.n_items_, index.dimension_ = metadata["n_items"], metadata["dimension"]
            if index.metric == "dot":
                index.max_norm_ = metadata["max_norm"]
        except _IndexFileError:
            raise
        except _DAMAGED as error:
            raise ValueError(_damaged(meta_path, "ApproximateIndex", error)) from None
        index._annoy = index._empty_annoy()
        try:
            index._annoy.load(str(path))
        except OSError as error:
            raise ValueError(
                f"{path} does not match its settings file ({metadata['dimension']} dimensions, "
                f"metric {metadata['metric']!r}): annoy says {error}. Rebuild and save the index again."
            ) from None
        if index._annoy.get_n_items() != index.n_items_:
            raise ValueError(
                f"{path} holds {index._annoy.get_n_items()} vectors but its settings file says "
                f"{index.n_items_}; the two files do not belong together. Rebuild and save the index again."
            )
        return index


def as_vectors(vectors, name: str, allow_1d: bool = False) -> np.ndarray:
    """``vectors`` as a non-empty, finite 2-D float64 array (one vector per row), or ``ValueError``."""
    array = np.asarray(vectors, dtype=np.float64)
    if allow_1d and array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array (one vector per row); got shape {array.shape}."
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{name} hold NaN or infinite values; fix the embeddings first.")
    return array


def check_search_k(search_k) -> int:
    """annoy's ``search_k``: ``-1`` (its default, ``n_trees * k``) or a positive integer."""
    if not is_integer(search_k) or (search_k < 1 and search_k != -1):
        raise ValueError(
            f"search_k must be -1 (annoy's default) or a positive integer; got {search_k!r}."
        )
    return int(search_k)


def _check_folder(path) -> None:
    folder = Path(path).parent
    if not folder.is_dir():
        raise ValueError(
            f"cannot save into {folder}: no such folder. Create it first, e.g. "
            f"Path({str(folder)!r}).mkdir(parents=True)."
        )


class _IndexFileError(ValueError):
    """A saved index that was read but belongs to another kind, version, model or metric."""


#: What reading a damaged or incomplete saved index raises, besides our own checks.
_DAMAGED = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    EOFError,
    zipfile.BadZipFile,
)


def _damaged(path: Path, kind: str, error: BaseException) -> str:
    """A message for an unreadable saved index that never passes on numpy's advice."""
    what = f"missing field {error}" if isinstance(error, KeyError) else type(error).__name__
    return (
        f"{path} is not a complete index saved by {kind}.save ({what}): the file is damaged, "
        f"incomplete or of another kind. Rebuild the index and save it again."
    )


def _check_metadata(metadata: dict, cls, path: Path, dimension, metric) -> None:
    if metadata.get("kind") != cls.kind:
        raise _IndexFileError(
            f"{path} was not saved by this kind of index (expected {cls.kind!r}); load it with the class that saved it."
        )
    if metadata.get("format_version") != cls.format_version:
        raise _IndexFileError(
            f"{path} was saved in format {metadata.get('format_version')!r} by another version of "
            f"recsys_lessons; this version reads format {cls.format_version}. Rebuild and save the index again."
        )
    if dimension is not None and dimension != metadata["dimension"]:
        raise _IndexFileError(
            f"{path} holds {metadata['dimension']}-dimensional vectors, not {dimension}; it was built "
            "from another model's embeddings. Rebuild the index from the current vectors."
        )
    if metric is not None and metric != metadata["metric"]:
        raise _IndexFileError(
            f"{path} was built with metric {metadata['metric']!r}, not {metric!r}; rebuild it with "
            "the metric you need."
        )


def _metadata_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _with_suffix(path, suffix: str) -> Path:
    path = Path(path)
    return path if path.suffix == suffix else path.with_name(path.name + suffix)
