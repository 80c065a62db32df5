"""Verified downloads and safe extraction, against a local HTTP server the tests start.

The server (127.0.0.1, a free port) serves bytes the tests choose, and can announce a
length it then does not deliver, to mimic a connection dropped mid-transfer. The data
layer is pointed at it through RECSYS_LESSONS_BASE_URL; the expected size and SHA-256 are
swapped in the archive registry for those of a tiny ML-100K zip built here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import os
import threading
import zipfile
from pathlib import Path

import pytest

from recsys_lessons.data import (
    DatasetUnavailableError,
    DownloadError,
    download_verified,
    load_dataset,
    movielens,
    safe_extract,
)

GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western")  # fmt: skip

TINY_ML100K = {
    "u.data": b"1\t1\t5\t881250949\n2\t1\t3\t881250950\n2\t2\t4\t881250951\n",
    "u.item": (
        "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
        "2|Misérables, Les (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0\n"
    ).encode("latin-1"),
    "u.user": b"1|24|M|technician|85711\n2|53|F|other|94043\n",
    "u.genre": "".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)).encode(),
}


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


GOOD_ZIP = zip_bytes({f"ml-100k/{name}": content for name, content in TINY_ML100K.items()})


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Server:
    """Routes: path -> (body, announced Content-Length or None for a close-delimited body)."""

    def __init__(self):
        self.routes: dict[str, tuple[bytes, int | None]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path not in server.routes:
                    self.send_error(404)
                    return
                body, announced = server.routes[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                if announced is not None:
                    self.send_header("Content-Length", str(announced))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def serve(self, path: str, body: bytes, announced: int | None = -1) -> str:
        self.routes["/" + path] = (body, len(body) if announced == -1 else announced)
        return self.base_url + path


@pytest.fixture
def server():
    running = Server()
    running.thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


@pytest.fixture
def cache(tmp_path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    return folder


# ---------------------------------------------------------------- download_verified


def test_good_download_is_verified_and_renamed_into_place(server, cache):
    url = server.serve("ml-100k.zip", GOOD_ZIP)
    dest = download_verified(
        url, cache / "ml-100k.zip", size=len(GOOD_ZIP), sha256=sha256(GOOD_ZIP), progress=False
    )
    assert dest == cache / "ml-100k.zip"
    assert dest.read_bytes() == GOOD_ZIP
    assert [p.name for p in cache.iterdir()] == ["ml-100k.zip"]  # no temporary file left


def test_wrong_checksum_raises_and_keeps_nothing(server, cache):
    url = server.serve("ml-100k.zip", GOOD_ZIP)
    with pytest.raises(DownloadError, match="SHA-256"):
        download_verified(
            url, cache / "ml-100k.zip", size=len(GOOD_ZIP), sha256="0" * 64, progress=False
        )
    assert list(cache.iterdir()) == []


def test_failed_download_leaves_an_existing_file_untouched(server, cache):
    (cache / "ml-100k.zip").write_bytes(b"the previous copy")
    url = server.serve("ml-100k.zip", GOOD_ZIP)
    with pytest.raises(DownloadError):
        download_verified(
            url, cache / "ml-100k.zip", size=len(GOOD_ZIP), sha256="0" * 64, progress=False
        )
    assert (cache / "ml-100k.zip").read_bytes() == b"the previous copy"
    assert [p.name for p in cache.iterdir()] == ["ml-100k.zip"]


def test_connection_dropped_mid_transfer_raises_and_keeps_nothing(server, cache):
    half = GOOD_ZIP[: len(GOOD_ZIP) // 2]
    url = server.serve("ml-100k.zip", half, announced=len(GOOD_ZIP))
    # http.client either raises IncompleteRead or ends the body early, depending on where
    # the connection drops; both must surface as a DownloadError.
    with pytest.raises(DownloadError, match="truncated|IncompleteRead"):
        download_verified(
            url, cache / "ml-100k.zip", size=len(GOOD_ZIP), sha256=sha256(GOOD_ZIP), progress=False
        )
    assert list(cache.iterdir()) == []


def test_truncated_body_without_length_raises_and_keeps_nothing(server, cache):
    url = server.serve("ml-100k.zip", GOOD_ZIP[:-10], announced=None)
    with pytest.raises(DownloadError, match="truncated"):
        download_verified(
            url, cache / "ml-100k.zip", size=len(GOOD_ZIP), sha256=sha256(GOOD_ZIP), progress=False
        )
    assert list(cache.iterdir()) == []


def test_wrong_announced_length_is_refused_before_storing(server, cache):
    url = server.serve("ml-100k.zip", GOOD_ZIP[:-10])
    with pytest.raises(DownloadError, match="announces"):
        download_verified(
            url, cache / "ml-100k.zip", size=len(GOOD_ZIP), sha256=sha256(GOOD_ZIP), progress=False
        )
    assert list(cache.iterdir()) == []


def test_oversized_body_is_cut_off(server, cache):
    url = server.serve("ml-100k.zip", GOOD_ZIP + b"x" * 200_000, announced=None)
    with pytest.raises(DownloadError, match="more than"):
        download_verified(
            url, cache / "ml-100k.zip", size=len(GOOD_ZIP), sha256=sha256(GOOD_ZIP), progress=False
        )
    assert list(cache.iterdir()) == []


def test_http_error_and_refused_connection_raise_download_error(server, cache):
    with pytest.raises(DownloadError, match="404"):
        download_verified(server.base_url + "missing.zip", cache / "x.zip", size=1, sha256="0" * 64)
    closed = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens on this port any more
    with pytest.raises(DownloadError, match="could not download"):
        download_verified(
            f"http://127.0.0.1:{port}/x.zip", cache / "x.zip", size=1, sha256="0" * 64
        )
    assert list(cache.iterdir()) == []


def test_stale_part_files_of_killed_downloads_are_cleaned(server, cache):
    stale = cache / ".ml-100k.zip.abc123.part"
    stale.write_bytes(b"half a download, killed")
    old = os.stat(stale).st_mtime - 2 * 3600
    os.utime(stale, (old, old))
    fresh = cache / ".ml-100k.zip.def456.part"  # maybe another process downloading now
    fresh.write_bytes(b"in progress")
    other = cache / ".other.zip.abc123.part"
    other.write_bytes(b"not ours")
    os.utime(other, (old, old))
    url = server.serve("ml-100k.zip", GOOD_ZIP)
    download_verified(
        url, cache / "ml-100k.zip", size=len(GOOD_ZIP), sha256=sha256(GOOD_ZIP), progress=False
    )
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        ["ml-100k.zip", fresh.name, other.name]
    )


def test_download_into_a_missing_folder_says_create_it(server, tmp_path):
    url = server.serve("ml-100k.zip", GOOD_ZIP)
    with pytest.raises(ValueError, match="no such folder. Create it first"):
        download_verified(
            url, tmp_path / "nope" / "x.zip", size=len(GOOD_ZIP), sha256=sha256(GOOD_ZIP)
        )
    assert server.requests == []


@pytest.mark.parametrize("digest", [None, "abc", "0" * 63, 123])
def test_download_needs_a_real_sha256(server, cache, digest):
    url = server.serve("ml-100k.zip", GOOD_ZIP)
    with pytest.raises(ValueError, match="sha256 must be the expected SHA-256"):
        download_verified(url, cache / "x.zip", size=len(GOOD_ZIP), sha256=digest)
    with pytest.raises(ValueError, match="size must be"):
        download_verified(url, cache / "x.zip", size=None, sha256=sha256(GOOD_ZIP))
    assert server.requests == [] and list(cache.iterdir()) == []


# ---------------------------------------------------------------- safe_extract


def test_safe_extract_of_a_non_zip_says_so_and_creates_nothing(tmp_path):
    archive = tmp_path / "not-a.zip"
    archive.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ValueError, match="not a readable zip archive.*download it again"):
        safe_extract(archive, tmp_path / "out")
    with pytest.raises(ValueError, match="not a readable zip archive"):
        safe_extract(tmp_path / "missing.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_safe_extract_unpacks_top_level_folder(tmp_path):
    archive = tmp_path / "good.zip"
    archive.write_bytes(GOOD_ZIP)
    created = safe_extract(archive, tmp_path / "out")
    assert created == [tmp_path / "out" / "ml-100k"]
    assert sorted(p.name for p in (tmp_path / "out" / "ml-100k").iterdir()) == sorted(TINY_ML100K)
    assert (tmp_path / "out" / "ml-100k" / "u.data").read_bytes() == TINY_ML100K["u.data"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ml-100k"]  # no staging left


@pytest.mark.parametrize(
    "evil",
    ["../escaped.txt", "ml-100k/../../escaped.txt", "/tmp/escaped.txt", "..\\escaped.txt", "C:/x"],
)
def test_safe_extract_refuses_paths_escaping_the_target(tmp_path, evil):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(zip_bytes({"ml-100k/u.data": b"ok", evil: b"gotcha"}))
    target = tmp_path / "sandbox" / "out"
    with pytest.raises(ValueError, match="outside"):
        safe_extract(archive, target)
    assert not target.exists()  # refused before anything was created
    assert not list(tmp_path.rglob("escaped.txt"))


def test_safe_extract_does_not_overwrite(tmp_path):
    archive = tmp_path / "good.zip"
    archive.write_bytes(GOOD_ZIP)
    (tmp_path / "out" / "ml-100k").mkdir(parents=True)
    (tmp_path / "out" / "ml-100k" / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        safe_extract(archive, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out" / "ml-100k").iterdir()] == ["mine.txt"]


def test_safe_extract_failing_midway_leaves_no_half_folder(tmp_path, monkeypatch):
    archive = tmp_path / "good.zip"
    archive.write_bytes(GOOD_ZIP)
    original = zipfile.ZipFile.extract

    def extract_then_fail(self, member, path=None, pwd=None):
        if str(getattr(member, "filename", member)).endswith("u.user"):
            raise OSError(28, "No space left on device")
        return original(self, member, path, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "extract", extract_then_fail)
    with pytest.raises(OSError, match="No space"):
        safe_extract(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_safe_extract_is_all_or_nothing_across_top_level_entries(tmp_path, monkeypatch):
    archive = tmp_path / "two.zip"
    archive.write_bytes(zip_bytes({"first/a.txt": b"a", "second/b.txt": b"b"}))
    original = os.rename

    def rename_fails_for_second(source, destination):
        if Path(destination).name == "second":
            raise OSError(28, "No space left on device")
        return original(source, destination)

    monkeypatch.setattr(os, "rename", rename_fails_for_second)
    with pytest.raises(OSError, match="No space"):
        safe_extract(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # "first" was rolled back


# ---------------------------------------------------------------- the data layer's download path


@pytest.fixture
def course_env(monkeypatch, server, cache):
    """No local MovieLens, downloads allowed from the local server, tiny archive trusted."""
    for name in ("RECSYS_LESSONS_DATA", "RECSYS_LESSONS_DATASET", "RECSYS_LESSONS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECSYS_LESSONS_CACHE", str(cache))
    monkeypatch.setenv("RECSYS_LESSONS_BASE_URL", server.base_url)
    trust(monkeypatch, GOOD_ZIP)
    return server


def trust(monkeypatch, content: bytes) -> None:
    """Expect this archive's size and SHA-256, and do not compare it with the official counts."""
    release = dataclasses.replace(
        movielens.RELEASES["movielens-100k"], size=len(content), sha256=sha256(content), facts=None
    )
    monkeypatch.setitem(movielens.RELEASES, "movielens-100k", release)


