"""Issue 23, section 2: bad input to hybrid, sequences, cold start and responsible helpers.

Every case either raises ``ValueError`` naming the argument (and what to do) or warns
visibly; none returns a silent wrong answer or a raw numpy / pandas / LightGBM error.
Grouped by family, as the issue lists them.
"""

from __future__ import annotations

import types
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons.coldstart import item_entropy, segment_labels
from recsys_lessons.hybrid import (
    BatchTable,
    LearnedRanker,
    LinearBlend,
    apply_business_rules,
    candidate_features,
    days_before,
    decay,
    freshness_boost,
    label_candidates,
    latency_ms,
    rank_candidates,
    trending_scores,
    tune_weights,
    weight_grid,
)
from recsys_lessons.models import Popularity, als_fold_in
from recsys_lessons.responsible import audit_report, calibrated_rerank, loop_metrics, xquad_rerank
from recsys_lessons.sequences import (
    MarkovChain,
    ShortLongBlend,
    build_sequences,
    choose_blend_weight,
    evaluate_next_item,
    next_item_split,
    watch_time_weights,
)

# --------------------------------------------------------------------------------------
# Small inputs shared by the cases
# --------------------------------------------------------------------------------------

ITEMS = np.array([[0, 1, 2], [1, 2, 3]])
SCORES = np.array([[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]])
HISTORIES = sp.csr_matrix(np.array([[1, 0, 0, 1], [0, 1, 1, 0]], dtype=float))
GENRES = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
CANDIDATES = pd.DataFrame({"user": [0, 0, 1, 1], "item": [0, 1, 0, 1]})
X = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]], dtype=np.float32))


def _events(timestamps=None) -> pd.DataFrame:
    """Three users with a few events each, seconds apart (one session per user)."""
    users = [1, 1, 1, 2, 2, 2, 3, 3]
    items = [10, 11, 12, 11, 12, 13, 10, 13]
    seconds = np.arange(len(users)) * 60 + 1_000_000_000 if timestamps is None else timestamps
    return pd.DataFrame({"user_id": users, "item_id": items, "timestamp": seconds})


def _sequences():
    return build_sequences(_events())


def _features() -> pd.DataFrame:
    return pd.DataFrame(
        {"user": [0, 0, 0, 1, 1, 1], "item": [0, 1, 2, 0, 1, 2], "f": [0.1, 0.5, 0.9] * 2}
    )


LABELS = np.array([0, 1, 0, 1, 0, 0])


def _raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------
# NaN or inf flowing into results
# --------------------------------------------------------------------------------------

NAN_INF = {
    "freshness_boost weight=nan": (
        lambda: freshness_boost(SCORES, np.ones(3), float("nan")),
        "weight must be a finite number",
    ),
    "freshness_boost weight=inf": (
        lambda: freshness_boost(SCORES, np.ones(3), float("inf")),
        "weight must be a finite number",
    ),
    "freshness_boost signal with NaN": (
        lambda: freshness_boost(SCORES, [1.0, np.nan, 0.0], 0.5),
        "signal holds NaN",
    ),
    "decay of a NaN age": (lambda: decay([1.0, np.nan], 10.0), "age_days holds NaN"),
    "rank_candidates on all-NaN scores": (
        lambda: rank_candidates(CANDIDATES, [np.nan] * 4, k=2),
        "scores hold 4 NaN",
    ),
    "watch_time_weights with NaN minutes": (
        lambda: watch_time_weights([True, False], [np.nan, 0.0]),
        "minutes holds NaN",
    ),
    "als_fold_in NaN history": (
        lambda: als_fold_in(np.eye(3), sp.csr_matrix([[np.nan, 1.0, 0.0]]), 1.0, 1.0),
        "history holds NaN",
    ),
    "als_fold_in NaN item factors": (
        lambda: als_fold_in(np.full((3, 2), np.nan), sp.csr_matrix([[1.0, 0, 0]]), 1.0, 1.0),
        "item_factors holds NaN",
    ),
    "LinearBlend NaN weight": (
        lambda: LinearBlend({"pop": Popularity()}, {"pop": float("nan")}).fit(X),
        r"weights\['pop'\] must be a finite number",
    ),
    "xquad NaN preference": (
        lambda: xquad_rerank(ITEMS, SCORES, [0, 1, 0, 1], [[np.nan, 1.0]], k=2),
        "preference holds NaN",
    ),
    "item_entropy NaN rating": (
        lambda: item_entropy(sp.csr_matrix([[np.nan, 1.0], [2.0, 3.0]])),
        "R holds NaN",
    ),
}


