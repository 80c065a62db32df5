"""Lesson 00: where the data comes from.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.data.loading` | ``load_dataset(name)``: MovieLens or the simulated catalogue, one ``Dataset`` shape |
| :mod:`~recsys_lessons.data.dataset` | the ``Dataset`` dataclass and its schema check |
| :mod:`~recsys_lessons.data.matrix` | the CSR user x item matrix with its id <-> index maps |
| :mod:`~recsys_lessons.data.movielens` | parsing the official MovieLens files and checking their published facts |
| :mod:`~recsys_lessons.data.download` | verified, atomic downloads and safe archive extraction |
| :mod:`~recsys_lessons.data.world` | ``SimulatedWorld``: the ground truth of the simulated service (tastes, ratings, clicks, watch time) |
| :mod:`~recsys_lessons.data.catalogue` | ``generate_catalogue``: the simulated streaming catalogue drawn from a world, its knobs in ``CatalogueConfig`` |
| :mod:`~recsys_lessons.data.catalogue_words` | the words the simulated titles and descriptions are made of, and how they are drawn |
| :mod:`~recsys_lessons.data.shop` | simulated shopping baskets for "bought together" lists (lesson 03) |
"""

from recsys_lessons.data.catalogue import SEGMENTS, CatalogueConfig, generate_catalogue
from recsys_lessons.data.catalogue_words import GENRES
from recsys_lessons.data.dataset import INTERACTION_COLUMNS, ITEM_COLUMNS, Dataset, validate_schema
from recsys_lessons.data.download import (
    CHUNK_BYTES,
    STALE_PART_SECONDS,
    DownloadError,
    download_verified,
    safe_extract,
)
from recsys_lessons.data.loading import (
    BASE_URL,
    DATASETS,
    DatasetUnavailableError,
    cache_dir,
    load_dataset,
    resolve_auto,
)
from recsys_lessons.data.matrix import InteractionMatrix, interaction_matrix
from recsys_lessons.data.movielens import (
    CITATION,
    LICENSE_100K,
    LICENSE_LATEST_SMALL,
    NO_GENRE,
    RELEASES,
    DataFileError,
    OfficialFacts,
    Release,
    check_official,
    read_ml100k,
    read_ml_latest_small,
)
from recsys_lessons.data.shop import SHOP_IMPULSE, SHOP_MISSIONS, generate_shop
from recsys_lessons.data.world import SimulatedWorld

__all__ = [
    "BASE_URL",
    "CHUNK_BYTES",
    "CITATION",
    "CatalogueConfig",
    "DATASETS",
    "DataFileError",
    "Dataset",
    "DatasetUnavailableError",
    "DownloadError",
    "GENRES",
    "INTERACTION_COLUMNS",
    "ITEM_COLUMNS",
    "InteractionMatrix",
    "LICENSE_100K",
    "LICENSE_LATEST_SMALL",
    "NO_GENRE",
    "OfficialFacts",
    "RELEASES",
    "Release",
    "SEGMENTS",
    "SHOP_IMPULSE",
    "SHOP_MISSIONS",
    "STALE_PART_SECONDS",
    "SimulatedWorld",
    "cache_dir",
    "check_official",
    "download_verified",
    "generate_catalogue",
    "generate_shop",
    "interaction_matrix",
    "load_dataset",
    "read_ml100k",
    "read_ml_latest_small",
    "resolve_auto",
    "safe_extract",
    "validate_schema",
]
