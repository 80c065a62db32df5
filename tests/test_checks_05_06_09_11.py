"""Exercise checks 05, 06, 08 and 10 (issue 21, section 1): wrong answers a learner wrote.

Each wrong answer below is written the way a learner writes it (not copied from the check's
own buggy implementations); the test says which hint it must get. On the checks before issue
21 these answers either passed, got a generic miss, or got the hint of a different bug.
"""

from __future__ import annotations

import ast
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import recsys_lessons.checks as checks
from recsys_lessons.checks import Status, lesson05, lesson06, lesson09, lesson11, set_mode
from recsys_lessons.evaluation.stats import bootstrap_interval
from recsys_lessons.metrics import ndcg_at_k
from recsys_lessons.top_k import top_k_indices

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [
    "05_cold_start",
    "06_hybrid_ranking",
    "09_online_experiments",
    "11_responsible_personalization",
]
MODULES = [lesson05, lesson06, lesson09, lesson11]
QUESTIONS = [
    (module.__name__.rsplit(".", 1)[-1], name, value)
    for module in MODULES
    for name, value in vars(module).items()
    if isinstance(value, checks.Question)
]


@pytest.fixture(autouse=True)
def report_mode(monkeypatch):
    monkeypatch.delenv(checks.MODE_ENV_VAR, raising=False)
    set_mode(None)
    yield
    set_mode(None)


def mistake_with(question, phrase):
    """The question's Mistake whose hint contains ``phrase`` (fails if there is none)."""
    found = [m for m in question.mistakes if phrase in m.hint]
    assert len(found) == 1, f"{question.label}: no single mistake whose hint says {phrase!r}"
    return found[0]


def assert_gets_hint(question, answer, phrase):
    """``answer`` is recognised as the mistake whose hint contains ``phrase``, and only it."""
    mistake = mistake_with(question, phrase)
    result = question.grade(answer)
    assert result.status is Status.MISTAKE, result.message
    assert result.hint == mistake.hint, result.message
    others = [m.hint for m in question.mistakes if m is not mistake]
    assert not any(hint in result.message for hint in others)


def assert_correct(question, answer):
    result = question.grade(answer)
    assert result.passed, result.message


# --------------------------------------------------------------------------------------
# Lesson 05
# --------------------------------------------------------------------------------------


def fold_in_no_regularization(Y, items, regularization, alpha):
    Y_u = Y[items]
    A = Y.T @ Y + alpha * Y_u.T @ Y_u
    b = (1 + alpha) * Y_u.sum(axis=0)
    return np.linalg.solve(A, b)


def test_05_q1_forgotten_regularization_gets_its_hint_not_a_linalg_error():
    assert_gets_hint(lesson05.q1, fold_in_no_regularization, "add the regularization term")


def questions_default_argsort(R, n):
    R = np.asarray(R)
    counts = np.stack([(R == r).sum(axis=0) for r in range(1, 6)], axis=1)
    n_rated = counts.sum(axis=1)
    p = counts / np.maximum(n_rated, 1)[:, None]
    entropy = -np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0), axis=1)
    score = np.log(np.maximum(n_rated, 1)) * entropy
    return np.argsort(-score)[:n]


def questions_python_sorted(R, n):
    R = np.asarray(R)
    scores = []
    for column in R.T:
        ratings = column[column > 0]
        if len(ratings) == 0:
            scores.append(0.0)
            continue
        shares = [np.mean(ratings == r) for r in range(1, 6)]
        entropy = -sum(s * math.log2(s) for s in shares if s > 0)
        scores.append(math.log(len(ratings)) * entropy)
    return np.array(sorted(range(len(scores)), key=lambda i: -scores[i])[:n])


def test_05_q2_unstable_argsort_on_ties_gets_its_hint():
    assert_gets_hint(lesson05.q2, questions_default_argsort, "not stable")


def test_05_q2_a_stable_python_sort_is_correct():
    assert_correct(lesson05.q2, questions_python_sorted)


# --------------------------------------------------------------------------------------
# Lesson 06
# --------------------------------------------------------------------------------------


