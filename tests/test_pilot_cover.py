"""The pilot kit covers every user and every run can be reproduced (issue 24, section 4)."""

from __future__ import annotations

import hashlib
import html
import json
import os
import shlex
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lessons.data import generate_shop
from recsys_lessons.pilot import REGISTRY, PilotInputError, load_log
from recsys_lessons.pilot.cli import main
from recsys_lessons.pilot.coverage import DEFAULT, FALLBACK, covering_recommendations
from recsys_lessons.pilot.protocol import make_protocol

GOLDEN = Path(__file__).parent / "data" / "pilot_golden.csv"
ROWS = "popularity,item_knn"


def _shop(tmp_path) -> tuple[Path, Path]:
    """A small shop log (epoch seconds) and its product metadata."""
    shop = generate_shop(seed=3, n_customers=150, n_baskets=1200)
    log = shop.interactions[["user_id", "item_id", "timestamp"]].copy()
    log["timestamp"] = log["timestamp"].astype("datetime64[s]").astype("int64")
    log_path = tmp_path / "shop.csv"
    log.to_csv(log_path, index=False)
    items = shop.items.reset_index()[["item_id", "title", "genres"]]
    items["genres"] = items["genres"].str.join("|")
    items_path = tmp_path / "products.csv"
    items.to_csv(items_path, index=False)
    return log_path, items_path


def _run(tmp_path, name, *args) -> Path:
    out = tmp_path / name
    assert main([*args, "-o", str(out), "--quiet"]) == 0
    return out


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


# --------------------------------------------------------------------------------------
# every user covered
# --------------------------------------------------------------------------------------


def test_recommendations_cover_every_user_with_their_source_and_a_default_list(tmp_path):
    log_path, _ = _shop(tmp_path)
    out = _run(tmp_path, "out", str(log_path), "--models", ROWS)
    recs = pd.read_csv(out / "recommendations.csv", dtype=str, keep_default_na=False)
    log = pd.read_csv(log_path, dtype=str)
    results = _results(out)
    chosen = results["decision"]["model"]
    lists = recs[recs["source"] != DEFAULT]
    # every user of the log has a full list of 10
    assert set(lists["user_id"]) == set(log["user_id"])
    assert lists.groupby("user_id").size().eq(10).all()
    # users below --min-user-count (5, the default) get the popularity fallback (so do a few
    # more, whose events fall on items the minimum item count left out of the catalogue)
    counts = log.drop_duplicates(["user_id", "item_id"])["user_id"].value_counts()
    light = set(counts.index[counts < 5])
    assert light
    assert set(lists.loc[lists["source"] == FALLBACK, "user_id"]) >= light
    assert set(lists["source"]) <= {chosen, FALLBACK}
    # the fallback never recommends an item the user has already bought
    seen = lists.merge(log[["user_id", "item_id"]], on=["user_id", "item_id"])
    assert seen.empty
    # the default list: empty user_id, source "default", the most popular items first
    default = recs[recs["source"] == DEFAULT]
    assert default["user_id"].eq("").all() and default["rank"].astype(int).tolist() == list(
        range(1, 11)
    )
    assert default["score"].astype(float).is_monotonic_decreasing
    # results.json and the report count the users per source, consistently with the file
    coverage = results["coverage"]
    by_user = lists.groupby("user_id")["source"].agg(lambda s: " + ".join(sorted(set(s))))
    assert coverage["users"] == log["user_id"].nunique()
    fallback = coverage["by_source"][FALLBACK]
    assert fallback == int((by_user == FALLBACK).sum()) == coverage["below_min_user_count"]
    assert fallback >= len(light)
    assert coverage["by_source"][chosen] == int((by_user == chosen).sum())
    page = (out / "report.html").read_text()
    assert f"covers all {coverage['users']:,} users of the log" in page
    assert f"{fallback:,} from {FALLBACK}" in page


class _PartialModel:
    """Scores only items 0 and 1 (others -inf): a model that cannot fill a list."""

    def fit(self, X):
        self.X = X
        return self

    def recommend(self, users, k, exclude_seen=True):
        items = np.tile(np.arange(k), (len(users), 1))
        scores = np.where(items < 2, 1.0, -np.inf)
        return items, scores


