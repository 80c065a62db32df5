"""Tests of recsys_lessons.responsible.audit: hand-computed fixtures and properties."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons import metrics
from recsys_lessons.evaluation import bootstrap_interval, unpaired_bootstrap_interval
from recsys_lessons.responsible import audit


def csr(rows, n_items):
    """CSR pattern from a list of item lists."""
    data = [(u, i) for u, items in enumerate(rows) for i in items]
    users, items = zip(*data, strict=True)
    return sp.csr_matrix((np.ones(len(users)), (users, items)), shape=(len(rows), n_items))


def test_head_items_takes_the_most_popular_share_with_ties_to_lower_index():
    popularity = np.array([5, 1, 5, 3, 0, 2, 2, 2, 9, 1])
    # ceil(0.2 * 10) = 2 items: 8 (9) then item 0 (5, lower index than 2)
    np.testing.assert_array_equal(np.flatnonzero(audit.head_items(popularity, 0.2)), [0, 8])
    assert audit.head_items(popularity, 0.25).sum() == 3  # ceil(2.5)


def test_aplt_and_long_tail_exposure_by_hand():
    head = np.array([True, True, False, False, False])
    recommended = np.array([[0, 2, 3], [1, 0, 4]])
    # user 0: 2 of 3 in the tail, user 1: 1 of 3
    assert audit.average_percentage_long_tail(recommended, head, k=3) == pytest.approx(0.5)
    np.testing.assert_allclose(
        audit.average_percentage_long_tail(recommended, head, k=3, per_user=True), [2 / 3, 1 / 3]
    )
    a = 1 / np.log2([2, 3, 4])
    expected = (a[1] + a[2] + a[2]) / (2 * a.sum())
    assert audit.long_tail_exposure(recommended, head, k=3) == pytest.approx(expected)


def test_mainstream_groups_split_20_60_20_by_head_share():
    head = np.array([True, False, False, False])
    # head shares: 1.0, 0.5, 0.0, 1/3, 0.25, 0.5, 1.0, 0.0, 0.5, 0.5
    histories = csr(
        [[0], [0, 1], [2], [0, 1, 2], [0, 1, 2, 3], [0, 3], [0], [1, 3], [0, 2], [0, 1]], 4
    )
    groups = audit.mainstream_groups(histories, head)
    # niche: the two with share 0 (users 2, 7); blockbuster: the two with share 1 (0, 6)
    assert set(np.flatnonzero(groups == "niche")) == {2, 7}
    assert set(np.flatnonzero(groups == "blockbuster")) == {0, 6}
    assert (groups == "diverse").sum() == 6


def test_popularity_lift_by_hand():
    popularity = np.array([10.0, 4.0, 2.0, 1.0])
    histories = csr([[2, 3], [0, 1]], 4)
    recommended = np.array([[0, 1], [2, 3]])
    # user 0: profile (2 + 1) / 2 = 1.5, list 7 -> lift 7 / 1.5 - 1; user 1: 7 -> 1.5
    lift = audit.popularity_lift(recommended, histories, popularity, k=2, per_user=True)
    np.testing.assert_allclose(lift, [7 / 1.5 - 1, 1.5 / 7 - 1])


def test_popularity_miscalibration_is_js_divergence_base_2():
    head = np.array([True, False, False, False])
    histories = csr([[0, 1], [1, 2]], 4)
    recommended = np.array([[0, 3], [0, 3]])
    js = audit.popularity_miscalibration(recommended, histories, head, k=2, per_user=True)
    # user 0: p = q = (0.5, 0.5) -> 0; user 1: p = (0, 1), q = (0.5, 0.5), m = (0.25, 0.75)
    m = np.array([0.25, 0.75])
    expected = 0.5 * np.log2(1 / 0.75) + 0.5 * (
        0.5 * np.log2(0.5 / 0.25) + 0.5 * np.log2(0.5 / 0.75)
    )
    np.testing.assert_allclose(js, [0.0, expected])
    assert 0 < js[1] <= 1 and m.sum() == 1


def test_group_gap_means_intervals_and_gap_sign():
    values = np.array([1.0, 0.8, 0.9, np.nan, 0.2, 0.1, 0.3, 0.4])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    table = audit.group_gap(values, groups, n_resamples=500, seed=1)
    assert table["group"].tolist() == ["a", "b"]
    assert table["n_users"].tolist() == [3, 4]  # the NaN user is left out
    np.testing.assert_allclose(table["mean"], [0.9, 0.25])
    expected = bootstrap_interval([1.0, 0.8, 0.9], 500, seed=1)
    assert table.loc[0, "low"] == pytest.approx(expected.low)
    assert table.loc[0, "high"] == pytest.approx(expected.high)
    assert table.loc[0, "gap"] == 0 and table.loc[1, "gap"] == pytest.approx(-0.65)
    assert table.loc[1, "gap_low"] < -0.65 < table.loc[1, "gap_high"] < 0
    gap = unpaired_bootstrap_interval([0.2, 0.1, 0.3, 0.4], [1.0, 0.8, 0.9], 500, seed=1)
    assert (table.loc[1, "gap_low"], table.loc[1, "gap_high"]) == (gap.low, gap.high)


def test_the_best_groups_gap_interval_is_exactly_zero():
    # the best group's gap is 0 by definition; resampling it twice gave about [-0.35, +0.35]
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.random(30), rng.random(30) * 0.5])
    groups = np.repeat(["high", "low"], 30)
    table = audit.group_gap(values, groups, n_resamples=500, seed=3).set_index("group")
    assert table.loc["high", ["gap", "gap_low", "gap_high"]].tolist() == [0.0, 0.0, 0.0]
    assert table.loc["low", "gap_low"] < table.loc["low", "gap"] < table.loc["low", "gap_high"]


def test_group_gap_refuses_a_single_group_and_mismatched_lengths():
    with pytest.raises(ValueError, match="two groups"):
        audit.group_gap([0.1, 0.2, 0.3], ["a", "a", "a"])
    with pytest.raises(ValueError, match="same user order"):
        audit.group_gap([0.1, 0.2], ["a", "b", "b"])


def test_exposure_by_group_discounts_positions():
    recommended = np.array([[0, 1], [0, 2]])
    groups = np.array(["studio", "indie", "indie", "indie"])
    relevant = csr([[1], [2, 3]], 4)
    table = audit.exposure_by_group(recommended, groups, relevant, k=2).set_index("group")
    a1, a2 = 1.0, 1 / np.log2(3)
    assert table.loc["studio", "exposure_share"] == pytest.approx(2 * a1 / (2 * a1 + 2 * a2))
    assert table.loc["studio", "slot_share"] == pytest.approx(0.5)
    assert table.loc["indie", "catalogue_share"] == pytest.approx(0.75)
    assert table.loc["indie", "relevant_share"] == pytest.approx(1.0)
    assert table["exposure_share"].sum() == pytest.approx(1.0)


def test_calibration_kl_matches_steck_by_hand():
    # genres: item 0 = {A}, item 1 = {A, B}, item 2 = {B}, item 3 = {C}
    genres = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]])
    histories = csr([[0, 1]], 4)  # p = ((1 + 0.5) / 2, 0.5 / 2, 0) = (0.75, 0.25, 0)
    recommended = np.array([[2, 3]])  # q = (0, 0.5, 0.5)
    alpha = 0.01
    p = np.array([0.75, 0.25, 0.0])
    q = np.array([0.0, 0.5, 0.5])
    smoothed = (1 - alpha) * q + alpha * p
    expected = 0.75 * np.log(0.75 / smoothed[0]) + 0.25 * np.log(0.25 / smoothed[1])
    got = audit.calibration_kl(recommended, histories, genres, alpha=alpha, k=2)
    np.testing.assert_allclose(got, [expected])


def test_calibration_kl_is_zero_for_a_perfectly_calibrated_list_and_positive_otherwise():
    genres = sp.csr_matrix(np.eye(4))
    histories = csr([[0, 1], [0, 0 + 2]], 4)
    recommended = np.array([[2, 3], [0, 0 + 1]])
    kl = audit.calibration_kl(np.array([[0, 1], [0, 2]]), histories, genres, k=2)
    np.testing.assert_allclose(kl, [0.0, 0.0], atol=1e-12)
    assert (audit.calibration_kl(recommended, histories, genres, k=2) > 0).all()


def test_calibration_kl_refuses_items_without_genre():
    genres = np.array([[1, 0], [0, 0]])
    with pytest.raises(ValueError, match="no genre"):
        audit.calibration_kl(np.array([[1]]), csr([[0]], 2), genres, k=1)


def test_homogenization_exact_from_counts():
    same = np.array([[0, 1], [0, 1], [0, 1]])
    assert audit.homogenization(same, k=2) == pytest.approx(1.0)
    disjoint = np.array([[0, 1], [2, 3], [4, 5]])
    assert audit.homogenization(disjoint, k=2) == 0.0
    lists = np.array([[0, 1], [0, 2], [3, 4]])
    # pairs: (0,1) share 1 of 2, (0,2) 0, (1,2) 0 -> mean 1/6
    assert audit.homogenization(lists, k=2) == pytest.approx(1 / 6)


def test_audit_report_is_tidy_and_consistent_with_the_helpers():
    rng = np.random.default_rng(0)
    n_users, n_items = 40, 30
    train = sp.random(n_users, n_items, density=0.3, random_state=1, format="csr")
    train.data[:] = 1
    test = sp.random(n_users, n_items, density=0.1, random_state=2, format="csr")
    lists = np.argsort(rng.random((n_users, n_items)), axis=1)[:, :10]
    genres = np.eye(n_items)[:, :5] + np.eye(n_items)[:, 5:10]
    genres[:, 0] += np.arange(n_items) >= 10
    report = audit.audit_report(
        {"random": lists},
        train,
        test,
        item_genres=genres,
        user_groups={"half": np.repeat(["x", "y"], n_users // 2)},
        item_groups=np.where(np.arange(n_items) < 10, "studio", "independent"),
        n_resamples=200,
    )
    assert list(report.columns) == ["model", "metric", "grouping", "group", "value", "low", "high"]
    overall = report[report["grouping"] == "all"].set_index("metric")
    popularity = train.getnnz(axis=0)
    head = audit.head_items(popularity, 0.2)
    ndcg = metrics.ndcg_at_k(lists, test, k=10, per_user=True)
    expected = {
        "ndcg@10": np.nanmean(ndcg),
        "arp": metrics.average_recommendation_popularity(lists, popularity, k=10),
        "aplt": audit.average_percentage_long_tail(lists, head, k=10),
        "long_tail_exposure": audit.long_tail_exposure(lists, head, k=10),
        "coverage": metrics.catalog_coverage(lists, n_items, k=10),
        "gini": metrics.gini_index(lists, n_items, k=10),
        "popularity_lift": audit.popularity_lift(lists, train, popularity, k=10),
        "popularity_miscalibration": audit.popularity_miscalibration(lists, train, head, k=10),
        "calibration_kl": audit.calibration_kl(lists, train, genres, k=10).mean(),
    }
    assert sorted(overall.index) == sorted(expected)  # every overall figure is cross-checked
    for metric, value in expected.items():
        assert overall.loc[metric, "value"] == pytest.approx(value), metric
    ndcg_interval = bootstrap_interval(ndcg[~np.isnan(ndcg)], 200, seed=0)
    assert overall.loc["ndcg@10", ["low", "high"]].tolist() == pytest.approx(
        [ndcg_interval.low, ndcg_interval.high]
    )
    kl_interval = bootstrap_interval(audit.calibration_kl(lists, train, genres, k=10), 200, seed=0)
    assert overall.loc["calibration_kl", ["low", "high"]].tolist() == pytest.approx(
        [kl_interval.low, kl_interval.high]
    )
    assert overall.drop(["ndcg@10", "calibration_kl"])[["low", "high"]].isna().all().all()
    assert set(report.loc[report["grouping"] == "mainstream", "group"]) == set(
        audit.MAINSTREAM_GROUPS
    )
    assert {"calibration_kl", "aplt", "ndcg_gap", "exposure_share"} <= set(report["metric"])
    shares = report[report["metric"] == "exposure_share"]["value"]
    assert shares.sum() == pytest.approx(1.0)
    assert isinstance(report, pd.DataFrame)


def test_plot_report_draws_one_panel_per_metric_and_refuses_unknown_metrics():
    import matplotlib

    matplotlib.use("Agg")
    train = sp.random(30, 20, density=0.3, random_state=3, format="csr")
    test = sp.random(30, 20, density=0.1, random_state=4, format="csr")
    lists = np.argsort(np.random.default_rng(5).random((30, 20)), axis=1)[:, :2]
    report = audit.audit_report(
        {"m": lists, "n": lists[:, ::-1]}, train, test, k=2, n_resamples=100
    )
    fig = audit.plot_report(report, ("ndcg@2", "gini"))
    assert len(fig.axes) == 2 and fig.axes[0].get_xlabel() == "ndcg@2"
    with pytest.raises(ValueError, match="no overall"):
        audit.plot_report(report, ("calibration_kl",))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: audit.head_items([3, 1, 2], 1.5), "head_share"),
        (lambda: audit.average_percentage_long_tail([[0, 1]], [1, 0, 0], k=2), "boolean mask"),
        (
            lambda: audit.exposure_by_group([[0, 5]], np.array(["a", "b"]), k=2),
            "catalogue has only",
        ),
        (
            lambda: audit.calibration_kl([[0]], csr([[0]], 1), np.ones((1, 1)), alpha=0.0, k=1),
            "alpha",
        ),
        (lambda: audit.popularity_lift([[0, 1]], np.eye(2), [1, 2], k=2), "sparse"),
        (lambda: audit.homogenization([[0, 1]], k=2), "two lists"),
        (
            lambda: audit.mainstream_groups(
                csr([[0], [1]], 2), np.array([True, False]), (0.6, 0.5)
            ),
            "shares",
        ),
    ],
)
def test_bad_input_raises_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
