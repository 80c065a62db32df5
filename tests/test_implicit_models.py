"""ALS and BPR wrappers: ranked seen-excluded lists, determinism, silence, confidence weighting."""

from __future__ import annotations

import warnings

import implicit.utils
import numpy as np
import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from recsys_lessons.models.implicit_models import ALS, BPR

MODELS = {
    "ALS": lambda seed=7: ALS(factors=8, regularization=0.1, alpha=5.0, iterations=10, seed=seed),
    "BPR": lambda seed=7: BPR(
        factors=8, learning_rate=0.05, regularization=0.01, iterations=60, seed=seed
    ),
}


@pytest.fixture(scope="module")
def two_tastes():
    """120 users x 60 items: users 0..59 use items 0..29, users 60..119 items 30..59 (40% each)."""
    rng = np.random.default_rng(0)
    dense = np.zeros((120, 60), dtype=np.float32)
    dense[:60, :30] = rng.random((60, 30)) < 0.4
    dense[60:, 30:] = rng.random((60, 30)) < 0.4
    return sp.csr_matrix(dense)


@pytest.mark.parametrize("name", MODELS)
def test_lists_are_ranked_seen_free_and_follow_the_users_taste(name, two_tastes):
    model = MODELS[name]().fit(two_tastes)
    items, scores = model.recommend(k=5)
    assert items.shape == scores.shape == (120, 5)
    assert (np.diff(scores, axis=1) <= 0).all()
    assert not np.take_along_axis(two_tastes.toarray() != 0, items, axis=1).any()
    in_own_block = np.where(np.arange(120)[:, None] < 60, items < 30, items >= 30)
    assert in_own_block.mean() > 0.95


@pytest.mark.parametrize("name", MODELS)
def test_factors_are_numpy_arrays_and_score_is_their_product(name, two_tastes):
    model = MODELS[name]().fit(two_tastes)
    width = 8 if name == "ALS" else 9  # BPR appends the item bias as one more column
    assert isinstance(model.user_factors_, np.ndarray) and model.user_factors_.shape == (120, width)
    assert isinstance(model.item_factors_, np.ndarray) and model.item_factors_.shape == (60, width)
    np.testing.assert_allclose(
        model.score([3, 70]), model.user_factors_[[3, 70]] @ model.item_factors_.T, rtol=1e-6
    )
    if name == "BPR":
        np.testing.assert_array_equal(model.user_factors_[:, -1], 1.0)


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_same_factors_other_seed_differs(name, two_tastes):
    first, again = MODELS[name](seed=3).fit(two_tastes), MODELS[name](seed=3).fit(two_tastes)
    other = MODELS[name](seed=4).fit(two_tastes)
    np.testing.assert_array_equal(first.item_factors_, again.item_factors_)
    np.testing.assert_array_equal(first.user_factors_, again.user_factors_)
    assert not np.allclose(first.item_factors_, other.item_factors_)


@pytest.mark.parametrize("name", MODELS)
def test_fit_prints_and_warns_nothing_even_when_blas_is_multithreaded(
    name, two_tastes, capfd, monkeypatch
):
    with threadpool_limits(2, "blas"):
        # Control: implicit itself warns about a multi-threaded BLAS when a model is built.
        monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            AlternatingLeastSquares(factors=2)
        assert any("OpenBLAS" in str(warning.message) for warning in caught)

        monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
        capfd.readouterr()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            MODELS[name]().fit(two_tastes).recommend(k=3)
    assert [str(warning.message) for warning in caught] == []
    assert capfd.readouterr() == ("", "")


def test_als_solves_the_weighted_least_squares_with_confidence_one_plus_alpha_x(two_tastes):
    """At convergence each item vector solves (U^T C_i U + reg I) y_i = U^T C_i p_i."""
    alpha, reg = 4.0, 0.1
    counts = two_tastes.multiply(np.arange(1, 61, dtype=np.float32) % 3 + 1).tocsr()  # 1, 2 or 3
    model = ALS(factors=6, regularization=reg, alpha=alpha, iterations=40, seed=0).fit(counts)
    users, items = model.user_factors_.astype(np.float64), model.item_factors_.astype(np.float64)
    dense = counts.toarray()

    def worst_relative_gap(confidence):
        gaps = []
        for i in range(60):
            weights, preference = confidence[:, i], (dense[:, i] > 0).astype(float)
            lhs = (users.T * weights) @ users + reg * np.eye(6)
            solution = np.linalg.solve(lhs, (users.T * weights) @ preference)
            gaps.append(np.abs(solution - items[i]).max() / np.abs(solution).max())
        return max(gaps)

    assert worst_relative_gap(1.0 + alpha * dense) < 0.01
    assert worst_relative_gap(np.where(dense > 0, alpha * dense, 1.0)) > 0.05  # not alpha * X


@pytest.mark.parametrize("name", MODELS)
def test_bad_input_raises_value_errors(name, two_tastes):
    with pytest.raises(ValueError, match="non-negative"):
        MODELS[name]().fit(sp.csr_matrix(np.array([[1.0, -1.0], [0.0, 1.0]])))
    with pytest.raises(ValueError, match="factors must be a positive integer"):
        type(MODELS[name]())(factors=0).fit(two_tastes)
    with pytest.raises(ValueError, match=r"regularization must lie in \[0, inf\)"):
        type(MODELS[name]())(regularization=-0.1).fit(two_tastes)
    with pytest.raises(ValueError, match="num_threads must be a whole number >= 0"):
        type(MODELS[name]())(num_threads=-2).fit(two_tastes)


def test_specific_hyperparameters_are_checked(two_tastes):
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, inf\)"):
        ALS(alpha=-1.0).fit(two_tastes)
    with pytest.raises(ValueError, match=r"learning_rate must lie in \(0, inf\)"):
        BPR(learning_rate=0).fit(two_tastes)


@pytest.mark.parametrize(
    "model, named",
    [
        (lambda: ALS(factors=4, alpha=1e40, iterations=2), "Lower alpha"),
        (lambda: BPR(factors=4, learning_rate=1e6, iterations=3), "Lower learning_rate"),
    ],
)
def test_divergence_names_our_parameter(two_tastes, model, named):
    with pytest.raises(ValueError, match=named):
        model().fit(two_tastes)


@pytest.mark.parametrize("name", ["ALS", "BPR"])
def test_infinite_regularization_is_refused(two_tastes, name):
    with pytest.raises(ValueError, match="regularization must be a finite number"):
        type(MODELS[name]())(regularization=float("inf")).fit(two_tastes)