def test_a_user_the_model_cannot_fill_gets_the_rest_from_the_fallback():
    # 3 users x 5 items; u2 has no history (below the minimum count); popularity: item 4
    full = sp.csr_matrix(np.array([[0, 0, 1, 0, 1], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]))
    seen = sp.csr_matrix(np.array([[0, 0, 1, 0, 1], [0, 0, 0, 1, 1], [0, 0, 1, 0, 0]]))
    protocol = SimpleNamespace(
        full=full, seen=seen, user_ids=pd.Index(["u0", "u1", "u2"]),
        item_ids=pd.Index(["a", "b", "c", "d", "e"]),
    )  # fmt: skip
    recs, coverage = covering_recommendations(_PartialModel(), "partial", protocol, top_n=3)
    u0 = recs[recs["user_id"] == "u0"]
    # the model's two items, then the most popular unseen one (d: 1 user; c, e seen)
    assert u0["item_id"].tolist() == ["a", "b", "d"]
    assert u0["source"].tolist() == ["partial", "partial", FALLBACK]
    # u2 saw c outside training: the fallback skips it (e: 2 users, d: 1, then a)
    u2 = recs[recs["user_id"] == "u2"]
    assert u2["item_id"].tolist() == ["e", "d", "a"] and set(u2["source"]) == {FALLBACK}
    assert coverage["by_source"] == {"partial": 0, FALLBACK: 1, f"partial + {FALLBACK}": 2}
    assert recs.loc[recs["source"] == DEFAULT, "item_id"].tolist() == ["e", "c", "d"]


# --------------------------------------------------------------------------------------
# every run reproducible
# --------------------------------------------------------------------------------------


def test_results_record_the_command_settings_inputs_code_machine_and_versions(tmp_path):
    log_path, items_path = _shop(tmp_path)
    args = [str(log_path), "--items", str(items_path), "--models", ROWS, "--min-user-count",
            "3", "--min-item-count", "4"]  # fmt: skip
    out = _run(tmp_path, "out", *args)
    provenance = _results(out)["provenance"]
    argv = [*args, "-o", str(out), "--quiet"]
    assert provenance["command"] == shlex.join(["recsys-pilot", *argv])
    assert provenance["argv"] == argv
    settings = provenance["settings"]
    assert (settings["min_user_count"], settings["min_item_count"]) == (3, 4)
    assert settings["models"] == ROWS and settings["protocol"] == "auto"
    assert settings["seed"] == 42 and settings["weight_col"] is None  # defaults recorded too
    items = provenance["files"]["items"]
    assert items == {
        "path": str(items_path),
        "sha256": hashlib.sha256(items_path.read_bytes()).hexdigest(),
    }
    assert provenance["files"]["log"]["sha256"] == hashlib.sha256(log_path.read_bytes()).hexdigest()
    assert provenance["code"].startswith(("git ", "recsys-lessons "))
    assert provenance["machine"]["cores"] == os.cpu_count()
    assert isinstance(provenance["machine"]["blas"], list)
    assert provenance["versions"]["numpy"] == np.__version__
    assert provenance["versions"]["pandas"] == pd.__version__
    # the report ends with the exact command
    page = (out / "report.html").read_text()
    tail = page[page.rindex('<pre id="reproduce">') :]
    assert html.escape(provenance["command"], quote=False) in tail
    assert tail.count("<h2") == 0  # nothing after it but the closing tags


def test_per_user_metrics_hold_one_row_per_test_user_and_model(tmp_path):
    log_path, _ = _shop(tmp_path)
    out = _run(tmp_path, "out", str(log_path), "--models", ROWS)
    results = _results(out)
    table = pd.read_csv(out / "per_user_metrics.csv", dtype={"user_id": str})
    assert list(table.columns) == ["user_id", "model", "ndcg", "recall", "hit"]
    n_test = results["protocol"]["test_users"]
    assert table.groupby("model").size().to_dict() == {"popularity": n_test, "item_knn": n_test}
    assert not table.duplicated(["user_id", "model"]).any()
    assert set(table["hit"]) <= {0.0, 1.0}
    assert ((table["hit"] == 1) == (table["recall"] > 0)).all()
    for row in results["models"]:
        mean = table.loc[table["model"] == row["model"], "ndcg"].mean()
        assert mean == pytest.approx(row["ndcg"]["estimate"], abs=1e-5)  # %.6g in the CSV


