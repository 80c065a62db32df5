"""MovieLens parsing and the data layer's resolution rules.

Parsers are checked twice: on tiny hand-written release folders whose every value is known
(always run), and on the real files with their published counts (when RECSYS_LESSONS_DATA
points at them; skipped otherwise). Resolution (environment folder, cache, zip archives,
``auto``) runs on the tiny folders, offline.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys_lessons.data import loading as data
from recsys_lessons.data import movielens, read_ml100k, read_ml_latest_small
from recsys_lessons.data.loading import (
    DATASETS,
    Dataset,
    DatasetUnavailableError,
    load_dataset,
    resolve_auto,
)

ENV_VARS = (
    "RECSYS_LESSONS_DATA",
    "RECSYS_LESSONS_DATASET",
    "RECSYS_LESSONS_OFFLINE",
    "RECSYS_LESSONS_CACHE",
    "RECSYS_LESSONS_BASE_URL",
)

GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip


def _flags(*names: str) -> str:
    return "|".join("1" if genre in names else "0" for genre in GENRES)


def tiny_ml100k_files(title_of_item_1: str = "Toy Story (1995)") -> dict[str, bytes]:
    """A five-movie, three-user ML-100K in the official formats (u.item in Latin-1)."""
    items = "\n".join(
        [
            f"1|{title_of_item_1}|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy|"
            + _flags("Animation", "Children's", "Comedy"),
            "2|Misérables, Les (1995)|01-Jan-1995||http://x|" + _flags("Drama", "War"),
            "3|unknown||||" + _flags("unknown"),
            "4|Good Morning (1971)|4-Feb-1971||http://x|" + _flags("unknown"),
            "5|Tarantella (1995)|||http://x|" + _flags("Drama"),
        ]
    )
    ratings = "\n".join(
        [  # user item rating time; the two events at time 300 must keep this file order
            "2\t5\t3\t400",
            "1\t1\t5\t300",
            "3\t2\t1\t100",
            "1\t3\t4\t300",
            "2\t4\t2\t200",
        ]
    )
    users = "\n1|24|M|technician|85711\n2|53|F|other|01002\n3|23|M|writer|T8H1N\n"
    genres = "".join(f"{name}|{flag}\n" for flag, name in enumerate(GENRES)) + "\n"
    return {
        "u.data": (ratings + "\n").encode(),
        "u.item": (items + "\n").encode("latin-1"),
        "u.user": users.encode(),
        "u.genre": genres.encode(),
    }


def tiny_latest_small_files() -> dict[str, bytes]:
    """A three-movie ML Latest Small in the official CSV formats (UTF-8)."""
    return {
        "ratings.csv": b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"
        b"1,3,0.5,964981247\n2,1,3.5,964982224\n",
        "movies.csv": (
            "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children|Comedy\n"
            '2,"Misérables, Les (1995)",Drama|War\n'
            "3,Death Note: Desu nôto (2006\u20132007),(no genres listed)\n4,Babylon 5,Sci-Fi\n"
        ).encode(),
        "tags.csv": b"userId,movieId,tag,timestamp\n2,1,Pixar,1\n3,1,fun,2\n4,1,pixar ,3\n"
        b"2,3,anime,4\n",
        "links.csv": b"movieId,imdbId,tmdbId\n1,0114709,862\n2,0113083,\n3,0877057,419787\n"
        b"4,0105946,\n",
    }


def write_folder(root: Path, folder: str, files: dict[str, bytes]) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    for name, content in files.items():
        (path / name).write_bytes(content)
    return path


def write_zip(path: Path, folder: str, files: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{folder}/{name}", content)
    return path


def trust_archive(monkeypatch, name: str, archive: Path) -> None:
    """Make the registry expect this archive's size and SHA-256 instead of the official ones."""
    content = archive.read_bytes()
    release = dataclasses.replace(
        movielens.RELEASES[name], size=len(content), sha256=hashlib.sha256(content).hexdigest()
    )
    monkeypatch.setitem(movielens.RELEASES, name, release)


@pytest.fixture
def tiny_releases(monkeypatch):
    """Read tiny release folders through load_dataset: no comparison with the official counts."""
    for name in movielens.RELEASES:
        release = dataclasses.replace(movielens.RELEASES[name], facts=None)
        monkeypatch.setitem(movielens.RELEASES, name, release)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No course variables, offline, and an empty private cache: nothing leaks in."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECSYS_LESSONS_OFFLINE", "1")
    cache = tmp_path / "cache"
    monkeypatch.setenv("RECSYS_LESSONS_CACHE", str(cache))
    return cache


