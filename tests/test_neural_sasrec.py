"""SASRec: the causal mask, what each position reads, learning a next-item rule."""

import jax
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from recsys_lessons.neural import training
from recsys_lessons.neural.attention import attention_mask, causal_mask
from recsys_lessons.neural.sasrec import (
    SASRec,
    encode,
    history_inputs,
    init_params,
    training_windows,
)
from recsys_lessons.sequences import build_sequences, evaluate_next_item, next_item_split

N_ITEMS = 12
LENGTH = 6
T0 = pd.Timestamp("2024-01-01")
network = jax.jit(encode, static_argnames="n_heads")  # compiled once for every example


def _frame(sequences):
    """One user per list of item ids, one event a minute."""
    rows = [
        (user, item, T0 + pd.Timedelta(minutes=t))
        for user, items in enumerate(sequences)
        for t, item in enumerate(items)
    ]
    users, items, times = zip(*rows, strict=True)
    return pd.DataFrame({"user_id": users, "item_id": items, "rating": 1.0, "timestamp": times})


def _successor_sequences(n_users=120, seed=0):
    """Item i is always followed by i + 1 (mod N_ITEMS); random start and length."""
    rng = np.random.default_rng(seed)
    lists = [
        [(start + t) % N_ITEMS for t in range(length)]
        for start, length in zip(
            rng.integers(0, N_ITEMS, n_users), rng.integers(3, 9, n_users), strict=True
        )
    ]
    return build_sequences(_frame(lists), item_ids=np.arange(N_ITEMS))


def _small(**params):
    defaults = dict(
        factors=16, max_length=LENGTH, n_blocks=1, n_heads=2, dropout=0.0, iterations=30,
        batch_size=32, learning_rate=1e-2, progress=False,
    )  # fmt: skip
    return SASRec(**{**defaults, **params})


@pytest.fixture(scope="module")
def split():
    return next_item_split(_successor_sequences())


@pytest.fixture(scope="module")
def fitted(split):
    history, _, _ = split
    return _small().fit(history)


def test_causal_mask_is_the_past_and_the_position_itself():
    mask = causal_mask(4)
    assert mask.dtype == bool and mask.shape == (4, 4)
    for t in range(4):
        for s in range(4):
            assert mask[t, s] == (s <= t)  # t reads its own input, never a later one
    valid = np.array([[False, True, True, True]])  # left padding
    full = attention_mask(valid)
    assert full.shape == (1, 1, 4, 4)
    assert not full[0, 0, :, 0].any()  # nobody reads the padding
    assert full[0, 0, 3, 1:].all() and not full[0, 0, 1, 2:].any()


@settings(max_examples=10, deadline=None)
@given(
    t=st.integers(0, LENGTH - 2),
    n_padding=st.integers(0, LENGTH - 1),
    seed=st.integers(0, 2**16),
)
def test_output_at_t_never_depends_on_later_inputs(t, n_padding, seed):
    rng = np.random.default_rng(seed)
    params = init_params(jax.random.PRNGKey(seed), N_ITEMS, 8, LENGTH, 2)
    inputs = rng.integers(1, N_ITEMS + 1, (1, LENGTH)).astype(np.int32)
    inputs[:, :n_padding] = 0
    changed = inputs.copy()
    changed[:, t + 1 :] = rng.integers(1, N_ITEMS + 1, (1, LENGTH - t - 1))
    a = np.asarray(network(params, inputs, n_heads=2))
    b = np.asarray(network(params, changed, n_heads=2))
    np.testing.assert_allclose(a[:, : t + 1], b[:, : t + 1], rtol=0, atol=1e-6)
    if not np.array_equal(inputs[:, -1], changed[:, -1]):  # the test can see a change
        assert not np.allclose(a[:, -1], b[:, -1])


def test_padding_never_influences_real_positions():
    rng = np.random.default_rng(1)
    params = init_params(jax.random.PRNGKey(1), N_ITEMS, 8, LENGTH, 2)
    inputs = np.array([[0, 0, 0, 3, 5, 7]], dtype=np.int32)
    noisy = jax.tree_util.tree_map(np.array, params)
    noisy["items"][0] = 10 * rng.normal(size=8)  # the padding id's embedding
    noisy["positions"][:3] = 10 * rng.normal(size=(3, 8))  # the padded slots' positions
    a = np.asarray(network(params, inputs, n_heads=2))[:, 3:]
    b = np.asarray(network(noisy, inputs, n_heads=2))[:, 3:]
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_training_windows_cover_every_transition_once():
    history = build_sequences(_frame([[0, 1, 2, 3, 4], [5, 6]]), item_ids=np.arange(7))
    inputs, targets = training_windows(history, 2)
    # user 0 from its end: (2, 3) -> (3, 4), then (0, 1) -> (1, 2); user 1: (pad, 5) -> (-, 6)
    assert inputs.tolist() == [[1, 2], [3, 4], [0, 6]]
    assert targets.tolist() == [[1, 2], [3, 4], [-1, 6]]
    assert history_inputs(history, np.array([1]), 3).tolist() == [[0, 6, 7]]


