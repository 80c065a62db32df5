"""Fetch a file you can trust, and unpack an archive without surprises.

Two small tools the data layer (:mod:`recsys_lessons.data.loading`) uses to put MovieLens in the
download cache. Both follow one rule: a file or folder appears in its final place
complete and verified, or not at all. A pilot can reuse them for any archive it knows the
size and SHA-256 of.

- :func:`download_verified` streams a URL into a temporary file next to the destination,
  checks its size and SHA-256, then renames it into place with :func:`os.replace` (atomic on
  one file system). On any failure the temporary file is deleted; a ``*.part`` file left
  by a download that was killed (so could not clean up) is deleted by the next download of
  the same file once it is an hour old.
- :func:`safe_extract` refuses archive members that would land outside the target folder
  ("zip slip": ``../`` or absolute paths), extracts into a temporary folder, then renames
  each top-level entry into place.

Lesson 00 (``notebooks/00_welcome_and_data.ipynb``) shows where the data comes from.
"""

from __future__ import annotations

import glob
import hashlib
import http.client
import os
import re
import shutil
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm import tqdm

from recsys_lessons.validation import check_positive_int

CHUNK_BYTES = 1 << 16

#: A temporary ``*.part`` file untouched for this long belongs to a killed download.
STALE_PART_SECONDS = 3600


class DownloadError(OSError):
    """A download failed or did not match its expected size and SHA-256; nothing was kept."""


