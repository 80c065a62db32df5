"""Instant feedback for the exercise notebooks, in the style of Kaggle Learn's learntools.

An exercise notebook imports its questions and the learner works through them::

    from recsys_lessons.checks.lesson01 import q1

    def precision_at_k(recommended, relevant, k):
        ...                 # the learner replaces this stub

    q1.check()              # ✓ correct / • not answered yet / ✗ a hint aimed at the mistake
    q1.hint()               # a nudge
    q1.solution()           # one correct answer, as code

``check()`` finds the answer by name in the notebook's ``__main__`` globals (a function for a
:class:`FunctionQuestion`, a variable for a :class:`ValueQuestion`); ``check(answer)`` grades
an explicit answer instead, which is what the unit tests do.

How a check decides (the order matters):

1. Not answered yet: the name is undefined, is ``None`` or ``...``, the function raises
   ``NotImplementedError`` or returns ``None`` on every test case.
2. Correct: the answer equals the reference solution on every test case (numbers, arrays and
   sparse matrices are compared with a relative tolerance, see :func:`answers_match`).
3. A known mistake: the answer equals one of the question's buggy implementations on every
   test case, so the learner gets the hint written for that exact bug (e.g. "you divided by
   the number of relevant items instead of k"). A mistake can list several implementations
   of the same bug (a pure-Python one that raises ``ZeroDivisionError``, a NumPy one that
   returns ``nan``), and raising the same exception type counts as the same outcome.
4. Otherwise: the exception the learner's code raised (type, message, failing input and the
   offending line), or the first failing input with the expected and the returned value.

An answer that **changes its inputs in place** (writes into an array it was given, sorts a
list it was passed) is refused with a hint that names the argument, unless its results match
a known mistake (whose hint is more specific), even when the values it returns are right: the
values it returns may be right, but the real-data cells that reuse the same arrays afterwards
would break or silently go wrong. Data arguments (NumPy arrays, sparse matrices, pandas
objects, lists, dicts and sets) are compared with a snapshot taken before the call.

Every implementation (the learner's, the reference, the mistakes) is called on deep copies of
the inputs and with NumPy floating-point warnings silenced: the verdict explains a nan or inf
better than a stack of ``RuntimeWarning`` lines with temporary file names. A call that runs
longer than the question's ``time_limit`` (default :data:`TIME_LIMIT_SECONDS`) is stopped and
reported as "did not finish" (an endless loop must not hang the notebook; the limit uses
``SIGALRM``, so it applies on Linux and macOS in the main thread, where notebooks run), and a
function that calls ``sys.exit()`` (or ``exit()``) is reported instead of ending the check.

Modes. In ``"report"`` mode (the default, for exercise notebooks) a check prints its verdict
and never raises, whatever the learner's code does. In ``"strict"`` mode (used when the
solution notebooks are tested) a check that is not correct raises ``AssertionError`` carrying
the same text. The mode comes from :func:`set_mode` if it was called, else from the
environment variable ``RECSYS_LESSONS_CHECKS`` (``report`` or ``strict``).

Output is plain text starting with ✓ (correct), ✗ (wrong) or • (not answered, hints,
solutions). It is deterministic (no addresses, timings or file names), so executed notebooks
can be compared cell by cell, and it reads the same in JupyterLab, on GitHub and in a terminal.

Writing questions: see :class:`FunctionQuestion` and ``recsys_lessons/checks/lesson01.py``
(lesson 01, notebooks/01_baselines_and_evaluation.ipynb); tests call :meth:`Question.validate`
on every question so that each mistake provably triggers its own hint.
"""

from __future__ import annotations

import abc
import contextlib
import copy
import enum
import inspect
import numbers
import os
import signal
import sys
import sysconfig
import textwrap
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "MODE_ENV_VAR",
    "Case",
    "FunctionQuestion",
    "Mistake",
    "Question",
    "Result",
    "Status",
    "TIME_LIMIT_SECONDS",
    "ValueQuestion",
    "answers_match",
    "case",
    "get_mode",
    "set_mode",
]

#: Environment variable that selects the mode: ``report`` (default) or ``strict``.
MODE_ENV_VAR = "RECSYS_LESSONS_CHECKS"
_MODES = ("report", "strict")
_mode_override: str | None = None

#: Stands for "no explicit answer given: look the name up in the notebook".
_MISSING = object()