def test_params_reruns_with_the_recorded_parameters_without_tuning(tmp_path):
    log_path, _ = _shop(tmp_path)
    one = _run(tmp_path, "one", str(log_path), "--models", ROWS, "--fit-budget", "7")
    two = _run(
        tmp_path, "two", str(log_path), "--models", ROWS, "--params", str(one / "results.json")
    )
    first, second = _results(one), _results(two)
    knn_one = next(row for row in first["models"] if row["model"] == "item_knn")
    knn_two = next(row for row in second["models"] if row["model"] == "item_knn")
    assert len(knn_one["trials"]) == 6 and not knn_one["params_given"]
    assert knn_two["params_given"] and len(knn_two["trials"]) == 1  # one fit, no grid
    assert knn_two["params"] == knn_one["params"]
    assert knn_two["ndcg"] == knn_one["ndcg"]
    assert (one / "recommendations.csv").read_bytes() == (two / "recommendations.csv").read_bytes()
    page = (two / "report.html").read_text()
    assert "popularity, item_knn used the parameters recorded in <code>--params</code>" in page


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "not a JSON file"),
        ('{"rows": []}', "not a pilot results.json"),
        ('{"models": [{"model": "my_row", "status": "compared", "params": {}}]}',
         "--params names rows ['my_row'] that this run does not compare"),
        ('{"models": [{"model": "hybrid", "status": "compared", "params": {"als": 1.0}}]}',
         "the recorded hybrid blends ['als'], which this run does not compare"),
    ],
    ids=["not json", "not a pilot file", "unknown row", "hybrid of unknown rows"],
)  # fmt: skip
def test_params_refuses_a_file_that_is_not_a_pilot_results_json(
    tmp_path, capsys, content, expected
):
    params = tmp_path / "params.json"
    params.write_text(content)
    output = tmp_path / "out"
    code = main([str(GOLDEN), "-o", str(output), "--quiet", "--models", "popularity,hybrid", "--k", "2",
                 "--min-user-count", "1", "--min-item-count", "1", "--params", str(params)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --params") and expected in err
    assert not output.exists()


# --------------------------------------------------------------------------------------
# the protocol: chosen by --protocol, filters and de-duplication on the training period
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "split", "notice"),
    [
        ("auto", "per-user temporal", "protocol: switched to a per-user temporal split"),
        ("global", "global temporal", "warning: protocol: --protocol global was asked for"),
        ("per-user", "per-user temporal", "--protocol per-user was asked for"),
        ("random", "user-stratified random", "--protocol random was asked for"),
    ],
)
def test_protocol_flag_picks_the_split_and_auto_warns(tmp_path, capsys, protocol, split, notice):
    out = _run(tmp_path, "out", str(GOLDEN), "--models", "popularity", "--k", "2",
               "--min-user-count", "1", "--min-item-count", "1", "--protocol", protocol)  # fmt: skip
    results = _results(out)
    assert results["protocol"]["split"] == split
    assert results["protocol"]["requested"] == protocol
    assert notice in capsys.readouterr().out
    # the global cut scores 4 of 6 users: under --protocol global that is said with the numbers
    if protocol == "global":
        assert "leaves 4 of 6 users" in results["protocol"]["notices"][0]


