"""Lesson 12's chooser and CLI: evidence from every results file, defaults shown."""

from __future__ import annotations

import argparse
import json

import pytest

from recsys_lessons.pilot.chooser import algorithm_chooser
from recsys_lessons.pilot.cli import build_parser

SESSIONS = "session-driven consumption (what next, now)"
FAIRNESS = "fairness constraints (groups of users, providers)"
SERVING = "real-time serving vs nightly batch"
TIED = "two strong models tied offline"


def _ndcg(mean, low, high):
    return {"mean": mean, "ci95": [low, high]}


def _with_interval(name, value, low, high):
    return {name: value, f"{name}_low": low, f"{name}_high": high}


def _write_results(folder, best_two_interval=(-0.004, 0.011)):
    row = {"ndcg@10_95ci_bootstrap_users": [0.1, 0.3], "fit_seconds": 2.0}
    models = ("Popularity", "Random", "ContentBased", "ItemKNN", "EASE", "ALS")
    ml100k = {
        "rows": [{**row, "model": name, "ndcg@10": 0.1 * (i + 1)} for i, name in enumerate(models)],
        "best_two_difference": {"models": ["ALS", "EASE"], "ndcg@10_difference": 0.0033,
                                "95ci_paired_bootstrap_users": list(best_two_interval)},
    }  # fmt: skip
    sequences = {
        "catalogues": [
            {"dataset": "synthetic", "users_evaluated": 5, "rows": []},
            {
                "dataset": "movielens-100k",
                "users_evaluated": 943,
                "rows": [
                    {"model": "ALS", "ndcg@10": _ndcg(0.0391, 0.0301, 0.0481)},
                    {"model": "Markov chain", "ndcg@10": _ndcg(0.0815, 0.0671, 0.0962)},
                ],
            },
        ]
    }
    tradeoff = {"method": "calibrated", **_with_interval("ndcg@10", 0.477, 0.471, 0.483)}
    audit = {
        "protocol": {"split_seeds": [0, 1, 2]},
        "movielens-100k": {
            "summary": [
                {"model": "EASE", "ndcg@10": 0.47,
                 **_with_interval("niche_minus_blockbuster_ndcg", 0.205, 0.188, 0.222)},
                {"model": "Popularity", "ndcg@10": 0.25,
                 **_with_interval("niche_minus_blockbuster_ndcg", 0.066, 0.049, 0.084)},
            ],
            "tradeoffs": [
                {**tradeoff, "strength": 0.0, **_with_interval("calibration_kl", 0.68, 0.67, 0.69)},
                {**tradeoff, "strength": 0.5, **_with_interval("calibration_kl", 0.41, 0.40, 0.42)},
                {"method": "mmr_genres", "strength": 0.5},
            ],
        },
    }  # fmt: skip
    hybrid = {"realtime_latency": {"n_items": 100000, "median_ms": 10.7, "p99_ms": 25.0,
                                   "requests": 200}}  # fmt: skip
    for name, data in [("movielens_100k.json", ml100k), ("sequences.json", sequences),
                       ("audit.json", audit), ("hybrid.json", hybrid)]:  # fmt: skip
        (folder / name).write_text(json.dumps(data))


def test_sessions_and_fairness_rows_read_their_benchmark_files(tmp_path):
    _write_results(tmp_path)
    evidence = algorithm_chooser(tmp_path)["measured evidence"]
    assert (
        "Markov chain nDCG@10 0.082 [0.067, 0.096] vs ALS 0.039 [0.030, 0.048]"
        in evidence[SESSIONS]
    )
    assert "943 users" in evidence[SESSIONS]
    assert (
        "EASE's nDCG@10 of niche minus blockbuster users 0.205 [0.188, 0.222]" in evidence[FAIRNESS]
    )
    assert "3 split seeds" in evidence[FAIRNESS]
    assert "0.680 [0.670, 0.690] -> 0.410 [0.400, 0.420]" in evidence[FAIRNESS]
    assert "median 11 ms, p99 25 ms" in evidence[SERVING]
    assert not evidence.str.contains("not measured").any()


def test_missing_files_say_what_to_run_and_which_lesson_to_read(tmp_path):
    evidence = algorithm_chooser(tmp_path)["measured evidence"]
    assert evidence[SESSIONS] == (
        "missing sequences.json: run `python -m benchmarks.sequences` to measure it, or read "
        "lesson 07"
    )
    assert "run `python -m benchmarks.audit`" in evidence[FAIRNESS]


def test_batch_versus_real_time_points_to_lesson_06():
    assert algorithm_chooser()["lesson"][SERVING] == "06"


def test_evidence_is_never_shortened():
    table = algorithm_chooser()
    assert not table["measured evidence"].str.contains("\\.\\.\\.|…").any()
    assert table["measured evidence"].str.len().max() > 120


@pytest.mark.parametrize(
    ("interval", "margin", "verdict"),
    [
        ((-0.004, 0.011), 0.02, "equivalent at margin 0.02"),
        ((-0.004, 0.011), 0.005, "inconclusive at margin 0.005"),
        ((0.03, 0.05), 0.02, "different at margin 0.02"),
    ],
)
def test_a_tie_is_read_against_the_margin_not_against_zero(tmp_path, interval, margin, verdict):
    _write_results(tmp_path, best_two_interval=interval)
    assert verdict in algorithm_chooser(tmp_path, margin=margin)["measured evidence"][TIED]


def test_a_margin_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="margin"):
        algorithm_chooser(tmp_path, margin=0)


def test_every_option_shows_its_default_in_the_help():
    parser = build_parser()
    help_text = " ".join(parser.format_help().split())
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert len(options) > 10
    for action in options:
        assert "(default: " in action.help, action.option_strings
        if action.default not in (None, False, argparse.SUPPRESS):
            shown = f"(default: {action.default})"
            assert shown in help_text, f"{action.option_strings[0]} does not show {shown}"