#: Default wall-clock limit for one call of the learner's function (see Question.time_limit).
TIME_LIMIT_SECONDS = 10.0


# --------------------------------------------------------------------------------------
# Mode
# --------------------------------------------------------------------------------------


def set_mode(mode: str | None) -> None:
    """Choose how checks react to a wrong answer: ``"report"``, ``"strict"``, or ``None``.

    ``None`` forgets the choice, so the environment variable ``RECSYS_LESSONS_CHECKS``
    decides again.
    """
    global _mode_override
    if mode is not None and mode not in _MODES:
        raise ValueError(f"mode must be 'report', 'strict' or None; got {mode!r}.")
    _mode_override = mode


def get_mode() -> str:
    """The active mode: the :func:`set_mode` choice, else ``RECSYS_LESSONS_CHECKS``, else report."""
    if _mode_override is not None:
        return _mode_override
    mode = os.environ.get(MODE_ENV_VAR, "").strip().lower() or "report"
    if mode not in _MODES:
        raise ValueError(
            f"the environment variable {MODE_ENV_VAR} must be 'report' or 'strict'; got "
            f"{os.environ[MODE_ENV_VAR]!r}. Unset it to get the default (report)."
        )
    return mode


# --------------------------------------------------------------------------------------
# Declaring questions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One test input of a :class:`FunctionQuestion`: positional and keyword arguments.

    ``note`` names what the case probes (e.g. "relevant set larger than k"); it is shown to
    the learner next to a failing example. Build cases with :func:`case`.
    """

    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


def case(*args, note: str = "", **kwargs) -> Case:
    """A test case calling the learner's function as ``function(*args, **kwargs)``."""
    return Case(args=args, kwargs=kwargs, note=note)


class Mistake:
    """A common mistake: the hint to show and one or more buggy implementations of it.

    Parameters
    ----------
    hint : str
        What went wrong and how to fix it, addressed to the learner.
    *variants : callable
        Buggy implementations with the reference's signature. The learner's answer is
        recognised as this mistake when it produces the same outcome as one variant on every
        test case (same value, or the same exception type). List several variants when the
        same bug shows differently in pure Python and in NumPy.
    """

    def __init__(self, hint: str, *variants: Callable):
        if not hint or not hint.strip():
            raise ValueError("a Mistake needs a hint that tells the learner what to fix.")
        if not variants or not all(callable(v) for v in variants):
            raise ValueError("a Mistake needs at least one buggy implementation (a function).")
        self.hint = hint.strip()
        self.variants = variants

    def __repr__(self) -> str:
        names = ", ".join(getattr(v, "__name__", "function") for v in self.variants)
        return f"Mistake({names})"


class Status(enum.Enum):
    """Verdict of a check."""

    CORRECT = "correct"
    UNANSWERED = "unanswered"
    MISTAKE = "mistake"  # matches a known mistake: its hint was shown
    ERROR = "error"  # the learner's code raised an exception
    INCORRECT = "incorrect"  # wrong, and not a known mistake


@dataclass(frozen=True)
class Result:
    """What :meth:`Question.grade` found: the verdict, the text shown, and the mistake's hint."""

    status: Status
    message: str
    hint: str | None = None

    @property
    def passed(self) -> bool:
        return self.status is Status.CORRECT


@dataclass(frozen=True)
class _Outcome:
    """What one call produced: a value, or the exception it raised; and which argument it
    changed in place, if any (only recorded for the learner's answer)."""

    value: Any = None
    error: Exception | None = None
    changed: str | None = None


