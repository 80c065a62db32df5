"""Reading and validating an interaction log (and optional item metadata) for the pilot kit.

Every problem a person can fix is reported as a :class:`PilotInputError` naming the column
and the first offending line of the file (line 1 is the CSV header, so the first data row is
line 2; for Parquet, "line" counts the same way as if the table were a CSV). The command
line turns it into one sentence on stderr and exit code 2, before anything is written.

Lesson 12 (``notebooks/12_capstone_pilot.ipynb``) walks through it.
"""

from __future__ import annotations

import io
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Accepted names of each column, in order of preference (compared case-insensitively).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "user_id": ("user_id", "userid", "user", "customer_id", "customer", "visitor_id"),
    "item_id": ("item_id", "itemid", "item", "movieid", "movie_id", "product_id", "product"),
    "rating": ("rating", "score", "stars", "value"),
    "timestamp": ("timestamp", "time", "datetime", "date", "event_time", "ts"),
}
REQUIRED = ("user_id", "item_id")
METADATA_BLOCKS = {"title": "title", "genres": "genres", "tags": "tags", "text": "description"}
METADATA_BLOCKS.update({"description": "description", "genre": "genres", "tag": "tags"})


class PilotInputError(ValueError):
    """An input problem a person can fix; the message names the column and line."""


@dataclass
class InteractionLog:
    """A validated log: ``interactions`` has ``user_id``, ``item_id`` (str), optional
    ``rating`` (float) and ``timestamp`` (datetime64[ns]) columns, one row per (user, item)."""

    interactions: pd.DataFrame
    source: str
    columns: dict[str, str]
    notices: list[str] = field(default_factory=list)

    @property
    def has_ratings(self) -> bool:
        return "rating" in self.interactions.columns

    @property
    def has_timestamps(self) -> bool:
        return "timestamp" in self.interactions.columns


def read_table(path, notices: list | None = None) -> pd.DataFrame:
    """Every cell of a CSV or Parquet file as a string (``""`` when missing).

    A CSV must be UTF-8 text; its delimiter is a comma, or, when the header line has no
    comma, the semicolon, tab or ``|`` it holds (said in ``notices``, if given).
    """
    path = Path(path)
    if not path.is_file():
        raise PilotInputError(f"{path}: no such file; check the path.")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except ImportError:
            raise PilotInputError(
                f"{path}: reading Parquet needs pyarrow (pip install pyarrow), or save the "
                "log as CSV."
            ) from None
        return frame.astype(object).where(frame.notna(), "").astype(str)
    if path.stat().st_size == 0:
        raise PilotInputError(f"{path}, line 1: the file is empty (no header, no rows).")
    text = _utf8_text(path)
    delimiter = detect_delimiter(text.partition("\n")[0])
    if delimiter != "," and notices is not None:
        notices.append(f"{path}: read as {DELIMITER_NAMES[delimiter]}-separated values.")
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        raise PilotInputError(f"{path}, line 1: the file is empty (no header, no rows).") from None
    except pd.errors.ParserError as error:
        raise PilotInputError(f"{path}: not a readable CSV file ({error}).") from None


#: Delimiters tried when a CSV header has no comma, in this order.
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def detect_delimiter(header: str) -> str:
    """The comma if the header line has one, else the first of ``;``, tab, ``|`` it holds."""
    return next((mark for mark in DELIMITER_NAMES if mark in header), ",")


