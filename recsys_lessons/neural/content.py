"""The raw content of items, as the input of a neural item tower.

One home per idea: the words of titles and descriptions, the genres and the tags are lesson
02's :func:`~recsys_lessons.models.content_based.build_item_features` (TF-IDF, rare terms
dropped, each block scaled to unit length); the release-year bands are lesson 05's
:func:`~recsys_lessons.coldstart.new_items.item_attributes`. :func:`item_content` puts them
side by side, one row per item, for :class:`~recsys_lessons.neural.TwoTower`.

On the course's datasets this gives: MovieLens 100K title words, genres and year bands;
MovieLens Latest Small the same plus tags; the simulated catalogue title and description
words, genres, tags and year bands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.coldstart.new_items import item_attributes
from recsys_lessons.models.content_based import ItemFeatures, build_item_features
from recsys_lessons.validation import check_non_negative_int

__all__ = ["item_content"]


def item_content(
    items: pd.DataFrame, min_count: int = 2, year_bands: int = 8, now=None, weights=None
) -> ItemFeatures:
    """One sparse row of content features per item: words, genres, tags and release years.

    Blocks, from the columns ``items`` has:

    - ``"title"`` and ``"description"``: TF-IDF of the words (lower-cased, two letters or
      more, no digits, English stop words removed), each block of unit length;
    - ``"genres"``: one-hot; ``"tags"``: TF-IDF of the tags (lower-cased);
    - ``"year"``: one-hot release-year band (``year_bands`` bands of about equal size;
      none when ``year_bands`` is 0 or there is no ``year`` column);
    - ``"released"``: one-hot "released N days before ``now``" band, when ``now`` is given
      and ``items`` has ``release_date`` (recent titles draw the crowd: it matters for new
      items).

    Words and tags held by fewer than ``min_count`` items are dropped: they cannot tell an
    item apart from another. Details in :func:`~recsys_lessons.models.content_based.build_item_features`
    and :func:`~recsys_lessons.coldstart.new_items.item_attributes`.

    Parameters
    ----------
    items : pandas.DataFrame
        One row per item, e.g. ``dataset.items.reindex(matrix.item_ids)``.
    min_count : int >= 1
        Minimum number of items a word or tag must occur in.
    year_bands : int >= 0
        Bands of the release year (0: no year block).
    now : datetime-like, optional
        The day the recommendations are made (e.g. the last training timestamp).
    weights : dict of str to float, optional
        Weight of each word, genre and tag block, as in ``build_item_features`` (0 or
        absent leaves a block out: ``{"genres": 1.0}`` keeps genres only). Default: every
        block the table has. On MovieLens 100K's cold items, title words hurt (they name
        single films: the content tower over-fits them).

    Returns
    -------
    ItemFeatures
        ``matrix`` (CSR, n_items x n_features), ``names`` and ``blocks`` of the columns.
    """
    year_bands = check_non_negative_int(year_bands, "year_bands", "bands of the release year")
    features = build_item_features(items, weights=weights, min_df=min_count)
    dates = [c for c in ("year", "release_date") if c in items.columns and items[c].notna().any()]
    if year_bands == 0:
        dates = [c for c in dates if c != "year"]
    if now is None:
        dates = [c for c in dates if c != "release_date"]
    if not dates:
        return features
    bands = item_attributes(items[dates], now=now, year_bands=max(year_bands, 1))
    blocks = bands.columns.str.partition("=")
    return ItemFeatures(
        matrix=sp.csr_matrix(sp.hstack([features.matrix, sp.csr_matrix(bands.to_numpy())])),
        names=np.concatenate([features.names, blocks.get_level_values(2)]),
        blocks=np.concatenate([features.blocks, blocks.get_level_values(0)]),
    )