def test_learns_a_next_item_rule_far_above_chance(fitted, split):
    history, targets, _ = split
    table = evaluate_next_item(fitted, history, targets, k=1)
    # chance among the ~N_ITEMS - 5 unseen items is below 0.2
    assert table["hit_rate@1"].mean() >= 0.9
    assert fitted.losses_[-5:].mean() < 0.5 * fitted.losses_[:5].mean()


def test_scores_and_recommend_shapes(fitted, split):
    history, _, _ = split
    scores = fitted.score(history, rows=np.array([0, 2]))
    assert scores.shape == (2, N_ITEMS) and np.isfinite(scores).all()
    items, _ = fitted.recommend(history, k=3, rows=np.array([0]))
    seen = set(history.items[history.indptr[0] : history.indptr[1]].tolist())
    assert not seen & set(items[0].tolist())


def test_seed_determinism_and_clone(fitted, split):
    history, _, _ = split
    again = clone(fitted)
    assert not hasattr(again, "params_") and again.get_params() == fitted.get_params()
    np.testing.assert_array_equal(again.fit(history).score(history), fitted.score(history))


def test_early_stopping_stops_once_converged_and_keeps_the_best_epoch(split):
    history, _, _ = split
    inner, targets, _ = next_item_split(history)  # validation never reads the test targets
    model = _small(iterations=60, patience=3).fit(inner, validation=(inner, targets))
    scores = model.validation_scores_
    best = int(np.argmax(scores))  # the first best epoch, 0-based
    assert best + 1 + 3 == len(scores) < 60  # stopped 3 epochs without progress after it
    steps_per_epoch = len(model.losses_) // len(scores)
    assert len(model.losses_) == len(scores) * steps_per_epoch
    validated = evaluate_next_item(model, inner, targets, k=10)["ndcg@10"].mean()
    assert np.isclose(validated, scores[best]) and scores[best] > 0.9
    # the kept parameters are exactly those after best + 1 epochs of an ordinary fit
    plain = _small(iterations=best + 1).fit(inner)
    np.testing.assert_array_equal(plain.score(inner), model.score(inner))
    assert not hasattr(plain, "validation_scores_")


def test_validation_without_patience_runs_every_epoch(split):
    history, _, _ = split
    inner, targets, _ = next_item_split(history)
    model = _small(iterations=4).fit(inner, validation=(inner, targets))
    assert len(model.validation_scores_) == 4
    last = _small(iterations=4).fit(inner)
    assert len(model.losses_) == len(last.losses_)


def test_refitting_reuses_the_compiled_step(split):
    history, _, _ = split
    model = _small(iterations=1).fit(history)  # compiles once for these shapes
    hits = training._make_step.cache_info().hits
    clone(model).set_params(seed=5).fit(history)
    # The same loss function object, so fit_adam's cached (already jitted) step is reused.
    assert training._make_step.cache_info().hits == hits + 1


def test_bad_validation_is_refused(split):
    history, targets, _ = split
    with pytest.raises(ValueError, match="patience"):
        _small(patience=2).fit(history)
    with pytest.raises(ValueError, match="pair"):
        _small().fit(history, validation=(history, targets, targets))
    with pytest.raises(ValueError, match="targets"):
        _small().fit(history, validation=(history, targets[:-1]))
    with pytest.raises(ValueError, match="targets"):
        _small().fit(history, validation=(history, np.full_like(targets, -1)))
    with pytest.raises(ValueError, match="Sequences"):
        _small().fit(history, validation=(np.zeros(3), targets))


@pytest.mark.parametrize(
    "params",
    [
        {"factors": 10, "n_heads": 3},
        {"dropout": 1.0},
        {"max_length": 0},
        {"iterations": True},
        {"learning_rate": 0},
        {"time_budget": -1},
        {"n_blocks": 1.0},
        {"patience": 0},
    ],
)
def test_bad_hyperparameters_are_refused(params, split):
    history, _, _ = split
    with pytest.raises(ValueError):
        _small(**params).fit(history)


def test_bad_input_is_refused(split):
    history, _, _ = split
    with pytest.raises(ValueError, match="not fitted"):
        _small().score(history)
    with pytest.raises(ValueError, match="Sequences"):
        _small().fit(np.zeros((3, 3)))
    singles = build_sequences(_frame([[0], [1]]), item_ids=np.arange(3))
    model = _small()
    with pytest.raises(ValueError, match="two events"):
        model.fit(singles)
    with pytest.raises(ValueError, match="not fitted"):  # a failed fit leaves it unfitted
        model.score(singles)