# ---------------------------------------------------------------- ML-100K parser, tiny files


@pytest.fixture
def tiny_100k(tmp_path) -> Dataset:
    return read_ml100k(write_folder(tmp_path, "ml-100k", tiny_ml100k_files()))


def test_ml100k_interactions_are_typed_and_stably_sorted_by_time(tiny_100k):
    events = tiny_100k.interactions
    assert events.columns.tolist() == ["user_id", "item_id", "rating", "timestamp"]
    assert events["rating"].dtype == np.float64
    assert pd.api.types.is_datetime64_any_dtype(events["timestamp"])
    assert events.index.equals(pd.RangeIndex(5))
    assert events["item_id"].tolist() == [2, 4, 1, 3, 5]  # 100, 200, 300 (x2, file order), 400
    assert events["rating"].tolist() == [1.0, 2.0, 5.0, 4.0, 3.0]
    assert events["timestamp"].iloc[0] == pd.Timestamp("1970-01-01 00:01:40")


def test_ml100k_items_decode_latin1_genres_and_years(tiny_100k):
    items = tiny_100k.items
    assert items.index.name == "item_id" and items.index.tolist() == [1, 2, 3, 4, 5]
    assert items.loc[2, "title"] == "Misérables, Les (1995)"
    assert items.loc[1, "genres"] == ["Animation", "Children's", "Comedy"]
    assert items.loc[2, "genres"] == ["Drama", "War"]
    assert items.loc[3, "genres"] == [] and items.loc[4, "genres"] == []  # "unknown" = none
    assert str(items["year"].dtype) == "Int64"
    assert items.loc[4, "year"] == 1971  # from the release date 4-Feb-1971
    assert items.loc[5, "year"] == 1995  # no release date: from "(1995)" in the title
    assert pd.isna(items.loc[3, "year"])  # neither
    assert items.loc[4, "release_date"] == pd.Timestamp("1971-02-04")


def test_ml100k_users_keep_zip_codes_as_text_and_skip_blank_lines(tiny_100k):
    users = tiny_100k.users
    assert users.index.name == "user_id" and users.index.tolist() == [1, 2, 3]
    assert users.columns.tolist() == ["age", "gender", "occupation", "zip_code"]
    assert users.loc[2, "zip_code"] == "01002"
    assert users.loc[3, "zip_code"] == "T8H1N"
    assert users.loc[2].tolist() == [53, "F", "other", "01002"]


def test_ml100k_carries_license_and_citation(tiny_100k):
    assert tiny_100k.name == "movielens-100k"
    assert "not redistribute" in tiny_100k.license
    assert "Harper" in tiny_100k.citation and "10.1145/2827872" in tiny_100k.citation


def test_ml100k_reads_the_same_from_a_zip(tmp_path, tiny_100k):
    archive = write_zip(tmp_path / "z" / "ml-100k.zip", "ml-100k", tiny_ml100k_files())
    with zipfile.ZipFile(archive) as opened:
        from_zip = read_ml100k(zipfile.Path(opened, at="ml-100k/"))
    pd.testing.assert_frame_equal(from_zip.interactions, tiny_100k.interactions)
    pd.testing.assert_frame_equal(from_zip.items, tiny_100k.items)
    pd.testing.assert_frame_equal(from_zip.users, tiny_100k.users)


def test_incomplete_folder_names_missing_files(tmp_path):
    files = tiny_ml100k_files()
    del files["u.user"]
    with pytest.raises(FileNotFoundError, match="u.user"):
        read_ml100k(write_folder(tmp_path, "ml-100k", files))


# ---------------------------------------------------------------- ML Latest Small parser, tiny files


def test_latest_small_tiny_files(tmp_path):
    dataset = read_ml_latest_small(
        write_folder(tmp_path, "ml-latest-small", tiny_latest_small_files())
    )
    events = dataset.interactions
    assert events["item_id"].tolist() == [3, 1, 1]  # sorted by time
    assert events["rating"].tolist() == [0.5, 3.5, 4.0]
    items = dataset.items
    assert items.loc[1, "genres"] == ["Adventure", "Animation", "Children", "Comedy"]
    assert items.loc[3, "genres"] == []  # "(no genres listed)"
    assert items.loc[2, "title"] == "Misérables, Les (1995)"  # quoted comma
    assert items["year"].tolist()[:3] == [1995, 1995, 2006] and pd.isna(items.loc[4, "year"])
    assert items.loc[1, "tags"] == ["fun", "pixar"]  # lower-cased, stripped, distinct, sorted
    assert items.loc[3, "tags"] == ["anime"] and items.loc[2, "tags"] == []
    assert items.loc[1, "imdb_id"] == "0114709" and pd.isna(items.loc[2, "tmdb_id"])
    # users: everyone who rated or tagged, no demographic columns
    assert dataset.users.index.tolist() == [1, 2, 3, 4] and dataset.users.columns.empty
    assert "redistribution, including transformations" in dataset.license


