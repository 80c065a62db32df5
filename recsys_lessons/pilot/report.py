"""Render a pilot's results as one self-contained HTML page.

Figures are matplotlib PNGs, drawn on their own ``Figure`` objects (never through pyplot,
so importing this module leaves a notebook's plotting backend alone), embedded as base64
``data:`` URIs; the style sheet is inline, so the page needs no network and no other file:
open it in any browser, attach it to an e-mail. :data:`SECTIONS` lists the section headings, in order (the browser test
checks every one).
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from recsys_lessons.pilot.beyond import AUDIT_COLUMNS, BEYOND_ACCURACY

SECTIONS = (
    "Recommendation",
    "Data profile",
    "Protocol",
    "Accuracy with 95% intervals",
    "Beyond accuracy and audit",
    "Cost: time and memory",
    "Tuning on the validation split",
    "Skipped models",
    "Notices",
    "Reproduce",
)

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:2em auto;
padding:0 1em;color:#1d2330;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:1px solid #d0d5dd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d0d5dd;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f2f4f7}
.choice{background:#eef6ee;border-left:4px solid #3b7d3b;padding:.6em 1em}
figure{margin:1em 0}figcaption{font-size:.9em;color:#555}img{max-width:100%}
code{background:#f2f4f7;padding:0 .2em}
"""


