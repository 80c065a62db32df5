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


def climb(params, batch, key):
    """Constant gradient -1: Adam moves w up by about learning_rate per step (w_t = t)."""
    return -params["w"][0]


def peak_at_7(params):
    return -float((params["w"][0] - 7.0) ** 2)


def climb_fit(**kwargs):
    fit = {"learning_rate": 1.0, "progress": False, "validate": peak_at_7}
    return fit_adam(climb, {"w": np.zeros(1, np.float32)}, [0] * 40, **{**fit, **kwargs})


def test_early_stopping_returns_the_best_checked_params_and_stops_after_patience():
    params, losses = climb_fit(check_every=1, patience=3)
    assert np.isclose(params["w"][0], 7.0, atol=1e-3)  # step 7, not the last step 10
    assert len(losses) == 10  # checks 8, 9 and 10 did not beat step 7
    params, losses = climb_fit(check_every=3, patience=3)  # checks at w = 3, 6, 9, 12, 15
    assert np.isclose(params["w"][0], 6.0, atol=1e-3) and len(losses) == 15
    params, losses = climb_fit(validate=lambda params: 0.0, check_every=1, patience=2)
    assert np.isclose(params["w"][0], 1.0, atol=1e-3) and len(losses) == 3  # ties keep the first


def test_without_patience_every_step_runs_and_the_best_check_is_returned():
    params, losses = climb_fit(check_every=4)
    assert len(losses) == 40 and np.isclose(params["w"][0], 8.0, atol=1e-3)  # w = 4, 8, 12...
    params, _ = climb_fit(check_every=1000)  # never due: the last step is still checked
    assert np.isclose(params["w"][0], 40.0, atol=1e-3)


def test_validation_changes_neither_the_adam_trajectory_nor_the_compiled_step():
    traces = []

    def counted(params, batch, key):
        traces.append(1)  # Python runs this only while jax traces the step
        return squared_error(params, batch, key)

    start = {"w": np.zeros(3, np.float32)}
    fit = {"learning_rate": 0.1, "progress": False}
    plain, plain_losses = fit_adam(counted, start, batches(5), **fit)
    assert len(traces) == 1
    scores = []

    def record(params):
        scores.append(float(params["w"][0]))
        return len(scores)  # always improving: the last step is returned

    checked, losses = fit_adam(counted, start, batches(5), validate=record, check_every=3, **fit)
    assert len(traces) == 1  # no recompilation per check nor per fit
    np.testing.assert_array_equal(losses, plain_losses)  # Adam's state was never reset
    np.testing.assert_array_equal(checked["w"], plain["w"])
    assert len(scores) == len(batches(5)) // 3 + 1  # every 3 steps, then the last step


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
        ({"learning_rate": 0.1, "check_every": 2}, "need validate"),
        ({"learning_rate": 0.1, "patience": 2}, "need validate"),
        ({"learning_rate": 0.1, "validate": 3.0, "check_every": 2}, "callable"),
        ({"learning_rate": 0.1, "validate": abs}, "check_every"),
        ({"learning_rate": 0.1, "validate": abs, "check_every": 0}, "check_every"),
        ({"learning_rate": 0.1, "validate": abs, "check_every": 1, "patience": 0}, "patience"),
        ({"learning_rate": 0.1, "validate": lambda p: np.nan, "check_every": 1}, "NaN"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_adam(squared_error, {"w": np.zeros(3, np.float32)}, batches(1), **kwargs)


@pytest.mark.parametrize("args", [(0, 4, 1), (10, 0, 1), (10, 4, 0), (10, 4, True)])
def test_epoch_batches_refuse_bad_sizes(args):
    with pytest.raises(ValueError):
        epoch_batches(*args)