# ---------------------------------------------------------------- the real files


def test_real_ml100k_counts_and_known_movies(ml100k_dir):
    dataset = read_ml100k(ml100k_dir)
    events = dataset.interactions
    assert len(events) == 100_000
    assert dataset.n_users == 943 and dataset.n_items == 1_682
    assert len(dataset.items) == 1_682 and len(dataset.users) == 943
    assert sorted(events["rating"].unique()) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert events["timestamp"].is_monotonic_increasing
    assert events.index.equals(pd.RangeIndex(100_000))
    items = dataset.items
    assert items.loc[1, "title"] == "Toy Story (1995)"
    assert items.loc[1, "genres"] == ["Animation", "Children's", "Comedy"]
    assert items.loc[1, "year"] == 1995
    assert items.loc[543, "title"] == "Misérables, Les (1995)"  # Latin-1 é
    assert items.loc[1005, "title"].startswith("Double vie de Véronique")
    assert items.loc[267, "genres"] == [] and pd.isna(items.loc[267, "year"])
    assert items["year"].isna().sum() == 1
    assert set(dataset.users["gender"]) == {"F", "M"}
    assert dataset.users.loc[1].tolist() == [24, "M", "technician", "85711"]


def test_real_ml100k_events_in_stable_time_order(ml100k_dir):
    with open(ml100k_dir / "u.data") as handle:
        rows = [tuple(map(int, line.split("\t"))) for line in handle]
    expected = sorted(rows, key=lambda row: row[3])  # Python's sort is stable
    events = read_ml100k(ml100k_dir).interactions
    assert list(zip(events["user_id"], events["item_id"], strict=True)) == [r[:2] for r in expected]
    assert events["rating"].tolist() == [float(r[2]) for r in expected]
    assert events["timestamp"].iloc[0] == pd.Timestamp(expected[0][3], unit="s")


def test_real_ml100k_genre_flags_match_u_item(ml100k_dir):
    dataset = read_ml100k(ml100k_dir)
    with open(ml100k_dir / "u.item", encoding="latin-1") as handle:
        rows = list(csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE))
    expected = {
        int(row[0]): [
            g for g, flag in zip(GENRES, row[5:], strict=True) if flag == "1" and g != "unknown"
        ]
        for row in rows
    }
    assert dataset.items["genres"].to_dict() == expected


def test_real_latest_small_counts_genres_and_tags(ml_latest_small_dir):
    dataset = read_ml_latest_small(ml_latest_small_dir)
    assert len(dataset.interactions) == 100_836
    assert dataset.n_users == 610 and len(dataset.users) == 610
    assert len(dataset.items) == 9_742 and dataset.n_items == 9_724
    assert dataset.interactions["timestamp"].is_monotonic_increasing
    ratings = sorted(dataset.interactions["rating"].unique())
    assert ratings == [x / 2 for x in range(1, 11)]
    items = dataset.items
    assert items.loc[1, "genres"] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    assert items.loc[143410, "genres"] == []  # "(no genres listed)"
    assert "pixar" in items.loc[1, "tags"]
    assert items.loc[171749, "year"] == 2006 and pd.isna(items.loc[40697, "year"])
    with open(ml_latest_small_dir / "tags.csv", encoding="utf-8", newline="") as handle:
        pairs = {(int(r["movieId"]), r["tag"].strip().lower()) for r in csv.DictReader(handle)}
    parsed = {(item, tag) for item, tags in items["tags"].items() for tag in tags}
    assert parsed == pairs
    assert all(tags == sorted(set(tags)) for tags in items["tags"])


def test_real_ml100k_through_load_dataset_is_fast_path(ml100k_dir, clean_env, monkeypatch, capsys):
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(ml100k_dir.parent))
    dataset = load_dataset("auto")
    assert dataset.name == "movielens-100k" and len(dataset.interactions) == 100_000
    assert capsys.readouterr().out == ""  # MovieLens found: auto prints nothing
    assert resolve_auto() == "movielens-100k"