@pytest.mark.parametrize("case", NAN_INF, ids=list(NAN_INF))
def test_nan_and_inf_are_refused(case):
    call, match = NAN_INF[case]
    _raises(call, match)


# --------------------------------------------------------------------------------------
# Sizes: zero, negative, fractional
# --------------------------------------------------------------------------------------

SIZES = {
    "rank_candidates k=0": (lambda: rank_candidates(CANDIDATES, [1.0, 2, 3, 4], k=0), "k must"),
    "rank_candidates k=1.5": (
        lambda: rank_candidates(CANDIDATES, [1.0, 2, 3, 4], k=1.5),
        "k must",
    ),
    "BatchTable.lookup k=0": (
        lambda: BatchTable(n=2).build(Popularity().fit(X), [0, 1]).lookup(0, k=0),
        "k must",
    ),
    "BatchTable n=0": (lambda: BatchTable(n=0).build(Popularity().fit(X), [0, 1]), "n must"),
    "weight_grid step=-0.5": (lambda: weight_grid(["a", "b"], step=-0.5), "step must"),
    "weight_grid step=0": (lambda: weight_grid(["a", "b"], step=0), "step must"),
    "weight_grid step=2": (lambda: weight_grid(["a", "b"], step=2), "step must"),
    "tune_weights k=0": (
        lambda: tune_weights({"a": SCORES}, sp.csr_matrix(np.eye(2, 3)), [{"a": 1.0}], k=0),
        "k must",
    ),
    "latency_ms repeats=0": (lambda: latency_ms(len, [[1]], repeats=0), "repeats must"),
    "choose_blend_weight k=0": (
        lambda: choose_blend_weight(ShortLongBlend(Popularity(), MarkovChain()), _sequences(), k=0),
        "k must",
    ),
    "evaluate_next_item k=2.0": (
        lambda: evaluate_next_item(
            MarkovChain().fit(next_item_split(_sequences())[0]),
            *next_item_split(_sequences())[:2],
            k=2.0,
        ),
        "k must",
    ),
}


@pytest.mark.parametrize("case", SIZES, ids=list(SIZES))
def test_bad_sizes_are_refused(case):
    call, match = SIZES[case]
    _raises(call, match)


# --------------------------------------------------------------------------------------
# Documented ranges
# --------------------------------------------------------------------------------------

RANGES = {
    "calibrated_rerank alpha=0": (
        lambda: calibrated_rerank(ITEMS, SCORES, HISTORIES, GENRES, k=2, alpha=0),
        "alpha",
    ),
    "calibrated_rerank alpha=1.5": (
        lambda: calibrated_rerank(ITEMS, SCORES, HISTORIES, GENRES, k=2, alpha=1.5),
        "alpha",
    ),
    "choose_blend_weight weights 1.5 and 2": (
        lambda: choose_blend_weight(
            ShortLongBlend(Popularity(), MarkovChain()), _sequences(), weights=[0.5, 1.5, 2]
        ),
        r"weights must be a non-empty list of shares in \[0, 1\]",
    ),
    "choose_blend_weight negative weight": (
        lambda: choose_blend_weight(
            ShortLongBlend(Popularity(), MarkovChain()), _sequences(), weights=[-0.5, 0.5]
        ),
        "weights must be >= 0",
    ),
    "xquad negative preference": (
        lambda: xquad_rerank(ITEMS, SCORES, [0, 1, 0, 1], [[-1.0, 2.0]], k=2),
        "preference must be >= 0",
    ),
    "segment_labels unsorted age edges": (
        lambda: segment_labels(pd.DataFrame({"age": [20, 40]}), "age", age_edges=(35, 25)),
        "age_edges must be increasing",
    ),
    "segment_labels empty age edges": (
        lambda: segment_labels(pd.DataFrame({"age": [20, 40]}), "age", age_edges=()),
        "age_edges must be increasing",
    ),
    "watch_time_weights negative minutes": (
        lambda: watch_time_weights([True, False], [-3.0, 0.0]),
        "minutes must be >= 0",
    ),
    "decay half_life=0": (lambda: decay([1.0], 0), "half_life"),
}


@pytest.mark.parametrize("case", RANGES, ids=list(RANGES))
def test_documented_ranges_are_enforced(case):
    call, match = RANGES[case]
    _raises(call, match)


