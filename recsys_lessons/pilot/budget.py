"""The pilot's tuning budget: how many grid points ("fits") each row may try.

The budget is counted in fits, not seconds, so the same command and seed give the same
tuned parameters, and the same ``results.json``, on a fast or a slow or a busy machine. One
fit is one grid point tried on the validation fold (for the hybrid, one weighting scored on
its components, which are fitted once).

**Allocation rule** (:func:`allot`): the rows are served in registry order. When a row's
turn comes, the fits not yet spent are shared among it and the rows still to come that will
be tuned (rows that will be skipped, or whose parameters are given, count for nothing), by
water-filling: a row whose grid is smaller than an equal share gets its whole grid, and what
it leaves is shared equally among the others; the division's remainder goes one fit each to
the earliest rows. The row takes its share; fits it leaves unused are carried forward. So a
budget of 24 fits over grids of 1, 6, 6, 4 and 15 points gives 1, 6, 6, 4 and 7: the small
grids run in full and the hybrid gets the rest.

The first grid point (the row's defaults) is always fitted, even when the share is 0 (a
budget smaller than the number of tuned rows): a row cannot be compared without one fit.

**Time limit** (optional, ``--time-limit`` seconds for the whole run): it can stop a grid
before its share is spent, or skip a row, planned from the run's own measurements
(:mod:`recsys_lessons.pilot.time_limit`). A grid it stopped is recorded with ``cut_by: "time
limit"`` (``budget.time_limit_cut``); the report says so.
"""

from __future__ import annotations

#: Logs up to this many interactions get :data:`FULL_GRIDS_FIT_BUDGET` fits by default, larger
#: ones :data:`LARGE_LOG_FIT_BUDGET` (:func:`default_fit_budget`).
SMALL_LOG_INTERACTIONS = 200_000
#: Enough fits for every grid in full, with item metadata (1 + 6 + 3 + 6 + 4 + 2 points and a
#: three-component hybrid's 15 = 37; without metadata 25).
FULL_GRIDS_FIT_BUDGET = 40
#: Sized on the 2M-event log of ``benchmarks/pilot.py`` (50,000 users x 20,000 items; EASE
#: and the hybrid skipped) so that the default run takes at most 5 minutes on 2 cores: with
#: 25 fits (all 17 grid points of popularity, item-kNN, ALS and BPR) it took 402 s of CPU,
#: tuning 231 s of it; with 6 fits (1, 2, 2, 1) 229 s.
LARGE_LOG_FIT_BUDGET = 6


def default_fit_budget(n_interactions: int) -> int:
    """The fit budget when none is given: every grid in full on a log of up to
    :data:`SMALL_LOG_INTERACTIONS` interactions (after cleaning), else
    :data:`LARGE_LOG_FIT_BUDGET`. It depends on the log only, never on the machine, so the
    default run is as reproducible as an explicit ``--fit-budget``."""
    if n_interactions <= SMALL_LOG_INTERACTIONS:
        return FULL_GRIDS_FIT_BUDGET
    return LARGE_LOG_FIT_BUDGET


def allot(sizes: list[int], budget: int) -> list[int]:
    """Water-filling shares of ``budget`` fits over grids of ``sizes`` points, in order.

    Parameters
    ----------
    sizes : list of int
        Grid points of each row still to be served, the current row first; 0 for a row
        that will not be tuned.
    budget : int
        Fits not yet spent (>= 0).

    Returns
    -------
    list of int
        Each row's share: ``min(size, level)`` for the largest ``level`` the budget pays
        for, plus one fit for the earliest rows above the level while the remainder lasts;
        the shares sum to ``min(budget, sum(sizes))``.

    Examples
    --------
    >>> allot([1, 6, 6, 4, 15], 24)
    [1, 6, 6, 4, 7]
    >>> allot([6, 6, 4], 10)
    [4, 3, 3]
    >>> allot([6, 0, 4], 100)
    [6, 0, 4]
    """
    shares = [0] * len(sizes)
    pending = [row for row, size in enumerate(sizes) if size > 0]
    remaining = budget
    while pending:
        level, extra = divmod(remaining, len(pending))
        full = [row for row in pending if sizes[row] <= level]
        if not full:
            for rank, row in enumerate(pending):
                shares[row] = level + (rank < extra)
            break
        for row in full:
            shares[row] = sizes[row]
            remaining -= sizes[row]
        pending = [row for row in pending if row not in full]
    return shares


class Budget:
    """The fits left, spent row by row (see the module docstring).

    Parameters
    ----------
    fits : int
        The fit budget, >= 1.
    """

    def __init__(self, fits: int):
        self.fits = fits
        self.remaining = fits
        #: row name -> {"grid_size", "allowed", "used", "cut_by"}
        self.rows: dict[str, dict] = {}

    def share(self, sizes: list[int]) -> int:
        """Fits the current row may try: ``sizes`` holds its grid size first, then those of
        the rows still to come (0 for rows that will not be tuned)."""
        return allot(sizes, self.remaining)[0]

    @staticmethod
    def may_try(tried: int, allowed: int) -> bool:
        """Whether a row that has tried ``tried`` points of its ``allowed`` starts another
        (the first point always)."""
        return tried == 0 or tried < allowed

    def record(self, name: str, grid_size: int, allowed: int, used: int) -> dict:
        """Spend ``used`` fits for row ``name``; return its record (also kept in :attr:`rows`).

        ``cut_by`` says what stopped the grid short: ``"fit budget"``, ``"time limit"`` (it
        stopped before the row's share was spent) or ``None`` (the whole grid was tried).
        """
        cut_by = None
        if used < grid_size:
            cut_by = "time limit" if used < max(1, allowed) else "fit budget"
        self.remaining = max(0, self.remaining - used)
        self.rows[name] = {
            "grid_size": grid_size, "allowed": allowed, "used": used, "cut_by": cut_by
        }  # fmt: skip
        return self.rows[name]

    def as_dict(self) -> dict:
        return {
            "fit_budget": self.fits,
            "fits_used": sum(row["used"] for row in self.rows.values()),
            "rows": self.rows,
            "grids_cut": [name for name, row in self.rows.items() if row["cut_by"]],
            "time_limit_cut": [
                name for name, row in self.rows.items() if row["cut_by"] == "time limit"
            ],
        }