class Question(abc.ABC):
    """Shared machinery of :class:`FunctionQuestion` and :class:`ValueQuestion`.

    Parameters
    ----------
    label : str
        The name of the question object in the lesson module (``"q1"``), used in messages
        such as "run q1.check() again".
    name : str
        The name the learner's answer has in the notebook (function or variable name).
    reference : callable
        The correct implementation.
    mistakes : sequence of Mistake
        Common mistakes, tried in order; the first that matches gives its hint.
    hint : str or sequence of str
        One hint, or progressively stronger hints shown by ``hint(1)``, ``hint(2)``, ...
    solution : str
        Source code of one correct answer, shown by ``solution()``.
    why : str
        One or two sentences on why this matters, shown with a correct answer.
    rtol, atol : float
        Tolerances for comparing numbers (see :func:`answers_match`).
    time_limit : float
        Seconds one call may run before it is stopped and reported as not finishing
        (default :data:`TIME_LIMIT_SECONDS`).
    """

    def __init__(
        self,
        *,
        label: str,
        name: str,
        reference: Callable,
        hint: str | Sequence[str],
        solution: str,
        why: str,
        mistakes: Sequence[Mistake] = (),
        rtol: float = 1e-6,
        atol: float = 1e-9,
        time_limit: float = TIME_LIMIT_SECONDS,
    ):
        if not label.isidentifier() or not name.isidentifier():
            raise ValueError(f"label and name must be Python identifiers; got {label!r}, {name!r}.")
        if not callable(reference):
            raise ValueError("reference must be the correct implementation (a function).")
        hints = (hint,) if isinstance(hint, str) else tuple(hint)
        if not hints or not all(h.strip() for h in hints):
            raise ValueError("give at least one non-empty hint.")
        if not solution.strip() or not why.strip():
            raise ValueError("solution and why must be non-empty text.")
        self.label = label
        self.name = name
        self.reference = reference
        self.mistakes = tuple(mistakes)
        self.hints = tuple(h.strip() for h in hints)
        self.solution_code = textwrap.dedent(solution).strip()
        self.why = why.strip()
        self.rtol = rtol
        self.atol = atol
        if not (isinstance(time_limit, numbers.Real) and 0 < time_limit < float("inf")):
            raise ValueError(
                f"time_limit must be a positive number of seconds; got {time_limit!r}."
            )
        self.time_limit = float(time_limit)

    # -- what the learner calls ------------------------------------------------------

    def check(self, answer: Any = _MISSING) -> None:
        """Grade the answer (by default the notebook's ``name``) and print the verdict.

        In report mode this never raises; in strict mode a verdict other than correct
        raises ``AssertionError`` with the same message.
        """
        strict = get_mode() == "strict"
        try:
            result = self.grade(answer)
        except Exception as error:  # a checker bug must not break a learner's notebook
            if strict:
                raise
            result = Result(
                Status.ERROR,
                f"✗ {self.label}.check() could not grade this answer "
                f"({type(error).__name__}: {error}). Please report it to the course authors.",
            )
        if strict and not result.passed:
            raise AssertionError(result.message)
        print(result.message)

    def hint(self, level: int = 1) -> None:
        """Print hint number ``level`` (1 = gentlest).

        The help comes in steps: each hint but the last points to the next one, the last to
        :meth:`solution`; asking past the last hint says so rather than repeating it.
        """
        count = len(self.hints)
        if isinstance(level, bool) or not isinstance(level, numbers.Integral) or level < 1:
            raise ValueError(
                f"{self.label}.hint() takes a hint number 1, 2, ... (this question has {count}); "
                f"got {level!r}. Try {self.label}.hint() or {self.label}.hint(2)."
            )
        if level > count:
            print(
                f"• {self.label} has {count} hint{'s' if count > 1 else ''}, all shown by "
                f"{self.label}.hint(1) to {self.label}.hint({count}); the next step is "
                f"{self.label}.solution(), which shows one answer."
            )
            return
        text = f"• Hint: {self.hints[0]}" if count == 1 else f"• Hint {level} of {count}: "
        if count > 1:
            text += self.hints[level - 1]
        if level < count:
            text += f"\n  Still stuck? {self.label}.hint({level + 1}) gives a bigger nudge."
        else:
            text += f"\n  Still stuck? {self.label}.solution() shows one answer."
        print(text)

    def solution(self) -> None:
        """Print one correct answer as code."""
        print(f"• Solution:\n\n{self.solution_code}")

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.label}: `{self.name}`. Use {self.label}.check(), "
            f"{self.label}.hint(), {self.label}.solution()>"
        )

    # -- grading -----------------------------------------------------------------------

    def grade(self, answer: Any = _MISSING, namespace: Mapping[str, Any] | None = None) -> Result:
        """Grade an answer and return the :class:`Result` (nothing printed, nothing raised).

        ``answer`` defaults to ``namespace[name]``; ``namespace`` defaults to the notebook's
        ``__main__`` globals.
        """
        if namespace is None:
            namespace = vars(sys.modules["__main__"])
        if answer is _MISSING:
            answer = namespace.get(self.name, _MISSING)
        if answer is _MISSING:
            return self._unanswered(f"`{self.name}` is not defined: fill in its cell and run it")
        if answer is None or answer is Ellipsis:
            return self._unanswered(
                f"`{self.name}` is still {answer!r}: replace the stub with your answer"
            )
        return self._grade(answer, namespace)

    def validate(self, namespace: Mapping[str, Any] | None = None) -> None:
        """Prove the question is well made; raise ``AssertionError`` saying what is not.

        The reference must pass, and every variant of every mistake must be recognised as
        that mistake (so no hint is unreachable or shadowed by an earlier one).
        ``namespace`` supplies the ``uses`` variables of a :class:`ValueQuestion`.
        """
        result = self.grade(self._answer_from(self.reference, namespace), namespace)
        assert result.passed, f"{self.label}: the reference does not pass:\n{result.message}"
        for mistake in self.mistakes:
            for variant in mistake.variants:
                result = self.grade(self._answer_from(variant, namespace), namespace)
                assert result.status is Status.MISTAKE and result.hint == mistake.hint, (
                    f"{self.label}: the mistake variant {variant.__name__} is not recognised "
                    f"as its own mistake; the learner would see:\n{result.message}"
                )

    @abc.abstractmethod
    def _answer_from(self, implementation: Callable, namespace: Mapping[str, Any] | None) -> Any:
        """The answer a learner who wrote ``implementation`` would submit."""

    @abc.abstractmethod
    def _grade(self, answer: Any, namespace: Mapping[str, Any]) -> Result:
        """Grade a defined, non-stub answer."""

    def _judge(
        self,
        cases: Sequence[Case],
        got: Sequence[_Outcome],
        expected: Sequence[_Outcome],
        mistake_outcomes: Callable[[Callable], Sequence[_Outcome]],
    ) -> Result:
        """Shared verdict logic once the learner's outcomes are known (steps 2 to 4)."""
        if all(g.error is None for g in got) and all(
            self._same(e, g, equal_nan=False) for e, g in zip(expected, got, strict=True)
        ):
            return Result(
                Status.CORRECT,
                f"✓ Correct! {self._correct_summary(len(cases))}\n  Why it matters: {self.why}",
            )
        first_wrong = next(
            i
            for i, (e, g) in enumerate(zip(expected, got, strict=True))
            if not self._same(e, g, equal_nan=False)
        )
        for mistake in self.mistakes:
            for variant in mistake.variants:
                outcomes = mistake_outcomes(variant)
                if all(self._same(m, g) for m, g in zip(outcomes, got, strict=True)):
                    example = self._example(cases, got, expected, first_wrong)
                    message = f"✗ Not quite. {mistake.hint}\n  {example}"
                    return Result(Status.MISTAKE, message, hint=mistake.hint)
        raised = next((i for i, g in enumerate(got) if g.error is not None), None)
        if raised is not None:
            return Result(Status.ERROR, self._error_message(cases[raised], got[raised].error))
        example = self._example(cases, got, expected, first_wrong)
        advice = f"{self.label}.hint() gives a nudge; {self.label}.solution() shows one answer."
        return Result(
            Status.INCORRECT,
            f"✗ Incorrect. {example}"
            f"{_non_finite_note(got[first_wrong].value, expected[first_wrong].value)}"
            f"\n  {advice}",
        )

    # -- helpers -----------------------------------------------------------------------

    def _same(self, expected: _Outcome, got: _Outcome, equal_nan: bool = True) -> bool:
        if expected.error is not None or got.error is not None:
            return (
                expected.error is not None
                and got.error is not None
                and type(expected.error) is type(got.error)
            )
        return answers_match(
            expected.value, got.value, rtol=self.rtol, atol=self.atol, equal_nan=equal_nan
        )

    def _unanswered(self, what: str) -> Result:
        return Result(
            Status.UNANSWERED,
            f"• Not answered yet: {what}, then run {self.label}.check() again. "
            f"Stuck? {self.label}.hint() gives a nudge.",
        )

    def _error_message(self, failing_case: Case, error: Exception) -> str:
        # where a loop was stopped depends on timing: no line for a time-out (deterministic text)
        line = "" if isinstance(error, _TimedOut) else _offending_line(error)
        if isinstance(error, _TimedOut):
            what = (
                f"did not finish within {error.seconds:g} seconds (an endless loop? check that "
                "every while loop's condition eventually becomes false)"
            )
        elif isinstance(error, _ExitCalled):
            what = (
                f"called sys.exit({error.code!r}) (or exit()/quit()), which would end the "
                "program; hand the answer back with `return` instead"
            )
        else:
            what = f"raised {type(error).__name__}: {error}"
        return (
            f"✗ Your `{self.name}` {what}\n"
            f"  on {self._describe(failing_case)}"
            + (f" ({failing_case.note})" if failing_case.note else "")
            + (f"\n  at {line}" if line else "")
            + f"\n  Fix the error, run the cell again, then {self.label}.check()."
        )

    @abc.abstractmethod
    def _describe(self, c: Case) -> str:
        """The test case as the learner would write it."""

    @abc.abstractmethod
    def _correct_summary(self, n_cases: int) -> str:
        """The sentence after "Correct!"."""

    @abc.abstractmethod
    def _example(self, cases, got, expected, index) -> str:
        """One failing example: the input, the expected and the learner's outcome."""