# --------------------------------------------------------------------------------------
# Degenerate samples reported as results
# --------------------------------------------------------------------------------------

DEGENERATE = {
    "audit_report({})": (
        lambda: audit_report({}, HISTORIES, HISTORIES),
        "recommendations must be a non-empty dict",
    ),
    "next_item_split with no usable sequence": (
        lambda: next_item_split(build_sequences(_events().drop_duplicates("user_id"))),
        "no sequence has more than min_history=1 events",
    ),
    "LinearBlend with every weight 0": (
        lambda: LinearBlend({"pop": Popularity()}, {"pop": 0.0}).fit(X),
        "every weight is 0",
    ),
    "LearnedRanker with every label 1": (
        lambda: LearnedRanker(kind="pointwise").fit(_features(), np.ones(6), ["f"]),
        "every candidate is labelled relevant",
    ),
}


@pytest.mark.parametrize("case", DEGENERATE, ids=list(DEGENERATE))
def test_degenerate_samples_are_refused(case):
    call, match = DEGENERATE[case]
    _raises(call, match)


# --------------------------------------------------------------------------------------
# Data problems that need a notice (a warning) or a refusal
# --------------------------------------------------------------------------------------


def test_build_sequences_warns_on_duplicated_rows():
    events = _events()
    doubled = pd.concat([events, events.iloc[:2]], ignore_index=True)
    with pytest.warns(UserWarning, match="2 rows repeat the"):
        build_sequences(doubled)


def test_build_sequences_refuses_epoch_milliseconds():
    millis = _events().assign(timestamp=lambda f: f["timestamp"] * 1000)
    with pytest.raises(ValueError, match="look like epoch milliseconds"):
        build_sequences(millis)


def test_build_sequences_on_clean_data_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build_sequences(_events()).n_sessions == 3


def test_item_entropy_counts_half_stars_as_their_own_answers():
    half_stars = sp.csr_matrix(np.array([[0.5], [1.5], [2.5], [3.5]]))
    assert item_entropy(half_stars)[0] == pytest.approx(2.0)  # four different answers
    whole = sp.csr_matrix(np.array([[1.0], [2.0], [3.0], [3.0]]))
    assert item_entropy(whole)[0] == pytest.approx(1.5)  # unchanged for whole stars


def test_apply_business_rules_refuses_a_minus_one_placeholder():
    padded = np.array([[0, -1, 2]])
    with pytest.raises(ValueError, match="a -1 .* is not an item"):
        apply_business_rules(padded, np.array([0, 1, 2, 3]), k=3)


def test_markov_chain_without_smoothing_warns_when_lists_follow_item_indices():
    history, targets, _ = next_item_split(_sequences())
    model = MarkovChain(smoothing=0).fit(history)  # item 13 (index 3) never precedes another
    with pytest.warns(UserWarning, match="smoothing=0"):
        model.recommend(history, k=2)


def test_loop_metrics_refuses_an_ab_log_with_several_arms():
    log = pd.DataFrame(
        {
            "day": [0, 0],
            "user": [0, 1],
            "position": [1, 1],
            "item": [0, 1],
            "click_probability": [0.1, 0.2],
            "clicked": [False, True],
            "arm": pd.Categorical(["A", "B"]),
        }
    )
    world = types.SimpleNamespace(n_users=2, n_items=2)
    with pytest.raises(ValueError, match=r"arms \['A', 'B'\] of an A/B test"):
        loop_metrics(log, world, np.zeros(2))


def test_evaluate_next_item_refuses_an_unknown_target():
    history, targets, _ = next_item_split(_sequences())
    model = MarkovChain().fit(history)
    unknown = np.where(targets >= 0, history.n_items + 5, -1)
    with pytest.raises(ValueError, match="outside the catalogue"):
        evaluate_next_item(model, history, unknown, k=2)


# --------------------------------------------------------------------------------------
# Text where a number is expected
# --------------------------------------------------------------------------------------