def tune_reports_best_test(scores_a, scores_b, validation, test, weights, k):
    def ndcg(scores, relevant):
        return ndcg_at_k(top_k_indices(scores, k), relevant, k=k)

    on_validation = [
        ndcg(lesson06._blend_scores(scores_a, scores_b, w), validation) for w in weights
    ]
    on_test = [ndcg(lesson06._blend_scores(scores_a, scores_b, w), test) for w in weights]
    return weights[int(np.argmax(on_validation))], max(on_test)


def test_06_q2_peeking_at_test_is_not_diagnosed_as_reporting_validation():
    assert_gets_hint(lesson06.q2, tune_reports_best_test, "BEST test nDCG")
    result = lesson06.q2.grade(tune_reports_best_test)
    assert "returned its validation nDCG" not in result.message


# --------------------------------------------------------------------------------------
# Lesson 09
# --------------------------------------------------------------------------------------


def welch_with_196(control, treatment, alpha=0.05):
    control, treatment = np.asarray(control, float), np.asarray(treatment, float)
    se = math.sqrt(control.var(ddof=1) / len(control) + treatment.var(ddof=1) / len(treatment))
    difference = treatment.mean() - control.mean()
    return difference, difference - 1.96 * se, difference + 1.96 * se


def test_08_q1_hard_coded_196_gets_its_hint():
    assert_gets_hint(lesson09.q1, welch_with_196, "hard-coded 1.96")


def welch_ignoring_alpha(control, treatment, alpha=0.05):
    result = stats.ttest_ind(treatment, control, equal_var=False)
    low, high = result.confidence_interval()  # 95% whatever alpha is
    return np.mean(treatment) - np.mean(control), low, high


def test_08_q1_ignoring_alpha_gets_its_hint():
    assert_gets_hint(lesson09.q1, welch_ignoring_alpha, "Your interval ignores `alpha`")


def test_08_q1_hints_start_with_the_nudge():
    nudge, approach = lesson09.q1.hints
    assert nudge.startswith("Two-sided")
    assert "degrees of freedom" in approach


# --------------------------------------------------------------------------------------
# Lesson 11
# --------------------------------------------------------------------------------------


def gini_unsorted(recommended, n_items, k):
    e = np.bincount(np.asarray(recommended)[:, :k].ravel(), minlength=n_items)
    n = len(e)
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * e) / (n * e.sum()))


def gini_zero_based(recommended, n_items, k):
    e = np.sort(np.bincount(np.asarray(recommended)[:, :k].ravel(), minlength=n_items))
    n = len(e)
    return float(sum((2 * i - n - 1) * e[i] for i in range(n)) / (n * e.sum()))


def test_10_q2_no_sort_is_not_diagnosed_as_descending_order():
    assert_gets_hint(lesson11.q2, gini_unsorted, "did not sort")
    assert "Descending order" not in lesson11.q2.grade(gini_unsorted).message


def test_10_q2_zero_based_ranks_get_their_hint():
    assert_gets_hint(lesson11.q2, gini_zero_based, "0..n-1")


def group_intervals_seed_plus_index(values, groups, seed):
    values, groups = np.asarray(values, float), np.asarray(groups)
    answer = {}
    for j, g in enumerate(sorted(set(groups.tolist()))):
        mine = values[(groups == g) & ~np.isnan(values)]
        ci = bootstrap_interval(mine, n_resamples=1000, seed=seed + j)
        answer[str(g)] = (ci.estimate, ci.low, ci.high)
    return answer


def test_10_q3_a_seed_per_group_fails_at_check_with_its_hint():
    assert_gets_hint(lesson11.q3, group_intervals_seed_plus_index, "its own seed")


def exposure_present_groups_only(recommended, item_groups, k):
    totals, total = defaultdict(float), 0.0
    for row in recommended:
        for rank, item in enumerate(row[:k], start=1):
            weight = 1 / math.log2(rank + 1)
            totals[str(item_groups[item])] += weight
            total += weight
    return {g: v / total for g, v in totals.items()}


def exposure_python_correct(recommended, item_groups, k):
    totals = {str(g): 0.0 for g in set(item_groups.tolist())}
    total = 0.0
    for row in recommended:
        for position, item in enumerate(row[:k]):
            weight = 1 / math.log2(position + 2)
            totals[str(item_groups[item])] += weight
            total += weight
    return {g: v / total for g, v in totals.items()}