def _utf8_text(path: Path) -> str:
    """The file's text; a binary or non-UTF-8 file is refused with what to do."""
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise PilotInputError(
            f"{path}: this is a binary file (it holds NUL bytes), not a CSV; export the log "
            "as CSV (UTF-8) or Parquet."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise PilotInputError(
            f"{path}, line {line}: byte 0x{data[error.start]:02x} is not UTF-8 text; save the "
            "file as UTF-8 (a spreadsheet's 'CSV UTF-8', or "
            f"iconv -f latin1 -t utf-8 {path.name} > utf8.csv)."
        ) from None


def detect_columns(
    header, overrides: dict | None = None, source: str = "log", required=REQUIRED
) -> dict[str, str]:
    """Map each role (``user_id``, ``item_id``, ``rating``, ``timestamp``) to a column name.

    ``overrides`` (role -> column, from ``--user-col`` etc.) win; otherwise a column matches
    a role when its lower-cased name is one of :data:`COLUMN_ALIASES`. Two candidates for one
    role, or none for a required role, raise :class:`PilotInputError`.
    """
    overrides = {role: name for role, name in (overrides or {}).items() if name}
    header = list(header)
    flag = {"user_id": "--user-col", "item_id": "--item-col", "rating": "--rating-col"}
    flag["timestamp"] = "--timestamp-col"
    found: dict[str, str] = {}
    for role, aliases in COLUMN_ALIASES.items():
        if role in overrides:
            if overrides[role] not in header:
                raise PilotInputError(
                    f"{source}, line 1: no column {overrides[role]!r} (given by {flag[role]}); "
                    f"the header has {header}."
                )
            found[role] = overrides[role]
            continue
        candidates = [name for name in header if name.strip().lower() in aliases]
        candidates = [name for name in candidates if name not in overrides.values()]
        if len(candidates) > 1:
            raise PilotInputError(
                f"{source}, line 1: columns {candidates} could each be the {role} column "
                f"(ambiguous); choose one with {flag[role]}."
            )
        if candidates:
            found[role] = candidates[0]
        elif role in required:
            raise PilotInputError(
                f"{source}, line 1: no {role} column in the header {header}; name it with "
                f"{flag[role]} (accepted names: {', '.join(aliases)})."
            )
    return found


def load_log(
    path,
    columns: dict | None = None,
    min_user_count: int = 1,
    min_item_count: int = 1,
    progress=None,
) -> InteractionLog:
    """Read, validate and clean an interaction log.

    Cleaning, each with a notice saying how many rows went: exact duplicate (user, item)
    pairs keep their last event (the latest timestamp, else the last line); then items with
    fewer than ``min_item_count`` interactions and users with fewer than ``min_user_count``
    are dropped (one pass each, items first). ``progress``: a
    :class:`~recsys_lessons.pilot.progress.Progress` to report the cleaning as a phase.
    """
    source = str(path)
    notices: list[str] = []
    raw = read_table(path, notices)
    mapping = detect_columns(raw.columns, columns, source)
    if raw.empty:
        raise PilotInputError(f"{source}, line 2: the file has a header but no rows.")
    frame = pd.DataFrame(index=raw.index)
    for role in REQUIRED:
        values = raw[mapping[role]].str.strip()
        _first_bad(values == "", source, mapping[role], "is empty; every row needs an id")
        frame[role] = values
    if "rating" in mapping:
        text = raw[mapping["rating"]].str.strip()
        ratings = pd.to_numeric(text, errors="coerce")
        _first_bad(
            ratings.isna() | ~np.isfinite(ratings.to_numpy(dtype=float, na_value=np.nan)),
            source,
            mapping["rating"],
            "is not a number",
            text,
        )
        frame["rating"] = ratings.astype(float)
        _notice_negative_ratings(frame["rating"], source, mapping["rating"], notices)
    if "timestamp" in mapping:
        frame["timestamp"] = parse_timestamps(raw[mapping["timestamp"]], source, mapping, notices)
        if frame["timestamp"].nunique() == 1:
            notices.append(
                f"every event has the same timestamp ({frame['timestamp'].iloc[0]}), so time "
                "says nothing about order: the log is split as one without timestamps."
            )
            frame = frame.drop(columns="timestamp")
    for role, kind in (("user_id", "user"), ("item_id", "item")):
        if frame[role].nunique() < 2:
            raise PilotInputError(
                f"{source}, column {mapping[role]!r}, line 2: every row has the same {kind} "
                f"{frame[role].iloc[0]!r}; a comparison needs at least 2 {kind}s."
            )
    with progress.phase("dedup") if progress is not None else nullcontext():
        frame["_line"] = np.arange(2, len(frame) + 2)
        order = ["timestamp", "_line"] if "timestamp" in frame else ["_line"]
        frame = frame.sort_values(order, kind="stable")
        deduplicated = frame.drop_duplicates(["user_id", "item_id"], keep="last")
        if len(deduplicated) < len(frame):
            notices.append(
                f"dropped {len(frame) - len(deduplicated):,} duplicate (user, item) rows, "
                "keeping each pair's last event."
            )
        frame = _drop_rare(deduplicated, "item_id", "item", min_item_count, notices)
        frame = _drop_rare(frame, "user_id", "user", min_user_count, notices)
    for role, kind in (("user_id", "user"), ("item_id", "item")):
        if frame[role].nunique() < 2:
            raise PilotInputError(
                f"{source}, column {mapping[role]!r}: fewer than 2 {kind}s are left after "
                f"dropping users/items below the minimum counts ({min_user_count} per user, "
                f"{min_item_count} per item); lower --min-user-count / --min-item-count."
            )
    frame = frame.sort_values("_line", kind="stable").drop(columns="_line")
    return InteractionLog(frame.reset_index(drop=True), source, mapping, notices)


#: Epoch units by magnitude: a value below the bound is read in that unit (1e11 seconds is
#: the year 5138, so larger numbers are milliseconds, then microseconds, then nanoseconds).
EPOCH_UNITS = ((1e11, "s", "seconds"), (1e14, "ms", "milliseconds"), (1e17, "us", "microseconds"))


def parse_timestamps(text: pd.Series, source: str, mapping: dict, notices=None) -> pd.Series:
    """Epoch numbers or ISO dates/times, as ``datetime64[ns]``.

    The whole column must use one format. Epoch numbers are read in seconds, milliseconds,
    microseconds or nanoseconds by their magnitude (:data:`EPOCH_UNITS`), said in ``notices``
    when not seconds; events dated in the future get a notice too.
    """
    column = mapping["timestamp"]
    text = text.str.strip()
    _first_bad(
        text == "",
        source,
        column,
        "is empty; every row needs a timestamp (or remove "
        "the timestamp column to split without time)",
    )
    numbers = pd.to_numeric(text, errors="coerce")
    is_number = numbers.notna().to_numpy()
    if is_number.mean() > 0.5:
        first = int(np.argmax(is_number))
        _first_bad(
            ~is_number,
            source,
            column,
            f"is not an epoch number like line {first + 2} "
            f"({text.iloc[first]!r}); use one format for the whole column",
            text,
        )
        parsed = _from_epoch(numbers.to_numpy(dtype=float), notices)
    else:
        first = int(np.argmax(~is_number))
        _first_bad(
            is_number,
            source,
            column,
            f"is an epoch number but line {first + 2} "
            f"({text.iloc[first]!r}) is a date; use one format for the whole column",
            text,
        )
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        _first_bad(
            parsed.isna(), source, column, "is neither an epoch number nor an ISO date", text
        )
        parsed = parsed.dt.tz_localize(None).astype("datetime64[ns]")
    parsed = pd.Series(parsed, index=text.index)
    _notice_future(parsed, source, column, notices)
    return parsed


def _from_epoch(values: np.ndarray, notices) -> pd.Series:
    magnitude = np.nanmedian(np.abs(values))
    _, unit, name = next(
        (row for row in EPOCH_UNITS if magnitude < row[0]), (np.inf, "ns", "nanoseconds")
    )
    if unit != "s" and notices is not None:
        notices.append(f"read the timestamps as epoch {name} (typical value {magnitude:.3g}).")
    try:
        return pd.to_datetime(values, unit=unit).astype("datetime64[ns]")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        raise PilotInputError(
            f"epoch timestamps from {np.nanmin(values):.3g} to {np.nanmax(values):.3g} mix units "
            "or lie outside the years 1677-2262; use one unit (seconds, or milliseconds) for "
            "every row."
        ) from None


def _notice_future(parsed: pd.Series, source, column, notices) -> None:
    future = (parsed > pd.Timestamp.now()).to_numpy()
    if future.any() and notices is not None:
        row = int(np.argmax(future))
        notices.append(
            f"{source}, column {column!r}: {future.sum():,} events are dated in the future "
            f"(first on line {row + 2}: {parsed.iloc[row]}); check the clock or the time zone "
            "of the system that logged them."
        )


def _notice_negative_ratings(ratings: pd.Series, source, column, notices) -> None:
    negative = (ratings < 0).to_numpy()
    if negative.any():
        row = int(np.argmax(negative))
        notices.append(
            f"{source}, column {column!r}: {negative.sum():,} ratings are negative (first on "
            f"line {row + 2}: {ratings.iloc[row]:g}); the models read a larger rating as a "
            "stronger preference, so check that this is the scale you meant."
        )


def load_items(path, item_column: str | None = None) -> pd.DataFrame:
    """Item metadata indexed by raw item id (str), with ``title``/``genres``/``tags``/
    ``description`` columns as :func:`~recsys_lessons.models.build_item_features` reads them
    (genres and tags as ``|``-separated text; a ``text`` column becomes ``description``)."""
    source = str(path)
    raw = read_table(path)
    found = detect_columns(raw.columns, {"item_id": item_column}, source, ("item_id",))
    key = found["item_id"]
    if raw.empty:
        raise PilotInputError(f"{source}, line 2: the metadata file has a header but no rows.")
    ids = raw[key].str.strip()
    _first_bad(ids == "", source, key, "is empty; every row needs an item id")
    _first_bad(ids.duplicated(), source, key, "repeats an item id already described")
    blocks = {}
    for name in raw.columns:
        block = METADATA_BLOCKS.get(name.strip().lower())
        if block and block not in blocks:
            blocks[block] = raw[name].where(raw[name].str.strip() != "")
    if not blocks:
        raise PilotInputError(
            f"{source}, line 1: no metadata column in {list(raw.columns)}; give at least one "
            "of title, genres, tags, text."
        )
    return pd.DataFrame(blocks).set_index(pd.Index(ids, name="item_id"))


def match_items(items: pd.DataFrame, log: InteractionLog, source: str) -> list[str]:
    """Check that the metadata describes the log's items; notices for partial coverage.

    Raises :class:`PilotInputError` when no metadata id is an item id of the log (two files
    with different id schemes), naming both files and a few ids of each.
    """
    log_items = pd.Index(log.interactions["item_id"].unique())
    described = log_items.isin(items.index)
    if not described.any():
        raise PilotInputError(
            f"{source}: none of its {len(items):,} item ids (e.g. {list(items.index[:3])}) is "
            f"an item of {log.source} (e.g. {list(log_items[:3])}); both files must use the "
            "same item ids."
        )
    if described.all():
        return []
    return [
        f"{(~described).sum():,} of the log's {len(log_items):,} items have no row in {source} "
        "(content-based gives them no features)."
    ]


def _first_bad(bad, source, column, problem, text=None) -> None:
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        shown = f" ({text.iloc[row]!r})" if text is not None else ""
        raise PilotInputError(
            f"{source}, column {column!r}, line {row + 2}: value{shown} {problem}."
        )


def _drop_rare(frame, column, kind, minimum, notices) -> pd.DataFrame:
    counts = frame[column].map(frame[column].value_counts())
    keep = counts >= minimum
    if not keep.all():
        n_ids = frame.loc[~keep, column].nunique()
        notices.append(
            f"dropped {n_ids:,} {kind}s with fewer than {minimum} interactions "
            f"({(~keep).sum():,} rows)."
        )
    return frame[keep]
