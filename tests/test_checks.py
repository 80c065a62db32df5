"""The exercise checker: verdicts, hints, modes, and the lesson 01 questions."""

from __future__ import annotations

import doctest
import importlib
import json
import math
import pkgutil
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import recsys_lessons.checks as checks
from recsys_lessons.checks import (
    FunctionQuestion,
    Mistake,
    Question,
    Status,
    ValueQuestion,
    answers_match,
    case,
    get_mode,
    lesson02,
    lesson03,
    lesson04,
    lesson06,
    lesson10,
    set_mode,
)
from recsys_lessons.checks.lesson01 import q1, q2

ROOT = Path(__file__).resolve().parent.parent

#: Every ``recsys_lessons.checks.lessonNN`` module: a new lesson's questions are validated
#: (reference passes, each mistake gets its own hint) without editing this file.
LESSON_MODULES = [
    importlib.import_module(f"recsys_lessons.checks.{info.name}")
    for info in pkgutil.iter_modules(checks.__path__)
    if info.name.startswith("lesson")
]
QUESTIONS = [
    (module.__name__.rsplit(".", 1)[-1], name, value)
    for module in LESSON_MODULES
    for name, value in vars(module).items()
    if isinstance(value, Question)
]


@pytest.fixture(autouse=True)
def report_mode(monkeypatch):
    """Every test starts in report mode with no override, and leaves no override behind."""
    monkeypatch.delenv(checks.MODE_ENV_VAR, raising=False)
    set_mode(None)
    yield
    set_mode(None)


# --------------------------------------------------------------------------------------
# Every question of every lesson is well made
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", [q for _, _, q in QUESTIONS], ids=[f"{m}.{n}" for m, n, _ in QUESTIONS]
)
def test_question_is_well_made(question):
    """Reference passes; each mistake variant is recognised as its own mistake."""
    question.validate()


@pytest.mark.parametrize("module_name, name, question", QUESTIONS)
def test_label_is_the_name_in_the_lesson_module(module_name, name, question):
    assert question.label == name
    assert name in sys.modules[f"recsys_lessons.checks.{module_name}"].__all__


@pytest.mark.parametrize("question", [q1, q2])
def test_reference_passes_and_says_why(question, capsys):
    question.check(question.reference)
    out = capsys.readouterr().out
    assert out.startswith(f"✓ Correct! `{question.name}` gives the expected answer on all")
    assert question.why in out


MISTAKE_VARIANTS = [
    (f"{label}-{variant.__name__}", question, mistake, variant)
    for label, question in [("q1", q1), ("q2", q2)]
    for mistake in question.mistakes
    for variant in mistake.variants
]


@pytest.mark.parametrize(
    "question, mistake, variant",
    [row[1:] for row in MISTAKE_VARIANTS],
    ids=[row[0] for row in MISTAKE_VARIANTS],
)
def test_each_mistake_prints_its_own_hint(question, mistake, variant, capsys):
    question.check(variant)
    out = capsys.readouterr().out
    assert out.startswith(f"✗ Not quite. {mistake.hint}\n  Example")
    others = [m.hint for m in question.mistakes if m is not mistake]
    assert not any(hint in out for hint in others)


# --------------------------------------------------------------------------------------
# Lesson 01: learner-style answers, written the way learners write them
# --------------------------------------------------------------------------------------


def precision_numpy_recall(recommended, relevant, k):
    top = np.asarray(recommended[:k])
    return np.isin(top, list(relevant)).sum() / len(relevant)


def precision_set_whole_list(recommended, relevant, k):
    return len(set(recommended) & set(relevant)) / k


def precision_mean_of_flags(recommended, relevant, k):
    return float(np.mean([item in relevant for item in recommended[:k]]))


def precision_forgot_division(recommended, relevant, k):
    return len(set(recommended[:k]) & relevant)


def precision_correct_numpy(recommended, relevant, k):
    return np.isin(np.asarray(recommended)[:k], np.fromiter(relevant, int)).sum() / k


def ndcg_zero_based_log(recommended, relevant, k):
    dcg = 0.0
    for i, item in enumerate(recommended[:k]):
        if item in relevant:
            dcg += 1 / math.log2(i + 1)
    idcg = sum(1 / math.log2(i + 1) for i in range(min(len(relevant), k)))
    return dcg / idcg


def ndcg_vectorized_log_rank(recommended, relevant, k):
    gains = np.isin(np.asarray(recommended[:k]), list(relevant)).astype(float)
    discounts = np.log2(np.arange(1, len(gains) + 1))
    ideal = np.ones(min(len(relevant), k)) / np.log2(np.arange(1, min(len(relevant), k) + 1))
    return (gains / discounts).sum() / ideal.sum()


def ndcg_ideal_all_relevant(recommended, relevant, k):
    gains = np.isin(np.asarray(recommended[:k]), list(relevant)).astype(float)
    dcg = (gains / np.log2(np.arange(2, len(gains) + 2))).sum()
    idcg = (1 / np.log2(np.arange(2, len(relevant) + 2))).sum()
    return dcg / idcg


