"""``make course``: every lesson runs, a table reports it, and one failure fails the command."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from tools.run_course import main


def write_lesson(path, *sources):
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)


def test_a_failing_lesson_is_reported_and_fails_the_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RECSYS_LESSONS_DATASET", "synthetic")
    lessons, output = tmp_path / "notebooks", tmp_path / "build"
    lessons.mkdir()
    write_lesson(lessons / "00_fine.ipynb", "print(6 * 7)")
    write_lesson(lessons / "01_broken.ipynb", "1 / 0")

    exit_code = main(["--lessons", str(lessons), "--output", str(output)])

    table = capsys.readouterr().out
    assert exit_code == 1
    assert "00_fine" in table and "01_broken" in table
    fine_row = next(line for line in table.splitlines() if line.startswith("00_fine"))
    broken_row = next(line for line in table.splitlines() if line.startswith("01_broken"))
    assert fine_row.endswith("ok") and "synthetic" in fine_row
    assert "FAILED" in broken_row and "ZeroDivisionError" in broken_row
    executed = nbformat.read(output / "00_fine.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert (output / "00_fine.html").is_file() and (output / "01_broken.html").is_file()
    assert "1 of 2 lessons ran" in table


def test_an_empty_lesson_folder_fails_clearly(tmp_path, capsys):
    assert main(["--lessons", str(tmp_path), "--output", str(tmp_path / "build")]) == 1
    assert "No lessons found" in capsys.readouterr().out
