"""A learned ranker over the candidate feature table: listwise LightGBM or a pointwise classifier.

- ``kind="lambdarank"``: LightGBM's ``LGBMRanker`` (Burges 2010, LambdaMART), trained
  per user (one query group per user) to order relevant candidates above the others,
  with gradients weighted by how much swapping two items changes nDCG. The industry
  standard for the final ranking stage.
- ``kind="pointwise"``: scikit-learn's ``HistGradientBoostingClassifier``, predicting
  ``P(relevant | features)`` for every candidate independently and ranking by it.

Labels must come from a validation split carved from the training data (never the test
split): fit the retrievers on the rest of train, generate candidates, label those in the
validation split 1. Lesson 06 (``notebooks/06_hybrid_ranking.ipynb``) compares the two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_lessons.models.base import Estimator
from recsys_lessons.validation import (
    check_columns,
    check_number,
    check_positive_int,
    check_seed,
)

KINDS = ("lambdarank", "pointwise")

#: LightGBM's lambdarank refuses a query group (one user's candidates) larger than this.
MAX_GROUP_ROWS = 10_000


class LearnedRanker(Estimator):
    """Gradient-boosted trees scoring (user, item) candidates from their features.

    Not a :class:`~recsys_lessons.models.base.Recommender` (it reads a feature table, not a
    user x item matrix), but it keeps the same promise: ``get_params``/``set_params``, and
    ``sklearn.base.clone`` gives an unfitted copy.

    Parameters
    ----------
    kind : {"lambdarank", "pointwise"}
    iterations : int
        Boosting rounds, one tree each (LightGBM's ``num_iterations``, scikit-learn's
        ``n_estimators`` / ``max_iter``).
    learning_rate : float
    num_leaves : int
        Leaves per tree (``max_leaf_nodes`` for the scikit-learn model).
    min_child_samples : int
        Fewest rows in a leaf (``min_samples_leaf`` for scikit-learn).
    seed : int
        Seeds the trees' random choices.

    Attributes
    ----------
    features_ : list of str
        The feature columns, in training order.
    model_ : lightgbm.LGBMRanker or sklearn HistGradientBoostingClassifier
    """

    def __init__(
        self,
        kind: str = "lambdarank",
        iterations: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        seed: int = 42,
    ):
        self.kind = kind
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed

    def fit(self, features: pd.DataFrame, labels, feature_names) -> LearnedRanker:
        """Learn from a feature frame with a ``user`` column (the query groups) and 0/1 labels.

        Raises
        ------
        ValueError
            On a bad hyperparameter; if ``features`` lacks ``user`` or a named feature, a
            feature is not numeric, ``feature_names`` is empty, ``labels`` are not 0/1 with
            both values present, the rows are not grouped by user, or (lambdarank) a user has
            more than 10 000 candidates. Our arguments are checked here, so LightGBM and
            scikit-learn never see bad input.
        """
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {self.kind!r}.")
        check_positive_int(self.iterations, "iterations", "boosting rounds")
        check_number(self.learning_rate, "learning_rate", low=0, low_open=True)
        check_positive_int(self.num_leaves, "num_leaves", "leaves per tree")
        check_positive_int(self.min_child_samples, "min_child_samples", "rows per leaf")
        check_seed(self.seed)
        feature_names = [feature_names] if isinstance(feature_names, str) else list(feature_names)
        if not feature_names:
            raise ValueError("feature_names is empty; pass e.g. feature_columns(features).")
        check_columns(
            features, ("user", *feature_names), "features", "build them with candidate_features"
        )
        labels = np.asarray(labels)
        if labels.shape != (len(features),):
            raise ValueError(
                f"labels need one value per feature row ({len(features)}); got shape {labels.shape}."
            )
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(
                "labels must be 0 or 1 (1 = relevant), e.g. from label_candidates; got values "
                f"{np.unique(labels)[:5].tolist()}."
            )
        if not labels.any():
            raise ValueError(
                "no candidate is labelled relevant; the ranker has nothing to learn. Check the validation split."
            )
        if labels.all():
            raise ValueError(
                "every candidate is labelled relevant; the ranker needs irrelevant ones too. "
                "Retrieve more candidates per user."
            )
        user = features["user"].to_numpy()
        if (np.diff(user) < 0).any():
            raise ValueError(
                "features must be sorted by user (one contiguous group per user), as generate_candidates returns them."
            )
        self.features_ = feature_names
        table = _numeric_table(features, self.features_)
        if self.kind == "lambdarank":
            from lightgbm import LGBMRanker

            self.model_ = LGBMRanker(
                objective="lambdarank",
                n_estimators=self.iterations,
                learning_rate=self.learning_rate,
                num_leaves=self.num_leaves,
                min_child_samples=self.min_child_samples,
                random_state=self.seed,
                n_jobs=1,
                verbose=-1,
            )
            _, group_sizes = np.unique(user, return_counts=True)
            if group_sizes.max() > MAX_GROUP_ROWS:
                raise ValueError(
                    f"a user has {group_sizes.max()} candidates but lambdarank takes at most "
                    f"{MAX_GROUP_ROWS} per user; generate fewer (lower n in generate_candidates) "
                    "or use kind='pointwise'."
                )
            self.model_.fit(table, labels, group=group_sizes)
        else:
            from sklearn.ensemble import HistGradientBoostingClassifier

            self.model_ = HistGradientBoostingClassifier(
                max_iter=self.iterations,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.num_leaves,
                min_samples_leaf=self.min_child_samples,
                early_stopping=False,
                random_state=self.seed,
            )
            self.model_.fit(table, labels)
        return self

    def predict(self, features: pd.DataFrame, iterations: int | None = None) -> np.ndarray:
        """One score per row, higher = rank higher (within a user).

        ``iterations`` (lambdarank only): score with the first ``iterations`` trees, i.e. the
        ranker this one would be with ``iterations`` boosting rounds, so that one fit traces
        a validation curve over the number of trees. Default: every tree.
        """
        table = self._table(features)
        if iterations is not None:
            if self.kind != "lambdarank":
                raise ValueError(
                    "iterations= needs kind='lambdarank'; refit the pointwise model with fewer iterations."
                )
            iterations = check_positive_int(iterations, "iterations", "trees used to score")
            if iterations > self.iterations:
                raise ValueError(
                    f"the ranker has {self.iterations} trees; ask for at most that many, not {iterations}."
                )
        if self.kind == "lambdarank":
            return np.asarray(
                self.model_.predict(table, num_iteration=iterations), dtype=np.float64
            )
        return self.model_.predict_proba(table)[:, 1]

    def feature_importances(self) -> pd.Series:
        """Total gain of the splits on each feature, as a share of all gain (LightGBM only)."""
        self._require_lightgbm("feature importances")
        gain = self.model_.booster_.feature_importance(importance_type="gain")
        return pd.Series(gain / gain.sum(), index=self.features_, name="gain share").sort_values(
            ascending=False
        )

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """How much each feature moved each row's score (TreeSHAP, LightGBM only).

        Each row's contributions plus the ``bias`` column add up to its score.
        """
        self._require_lightgbm("per-feature contributions")
        values = self.model_.predict(self._table(features), pred_contrib=True)
        return pd.DataFrame(values, columns=[*self.features_, "bias"], index=features.index)

    def _table(self, features: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise ValueError(
                "LearnedRanker is not fitted yet; call .fit(features, labels, feature_names) first."
            )
        check_columns(
            features,
            self.features_,
            "features",
            "the ranker was trained on those columns; build them the same way",
        )
        return _numeric_table(features, self.features_)

    def _require_lightgbm(self, what: str) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("LearnedRanker is not fitted yet; call .fit first.")
        if self.kind != "lambdarank":
            raise ValueError(f"{what} come from LightGBM's trees; fit with kind='lambdarank'.")


def _numeric_table(features: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The feature columns as a float64 matrix, or a ``ValueError`` naming a non-numeric one."""
    text = [c for c in columns if not pd.api.types.is_numeric_dtype(features[c])]
    if text:
        raise ValueError(
            f"features {text} are not numeric (dtype {features[text[0]].dtype}); a ranker reads "
            "numbers only: convert or drop them."
        )
    return features[columns].to_numpy(dtype=np.float64)


def label_candidates(candidates: pd.DataFrame, relevant) -> np.ndarray:
    """1 for candidates that are non-zero in the users x items matrix ``relevant``, else 0.

    Raises
    ------
    ValueError
        If ``candidates`` lacks ``user`` or ``item``.
    """
    import scipy.sparse as sp

    check_columns(
        candidates, ("user", "item"), "candidates", "pass the output of generate_candidates"
    )
    relevant = sp.csr_matrix(relevant)
    hit = relevant[candidates["user"].to_numpy(), candidates["item"].to_numpy()]
    return (np.asarray(hit).ravel() != 0).astype(np.int64)


__all__ = ["LearnedRanker", "label_candidates"]