def render_report(results: dict, interactions: pd.DataFrame) -> str:
    """The whole page as a string."""
    compared = [row for row in results["models"] if row["status"] == "compared"]
    distinct = [row for row in compared if not row.get("same_as")]  # a degenerate blend aside
    skipped = [row for row in results["models"] if row["status"] == "skipped"]
    settings, profile, protocol = results["settings"], results["profile"], results["protocol"]
    k = settings["k"]
    choice = results["choice"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Pilot report: {_e(results['input']['source'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Recommender pilot report</h1>",
        f"<p>Log <code>{_e(results['input']['source'])}</code>: {profile['interactions']:,} "
        f"interactions, {profile['users']:,} users, {profile['items']:,} items. "
        f"Made by <code>recsys-pilot</code> (recsys-lessons "
        f"{_e(results['versions'].get('recsys-lessons', '?'))}), seed {settings['seed']}.</p>",
        _section(SECTIONS[0]),
        f'<div class="choice"><p><strong>Recommended model: {_e(choice["model"])}</strong></p>'
        f"<ul>{''.join(f'<li>{_e(reason)}</li>' for reason in choice['reasons'])}</ul>"
        f"<p>Rule: {_e(choice['rule'])}.</p></div>",
        _section(SECTIONS[1]),
        _table(pd.DataFrame({"value": _profile_rows(profile)}).rename_axis("measure")),
        _figure(_long_tail(interactions), "Long tail: interactions per item, most popular first."),
        _figure(_activity(interactions), "Activity: how many interactions each user has."),
        _section(SECTIONS[2]),
        f"<p>{_e(protocol['description'])}</p>",
        f"<p>{protocol['test_users']:,} test users scored; {protocol['validation_users']:,} "
        "validation users used for tuning.</p>",
        _section(SECTIONS[3]),
        f"<p>Mean over test users, with 95% bootstrap intervals over users (2,000 resamples). "
        f"Paired differences with the best model ({_e(choice['best_ndcg_model'])}) decide "
        "whether a gap is beyond noise.</p>",
        _table(_accuracy_frame(distinct, choice, k)),
        _same_as_note(compared),
        f"<p>New-item recall@{k}: recall on the test items nobody had interacted with in "
        "training (the cold-start row; empty when the test holds no such item). Only models "
        "that read item metadata can find them.</p>",
        _figure(_accuracy_plot(distinct, k), f"nDCG@{k} per model with 95% intervals."),
        _section(SECTIONS[4]),
        f"<p>Source: {_e(results['audit_source'])}.</p>",
        _table(
            pd.DataFrame({row["model"]: row["audit"] for row in distinct}).T.rename_axis("model")
        ),
        _column_notes(distinct),
        _figure(_tradeoff_plot(distinct, k), f"Accuracy (nDCG@{k}) against catalogue coverage."),
        _section(SECTIONS[5]),
        "<p>Measured on this machine for the final fit on the training split (recommend "
        "seconds: ranking every user's top-k); peak memory is what Python and numpy allocated "
        "during the fit (tracemalloc).</p>",
        _table(_cost_frame(compared)),
        _section(SECTIONS[6]),
        f"<p>Each model's grid was tried in order on the validation split "
        f"({_tuning_users(results)}), as many points as "
        f"its share of the fit budget allowed (--fit-budget {settings['fit_budget']}: "
        f"{results['budget']['fits_used']} fits used; rows served in order, a share never "
        "larger than the grid, what a small grid leaves going to the others); the best "
        f"validation nDCG@{k} was kept.</p>",
        _table(_tuning_frame(compared, k)),
        _budget_note(compared, results["budget"]),
        _section(SECTIONS[7]),
        _list([f"{row['model']}: {row['reason']}" for row in skipped] or ["none"]),
        _section(SECTIONS[8]),
        _list(results["input"]["notices"] + protocol["notices"] or ["none"]),
        _section(SECTIONS[9]),
        "<p><code>results.json</code> beside this page holds the settings, protocol, versions, "
        "parameters and every number shown; <code>recommendations.csv</code> the top-"
        f"{settings['top_n']} of {_e(choice['model'])} refitted on the whole log, per user.</p>",
        _table(pd.DataFrame({"version": results["versions"]}).rename_axis("package")),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _section(title: str) -> str:
    anchor = "".join(c if c.isalnum() else "-" for c in title.lower())
    return f'<h2 id="{anchor}">{_e(title)}</h2>'


def _e(text) -> str:
    return html.escape(str(text))


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(float_format=lambda x: f"{x:.4g}", border=0, na_rep="")


def _list(lines) -> str:
    return "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"


def _column_notes(compared) -> str:
    """What each column of the audit table means (the audit's or the fallback's)."""
    shown = set(compared[0]["audit"]) if compared else set()
    notes = {**BEYOND_ACCURACY, **AUDIT_COLUMNS}
    lines = [
        f"<li><b>{name}</b>: {_e(text)}</li>"
        for name, text in notes.items()
        if name in shown or (name == "ndcg_gap_<group>" and "ndcg_gap_niche" in shown)
    ]
    return "<ul>" + "".join(lines) + "</ul>"


def _profile_rows(profile: dict) -> dict:
    shown = dict(profile)
    shown["sparsity"] = f"{1 - profile['density']:.4%}"
    shown["density"] = f"{profile['density']:.4%}"
    shown["top_20pct_items_share"] = f"{profile['top_20pct_items_share']:.1%}"
    return {
        name.replace("_", " "): f"{value:,.4g}" if isinstance(value, float) else str(value)
        for name, value in shown.items()
    }


def _accuracy_frame(compared, choice, k) -> pd.DataFrame:
    rows = {}
    for row in compared:
        gap = choice["paired_differences_vs_best"].get(row["model"])
        rows[row["model"]] = {
            f"nDCG@{k}": row["ndcg"]["estimate"],
            "nDCG 95% interval": f"{row['ndcg']['low']:.4f} to {row['ndcg']['high']:.4f}",
            f"recall@{k}": row["recall"]["estimate"],
            "recall 95% interval": f"{row['recall']['low']:.4f} to {row['recall']['high']:.4f}",
            f"new-item recall@{k}": row.get("cold_item_recall"),
            "difference vs best (95%)": "best"
            if gap is None
            else f"{-gap['estimate']:+.4f} ({-gap['high']:+.4f} to {-gap['low']:+.4f})",
        }
    return pd.DataFrame(rows).T.rename_axis("model")


def _cost_frame(compared) -> pd.DataFrame:
    return pd.DataFrame(
        {
            row["model"]: {
                "fit seconds": row["fit_seconds"],
                "recommend seconds": row["recommend_seconds"],
                "peak fit memory MB": row["peak_fit_memory_mb"],
            }
            for row in compared
        }
    ).T.rename_axis("model")


def _tuning_frame(compared, k) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "model": row["model"],
                "parameters": ", ".join(f"{key}={value}" for key, value in t["params"].items())
                or "(none)",
                f"validation nDCG@{k}": t["validation_ndcg"],
                "kept": "yes" if t["params"] == row["params"] else "",
            }
            for row in compared
            for t in row["trials"]
        ]
    ).set_index("model")


def _budget_note(compared, budget: dict) -> str:
    """Which grids the fit budget or the time limit cut, and what that means."""

    def cut(reason):
        return ", ".join(f"{row['model']} ({len(row['trials'])} of {row['grid_size']})"
                         for row in compared if row.get("cut_by") == reason)  # fmt: skip

    notes = []
    if cut("fit budget"):
        notes.append(
            f"<p>The fit budget cut the grid of {_e(cut('fit budget'))}: raise --fit-budget to "
            "try the rest. The budget counts fits, so the tuned parameters do not depend on "
            "the machine's speed.</p>"
        )
    if cut("time limit"):
        notes.append(
            f"<p><strong>The time limit ({budget['time_limit']:g} s) cut the grid of "
            f"{_e(cut('time limit'))}</strong>: their tuned parameters can change with the "
            "machine's speed. Drop --time-limit for a run that is reproducible for its seed.</p>"
        )
    return "".join(notes) or (
        "<p>Every grid was tried in full: the run is deterministic for its seed.</p>"
    )


def _tuning_users(results) -> str:
    used, users = results["budget"]["tuning_users"], results["protocol"]["validation_users"]
    if used == users:
        return f"all {users:,} validation users"
    return f"a seeded sample of {used:,} of its {users:,} users"


def _same_as_note(compared) -> str:
    """One line per hybrid whose tuned weights reduce it to a single component."""
    return "".join(
        f"<p><strong>{_e(row['model'])} = {_e(row['same_as'])} alone</strong>: its tuned "
        f"weights put 1.0 on {_e(row['same_as'])}, so it ranks as {_e(row['same_as'])} "
        "does; it is not a separate row here.</p>"
        for row in compared
        if row.get("same_as")
    )


def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _long_tail(interactions) -> bytes:
    counts = np.sort(interactions["item_id"].value_counts().to_numpy())[::-1]
    fig = Figure(figsize=(6.5, 3))
    ax = fig.subplots()
    ax.plot(np.arange(1, counts.size + 1), counts, color="#3b5b9d")
    ax.set(xlabel="item rank by popularity", ylabel="interactions (log scale)", yscale="log")
    return _png(fig)


def _activity(interactions) -> bytes:
    counts = interactions["user_id"].value_counts().to_numpy()
    fig = Figure(figsize=(6.5, 3))
    ax = fig.subplots()
    bins = np.unique(np.geomspace(1, counts.max() + 1, 30).astype(int))
    ax.hist(counts, bins=bins, color="#3b7d3b")
    ax.set(xlabel="interactions per user (log scale)", ylabel="users", xscale="log")
    return _png(fig)


def _accuracy_plot(compared, k) -> bytes:
    names = [row["model"] for row in compared]
    est = np.array([row["ndcg"]["estimate"] for row in compared])
    low = est - np.array([row["ndcg"]["low"] for row in compared])
    high = np.array([row["ndcg"]["high"] for row in compared]) - est
    fig = Figure(figsize=(6.5, 0.5 + 0.45 * len(names)))
    ax = fig.subplots()
    ax.errorbar(est, np.arange(len(names)), xerr=[low, high], fmt="o", capsize=4)
    ax.set_yticks(np.arange(len(names)), names)
    ax.invert_yaxis()
    ax.set(xlabel=f"test nDCG@{k} (95% bootstrap interval)")
    return _png(fig)


def _tradeoff_plot(compared, k) -> bytes:
    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.subplots()
    for row in compared:
        x, y = row["audit"].get("coverage", np.nan), row["ndcg"]["estimate"]
        ax.scatter(x, y)
        ax.annotate(row["model"], (x, y), textcoords="offset points", xytext=(4, 4))
    ax.set(xlabel="catalogue coverage of the top-k lists", ylabel=f"test nDCG@{k}")
    return _png(fig)