def test_good_archive_is_downloaded_cached_and_loaded(course_env, cache):
    course_env.serve("ml-100k.zip", GOOD_ZIP)
    dataset = load_dataset("movielens-100k")
    assert dataset.name == "movielens-100k"
    assert len(dataset.interactions) == 3
    assert dataset.items.loc[2, "title"] == "Misérables, Les (1995)"
    assert sorted(p.name for p in cache.iterdir()) == ["ml-100k", "ml-100k.zip"]
    assert course_env.requests == ["/ml-100k.zip"]
    again = load_dataset("movielens-100k", offline=True)  # now served from the cache
    assert again.items.equals(dataset.items)
    assert course_env.requests == ["/ml-100k.zip"]


def test_wrong_checksum_through_load_dataset_leaves_cache_empty(course_env, cache, monkeypatch):
    course_env.serve("ml-100k.zip", GOOD_ZIP)
    trust(monkeypatch, GOOD_ZIP[:-1] + b"?")  # same size, other content
    with pytest.raises(DatasetUnavailableError, match="SHA-256") as caught:
        load_dataset("movielens-100k")
    assert course_env.base_url + "ml-100k.zip" in str(caught.value)
    assert list(cache.iterdir()) == []


def test_truncated_transfer_through_load_dataset_leaves_cache_empty(course_env, cache):
    course_env.serve("ml-100k.zip", GOOD_ZIP[: len(GOOD_ZIP) // 2], announced=len(GOOD_ZIP))
    with pytest.raises(DatasetUnavailableError, match="truncated: received"):
        load_dataset("movielens-100k")
    assert list(cache.iterdir()) == []


def test_archive_with_escaping_paths_is_refused_and_removed(course_env, cache, monkeypatch):
    evil = zip_bytes({"ml-100k/u.data": b"1\t1\t5\t1\n", "../escaped.txt": b"gotcha"})
    course_env.serve("ml-100k.zip", evil)
    trust(monkeypatch, evil)
    with pytest.raises(DatasetUnavailableError, match="outside"):
        load_dataset("movielens-100k")
    assert list(cache.iterdir()) == []
    assert not (cache.parent / "escaped.txt").exists()


def test_offline_mode_never_touches_the_network(course_env, cache, monkeypatch):
    course_env.serve("ml-100k.zip", GOOD_ZIP)
    with pytest.raises(DatasetUnavailableError, match="skipped, offline mode"):
        load_dataset("movielens-100k", offline=True)
    monkeypatch.setenv("RECSYS_LESSONS_OFFLINE", "1")
    with pytest.raises(DatasetUnavailableError, match="unset RECSYS_LESSONS_OFFLINE"):
        load_dataset("movielens-100k")
    assert course_env.requests == []
    assert list(cache.iterdir()) == []


def test_auto_falls_back_with_a_notice_when_the_download_fails(course_env, cache, capsys):
    # nothing served: the server answers 404
    dataset = load_dataset("auto", n_users=120, n_items=200, n_interactions=3000)
    assert dataset.name == "synthetic"
    notice = capsys.readouterr().out.strip()
    assert notice.count("\n") == 0
    assert notice.startswith("Notice: MovieLens 100K is not available")
    assert "404" in notice and "check your internet connection" in notice
    assert list(cache.iterdir()) == []