def ndcg_sorted_own_gains(recommended, relevant, k):
    gains = np.isin(np.asarray(recommended[:k]), list(relevant)).astype(float)
    discounts = np.log2(np.arange(2, len(gains) + 2))
    return (gains / discounts).sum() / (np.sort(gains)[::-1] / discounts).sum()


def ndcg_correct_numpy(recommended, relevant, k):
    gains = np.isin(np.asarray(recommended[:k]), list(relevant)).astype(float)
    dcg = (gains / np.log2(np.arange(2, len(gains) + 2))).sum()
    idcg = (1 / np.log2(np.arange(2, min(len(relevant), k) + 2))).sum()
    return dcg / idcg


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (precision_numpy_recall, "You divided by the number of relevant items: that is recall@k."),
        (precision_set_whole_list, "You counted hits in the whole list."),
        (precision_mean_of_flags, "You divided by the length of the list."),
        (precision_forgot_division, "You returned the number of hits."),
    ],
)
def test_q1_recognises_learner_mistakes(answer, phrase):
    result = q1.grade(answer)
    assert result.status is Status.MISTAKE
    assert result.hint.startswith(phrase)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (ndcg_zero_based_log, "The discount at rank 1 must be log2(1 + 1) = 1"),
        (ndcg_vectorized_log_rank, "The discount at rank 1 must be log2(1 + 1) = 1"),
        (ndcg_ideal_all_relevant, "Your ideal DCG puts ALL relevant items at the top"),
        (ndcg_sorted_own_gains, "Your ideal DCG only moves the hits YOUR list found"),
    ],
)
def test_q2_recognises_learner_mistakes(answer, phrase):
    result = q2.grade(answer)
    assert result.status is Status.MISTAKE
    assert result.hint.startswith(phrase)


@pytest.mark.parametrize(
    "question, answer", [(q1, precision_correct_numpy), (q2, ndcg_correct_numpy)]
)
def test_numpy_solutions_pass(question, answer):
    assert question.grade(answer).passed


def test_numpy_warnings_of_learner_code_are_silenced():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = q2.grade(ndcg_vectorized_log_rank)
    assert result.status is Status.MISTAKE
    assert [str(w.message) for w in caught] == []


def test_mistake_message_shows_a_failing_example(capsys):
    q1.check(precision_numpy_recall)
    out = capsys.readouterr().out
    assert (
        "Example (two hits in a list of five): precision_at_k([7, 2, 9, 4, 1], {2, 4, 8}, k=5) "
        "should return 0.4, but yours returned 0.666667." in out
    )


def test_unknown_wrong_answer_shows_input_expected_and_got(capsys):
    q1.check(lambda recommended, relevant, k: 0.5)
    out = capsys.readouterr().out
    assert out.startswith("✗ Incorrect. Example (two hits in a list of five): ")
    assert "should return 0.4, but yours returned 0.5." in out
    assert "q1.hint() gives a nudge; q1.solution() shows one answer." in out


def test_precision_with_floor_division_gets_its_own_hint():
    def precision_floor(recommended, relevant, k):
        hits = len([item for item in recommended[:k] if item in relevant])
        return hits // k

    result = q1.grade(precision_floor)
    assert result.status is Status.MISTAKE
    assert result.hint.startswith("You used integer division (hits // k)")


def test_ndcg_discount_one_rank_too_deep_gets_its_own_hint():
    def ndcg_log2_rank_plus_two(recommended, relevant, k):
        gains = np.isin(np.asarray(recommended[:k]), list(relevant)).astype(float)
        ranks = np.arange(1, len(gains) + 1)
        ideal_ranks = np.arange(1, min(len(relevant), k) + 1)
        return (gains / np.log2(ranks + 2)).sum() / (1 / np.log2(ideal_ranks + 2)).sum()

    result = q2.grade(ndcg_log2_rank_plus_two)
    assert result.status is Status.MISTAKE
    assert result.hint.startswith("Your discount is one rank too deep")
    # log2(i + 2) with i counting from 0 is the right discount, not this mistake.
    assert q2.grade(ndcg_zero_based_log).status is Status.MISTAKE
    assert q2.grade(ndcg_correct_numpy).passed


def test_nan_answer_gets_a_division_by_zero_note():
    result = q2.grade(lambda recommended, relevant, k: float("inf"))
    assert result.status is Status.INCORRECT
    assert "holds nan or inf: look for a division by zero" in result.message


# --------------------------------------------------------------------------------------
# Not answered yet
# --------------------------------------------------------------------------------------


def stub_returns_none(recommended, relevant, k):
    # YOUR CODE HERE
    ...


def stub_not_implemented(recommended, relevant, k):
    raise NotImplementedError


@pytest.mark.parametrize(
    "answer, detail",
    [
        (stub_returns_none, "`precision_at_k` returns None"),
        (stub_not_implemented, "`precision_at_k` raises NotImplementedError"),
        (None, "`precision_at_k` is still None"),
        (Ellipsis, "`precision_at_k` is still Ellipsis"),
    ],
)
def test_untouched_stub_is_not_answered(answer, detail, capsys):
    q1.check(answer)
    out = capsys.readouterr().out
    assert out.startswith(f"• Not answered yet: {detail}")
    assert "run q1.check() again" in out


