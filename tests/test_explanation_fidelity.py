"""Lesson 11: an explanation-fidelity test that can fail, and the loop's windows."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons.models import EASE, ItemKNN
from recsys_lessons.responsible import (
    because_you_watched,
    explanation_fidelity,
    first_and_last_days,
)


def _history_matrix(seed=2, shape=(60, 40), density=0.3):
    X = sp.random(*shape, density=density, random_state=seed, format="csr")
    X.data[:] = 1.0
    return X


def _explained(model, X, user=3):
    scores = model.score([user])[0]
    scores[X[user].indices] = -np.inf
    return int(np.argmax(scores))


def _contributions(model, X, user, item):
    """Every watched item's contribution, measured one removal at a time through the model."""
    watched = X[user].indices
    return watched, np.array(
        [explanation_fidelity(model, user, item, [i])["actual_drop"] for i in watched]
    )


@pytest.mark.parametrize("model", [ItemKNN(neighbors=10), EASE(regularization=5.0)])
def test_the_top_contributors_pass_the_rank_test_and_others_fail_it(model):
    X = _history_matrix()
    model.fit(X)
    user = 3
    item = _explained(model, X, user)
    watched, contributions = _contributions(model, X, user, item)
    order = np.argsort(-contributions, kind="stable")
    honest = explanation_fidelity(
        model, user, item, because_you_watched(model, user, item, n=2)["item"]
    )
    assert honest["cites_top_contributors"]
    np.testing.assert_array_equal(honest["cited_ranks"], [1, 2])
    # a made-up explanation (here: the two smallest contributions) passes the drop check ...
    made_up = explanation_fidelity(model, user, item, watched[order[-2:]])
    assert made_up["actual_drop"] == pytest.approx(made_up["claimed_drop"], abs=1e-9)
    # ... and fails the rank test, with its true ranks (ties share the better rank)
    assert not made_up["cites_top_contributors"]
    expected = [1 + (contributions > c + 1e-12).sum() for c in contributions[order[-2:]]]
    np.testing.assert_array_equal(made_up["cited_ranks"], expected)


@pytest.mark.parametrize("model", [ItemKNN(neighbors=10), EASE(regularization=5.0)])
def test_shares_are_the_part_of_the_score_the_citation_and_the_best_citation_explain(model):
    X = _history_matrix(seed=5)
    model.fit(X)
    user = 1
    item = _explained(model, X, user)
    watched, contributions = _contributions(model, X, user, item)
    score = float(model.score([user])[0, item])
    cited = watched[[0, 3, 4]]
    result = explanation_fidelity(model, user, item, cited)
    expected_share = contributions[[0, 3, 4]].sum() / score
    assert result["share_of_score"] == pytest.approx(expected_share)
    assert result["best_share"] == pytest.approx(np.sort(contributions)[::-1][:3].sum() / score)
    assert result["best_share"] >= result["share_of_score"] - 1e-12
    everything = explanation_fidelity(model, user, item, watched)
    assert everything["share_of_score"] == pytest.approx(1.0)
    assert everything["cites_top_contributors"]


def test_ties_share_the_better_rank_and_duplicates_count_once():
    # user 0 watched items 0 and 1; both are equally similar to item 2
    X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [1, 1, 1], [0, 0, 1.0]]))
    model = ItemKNN(neighbors=2).fit(X)
    result = explanation_fidelity(model, 0, 2, [1, 1])
    np.testing.assert_array_equal(result["cited_ranks"], [1])
    assert result["cites_top_contributors"]
    assert result["share_of_score"] == pytest.approx(0.5)


def test_an_unwatched_cited_item_ranks_behind_every_watched_item():
    X = _history_matrix(seed=4)
    model = ItemKNN(neighbors=10).fit(X)
    watched = X[0].indices
    unwatched = np.setdiff1d(np.arange(40), watched)
    result = explanation_fidelity(model, 0, int(unwatched[-1]), unwatched[:1])
    np.testing.assert_array_equal(result["cited_ranks"], [watched.size + 1])
    assert not result["cites_top_contributors"]


def test_fidelity_refuses_an_empty_or_out_of_range_citation():
    model = ItemKNN(neighbors=10).fit(_history_matrix())
    with pytest.raises(ValueError, match="at least one item"):
        explanation_fidelity(model, 0, 1, [])
    with pytest.raises(ValueError, match="item indices must lie in 0..39"):
        explanation_fidelity(model, 0, 1, [40])


def _loop_table(n_days=12):
    """A loop_metrics-shaped table: two groups per day with different visit counts."""
    rows = []
    for day in range(n_days):
        for group, visits, clicks in (("majority", 30, 0.1 * day), ("minority", 10, 1.0 + day)):
            rows.append((day, group, visits, clicks, 0.5 + 0.01 * day))
    return pd.DataFrame(rows, columns=["day", "group", "visits", "expected_clicks", "gini"])


def test_first_and_last_days_average_visit_weighted_daily_values():
    table = _loop_table()
    first, last = first_and_last_days(table, "gini", n_days=3)
    assert first == pytest.approx(0.51) and last == pytest.approx(0.60)  # days 0-2 and 9-11
    # per day: (30 * 0.1 d + 10 * (1 + d)) / 40 = 0.25 + 0.325 d, so means at d = 1 and d = 10
    first, last = first_and_last_days(table, "expected_clicks", n_days=3)
    assert first == pytest.approx(0.25 + 0.325) and last == pytest.approx(0.25 + 3.25)
    first, last = first_and_last_days(table, "expected_clicks", n_days=3, group="minority")
    assert first == pytest.approx(2.0) and last == pytest.approx(11.0)


def test_first_and_last_days_refuse_overlapping_windows_and_unknown_names():
    table = _loop_table(n_days=8)
    with pytest.raises(ValueError, match="too few for two windows"):
        first_and_last_days(table, "gini", n_days=5)
    with pytest.raises(ValueError, match="lacks columns"):
        first_and_last_days(table, "regret")
    with pytest.raises(ValueError, match="group 'indie' is not in the table"):
        first_and_last_days(table, "gini", n_days=2, group="indie")
