"""One entry point to the course's data: :func:`load_dataset`.

Every lesson starts with ``dataset = load_dataset(DATASET)`` and gets a :class:`Dataset`
(tidy ``interactions``, ``items`` and ``users`` frames), whatever the source:

- ``"movielens-100k"``: MovieLens 100K, the canonical course data, with demographics;
- ``"movielens-latest-small"``: MovieLens Latest Small, newer, with user tags;
- ``"synthetic"``: the built-in simulated streaming catalogue, always available;
- ``"auto"`` (default): MovieLens 100K when it can be obtained, else ``"synthetic"``.

Where MovieLens comes from, in this order:

1. the folder named by the environment variable ``RECSYS_LESSONS_DATA``, holding the
   extracted ``ml-100k/`` / ``ml-latest-small/`` folders or the official zip archives;
2. the download cache: the ``data_dir`` argument, else ``RECSYS_LESSONS_CACHE``, else the
   ``data/`` folder of the course checkout, else ``~/.cache/recsys-lessons``;
3. a download from GroupLens (``BASE_URL``, overridable with ``RECSYS_LESSONS_BASE_URL``)
   into the cache, verified by size and SHA-256, unless offline (``offline=True`` or
   ``RECSYS_LESSONS_OFFLINE=1``).

A zip archive found on disk is checked against the official size and SHA-256 too, and read
in place without unpacking.

Lesson 00 (``notebooks/00_welcome_and_data.ipynb``) tours the data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import sys
import zipfile
from pathlib import Path

import pandas as pd

from recsys_lessons.data import movielens
from recsys_lessons.data.dataset import Dataset
from recsys_lessons.data.download import DownloadError, download_verified, safe_extract
from recsys_lessons.validation import check_positive_int, check_seed, is_integer, is_number

__all__ = [
    "BASE_URL",
    "DATASETS",
    "DatasetUnavailableError",
    "cache_dir",
    "load_dataset",
    "resolve_auto",
]

#: The dataset names :func:`load_dataset` accepts, besides ``"auto"``.
DATASETS = ("movielens-100k", "movielens-latest-small", "synthetic")

#: Official GroupLens download location; the environment variable wins when set.
BASE_URL = "https://files.grouplens.org/datasets/movielens/"

AUTO_PREFERENCE = "movielens-100k"
_TRUE_WORDS = {"1", "true", "yes", "on"}


class DatasetUnavailableError(ValueError):
    """A MovieLens dataset was asked for by name but could not be found or downloaded.

    The message lists every place that was tried and how to fix it; ``tried`` holds the
    same list as strings.
    """

    def __init__(self, message: str, tried: list[str]):
        super().__init__(message)
        self.tried = tried


def load_dataset(
    name: str = "auto",
    *,
    seed: int = 42,
    data_dir=None,
    offline: bool | None = None,
    **synthetic_sizes,
) -> Dataset:
    """Load a dataset by name as a :class:`Dataset`.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS` or ``"auto"`` (default). ``"auto"`` follows the environment
        variable ``RECSYS_LESSONS_DATASET`` when it is set; otherwise it loads MovieLens
        100K when it can be obtained, else the simulated catalogue, printing one line that
        says so and how to get MovieLens.
    seed : int
        Seed of the simulated catalogue (MovieLens is fixed data and ignores it).
    data_dir : str or path-like, optional
        Download cache folder; see :func:`cache_dir` for the default.
    offline : bool, optional
        Forbid network access. Default: ``True`` when ``RECSYS_LESSONS_OFFLINE=1``.
    **synthetic_sizes
        Passed to :func:`recsys_lessons.data.catalogue.generate_catalogue` (``n_users``,
        ``n_items``, ...) when the simulated catalogue is loaded; ignored when ``"auto"``
        finds MovieLens, so a notebook's parameters work with either source.

    Returns
    -------
    Dataset

    Examples
    --------
    A small simulated catalogue (offline, a fraction of a second):

    >>> data = load_dataset("synthetic", n_users=50, n_items=40, n_interactions=400, seed=0)
    >>> data.name, len(data.users), len(data.items), len(data.interactions)
    ('synthetic', 50, 40, 400)
    >>> data.interactions.columns.tolist()
    ['user_id', 'item_id', 'rating', 'timestamp']

    Raises
    ------
    DatasetUnavailableError
        A MovieLens dataset asked for by name cannot be found or downloaded; the message
        lists every place tried and the fix.
    ValueError
        Unknown name, sizes given for a MovieLens dataset, or an argument of the wrong kind
        (a seed that is not a whole number >= 0, a size that is not a positive whole number,
        a ``start`` that is not a date, a ``data_dir`` that is not a path).
    """
    requested = _dataset_name(name)
    _check_arguments(seed, data_dir, synthetic_sizes)
    if requested in movielens.RELEASES and synthetic_sizes:
        raise ValueError(
            f"sizes {sorted(synthetic_sizes)} only apply to the simulated catalogue; "
            f"{requested!r} is fixed data. Drop them or use load_dataset('synthetic', ...)."
        )
    chosen = _auto_target() if requested == "auto" else requested
    if chosen == "synthetic":
        return _synthetic(seed, synthetic_sizes)
    if chosen != "auto":
        return _read(movielens.RELEASES[chosen], data_dir, offline)
    release = movielens.RELEASES[AUTO_PREFERENCE]
    try:
        return _read(release, data_dir, offline)
    except DatasetUnavailableError as error:
        print(_fallback_notice(release, error.tried, _is_offline(offline)), flush=True)
        return _synthetic(seed, synthetic_sizes)


def resolve_auto(*, data_dir=None, offline: bool | None = None) -> str:
    """The dataset ``load_dataset("auto")`` would load right now, without parsing it.

    Follows the same steps as :func:`load_dataset`, so when MovieLens 100K is neither in
    ``RECSYS_LESSONS_DATA`` nor in the cache and the network is allowed, this downloads it
    into the cache: the answer is then certain, and the lessons that follow load it
    instantly. Prints nothing on standard output (a download reports its progress on
    standard error). Used by ``make course`` and the notebook tests.

    Returns
    -------
    str
        A name from :data:`DATASETS`.
    """
    chosen = _auto_target()
    if chosen != "auto":
        return chosen
    try:
        _locate(movielens.RELEASES[AUTO_PREFERENCE], data_dir, offline)
    except DatasetUnavailableError:
        return "synthetic"
    return AUTO_PREFERENCE


def cache_dir(data_dir=None) -> Path:
    """The download cache folder (not created here).

    The first that applies: ``data_dir``; the environment variable
    ``RECSYS_LESSONS_CACHE``; the ``data/`` folder of the course checkout when the package
    runs from one (its parent folder holds ``pyproject.toml``); ``~/.cache/recsys-lessons``
    (under ``XDG_CACHE_HOME`` when that is set).
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get("RECSYS_LESSONS_CACHE"):
        return Path(os.environ["RECSYS_LESSONS_CACHE"]).expanduser()
    checkout = Path(__file__).resolve().parents[2]  # recsys_lessons/data/loading.py
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "recsys-lessons"


def _dataset_name(name: str, source: str = "") -> str:
    normalised = str(name).strip().lower()
    if normalised not in (*DATASETS, "auto"):
        raise ValueError(
            f"unknown dataset {name!r}{source}; choose one of "
            f"{', '.join(repr(n) for n in (*DATASETS, 'auto'))}."
        )
    return normalised


def _check_arguments(seed, data_dir, sizes: dict) -> None:
    """Refuse arguments of the wrong kind before anything is read or generated."""
    check_seed(seed)
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise ValueError(
            f"data_dir must be a folder path (a str or pathlib.Path); got {data_dir!r}."
        )
    from recsys_lessons.data.catalogue import CatalogueConfig

    parameters = {field.name: field for field in dataclasses.fields(CatalogueConfig)}
    for key, value in sizes.items():
        if key not in parameters or key == "seed":
            known = [n for n in parameters if n != "seed"]
            raise ValueError(
                f"unknown argument {key}={value!r}; the simulated catalogue takes {known}."
            )
        default = parameters[key].default
        if is_integer(default):
            check_positive_int(value, key, f"such as {default}")
        elif isinstance(default, float):
            if not is_number(value) or math.isnan(value):
                raise ValueError(f"{key} must be a number such as {default}; got {value!r}.")
        elif key == "start":
            try:
                pd.Timestamp(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"start must be a date such as '2021-01-01'; got {value!r}."
                ) from None


def _auto_target() -> str:
    """What ``"auto"`` means here: the name in ``RECSYS_LESSONS_DATASET``, else ``"auto"``."""
    value = os.environ.get("RECSYS_LESSONS_DATASET", "").strip()
    return (
        _dataset_name(value, " in the environment variable RECSYS_LESSONS_DATASET")
        if value
        else "auto"
    )


def _synthetic(seed: int, sizes: dict) -> Dataset:
    from recsys_lessons.data.catalogue import generate_catalogue

    return generate_catalogue(seed=seed, **sizes)


def _read(release: movielens.Release, data_dir, offline: bool | None) -> Dataset:
    """Read the release found by :func:`_locate`; a damaged file is reported, never loaded.

    A folder is checked against the official facts (row counts, rating values, first and
    last times) after reading; a zip was already verified by its SHA-256.
    """
    source = _locate(release, data_dir, offline)
    try:
        if source.suffix != ".zip":
            dataset = release.reader(source)
            if release.facts is not None:
                movielens.check_official(dataset, release.facts, source)
            return dataset
        with zipfile.ZipFile(source) as archive:
            return release.reader(zipfile.Path(archive, at=f"{release.folder}/"))
    except movielens.DataFileError as error:
        tried = [f"{source}: found but damaged ({error})"]
        raise DatasetUnavailableError(
            f"{release.title} ({release.name!r}) was found but cannot be used: {error}", tried
        ) from None


def _locate(release: movielens.Release, data_dir, offline: bool | None) -> Path:
    """The release folder or verified archive to read; downloads into the cache if needed."""
    tried: list[str] = []
    root = os.environ.get("RECSYS_LESSONS_DATA")
    if root:
        found = _find_in(Path(root).expanduser(), release, tried, "RECSYS_LESSONS_DATA")
        if found:
            return found
    else:
        tried.append("RECSYS_LESSONS_DATA: not set")
    cache = cache_dir(data_dir)
    found = _find_in(cache, release, tried, "cache")
    if found:
        return found
    url = _base_url() + release.archive
    if _is_offline(offline):
        tried.append(f"download from {url}: skipped, offline mode")
    else:
        try:
            return _download_into(cache, release, url)
        except DownloadError as error:
            tried.append(f"download: {error}")
        except (OSError, ValueError) as error:
            tried.append(f"download from {url} into {cache}: failed ({error})")
    raise DatasetUnavailableError(_unavailable_message(release, tried, offline), tried)


def _find_in(root: Path, release: movielens.Release, tried: list[str], label: str) -> Path | None:
    """The complete release folder or a verified archive in ``root``; else note why not.

    A folder that cannot be read (no permission, a broken disk...) is noted as such.
    """
    try:
        return _look_in(root, release, tried, label)
    except OSError as error:
        tried.append(
            f"{label} {root}: cannot be read ({type(error).__name__}: {error.strerror or error}); "
            "check its permissions"
        )
        return None


def _look_in(root: Path, release: movielens.Release, tried: list[str], label: str) -> Path | None:
    if not root.is_dir():
        tried.append(f"{label} {root}: no such folder")
        return None
    folder = root / release.folder
    if folder.is_dir():
        missing = [name for name in release.files if not (folder / name).is_file()]
        if not missing:
            return folder
        tried.append(f"{label} {folder}: incomplete, {', '.join(missing)} missing")
    archive = root / release.archive
    if archive.is_file():
        problem = _archive_problem(archive, release)
        if problem is None:
            return archive
        tried.append(f"{label} {archive}: {problem}")
    elif not folder.is_dir():
        tried.append(f"{label} {root}: no {release.folder}/ folder or {release.archive}")
    return None


def _archive_problem(archive: Path, release: movielens.Release) -> str | None:
    """Why ``archive`` is not the official release archive, or ``None`` when it is."""
    size = archive.stat().st_size
    if size != release.size:
        return f"{size:,} bytes instead of the official {release.size:,}; not the official archive"
    digest = hashlib.sha256()
    with archive.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != release.sha256:
        return "SHA-256 differs from the official archive (corrupt or modified)"
    return None


def _download_into(cache: Path, release: movielens.Release, url: str) -> Path:
    """Download and verify the archive into ``cache`` and unpack it there.

    Returns the unpacked release folder, or the verified archive itself when it could not
    be unpacked (a folder of that name is already there, a full disk...): it is read in
    place then.
    """
    cache.mkdir(parents=True, exist_ok=True)
    print(f"Downloading {release.title} from {url} into {cache}", file=sys.stderr, flush=True)
    archive = download_verified(
        url, cache / release.archive, size=release.size, sha256=release.sha256
    )
    folder = cache / release.folder
    if folder.exists():
        return archive  # an incomplete copy made by hand: left alone, the zip is read instead
    try:
        safe_extract(archive, cache)
    except ValueError:
        archive.unlink()  # paths escaping the cache: an archive that must not be trusted
        raise
    except OSError:
        return archive
    return folder


def _base_url() -> str:
    url = os.environ.get("RECSYS_LESSONS_BASE_URL") or BASE_URL
    return url if url.endswith("/") else url + "/"


def _is_offline(offline: bool | None) -> bool:
    if offline is not None:
        return bool(offline)
    return os.environ.get("RECSYS_LESSONS_OFFLINE", "").strip().lower() in _TRUE_WORDS


def _fixes(release: movielens.Release, offline: bool) -> str:
    network = (
        "allow the download (unset RECSYS_LESSONS_OFFLINE, or pass offline=False)"
        if offline
        else "allow the download (check your internet connection)"
    )
    return (
        f"set RECSYS_LESSONS_DATA=<a folder holding {release.folder}/ or {release.archive}> "
        f"or {network}"
    )


def _unavailable_message(release: movielens.Release, tried: list[str], offline) -> str:
    places = "\n".join(f"  - {place}" for place in tried)
    return (
        f"{release.title} ({release.name!r}) could not be obtained. Tried:\n{places}\n"
        f"To fix: {_fixes(release, _is_offline(offline))}; "
        f"or put the official {release.archive} in the cache folder above. "
        "To continue without MovieLens, use load_dataset('synthetic')."
    )


def _fallback_notice(release: movielens.Release, tried: list[str], offline: bool) -> str:
    return (
        f"Notice: {release.title} is not available (tried: {'; '.join(tried)}); using the "
        f"built-in simulated catalogue instead. To use MovieLens, {_fixes(release, offline)}."
    )