def test_check_finds_the_answer_in_main_globals(monkeypatch, capsys):
    main = sys.modules["__main__"]
    monkeypatch.delattr(main, "precision_at_k", raising=False)
    q1.check()
    assert capsys.readouterr().out.startswith(
        "• Not answered yet: `precision_at_k` is not defined: fill in its cell and run it"
    )
    monkeypatch.setattr(main, "precision_at_k", precision_correct_numpy, raising=False)
    q1.check()
    assert capsys.readouterr().out.startswith("✓ Correct!")


def test_answer_that_is_not_a_function():
    result = q1.grade(0.4)
    assert result.status is Status.INCORRECT
    assert "`precision_at_k` should be a function" in result.message


# --------------------------------------------------------------------------------------
# Exceptions and modes
# --------------------------------------------------------------------------------------


def precision_crashes_on_short_list(recommended, relevant, k):
    hits = 0
    for rank in range(k):
        hits += recommended[rank] in relevant
    return hits / k


def test_learner_exception_is_reported_not_raised(capsys):
    q1.check(precision_crashes_on_short_list)
    out = capsys.readouterr().out
    assert out.startswith("✗ Your `precision_at_k` raised IndexError: list index out of range")
    assert "on precision_at_k([4, 2], {2, 3}, k=5) (list shorter than k)" in out
    assert "`hits += recommended[rank] in relevant`" in out
    assert "Fix the error, run the cell again, then q1.check()." in out


def test_an_answer_that_changes_its_input_is_refused_and_spoils_no_case():
    def precision_that_empties_relevant(recommended, relevant, k):
        hits = sum(1 for item in recommended[:k] if item in relevant)
        relevant.clear()
        recommended.reverse()
        return hits / k

    result = q1.grade(precision_that_empties_relevant)
    assert result.status is Status.MISTAKE
    assert "changes its argument `recommended` in place" in result.hint
    assert "recommended = recommended.copy()" in result.hint
    assert q1.cases[0].args == ([7, 2, 9, 4, 1], {2, 4, 8})  # the cases themselves are intact


def test_strict_mode_raises_on_wrong_and_unanswered(capsys):
    set_mode("strict")
    with pytest.raises(AssertionError, match="You divided by the number of relevant items"):
        q1.check(precision_numpy_recall)
    with pytest.raises(AssertionError, match="Not answered yet"):
        q1.check(stub_returns_none)
    with pytest.raises(AssertionError, match="raised IndexError"):
        q1.check(precision_crashes_on_short_list)
    q1.check(precision_correct_numpy)
    assert capsys.readouterr().out.startswith("✓ Correct!")


def test_mode_comes_from_environment_unless_set(monkeypatch):
    assert get_mode() == "report"
    monkeypatch.setenv(checks.MODE_ENV_VAR, " Strict ")
    assert get_mode() == "strict"
    with pytest.raises(AssertionError):
        q1.check(stub_returns_none)
    set_mode("report")
    assert get_mode() == "report"
    q1.check(stub_returns_none)  # reports only
    set_mode(None)
    assert get_mode() == "strict"


def test_bad_mode_values_are_rejected(monkeypatch):
    with pytest.raises(ValueError, match="mode must be 'report', 'strict' or None"):
        set_mode("loud")
    monkeypatch.setenv(checks.MODE_ENV_VAR, "loud")
    with pytest.raises(ValueError, match="RECSYS_LESSONS_CHECKS must be 'report' or 'strict'"):
        get_mode()


def test_checker_bug_is_reported_in_report_mode_and_raised_in_strict(capsys):
    def broken_reference(x):
        raise KeyError("oops")

    question = FunctionQuestion(
        label="qx",
        name="f",
        reference=broken_reference,
        cases=[case(1)],
        hint="h",
        solution="def f(x): return x",
        why="w",
    )
    question.check(lambda x: x)
    assert capsys.readouterr().out.startswith(
        "✗ qx.check() could not grade this answer (RuntimeError"
    )
    set_mode("strict")
    with pytest.raises(RuntimeError, match="the reference raised KeyError"):
        question.check(lambda x: x)


# --------------------------------------------------------------------------------------
# Hints, solutions, display
# --------------------------------------------------------------------------------------


def test_hint_levels(capsys):
    single = FunctionQuestion(
        label="q9", name="f", reference=abs, cases=[case(1)], hint="h", solution="s", why="w"
    )
    single.hint()
    assert capsys.readouterr().out == "• Hint: h\n  Still stuck? q9.solution() shows one answer.\n"
    q2.hint()
    assert capsys.readouterr().out == (
        f"• Hint 1 of 2: {q2.hints[0]}\n  Still stuck? q2.hint(2) gives a bigger nudge.\n"
    )
    q2.hint(2)
    assert capsys.readouterr().out == (
        f"• Hint 2 of 2: {q2.hints[1]}\n  Still stuck? q2.solution() shows one answer.\n"
    )
    q2.hint(3)  # past the last hint: no silent repeat, the next step is named
    assert capsys.readouterr().out == (
        "• q2 has 2 hints, all shown by q2.hint(1) to q2.hint(2); the next step is "
        "q2.solution(), which shows one answer.\n"
    )


