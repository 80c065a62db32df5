"""Exercises 07 and 10: the wrong answers issue 21 quoted fail their check with their own hint.

Each answer below is written the way a learner would write it (not by calling the module's own
mistake implementations), so a test fails if the check lets that answer pass or names another bug.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from recsys_lessons.checks import Status

lesson07 = importlib.import_module("recsys_lessons.checks.lesson07")
lesson10 = importlib.import_module("recsys_lessons.checks.lesson10")
ROOT = Path(__file__).resolve().parents[1]


def _grade(question, answer):
    return question.grade(answer, namespace={})


def _hint_of(question, answer):
    result = _grade(question, answer)
    assert result.status is Status.MISTAKE, result.message
    return result.hint


# --------------------------------------------------------------------------------------
# Exercise 07
# --------------------------------------------------------------------------------------


def _popularity(sequences, n_items):
    events = np.bincount(np.concatenate(sequences), minlength=n_items)
    return events / events.sum()


def transition_matrix_distinct_pairs(sequences, n_items, smoothing=1.0):
    counts = np.zeros((n_items, n_items))
    for s in sequences:
        for a, b in set(zip(s[:-1], s[1:], strict=True)):  # each pair once per user
            counts[a, b] += 1
    p = _popularity(sequences, n_items)
    return (counts + smoothing * p) / (counts.sum(axis=1, keepdims=True) + smoothing)


def transition_matrix_fancy_index(sequences, n_items, smoothing=1.0):
    counts = np.zeros((n_items, n_items))
    for s in sequences:
        s = np.array(s)
        counts[s[:-1], s[1:]] += 1  # a pair repeated inside s is written once
    p = _popularity(sequences, n_items)
    return (counts + smoothing * p) / (counts.sum(axis=1, keepdims=True) + smoothing)


@pytest.mark.parametrize(
    "answer", [transition_matrix_distinct_pairs, transition_matrix_fancy_index]
)
def test_ex07_q1_pairs_deduplicated_per_user_get_their_hint(answer):
    assert "counted once" in _hint_of(lesson07.q1, answer)


def test_ex07_q1_has_a_user_who_repeats_a_transition():
    assert any(
        any(len(set(zip(s[:-1], s[1:], strict=True))) < len(s) - 1 for s in c.args[0])
        for c in lesson07.q1.cases
    )


def recommend_next_partition(P, history, n):
    scores = P[history[-1]].copy()
    scores[history] = -np.inf
    return np.argpartition(-scores, n - 1)[:n]  # no final sort


def recommend_next_partition_kth_n(P, history, n):
    scores = np.array(P[history[-1]])
    scores[list(history)] = -np.inf
    return np.argpartition(-scores, n)[:n]


@pytest.mark.parametrize("answer", [recommend_next_partition, recommend_next_partition_kth_n])
def test_ex07_q3_unsorted_top_n_fails_with_its_hint(answer):
    assert "np.argpartition only promises" in _hint_of(lesson07.q3, answer)


def test_ex07_q3_large_cases_are_not_returned_sorted_by_argpartition():
    large = [c for c in lesson07.q3.cases if "1,000 items" in c.note]
    assert len(large) >= 2
    for c in large:
        assert not np.array_equal(recommend_next_partition(*c.args), lesson07.q3.reference(*c.args))


def recommend_next_without_copy(P, history, n):
    scores = P[history[-1]]  # a view: the next line writes -inf into P
    scores[history] = -np.inf
    return np.argsort(-scores, kind="stable")[:n]


def test_ex07_q3_writing_into_P_does_not_pass():
    result = _grade(lesson07.q3, recommend_next_without_copy)
    assert not result.passed
    assert "`P`" in result.message


def watch_time_weights_one_plus_minutes(clicked, minutes):
    return 1 + np.asarray(minutes, dtype=float)


def watch_time_weights_heavy_negatives(clicked, minutes):
    clicked, minutes = np.asarray(clicked), np.asarray(minutes, dtype=float)
    return np.where(clicked, minutes, minutes[clicked].mean())


def test_ex07_q4_one_plus_minutes_is_not_called_a_negatives_bug():
    hint = _hint_of(lesson07.q4, watch_time_weights_one_plus_minutes)
    assert "minutes + 1" in hint
    assert "negatives keep weight 1" not in hint
    other = _hint_of(lesson07.q4, watch_time_weights_heavy_negatives)
    assert "negatives keep weight 1" in other and other != hint


def watch_time_weights_in_place(clicked, minutes):
    weights = np.asarray(minutes, dtype=float)  # the same array when minutes is one already
    weights[~np.asarray(clicked, dtype=bool)] = 1.0
    return weights


def test_ex07_q4_writing_into_the_minutes_does_not_pass():
    result = _grade(lesson07.q4, watch_time_weights_in_place)
    assert not result.passed
    assert "`minutes`" in result.message


# --------------------------------------------------------------------------------------
# Exercise 10
# --------------------------------------------------------------------------------------


def thompson_update_add_at(alpha, beta, items, clicks):
    np.add.at(alpha, items, clicks)  # writes into the caller's arrays
    np.add.at(beta, items, 1 - clicks)
    return alpha, beta


def test_ex09_q1_updating_the_callers_arrays_does_not_pass():
    assert all(isinstance(c.args[0], np.ndarray) for c in lesson10.q1.cases)
    result = _grade(lesson10.q1, thompson_update_add_at)
    assert not result.passed
    assert "`alpha`" in result.message


def thompson_slate_partition(alpha, beta, k, seed):
    draws = np.random.default_rng(seed).beta(alpha, beta)
    return np.argpartition(-draws, k - 1)[:k]  # no final sort


def test_ex09_q2_argpartition_without_a_final_sort_fails_with_its_hint():
    assert "np.argpartition only promises" in _hint_of(lesson10.q2, thompson_slate_partition)


def test_ex09_q2_large_cases_are_not_returned_sorted_by_argpartition():
    large = [c for c in lesson10.q2.cases if "1,000 items" in c.note]
    assert len(large) >= 2
    for c in large:
        assert not np.array_equal(thompson_slate_partition(*c.args), lesson10.q2.reference(*c.args))


def thompson_slate_by_mean(alpha, beta, k, seed):
    return np.argsort(-(alpha / (alpha + beta)))[:k]


def thompson_slate_by_mean_reversed(alpha, beta, k, seed):
    return np.argsort(alpha / (alpha + beta))[::-1][:k]


@pytest.mark.parametrize("answer", [thompson_slate_by_mean, thompson_slate_by_mean_reversed])
def test_ex09_q2_ranking_by_the_posterior_mean_gets_its_hint(answer):
    assert "posterior MEAN" in _hint_of(lesson10.q2, answer)


def ips_clipped(rewards, logging_propensities, target_propensities):
    weights = np.clip(target_propensities / logging_propensities, 0, 10)
    return np.mean(rewards * weights)


def snips_clipped(rewards, logging_propensities, target_propensities):
    weights = np.minimum(target_propensities / logging_propensities, 10)
    return np.sum(rewards * weights) / np.sum(weights)


def test_ex09_q3_q4_clipped_weights_fail_with_their_hint():
    assert any(np.max(c.args[2] / c.args[1]) > 10 for c in lesson10.q3.cases)
    assert "clipped the weights at 10" in _hint_of(lesson10.q3, ips_clipped)
    assert "clipped the weights at 10" in _hint_of(lesson10.q4, snips_clipped)
