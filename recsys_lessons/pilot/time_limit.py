"""``--time-limit SECONDS``: the whole run within a stated time, planned from what it measured.

A run is load, protocol, then for each row its **tuning** (grid points fitted on the
validation fold's training part, ranking the tuning users) and its **test** (one fit on the
test fold's training part, ranking every user), then the **closing** phases: audit, choice,
the **refit** of the chosen row on the whole log (ranking every user with history),
profile, brief and writing. The clock starts with the command (before the log is loaded).

**Estimates**, all from this run's own measurements (seconds):

- a row's test, from the costliest fit ``f`` and ranking ``r`` among its tuning points:
  ``test = f * nnz_test / nnz_tuning + r * users_test / users_tuning`` (fit time grows with
  the training nonzeros, ranking time with the users ranked);
- a row's refit, from its test (measured once it ran, else estimated as above):
  ``refit = f_test * nnz_full / nnz_test + r_test * users_full / users_test``; the chosen row
  is not known before the end, so the reserve holds the costliest refit of the rows tested
  so far and the current one;
- a row not measured yet: the costliest row tested so far (one tuning point plus its test;
  every row ranks every user in its test, so a tested row is a floor of sorts). A row
  skipped before its test does not count: one outlier (EASE's item x item inversion) would
  otherwise price every later row out. A row far costlier than the estimate overruns by its
  first grid point at most, since rule 3 then skips its test;
- the other closing phases (audit, choice, profile, brief, writing): work over the log's
  tables like loading and the protocol, estimated as :data:`CLOSING_SECONDS` plus
  :data:`CLOSING_SHARE` times the seconds loading and the protocol took;
- every estimate is raised by :data:`SAFETY_MARGIN`.

**Rules** (:class:`TimeLimit`), with ``elapsed`` the seconds since the command started:

1. before a row starts (its first grid point, the defaults): skip it when ``elapsed`` plus
   the row (estimated as a row not measured yet), the costliest refit and the closing
   phases would pass the limit. Rows are served in order, so the earlier (simpler) rows get
   their defaults first;
2. before a further grid point: try it only when ``elapsed`` plus the point (the row's
   costliest so far) times the number of rows still sharing the spare time (this one and
   the later rows with a grid of more than one point) plus the **reserve** (this row's
   test, every later row as the costliest of the rows tested and this one, the costliest
   refit, the closing phases) stays within the limit: time for every later row's defaults
   is reserved before this row tries a further point;
3. after a row's tuning, before its test: skip the row when ``elapsed`` plus its test,
   the costliest refit and the closing phases would pass the limit (a row that proved far
   costlier than its estimate under rule 1 is caught here).

The popularity baseline (the verdict is read against it) and the first row are never
skipped: a run always compares something. When even they cannot fit, the run overruns and
says so. A run cut by the limit depends on the machine's speed; ``results.json`` records the
plan (``budget.time``: the limit, each decision with its numbers, the seconds per phase
group and the total) and the report states it. Without ``--time-limit`` none of this runs:
the budget in fits alone decides (:mod:`recsys_lessons.pilot.budget`).

The Spark rows (``--engine spark``) rank every user even while tuning, so scaling their
tuning ranking by ``users_test / users_tuning`` overestimates their test: the plan errs on
the early side for them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Every estimate is raised by this share before it is compared with the time left.
SAFETY_MARGIN = 0.1
#: The closing phases other than the refit: this many seconds (drawing the report's figures)
#: plus :data:`CLOSING_SHARE` x the seconds of loading and the protocol. On the generated logs
#: of ``benchmarks/pilot.py`` they took 1.1 s (0.1M events, 0.6 s of loading and protocol),
#: 4.0 s (0.5M, 3.8 s) and 9.8 s (2M, 44 s).
CLOSING_SECONDS = 2.0
CLOSING_SHARE = 0.25


@dataclass(frozen=True)
class FoldSizes:
    """What the estimates scale by: training nonzeros and users ranked in each phase.

    ``tuning``: the validation fold's training part and the tuning users it ranks;
    ``test``: the test fold's training part, all of whose rows are ranked; ``full``: the
    whole log's training matrix and its users with history (ranked by the refit).
    """

    tuning_nnz: int
    tuning_users: int
    test_nnz: int
    test_users: int
    full_nnz: int
    full_users: int


@dataclass(frozen=True)
class Cost:
    """Seconds of one fit and one ranking."""

    fit: float
    rank: float

    @property
    def total(self) -> float:
        return self.fit + self.rank

    def scaled(self, nnz_ratio: float, users_ratio: float) -> Cost:
        """The same work on other data: fit x ``nnz_ratio``, ranking x ``users_ratio``."""
        return Cost(self.fit * nnz_ratio, self.rank * users_ratio)


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator > 0 else 1.0


class TimeLimit:
    """Plans a run within ``limit`` seconds (the rules and estimates of the module docstring).

    Parameters
    ----------
    limit : float
        Seconds for the whole run, from ``started``.
    sizes : FoldSizes
        What the estimates scale by.
    clock : callable
        Returns seconds (``time.perf_counter`` in a run; tests pass a fake one).
    started : float
        ``clock()`` when the command started.
    """

    def __init__(self, limit: float, sizes: FoldSizes, clock, started: float):
        self.limit = limit
        self.sizes = sizes
        self.clock = clock
        self.started = started
        #: seconds of loading and the protocol (elapsed when the plan is made)
        self.setup_seconds = self.elapsed()
        self._points: dict[str, Cost] = {}  # row -> costliest fit and ranking among its points
        self._point_total: dict[str, float] = {}  # row -> costliest point (fit + ranking)
        self._tests: dict[str, Cost] = {}  # row -> measured test
        #: every decision the limit took: {"row", "action", "elapsed", "needed", "reason"}
        self.decisions: list[dict] = []
        self.skipped: dict[str, str] = {}  # row -> reason

    def elapsed(self) -> float:
        return self.clock() - self.started

    # ----- measurements ------------------------------------------------------------------

    def note_points(self, row: str, trials: list[dict]) -> None:
        """Record a row's tuning points (``fit_seconds``, ``recommend_seconds`` per trial)."""
        if not trials:
            return
        fits = [trial.get("fit_seconds", 0.0) for trial in trials]
        ranks = [trial.get("recommend_seconds", 0.0) for trial in trials]
        self._points[row] = Cost(max(fits), max(ranks))
        self._point_total[row] = max(f + r for f, r in zip(fits, ranks, strict=True))

    def note_test(self, row: str, fit_seconds: float, recommend_seconds: float) -> None:
        self._tests[row] = Cost(fit_seconds, recommend_seconds)

    # ----- estimates ---------------------------------------------------------------------

    def test_estimate(self, row: str) -> Cost:
        """The row's test: measured, else its tuning points scaled, else :meth:`unmeasured`."""
        if row in self._tests:
            return self._tests[row]
        if row in self._points:
            s = self.sizes
            return self._points[row].scaled(
                _ratio(s.test_nnz, s.tuning_nnz), _ratio(s.test_users, s.tuning_users)
            )
        return Cost(0.0, self.unmeasured())

    def refit_estimate(self, row: str) -> float:
        """The row's refit on the whole log, from its (measured or estimated) test."""
        s = self.sizes
        test = self.test_estimate(row)
        return test.scaled(_ratio(s.full_nnz, s.test_nnz), _ratio(s.full_users, s.test_users)).total

    def unmeasured(self) -> float:
        """A row not measured yet: the costliest tested row's point plus test."""
        return max(
            (self._point_total.get(row, 0.0) + test.total for row, test in self._tests.items()),
            default=0.0,
        )

    def closing(self) -> float:
        """The closing phases other than the refit."""
        return CLOSING_SECONDS + CLOSING_SHARE * self.setup_seconds

    def finish(self, rows: list[str]) -> float:
        """Seconds after ``rows``' tests: the costliest refit (of ``rows`` and the rows
        tested, the ones that can be chosen) plus the closing phases."""
        refits = [self.refit_estimate(row) for row in {*rows, *self._tests}]
        return max(refits, default=0.0) + self.closing()

    def reserve(self, row: str, later: list[str]) -> float:
        """What must stay free while ``row`` tunes: its test, each of the ``later`` rows as
        the costliest of the rows tested and this one (a point plus its test), the costliest
        refit and the closing phases, with the safety margin."""
        test = self.test_estimate(row).total
        later_row = max(self.unmeasured(), self._point_total.get(row, 0.0) + test)
        return (1 + SAFETY_MARGIN) * (test + len(later) * later_row + self.finish([row]))

    # ----- decisions ---------------------------------------------------------------------

    def may_start(self, row: str, protected: bool) -> bool:
        """Rule 1: whether ``row`` starts; ``protected`` rows (baseline, first) always do."""
        elapsed = self.elapsed()
        needed = (1 + SAFETY_MARGIN) * (self.unmeasured() + self.finish([]))
        if elapsed + needed <= self.limit or protected:
            return True
        reason = (
            f"the time limit: {elapsed:.1f} s of --time-limit {self.limit:g} s were spent and "
            f"its defaults with its test (about {self.unmeasured():.1f} s, as the costliest "
            "row tested so far) plus the refit and the report (about "
            f"{self.finish([]):.1f} s) would end past it."
        )
        self._decide(row, "skipped before tuning", elapsed, needed, reason)
        self.skipped[row] = reason
        return False

    def may_extend(self, row: str, later: list[str], sharing: int) -> bool:
        """Rule 2: whether ``row`` tries a further grid point; ``later`` are the rows still to
        come, ``sharing`` the rows that share the spare time (this one included)."""
        elapsed = self.elapsed()
        point = (1 + SAFETY_MARGIN) * self._point_total.get(row, 0.0)
        needed = sharing * point + self.reserve(row, later)
        if elapsed + needed <= self.limit:
            return True
        reason = (
            f"elapsed {elapsed:.0f} s + a further point (about {point:.0f} s, shared by "
            f"{sharing} row{'s' if sharing > 1 else ''}) + the reserve for its test, the later "
            f"rows, the refit and the report (about {self.reserve(row, later):.0f} s) > "
            f"--time-limit {self.limit:g} s."
        )
        self._decide(row, "tuning stopped", elapsed, needed, reason)
        return False

    def may_test(self, row: str, protected: bool) -> bool:
        """Rule 3: whether ``row``, tuned, is tested (``protected`` rows always are)."""
        elapsed = self.elapsed()
        test = self.test_estimate(row).total
        needed = (1 + SAFETY_MARGIN) * (test + self.finish([row]))
        if elapsed + needed <= self.limit or protected:
            return True
        reason = (
            f"the time limit: its defaults were tuned, but its test (about {test:.0f} s, from "
            f"its tuning fits scaled to the test fold) plus the refit and the report (about "
            f"{self.finish([row]):.0f} s) would end at about {elapsed + needed:.0f} s, past "
            f"--time-limit {self.limit:g} s."
        )
        self._decide(row, "skipped before its test", elapsed, needed, reason)
        self.skipped[row] = reason
        return False

    def _decide(self, row, action, elapsed, needed, reason) -> None:
        self.decisions.append(
            {"row": row, "action": action, "elapsed_seconds": elapsed,
             "needed_seconds": needed, "reason": reason}
        )  # fmt: skip

    def as_dict(self) -> dict:
        """The plan for ``results.json``'s ``budget.time`` (the total is added at the end,
        :func:`record_total`)."""
        return {
            "limit_seconds": self.limit,
            "setup_seconds": self.setup_seconds,
            "safety_margin": SAFETY_MARGIN,
            "decisions": self.decisions,
            "skipped": sorted(self.skipped),
            "estimated_closing_seconds": self.closing(),
            "test_estimate_seconds": {
                row: self.test_estimate(row).total for row in {*self._points, *self._tests}
            },
        }


def phase_groups(phase_seconds: dict[str, float]) -> dict[str, float]:
    """Seconds per group of phases: ``load``, ``protocol``, ``tuning``, ``test``, ``refit``
    and ``closing`` (audit, choice, profile, brief, writing); nested phases (``dedup`` within
    ``load``) are not counted twice."""
    groups = dict.fromkeys(("load", "protocol", "tuning", "test", "refit", "closing"), 0.0)
    for name, seconds in phase_seconds.items():
        group = name.split(" ")[0]
        if group == "dedup":
            continue
        groups[group if group in groups else "closing"] += seconds
    return groups


def record_total(results: dict, total_seconds: float, phase_seconds: dict[str, float]) -> None:
    """Write the run's total and phase groups into ``results`` (and, under a time limit,
    whether the run kept it) once every phase but the file writes has run."""
    results["total_seconds"] = total_seconds
    plan = results["budget"].get("time")
    if plan is not None:
        plan["total_seconds"] = total_seconds
        plan["phase_group_seconds"] = phase_groups(phase_seconds)
        plan["within_limit"] = total_seconds <= plan["limit_seconds"]