TEXT = {
    "freshness_boost weight='a'": (
        lambda: freshness_boost(SCORES, np.ones(3), "a"),
        "weight must be a finite number",
    ),
    "decay half_life='10'": (lambda: decay([1.0], "10"), "half_life"),
    "weight_grid step='0.1'": (lambda: weight_grid(["a", "b"], step="0.1"), "step must"),
    "rank_candidates text scores": (
        lambda: rank_candidates(CANDIDATES, ["a", "b", "c", "d"], k=1),
        "scores must be numbers",
    ),
    "calibrated_rerank alpha='0.1'": (
        lambda: calibrated_rerank(ITEMS, SCORES, HISTORIES, GENRES, k=2, alpha="0.1"),
        "alpha",
    ),
    "LearnedRanker text feature": (
        lambda: LearnedRanker().fit(_features().assign(f="x"), LABELS, ["f"]),
        r"features \['f'\] are not numeric",
    ),
    "watch_time_weights text minutes": (
        lambda: watch_time_weights([True], ["long"]),
        "minutes must hold numbers",
    ),
}


@pytest.mark.parametrize("case", TEXT, ids=list(TEXT))
def test_text_where_a_number_is_expected_is_refused(case):
    call, match = TEXT[case]
    _raises(call, match)


# --------------------------------------------------------------------------------------
# Out-of-range indices
# --------------------------------------------------------------------------------------

INDICES = {
    "apply_business_rules item beyond item_groups": (
        lambda: apply_business_rules(np.array([[0, 7]]), np.array([0, 1, 0]), k=2),
        "item_groups labels only 3 items",
    ),
    "apply_business_rules pinned beyond the catalogue": (
        lambda: apply_business_rules(ITEMS, np.zeros(4, dtype=int), k=2, pinned=[9]),
        "item indices must lie in 0..3",
    ),
    "candidate_features item beyond X": (
        lambda: candidate_features(pd.DataFrame({"user": [0], "item": [9]}), X),
        "item indices must lie in 0..2",
    ),
    "BatchTable.lookup text user": (
        lambda: BatchTable(n=2).build(Popularity().fit(X), [0, 1]).lookup("0"),
        "is not in the batch table",
    ),
}


@pytest.mark.parametrize("case", INDICES, ids=list(INDICES))
def test_out_of_range_indices_are_refused(case):
    call, match = INDICES[case]
    _raises(call, match)


# --------------------------------------------------------------------------------------
# Empty inputs
# --------------------------------------------------------------------------------------

EMPTY = {
    "tune_weights empty grid": (
        lambda: tune_weights({"a": SCORES}, sp.csr_matrix(np.eye(2, 3)), []),
        "grid is empty",
    ),
    "weight_grid no names": (lambda: weight_grid([], 0.5), "names is empty"),
    "latency_ms no arguments": (lambda: latency_ms(len, []), "arguments is empty"),
    "BatchTable.build no users": (
        lambda: BatchTable(n=2).build(Popularity().fit(X), []),
        "users must be a non-empty array",
    ),
    "LinearBlend no models": (lambda: LinearBlend({}, {}).fit(X), "models is empty"),
    "choose_blend_weight no weights": (
        lambda: choose_blend_weight(
            ShortLongBlend(Popularity(), MarkovChain()), _sequences(), weights=[]
        ),
        "weights must be a non-empty list",
    ),
    "LearnedRanker no features": (
        lambda: LearnedRanker().fit(_features(), LABELS, []),
        "feature_names is empty",
    ),
}


@pytest.mark.parametrize("case", EMPTY, ids=list(EMPTY))
def test_empty_inputs_are_refused(case):
    call, match = EMPTY[case]
    _raises(call, match)


# --------------------------------------------------------------------------------------
# Missing columns, wrong objects, unparseable dates and durations
# --------------------------------------------------------------------------------------