# ---------------------------------------------------------------- resolution order


def test_environment_folder_wins_over_the_cache(tmp_path, clean_env, monkeypatch, tiny_releases):
    shared = tmp_path / "shared"
    write_folder(shared, "ml-100k", tiny_ml100k_files("From Shared (1995)"))
    write_folder(clean_env, "ml-100k", tiny_ml100k_files("From Cache (1995)"))
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(shared))
    assert load_dataset("movielens-100k").items.loc[1, "title"] == "From Shared (1995)"
    monkeypatch.delenv("RECSYS_LESSONS_DATA")
    assert load_dataset("movielens-100k").items.loc[1, "title"] == "From Cache (1995)"


def test_data_dir_argument_overrides_the_cache_variable(tmp_path, clean_env, tiny_releases):
    mine = tmp_path / "mine"
    write_folder(mine, "ml-100k", tiny_ml100k_files("Mine (1995)"))
    assert load_dataset("movielens-100k", data_dir=mine).items.loc[1, "title"] == "Mine (1995)"


def test_official_zip_in_environment_folder_is_verified_and_read_in_place(
    tmp_path, clean_env, monkeypatch
):
    shared = tmp_path / "shared"
    archive = write_zip(shared / "ml-100k.zip", "ml-100k", tiny_ml100k_files("Zipped (1995)"))
    trust_archive(monkeypatch, "movielens-100k", archive)
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(shared))
    assert load_dataset("movielens-100k").items.loc[1, "title"] == "Zipped (1995)"
    assert [p.name for p in shared.iterdir()] == ["ml-100k.zip"]  # nothing unpacked
    assert not clean_env.exists()


def test_zip_that_is_not_the_official_archive_is_refused(tmp_path, clean_env, monkeypatch):
    shared = tmp_path / "shared"
    write_zip(shared / "ml-100k.zip", "ml-100k", tiny_ml100k_files())  # official size expected
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(shared))
    with pytest.raises(DatasetUnavailableError, match="not the official archive"):
        load_dataset("movielens-100k")


def test_incomplete_folder_is_reported(tmp_path, clean_env, monkeypatch):
    files = tiny_ml100k_files()
    del files["u.item"]
    write_folder(tmp_path / "shared", "ml-100k", files)
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(tmp_path / "shared"))
    with pytest.raises(DatasetUnavailableError, match="incomplete, u.item missing"):
        load_dataset("movielens-100k")


def test_explicit_request_names_every_place_tried_and_the_fix(tmp_path, clean_env, monkeypatch):
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetUnavailableError) as caught:
        load_dataset("movielens-latest-small")
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert len(caught.value.tried) == 3
    assert f"RECSYS_LESSONS_DATA {tmp_path / 'nowhere'}: no such folder" in message
    assert f"cache {clean_env}" in message
    assert "ml-latest-small.zip: skipped, offline mode" in message
    assert "set RECSYS_LESSONS_DATA=" in message and "unset RECSYS_LESSONS_OFFLINE" in message


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("RECSYS_LESSONS_CACHE", raising=False)
    checkout = Path(data.__file__).resolve().parents[2]
    assert data.cache_dir() == checkout / "data"  # tests run from the course checkout
    monkeypatch.setenv("RECSYS_LESSONS_CACHE", str(tmp_path / "env"))
    assert data.cache_dir() == tmp_path / "env"
    assert data.cache_dir(tmp_path / "arg") == tmp_path / "arg"


def test_cache_outside_a_checkout_is_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("RECSYS_LESSONS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(
        data, "__file__", str(tmp_path / "site-packages" / "recsys_lessons" / "data" / "loading.py")
    )
    assert data.cache_dir() == tmp_path / "xdg" / "recsys-lessons"


# ---------------------------------------------------------------- auto, names, environment


def test_auto_falls_back_to_the_simulated_catalogue_with_one_notice(clean_env, capsys):
    dataset = load_dataset("auto", n_users=120, n_items=200, n_interactions=3000)
    assert dataset.name == "synthetic"
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Notice: MovieLens 100K is not available (tried: ")
    assert "simulated catalogue" in lines[0] and "RECSYS_LESSONS_DATA=" in lines[0]
    assert "offline mode" in lines[0]
    assert resolve_auto() == "synthetic"
    assert capsys.readouterr().out == ""


def test_auto_uses_movielens_when_found(tmp_path, clean_env, monkeypatch, capsys, tiny_releases):
    write_folder(tmp_path / "shared", "ml-100k", tiny_ml100k_files())
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(tmp_path / "shared"))
    assert resolve_auto() == "movielens-100k"
    assert load_dataset(n_users=50).name == "movielens-100k"  # sizes ignored by auto
    assert capsys.readouterr().out == ""