class FunctionQuestion(Question):
    """The learner writes a function; it is called on each test case and compared.

    Parameters
    ----------
    cases : sequence of Case
        Inputs the learner's function is called with (see :func:`case`). Each call gets a
        deep copy, so a function that modifies its inputs cannot spoil the next call.
    **kwargs
        ``label``, ``name``, ``reference``, ``mistakes``, ``hint``, ``solution``, ``why``,
        ``rtol``, ``atol``: see :class:`Question`.

    Examples
    --------
    >>> q1 = FunctionQuestion(
    ...     label="q1",
    ...     name="double",
    ...     reference=lambda x: 2 * x,
    ...     cases=[case(3), case(-1, note="negative input")],
    ...     mistakes=[Mistake("You squared x; double it instead.", lambda x: x * x)],
    ...     hint="Multiply by two.",
    ...     solution="def double(x):\\n    return 2 * x",
    ...     why="Doubling is the heart of every exercise framework demo.",
    ... )
    >>> q1.check(lambda x: x * x)
    ✗ Not quite. You squared x; double it instead.
      Example: double(3) should return 6, but yours returned 9.
    """

    def __init__(self, *, cases: Sequence[Case], **kwargs):
        super().__init__(**kwargs)
        self.cases = tuple(cases)
        if not self.cases or not all(isinstance(c, Case) for c in self.cases):
            raise ValueError(
                "a FunctionQuestion needs at least one test case built with case(...)."
            )
        self._cache: dict[int, tuple[_Outcome, ...]] = {}

    def _run(self, function: Callable, watch: bool = False) -> tuple[_Outcome, ...]:
        """Call ``function`` on a deep copy of every case; with ``watch``, also record the
        first data argument it changed in place (see :func:`_changed_argument`)."""
        outcomes = []
        for c in self.cases:
            args, kwargs = copy.deepcopy((c.args, dict(c.kwargs)))
            try:
                with _time_limit(self.time_limit), np.errstate(all="ignore"):
                    # (the verdict explains nan/inf better than warnings)
                    value = function(*args, **kwargs)
                changed = _changed_argument(function, c, args, kwargs) if watch else None
                outcomes.append(_Outcome(value=value, changed=changed))
            except Exception as error:
                outcomes.append(_Outcome(error=error))
            except _TimeLimitReached as stop:  # a BaseException: `except Exception` cannot eat it
                outcomes.append(_Outcome(error=_TimedOut(self.time_limit, stop)))
            except SystemExit as exit_call:
                outcomes.append(_Outcome(error=_ExitCalled(exit_call)))
        return tuple(outcomes)

    def _answer_from(self, implementation: Callable, namespace: Mapping[str, Any] | None) -> Any:
        return implementation

    def _known(self, function: Callable) -> tuple[_Outcome, ...]:
        """Outcomes of the reference or a mistake variant, computed once."""
        key = id(function)
        if key not in self._cache:
            self._cache[key] = self._run(function)
        return self._cache[key]

    def _grade(self, answer: Any, namespace: Mapping[str, Any]) -> Result:
        if not callable(answer):
            return Result(
                Status.INCORRECT,
                f"✗ `{self.name}` should be a function (def {self.name}(...): ...), but it is "
                f"a {type(answer).__name__}. Run the cell that defines it, then "
                f"{self.label}.check() again.",
            )
        got = self._run(answer, watch=True)
        if any(isinstance(g.error, NotImplementedError) for g in got):
            return self._unanswered(
                f"`{self.name}` raises NotImplementedError: replace the stub with your code"
            )
        if all(g.error is None and (g.value is None or g.value is Ellipsis) for g in got):
            return self._unanswered(
                f"`{self.name}` returns None: replace the `...` stub with your code and end "
                "the function with a `return` statement"
            )
        expected = self._known(self.reference)
        for c, e in zip(self.cases, expected, strict=True):
            if e.error is not None:
                raise RuntimeError(
                    f"{self.label}: the reference raised {e.error!r} on {self._describe(c)}"
                ) from e.error
        result = self._judge(self.cases, got, expected, self._known)
        changed = next(
            ((c, g.changed) for c, g in zip(self.cases, got, strict=True) if g.changed), None
        )
        if changed is None or result.status is Status.MISTAKE:  # a known bug names itself
            return result
        return self._changed_input(*changed)

    def _changed_input(self, failing_case: Case, argument: str) -> Result:
        hint = (
            f"Your `{self.name}` changes its argument `{argument}` in place: after the call the "
            f"caller's `{argument}` holds different values. The cells that reuse it (the real "
            f"data below) would then break or silently go wrong. Work on a copy "
            f"(`{argument} = {argument}.copy()` at the top) or build new arrays instead of "
            "writing into the input."
        )
        where = f" ({failing_case.note})" if failing_case.note else ""
        return Result(
            Status.MISTAKE,
            f"✗ Not quite. {hint}\n  Example{where}: {self._describe(failing_case)}.",
            hint=hint,
        )

    def _describe(self, c: Case) -> str:
        parts = [_show(a) for a in c.args] + [f"{k}={_show(v)}" for k, v in c.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"

    def _correct_summary(self, n_cases: int) -> str:
        return f"`{self.name}` gives the expected answer on all {n_cases} test cases."

    def _example(self, cases, got, expected, index) -> str:
        c = cases[index]
        where = f"Example ({c.note})" if c.note else "Example"
        wanted = _show(expected[index].value)
        return f"{where}: {self._describe(c)} should return {wanted}, but {_got(got[index])}."


class ValueQuestion(Question):
    """The learner assigns a variable; it is compared with ``reference(*uses)``.

    Parameters
    ----------
    uses : sequence of str
        Names of notebook variables passed to ``reference`` and to each mistake variant,
        so the expected value can depend on the learner's own data (e.g. ``("exact_ids",
        "approx_ids")`` for "the recall of the approximate index"). Empty when the answer
        is a constant.
    **kwargs
        ``label``, ``name``, ``reference``, ``mistakes``, ``hint``, ``solution``, ``why``,
        ``rtol``, ``atol``: see :class:`Question`. ``name`` is the variable's name.
    """

    def __init__(self, *, uses: Sequence[str] = (), **kwargs):
        super().__init__(**kwargs)
        self.uses = tuple(uses)
        bad = [n for n in self.uses if not n.isidentifier()]
        if bad:
            raise ValueError(f"uses must hold variable names; got {bad!r}.")

    def _grade(self, answer: Any, namespace: Mapping[str, Any]) -> Result:
        missing = [n for n in self.uses if n not in namespace]
        if missing:
            names = ", ".join(f"`{n}`" for n in missing)
            return self._unanswered(
                f"this question needs {names}, not defined yet: run the earlier cells first"
            )
        inputs = [namespace[n] for n in self.uses]

        def outcome(function: Callable) -> tuple[_Outcome]:
            try:
                with np.errstate(all="ignore"):
                    return (_Outcome(value=function(*copy.deepcopy(inputs))),)
            except Exception as error:
                return (_Outcome(error=error),)

        expected = outcome(self.reference)
        if expected[0].error is not None:
            raise RuntimeError(f"{self.label}: the reference raised {expected[0].error!r}") from (
                expected[0].error
            )
        return self._judge((Case(),), (_Outcome(value=answer),), expected, outcome)

    def _describe(self, c: Case) -> str:
        return f"`{self.name}`"

    def _correct_summary(self, n_cases: int) -> str:
        return f"`{self.name}` has the expected value."

    def _example(self, cases, got, expected, index) -> str:
        return (
            f"`{self.name}` should be {_show(expected[0].value)}, but it is {_show(got[0].value)}."
        )

    def _answer_from(self, implementation: Callable, namespace: Mapping[str, Any] | None) -> Any:
        if namespace is None:
            namespace = vars(sys.modules["__main__"])
        return implementation(*(namespace[n] for n in self.uses))


# --------------------------------------------------------------------------------------
# Learner code that never returns
# --------------------------------------------------------------------------------------


class _TimeLimitReached(BaseException):
    """Raised inside the learner's code by the alarm; a BaseException so that a learner's
    ``try: ... except Exception:`` inside the endless loop cannot swallow it."""


class _TimedOut(Exception):
    """Outcome of a call stopped by the time limit."""

    def __init__(self, seconds: float, stop: BaseException):
        super().__init__(f"did not finish within {seconds:g} seconds")
        self.seconds = seconds
        self.__traceback__ = stop.__traceback__


class _ExitCalled(Exception):
    """Outcome of a call that raised ``SystemExit`` (``sys.exit()``, ``exit()``, ``quit()``)."""

    def __init__(self, exit_call: SystemExit):
        super().__init__(f"sys.exit({exit_call.code!r}) was called")
        self.code = exit_call.code
        self.__traceback__ = exit_call.__traceback__


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise :class:`_TimeLimitReached` in the running code after ``seconds`` of wall time.

    Uses ``SIGALRM`` (a real-time interval timer), so it works only in the main thread on
    systems that have it (Linux, macOS: where Jupyter kernels run code); elsewhere no limit.
    A timer already running (the learner's own alarm) is restored afterwards.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def stop(signum, frame):
        raise _TimeLimitReached()

    previous_handler = signal.signal(signal.SIGALRM, stop)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer[0] > 0:
            signal.setitimer(signal.ITIMER_REAL, *previous_timer)


# --------------------------------------------------------------------------------------
# Comparing and showing answers
# --------------------------------------------------------------------------------------


def _changed_argument(function: Callable, c: Case, args: tuple, kwargs: dict) -> str | None:
    """The name of the first data argument of case ``c`` that ``function`` changed in place.

    ``args`` and ``kwargs`` are the copies the function was called with; the case keeps the
    originals. Only data containers are compared (NumPy arrays, sparse matrices, pandas
    objects, lists, dicts, sets): other objects may not define equality.
    """
    try:
        names = list(inspect.signature(function).bind(*c.args, **c.kwargs).arguments)
    except (TypeError, ValueError):
        names = [f"argument {i + 1}" for i in range(len(c.args))] + list(c.kwargs)
    before = list(c.args) + list(c.kwargs.values())
    after = list(args) + list(kwargs.values())
    for name, original, now in zip(names, before, after, strict=False):
        if _is_data(original) and not _unchanged(original, now):
            return name
    return None


def _is_data(value) -> bool:
    return isinstance(
        value, np.ndarray | list | dict | set | pd.DataFrame | pd.Series
    ) or sp.issparse(value)


def _unchanged(original, now) -> bool:
    """Exact equality of a data argument with its state before the call (NaN equals NaN)."""
    if isinstance(original, pd.DataFrame | pd.Series):
        return isinstance(now, type(original)) and original.equals(now)
    if isinstance(original, np.ndarray) and isinstance(now, np.ndarray):
        if original.dtype != now.dtype:
            return False
    return answers_match(original, now, rtol=0.0, atol=0.0, equal_nan=True)


def answers_match(
    expected: Any, got: Any, rtol: float = 1e-6, atol: float = 1e-9, equal_nan: bool = False
) -> bool:
    """Whether ``got`` equals ``expected``, with a tolerance for floating-point numbers.

    Numbers compare with ``|got - expected| <= atol + rtol * |expected|``; NumPy arrays and
    lists of numbers compare element-wise with the same shape; a SciPy sparse matrix equals a
    dense array or another sparse matrix holding the same values; tuples, lists and dicts
    compare item by item; sets compare as sets; anything else with ``==``. ``equal_nan``
    makes NaN equal NaN (used to recognise buggy implementations that return NaN).
    Never raises: values that cannot be compared do not match.
    """
    try:
        return _match(expected, got, rtol, atol, equal_nan)
    except Exception:
        return False


def _match(expected, got, rtol, atol, equal_nan) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if sp.issparse(expected) or sp.issparse(got):
        return _match_arrays(_dense(expected), _dense(got), rtol, atol, equal_nan)
    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        return _match_arrays(np.asarray(expected), np.asarray(got), rtol, atol, equal_nan)
    if _is_number(expected) and _is_number(got):
        if isinstance(expected, bool | np.bool_) != isinstance(got, bool | np.bool_):
            return False
        return _match_arrays(np.asarray(expected), np.asarray(got), rtol, atol, equal_nan)
    if isinstance(expected, Mapping):
        return (
            isinstance(got, Mapping)
            and set(expected) == set(got)
            and all(_match(expected[key], got[key], rtol, atol, equal_nan) for key in expected)
        )
    if isinstance(expected, set | frozenset):
        return isinstance(got, set | frozenset) and expected == got
    if isinstance(expected, list | tuple):
        return (
            isinstance(got, list | tuple)
            and len(expected) == len(got)
            and all(_match(e, g, rtol, atol, equal_nan) for e, g in zip(expected, got, strict=True))
        )
    return bool(expected == got)


def _match_arrays(expected: np.ndarray, got: np.ndarray, rtol, atol, equal_nan) -> bool:
    if expected.shape != got.shape:
        return False
    if _numeric(expected) and _numeric(got):
        return bool(np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=equal_nan))
    return bool(np.array_equal(expected, got))


def _numeric(array: np.ndarray) -> bool:
    return array.dtype.kind in "biufc"


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number | np.generic) and not isinstance(value, str | bytes)