OBJECTS = {
    "candidate_features without user": (
        lambda: candidate_features(CANDIDATES.drop(columns="user"), X),
        r"candidates lacks the column\(s\) \['user'\]",
    ),
    "rank_candidates without item": (
        lambda: rank_candidates(CANDIDATES.drop(columns="item"), [1.0] * 4, k=1),
        r"candidates lacks the column\(s\) \['item'\]",
    ),
    "label_candidates on an array": (
        lambda: label_candidates(np.zeros((2, 2)), X),
        "candidates must be a pandas DataFrame",
    ),
    "BatchTable.lookup before build": (
        lambda: BatchTable().lookup(0),
        r"BatchTable is not fitted yet; call .build\(recommender, users\)",
    ),
    "LearnedRanker without user column": (
        lambda: LearnedRanker().fit(_features().drop(columns="user"), LABELS, ["f"]),
        r"features lacks the column\(s\) \['user'\]",
    ),
    "LearnedRanker unknown feature name": (
        lambda: LearnedRanker().fit(_features(), LABELS, ["f", "nope"]),
        r"features lacks the column\(s\) \['nope'\]",
    ),
    "LearnedRanker labels that are not 0/1": (
        lambda: LearnedRanker().fit(_features(), LABELS * 0.5, ["f"]),
        "labels must be 0 or 1",
    ),
    "trending_scores without timestamp": (
        lambda: trending_scores(pd.DataFrame({"item_id": [1]}), [1], "1998-01-01", 7.0),
        r"events lacks the column\(s\) \['timestamp'\]",
    ),
    "trending_scores unparseable now": (
        lambda: trending_scores(
            pd.DataFrame({"item_id": [1], "timestamp": pd.to_datetime(["1998-01-01"])}),
            [1],
            "yesterday-ish",
            7.0,
        ),
        "now must be a date",
    ),
    "days_before unparseable times": (
        lambda: days_before(["not a date"], "1998-01-01"),
        "times must be dates",
    ),
    "build_sequences unparseable session_gap": (
        lambda: build_sequences(_events(), session_gap="half an hour"),
        "session_gap must be a positive duration",
    ),
    "build_sequences session_gap=None": (
        lambda: build_sequences(_events(), session_gap=None),
        "session_gap must be a positive duration",
    ),
    "next_item_split on a frame": (
        lambda: next_item_split(_events()),
        "sequences must be a Sequences object",
    ),
    "choose_blend_weight on a plain model": (
        lambda: choose_blend_weight(MarkovChain(), _sequences()),
        "blend must be a ShortLongBlend",
    ),
    "evaluate_next_item float targets": (
        lambda: evaluate_next_item(
            MarkovChain().fit(next_item_split(_sequences())[0]),
            next_item_split(_sequences())[0],
            next_item_split(_sequences())[1].astype(float),
        ),
        "targets must be integer item indices",
    ),
}


@pytest.mark.parametrize("case", OBJECTS, ids=list(OBJECTS))
def test_missing_columns_and_wrong_objects_are_refused(case):
    call, match = OBJECTS[case]
    _raises(call, match)


def test_learned_ranker_names_the_lightgbm_group_limit():
    n = 10_001
    features = pd.DataFrame({"user": np.zeros(n, dtype=int), "f": np.arange(n, dtype=float)})
    labels = (np.arange(n) % 2).astype(int)
    with pytest.raises(ValueError, match="at most 10000 per user; generate fewer"):
        LearnedRanker(iterations=1).fit(features, labels, ["f"])


# --------------------------------------------------------------------------------------
# Misleading messages
# --------------------------------------------------------------------------------------


def test_short_long_blend_says_a_markov_chain_is_not_a_long_term_model():
    blend = ShortLongBlend(long_model=MarkovChain(), short_model=MarkovChain())
    with pytest.raises(ValueError, match="long_model must be a long-term model") as error:
        blend.fit(_sequences())
    assert "goes in short_model" in str(error.value)


def test_short_long_blend_refuses_a_long_term_model_as_short_model():
    with pytest.raises(ValueError, match="short_model must be a sequential model"):
        ShortLongBlend(long_model=Popularity(), short_model=Popularity()).fit(_sequences())


# --------------------------------------------------------------------------------------
# Valid input is unchanged
# --------------------------------------------------------------------------------------


def test_valid_inputs_still_work():
    assert len(weight_grid(["a", "b"], 0.5)) == 3
    assert freshness_boost(np.array([[1.0, 2.0, -np.inf]]), [1.0, 0.0, 0.5], 0.0)[0, 2] == -np.inf
    users, items = rank_candidates(CANDIDATES, [1.0, 2.0, -np.inf, 0.0], k=2)
    assert items.tolist() == [[1, 0], [1, 0]]
    assert apply_business_rules(ITEMS, np.zeros(4, dtype=int), k=2, pinned=[3]).tolist() == [
        [3, 0],
        [3, 1],
    ]
    assert calibrated_rerank(ITEMS, SCORES, HISTORIES, GENRES, k=2, lambda_=0).tolist() == [
        [0, 1],
        [1, 2],
    ]
    assert segment_labels(pd.DataFrame({"age": [20, 40]}), "age").tolist() == ["<25", "35-44"]
    assert BatchTable(n=2).build(Popularity().fit(X), [0, 1]).lookup(0, k=5).size == 2
