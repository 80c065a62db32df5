"""Progress of a pilot run: every phase says when it starts and ends, with elapsed time.

A run is a sequence of named phases (``load``, ``dedup``, ``protocol``, ``tuning <row>``,
``test <row>``, ``audit``, ``refit <row>``, ``writing``, ...). :class:`Progress` reports them
on standard error in one of two forms:

- **plain lines** when the stream is not a terminal (a redirected log, a CI job, a notebook
  cell): one line when a phase starts and one when it ends, each stamped with the seconds
  since the run started, e.g. ::

      [   12.4 s] tuning als: start (6 fits)
      [   80.1 s] tuning als: done, 6/6 fits in 67.7 s

  and nothing else: no carriage return, no ANSI escape sequence, so the log reads cleanly;
- a **tqdm bar** per phase when the stream is a terminal (fits done/total for tuning).

Phases may nest (``load`` holds ``dedup``); a phase's seconds include its nested phases.
``enabled=False`` (``--quiet``) prints nothing; the phase durations are recorded either way
(:attr:`Progress.seconds`, written to ``results.json`` as ``phase_seconds``), with the CPU
time of this process in each (:attr:`Progress.cpu_seconds`; on a machine shared with other
jobs, the wall time grows with the load and the CPU time much less). :meth:`Progress.note`
prints a stamped line of its own (the time limit's plan and decisions). The reporter's
``clock`` is the run's clock (the time limit reads it; tests pass a fake one).
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from tqdm.auto import tqdm


class Progress:
    """Phase reporter: ``with progress.phase("audit"): ...``; ``step()`` counts a unit.

    Parameters
    ----------
    enabled : bool
        Report at all (``False``: silent, durations still recorded).
    stream : file-like, optional
        Where to report (default: ``sys.stderr`` at the time of each line).
    clock : callable, optional
        Seconds (default ``time.perf_counter``); the run's time limit reads the same clock.
    """

    def __init__(self, enabled: bool = True, stream=None, clock=time.perf_counter):
        self.enabled = enabled
        self._stream = stream
        self.clock = clock
        self.started = clock()
        #: phase name -> seconds, in the order the phases ended
        self.seconds: dict[str, float] = {}
        #: phase name -> CPU seconds of this process (``time.process_time``)
        self.cpu_seconds: dict[str, float] = {}
        self._open: list[dict] = []  # the phases running, innermost last

    @property
    def stream(self):
        return sys.stderr if self._stream is None else self._stream

    @property
    def terminal(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    @contextmanager
    def phase(self, name: str, total: int | None = None, unit: str = "fits"):
        """Report ``name`` while the block runs; ``total`` units when it counts them."""
        current = {"started": self.clock(), "cpu": time.process_time(), "done": 0}
        current["bar"] = None
        if self.enabled and self.terminal:
            current["bar"] = tqdm(
                total=total, desc=name, unit=unit.rstrip("s"), file=self.stream,
                position=len(self._open),
            )  # fmt: skip
        elif self.enabled:
            self._line(f"{name}: start" + (f" ({total} {unit})" if total is not None else ""))
        self._open.append(current)
        try:
            yield self
        finally:
            self._open.pop()
            elapsed = self.clock() - current["started"]
            self.seconds[name] = elapsed
            self.cpu_seconds[name] = time.process_time() - current["cpu"]
            if current["bar"] is not None:
                current["bar"].close()
            elif self.enabled:
                counted = f", {current['done']}/{total} {unit}" if total is not None else ""
                self._line(f"{name}: done{counted} in {elapsed:.1f} s")

    def step(self, n: int = 1) -> None:
        """Count ``n`` units of the innermost phase (a fit tried, a weighting scored)."""
        current = self._open[-1]
        current["done"] += n
        if current["bar"] is not None:
            current["bar"].update(n)

    def elapsed(self) -> float:
        """Seconds since the reporter (the run) started."""
        return self.clock() - self.started

    def note(self, text: str) -> None:
        """A stamped line of its own (not a phase), unless ``enabled`` is false."""
        if not self.enabled:
            return
        if self.terminal:
            tqdm.write(text, file=self.stream)
        else:
            self._line(text)

    def _line(self, text: str) -> None:
        print(f"[{self.elapsed():9.1f} s] {text}", file=self.stream, flush=True)