@pytest.mark.parametrize("question", [q1, q2])
def test_solution_text_is_runnable_and_correct(question, capsys):
    question.solution()
    out = capsys.readouterr().out
    assert out.startswith("• Solution:\n\n")
    namespace: dict = {}
    exec(out.removeprefix("• Solution:\n\n"), namespace)
    assert question.grade(namespace[question.name]).passed


def test_repr_names_the_three_calls():
    assert repr(q1) == (
        "<FunctionQuestion q1: `precision_at_k`. Use q1.check(), q1.hint(), q1.solution()>"
    )


def test_messages_are_deterministic():
    class Opaque:
        pass

    first = q1.grade(lambda recommended, relevant, k: Opaque()).message
    second = q1.grade(lambda recommended, relevant, k: Opaque()).message
    assert first == second
    assert "0x" not in first
    assert "yours returned <Opaque object>" in first


def test_docstring_example_runs():
    result = doctest.testmod(checks, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_malformed_questions_are_rejected():
    common = dict(label="q9", name="f", reference=abs, hint="h", solution="s", why="w")
    with pytest.raises(ValueError, match="at least one test case"):
        FunctionQuestion(cases=[], **common)
    with pytest.raises(ValueError, match="Python identifiers"):
        FunctionQuestion(cases=[case(1)], **{**common, "name": "not a name"})
    with pytest.raises(ValueError, match="non-empty hint"):
        FunctionQuestion(cases=[case(1)], **{**common, "hint": " "})
    with pytest.raises(ValueError, match="reference must be"):
        FunctionQuestion(cases=[case(1)], **{**common, "reference": 3})
    with pytest.raises(ValueError, match="needs at least one buggy implementation"):
        Mistake("a hint")
    with pytest.raises(ValueError, match="needs a hint"):
        Mistake("", abs)


def test_validate_catches_a_shadowed_mistake():
    question = FunctionQuestion(
        label="q9",
        name="f",
        reference=lambda x: 2 * x,
        cases=[case(3)],
        mistakes=[
            Mistake("first", lambda x: x + 3),
            Mistake("second", lambda x: x * x - 3),  # same outcome on x = 3: never reachable
        ],
        hint="h",
        solution="s",
        why="w",
    )
    with pytest.raises(AssertionError, match="not recognised as its own mistake"):
        question.validate()


# --------------------------------------------------------------------------------------
# Value questions (answers stored in a variable)
# --------------------------------------------------------------------------------------


def _overlap_recall(exact, approx):
    return len(set(exact) & set(approx)) / len(exact)


RECALL_QUESTION = ValueQuestion(
    label="q3",
    name="ann_recall",
    uses=("exact", "approx"),
    reference=_overlap_recall,
    mistakes=[
        Mistake(
            "You divided by the number of approximate results.",
            lambda exact, approx: len(set(exact) & set(approx)) / len(set(approx)),
        )
    ],
    hint="Share of the exact neighbours that the index found.",
    solution="ann_recall = len(set(exact) & set(approx)) / len(exact)",
    why="Recall says how much the index gives up for its speed.",
)


def test_value_question_uses_notebook_variables(capsys):
    namespace = {"exact": [1, 2, 3, 4], "approx": [2, 4, 9]}
    RECALL_QUESTION.validate(namespace)
    assert RECALL_QUESTION.grade(0.5, namespace).passed
    result = RECALL_QUESTION.grade(2 / 3, namespace)
    assert result.status is Status.MISTAKE
    assert result.message == (
        "✗ Not quite. You divided by the number of approximate results.\n"
        "  `ann_recall` should be 0.5, but it is 0.666667."
    )
    wrong = RECALL_QUESTION.grade(0.1, namespace)
    assert wrong.status is Status.INCORRECT
    assert "`ann_recall` should be 0.5, but it is 0.1." in wrong.message
    assert RECALL_QUESTION.grade(None, namespace).status is Status.UNANSWERED
    missing = RECALL_QUESTION.grade(0.5, {"exact": [1]})
    assert missing.status is Status.UNANSWERED
    assert "needs `approx`, not defined yet: run the earlier cells first" in missing.message


# --------------------------------------------------------------------------------------
# Comparing answers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expected, got",
    [
        (0.4, 0.4000000001),
        (0.0, 0),
        (1, np.float64(1.0)),
        (0.5, np.array(0.5)),
        ([1, 2, 3], np.array([1, 2, 3])),
        (np.array([[1.0, 0.0], [0.5, 2.0]]), sp.csr_matrix([[1.0, 0.0], [0.5, 2.0]])),
        (sp.csr_matrix([[0.0, 3.0]]), sp.coo_matrix([[0.0, 3.0]])),
        ((np.array([1.0]), 2.5), [np.array([1.0]), 2.5]),
        ({"a": 1.0, "b": [2]}, {"b": np.array([2]), "a": 1}),
        ({1, 2}, frozenset({2, 1})),
        ("ok", "ok"),
    ],
)
def test_answers_that_match(expected, got):
    assert answers_match(expected, got)


