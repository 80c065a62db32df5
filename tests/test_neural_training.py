"""fit_adam and epoch_batches: the one training loop of the neural area."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from recsys_lessons.neural import epoch_batches, fit_adam, positive_pairs
from recsys_lessons.neural.training import show_progress


def regression(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    return X, X @ np.array([1.0, -2.0, 3.0], dtype=np.float32)


def squared_error(params, batch, key):
    X, y = batch
    return jnp.mean((X @ params["w"] - y) ** 2)


def batches(iterations=20, seed=0):
    X, y = regression()
    return epoch_batches(len(X), 32, iterations, seed, make=lambda rows: (X[rows], y[rows]))


def test_adam_solves_a_least_squares_problem():
    params, losses = fit_adam(
        squared_error, {"w": np.zeros(3, np.float32)}, batches(), learning_rate=0.1, progress=False
    )
    assert np.allclose(params["w"], [1.0, -2.0, 3.0], atol=1e-2)
    assert len(losses) == len(batches()) and losses[-1] < 1e-3 * losses[0]


def test_regularization_shrinks_the_solution_towards_zero():
    fit = {"learning_rate": 0.05, "progress": False}
    free, _ = fit_adam(squared_error, {"w": np.zeros(3, np.float32)}, batches(), **fit)
    shrunk, _ = fit_adam(
        squared_error, {"w": np.zeros(3, np.float32)}, batches(), regularization=1.0, **fit
    )
    assert np.linalg.norm(shrunk["w"]) < 0.8 * np.linalg.norm(free["w"])


def test_each_step_gets_a_fresh_key_from_the_seed():
    def noise_loss(params, batch, key):
        return jnp.sum(params["w"] * jax.random.normal(key, (2,)))

    def run(seed):
        return fit_adam(
            noise_loss,
            {"w": np.zeros(2, np.float32)},
            [0] * 5,
            learning_rate=0.1,
            seed=seed,
            progress=False,
        )[1]

    assert np.array_equal(run(3), run(3))
    assert len(set(np.round(run(3), 6))) == 5
    assert not np.array_equal(run(3), run(4))


def test_time_budget_stops_training():
    _, losses = fit_adam(
        squared_error,
        {"w": np.zeros(3, np.float32)},
        batches(200),
        learning_rate=0.1,
        time_budget=1e-9,
        progress=False,
    )
    assert len(losses) == 1


def test_epoch_batches_cover_every_row_each_epoch_in_equal_sizes_and_repeat():
    plan = epoch_batches(10, 4, 3, seed=5)
    drawn = list(plan)
    assert len(drawn) == len(plan) == 9 and {len(b) for b in drawn} == {4}
    for epoch in range(3):
        assert set(np.concatenate(drawn[3 * epoch : 3 * epoch + 3])) == set(range(10))
    assert all(np.array_equal(a, b) for a, b in zip(drawn, plan, strict=True))
    assert not np.array_equal(np.concatenate(drawn[:3]), np.concatenate(drawn[3:6]))
    assert [len(b) for b in epoch_batches(3, 8, 2)] == [3, 3]


def test_positive_pairs_lists_the_stored_entries():
    import scipy.sparse as sp

    users, items = positive_pairs(sp.csr_matrix(np.array([[0, 2.0, 0], [1.0, 0, 5.0]])))
    assert users.tolist() == [0, 1, 1] and items.tolist() == [1, 0, 2]


def test_progress_bar_is_off_when_asked_or_in_tests(monkeypatch):
    assert show_progress(False) is False and show_progress(True) is True
    monkeypatch.setenv("RECSYS_LESSONS_NO_PROGRESS", "1")
    assert show_progress(None) is False


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": 0.1, "regularization": -1.0}, "regularization"),
        ({"learning_rate": 0.1, "seed": -1}, "seed"),
        ({"learning_rate": 0.1, "time_budget": 0}, "time_budget"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_adam(squared_error, {"w": np.zeros(3, np.float32)}, batches(1), **kwargs)


@pytest.mark.parametrize("args", [(0, 4, 1), (10, 0, 1), (10, 4, 0), (10, 4, True)])
def test_epoch_batches_refuse_bad_sizes(args):
    with pytest.raises(ValueError):
        epoch_batches(*args)