def test_a_temporal_protocol_needs_timestamps(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(
        "user,item\n" + "".join(f"u{u},i{u % 3}\nu{u},i{(u + 1) % 3}\n" for u in range(6))
    )
    code = main([str(path), "-o", str(tmp_path / "out"), "--quiet", "--protocol", "global", "--k", "1",
                 "--min-user-count", "1", "--min-item-count", "1"])  # fmt: skip
    assert code == 2
    assert "--protocol global needs timestamps and the log has none" in capsys.readouterr().err


def _cut_log() -> pd.DataFrame:
    """40 users with 4 early events (t < 100) and 1 late one (t >= 1000) each."""
    rows = [(f"u{u}", f"i{(u + j) % 6}", 10 * j + u % 7) for u in range(40) for j in range(4)]
    rows += [(f"u{u}", f"i{(u + 4) % 6}", 1000 + u) for u in range(40)]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s")
    return frame


def test_a_pair_consumed_before_the_cut_and_again_after_is_not_a_test_positive(tmp_path):
    frame = _cut_log()
    # u0 bought i0 early (t=0) and again late: keep-last de-duplication used to move the pair
    # into the test period, so the model was scored on an item the user already had
    again = pd.DataFrame({"user_id": ["u0"], "item_id": ["i0"],
                          "timestamp": [pd.Timestamp(1500, unit="s")]})  # fmt: skip
    path = tmp_path / "log.csv"
    logged = pd.concat([frame, again], ignore_index=True)
    seconds = (logged["timestamp"] - pd.Timestamp(0)) // pd.Timedelta(seconds=1)
    logged.assign(timestamp=seconds).to_csv(path, index=False)
    log = load_log(path)
    assert "keeping each pair's earliest event" in log.notices[0]
    protocol = make_protocol(log.interactions, k=2, test_ratio=0.2, split="global")
    assert protocol.name == "global temporal"
    user, item = protocol.user_ids.get_loc("u0"), protocol.item_ids.get_loc("i0")
    assert protocol.test.train[user, item] == 1 and protocol.test.test[user, item] == 0
    assert "earliest event" in protocol.description and "Remaining leakage" in protocol.description


def test_minimum_counts_are_counted_on_the_training_period_only():
    frame = _cut_log()
    # "hit": one early event, ten late ones. Counted on the whole log (11 events) it passed
    # --min-item-count 2; counted on training (1 event) it does not
    late = pd.DataFrame({"user_id": [f"u{u}" for u in range(10)], "item_id": "hit",
                         "timestamp": pd.to_datetime([1100 + u for u in range(10)], unit="s")})  # fmt: skip
    early = pd.DataFrame({"user_id": ["u39"], "item_id": ["hit"],
                          "timestamp": [pd.Timestamp(50, unit="s")]})  # fmt: skip
    # "w": a user with one early event and four late ones: 5 events, 1 in training
    newcomer = pd.DataFrame({"user_id": "w", "item_id": ["i0", "i1", "i2", "i3", "i5"],
                             "timestamp": pd.to_datetime([60, 1200, 1201, 1202, 1203], unit="s")})  # fmt: skip
    log = pd.concat([frame, late, early, newcomer], ignore_index=True)
    protocol = make_protocol(log, k=2, split="global", min_user_count=2, min_item_count=2)
    assert "hit" not in protocol.item_ids
    assert protocol.user_ids.get_loc("w") not in protocol.test.users
    filters = protocol.as_dict()["filters"]
    assert filters["training_period"]["after_items"]["items"] == 6
    assert any("items with fewer than 2 training events" in n for n in protocol.notices)
    # the deployed model (the refit on the whole log) counts every event: w is trained on
    assert protocol.full[protocol.user_ids.get_loc("w")].nnz == 5


def test_too_few_users_left_on_the_training_period_shows_the_counts():
    frame = _cut_log()
    with pytest.raises(
        PilotInputError, match="counted on the training period \\(before the filters"
    ):
        make_protocol(frame, k=2, split="global", min_user_count=5)


# --------------------------------------------------------------------------------------
# a team's own row from the command line
# --------------------------------------------------------------------------------------


@pytest.fixture
def restore_registry():
    saved = list(REGISTRY)
    yield
    REGISTRY[:] = saved


PLUGIN = '''
from recsys_lessons.models import Popularity
from recsys_lessons.pilot import ModelSpec


class Recent(Popularity):
    """Popularity with a name of its own, as a team's row."""


def pilot_rows():
    return [ModelSpec("team_popularity", "team", lambda params, context: Recent())]


def not_a_spec():
    return 42
'''


def test_plugin_registers_a_row_the_command_line_can_compare(
    tmp_path, monkeypatch, restore_registry
):
    (tmp_path / "team_rows.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = _run(tmp_path, "out", str(GOLDEN), "--plugin", "team_rows:pilot_rows", "--models",
               "popularity,team_popularity", "--k", "2", "--min-user-count", "1",
               "--min-item-count", "1")  # fmt: skip
    rows = {row["model"]: row for row in _results(out)["models"]}
    assert rows["team_popularity"]["status"] == "compared"
    assert rows["team_popularity"]["lesson"] == "team"
    assert rows["team_popularity"]["ndcg"] == rows["popularity"]["ndcg"]


@pytest.mark.parametrize(
    ("plugin", "expected"),
    [
        ("team_rows", "write it as module:function"),
        ("no_such_module:rows", "cannot import 'no_such_module'"),
        ("team_rows:missing", "team_rows has no function 'missing'"),
        ("team_rows:not_a_spec", "must return a ModelSpec or a list of them; it returned int"),
    ],
)
def test_a_bad_plugin_is_refused_with_what_to_do(
    tmp_path, capsys, monkeypatch, restore_registry, plugin, expected
):
    (tmp_path / "team_rows.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    output = tmp_path / "out"
    code = main([str(GOLDEN), "-o", str(output), "--quiet", "--plugin", plugin])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --plugin") and expected in err
    assert not output.exists()