def _dense(value) -> np.ndarray:
    return value.toarray() if sp.issparse(value) else np.asarray(value)


def _show(value: Any, limit: int = 160) -> str:
    """A short, deterministic rendering of a value for messages."""
    if sp.issparse(value):
        return f"<sparse matrix of shape {value.shape} with {value.nnz} stored values>"
    if isinstance(value, np.ndarray):
        text = "array(" + np.array2string(value, precision=6, separator=", ", threshold=24) + ")"
    elif isinstance(value, bool | np.bool_):
        text = str(bool(value))
    elif isinstance(value, numbers.Integral):
        text = str(int(value))
    elif isinstance(value, numbers.Real):
        text = f"{float(value):.6g}"
    elif isinstance(value, set | frozenset):
        items = sorted(value, key=repr) if not all(_is_number(v) for v in value) else sorted(value)
        text = "{" + ", ".join(_show(v) for v in items) + "}" if items else "set()"
    elif isinstance(value, list | tuple):
        inner = ", ".join(_show(v) for v in value)
        text = (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    elif callable(value):
        text = f"<function {getattr(value, '__name__', '?')}>"
    else:
        text = repr(value)
        if " at 0x" in text:  # default object repr: the address would make output non-deterministic
            text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _got(outcome: _Outcome) -> str:
    if outcome.error is not None:
        return f"yours raised {type(outcome.error).__name__}: {outcome.error}"
    return f"yours returned {_show(outcome.value)}"


def _non_finite_note(value: Any, expected: Any) -> str:
    """A note on nan/inf in the answer, unless the expected answer has them in the same places.

    An expected -inf (e.g. the score of an item already seen) is part of a correct answer,
    not a sign of a division by zero.
    """
    try:
        got = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return ""
    unexpected = ~np.isfinite(got)
    try:
        wanted = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        wanted = None
    if wanted is not None and wanted.shape == got.shape:
        unexpected &= ~((got == wanted) | (np.isnan(got) & np.isnan(wanted)))
    if not unexpected.any():
        return ""
    return (
        "\n  Your answer holds nan or inf: look for a division by zero (0/0, x/0, or "
        "log(1) = 0 in a denominator)."
    )


def _offending_line(error: Exception) -> str:
    """'line N: `code`' for the deepest frame of the learner's code, or ''."""
    frames = traceback.extract_tb(error.__traceback__)
    library = (
        os.path.dirname(os.path.abspath(__file__)),
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    )
    learner = [f for f in frames if not os.path.abspath(f.filename).startswith(library)]
    if not learner or not learner[-1].line:
        return ""
    return f"line {learner[-1].lineno}: `{learner[-1].line.strip()}`"