@pytest.mark.parametrize(
    "expected, got",
    [
        (0.4, 0.41),
        (1.0, True),
        (0.5, [0.5]),
        (np.array([1, 2, 3]), np.array([[1, 2, 3]])),
        (np.array([1.0, 2.0]), np.array([2.0, 1.0])),
        (sp.csr_matrix([[1.0, 0.0]]), np.array([[1.0, 1e-3]])),
        ((1, 2), (1, 2, 3)),
        ({"a": 1}, {"a": 1, "b": 2}),
        ({1, 2}, [1, 2]),
        (0.5, None),
        (float("nan"), float("nan")),
        (0.5, object()),
    ],
)
def test_answers_that_do_not_match(expected, got):
    assert not answers_match(expected, got)


def test_nan_matches_nan_only_when_asked():
    assert answers_match(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), equal_nan=True)
    assert not answers_match(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))


def test_nan_reference_outcome_never_counts_as_correct():
    question = FunctionQuestion(
        label="q9",
        name="f",
        reference=lambda: float("nan"),
        cases=[case()],
        hint="h",
        solution="s",
        why="w",
    )
    assert not question.grade(lambda: float("nan")).passed


# --------------------------------------------------------------------------------------
# Graded hints: a nudge, then the approach, then solution(); never the answer itself
# --------------------------------------------------------------------------------------

GRADED = [(m, n, q) for m, n, q in QUESTIONS if m in ("lesson01", "lesson02")]


@pytest.mark.parametrize(
    "question", [q for _, _, q in GRADED], ids=[f"{m}.{n}" for m, n, _ in GRADED]
)
def test_hints_are_graded_and_never_the_solution(question, capsys):
    assert len(question.hints) >= 2, "hint(2) must exist: the exercises promise it"
    assert f"{question.label}.solution()" in question.hints[-1]
    assert all(f"{question.label}.solution()" not in h for h in question.hints[:-1])
    statements = [line.split("#")[0].strip() for line in question.solution_code.splitlines()]
    # Assignments and loop headers of the solution: a formula may appear in a hint, not code.
    statements = [s for s in statements if " = " in s or s.endswith(":")]
    for text in question.hints:
        assert "return " not in text and "def " not in text
        assert not any(statement in text for statement in statements)
    question.hint(1)
    assert f"{question.label}.hint(2) gives a bigger nudge" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# Lesson 02: the lesson's own expressions pass; learner-style mistakes get their hints
# --------------------------------------------------------------------------------------


def scores_as_in_lesson02(profile, item_vectors, seen):
    # notebooks/02_content_based.ipynb, section 4: every |f_i| is 1 or 0, no zero guard.
    scores = item_vectors @ profile / np.linalg.norm(profile)
    scores[seen] = -np.inf
    return scores


def test_lesson02_expression_for_the_scores_passes():
    assert lesson02.q2.grade(scores_as_in_lesson02).passed


def test_lesson02_expression_for_the_profile_passes():
    def profile_as_in_lesson02(item_vectors, ratings):
        weights = ratings - ratings.mean()
        if np.all(weights == 0):
            weights = np.ones_like(weights)
        return weights @ item_vectors / np.abs(weights).sum()

    assert lesson02.q1.grade(profile_as_in_lesson02).passed


def test_required_minus_inf_gives_no_division_by_zero_note():
    def scores_doubled(profile, item_vectors, seen):
        return 2 * scores_as_in_lesson02(profile, item_vectors, seen)

    result = lesson02.q2.grade(scores_doubled)
    assert result.status is Status.INCORRECT
    assert "nan or inf" not in result.message


def test_unexpected_nan_still_gets_the_note():
    def scores_nan_for_first_item(profile, item_vectors, seen):
        scores = 2 * scores_as_in_lesson02(profile, item_vectors, seen)
        scores[0] = np.nan
        return scores

    result = lesson02.q2.grade(scores_nan_for_first_item)
    assert result.status is Status.INCORRECT
    assert "Your answer holds nan or inf: look for a division by zero" in result.message


def test_a_list_of_correct_scores_passes():
    # The exercise notebook turns the answers into arrays before using them (np.asarray).
    def scores_as_list(profile, item_vectors, seen):
        return scores_as_in_lesson02(profile, item_vectors, seen).tolist()

    assert lesson02.q2.grade(scores_as_list).passed


def cosine_with_l1_norms(profile, item_vectors, seen):
    lengths = np.linalg.norm(profile, ord=1) * np.linalg.norm(item_vectors, ord=1, axis=1)
    scores = np.divide(
        item_vectors @ profile, lengths, out=np.zeros(len(item_vectors)), where=lengths > 0
    )
    scores[seen] = -np.inf
    return scores


def cosine_with_matrix_norm(profile, item_vectors, seen):
    scores = item_vectors @ profile / (np.linalg.norm(profile) * np.linalg.norm(item_vectors))
    scores[seen] = -np.inf
    return scores


def cosine_without_guard(profile, item_vectors, seen):
    norms = np.linalg.norm(item_vectors, axis=1) * np.linalg.norm(profile)
    scores = (item_vectors @ profile) / norms
    scores[seen] = -np.inf
    return scores


