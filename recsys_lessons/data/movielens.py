"""Readers for the two MovieLens releases the course uses, each returning a :class:`Dataset`.

MovieLens is collected by GroupLens Research (University of Minnesota) from the movielens.org
recommender. The course reads two releases:

- ``movielens-100k`` (``ml-100k``, 1998): 100,000 ratings 1..5 by 943 users on 1,682 movies,
  with user demographics (age, gender, occupation, zip code). The canonical course dataset.
- ``movielens-latest-small`` (``ml-latest-small``, 2018): 100,836 half-star ratings by 610
  users on 9,742 movies, plus 3,683 free-text tags. No demographics.

Both readers take the extracted release folder (a :class:`pathlib.Path`) or the same folder
inside the official zip archive (a :class:`zipfile.Path`), so a read-only copy of the
archive can be used without unpacking it. Finding the files (environment folder, cache,
download) is the job of :func:`recsys_lessons.data.loading.load_dataset`.

Conventions shared by both readers:

- interactions: ``user_id``, ``item_id`` (int64), ``rating`` (float64), ``timestamp``
  (datetime64, UTC wall-clock time without a time zone), sorted by timestamp with a stable
  sort (ties keep file order), index reset;
- items: indexed by ``item_id`` with ``title`` as published (year included), ``genres`` as a
  list of genre names and ``year`` (nullable Int64). An item without any genre gets an empty
  list: ML-100K flags such movies as genre "unknown" (2 movies, never together with another
  genre) and ML Latest Small writes "(no genres listed)"; both mean "no genre recorded", so
  neither placeholder is kept as if it were a genre.

Lesson 00 (``notebooks/00_welcome_and_data.ipynb``) explores both.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_lessons.data.dataset import Dataset

CITATION = (
    "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and "
    "Context. ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4, Article 19 "
    "(December 2015), 19 pages. https://doi.org/10.1145/2827872"
)

_COMMON_TERMS = (
    "Collected by the GroupLens Research Project at the University of Minnesota "
    "(https://grouplens.org/datasets/movielens/). May be used for research purposes, "
    "including teaching, under these conditions: do not state or imply endorsement by the "
    "University of Minnesota or GroupLens; acknowledge the data set in publications (see "
    "the citation); no commercial or revenue-bearing use without permission from a faculty "
    "member of the GroupLens Research Project; "
)

LICENSE_100K = (
    "MovieLens 100K (ml-100k). "
    + _COMMON_TERMS
    + "do not redistribute the data without separate permission. Provided without any "
    "guarantee of correctness or fitness for a purpose. Full terms: the README in ml-100k.zip."
)

LICENSE_LATEST_SMALL = (
    "MovieLens Latest Small (ml-latest-small). "
    + _COMMON_TERMS
    + "redistribution, including transformations, is allowed only under these same "
    "conditions. A development data set that may change over time. Provided without any "
    "guarantee of correctness or fitness for a purpose. Full terms: README.txt in "
    "ml-latest-small.zip."
)

NO_GENRE = {"movielens-100k": "unknown", "movielens-latest-small": "(no genres listed)"}

_ML100K_ITEM_FIELDS = ["item_id", "title", "release_date", "video_release_date", "imdb_url"]
_YEAR_IN_TITLE = r"\((\d{4})(?:\s*[-\u2013]\s*\d{4})?\)\s*$"


def read_ml100k(folder) -> Dataset:
    """Read an extracted ``ml-100k`` folder (or that folder inside ``ml-100k.zip``).

    Files used: ``u.data`` (tab-separated ``user item rating unix_time``), ``u.item``
    (Latin-1, ``|``-separated, 19 genre flags in the order of ``u.genre``), ``u.genre`` and
    ``u.user`` (``user|age|gender|occupation|zip``; blank lines are skipped).

    Parameters
    ----------
    folder : str, path-like or zipfile.Path
        The folder holding ``u.data``, ``u.item``, ``u.genre`` and ``u.user``.

    Returns
    -------
    Dataset
        ``name="movielens-100k"``. Items carry ``title``, ``genres``, ``year`` (from the
        release date, else from the ``(1995)`` in the title), ``release_date`` and
        ``imdb_url``; users carry ``age``, ``gender``, ``occupation`` and ``zip_code``
        (a string: some are Canadian postal codes).
    """
    folder = _as_folder(folder)
    _require_files(folder, ("u.data", "u.item", "u.genre", "u.user"), "MovieLens 100K")
    ratings = _read_table(
        folder / "u.data",
        sep="\t",
        names=["user_id", "item_id", "rating", "timestamp"],
        dtype={
            "user_id": "int64",
            "item_id": "int64",
            "rating": "float64",
            "timestamp": "int64",
        },
    )
    return Dataset(
        name="movielens-100k",
        interactions=_tidy_interactions(ratings),
        items=_ml100k_items(folder),
        users=_ml100k_users(folder),
        license=LICENSE_100K,
        citation=CITATION,
    )


def _ml100k_items(folder) -> pd.DataFrame:
    genre_table = _read_table(
        folder / "u.genre",
        sep="|",
        names=["genre", "flag"],
        encoding="latin-1",
        dtype={"genre": "str", "flag": "int64"},
    )
    genre_names = genre_table.sort_values("flag")["genre"].to_numpy(dtype=object)
    raw = _read_table(
        folder / "u.item",
        sep="|",
        names=_ML100K_ITEM_FIELDS + list(genre_names),
        encoding="latin-1",
        quoting=csv.QUOTE_NONE,
        dtype={
            "item_id": "int64",
            "title": "str",
            "release_date": "str",
            "imdb_url": "str",
            **{genre: "int64" for genre in genre_names},
        },
    )
    flags = raw[list(genre_names)].to_numpy(dtype=bool)
    flags[:, genre_names == NO_GENRE["movielens-100k"]] = False
    release_date = _dates(raw["release_date"], "%d-%b-%Y", folder / "u.item")
    year = release_date.dt.year.astype("Int64").fillna(_year_from_title(raw["title"]))
    items = pd.DataFrame(
        {
            "title": raw["title"],
            "genres": _lists_per_row(flags, genre_names),
            "year": year,
            "release_date": release_date,
            "imdb_url": raw["imdb_url"],
        }
    )
    items.index = pd.Index(raw["item_id"], name="item_id")
    return items


def _ml100k_users(folder) -> pd.DataFrame:
    users = _read_table(
        folder / "u.user",
        sep="|",
        names=["user_id", "age", "gender", "occupation", "zip_code"],
        dtype={
            "user_id": "int64",
            "age": "int64",
            "gender": "str",
            "occupation": "str",
            "zip_code": "str",
        },
        skip_blank_lines=True,
    )
    return users.set_index("user_id")


def read_ml_latest_small(folder) -> Dataset:
    """Read an extracted ``ml-latest-small`` folder (or that folder inside its zip).

    Files used (UTF-8 CSV with a header row): ``ratings.csv``, ``movies.csv``, ``tags.csv``
    and ``links.csv``.

    Parameters
    ----------
    folder : str, path-like or zipfile.Path
        The folder holding the four CSV files.

    Returns
    -------
    Dataset
        ``name="movielens-latest-small"``. Items carry ``title``, ``genres`` (split on
        ``|``), ``year`` (from the ``(1995)`` at the end of the title; missing for the few
        titles without one), ``tags`` (the distinct tags users gave the movie, lower-cased,
        stripped and sorted; an empty list when none), ``imdb_id`` (str, as in IMDb URLs)
        and ``tmdb_id`` (nullable Int64). Users are indexed by ``user_id`` (everyone who
        rated or tagged) with no columns: this release has no demographics.
    """
    folder = _as_folder(folder)
    files = ("ratings.csv", "movies.csv", "tags.csv", "links.csv")
    _require_files(folder, files, "MovieLens Latest Small")
    columns = {"userId": "user_id", "movieId": "item_id"}
    ratings = _read_table(
        folder / "ratings.csv",
        header=0,
        dtype={
            "userId": "int64",
            "movieId": "int64",
            "rating": "float64",
            "timestamp": "int64",
        },
    ).rename(columns=columns)
    tags = _read_table(
        folder / "tags.csv", header=0, dtype={"userId": "int64", "movieId": "int64", "tag": "str"}
    ).rename(columns=columns)
    user_ids = np.union1d(ratings["user_id"].unique(), tags["user_id"].unique())
    return Dataset(
        name="movielens-latest-small",
        interactions=_tidy_interactions(ratings),
        items=_latest_small_items(folder, tags),
        users=pd.DataFrame(index=pd.Index(user_ids, name="user_id")),
        license=LICENSE_LATEST_SMALL,
        citation=CITATION,
    )


def _latest_small_items(folder, tags: pd.DataFrame) -> pd.DataFrame:
    movies = _read_table(
        folder / "movies.csv", header=0, dtype={"movieId": "int64", "title": "str", "genres": "str"}
    )
    links = _read_table(
        folder / "links.csv",
        header=0,
        dtype={"movieId": "int64", "imdbId": "str", "tmdbId": "Int64"},
    )
    no_genre = NO_GENRE["movielens-latest-small"]
    items = pd.DataFrame(
        {
            "title": movies["title"].array,
            "genres": [[] if g == no_genre else g.split("|") for g in movies["genres"]],
            "year": _year_from_title(movies["title"]).array,
        },
        index=pd.Index(movies["movieId"], name="item_id"),
    )
    distinct = (
        tags.assign(tag=tags["tag"].str.strip().str.lower())
        .drop_duplicates(["item_id", "tag"])
        .sort_values(["item_id", "tag"])
    )
    tag_lists = distinct.groupby("item_id")["tag"].agg(list)
    items["tags"] = [tag_lists.get(item_id, []) for item_id in items.index]
    links = links.set_index("movieId")
    items["imdb_id"] = links["imdbId"].reindex(items.index)
    items["tmdb_id"] = links["tmdbId"].reindex(items.index)
    return items


def _tidy_interactions(ratings: pd.DataFrame) -> pd.DataFrame:
    """Unix seconds to datetime, then a stable sort by time with a fresh 0..n-1 index."""
    ratings = ratings.assign(timestamp=pd.to_datetime(ratings["timestamp"], unit="s"))
    return ratings.sort_values("timestamp", kind="stable", ignore_index=True)


def _year_from_title(titles: pd.Series) -> pd.Series:
    """The year in a trailing ``(1995)`` (or the start of ``(2006-2007)``); <NA> if absent."""
    return pd.to_numeric(titles.str.extract(_YEAR_IN_TITLE, expand=False)).astype("Int64")


def _lists_per_row(flags: np.ndarray, names: np.ndarray) -> list[list[str]]:
    """Turn a boolean (rows x names) matrix into one list of the flagged names per row."""
    rows, columns = np.nonzero(flags)
    bounds = np.cumsum(np.bincount(rows, minlength=len(flags)))[:-1]
    return [part.tolist() for part in np.split(names[columns], bounds)]


class DataFileError(ValueError):
    """A file of a MovieLens release cannot be parsed, or differs from the official release.

    The message names the file (and the line, when one line is at fault) and the fix.
    """


_REPLACE_ADVICE = (
    "The file is damaged (a cut-off copy or download?) or not from the official release: "
    "replace the release folder with a fresh copy of the official archive, or delete it "
    "and let load_dataset download it again."
)


def _read_table(path, header=None, **options) -> pd.DataFrame:
    """``pandas.read_csv`` of one release file; a parse failure names the file and line."""
    try:
        with path.open("rb") as handle:
            return pd.read_csv(handle, header=header, **options)
    except ValueError as error:  # ParserError, UnicodeDecodeError and bad numbers alike
        raise DataFileError(
            f"{_diagnose(path, header, options, error)} {_REPLACE_ADVICE}"
        ) from None


def _diagnose(path, header, options: dict, error: ValueError) -> str:
    """Re-read ``path`` as text to find the first line whose numbers do not parse."""
    loose = {key: value for key, value in options.items() if key != "dtype"}
    try:
        with path.open("rb") as handle:
            text = pd.read_csv(handle, header=header, dtype=str, **loose)
    except ValueError as second:
        return f"{path} cannot be read as a MovieLens file ({type(second).__name__}: {second})."
    first_line = 1 if header is None else 2
    for column, dtype in options.get("dtype", {}).items():
        if dtype not in ("int64", "Int64", "float64") or column not in text.columns:
            continue
        values = text[column]
        numbers = pd.to_numeric(values.str.strip(), errors="coerce")
        whole = "nt" in dtype  # int64 or Int64
        bad = (values.notna() & numbers.isna()) | (whole & numbers.notna() & (numbers % 1 != 0))
        if dtype != "Int64":
            bad |= values.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            wanted = "a whole number" if whole else "a number"
            return (
                f"{path}, line {row + first_line}: the {column!r} field is "
                f"{values.iloc[row]!r}, not {wanted}."
            )
    return f"{path} cannot be read as a MovieLens file ({type(error).__name__}: {error})."


def _dates(texts: pd.Series, date_format: str, path) -> pd.Series:
    """Parse dates; an unparsable one (not an empty field) names its file and line."""
    dates = pd.to_datetime(texts, format=date_format, errors="coerce")
    bad = texts.notna() & dates.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFileError(
            f"{path}, line {row + 1}: {texts.iloc[row]!r} is not a date like 01-Jan-1995. "
            + _REPLACE_ADVICE
        )
    return dates


def _as_folder(folder):
    return folder if isinstance(folder, zipfile.Path) else Path(folder)


def _require_files(folder, names: tuple[str, ...], release: str) -> None:
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} is not a complete {release} folder: {missing} missing. "
            f"Expected the files {list(names)}, as in the official archive."
        )


@dataclass(frozen=True)
class OfficialFacts:
    """What the official files of a release hold; :func:`check_official` compares a read.

    A copy cut off at a line boundary loads without a parse error, and one cut inside the
    last line can even load with a 1970 timestamp: the row counts and the exact first and
    last times catch both.
    """

    ratings_file: str
    n_ratings: int
    n_raters: int
    rating_values: tuple[float, ...]
    first_time: str
    last_time: str
    items_file: str
    n_items: int
    users_file: str
    n_users: int


def check_official(dataset: Dataset, facts: OfficialFacts, folder) -> None:
    """Raise :class:`DataFileError` naming the file when ``dataset`` differs from ``facts``."""
    ratings = dataset.interactions
    problems = []
    if len(ratings) != facts.n_ratings:
        problems.append(
            (facts.ratings_file, f"{len(ratings):,} ratings instead of {facts.n_ratings:,}")
        )
    elif ratings["user_id"].nunique() != facts.n_raters:
        problems.append(
            (
                facts.ratings_file,
                f"{ratings['user_id'].nunique():,} users instead of {facts.n_raters:,}",
            )
        )
    odd = ~ratings["rating"].isin(facts.rating_values)
    if odd.any():
        problems.append(
            (
                facts.ratings_file,
                f"rating {ratings['rating'][odd].iloc[0]!r} is not one of {facts.rating_values}",
            )
        )
    if len(ratings) and (
        ratings["timestamp"].iloc[0] != pd.Timestamp(facts.first_time)
        or ratings["timestamp"].iloc[-1] != pd.Timestamp(facts.last_time)
    ):
        problems.append(
            (
                facts.ratings_file,
                f"ratings run from {ratings['timestamp'].iloc[0]} to {ratings['timestamp'].iloc[-1]}, "
                f"not from {facts.first_time} to {facts.last_time}",
            )
        )
    if len(dataset.items) != facts.n_items:
        problems.append(
            (facts.items_file, f"{len(dataset.items):,} movies instead of {facts.n_items:,}")
        )
    if len(dataset.users) != facts.n_users:
        problems.append(
            (facts.users_file, f"{len(dataset.users):,} users instead of {facts.n_users:,}")
        )
    if problems:
        file, what = problems[0]
        raise DataFileError(
            f"{folder / file} does not match the official release: {what}. {_REPLACE_ADVICE}"
        )


@dataclass(frozen=True)
class Release:
    """Where a MovieLens release comes from and how to check and read it.

    ``size`` and ``sha256`` describe the official zip archive; the data layer verifies a
    download (and a zip found on disk) against them before using it, and checks an
    extracted folder against ``facts`` after reading it (``None``: no check).
    """

    name: str
    title: str
    folder: str
    archive: str
    size: int
    sha256: str
    files: tuple[str, ...]
    reader: Callable[[object], Dataset]
    facts: OfficialFacts | None = None


#: The official archives, keyed by dataset name (values from GroupLens' published files).
RELEASES: dict[str, Release] = {
    "movielens-100k": Release(
        name="movielens-100k",
        title="MovieLens 100K",
        folder="ml-100k",
        archive="ml-100k.zip",
        size=4_924_029,
        sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        files=("u.data", "u.item", "u.genre", "u.user"),
        reader=read_ml100k,
        facts=OfficialFacts(
            ratings_file="u.data",
            n_ratings=100_000,
            n_raters=943,
            rating_values=(1.0, 2.0, 3.0, 4.0, 5.0),
            first_time="1997-09-20 03:05:10",
            last_time="1998-04-22 23:10:38",
            items_file="u.item",
            n_items=1_682,
            users_file="u.user",
            n_users=943,
        ),
    ),
    "movielens-latest-small": Release(
        name="movielens-latest-small",
        title="MovieLens Latest Small",
        folder="ml-latest-small",
        archive="ml-latest-small.zip",
        size=978_202,
        sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        files=("ratings.csv", "movies.csv", "tags.csv", "links.csv"),
        reader=read_ml_latest_small,
        facts=OfficialFacts(
            ratings_file="ratings.csv",
            n_ratings=100_836,
            n_raters=610,
            rating_values=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0),
            first_time="1996-03-29 18:36:55",
            last_time="2018-09-24 14:27:30",
            items_file="movies.csv",
            n_items=9_742,
            users_file="ratings.csv",  # users are everyone who rated or tagged
            n_users=610,
        ),
    ),
}
