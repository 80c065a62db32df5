"""The simulated streaming catalogue: a MovieLens-shaped history drawn from a known world.

:func:`generate_catalogue` draws a ground-truth :class:`~recsys_lessons.data.world.SimulatedWorld`
(true tastes, click and watch models) and the history its users leave, and returns a
:class:`~recsys_lessons.data.dataset.Dataset` shaped like MovieLens (ids start at 1) whose
``world`` is that world. Lesson 00 (``notebooks/00_welcome_and_data.ipynb``) introduces it
beside MovieLens; every later lesson can run on it. Its knobs live in one validated
:class:`CatalogueConfig`. :func:`recsys_lessons.data.shop.generate_shop` adds shopping
baskets for "bought together" lists (lesson 03).

Generative story of the streaming catalogue
-------------------------------------------
Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same data.
``d`` is ``n_factors``; vectors written ``unit(x)`` are scaled to length 1.

1. Metadata. 14 genres with embeddings ``e_g = unit(z_g + 0.6 * mean(z_h for partners h))``
   on random orthonormal axes ``z_g``, so related genres (Mystery, Thriller, Crime) point
   the same way and unrelated ones do not. Each item gets a primary genre (Drama most
   common), 0-2 partner genres, 2-4 of 40 tags drawn according to its genres (tag vectors
   ``t_j = unit(mean(e_g for the tag's genres) + 0.7 * n_j)``, ``n_j`` a random unit vector),
   a provider ("studio" 70 %, "independent" 30 %, direction ``pi`` orthogonal to every
   genre), a runtime, a readable title ("The Silent Harbor", "Midnight Protocol 2") and a
   one-line description built from per-genre word lists
   (:mod:`~recsys_lessons.data.catalogue_words`).
2. Item factors, partly explained by metadata::

       content_i = unit(mean(e_g, g in genres_i) + 0.7 * mean(t_j, j in tags_i)
                        + 0.6 * pi * [independent_i])
       q_i = sqrt(c) * (sqrt(rho) * content_i + sqrt(1 - rho) * eps_i),   eps_i ~ N(0, I / d)

   ``rho = content_share`` (default 0.5) is the share of an item's taste vector that
   metadata can explain: content-based filtering works somewhat, collaborative filtering
   (which also sees ``eps_i``) works better. ``c = 3`` sets the spread of affinities.
3. Users belong to a segment ("blockbuster", "family", "drama" and the minority "indie",
   ``minority_share`` = 12 %) that sets how likely each genre is to be a favourite and
   correlates with ``age_group``. The indie segment favours Documentary and Horror (then
   Mystery) and independent titles, which are rare and under-exposed: the group a
   popularity-driven recommender underserves. Each user draws two favourite genres::

       taste_u = unit(mean(e_g, g in favourites_u) + 0.7 * pi * [indie_u])
       p_u = sqrt(c) * (sqrt(0.8) * taste_u + sqrt(0.2) * eta_u),   eta_u ~ N(0, I / d)

4. True affinity, on the rating scale (the world's, :mod:`~recsys_lessons.data.world`)::

       affinity(u, i) = mu + b_u + b_i + p_u . q_i,   b_u ~ N(0, 0.35^2), b_i ~ N(0, 0.4^2)

   with ``mu = 1.85``: most titles would disappoint most users; the titles people choose
   (step 6) average about 3.6 stars, as on MovieLens.
5. Exposure (long tail). Items are ranked by a promotion score
   ``0.5 * b_i / 0.4 + 0.8 * [studio_i] + N(0, 1)`` and shown with Zipf-like weight
   ``w_i = rank_i ** -alpha`` (``alpha = popularity_exponent``, default 1.4): users mostly
   see popular, studio titles, whatever their taste (exposure bias).
6. Who watches what. User ``u`` is active between a join and a leave time; item ``i`` can
   only be watched after its release, during a fraction ``avail(u, i)`` of that window. Each
   user watches ``n_u`` distinct titles (heavy-tailed activity, at least 20 when the size
   allows, at most half of what they can reach), sampled without replacement (Gumbel
   top-k) with probability proportional to::

       w_i * avail(u, i) * exp(0.5 * b_i + beta * p_u . q_i),   beta = selectivity (default 4)

   so observed data are missing not at random: people mostly watch what they like.
7. Ratings, the world's rating model: ``r = clip(round(affinity(u, i) + N(0, sigma^2)), 1, 5)``,
   ``sigma = rating_noise``.
8. Timestamps: each user has sessions (about 3 titles each) on evenings in their window,
   the last one at their leave time; an event goes to a random session after the item's
   release (new releases favour the first sessions after release: freshness), and titles
   in a session follow each other by their runtime plus a short pause. 30 % of items
   (``new_item_share``) are released during the simulated period, the rest earlier.

9. Opt-in extras, drawn from their own generators so the default output never changes:
   ``session_focus`` (lesson 07) places that share of a user's titles of one primary genre
   in neighbouring sessions (a mood: "tonight, horror"), from
   ``default_rng([seed, 72])``; ``clickbait_share`` (lesson 07) marks that share of the
   items as clickbait (a catchy title and thumbnail, column ``clickbait``), drawn from
   ``default_rng([seed, 71])``: the world's users click them as if they liked them more,
   and abandon them early (the world's click and watch models).

No interaction ever precedes its item's release date. With the defaults the data look like
MovieLens 100K: mean rating 3.57 (ML: 3.53), the top 20 % of titles hold 63 % of the
interactions (ML: 65 %), and on a random leave-one-out split item co-occurrence beats the
most-popular list at hit rate@10 by a similar margin (0.22 vs 0.19; ML: 0.16 vs 0.13).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys_lessons.data.catalogue_words import (
    GENRE_TEXT,
    GENRES,
    INDEPENDENT_TAGS,
    TAG_GENRES,
    draw_descriptions,
    draw_titles,
)
from recsys_lessons.data.dataset import Dataset
from recsys_lessons.data.world import SimulatedWorld
from recsys_lessons.validation import (
    check_number,
    check_positive_int,
    check_probability,
    check_ratio,
    check_seed,
)

__all__ = ["SEGMENTS", "CatalogueConfig", "generate_catalogue"]

SECONDS_PER_DAY = 86_400
LICENSE = (
    "Simulated data generated by recsys_lessons.data.catalogue; no real people or titles. "
    "Free to use, share and modify (MIT, like the course code)."
)

INDEPENDENT_SHARE = 0.3
AGE_GROUPS = ("18-24", "25-34", "35-44", "45-54", "55+")
REGIONS = ("north", "south", "east", "west")


@dataclass(frozen=True)
class Segment:
    """A group of users with a shared taste (step 3 of the story)."""

    share: float
    favourite_genres: dict[str, float]  # relative weight of being a favourite (others: 0.1)
    age_shares: tuple[float, ...]  # over AGE_GROUPS
    likes_independent: bool = False


#: User segments; "indie" is the minority with distinct taste (its share is ``minority_share``).
SEGMENTS = {
    "blockbuster": Segment(
        0.45,
        {"Action": 3, "Adventure": 2, "Sci-Fi": 2, "Comedy": 2, "Thriller": 2, "Fantasy": 1},
        (0.25, 0.35, 0.2, 0.12, 0.08),
    ),
    "family": Segment(
        0.22,
        {"Animation": 3, "Family": 3, "Comedy": 2, "Adventure": 1.5, "Fantasy": 1.5},
        (0.05, 0.25, 0.4, 0.2, 0.1),
    ),
    "drama": Segment(
        0.21,
        {"Drama": 3, "Romance": 2, "Crime": 2, "Mystery": 1.5, "Thriller": 1},
        (0.1, 0.2, 0.25, 0.25, 0.2),
    ),
    "indie": Segment(
        0.12,
        {"Documentary": 6, "Horror": 5, "Mystery": 1.5, "Drama": 1},
        (0.35, 0.35, 0.15, 0.1, 0.05),
        likes_independent=True,
    ),
}
MINORITY_SEGMENT = "indie"

# Fixed constants of the story (module docstring, steps 2-8).
_FACTOR_SCALE = 3.0  # c
_TASTE_SHARE = 0.8  # share of a user's vector explained by favourite genres
_GLOBAL_MEAN = 1.85  # mu
_USER_BIAS_SD = 0.35
_ITEM_BIAS_SD = 0.4
_QUALITY_PULL = 0.5  # how much everybody prefers good titles (per rating point of b_i)
_SESSION_EVENTS = 3  # average titles per session
_FRESH_SESSION_SKEW = 2.5  # new releases favour the first sessions after release


# --------------------------------------------------------------------------------------
# The knobs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueConfig:
    """Every knob of the simulated catalogue, checked once when the config is made.

    The defaults give the MovieLens-100K-like catalogue of the module docstring. Change a
    few knobs with ``CatalogueConfig(n_users=500)`` or ``dataclasses.replace(config, ...)``;
    bad values raise ``ValueError`` saying what to pass.

    Parameters
    ----------
    n_users, n_items, n_interactions : int
        Sizes: at least 10 users and 20 items, and ``n_users <= n_interactions <=
        n_users * n_items / 4``. Every user and item appears in the frames; a few tail items
        may never be watched. ``n_interactions`` is met exactly unless users run out of
        available titles.
    n_factors : int
        Dimension ``d`` of the latent taste vectors (at least 15: one axis per genre plus
        one for independent titles).
    content_share : float in [0, 1]
        ``rho``: share of an item's taste vector explained by its genres, tags and provider.
    popularity_exponent : float >= 0
        ``alpha`` of the Zipf-like exposure ``rank ** -alpha``; 0 means no exposure bias.
    selectivity : float >= 0
        ``beta``: how strongly users pick titles they like among those they are shown.
    rating_noise : float > 0
        ``sigma``, standard deviation of a rating around the true affinity.
    minority_share : float in (0, 1)
        Share of users in the minority "indie" segment.
    new_item_share : float in [0, 1)
        Share of items released during the simulated period (the rest are back catalogue).
    start : str
        First day of the simulated period (an ISO date such as ``"2021-01-01"``).
    n_days : int
        Length of the period in days (at least 60).
    position_bias : float >= 0
        ``eta`` of the world's examination probability ``1 / rank ** eta``.
    session_focus : float in [0, 1]
        Share of each user's titles placed in sessions by primary genre (story, step 9);
        0 (default) keeps sessions genre-blind and the output of every seed unchanged.
    clickbait_share : float in [0, 1]
        Share of items that are clickbait (story, step 9; adds the ``clickbait`` item
        column and ``world.clickbait``); 0 (default) changes nothing.
    """

    n_users: int = 1000
    n_items: int = 1700
    n_interactions: int = 100_000
    n_factors: int = 16
    content_share: float = 0.5
    popularity_exponent: float = 1.4
    selectivity: float = 4.0
    rating_noise: float = 0.8
    minority_share: float = 0.12
    new_item_share: float = 0.3
    start: str = "2021-01-01"
    n_days: int = 730
    position_bias: float = 1.0
    session_focus: float = 0.0
    clickbait_share: float = 0.0

    def __post_init__(self) -> None:
        checked = {
            "n_users": check_positive_int(self.n_users, "n_users"),
            "n_items": check_positive_int(self.n_items, "n_items"),
            "n_interactions": check_positive_int(self.n_interactions, "n_interactions"),
            "n_factors": check_positive_int(self.n_factors, "n_factors"),
            "content_share": check_probability(self.content_share, "content_share"),
            "popularity_exponent": check_number(
                self.popularity_exponent, "popularity_exponent", low=0
            ),
            "selectivity": check_number(self.selectivity, "selectivity", low=0),
            "rating_noise": check_number(self.rating_noise, "rating_noise", low=0, low_open=True),
            "minority_share": check_ratio(self.minority_share, "minority_share"),
            "new_item_share": check_number(
                self.new_item_share, "new_item_share", low=0, high=1, high_open=True
            ),
            "n_days": check_positive_int(self.n_days, "n_days"),
            "position_bias": check_number(self.position_bias, "position_bias", low=0),
            "session_focus": check_probability(self.session_focus, "session_focus"),
            "clickbait_share": check_probability(self.clickbait_share, "clickbait_share"),
        }
        for name, value in checked.items():  # canonical types: int and float
            object.__setattr__(self, name, value)
        n_users, n_items = self.n_users, self.n_items
        if n_users < 10 or n_items < 20:
            raise ValueError(
                f"the catalogue needs at least 10 users and 20 items; got {n_users} and {n_items}."
            )
        if not n_users <= self.n_interactions <= 0.25 * n_users * n_items:
            raise ValueError(
                f"n_interactions must lie between n_users ({n_users}) and a quarter of "
                f"n_users * n_items ({n_users * n_items // 4}); got {self.n_interactions}."
            )
        if self.n_factors <= len(GENRES):
            raise ValueError(
                f"n_factors must be at least {len(GENRES) + 1} (one axis per genre plus one "
                f"for independent titles); got {self.n_factors}."
            )
        if self.n_days < 60:
            raise ValueError(
                f"n_days must be at least 60 so that users have time to watch; got {self.n_days}."
            )
        try:
            pd.Timestamp(self.start)
        except (TypeError, ValueError):
            raise ValueError(
                f"start must be a date such as '2021-01-01'; got {self.start!r}."
            ) from None


# --------------------------------------------------------------------------------------
# The streaming catalogue
# --------------------------------------------------------------------------------------


def generate_catalogue(seed: int = 42, config: CatalogueConfig | None = None, **knobs) -> Dataset:
    """Simulate a streaming service with known ground truth (story in the module docstring).

    Parameters
    ----------
    seed : int
        Everything is drawn from ``numpy.random.default_rng(seed)``.
    config : CatalogueConfig, optional
        The knobs (default: ``CatalogueConfig()``, the MovieLens-100K-like catalogue).
    **knobs
        Fields of :class:`CatalogueConfig` to change, e.g. ``n_users=500`` or
        ``clickbait_share=0.1``; they override the same fields of ``config``.
        ``generate_catalogue(seed=7, n_users=500)`` is
        ``generate_catalogue(seed=7, config=CatalogueConfig(n_users=500))``.

    Returns
    -------
    Dataset
        Named ``"synthetic"``; ``interactions`` (user_id, item_id, rating 1..5, timestamp)
        sorted by timestamp; ``items`` with title, genres (primary first), year, tags,
        description, release_date, provider, runtime (and ``clickbait`` when
        ``clickbait_share > 0``); ``users`` with age_group, region, segment, signup_date;
        ``world`` the :class:`~recsys_lessons.data.world.SimulatedWorld`.
    """
    seed = check_seed(seed)
    config = _configure(config, knobs)
    rng = np.random.default_rng(seed)
    start_s = int(pd.Timestamp(config.start).normalize().timestamp())
    n_users, n_items = config.n_users, config.n_items
    embeddings = _metadata_embeddings(rng, config.n_factors)
    items, item_content = _make_items(
        rng, n_items, embeddings, start_s, config.n_days, config.new_item_share
    )
    users, user_taste = _make_users(rng, n_users, embeddings, config.minority_share)
    item_bias = rng.normal(0.0, _ITEM_BIAS_SD, n_items)
    studio = (items["provider"] == "studio").to_numpy()
    world = SimulatedWorld(
        user_ids=pd.RangeIndex(1, n_users + 1, name="user_id"),
        item_ids=pd.RangeIndex(1, n_items + 1, name="item_id"),
        global_mean=_GLOBAL_MEAN,
        user_bias=rng.normal(0.0, _USER_BIAS_SD, n_users),
        item_bias=item_bias,
        user_factors=_mix(rng, user_taste, _TASTE_SHARE),
        item_factors=_mix(rng, item_content, config.content_share),
        item_content=item_content,
        exposure=_exposure(rng, item_bias, studio, config.popularity_exponent),
        release_date=items["release_date"].to_numpy(),
        runtime=items["runtime"].to_numpy(),
        rating_noise=config.rating_noise,
        position_bias=config.position_bias,
    )
    focus = None
    if config.session_focus > 0:
        primary = items["genres"].str[0].map(GENRES.index).to_numpy()
        focus = (np.random.default_rng([seed, 72]), primary, config.session_focus)
    interactions, signup = _simulate_history(
        rng, world, config.n_interactions, config.selectivity, start_s, config.n_days, focus
    )
    if config.clickbait_share > 0:
        clickbait = np.random.default_rng([seed, 71]).random(n_items) < config.clickbait_share
        items["clickbait"] = clickbait
        world = dataclasses.replace(world, clickbait=clickbait)
    users["signup_date"] = signup
    return Dataset(
        name="synthetic",
        interactions=interactions,
        items=items,
        users=users,
        license=LICENSE,
        citation=f"recsys-lessons simulated streaming catalogue (generate_catalogue(seed={seed}))",
        world=world,
    )


def _configure(config: CatalogueConfig | None, knobs: dict) -> CatalogueConfig:
    """``config`` (default ``CatalogueConfig()``) with ``knobs`` replaced, validated."""
    if config is None:
        config = CatalogueConfig()
    elif not isinstance(config, CatalogueConfig):
        raise ValueError(
            f"config must be a CatalogueConfig (or None); got {config!r}. Pass the knobs by "
            "name, e.g. generate_catalogue(seed=7, n_users=500)."
        )
    known = [field.name for field in dataclasses.fields(CatalogueConfig)]
    unknown = sorted(set(knobs) - set(known))
    if unknown:
        raise ValueError(
            f"unknown catalogue knob(s) {unknown}; generate_catalogue takes seed, config and "
            f"the fields of CatalogueConfig: {known}."
        )
    return dataclasses.replace(config, **knobs)


# --------------------------------------------------------------------------------------
# The generation steps, in the order of the story
# --------------------------------------------------------------------------------------


def _metadata_embeddings(rng, d: int) -> dict[str, np.ndarray]:
    """Unit vectors for genres, tags and the independent provider (docstring, step 1)."""
    n_genres = len(GENRES)
    partners = np.zeros((n_genres, n_genres))
    for g, text in enumerate(GENRE_TEXT.values()):
        partners[g, [GENRES.index(p) for p in text.partners]] = 1.0
    z = np.linalg.qr(rng.normal(size=(d, d)))[0][:, :n_genres].T  # orthonormal genre axes
    genre = _unit(z + 0.6 * _row_normalized(partners) @ z)
    tag_genres = _tag_genre_matrix()
    tag = _unit(
        _row_normalized(tag_genres) @ genre + 0.7 * _unit(rng.normal(size=(len(TAG_GENRES), d)))
    )
    # pi is orthogonal to every genre direction: liking independent titles says nothing
    # about which genres a user likes.
    raw = rng.normal(size=d)
    independent = _unit(raw - np.linalg.lstsq(genre.T, raw, rcond=None)[0] @ genre)
    return {"genre": genre, "tag": tag, "independent": independent, "partners": partners}


def _tag_genre_matrix() -> np.ndarray:
    matrix = np.zeros((len(TAG_GENRES), len(GENRES)))
    for t, genres in enumerate(TAG_GENRES.values()):
        matrix[t, [GENRES.index(g) for g in genres]] = 1.0
    return matrix


def _make_items(rng, n_items, embeddings, start_s, n_days, new_item_share):
    """Items frame and unit content directions (docstring, steps 1-2)."""
    n_genres = len(GENRES)
    texts = list(GENRE_TEXT.values())
    primary = rng.choice(n_genres, size=n_items, p=[t.share for t in texts])
    n_genres_of_item = rng.choice([1, 2, 3], size=n_items, p=[0.3, 0.5, 0.2])
    partner_weights = embeddings["partners"] + 0.03 * (1 - np.eye(n_genres))
    secondary = _gumbel_order(rng, np.log(np.maximum(partner_weights[primary], 1e-300)))[:, :2]
    genre_order = np.column_stack([primary, secondary])  # primary first
    has_genre = np.arange(3) < n_genres_of_item[:, None]
    genre_matrix = np.zeros((n_items, n_genres))
    rows = np.repeat(np.arange(n_items), 3)
    genre_matrix[rows[has_genre.ravel()], genre_order.ravel()[has_genre.ravel()]] = 1.0

    independent = rng.random(n_items) < INDEPENDENT_SHARE
    tag_names = np.array(list(TAG_GENRES))
    tag_log_weights = np.log(genre_matrix @ _tag_genre_matrix().T + 0.05)
    tag_log_weights[:, np.isin(tag_names, INDEPENDENT_TAGS)] += 1.5 * independent[:, None]
    n_tags = rng.integers(2, 5, size=n_items)
    tag_order = _gumbel_order(rng, tag_log_weights)[:, :4]
    has_tag = np.arange(4) < n_tags[:, None]
    tag_matrix = np.zeros((n_items, len(tag_names)))
    tag_rows = np.repeat(np.arange(n_items), 4)
    tag_matrix[tag_rows[has_tag.ravel()], tag_order.ravel()[has_tag.ravel()]] = 1.0

    content = _unit(
        _row_normalized(genre_matrix) @ embeddings["genre"]
        + 0.7 * _row_normalized(tag_matrix) @ embeddings["tag"]
        + 0.6 * independent[:, None] * embeddings["independent"]
    )

    release_day = _release_days(rng, n_items, n_days, new_item_share)
    release = pd.to_datetime(start_s + release_day * SECONDS_PER_DAY, unit="s")
    runtime = np.clip(
        np.array([t.runtime for t in texts])[primary] + rng.normal(0, 12, n_items).round(), 70, 190
    ).astype(np.int64)
    genre_names = np.array(GENRES)
    items = pd.DataFrame(
        {
            "title": draw_titles(rng, primary, release_day),
            "genres": _lists(genre_names[genre_order], has_genre),
            "year": pd.array(release.year, dtype="Int64"),
            "tags": _lists(tag_names[tag_order], has_tag),
            "description": draw_descriptions(rng, primary, secondary[:, 0], n_genres_of_item > 1),
            "release_date": release,
            "provider": np.where(independent, "independent", "studio"),
            "runtime": runtime,
        },
        index=pd.RangeIndex(1, n_items + 1, name="item_id"),
    )
    return items, content


def _release_days(rng, n_items, n_days, new_item_share) -> np.ndarray:
    """Day of release relative to the start: back catalogue before 0 (more recent titles
    more common, none before 1950), new releases spread over the period (not the last month)."""
    is_new = rng.random(n_items) < new_item_share
    back_catalogue = -np.minimum(rng.exponential(10 * 365.25, n_items), 70 * 365.25)
    new_release = rng.uniform(0, n_days - 30, n_items)
    return np.floor(np.where(is_new, new_release, back_catalogue)).astype(np.int64)


def _lists(names: np.ndarray, keep: np.ndarray) -> list[list[str]]:
    """Row-wise Python lists of ``names[row][keep[row]]`` (the data contract wants lists)."""
    flat = names[keep].tolist()
    return [
        list(part) for part in np.split(np.array(flat, dtype=object), np.cumsum(keep.sum(1))[:-1])
    ]


def _make_users(rng, n_users, embeddings, minority_share):
    """Users frame and unit taste directions (docstring, step 3)."""
    names = list(SEGMENTS)
    segments = list(SEGMENTS.values())
    majority_total = sum(s.share for n, s in SEGMENTS.items() if n != MINORITY_SEGMENT)
    shares = np.array(
        [
            minority_share
            if n == MINORITY_SEGMENT
            else s.share * (1 - minority_share) / majority_total
            for n, s in SEGMENTS.items()
        ]
    )
    segment = rng.choice(len(names), size=n_users, p=shares)
    age_cdf = np.cumsum([s.age_shares for s in segments], axis=1)
    age = np.minimum((rng.random(n_users)[:, None] > age_cdf[segment]).sum(1), len(AGE_GROUPS) - 1)
    region = rng.choice(len(REGIONS), size=n_users, p=[0.3, 0.25, 0.2, 0.25])
    genre_weights = np.array([[s.favourite_genres.get(g, 0.1) for g in GENRES] for s in segments])
    favourites = _gumbel_order(rng, np.log(genre_weights[segment]))[:, :2]
    likes_independent = np.array([s.likes_independent for s in segments])[segment]
    taste = _unit(
        embeddings["genre"][favourites].mean(axis=1)
        + 0.7 * likes_independent[:, None] * embeddings["independent"]
    )
    users = pd.DataFrame(
        {
            "age_group": np.array(AGE_GROUPS)[age],
            "region": np.array(REGIONS)[region],
            "segment": np.array(names)[segment],
        },
        index=pd.RangeIndex(1, n_users + 1, name="user_id"),
    )
    return users, taste


def _mix(rng, direction: np.ndarray, share: float) -> np.ndarray:
    """``sqrt(c) * (sqrt(share) * direction + sqrt(1 - share) * noise)``, noise ~ N(0, I/d)."""
    n, d = direction.shape
    noise = rng.normal(0.0, 1.0 / np.sqrt(d), size=(n, d))
    return np.sqrt(_FACTOR_SCALE) * (np.sqrt(share) * direction + np.sqrt(1 - share) * noise)


def _exposure(rng, item_bias, studio, popularity_exponent) -> np.ndarray:
    """Zipf-like promotion weights ``rank ** -alpha`` (docstring, step 5), summing to 1."""
    promotion = 0.5 * item_bias / _ITEM_BIAS_SD + 0.8 * studio + rng.normal(size=len(item_bias))
    rank = np.empty(len(item_bias))
    rank[np.argsort(-promotion)] = np.arange(1, len(item_bias) + 1)
    weights = rank**-popularity_exponent
    return weights / weights.sum()


def _simulate_history(rng, world, n_interactions, selectivity, start_s, n_days, focus=None):
    """Interactions frame (docstring, steps 6-8) and each user's signup date."""
    n_users = world.n_users
    join_day = rng.uniform(0, n_days - 30, n_users)
    leave_day = np.minimum(join_day + rng.uniform(30, n_days, n_users), n_days - 1)
    join_s = _evening(rng, start_s, join_day)
    leave_s = np.maximum(_evening(rng, start_s, leave_day), join_s + 3600)
    release_s = world.release_date.astype("datetime64[s]").astype(np.int64)

    window = (leave_s - join_s).astype(float)[:, None]
    earliest = np.maximum(join_s[:, None], release_s[None, :])
    available = np.clip((leave_s[:, None] - earliest) / window, 0.0, 1.0)
    n_watched = _activity(rng, n_users, n_interactions, (available > 0).sum(1))

    log_weight = (
        np.log(world.exposure)
        + _QUALITY_PULL * world.item_bias
        + selectivity * (world.user_factors @ world.item_factors.T)
        + np.log(np.where(available > 0, available, 1e-300))
    )
    order = _gumbel_order(rng, log_weight)[:, : n_watched.max()]
    chosen = np.arange(order.shape[1]) < n_watched[:, None]
    users = np.repeat(np.arange(n_users), n_watched)
    items = order[chosen]

    ratings = world.simulate_ratings(users, items[:, None], seed=rng)[:, 0]

    timestamps = _session_times(
        rng, users, items, n_watched, join_s, leave_s, release_s, start_s, world.runtime, focus
    )
    order = np.lexsort((items, users, timestamps))
    interactions = pd.DataFrame(
        {
            "user_id": world.user_ids.to_numpy()[users[order]].astype(np.int64),
            "item_id": world.item_ids.to_numpy()[items[order]].astype(np.int64),
            "rating": ratings[order].astype(np.float64),
            "timestamp": pd.to_datetime(timestamps[order], unit="s"),
        }
    )
    signup = pd.to_datetime(join_s, unit="s").normalize()
    return interactions, signup


