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
    ``rating`` (float), ``timestamp`` (datetime64[ns]) and ``weight`` (float) columns, one
    row per (user, item). ``min_user_count`` and ``min_item_count`` are the minimum counts
    the protocol applies to each training period (:mod:`~recsys_lessons.pilot.protocol`)."""

    interactions: pd.DataFrame
    source: str
    columns: dict[str, str]
    notices: list[str] = field(default_factory=list)
    min_user_count: int = 1
    min_item_count: int = 1

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
    *,
    weight_col: str | None = None,
    min_rating: float | None = None,
    progress=None,
) -> InteractionLog:
    """Read, validate and de-duplicate an interaction log.

    Cleaning, each with a notice saying how many rows went: with ``min_rating``, events
    rated below it are dropped (they are not positives); then duplicate (user, item) pairs
    keep their **earliest** event (the earliest timestamp, else the first line), so a pair
    consumed before a temporal cut stays a training event and never becomes a test
    positive. The minimum counts are *not* applied here: the protocol counts them on the
    training period only (:func:`~recsys_lessons.pilot.protocol.training_filter`); here a
    log that could not pass them even counting every event is refused, with the counts
    after each filter.

    ``weight_col`` names a column of non-negative numbers (a quantity, plays, a weight) kept
    as ``weight``: the training matrices then hold each pair's weight (of its earliest event,
    like every other field) instead of 1.0. A notice lists the columns the run ignores, with
    a hint when one looks like a time.
    ``progress``: a :class:`~recsys_lessons.pilot.progress.Progress` to report the cleaning
    as a phase.
    """
    source = str(path)
    notices: list[str] = []
    raw = read_table(path, notices)
    mapping = detect_columns(raw.columns, columns, source)
    if weight_col is not None and weight_col not in raw.columns:
        raise PilotInputError(
            f"{source}, line 1: no column {weight_col!r} (given by --weight-col); the header "
            f"has {list(raw.columns)}."
        )
    if raw.empty:
        raise PilotInputError(f"{source}, line 2: the file has a header but no rows.")
    _notice_unused(raw.columns, mapping, weight_col, notices)
    frame = pd.DataFrame(index=raw.index)
    for role in REQUIRED:
        values = raw[mapping[role]].str.strip()
        _first_bad(values == "", source, mapping[role], "is empty; every row needs an id")
        frame[role] = values
    if "rating" in mapping:
        frame["rating"] = _numbers(raw[mapping["rating"]], source, mapping["rating"])
        _notice_negative_ratings(frame["rating"], source, mapping["rating"], notices)
    if weight_col is not None:
        frame["weight"] = _numbers(raw[weight_col], source, weight_col)
        _first_bad(frame["weight"] < 0, source, weight_col, "is negative; weights are >= 0",
                   raw[weight_col])  # fmt: skip
    if "timestamp" in mapping:
        frame["timestamp"] = parse_timestamps(raw[mapping["timestamp"]], source, mapping, notices)
        if frame["timestamp"].nunique() == 1:
            notices.append(
                f"every event has the same timestamp ({frame['timestamp'].iloc[0]}), so time "
                "says nothing about order: the log is split as one without timestamps."
            )
            frame = frame.drop(columns="timestamp")
    if min_rating is not None:
        frame = _drop_low_ratings(frame, min_rating, source, notices)
    for role, kind in (("user_id", "user"), ("item_id", "item")):
        if frame[role].nunique() < 2:
            raise PilotInputError(
                f"{source}, column {mapping[role]!r}, line 2: every row has the same {kind} "
                f"{frame[role].iloc[0]!r}; a comparison needs at least 2 {kind}s."
            )
    with progress.phase("dedup") if progress is not None else nullcontext():
        frame["_line"] = frame.index + 2  # raw's index counts the data rows from 0
        order = ["timestamp", "_line"] if "timestamp" in frame else ["_line"]
        frame = frame.sort_values(order, kind="stable")
        deduplicated = frame.drop_duplicates(["user_id", "item_id"], keep="first")
        if len(deduplicated) < len(frame):
            notices.append(
                f"dropped {len(frame) - len(deduplicated):,} duplicate (user, item) rows, "
                "keeping each pair's earliest event."
            )
        _check_minimum_counts(deduplicated, min_user_count, min_item_count)
    frame = deduplicated.sort_values("_line", kind="stable").drop(columns="_line")
    return InteractionLog(
        frame.reset_index(drop=True), source, mapping, notices, min_user_count, min_item_count
    )


#: Words in a column name that suggest a time (for the "did you mean" hint).
TIME_HINTS = ("time", "date", "created", "updated", "_at", "day", "when", "epoch")


def _notice_unused(header, mapping: dict, weight_col, notices: list) -> None:
    """A notice naming the columns the run ignores; a hint when one looks like a time and
    no timestamp column was found."""
    unused = [name for name in header if name not in {*mapping.values(), weight_col}]
    if not unused:
        return
    text = f"ignored columns: {', '.join(repr(name) for name in unused)}."
    timely = [name for name in unused if any(hint in name.lower() for hint in TIME_HINTS)]
    if timely and "timestamp" not in mapping:
        text += f" The log has no timestamp column; did you mean --timestamp-col {timely[0]}?"
    notices.append(text)


def _numbers(text: pd.Series, source, column) -> pd.Series:
    text = text.str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    _first_bad(
        numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan)),
        source,
        column,
        "is not a number",
        text,
    )
    return numbers.astype(float)


def _drop_low_ratings(frame, min_rating: float, source, notices) -> pd.DataFrame:
    if "rating" not in frame:
        raise PilotInputError(
            f"{source}: --min-rating needs a rating column and the log has none; name it "
            "with --rating-col, or drop --min-rating."
        )
    low = (frame["rating"] < min_rating).to_numpy()
    if low.any():
        notices.append(
            f"dropped {low.sum():,} events rated below --min-rating {min_rating:g} (not positives)."
        )
    return frame[~low]


def _check_minimum_counts(frame, min_user_count: int, min_item_count: int) -> None:
    """Refuse a log that cannot leave 2 users and 2 items even counting every event."""
    from recsys_lessons.pilot.protocol import check_enough_left, training_filter

    counts = training_filter(frame, min_user_count, min_item_count)[1]
    check_enough_left(counts, min_user_count, min_item_count, "counting every event of the log")


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
    """The metadata overlap as a notice: "N of M log items have metadata".

    At zero overlap (two files with different id schemes) the notice names a few ids of
    each file and says that content-based is skipped (:func:`metadata_overlap` is 0 and the
    run skips the rows that read metadata, giving this reason).
    """
    log_items = pd.Index(log.interactions["item_id"].unique())
    described = int(metadata_overlap(items, log_items))
    notice = f"{described:,} of {len(log_items):,} log items have metadata in {source}"
    if described == 0:
        return [
            f"{notice}: none of its {len(items):,} item ids (e.g. {list(items.index[:3])}) is "
            f"an item of {log.source} (e.g. {list(log_items[:3])}); both files must use the "
            "same item ids. Content-based is skipped."
        ]
    if described < len(log_items):
        return [f"{notice} (content-based gives the others no features)."]
    return [f"{notice}."]


def metadata_overlap(items: pd.DataFrame | None, item_ids) -> int:
    """How many of ``item_ids`` have a row in ``items`` (0 when ``items`` is ``None``)."""
    return 0 if items is None else int(pd.Index(item_ids).isin(items.index).sum())


def _first_bad(bad, source, column, problem, text=None) -> None:
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        shown = f" ({text.iloc[row]!r})" if text is not None else ""
        raise PilotInputError(
            f"{source}, column {column!r}, line {row + 2}: value{shown} {problem}."
        )