def test_dataset_variable_steers_auto(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("RECSYS_LESSONS_DATASET", "synthetic")
    assert resolve_auto() == "synthetic"
    assert load_dataset("auto", n_users=120, n_items=200, n_interactions=3000).name == "synthetic"
    assert capsys.readouterr().out == ""  # chosen on purpose: no notice
    monkeypatch.setenv("RECSYS_LESSONS_DATASET", "MovieLens-100K ")
    assert resolve_auto() == "movielens-100k"
    with pytest.raises(DatasetUnavailableError):  # behaves exactly like the explicit name
        load_dataset("auto")
    monkeypatch.setenv("RECSYS_LESSONS_DATASET", "netflix-prize")
    with pytest.raises(ValueError, match="RECSYS_LESSONS_DATASET"):
        load_dataset("auto")


def test_synthetic_is_passed_seed_and_sizes(clean_env):
    small = load_dataset("synthetic", seed=3, n_users=120, n_items=200, n_interactions=3000)
    again = load_dataset("synthetic", seed=3, n_users=120, n_items=200, n_interactions=3000)
    assert small.name == "synthetic"
    assert small.interactions["user_id"].nunique() <= 120 and len(small.items) == 200
    pd.testing.assert_frame_equal(small.interactions, again.interactions)


def test_names_are_validated(clean_env):
    assert DATASETS == ("movielens-100k", "movielens-latest-small", "synthetic")
    with pytest.raises(ValueError, match="unknown dataset 'ml-1m'"):
        load_dataset("ml-1m")
    with pytest.raises(ValueError, match="only apply to the simulated catalogue"):
        load_dataset("movielens-100k", n_users=10)


# ---------------------------------------------------------------- damaged files are named, not loaded

TINY_FACTS = movielens.OfficialFacts(
    ratings_file="u.data",
    n_ratings=5,
    n_raters=3,
    rating_values=(1.0, 2.0, 3.0, 4.0, 5.0),
    first_time="1970-01-01 00:01:40",
    last_time="1970-01-01 00:06:40",
    items_file="u.item",
    n_items=5,
    users_file="u.user",
    n_users=3,
)


@pytest.fixture
def tiny_official(monkeypatch):
    """The tiny ML-100K folder plays the official release: these are its facts."""
    release = dataclasses.replace(movielens.RELEASES["movielens-100k"], facts=TINY_FACTS)
    monkeypatch.setitem(movielens.RELEASES, "movielens-100k", release)


def shared_tiny(tmp_path, monkeypatch, **changes: bytes) -> Path:
    files = {**tiny_ml100k_files(), **changes}
    write_folder(tmp_path / "shared", "ml-100k", files)
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(tmp_path / "shared"))
    return tmp_path / "shared" / "ml-100k"


def test_the_intact_tiny_release_matches_its_facts(tmp_path, clean_env, monkeypatch, tiny_official):
    shared_tiny(tmp_path, monkeypatch)
    assert len(load_dataset("movielens-100k").interactions) == 5


def test_u_data_cut_inside_the_last_line_is_not_loaded_with_a_1970_time(
    tmp_path, clean_env, monkeypatch, tiny_official, capsys
):
    ratings = tiny_ml100k_files()["u.data"]
    folder = shared_tiny(
        tmp_path, monkeypatch, **{"u.data": ratings[:-3]}
    )  # "...\t2\t200" -> "...\t2\t2"
    with pytest.raises(
        DatasetUnavailableError, match="u.data does not match the official"
    ) as caught:
        load_dataset("movielens-100k")
    assert str(folder / "u.data") in str(caught.value) and "download it again" in str(caught.value)
    # auto falls back with its notice, which names the file
    assert load_dataset("auto", n_users=50, n_items=80, n_interactions=500).name == "synthetic"
    notice = capsys.readouterr().out
    assert notice.startswith("Notice: MovieLens 100K is not available") and "u.data" in notice


