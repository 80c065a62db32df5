"""The pilot kit loses no data and fails early: its output folder, Ctrl-C, and unusual logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from recsys_lessons.pilot import OUTPUT_FILES, PilotInputError, load_items, load_log
from recsys_lessons.pilot.cli import main
from recsys_lessons.pilot.output import write_outputs

GOLDEN = Path(__file__).parent / "data" / "pilot_golden.csv"
FAST = ["--quiet", "--models", "popularity", "--k", "3", "--top-n", "3",
        "--min-user-count", "1", "--min-item-count", "1"]  # fmt: skip


def run(log, output, *extra) -> int:
    return main([str(log), "-o", str(output), *FAST, *extra])


def refused(capsys, code: int, expected: str) -> str:
    """Exit code 2, one ``error:`` sentence holding ``expected``, no traceback."""
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert expected in err
    return err


# --------------------------------------------------------------------------------------
# the output folder
# --------------------------------------------------------------------------------------


def test_existing_outputs_are_named_and_kept_without_overwrite(tmp_path, capsys):
    output = tmp_path / "report"
    output.mkdir()
    (output / "report.html").write_text("my own report")
    (output / "results.json").write_text("{}")
    err = refused(capsys, run(GOLDEN, output), "pass --overwrite")
    assert str(output / "report.html") in err and str(output / "results.json") in err
    assert (output / "report.html").read_text() == "my own report"
    assert sorted(p.name for p in output.iterdir()) == ["report.html", "results.json"]


def test_overwrite_replaces_the_outputs(tmp_path, capsys):
    output = tmp_path / "report"
    output.mkdir()
    (output / "report.html").write_text("old")
    assert run(GOLDEN, output, "--overwrite") == 0
    assert (output / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in output.iterdir()) == sorted(OUTPUT_FILES)


def test_output_dot_refuses_to_replace_a_report_in_the_current_folder(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    Path("report.html").write_text("someone's report")
    refused(capsys, run(GOLDEN, "."), "report.html")
    assert Path("report.html").read_text() == "someone's report"


def test_an_input_is_never_replaced_even_with_overwrite(tmp_path, capsys):
    log = tmp_path / "recommendations.csv"
    log.write_bytes(GOLDEN.read_bytes())
    err = refused(capsys, run(log, tmp_path, "--overwrite"), "would replace your input file")
    assert "recommendations.csv" in err
    assert log.read_bytes() == GOLDEN.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recommendations.csv"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: (tmp / "out.txt", (tmp / "out.txt").write_text("x")), "is a file"),
        (lambda tmp: (tmp / "f.txt" / "out", (tmp / "f.txt").write_text("x")), "lies under the file"),
    ],
    ids=["a file", "under a file"],
)  # fmt: skip
def test_an_output_that_cannot_be_a_folder_fails_before_any_work(
    tmp_path, capsys, monkeypatch, make, expected
):
    output, _ = make(tmp_path)
    monkeypatch.setattr("recsys_lessons.pilot.cli.load_log", _never_called)
    refused(capsys, run(GOLDEN, output), expected)


def test_a_read_only_output_fails_before_any_work(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root may write anywhere: answer os.access as for any other user
        access = os.access
        monkeypatch.setattr(
            os, "access", lambda path, mode: access(path, mode) and Path(path) != locked
        )
    monkeypatch.setattr("recsys_lessons.pilot.cli.load_log", _never_called)
    try:
        refused(capsys, run(GOLDEN, locked / "out"), "is not writable")
    finally:
        locked.chmod(0o700)


def _never_called(*args, **kwargs):
    raise AssertionError("the log was read although the output folder is unusable")


class _FailingFrame:
    def to_csv(self, path, **kwargs):
        Path(path).write_text("half")
        raise OSError(28, "No space left on device")


def test_a_failed_write_leaves_the_folder_as_it_was(tmp_path):
    (tmp_path / "results.json").write_text("earlier")
    with pytest.raises(OSError, match="No space"):
        write_outputs(tmp_path, {"a": 1}, _FailingFrame(), "<html></html>", _FailingFrame())
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    assert (tmp_path / "results.json").read_text() == "earlier"


def test_ctrl_c_prints_one_line_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("recsys_lessons.pilot.run.run_pilot", interrupted)
    output = tmp_path / "out"
    assert run(GOLDEN, output) == 130
    assert capsys.readouterr().err == "interrupted; nothing was written\n"
    assert not output.exists()


# --------------------------------------------------------------------------------------
# unusual logs
# --------------------------------------------------------------------------------------


def _write(tmp_path, data: str | bytes, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("user,item,title\nu1,a,Amélie\nu2,b,Léon\n".encode("latin-1"),
         "log.csv, line 2: byte 0xe9 is not UTF-8 text; save the file as UTF-8"),
        (b"PK\x03\x04\x00\x00binary", "log.csv: this is a binary file"),
        ("user,item,timestamp\nu1,a,1700000000\nu2,b,\nu3,c,1700000100\n",
         "column 'timestamp', line 3: value is empty; every row needs a timestamp"),
        ("user,item,timestamp\nu1,a,1700000000\nu2,b,2024-01-01\nu3,c,1700000100\n",
         "line 3: value ('2024-01-01') is not an epoch number like line 2 ('1700000000')"),
        ("user,item,timestamp\nu1,a,2024-01-01\nu2,b,1700000000\nu3,c,2024-01-03\n",
         "line 3: value ('1700000000') is an epoch number but line 2 ('2024-01-01') is a date"),
    ],
    ids=["latin-1", "binary", "empty timestamp", "iso among epochs", "epoch among isos"],
)  # fmt: skip
def test_unreadable_values_name_the_file_and_the_line(tmp_path, data, expected):
    with pytest.raises(PilotInputError) as error:
        load_log(_write(tmp_path, data))
    assert expected in str(error.value)


def test_millisecond_epochs_are_read_as_milliseconds_with_a_notice(tmp_path):
    log = load_log(
        _write(tmp_path, "user,item,timestamp\nu1,a,1700000000000\nu2,b,1700000060000\n")
    )
    assert list(log.interactions["timestamp"]) == [
        pd.Timestamp("2023-11-14 22:13:20"),
        pd.Timestamp("2023-11-14 22:14:20"),
    ]
    assert "read the timestamps as epoch milliseconds" in " ".join(log.notices)


def test_microsecond_epochs_are_read_as_microseconds_with_a_notice(tmp_path):
    text = "user,item,timestamp\nu1,a,1700000000000000\nu2,b,1700000060000000\n"
    log = load_log(_write(tmp_path, text))
    assert list(log.interactions["timestamp"]) == [
        pd.Timestamp("2023-11-14 22:13:20"),
        pd.Timestamp("2023-11-14 22:14:20"),
    ]
    assert "read the timestamps as epoch microseconds" in " ".join(log.notices)


def test_unused_columns_are_listed_with_a_hint_for_a_time_column(tmp_path, capsys):
    path = _write(tmp_path, "user,item,created_at,store\nu1,a,1700000000,s1\nu2,b,1700000100,s2\n")
    log = load_log(path)
    assert not log.has_timestamps
    assert log.notices == [
        "ignored columns: 'created_at', 'store'. The log has no timestamp column; did you "
        "mean --timestamp-col created_at?"
    ]
    # once the time column is named, the hint goes and the other column is still listed
    named = load_log(path, {"timestamp": "created_at"})
    assert named.has_timestamps and named.notices == ["ignored columns: 'store'."]


def test_weight_column_is_read_checked_and_held_by_the_training_matrices(tmp_path, capsys):
    rows = [f"u{u},i{(u + j) % 9},{j + 1},{1700000000 + 10 * u + j}" for u in range(8)
            for j in range(4)]  # fmt: skip
    path = _write(tmp_path, "user,item,qty,timestamp\n" + "\n".join(rows) + "\n")
    log = load_log(path, weight_col="qty")
    assert log.interactions["weight"].tolist()[:4] == [1.0, 2.0, 3.0, 4.0]
    assert log.notices == []  # qty is used, so no column is ignored
    from recsys_lessons.pilot.protocol import make_protocol

    protocol = make_protocol(log.interactions, k=2, split="random")
    # each training cell is that pair's weight, not 1.0; test cells stay binary positives
    assert sorted(set(protocol.test.train.data)) == [1.0, 2.0, 3.0, 4.0]
    assert set(protocol.test.test.data) == {1.0}
    bad = _write(tmp_path, "user,item,qty\nu1,a,2\nu2,b,-1\n", "bad.csv")
    with pytest.raises(PilotInputError, match="column 'qty', line 3: value \\('-1'\\) is negative"):
        load_log(bad, weight_col="qty")
    with pytest.raises(PilotInputError, match="no column 'amount' \\(given by --weight-col\\)"):
        load_log(bad, weight_col="amount")
    code = main([str(path), "-o", str(tmp_path / "out"), *FAST, "--weight-col", "qty"])
    assert code == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["settings"]["weights"] is True
    assert results["provenance"]["settings"]["weight_col"] == "qty"


def test_min_rating_drops_low_ratings_from_the_positives(tmp_path):
    text = "user,item,rating\nu1,a,5\nu1,b,1\nu2,a,2\nu2,c,4\nu3,b,3\n"
    log = load_log(_write(tmp_path, text), min_rating=3)
    assert sorted(zip(log.interactions["user_id"], log.interactions["item_id"], strict=True)) == [
        ("u1", "a"), ("u2", "c"), ("u3", "b")
    ]  # fmt: skip
    assert log.notices == ["dropped 2 events rated below --min-rating 3 (not positives)."]
    implicit = _write(tmp_path, "user,item\nu1,a\nu2,b\n", "implicit.csv")
    with pytest.raises(PilotInputError, match="--min-rating needs a rating column"):
        load_log(implicit, min_rating=3)


def test_too_few_users_left_shows_the_counts_after_each_filter(tmp_path, capsys):
    text = "user,item\nu1,a\nu1,b\nu2,a\nu3,c\n"
    code = main([str(_write(tmp_path, text)), "-o", str(tmp_path / "out"), "--quiet",
                 "--min-user-count", "2", "--min-item-count", "2"])  # fmt: skip
    refused(
        capsys,
        code,
        "fewer than 2 users and items are left after dropping users/items below the minimum "
        "counts, counting every event of the log (before the filters: 4 events, 3 users, 3 "
        "items; after --min-item-count 2: 2 events, 2 users, 1 items; after --min-user-count "
        "2: 0 events, 0 users, 0 items)",
    )


def test_identical_timestamps_drop_the_time_with_a_notice(tmp_path):
    log = load_log(_write(tmp_path, "user,item,timestamp\nu1,a,5\nu1,b,5\nu2,a,5\n"))
    assert not log.has_timestamps
    assert any("every event has the same timestamp" in n for n in log.notices)


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_semicolon_and_tab_files_are_read_with_a_notice(tmp_path, delimiter, name):
    text = "\n".join(delimiter.join(row) for row in
                     [("user", "item", "rating"), ("u1", "a", "4"), ("u2", "b", "3.5")]) + "\n"  # fmt: skip
    log = load_log(_write(tmp_path, text))
    assert list(log.interactions["rating"]) == [4.0, 3.5]
    assert f"read as {name}-separated values" in " ".join(log.notices)


def test_negative_ratings_and_future_events_get_notices(tmp_path):
    text = "user,item,rating,timestamp\nu1,a,-1,1700000000\nu2,b,4,4102444800\n"
    notices = " ".join(load_log(_write(tmp_path, text)).notices)
    assert "1 ratings are negative (first on line 2: -1)" in notices
    assert "1 events are dated in the future (first on line 3: 2100-01-01" in notices


def test_item_metadata_that_matches_no_log_item_skips_content_based_naming_both_files(
    tmp_path, capsys
):
    # issue 24 section 4: zero overlap is reported and content-based skipped with the reason
    items = _write(tmp_path, "item_id,title\nX1,One\nX2,Two\n", "items.csv")
    output = tmp_path / "out"
    code = main([str(GOLDEN), "--items", str(items), "-o", str(output), *FAST[:1],
                 "--models", "popularity,content_based", *FAST[3:]])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "0 of 5 log items have metadata" in printed
    assert "none of its 2 item ids (e.g. ['X1', 'X2'])" in printed and str(GOLDEN) in printed
    results = json.loads((output / "results.json").read_text())
    content = next(row for row in results["models"] if row["model"] == "content_based")
    assert content["status"] == "skipped" and "different item ids" in content["reason"]
    assert results["input"]["metadata_overlap"]["items_with_metadata"] == 0


def test_the_metadata_overlap_is_reported(tmp_path, capsys):
    items = _write(tmp_path, "item_id,title\na,Alpha\nb,Beta\nX,Gone\n", "items.csv")
    code = main([str(GOLDEN), "--items", str(items), "-o", str(tmp_path / "out"), *FAST])
    assert code == 0
    assert "notice: 2 of 5 log items have metadata in" in capsys.readouterr().out


def test_a_parquet_log_reads_like_its_csv(tmp_path):
    frame = pd.read_csv(GOLDEN, dtype=str)
    frame.to_parquet(tmp_path / "log.parquet")
    parquet = load_log(tmp_path / "log.parquet").interactions
    pd.testing.assert_frame_equal(parquet, load_log(GOLDEN).interactions)


def test_a_semicolon_metadata_file_is_read(tmp_path):
    items = load_items(_write(tmp_path, "item_id;title\na;Alpha\nb;Beta\n", "items.csv"))
    assert list(items["title"]) == ["Alpha", "Beta"]