def exposure_log2_rank_plus_two(recommended, item_groups, k):
    top = np.asarray(recommended)[:, :k]
    weights = np.tile(1 / np.log2(np.arange(1, k + 1) + 2), (len(top), 1))
    labels = item_groups[top]
    return {str(g): weights[labels == g].sum() / weights.sum() for g in np.unique(item_groups)}


def exposure_zero_based_python(recommended, item_groups, k):
    totals = {str(g): 0.0 for g in set(item_groups.tolist())}
    total = 0.0
    for row in recommended:
        for rank, item in enumerate(row[:k]):
            weight = 1 / math.log2(rank + 1)  # rank 0: ZeroDivisionError
            totals[str(item_groups[item])] += weight
            total += weight
    return {g: v / total for g, v in totals.items()}


def exposure_zero_based_numpy(recommended, item_groups, k):
    top = np.asarray(recommended)[:, :k]
    weights = np.tile(1 / np.log2(np.arange(k) + 1), (len(top), 1))
    labels = item_groups[top]
    return {str(g): weights[labels == g].sum() / weights.sum() for g in np.unique(item_groups)}


def test_10_q4_groups_never_recommended_must_be_reported():
    assert_gets_hint(lesson11.q4, exposure_present_groups_only, "never recommended")


def test_10_q4_a_python_loop_with_every_group_is_correct():
    assert_correct(lesson11.q4, exposure_python_correct)


def test_10_q4_log2_of_rank_plus_two_gets_its_hint():
    assert_gets_hint(lesson11.q4, exposure_log2_rank_plus_two, "the other way")


@pytest.mark.parametrize("answer", [exposure_zero_based_python, exposure_zero_based_numpy])
def test_10_q4_zero_based_rank_gets_its_hint(answer):
    assert_gets_hint(lesson11.q4, answer, "your top slot has rank 0")


def calibration_kl_log10(p, q, alpha=0.01):
    q_smooth = (1 - alpha) * q + alpha * p
    return sum(pi * math.log10(pi / qi) for pi, qi in zip(p, q_smooth, strict=True) if pi > 0)


def test_10_q5_log10_gets_its_hint():
    assert_gets_hint(lesson11.q5, calibration_kl_log10, "np.log10")


def calibrated_rerank_log2(scores, p, genre_rows, lambda_, k, alpha=0.01):
    chosen = []
    for _ in range(k):
        values = {}
        for i in range(len(scores)):
            if i in chosen:
                continue
            q = genre_rows[chosen + [i]].mean(axis=0)
            q_smooth = (1 - alpha) * q + alpha * p
            kl = sum(pg * np.log2(pg / qg) for pg, qg in zip(p, q_smooth, strict=True) if pg > 0)
            values[i] = (1 - lambda_) * scores[chosen + [i]].sum() - lambda_ * kl
        chosen.append(max(values, key=values.get))
    return chosen


def test_10_q6_log2_in_the_greedy_is_not_diagnosed_as_smoothing():
    assert_gets_hint(lesson11.q6, calibrated_rerank_log2, "log base 2")
    assert "Smoothing" not in lesson11.q6.grade(calibrated_rerank_log2).message


# --------------------------------------------------------------------------------------
# Real-data cells: no dead-end "run the check again", no bare assert
# --------------------------------------------------------------------------------------


def _code_cells(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            yield index, "".join(cell["source"])


NOTEBOOK_PATHS = [
    ROOT / folder / f"{name}.ipynb" for name in NOTEBOOKS for folder in ("solutions", "exercises")
]


@pytest.mark.parametrize(
    "path", NOTEBOOK_PATHS, ids=[p.parent.name + "/" + p.stem for p in NOTEBOOK_PATHS]
)
def test_no_bare_assert_in_the_notebooks(path):
    for index, source in _code_cells(path):
        tree = ast.parse(
            "\n".join(line for line in source.splitlines() if not line.startswith(("%", "!")))
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                assert node.msg is not None, f"cell {index}: a bare assert at line {node.lineno}"