def profile_over_l2_length(item_vectors, ratings):
    weights = ratings - np.mean(ratings)
    if not weights.any():
        weights = np.ones(len(ratings))
    return weights @ item_vectors / np.sqrt((weights**2).sum())


@pytest.mark.parametrize(
    "question, answer, phrase",
    [
        ("q2", cosine_with_l1_norms, "You measured length with the sum of absolute values"),
        ("q2", cosine_with_matrix_norm, "np.linalg.norm(item_vectors) without axis=1"),
        ("q2", cosine_without_guard, "An item without metadata (an all-zero row)"),
        ("q1", profile_over_l2_length, "You divided by np.linalg.norm(w)"),
    ],
)
def test_lesson02_recognises_learner_mistakes(question, answer, phrase):
    result = getattr(lesson02, question).grade(answer)
    assert result.status is Status.MISTAKE
    assert result.hint.startswith(phrase)


def test_lesson02_references_agree_with_content_based():
    pd = pytest.importorskip("pandas")
    from recsys_lessons.models import ContentBased

    items = pd.DataFrame(
        {"genres": [["Drama"], ["Drama", "Mystery"], ["Comedy"], [], ["Comedy", "Drama"]]},
        index=[10, 11, 12, 13, 14],
    )
    X = sp.csr_matrix(np.array([[5.0, 0, 1.0, 0, 3.0], [0, 4.0, 0, 0, 4.0], [2.0, 0, 0, 5.0, 0]]))
    model = ContentBased(items, feature_weights={"genres": 1.0}).fit(X)
    vectors = model.item_vectors_.toarray()
    for user in range(X.shape[0]):
        row = X[user]
        profile = lesson02.q1.reference(vectors[row.indices], row.data.astype(float))
        assert np.allclose(profile, model.profiles_[user].toarray().ravel())
        scores = lesson02.q2.reference(profile, vectors, row.indices)
        expected = model.score([user])[0]
        expected[row.indices] = -np.inf
        assert np.allclose(scores, expected)


# --------------------------------------------------------------------------------------
# The reference answers agree with recsys_lessons.metrics
# --------------------------------------------------------------------------------------


def test_lesson01_references_agree_with_metrics():
    metrics = pytest.importorskip("recsys_lessons.metrics")
    rng = np.random.default_rng(0)
    for _ in range(300):
        n_items = int(rng.integers(5, 40))
        width = int(rng.integers(1, n_items))
        k = int(rng.integers(1, width + 1))
        recommended = rng.permutation(n_items)[:width].tolist()
        relevant = set(
            rng.choice(n_items, size=int(rng.integers(1, n_items)), replace=False).tolist()
        )
        for question, metric in [(q1, metrics.precision_at_k), (q2, metrics.ndcg_at_k)]:
            ours = question.reference(recommended, relevant, k)
            theirs = metric([recommended], [relevant], k=k)
            assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12), (recommended, relevant, k)


# --------------------------------------------------------------------------------------
# Learner code that exits or never returns; bad hint numbers
# --------------------------------------------------------------------------------------


def make_double_question(**options) -> checks.FunctionQuestion:
    return checks.FunctionQuestion(
        label="qd",
        name="double",
        reference=lambda x: 2 * x,
        cases=[checks.case(3), checks.case(-1, note="negative input")],
        hint=["Multiply by two.", "Return x * 2."],
        solution="def double(x):\n    return 2 * x",
        why="Doubling.",
        **options,
    )


def double_then_exit(x):
    sys.exit(0)


def double_forever(x):
    while True:
        try:
            x = x + 0
        except Exception:  # a learner's catch-all must not swallow the time limit
            pass


def test_sys_exit_in_a_learner_function_does_not_escape_report_mode(capsys):
    make_double_question().check(double_then_exit)
    out = capsys.readouterr().out
    assert out.startswith("✗ Your `double` called sys.exit(0) (or exit()/quit())")
    assert "with `return` instead" in out and "`sys.exit(0)`" in out


def test_sys_exit_in_strict_mode_is_an_assertion_not_an_exit():
    checks.set_mode("strict")
    try:
        with pytest.raises(AssertionError, match="called sys.exit"):
            make_double_question().check(double_then_exit)
    finally:
        checks.set_mode(None)


def test_an_endless_loop_hits_the_time_limit_with_a_clear_message(capsys):
    question = make_double_question(time_limit=0.2)
    question.check(double_forever)
    out = capsys.readouterr().out
    assert out.startswith("✗ Your `double` did not finish within 0.2 seconds (an endless loop?")
    assert "on double(3)\n" in out and "at line" not in out  # the stopping point varies
    question.check(lambda x: 2 * x)  # the alarm is gone: a correct answer still passes
    assert capsys.readouterr().out.startswith("✓ Correct!")


def test_time_limit_must_be_positive():
    with pytest.raises(ValueError, match="time_limit must be a positive number"):
        make_double_question(time_limit=0)


