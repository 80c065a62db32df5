"""Checks for lesson 02 (exercises/02_content_based.ipynb): a taste profile and cosine scores.

The learner writes the two steps of :class:`recsys_lessons.models.ContentBased` for ONE user,
with plain NumPy arrays:

- q1, ``user_profile(item_vectors, ratings)``: row ``j`` of ``item_vectors`` describes the
  ``j``-th item the user rated and ``ratings[j]`` is the rating. With ``mean`` the mean of the
  user's ratings, the weights are ``w_j = ratings[j] - mean`` (mean-centred: an item rated
  below the user's average pushes the profile away from its content); when every rating is
  the same (implicit 0/1 data, a single item) all ``w_j`` would be 0, so the profile falls
  back to the plain mean, ``w_j = 1``. The profile is
  ``p = sum_j w_j * item_vectors[j] / sum_j |w_j|``.
- q2, ``score_items(profile, item_vectors, seen)``: the cosine between the profile and every
  item, ``cos(p, f_i) = p . f_i / (|p| * |f_i|)``, 0 when either vector is all zeros (an item
  without metadata, an empty profile), and ``-inf`` for the items in ``seen`` so that no
  ranking can ever recommend them again.

These are the formulas of ``ContentBased`` (lesson 02, notebooks/02_content_based.ipynb);
the exercise notebook checks on real data that the learner's functions reproduce its
profiles and top-10 lists. Each question lists the mistakes learners make most often as
buggy implementations, so a check can name the exact bug. (The checker silences NumPy
floating-point warnings, so the variants that divide by zero need no ``np.errstate``.)
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2"]

_R2 = 1 / np.sqrt(2)


# --------------------------------------------------------------------------------------
# q1: the taste profile
# --------------------------------------------------------------------------------------


def _centred_weights(ratings):
    ratings = np.asarray(ratings, dtype=float)
    weights = ratings - ratings.mean()
    return np.ones_like(ratings) if np.all(weights == 0) else weights


def _user_profile(item_vectors, ratings):
    weights = _centred_weights(ratings)
    return weights @ np.asarray(item_vectors, dtype=float) / np.abs(weights).sum()


def _profile_not_centred(item_vectors, ratings):
    ratings = np.asarray(ratings, dtype=float)
    return ratings @ np.asarray(item_vectors, dtype=float) / ratings.sum()


def _profile_plain_mean(item_vectors, ratings):
    return np.asarray(item_vectors, dtype=float).mean(axis=0)


def _profile_centred_on_scale_middle(item_vectors, ratings):
    weights = np.asarray(ratings, dtype=float) - 3.0
    return weights @ np.asarray(item_vectors, dtype=float) / np.abs(weights).sum()


def _profile_over_count(item_vectors, ratings):
    weights = _centred_weights(ratings)
    return weights @ np.asarray(item_vectors, dtype=float) / len(weights)


def _profile_weighted_sum(item_vectors, ratings):
    return _centred_weights(ratings) @ np.asarray(item_vectors, dtype=float)


def _profile_over_signed_sum(item_vectors, ratings):
    # Centred weights sum to 0: 0 / 0 = nan and x / 0 = inf.
    weights = np.asarray(ratings, dtype=float) - np.mean(ratings)
    return weights @ np.asarray(item_vectors, dtype=float) / weights.sum()


def _profile_over_signed_sum_with_fallback(item_vectors, ratings):
    weights = _centred_weights(ratings)
    return weights @ np.asarray(item_vectors, dtype=float) / weights.sum()


def _profile_numpy_average(item_vectors, ratings):
    # np.average divides by the sum of the weights too, and raises ZeroDivisionError when
    # it is 0, which mean-centred weights always are.
    weights = np.asarray(ratings, dtype=float) - np.mean(ratings)
    return np.average(np.asarray(item_vectors, dtype=float), axis=0, weights=weights)


def _profile_over_euclidean_length(item_vectors, ratings):
    weights = _centred_weights(ratings)
    return weights @ np.asarray(item_vectors, dtype=float) / np.linalg.norm(weights)


def _profile_no_fallback(item_vectors, ratings):
    # Equal ratings: every weight is 0, so the profile is 0 / 0 = nan.
    weights = np.asarray(ratings, dtype=float) - np.mean(ratings)
    return weights @ np.asarray(item_vectors, dtype=float) / np.abs(weights).sum()


def _profile_no_fallback_guarded(item_vectors, ratings):
    # The same bug with a guard against 0 / 0: equal ratings give an all-zero profile.
    weights = np.asarray(ratings, dtype=float) - np.mean(ratings)
    total = np.abs(weights).sum()
    weighted = weights @ np.asarray(item_vectors, dtype=float)
    return weighted / total if total > 0 else np.zeros_like(weighted)


# Unit-length item vectors over the features (Comedy, Drama, Mystery, "harbor"), as in
# ContentBased, where every item vector has length 1.
_MYSTERY_DRAMA = [0.0, _R2, _R2, 0.0]
_COMEDY = [1.0, 0.0, 0.0, 0.0]
_HARBOR_MYSTERY = [0.0, 0.0, 0.6, 0.8]
_DRAMA = [0.0, 1.0, 0.0, 0.0]

q1 = FunctionQuestion(
    label="q1",
    name="user_profile",
    reference=_user_profile,
    cases=[
        case(
            np.array([_MYSTERY_DRAMA, _HARBOR_MYSTERY, _COMEDY]),
            np.array([5.0, 3.0, 1.0]),
            note="loved a mystery drama, hated a comedy",
        ),
        case(
            np.array([_MYSTERY_DRAMA, _DRAMA, _COMEDY, _HARBOR_MYSTERY]),
            np.array([5.0, 5.0, 4.0, 2.0]),
            note="mean rating 4, not the middle of the scale",
        ),
        case(
            np.array([_MYSTERY_DRAMA, _COMEDY]),
            np.array([4.0, 4.0]),
            note="every rating the same: the plain average",
        ),
        case(np.array([_HARBOR_MYSTERY]), np.array([2.0]), note="a single rated item"),
        case(
            np.array([_DRAMA, _COMEDY, _MYSTERY_DRAMA]),
            np.array([4.5, 4.5, 1.5]),
            note="half stars",
        ),
    ],
    mistakes=[
        Mistake(
            "You did not mean-centre the ratings. Weighting by the raw rating makes a 1-star "
            "film pull the profile TOWARDS its content, only less than a 5-star one. Subtract "
            "the user's mean rating first: w = ratings - ratings.mean(), so items rated below "
            "the user's average push the profile away.",
            _profile_not_centred,
        ),
        Mistake(
            "You averaged the item vectors without looking at the ratings: a film the user "
            "hated counts as much as one they loved. Weight each vector by its mean-centred "
            "rating, w = ratings - ratings.mean().",
            _profile_plain_mean,
        ),
        Mistake(
            "You subtracted a fixed value (the middle of the 1-5 scale) instead of the user's "
            "own mean. A generous user who rates everything 4 or 5 would then like everything; "
            "centre on ratings.mean(), this user's average.",
            _profile_centred_on_scale_middle,
        ),
        Mistake(
            "The direction is right but the length is not: divide the weighted sum by the sum "
            "of the ABSOLUTE weights, np.abs(w).sum(), so that the shares of the items add up "
            "to 1 (as in ContentBased), not by the number of items.",
            _profile_over_count,
        ),
        Mistake(
            "You returned the weighted sum. Divide it by the sum of the absolute weights, "
            "np.abs(w).sum(), to get a weighted AVERAGE: then a user with 200 ratings and one "
            "with 5 have profiles on the same scale.",
            _profile_weighted_sum,
        ),
        Mistake(
            "You divided by np.linalg.norm(w), the Euclidean (L2) length of the weights. The "
            "profile is a weighted AVERAGE, so divide by the sum of the absolute weights, "
            "np.abs(w).sum() (the L1 norm): then the shares of the items add up to 1.",
            _profile_over_euclidean_length,
        ),
        Mistake(
            "You divided by the sum of the weights, w.sum(). Mean-centred weights always sum "
            "to 0 (that is what centring does), hence the nan, inf or ZeroDivisionError "
            "(np.average(item_vectors, axis=0, weights=w) divides by w.sum() too): divide by "
            "the sum of their absolute values, np.abs(w).sum().",
            _profile_over_signed_sum,
            _profile_over_signed_sum_with_fallback,
            _profile_numpy_average,
        ),
        Mistake(
            "When every rating is the same (implicit data, or a single rated item), the "
            "centred weights are all 0 and your profile is empty (nan or zeros). In that case "
            "use the plain average instead: set every weight to 1.",
            _profile_no_fallback,
            _profile_no_fallback_guarded,
        ),
    ],
    hint=[
        "The profile is a weighted average of the rows of item_vectors. The weight of an "
        "item is how much MORE than usual this user liked it, so it can be negative.",
        "Three steps. Weights: each rating minus the user's mean rating (if that makes every "
        "weight 0, because all ratings are equal, give every item the weight 1 instead). "
        "Weighted sum: a vector-matrix product adds w[j] * item_vectors[j] over the rows j. "
        "Average: divide by the sum of the absolute weights. Still stuck? q1.solution() "
        "shows one answer.",
    ],
    solution="""
        def user_profile(item_vectors, ratings):
            weights = ratings - ratings.mean()
            if np.all(weights == 0):  # all ratings equal: plain average
                weights = np.ones_like(weights)
            return weights @ item_vectors / np.abs(weights).sum()
    """,
    why=(
        "The profile turns a history of ratings into one vector in the same space as the "
        "items, so one similarity scores the whole catalogue. Mean-centring lets dislikes "
        "count: a user's 2-star films push the profile away from their genres instead of "
        "towards them."
    ),
)


# --------------------------------------------------------------------------------------
# q2: cosine scores, seen items excluded
# --------------------------------------------------------------------------------------


def _excluding(scores, seen):
    scores = np.array(scores, dtype=float)
    scores[list(seen)] = -np.inf
    return scores


def _arrays(profile, item_vectors):
    return np.asarray(profile, dtype=float), np.asarray(item_vectors, dtype=float)


def _guarded(dots, lengths):
    return np.divide(dots, lengths, out=np.zeros_like(dots), where=lengths > 0)


def _score_items(profile, item_vectors, seen):
    profile, item_vectors = _arrays(profile, item_vectors)
    lengths = np.linalg.norm(profile) * np.linalg.norm(item_vectors, axis=1)
    return _excluding(_guarded(item_vectors @ profile, lengths), seen)


def _scores_dot_product(profile, item_vectors, seen):
    profile, item_vectors = _arrays(profile, item_vectors)
    return _excluding(item_vectors @ profile, seen)


def _scores_over_item_lengths_only(profile, item_vectors, seen):
    # Every item vector has length 1 (or 0) here, so this is the dot product again.
    profile, item_vectors = _arrays(profile, item_vectors)
    dots = item_vectors @ profile
    return _excluding(_guarded(dots, np.linalg.norm(item_vectors, axis=1)), seen)


def _scores_no_zero_guard(profile, item_vectors, seen):
    # An item without metadata: 0 / (|p| * 0) = nan.
    profile, item_vectors = _arrays(profile, item_vectors)
    lengths = np.linalg.norm(profile) * np.linalg.norm(item_vectors, axis=1)
    return _excluding(item_vectors @ profile / lengths, seen)


def _scores_matrix_norm(profile, item_vectors, seen):
    # np.linalg.norm(item_vectors) without axis=1: ONE number, the length of the whole matrix.
    profile, item_vectors = _arrays(profile, item_vectors)
    return _excluding(
        item_vectors @ profile / (np.linalg.norm(profile) * np.linalg.norm(item_vectors)), seen
    )


def _scores_l1_profile(profile, item_vectors, seen):
    profile, item_vectors = _arrays(profile, item_vectors)
    return _excluding(item_vectors @ profile / np.abs(profile).sum(), seen)


def _scores_l1_both(profile, item_vectors, seen):
    profile, item_vectors = _arrays(profile, item_vectors)
    lengths = np.abs(profile).sum() * np.abs(item_vectors).sum(axis=1)
    return _excluding(_guarded(item_vectors @ profile, lengths), seen)


def _scores_l1_both_no_guard(profile, item_vectors, seen):
    profile, item_vectors = _arrays(profile, item_vectors)
    lengths = np.abs(profile).sum() * np.abs(item_vectors).sum(axis=1)
    return _excluding(item_vectors @ profile / lengths, seen)


def _scores_seen_kept(profile, item_vectors, seen):
    return _score_items(profile, item_vectors, [])


def _scores_seen_zeroed(profile, item_vectors, seen):
    scores = _score_items(profile, item_vectors, [])
    scores[list(seen)] = 0.0
    return scores


def _scores_seen_deleted(profile, item_vectors, seen):
    return np.delete(_score_items(profile, item_vectors, []), list(seen))


# Six items whose vectors have length 1, as in ContentBased (whose item_vectors_ the
# exercise notebook uses on real users), one of them pointing away from most profiles, and
# one item without any metadata (length 0), which must score 0. The profiles are NOT of
# length 1, as a mean-centred profile never is.
_R3, _R5 = 1 / np.sqrt(3), 1 / np.sqrt(5)
_ITEMS = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [_R3, _R3, _R3],
        [-_R5, -2 * _R5, 0.0],
        [0.0, 0.0, 0.0],
        [0.6, 0.0, 0.8],
    ]
)

q2 = FunctionQuestion(
    label="q2",
    name="score_items",
    reference=_score_items,
    cases=[
        case(np.array([1.0, 2.0, 0.0]), _ITEMS, [1], note="an item without metadata"),
        case(np.array([0.5, -0.25, 0.5]), _ITEMS[:4], [], note="nothing seen yet"),
        case(np.array([0.0, -1.0, 0.5]), _ITEMS, [0, 2], note="seen items and negative cosines"),
        case(np.array([0.3, 0.1, -0.2]), _ITEMS[[5, 3, 1]], [2], note="the last item seen"),
    ],
    mistakes=[
        Mistake(
            "You returned the dot product (dividing by the item lengths alone changes nothing "
            "here: they are 1). The cosine also divides by the length of the profile, "
            "np.linalg.norm(profile), so that every score lies in [-1, 1] whoever the user is.",
            _scores_dot_product,
            _scores_over_item_lengths_only,
        ),
        Mistake(
            "An item without metadata (an all-zero row) has length 0, so dividing by "
            "|p| * |f_i| gives 0 / 0 = nan for it; its cosine is defined as 0. Every other "
            "item vector has length 1 here, so dividing the dot products by "
            "np.linalg.norm(profile) alone (as lesson 02 does) is enough; or guard the "
            "division: np.divide(dots, lengths, out=np.zeros_like(dots), where=lengths > 0).",
            _scores_no_zero_guard,
        ),
        Mistake(
            "np.linalg.norm(item_vectors) without axis=1 is ONE number, the length of the "
            "whole matrix. Each item needs its own length: np.linalg.norm(item_vectors, "
            "axis=1) (or, as every item vector has length 1 here, divide by the profile's "
            "length only).",
            _scores_matrix_norm,
        ),
        Mistake(
            "You measured length with the sum of absolute values (the L1 norm, np.abs(x).sum() "
            "or ord=1). The cosine uses the Euclidean (L2) length: np.linalg.norm(profile), "
            "the square root of the sum of squares.",
            _scores_l1_profile,
            _scores_l1_both,
            _scores_l1_both_no_guard,
        ),
        Mistake(
            "The items in `seen` still have their cosine, so the user would be recommended "
            "what they already watched. Set their scores to -np.inf.",
            _scores_seen_kept,
        ),
        Mistake(
            "You set the seen items to 0. Cosines can be negative, so a seen item would still "
            "rank above every item the user probably dislikes: use -np.inf.",
            _scores_seen_zeroed,
        ),
        Mistake(
            "You removed the seen items from the array, so position i no longer means item i. "
            "Keep one score per item and set the seen ones to -np.inf.",
            _scores_seen_deleted,
        ),
    ],
    hint=[
        "The cosine compares directions: the dot product of the profile with an item's "
        "vector, divided by both lengths. Then make sure no item in `seen` can ever win.",
        "item_vectors @ profile gives every dot product at once. Divide by the profile's "
        "length, np.linalg.norm(profile) (each item vector already has length 1, or 0 for "
        "an item without metadata, whose dot product is 0 anyway). Finally give the items in "
        "`seen` the score -np.inf, keeping one score per item. Still stuck? q2.solution() "
        "shows one answer.",
    ],
    solution="""
        def score_items(profile, item_vectors, seen):
            dots = item_vectors @ profile
            # |f_i| is 1 here (0 for an item without metadata); guarding the division by
            # |p| * |f_i| also works when it is not.
            lengths = np.linalg.norm(profile) * np.linalg.norm(item_vectors, axis=1)
            scores = np.divide(dots, lengths, out=np.zeros_like(dots), where=lengths > 0)
            scores[list(seen)] = -np.inf  # never recommend what the user already has
            return scores
    """,
    why=(
        "The cosine compares directions, not lengths: an item is recommended because its "
        "metadata points the way the user's taste points, not because it has more tags. "
        "Scores in [-1, 1] also mean the same for every user, which explanations and "
        "hybrid models (lesson 06) rely on."
    ),
)
