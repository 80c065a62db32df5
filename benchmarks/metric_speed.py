"""How much faster are the vectorized metrics than a straightforward per-user Python loop?

Times :func:`recsys_lessons.metrics.ndcg_at_k` and :func:`~recsys_lessons.metrics.precision_at_k`
on 1,000,000 users x k=10 against a per-user loop written below, in the same process on the
same inputs: seeded random top-10 lists of distinct items over 10,000 items, and relevant sets
of 0 to 20 items, both drawn from a long-tailed popularity curve (so precision@10 is about 0.1,
as on real data). The inputs are a 2-D array of lists and a CSR matrix of relevant items; each
side does its own conversions inside the timing. Each side's time is the best of three runs.
Both must agree to within 1e-9 or the script fails.

When ``--loop-users`` is smaller than ``--users``, the loop runs on the first ``--loop-users``
users only and its time is extrapolated linearly to all users; the table and the JSON say so,
and the agreement check compares both sides on that subsample.

Run ``python -m benchmarks.metric_speed``. Prints a table and writes
``benchmarks/results/metric_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp

from recsys_lessons.metrics import ndcg_at_k, precision_at_k

RESULTS = Path(__file__).resolve().parent / "results" / "metric_speed.json"
TOLERANCE = 1e-9
REPEATS = 3


def ndcg_loop(recommended: np.ndarray, relevant: sp.csr_matrix, k: int) -> float:
    """nDCG@k the straightforward way: one user at a time, with Python sets."""
    total, n_evaluated = 0.0, 0
    for user in range(recommended.shape[0]):
        liked = set(relevant.indices[relevant.indptr[user] : relevant.indptr[user + 1]].tolist())
        if not liked:
            continue
        items = recommended[user, :k].tolist()
        dcg = sum(1 / math.log2(rank + 2) for rank, item in enumerate(items) if item in liked)
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(liked), k)))
        total += dcg / ideal
        n_evaluated += 1
    return total / n_evaluated


def precision_loop(recommended: np.ndarray, relevant: sp.csr_matrix, k: int) -> float:
    """Precision@k the straightforward way: one user at a time, with Python sets."""
    total, n_evaluated = 0.0, 0
    for user in range(recommended.shape[0]):
        liked = set(relevant.indices[relevant.indptr[user] : relevant.indptr[user + 1]].tolist())
        if not liked:
            continue
        total += sum(item in liked for item in recommended[user, :k].tolist()) / k
        n_evaluated += 1
    return total / n_evaluated


def make_inputs(n_users: int, n_items: int, k: int, seed: int):
    """Top-k lists of distinct items and CSR relevant sets, both from a long-tailed popularity."""
    rng = np.random.default_rng(seed)
    popularity = (np.arange(n_items) + 10.0) ** -1.5
    popularity /= popularity.sum()
    recommended = rng.choice(n_items, size=(n_users, k), p=popularity)
    while True:  # redraw the lists that picked an item twice until every list is distinct
        ordered = np.sort(recommended, axis=1)
        repeated = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
        if repeated.size == 0:
            break
        recommended[repeated] = rng.choice(n_items, size=(repeated.size, k), p=popularity)
    sizes = rng.integers(0, 21, size=n_users)
    items = rng.choice(n_items, size=int(sizes.sum()), p=popularity)
    indptr = np.concatenate(([0], np.cumsum(sizes)))
    relevant = sp.csr_matrix((np.ones(items.size), items, indptr), shape=(n_users, n_items))
    relevant.sum_duplicates()  # a repeated draw counts once, so set sizes vary a little more
    return recommended, relevant


def best_time(function, *args):
    """Smallest wall time of ``REPEATS`` calls, and the value returned."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        value = function(*args)
        times.append(time.perf_counter() - start)
    return min(times), value


def compare(name, vectorized, loop, recommended, relevant, k, loop_users) -> dict:
    """Time both implementations and check that they agree."""
    n_users = recommended.shape[0]
    vectorized_seconds, value = best_time(vectorized, recommended, relevant, k)
    sample = recommended[:loop_users], relevant[:loop_users]
    loop_seconds, loop_value = best_time(loop, *sample, k)
    reference = value if loop_users == n_users else vectorized(*sample, k)
    difference = abs(reference - loop_value)
    assert difference <= TOLERANCE, f"{name}: vectorized {reference!r} != loop {loop_value!r}"
    loop_seconds_all_users = loop_seconds * n_users / loop_users
    return {
        "metric": name,
        "value": value,
        "vectorized_seconds": vectorized_seconds,
        "loop_seconds": loop_seconds_all_users,
        "loop_users_timed": loop_users,
        "loop_seconds_extrapolated": loop_users < n_users,
        "speedup": loop_seconds_all_users / vectorized_seconds,
        "abs_difference": difference,
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--loop-users",
        type=int,
        default=None,
        help="time the loop on the first N users and extrapolate linearly (default: all users)",
    )
    args = parser.parse_args(argv)
    loop_users = min(args.loop_users or args.users, args.users)

    start = time.perf_counter()
    recommended, relevant = make_inputs(args.users, args.items, args.k, args.seed)
    users_with_relevant = int(np.count_nonzero(np.diff(relevant.indptr)))
    print(
        f"inputs: {args.users:,} users x k={args.k} over {args.items:,} items; "
        f"{relevant.nnz:,} relevant pairs; {users_with_relevant:,} users with a relevant item "
        f"(seed {args.seed}, generated in {time.perf_counter() - start:.1f} s)"
    )
    rows = [
        compare(name, vectorized, loop, recommended, relevant, args.k, loop_users)
        for name, vectorized, loop in (
            ("ndcg_at_k", ndcg_at_k, ndcg_loop),
            ("precision_at_k", precision_at_k, precision_loop),
        )
    ]

    loop_header = "loop s (extrapolated)" if loop_users < args.users else "loop s"
    print(f"\n{'metric':<16}{'value':>10}{'vectorized s':>15}{loop_header:>23}{'speed-up':>11}")
    for row in rows:
        print(
            f"{row['metric']:<16}{row['value']:>10.6f}{row['vectorized_seconds']:>15.3f}"
            f"{row['loop_seconds']:>23.3f}{row['speedup']:>10.1f}x"
        )
    if loop_users < args.users:
        print(f"loop timed on the first {loop_users:,} users and scaled linearly to {args.users:,}")
    print(f"seconds: best of {REPEATS} runs on each side; values agree to within {TOLERANCE:g}")

    result = {
        "benchmark": "vectorized metrics vs a straightforward per-user Python loop",
        "n_users": args.users,
        "n_items": args.items,
        "k": args.k,
        "seed": args.seed,
        "relevant_pairs": int(relevant.nnz),
        "users_with_relevant_items": users_with_relevant,
        "timing": f"best of {REPEATS} runs on each side, both in one process",
        "tolerance": TOLERANCE,
        "rows": rows,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "machine": platform.platform(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return result


if __name__ == "__main__":
    main()