@pytest.mark.parametrize("level", ["abc", 0, -1, 1.5, True, None])
def test_hint_numbers_are_validated(level):
    with pytest.raises(
        ValueError, match=r"qd.hint\(\) takes a hint number 1, 2, ... \(this question has 2\)"
    ):
        make_double_question().hint(level)


# Lessons 03 and 04: graded hints, learner-style mistakes, answers returned as lists
# --------------------------------------------------------------------------------------

#: Lessons whose questions follow the graded-hint rule (a nudge, then the approach in words).
GRADED_LESSONS = [m for m in LESSON_MODULES if m.__name__ >= "recsys_lessons.checks.lesson03"]
LATER_QUESTIONS = [
    (f"{module.__name__.rsplit('.', 1)[-1]}.{label}", getattr(module, label))
    for module in GRADED_LESSONS
    for label in module.__all__
]


def _code_lines(solution):
    """The statements of a solution, without comments, blank, def, import or return lines."""
    lines = (line.split("#", 1)[0].strip() for line in solution.splitlines())
    return [
        "".join(line.split())
        for line in lines
        if line and not line.startswith(("def ", "import ", "from ", "return "))
    ]


@pytest.mark.parametrize(
    "question", [q for _, q in LATER_QUESTIONS], ids=[name for name, _ in LATER_QUESTIONS]
)
def test_hints_are_graded_and_never_the_whole_answer(question, capsys):
    """A nudge, then an approach that names the steps, then solution(): no hint holds code."""
    assert len(question.hints) >= 2
    for hint in question.hints:
        squashed = "".join(hint.split())
        assert "return np" not in hint and "return (" not in hint
        assert not any(line in squashed for line in _code_lines(question.solution_code)), hint
    question.hint(2)
    out = capsys.readouterr().out
    assert out.startswith(f"• Hint 2 of {len(question.hints)}: ")
    question.hint(len(question.hints))  # the last step points to the solution
    assert capsys.readouterr().out.endswith(f"{question.label}.solution() shows one answer.\n")


#: The solution and exercise notebooks whose real-data cells reuse the learner's answers.
REAL_DATA_NOTEBOOKS = sorted(
    path
    for folder in ("solutions", "exercises")
    for path in (ROOT / folder).glob("*.ipynb")
    if path.name >= "05"
)


@pytest.mark.parametrize("path", REAL_DATA_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_real_data_cells_never_send_the_learner_back_to_a_check_that_passes(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            assert not re.search(r"check\(\) again|its check again|run the checks again", source), (
                f"cell {index} sends the learner back to a check that passes; name the cause"
            )


def _hint_of(question, answer):
    result = question.grade(answer, namespace={})
    assert result.status is Status.MISTAKE, result.message
    return result.hint


def l1_norm_similarity(X, shrink=0.0):
    dots = (X.T @ X).toarray()
    norms = np.asarray(abs(X).sum(axis=0)).ravel()  # the L1 norm
    S = np.divide(dots, np.outer(norms, norms) + shrink, where=dots > 0, out=np.zeros_like(dots))
    np.fill_diagonal(S, 0)
    return S


def sqrt_of_sum_similarity(X, shrink=0.0):
    dots = (X.T @ X).toarray()
    norms = np.sqrt(np.asarray(X.sum(axis=0)).ravel())  # the squares forgotten
    S = np.divide(dots, np.outer(norms, norms) + shrink, where=dots > 0, out=np.zeros_like(dots))
    np.fill_diagonal(S, 0)
    return S


def multiplicative_shrink_similarity(X, shrink=0.0):
    dots = (X.T @ X).toarray()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
    both = ((X > 0).astype(float).T @ (X > 0).astype(float)).toarray()  # users of both items
    cosine = np.divide(dots, np.outer(norms, norms), where=dots > 0, out=np.zeros_like(dots))
    S = cosine * np.divide(both, both + shrink, where=both > 0, out=np.zeros_like(both))
    np.fill_diagonal(S, 0)
    return S


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (l1_norm_similarity, "L1 norm"),
        (sqrt_of_sum_similarity, "L1 norm"),
        (multiplicative_shrink_similarity, "MULTIPLYING the cosine"),
    ],
)
def test_lesson03_q1_recognises_norm_and_shrinkage_mistakes(answer, phrase):
    assert phrase in _hint_of(lesson03.q1, answer)


def recommend_partition_only(X, S, user, n):
    scores = np.asarray(X[user] @ S).ravel()
    scores[X[user].indices] = -np.inf
    return np.argpartition(-scores, n - 1)[:n]


def top_k_partition_only(item_vectors, query, k, exclude=()):
    scores = item_vectors @ query
    scores[list(exclude)] = -np.inf
    return np.argpartition(-scores, k)[:k]


def test_argpartition_without_a_final_sort_gets_its_own_hint():
    for question, answer in (
        (lesson03.q2, recommend_partition_only),
        (lesson04.q2, top_k_partition_only),
    ):
        assert "np.argpartition only promises" in _hint_of(question, answer)