def download_verified(
    url: str,
    dest,
    *,
    size: int,
    sha256: str,
    timeout: float = 10.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest``, keeping it only if its size and SHA-256 match.

    Parameters
    ----------
    url : str
        Where to fetch the file (``http://``, ``https://``).
    dest : str or path-like
        Final path of the file. Its folder must exist. An existing file there is replaced
        only once the new download has been verified.
    size : int
        Expected length in bytes. A server announcing another length is refused before any
        byte is stored, and the transfer stops as soon as it exceeds ``size``.
    sha256 : str
        Expected SHA-256 of the content, as 64 hexadecimal digits.
    timeout : float
        Seconds to wait for the connection and for each read before giving up (default 10):
        a dead network fails fast instead of hanging a notebook.
    progress : bool
        Show a tqdm progress bar on standard error (default ``True``).

    Returns
    -------
    pathlib.Path
        ``dest``, now holding the verified file.

    Raises
    ------
    DownloadError
        On a network error, an HTTP error, a truncated or oversized transfer, or a checksum
        mismatch. The temporary file is removed, so the folder is left as it was.
    ValueError
        If ``size`` or ``sha256`` is not a valid expectation, or ``dest``'s folder does not
        exist (nothing is downloaded).
    """
    dest = Path(dest)
    check_positive_int(size, "size", "the expected length in bytes")
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(
            f"sha256 must be the expected SHA-256 as 64 hexadecimal digits; got {sha256!r}. "
            "A download is only kept when it can be verified."
        )
    if not dest.parent.is_dir():
        raise ValueError(
            f"cannot download into {dest.parent}: no such folder. Create it first, e.g. "
            f"Path({str(dest.parent)!r}).mkdir(parents=True)."
        )
    _remove_stale_parts(dest)
    handle = tempfile.NamedTemporaryFile(
        dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False
    )
    temporary = Path(handle.name)
    try:
        with handle:
            digest = _stream(url, handle, size=size, timeout=timeout, progress=progress)
        if digest != sha256.lower():
            raise DownloadError(
                f"{url} does not have the expected content (SHA-256 {digest}, expected "
                f"{sha256.lower()}); the file may be corrupt or replaced. Nothing was kept."
            )
        os.replace(temporary, dest)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, (OSError, http.client.HTTPException)) and not isinstance(
            error, DownloadError
        ):
            raise DownloadError(f"could not download {url}: {error}") from error
        raise
    return dest


def _remove_stale_parts(dest: Path) -> None:
    """Delete ``.<name>.*.part`` files of killed downloads of ``dest`` (older than an hour).

    Younger ones may belong to a download running in another process and are left alone.
    """
    cutoff = time.time() - STALE_PART_SECONDS
    for part in dest.parent.glob(f".{glob.escape(dest.name)}.*.part"):
        try:
            if part.is_file() and part.stat().st_mtime < cutoff:
                part.unlink()
        except OSError:
            pass  # vanished meanwhile or not ours to delete: not worth failing a download


def _stream(url: str, handle, *, size: int, timeout: float, progress: bool) -> str:
    """Copy the response body into ``handle`` chunk by chunk; return its SHA-256 (hex)."""
    digest = hashlib.sha256()
    received = 0
    with urllib.request.urlopen(url, timeout=timeout) as response:
        announced = response.headers.get("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) != size:
            raise DownloadError(
                f"{url} announces {int(announced):,} bytes but {size:,} were expected; "
                "refusing a file that is not the expected one."
            )
        with tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=PurePosixPath(url).name,
            disable=not progress,
        ) as bar:
            while chunk := response.read(CHUNK_BYTES):
                received += len(chunk)
                if received > size:
                    raise DownloadError(
                        f"{url} sent more than the expected {size:,} bytes; refusing it."
                    )
                handle.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    if received != size:
        raise DownloadError(
            f"{url} was truncated: received {received:,} of {size:,} bytes. "
            "Check your connection and try again."
        )
    return digest.hexdigest()


def safe_extract(zip_path, target_dir) -> list[Path]:
    """Extract a zip archive into ``target_dir``, all or nothing, refusing escaping paths.

    Every member name is checked first: absolute paths, drive letters and ``..`` components
    are refused, because they would write outside ``target_dir`` ("zip slip"). The archive
    is then extracted into a temporary folder inside ``target_dir`` and each top-level entry
    is renamed into place, so a crash or a full disk never leaves a half-extracted folder
    behind. (Official MovieLens archives hold exactly one top-level folder.)

    Parameters
    ----------
    zip_path : str or path-like
        The archive to extract.
    target_dir : str or path-like
        Folder that receives the archive's top-level entries; created if missing.

    Returns
    -------
    list of pathlib.Path
        The top-level files and folders created in ``target_dir``, sorted by name.

    Raises
    ------
    ValueError
        If ``zip_path`` is not a readable zip archive, or a member would land outside
        ``target_dir``; nothing is extracted and ``target_dir`` is not created.
    FileExistsError
        If a top-level entry of the archive already exists in ``target_dir``; nothing is
        overwritten. Delete it first if you want a fresh copy.
    """
    target = Path(target_dir)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(
            f"{zip_path} is not a readable zip archive ({type(error).__name__}: {error}); "
            "download it again. Nothing was extracted."
        ) from None
    with archive:
        names = archive.namelist()
        unsafe = [name for name in names if not _is_safe_member(name)]
        if unsafe:
            raise ValueError(
                f"{zip_path} holds paths that would be written outside {target}: "
                f"{unsafe[:5]}. The archive is unsafe or corrupt; nothing was extracted."
            )
        tops = sorted({PurePosixPath(name).parts[0] for name in names})
        existing = [target / top for top in tops if (target / top).exists()]
        if existing:
            raise FileExistsError(
                f"cannot extract {zip_path}: {[str(p) for p in existing]} already exist(s). "
                "Delete them first to extract a fresh copy."
            )
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target, prefix=".extracting-"))
        moved: list[Path] = []
        try:
            for member in archive.infolist():
                archive.extract(member, staging)
            for top in tops:
                os.rename(staging / top, target / top)
                moved.append(target / top)
        except BaseException:
            for path in moved:
                _remove(path)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return moved


def _is_safe_member(name: str) -> bool:
    """True when an archive member name stays inside the folder it is extracted into."""
    if not name or name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return False
    parts = name.replace("\\", "/").split("/")
    return ".." not in parts


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
