"""A small simulated outdoor shop: shopping baskets for "bought together" lists.

Lesson 03 (``notebooks/03_item_knn.ipynb``) uses it for Amazon-style shelves ("customers who
bought hiking boots also bought socks, gaiters and a daypack").

Generative story: each basket is one shopping *mission* (hiking, camping, trail running,
...; the ground truth is :data:`SHOP_MISSIONS`) chosen by its popularity; the basket holds a
few products of that mission's categories, plus, with small probability, an *impulse* buy
from :data:`SHOP_IMPULSE` (water bottle, energy bars) that sells with everything. Raw
co-occurrence therefore ranks the impulse items high for every product, while lift does
not: the lesson's point about normalising by popularity. Items carry a department (as
``genres``), ``category``, ``brand`` and ``price``, so content similarity finds substitutes
(other boots) and co-purchase finds complements (socks). Interactions have ``rating = 1.0``
and a ``basket_id`` column; ``world`` is ``None``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_lessons.data.catalogue import LICENSE, REGIONS, SECONDS_PER_DAY
from recsys_lessons.data.catalogue_words import join_words
from recsys_lessons.data.dataset import Dataset
from recsys_lessons.validation import check_positive_int, check_seed

__all__ = ["SHOP_IMPULSE", "SHOP_MISSIONS", "generate_shop"]

#: Shopping missions of the outdoor shop: the categories a basket for that activity may hold,
#: each with the chance it is included. This is the ground truth behind "bought together"
#: lists (lesson 03, ``notebooks/03_item_knn.ipynb``): hiking boots go with socks, gaiters, a daypack.
SHOP_MISSIONS = {
    "hiking": {"hiking boots": 0.55, "hiking socks": 0.6, "gaiters": 0.3, "daypack": 0.4,
               "trekking poles": 0.25, "rain jacket": 0.25},
    "camping": {"tent": 0.5, "sleeping bag": 0.5, "sleeping mat": 0.4, "camp stove": 0.35,
                "headlamp": 0.35, "rain jacket": 0.15},
    "trail running": {"trail shoes": 0.55, "running socks": 0.55, "running vest": 0.35,
                      "energy gels": 0.45, "headlamp": 0.15},
    "cycling": {"bike helmet": 0.45, "cycling gloves": 0.4, "bike lights": 0.4,
                "inner tubes": 0.45, "energy gels": 0.2},
    "climbing": {"climbing shoes": 0.5, "chalk bag": 0.5, "harness": 0.35, "belay device": 0.3,
                 "chalk": 0.45},
    "skiing": {"ski goggles": 0.45, "ski gloves": 0.45, "base layer": 0.45, "ski socks": 0.5,
               "beanie": 0.35},
    "yoga": {"yoga mat": 0.6, "yoga blocks": 0.45, "yoga strap": 0.3},
    "travel": {"travel backpack": 0.45, "packing cubes": 0.45, "travel adapter": 0.4,
               "neck pillow": 0.35},
}  # fmt: skip
#: How often each mission is a customer's main activity, before personal variation.
_MISSION_POPULARITY = {"hiking": 0.22, "camping": 0.18, "trail running": 0.14, "cycling": 0.13,
                       "climbing": 0.08, "skiing": 0.09, "yoga": 0.08, "travel": 0.08}  # fmt: skip
#: Bought on any mission (the checkout impulse buy): frequent with everything, so raw
#: co-occurrence overrates them and lift does not.
SHOP_IMPULSE = {"water bottle": 0.18, "energy bars": 0.15}
#: Department (the items' ``genres``) and typical price in euros of each category.
_SHOP_CATEGORIES = {
    "hiking boots": ("Footwear", 150), "trail shoes": ("Footwear", 130),
    "climbing shoes": ("Footwear", 110), "hiking socks": ("Socks", 18),
    "running socks": ("Socks", 14), "ski socks": ("Socks", 22),
    "rain jacket": ("Clothing", 180), "base layer": ("Clothing", 60),
    "beanie": ("Clothing", 25), "ski gloves": ("Clothing", 55),
    "cycling gloves": ("Clothing", 30), "daypack": ("Bags", 80),
    "travel backpack": ("Bags", 140), "running vest": ("Bags", 90),
    "packing cubes": ("Bags", 30), "chalk bag": ("Bags", 20),
    "tent": ("Camping", 300), "sleeping bag": ("Camping", 160), "sleeping mat": ("Camping", 70),
    "camp stove": ("Camping", 60), "headlamp": ("Camping", 40), "gaiters": ("Accessories", 40),
    "trekking poles": ("Accessories", 70), "ski goggles": ("Accessories", 90),
    "bike lights": ("Accessories", 45), "travel adapter": ("Accessories", 20),
    "neck pillow": ("Accessories", 25), "water bottle": ("Accessories", 15),
    "harness": ("Climbing", 65), "belay device": ("Climbing", 30), "chalk": ("Climbing", 8),
    "bike helmet": ("Cycling", 75), "inner tubes": ("Cycling", 9),
    "energy gels": ("Nutrition", 12), "energy bars": ("Nutrition", 10),
    "yoga mat": ("Yoga", 45), "yoga blocks": ("Yoga", 20), "yoga strap": ("Yoga", 12),
}  # fmt: skip
_SHOP_BRANDS = ("Ridgeline", "Northpeak", "Alpenglow", "Tundra", "Switchback", "Basecamp",
                "Kestrel", "Cairn")  # fmt: skip
_SHOP_MODELS = ("Summit", "Trail", "Ascent", "Vista", "Pro", "Lite", "Explorer", "Venture",
                "Ember", "Drift")  # fmt: skip
_SHOP_LICENSE = LICENSE.replace("no real people or titles", "no real people, products or brands")


def generate_shop(
    seed: int = 42,
    n_customers: int = 2000,
    n_baskets: int = 20_000,
    *,
    products_per_category: int = 6,
    start: str = "2023-01-01",
    n_days: int = 365,
) -> Dataset:
    """Simulate an outdoor-sports shop's orders, for "bought together" lists (lesson 03).

    Story: each customer has a mix of activities (``Dirichlet(0.3)`` times
    the mission popularity). A basket is one shopping mission drawn from that mix; each
    category of the mission (:data:`SHOP_MISSIONS`) goes in with its probability (at least
    the mission's likeliest one), each impulse category (:data:`SHOP_IMPULSE`) with its
    own; within a category, product ``j`` (``j = 1..products_per_category``) is chosen with
    probability proportional to ``1 / j``. Baskets are spread over the period at shop hours.
    Complements (boots -> socks, gaiters, daypack) are therefore real, and substitutes
    (two pairs of boots) are rarely bought together: content similarity finds substitutes,
    co-purchase finds complements.

    Parameters
    ----------
    seed : int
        Everything is drawn from ``numpy.random.default_rng(seed)``.
    n_customers, n_baskets : int
        Sizes; a basket holds about 2-3 products.
    products_per_category : int
        Products of each of the 38 categories (1..80).
    start : str
        First day of the period (ISO date).
    n_days : int
        Length of the period in days.

    Returns
    -------
    Dataset
        Named ``"synthetic-shop"``. ``interactions``: one row per product bought, with
        ``rating`` 1.0 (a purchase is implicit feedback), ``timestamp`` and ``basket_id``.
        ``items``: title ("Ridgeline Summit Hiking Boots"), genres (``[department]``), year,
        category, brand, price, release_date. ``users``: region and favourite_activity.
        ``world`` is ``None``; the ground truth is :data:`SHOP_MISSIONS`.
    """
    seed = check_seed(seed)
    n_customers = check_positive_int(n_customers, "n_customers")
    n_baskets = check_positive_int(n_baskets, "n_baskets")
    n_days = check_positive_int(n_days, "n_days", "the length of the period in days")
    n_models = len(_SHOP_BRANDS) * len(_SHOP_MODELS)
    products_per_category = check_positive_int(products_per_category, "products_per_category")
    if products_per_category > n_models:
        raise ValueError(
            f"products_per_category must lie in 1..{n_models}; got {products_per_category}."
        )
    rng = np.random.default_rng(seed)
    start_s = int(pd.Timestamp(start).normalize().timestamp())
    categories = list(_SHOP_CATEGORIES)
    missions = list(SHOP_MISSIONS)
    inclusion = np.zeros((len(missions), len(categories)))
    for m, chances in enumerate(SHOP_MISSIONS.values()):
        inclusion[m, [categories.index(c) for c in chances]] = list(chances.values())
    impulse = np.zeros(len(categories))
    impulse[[categories.index(c) for c in SHOP_IMPULSE]] = list(SHOP_IMPULSE.values())

    items = _shop_products(rng, categories, products_per_category, start_s)

    mix = rng.dirichlet(np.full(len(missions), 0.3), size=n_customers)
    mix = mix * np.array([_MISSION_POPULARITY[m] for m in missions])
    mix = mix / mix.sum(axis=1, keepdims=True)
    activity = rng.lognormal(0, 1, n_customers)
    customer = rng.choice(n_customers, size=n_baskets, p=activity / activity.sum())
    mission = np.minimum(
        (rng.random(n_baskets)[:, None] > np.cumsum(mix[customer], axis=1)).sum(1),
        len(missions) - 1,
    )
    chance = inclusion[mission]
    include = rng.random(chance.shape) < chance
    empty = ~include.any(axis=1)
    include[empty, chance[empty].argmax(axis=1)] = True
    include |= rng.random(chance.shape) < impulse

    basket, category = np.nonzero(include)
    product_weights = np.cumsum(1.0 / np.arange(1, products_per_category + 1))
    within = np.searchsorted(
        product_weights / product_weights[-1], rng.random(len(basket)), side="right"
    )
    product = category * products_per_category + np.minimum(within, products_per_category - 1)
    day = rng.integers(0, n_days, n_baskets)
    basket_time = start_s + day * SECONDS_PER_DAY + rng.integers(9 * 3600, 21 * 3600, n_baskets)
    basket_rank = np.empty(n_baskets, dtype=np.int64)  # baskets are numbered in time order
    basket_rank[np.argsort(basket_time, kind="stable")] = np.arange(1, n_baskets + 1)
    order = np.lexsort((product, basket_rank[basket]))
    interactions = pd.DataFrame(
        {
            "user_id": customer[basket[order]].astype(np.int64) + 1,
            "item_id": product[order].astype(np.int64) + 1,
            "rating": np.ones(len(order)),
            "timestamp": pd.to_datetime(basket_time[basket[order]], unit="s"),
            "basket_id": basket_rank[basket[order]],
        }
    )
    users = pd.DataFrame(
        {
            "region": np.array(REGIONS)[rng.choice(len(REGIONS), size=n_customers)],
            "favourite_activity": np.array(missions)[mix.argmax(axis=1)],
        },
        index=pd.RangeIndex(1, n_customers + 1, name="user_id"),
    )
    return Dataset(
        name="synthetic-shop",
        interactions=interactions,
        items=items,
        users=users,
        license=_SHOP_LICENSE,
        citation=f"recsys-lessons simulated outdoor shop (generate_shop(seed={seed}))",
    )


def _shop_products(rng, categories, per_category, start_s) -> pd.DataFrame:
    """Products named "{brand} {model} {Category}", distinct within each category."""
    n_categories = len(categories)
    combos = np.argsort(rng.random((n_categories, len(_SHOP_BRANDS) * len(_SHOP_MODELS))), axis=1)
    combo = combos[:, :per_category].ravel()
    category = np.repeat(np.arange(n_categories), per_category)
    brand = np.array(_SHOP_BRANDS)[combo // len(_SHOP_MODELS)]
    model = np.array(_SHOP_MODELS)[combo % len(_SHOP_MODELS)]
    category_names = np.array(categories)
    department = np.array([d for d, _ in _SHOP_CATEGORIES.values()])[category]
    base_price = np.array([p for _, p in _SHOP_CATEGORIES.values()], dtype=float)[category]
    price = np.round(base_price * rng.lognormal(0, 0.25, len(category)), 0) - 0.01
    release = pd.to_datetime(
        start_s - rng.integers(30, 3 * 365, len(category)) * SECONDS_PER_DAY, unit="s"
    )
    return pd.DataFrame(
        {
            "title": join_words(brand, " ", model, " ", np.strings.title(category_names[category])),
            "genres": [[d] for d in department.tolist()],
            "year": pd.array(release.year, dtype="Int64"),
            "category": category_names[category],
            "brand": brand,
            "price": price,
            "release_date": release,
        },
        index=pd.RangeIndex(1, len(category) + 1, name="item_id"),
    )