def test_argpartition_cases_are_not_returned_sorted():
    """The large cases must tell an unsorted partition from a ranking on this NumPy build."""
    for question, partition in (
        (lesson03.q2, lesson03._recommend_partition_unsorted),
        (lesson04.q2, lesson04._top_k_partition_unsorted),
    ):
        large = [c for c in question.cases if "1,000 items" in c.note]
        assert large
        assert any(
            not np.array_equal(
                partition(*c.args, **c.kwargs), question.reference(*c.args, **c.kwargs)
            )
            for c in large
        )


def sgd_step_with_factor_two(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    e = r - (mu + b_u + b_i + p_u @ q_i)
    return (
        b_u + lr * (2 * e - 2 * reg * b_u),
        b_i + lr * (2 * e - 2 * reg * b_i),
        p_u + lr * (2 * e * q_i - 2 * reg * p_u),
        q_i + lr * (2 * e * p_u - 2 * reg * q_i),
    )


def sgd_step_clipped(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    e = r - min(max(mu + b_u + b_i + p_u @ q_i, 1), 5)
    return (
        b_u + lr * (e - reg * b_u),
        b_i + lr * (e - reg * b_i),
        p_u + lr * (e * q_i - reg * p_u),
        q_i + lr * (e * p_u - reg * q_i),
    )


def test_lesson04_q1_recognises_the_factor_two_and_the_clipped_prediction():
    assert "factor 2" in _hint_of(lesson04.q1, sgd_step_with_factor_two)
    assert "clipped the prediction" in _hint_of(lesson04.q1, sgd_step_clipped)


def test_lesson04_q1_has_predictions_outside_the_scale():
    predictions = [
        c.args[0] + c.args[1] + c.args[2] + c.args[3] @ c.args[4] for c in lesson04.q1.cases
    ]
    assert max(predictions) > 5 and min(predictions) < 1


@pytest.mark.parametrize(
    "question, answer",
    [
        (lesson03.q1, lambda X, shrink=0.0: lesson03.q1.reference(X, shrink).tolist()),
        (lesson03.q2, lambda X, S, user, n: lesson03.q2.reference(X, S, user, n).tolist()),
        (
            lesson04.q1,
            lambda *args: [list(v) if np.ndim(v) else v for v in lesson04.q1.reference(*args)],
        ),
        (lesson04.q2, lambda *args, **kw: lesson04.q2.reference(*args, **kw).tolist()),
    ],
    ids=["lesson03.q1", "lesson03.q2", "lesson04.q1", "lesson04.q2"],
)
def test_correct_answers_returned_as_python_lists_pass(question, answer):
    assert question.grade(answer, namespace={}).passed


# --------------------------------------------------------------------------------------
# answers that change their inputs (issue 21: they passed, then broke the real-data cells)
# --------------------------------------------------------------------------------------


def _blend_normalizing_in_place(scores_a, scores_b, weight):
    """Exercise 06 q1, right values, but the z-scores are written into the caller's arrays."""
    for scores in (scores_a, scores_b):
        unseen = np.isfinite(scores)
        values = np.where(unseen, scores, np.nan)
        mean = np.nanmean(values, axis=1, keepdims=True)
        std = np.nanstd(values, axis=1, keepdims=True)
        scores[unseen] = ((values - mean) / std)[unseen]
    blended = weight * np.where(np.isfinite(scores_a), scores_a, 0.0) + (1 - weight) * np.where(
        np.isfinite(scores_b), scores_b, 0.0
    )
    return np.where(np.isfinite(scores_a), blended, -np.inf)


def _thompson_update_with_add_at(alpha, beta, items, clicks):
    """Exercise 10 q1, right values, but np.add.at writes into the caller's alpha and beta."""
    np.add.at(alpha, items, clicks)
    np.add.at(beta, items, 1 - np.asarray(clicks))
    return alpha, beta


@pytest.mark.parametrize(
    "question, answer, argument",
    [
        (lesson06.q1, _blend_normalizing_in_place, "scores_a"),
        (lesson10.q1, _thompson_update_with_add_at, "alpha"),
    ],
)
def test_right_values_from_an_answer_that_changes_its_input_are_refused(question, answer, argument):
    result = question.grade(answer)
    assert result.status is Status.MISTAKE
    assert f"changes its argument `{argument}` in place" in result.hint
    assert f"{argument} = {argument}.copy()" in result.hint


def test_the_same_answers_working_on_copies_pass():
    def blend_on_copies(scores_a, scores_b, weight):
        return _blend_normalizing_in_place(scores_a.copy(), scores_b.copy(), weight)

    def update_on_copies(alpha, beta, items, clicks):
        return _thompson_update_with_add_at(
            np.array(alpha, dtype=float), np.array(beta, dtype=float), items, clicks
        )

    assert lesson06.q1.grade(blend_on_copies).passed
    assert lesson10.q1.grade(update_on_copies).passed


def test_a_known_mistake_keeps_its_own_hint_even_when_it_changes_its_input():
    # lesson 04's "updated p_u before using it for q_i" bug writes into p_u: the specific hint wins
    mistake, variant = next(
        (m, v)
        for m in lesson04.q1.mistakes
        for v in m.variants
        if v.__name__ == "_step_updated_p_for_q_in_place"
    )
    result = lesson04.q1.grade(variant)
    assert result.status is Status.MISTAKE and result.hint == mistake.hint