def test_u_data_cut_at_a_line_boundary_is_not_loaded(
    tmp_path, clean_env, monkeypatch, tiny_official
):
    lines = tiny_ml100k_files()["u.data"].splitlines(keepends=True)
    shared_tiny(tmp_path, monkeypatch, **{"u.data": b"".join(lines[:-2])})
    with pytest.raises(DatasetUnavailableError, match="3 ratings instead of 5"):
        load_dataset("movielens-100k")


def test_real_u_data_truncated_mid_line_is_refused(ml100k_dir, tmp_path, clean_env, monkeypatch):
    copy = tmp_path / "shared" / "ml-100k"
    copy.mkdir(parents=True)
    for name in ("u.item", "u.genre", "u.user"):
        (copy / name).write_bytes((ml100k_dir / name).read_bytes())
    content = (ml100k_dir / "u.data").read_bytes()
    (copy / "u.data").write_bytes(content[: len(content) - 6])  # inside the last timestamp
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(tmp_path / "shared"))
    with pytest.raises(DatasetUnavailableError, match="u.data does not match the official release"):
        load_dataset("movielens-100k")
    (copy / "u.data").write_bytes(content[: content.index(b"\n", len(content) // 2) + 1])
    with pytest.raises(DatasetUnavailableError, match="ratings instead of 100,000"):
        load_dataset("movielens-100k")


def test_random_bytes_name_the_file(tmp_path):
    files = {
        **tiny_ml100k_files(),
        "u.data": bytes(np.random.default_rng(0).integers(0, 256, 400, dtype=np.uint8)),
    }
    with pytest.raises(movielens.DataFileError, match=r"u\.data.*download it again"):
        read_ml100k(write_folder(tmp_path, "ml-100k", files))


def test_a_rating_that_is_not_a_number_names_file_and_line(tmp_path):
    ratings = b"2\t5\t3\t400\n1\t1\t5\t300\n3\t2\tx\t100\n"
    folder = write_folder(tmp_path, "ml-100k", {**tiny_ml100k_files(), "u.data": ratings})
    with pytest.raises(
        movielens.DataFileError, match=r"u\.data, line 3: the 'rating' field is 'x'"
    ):
        read_ml100k(folder)


def test_a_bad_release_date_names_file_and_line(tmp_path):
    files = tiny_ml100k_files()
    files["u.item"] = files["u.item"].replace(b"01-Jan-1995||http://x", b"32-Foo-1995||http://x")
    folder = write_folder(tmp_path, "ml-100k", files)
    with pytest.raises(
        movielens.DataFileError, match=r"u\.item, line 2: '32-Foo-1995' is not a date"
    ):
        read_ml100k(folder)


def test_latest_small_bad_value_counts_the_header_line(tmp_path):
    files = tiny_latest_small_files()
    files["ratings.csv"] = files["ratings.csv"].replace(b"1,3,0.5,", b"1,3,half,")
    folder = write_folder(tmp_path, "ml-latest-small", files)
    with pytest.raises(movielens.DataFileError, match=r"ratings\.csv, line 3: the 'rating' field"):
        read_ml_latest_small(folder)


def test_an_unreadable_data_folder_is_listed_and_auto_falls_back(
    tmp_path, clean_env, monkeypatch, capsys
):
    locked = tmp_path / "locked"
    locked.mkdir()
    original = Path.is_dir

    def is_dir(self):
        if self == locked or locked in self.parents:
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "is_dir", is_dir)
    monkeypatch.setenv("RECSYS_LESSONS_DATA", str(locked))
    with pytest.raises(DatasetUnavailableError) as caught:
        load_dataset("movielens-100k")
    assert f"RECSYS_LESSONS_DATA {locked}: cannot be read" in str(caught.value)
    assert "check its permissions" in str(caught.value)
    assert load_dataset("auto", n_users=50, n_items=80, n_interactions=500).name == "synthetic"
    assert "cannot be read" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"n_users": 100.5}, "n_users must be a positive integer"),
        ({"n_users": "100"}, "n_users must be a positive integer"),
        ({"n_items": 0}, "n_items must be a positive integer"),
        ({"seed": "abc"}, "seed must be a whole number >= 0"),
        ({"seed": -1}, "seed must be a whole number >= 0"),
        ({"start": "not a date"}, "start must be a date"),
        ({"data_dir": 123}, "data_dir must be a folder path"),
        ({"n_user": 10}, "unknown argument n_user=10"),
        ({"content_share": float("nan")}, "content_share must be a number"),
    ],
)
def test_load_dataset_arguments_are_validated(clean_env, arguments, message):
    with pytest.raises(ValueError, match=message):
        load_dataset("synthetic", **arguments)