def _evening(rng, start_s, day: np.ndarray) -> np.ndarray:
    """Timestamps (seconds) on the given days, mostly in the evening (peak 20:00-22:00)."""
    hour_weights = np.array(
        [2, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 6, 8, 10, 12, 12, 9, 5.0]
    )
    hour = rng.choice(24, size=len(day), p=hour_weights / hour_weights.sum())
    seconds = hour * 3600 + rng.integers(0, 3600, size=len(day))
    return start_s + np.floor(day).astype(np.int64) * SECONDS_PER_DAY + seconds


def _activity(rng, n_users, n_interactions, capacity) -> np.ndarray:
    """Titles per user: heavy-tailed (log-normal shares), at least ``min(20, mean / 3)``,
    at most half the titles a user can reach; sums to ``n_interactions`` when possible."""
    floor = int(max(1, min(20, n_interactions // (3 * n_users))))
    cap = np.maximum(capacity // 2, 1)
    shares = rng.lognormal(0.0, 1.0, n_users)
    counts = np.minimum(np.full(n_users, floor), cap)
    for _ in range(10):  # a few rounds hand on the titles capped users could not take
        room = cap - counts
        missing = n_interactions - counts.sum()
        if missing <= 0 or room.sum() == 0:
            break
        extra = rng.multinomial(missing, _row_normalized((shares * (room > 0))[None])[0])
        counts = counts + np.minimum(extra, room)
    return counts


def _session_times(
    rng, users, items, n_watched, join_s, leave_s, release_s, start_s, runtime, focus=None
):
    """Timestamps grouped into evening sessions, never before an item's release (step 8).

    ``focus = (generator, theme of each item, share)`` (step 9): each (user, theme) has a
    random spot among the user's sessions; a ``share`` of the events go to the session at
    their theme's spot (plus or minus about one session) instead of a random one."""
    n_users = len(n_watched)
    n_sessions = np.maximum(1, np.ceil(n_watched / _SESSION_EVENTS).astype(np.int64))
    session_user = np.repeat(np.arange(n_users), n_sessions)
    join_day = (join_s - start_s) / SECONDS_PER_DAY
    leave_day = (leave_s - start_s) / SECONDS_PER_DAY
    day = rng.uniform(join_day[session_user], leave_day[session_user])
    session_time = np.clip(_evening(rng, start_s, day), join_s[session_user], leave_s[session_user])
    is_last = np.cumsum(n_sessions) - 1
    session_time[is_last] = leave_s  # the last session can host any title released before leaving
    order = np.lexsort((session_time, session_user))
    session_user, session_time = session_user[order], session_time[order]

    # Composite key (user, time) so one searchsorted finds each event's first eligible session.
    origin = min(session_time.min(), start_s)
    span = int(session_time.max() - origin) + 1
    keys = session_user * span + (session_time - origin)
    earliest = np.maximum(release_s[items] - origin, 0)
    first = np.searchsorted(keys, users * span + earliest, side="left")
    last = np.cumsum(n_sessions)[users]  # one past the user's last session
    skew = np.where(release_s[items] >= start_s, _FRESH_SESSION_SKEW, 1.0)
    session = first + np.floor(rng.random(len(items)) ** skew * (last - first)).astype(np.int64)
    if focus is not None:
        focus_rng, theme, share = focus
        spot = focus_rng.random((n_users, theme.max() + 1))[users, theme[items]]
        place = np.floor(spot * (last - first) + focus_rng.normal(0.0, 1.0, len(items)))
        focused = first + np.clip(place, 0, last - first - 1).astype(np.int64)
        session = np.where(focus_rng.random(len(items)) < share, focused, session)

    # Titles in a session follow each other: runtime plus a 5-20 minute pause.
    by_session = np.lexsort((rng.random(len(items)), session))
    duration = runtime[items[by_session]] * 60 + rng.integers(300, 1200, size=len(items))
    elapsed = np.cumsum(duration) - duration
    starts_session = np.r_[True, session[by_session][1:] != session[by_session][:-1]]
    session_start = np.maximum.accumulate(np.where(starts_session, np.arange(len(items)), 0))
    offset = np.empty(len(items), dtype=np.int64)
    offset[by_session] = elapsed - elapsed[session_start]
    return session_time[session] + offset


# --------------------------------------------------------------------------------------
# Small numeric helpers
# --------------------------------------------------------------------------------------


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _row_normalized(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1e-12)


def _gumbel_order(rng, log_weights: np.ndarray) -> np.ndarray:
    """Row-wise random order in which ``order[:, :k]`` is a weighted sample of ``k`` without
    replacement (Gumbel top-k trick): ``argsort(-(log w + Gumbel noise))``."""
    return np.argsort(-(log_weights + rng.gumbel(size=log_weights.shape)), axis=1)
