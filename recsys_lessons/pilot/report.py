"""Render a pilot's results as one self-contained HTML page.

The first screen (about 1280 x 800 pixels) is the **decision brief**: the verdict, the lift
over popularity, who was scored, the caveats and example recommendations; the evidence
follows. Figures are matplotlib PNGs, drawn on their own ``Figure`` objects (never through
pyplot, so importing this module leaves a notebook's plotting backend alone), embedded as
base64 ``data:`` URIs; the style sheet is inline, so the page needs no network and no other
file: open it in any browser, attach it to an e-mail. :data:`SECTIONS` lists the section
headings, in order (the browser test checks every one).

Tables are written here (not by ``DataFrame.to_html``): columns carry labels for people
(:data:`COLUMN_LABELS`, :func:`recsys_lessons.pilot.decision.label`), missing values are
empty cells, numbers have thousands separators, and every table scrolls sideways inside
its own box instead of being cut on a narrow screen.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from recsys_lessons.pilot.beyond import AUDIT_COLUMNS, BEYOND_ACCURACY
from recsys_lessons.pilot.brief import GLOSSARY, count
from recsys_lessons.pilot.coverage import coverage_sentence
from recsys_lessons.pilot.decision import label

SECTIONS = (
    "Decision brief",
    "Why this verdict",
    "Example recommendations",
    "Lift by user segment",
    "Data profile",
    "Protocol",
    "Accuracy with 95% intervals",
    "Beyond accuracy and audit",
    "Cost: time and memory",
    "Tuning on the validation split",
    "Skipped models",
    "Next steps",
    "Glossary",
    "Notices",
    "Reproduce",
)

#: Labels of the data profile's and the audit's columns (others: underscores as spaces).
COLUMN_LABELS = {
    "top_20pct_items_share": "share of interactions on the top 20% of items",
    "items_with_1_interaction": "items with a single interaction",
    "median_per_user": "median interactions per user",
    "max_per_user": "most interactions of one user",
    "median_per_item": "median interactions per item",
    "max_per_item": "most interactions of one item",
    "rating_mean": "mean rating",
    "rating_values": "distinct rating values",
    "first_event": "first event",
    "last_event": "last event",
    "coverage": "catalogue coverage",
    "gini": "Gini index",
    "avg_popularity": "average popularity",
    "arp": "average recommended popularity (ARP)",
    "aplt": "long-tail share (APLT)",
    "long_tail_exposure": "long-tail exposure",
    "popularity_lift": "popularity lift",
    "popularity_miscalibration": "popularity miscalibration",
    "calibration_kl": "genre miscalibration (KL)",
    "ndcg_gap_niche": "nDCG gap, niche users",
    "ndcg_gap_diverse": "nDCG gap, diverse users",
    "ndcg_gap_blockbuster": "nDCG gap, blockbuster users",
    "ndcg_gap_<group>": "nDCG gap, <group> users",
}

#: How a row's interval against the baseline reads, by :mod:`~recsys_lessons.pilot.decision`.
READINGS = {
    "lead": "leads beyond the margin",
    "no lead": "no lead as large as the margin",
    "open": "reaches across the margin",
}

#: Items of each example list shown on the first screen (the full lists follow below).
FIRST_SCREEN_ITEMS = 5

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1180px;margin:1.2em auto;
padding:0 1.2em;color:#1d2330;line-height:1.4;font-size:15px}
h1{font-size:1.5em;margin:.2em 0}h2{border-bottom:1px solid #d0d5dd;padding-bottom:.2em;
margin-top:1.6em;font-size:1.25em}
.meta{color:#555;margin:.2em 0 .6em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #d0d5dd;padding:.25em .55em;text-align:right;vertical-align:top}
th,td:first-child,td.text{text-align:left}th{background:#f2f4f7}
tr.chosen td{background:#eef6ee;font-weight:600}
.verdict{border-left:6px solid #3b7d3b;background:#eef6ee;padding:.35em .9em;margin:.4em 0}
.verdict.keep{border-color:#5b6b8d;background:#eef1f7}
.verdict.inconclusive{border-color:#b7791f;background:#fdf6e7}
.headline{font-size:1.45em;font-weight:700;margin:.1em 0}
.verdict p{margin:.2em 0}
.facts p{margin:.3em 0}.facts ul{margin:.1em 0 .3em;padding-left:1.3em}
.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:.7em;margin:.5em 0}
.card{border:1px solid #d0d5dd;border-radius:6px;padding:.4em .7em;font-size:.9em;min-width:0}
.card p{margin:.15em 0}.card ol{margin:.1em 0;padding-left:1.6em}
.card li,.card .latest{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.muted{color:#555}.hit{color:#22662a;font-weight:600}
figure{margin:1em 0}figcaption{font-size:.9em;color:#555}img{max-width:100%}
code{background:#f2f4f7;padding:0 .2em}pre{white-space:pre-wrap;overflow-wrap:anywhere}
dt{font-weight:600}dd{margin:0 0 .5em 1.2em}
"""


class Html(str):
    """Text that is already HTML (not escaped again by :func:`_cell`)."""


def render_report(results: dict, interactions: pd.DataFrame) -> str:
    """The whole page as a string."""
    compared = [row for row in results["models"] if row["status"] == "compared"]
    skipped = [row for row in results["models"] if row["status"] == "skipped"]
    settings, profile, protocol = results["settings"], results["profile"], results["protocol"]
    decision, brief = results["decision"], results["brief"]
    k = settings["k"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Pilot report: {_e(results['input']['source'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Recommender pilot report</h1>",
        f'<p class="meta">Log <code>{_e(results["input"]["source"])}</code>: '
        f"{profile['interactions']:,} interactions, {profile['users']:,} users, "
        f"{profile['items']:,} items; top-{k} lists; margin {decision['margin']:g} nDCG@{k}; "
        f"seed {settings['seed']}. Made by <code>recsys-pilot</code> (recsys-lessons "
        f"{_e(results['versions'].get('recsys-lessons', '?'))}).</p>",
        _section(SECTIONS[0]),
        _first_screen(decision, brief, k),
        _coverage_note(results),
        _section(SECTIONS[1]),
        _why(decision, compared, k),
        _section(SECTIONS[2]),
        _examples_section(brief["examples"], decision, k),
        _section(SECTIONS[3]),
        _segments_section(brief["segments"], decision, k),
        _section(SECTIONS[4]),
        _table(["measure", "value"], [[_column(name), value] for name, value in _profile(profile)]),
        _figure(_long_tail(interactions), "Long tail: interactions per item, most popular first."),
        _figure(_activity(interactions), "Activity: how many interactions each user has."),
        _section(SECTIONS[5]),
        f"<p>{_e(protocol['description'])}</p>",
        f"<p>{protocol['test_users']:,} test users scored; {protocol['validation_users']:,} "
        "validation users used for tuning.</p>",
        _section(SECTIONS[6]),
        "<p>Mean over test users, with 95% bootstrap intervals over users (2,000 resamples). "
        f"The last column is the paired difference with {_e(label(decision['baseline']))} on "
        "the same users, which the verdict reads against the margin.</p>",
        _accuracy_table(compared, decision, k),
        f"<p>New-item recall@{k}: recall on the test items nobody had interacted with in "
        "training (the cold-start row; empty when the test holds no such item). Only models "
        "that read item metadata can find them.</p>",
        _figure(
            _accuracy_plot(compared, decision, k),
            f"nDCG@{k} per model with 95% intervals; the chosen row in green, "
            f"{label(decision['baseline'])} in grey, the dashed line at "
            f"{label(decision['baseline'])} + margin.",
        ),
        _section(SECTIONS[7]),
        f"<p>Source: {_e(results['audit_source'])}.</p>",
        _audit_table(compared, decision, k),
        _column_notes(compared, k),
        _gaps_table(brief["audit_gaps"], decision, k),
        _figure(
            _tradeoff_plot(compared, decision, k),
            f"Accuracy (nDCG@{k}) against catalogue coverage; the chosen row is the green star, "
            f"{label(decision['baseline'])} the grey square.",
        ),
        _section(SECTIONS[8]),
        "<p>Measured on this machine for the final fit on the training split; peak memory is "
        "what Python and numpy allocated during the fit (tracemalloc).</p>",
        _table(
            ["model", "fit seconds", "recommend seconds", "peak fit memory MB"],
            [
                [
                    label(row["model"]),
                    row["fit_seconds"],
                    row["recommend_seconds"],
                    row["peak_fit_memory_mb"],
                ]
                for row in compared
            ],  # fmt: skip
            chosen={label(decision["model"])},
        ),
        _section(SECTIONS[9]),
        f"<p>Each model's grid was tried in order on the validation split "
        f"({_tuning_users(results)}), as many points as "
        f"its share of the fit budget allowed (--fit-budget {settings['fit_budget']}: "
        f"{results['budget']['fits_used']} fits used; rows served in order, a share never "
        "larger than the grid, what a small grid leaves going to the others); the best "
        f"validation nDCG@{k} was kept.</p>",
        _tuning_table(compared, k),
        _budget_note(compared, results["budget"]),
        _section(SECTIONS[10]),
        _list([f"{label(row['model'])}: {row['reason']}" for row in skipped] or ["none"]),
        _section(SECTIONS[11]),
        "<p>From lesson 12's checklist, for this verdict.</p>",
        _list(brief["next_steps"]),
        _section(SECTIONS[12]),
        "<dl>"
        + "".join(f"<dt>{_e(term)}</dt><dd>{_e(text)}</dd>" for term, text in GLOSSARY.items())
        + "</dl>",
        _section(SECTIONS[13]),
        _list(results["input"]["notices"] + protocol["notices"] or ["none"]),
        _section(SECTIONS[14]),
        "<p><code>results.json</code> beside this page holds the settings, protocol, versions, "
        "parameters and every number shown; <code>recommendations.csv</code> the top-"
        f"{settings['top_n']} of {_e(label(decision['model']))} refitted on the whole log, per "
        "user.</p>",
        _table(["package", "version"], [list(item) for item in results["versions"].items()]),
        _reproduce_command(results),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _coverage_note(results: dict) -> str:
    """Who got which list in ``recommendations.csv`` (results' ``"coverage"``)."""
    return f"<p>{_e(coverage_sentence(results['coverage']))}</p>" if "coverage" in results else ""


def _reproduce_command(results: dict) -> str:
    """The page's last line: the exact command that reproduces it (results' ``"provenance"``)."""
    provenance = results.get("provenance")
    if provenance is None:
        return "<p>Made by <code>run_pilot</code> in Python: no command line recorded.</p>"
    given = [row["model"] for row in results["models"] if row.get("params_given")]
    reused = (
        f" {_e(', '.join(given))} used the parameters recorded in <code>--params</code>, untuned."
        if given
        else ""
    )
    return (
        f"<p>Code: <code>{_e(provenance['code'])}</code>.{reused} To reproduce this report, "
        "run (the tuned parameters can be reused with <code>--params results.json</code>):</p>"
        f'<pre id="reproduce"><code>{_e(provenance["command"])}</code></pre>'
    )


# --------------------------------------------------------------------------------------
# The first screen and the decision
# --------------------------------------------------------------------------------------


def _first_screen(decision: dict, brief: dict, k: int) -> str:
    lift = brief["lift"]
    caveats = brief["caveats"]
    caveat_html = (
        "<div><b>Caveats.</b><ul>"
        + "".join(f"<li>{_e(line)}</li>" for line in caveats)
        + "</ul></div>"
        if caveats
        else "<p><b>Caveats.</b> none.</p>"
    )
    cards = "".join(_card(example, decision, k) for example in brief["examples"])
    return (
        f'<div class="verdict {_e(decision["verdict"])}">'
        f'<p class="headline">{_e(decision["headline"])}</p>'
        f"<p>{_e(decision['summary'])}</p>"
        + (f"<p>{_e(decision['settle']['sentence'])}</p>" if decision["settle"] else "")
        + (
            f"<p>The smallest difference this comparison could detect (80% power): "
            f"{decision['detectable_difference']:.4f} nDCG@{k}.</p>"
            if decision["detectable_difference"] is not None
            else ""
        )
        + "</div>"
        '<div class="facts">'
        + (f"<p><b>Lift.</b> {_e(lift['sentence'])}</p>" if lift else "")
        + f"<p><b>Users.</b> {_e(brief['users_sentence'])}</p>"
        + caveat_html
        + "</div>"
        + f'<div class="cards">{cards}</div>'
        + '<p class="muted">✓ marks an item the user chose in the test period. Full lists, with '
        "the runner-up's, under Example recommendations; the reasons under Why this verdict.</p>"
    )


def _card(example: dict, decision: dict, k: int) -> str:
    name = decision["model"]
    entries = example["lists"].get(name, [])[:FIRST_SCREEN_ITEMS]
    items = "".join(
        f'<li class="{"hit" if entry["hit"] else ""}" title="{_e(entry["item"])}">'
        f"{'✓ ' if entry['hit'] else ''}{_e(entry['item'])}</li>"
        for entry in entries
    )
    latest = " · ".join(example["last_items"][:3])
    return (
        '<div class="card">'
        f"<p><b>{_e(example['role'].capitalize())} user {_e(example['user_id'])}</b> "
        f'<span class="muted">({count(example["history"], "item")} before the test)</span></p>'
        f'<p class="latest muted" title="{_e(latest)}">Latest: {_e(latest)}</p>'
        f"<p>{_e(label(name))}, top {len(entries)} of {k}:</p><ol>{items}</ol></div>"
    )


def _why(decision: dict, compared: list[dict], k: int) -> str:
    baseline = label(decision["baseline"])
    rows = []
    for row in compared:
        name = row["model"]
        versus = decision["versus_baseline"].get(name)
        if name in decision["same_as"]:
            reading = f"= {label(decision['same_as'][name])} alone (not compared separately)"
            rows.append([label(name), row["ndcg"]["estimate"], None, reading, None])
        elif versus is None:
            rows.append([label(name), row["ndcg"]["estimate"], None, "baseline", None])
        else:
            rows.append(
                [
                    label(name),
                    row["ndcg"]["estimate"],
                    _signed(versus),
                    f"{READINGS[versus['reading']]}; equivalence test: {versus['verdict']}",
                    versus["detectable"],
                ]
            )
    parts = [
        f"<p>Rule: {_e(decision['rule'])}. The margin ({decision['margin']:g} nDCG@{k}, "
        "--margin) is fixed before the run: the smallest difference that matters to the "
        "product.</p>",
        _table(
            [
                "model",
                f"nDCG@{k}",
                f"lead over {baseline} (95%)",
                "reading against the margin",
                "detectable difference (80% power)",
            ],
            rows,
            chosen={label(decision["model"])},
        ),
    ]
    if decision["versus_best"]:
        best = label(decision["best_ndcg_model"])
        parts.append(
            _table(
                ["simpler row", f"{best} minus row (95%)", "equivalent within the margin?"],
                [
                    [label(name), _signed(gap), gap["verdict"]]
                    for name, gap in decision["versus_best"].items()
                ],
            )
        )
    parts.append(_list(decision["reasons"]))
    return "".join(parts)


def _examples_section(examples: list[dict], decision: dict, k: int) -> str:
    if not examples:
        return "<p>No test user to show.</p>"
    names = list(examples[0]["lists"])
    parts = [
        f"<p>A heavy, a median and a light test user by the number of items they had before "
        f"the test period: their latest items, and the top {k} of {_e(label(decision['model']))}"
        + (f" and of the runner-up, {_e(label(names[1]))}" if len(names) > 1 else "")
        + ". ✓ marks an item the user chose in the test period.</p>"
    ]
    for example in examples:
        parts.append(
            f"<p><b>{_e(example['role'].capitalize())} user {_e(example['user_id'])}</b> "
            f"({count(example['history'], 'item')} before the test). Latest, most recent first: "
            f"{_e(' · '.join(example['last_items']))}.</p>"
        )
        lists = [example["lists"][name] for name in names]
        rows = [
            [rank + 1]
            + [
                Html(
                    _e(entries[rank]["item"])
                    + (' <span class="hit">✓</span>' if entries[rank]["hit"] else "")
                )
                if rank < len(entries)
                else None
                for entries in lists
            ]
            for rank in range(max(map(len, lists), default=0))
        ]
        parts.append(_table(["rank", *(label(name) for name in names)], rows))
    return "".join(parts)


def _segments_section(segments: list[dict], decision: dict, k: int) -> str:
    if not segments:
        return "<p>Too few test users to split into segments (at least 6 are needed).</p>"
    baseline, leader = label(decision["baseline"]), decision["leader"]
    header = ["segment", "users", "items before the test", f"{baseline} nDCG@{k}"]
    if leader:
        header += [f"{label(leader)} nDCG@{k}", f"{label(leader)} minus {baseline} (95%)"]
    rows = []
    for segment in segments:
        low, high = segment["history"]
        interval = segment.get("baseline_interval")
        row = [
            segment["segment"],
            segment["users"],
            f"{low:,}" if low == high else f"{low:,} to {high:,}",
            _with_interval(interval) if interval else segment["baseline"],
        ]
        if leader:
            row += [
                segment.get("model"),
                _signed(segment["difference"]) if "difference" in segment else None,
            ]
        rows.append(row)
    return (
        f"<p>Where the lift comes from: {_e(label(leader) if leader else baseline)} and "
        f"{_e(baseline)} on thirds of the test users by activity (number of items before the "
        "test), and on new users when the test period has any.</p>" + _table(header, rows)
    )


# --------------------------------------------------------------------------------------
# Evidence tables
# --------------------------------------------------------------------------------------


def _accuracy_table(compared: list[dict], decision: dict, k: int) -> str:
    baseline = label(decision["baseline"])
    rows = []
    for row in compared:
        versus = decision["versus_baseline"].get(row["model"])
        rows.append(
            [
                label(row["model"]),
                row["ndcg"]["estimate"],
                _range(row["ndcg"]),
                row["recall"]["estimate"],
                _range(row["recall"]),
                row.get("cold_item_recall"),
                _signed(versus) if versus else None,
            ]
        )
    return _table(
        ["model", f"nDCG@{k}", "nDCG 95% interval", f"recall@{k}", "recall 95% interval",
         f"new-item recall@{k}", f"lead over {baseline} (95%)"],
        rows,
        chosen={label(decision["model"])},
    )  # fmt: skip


def _audit_table(compared: list[dict], decision: dict, k: int) -> str:
    columns = list(compared[0]["audit"]) if compared else []
    return _table(
        ["model", *(_column(name, k) for name in columns)],
        [[label(row["model"]), *(row["audit"].get(name) for name in columns)] for row in compared],
        chosen={label(decision["model"])},
    )


def _gaps_table(gaps: list[dict], decision: dict, k: int) -> str:
    """nDCG by mainstream group and each group's gap to the best group, with intervals."""
    if not gaps:
        return ""
    groups = list(dict.fromkeys(gap["group"] for gap in gaps))
    models = list(dict.fromkeys(gap["model"] for gap in gaps))
    by_key = {(gap["model"], gap["group"]): gap for gap in gaps}
    header = ["model"]
    for group in groups:
        header += [f"{group} users: nDCG@{k} (95%)", f"{group} users: gap (95%)"]
    rows = []
    for model in models:
        row = [label(model)]
        for group in groups:
            gap = by_key.get((model, group), {})
            row += [
                _with_interval(gap["ndcg"]) if gap.get("ndcg") else None,
                _gap(gap.get("gap")),
            ]
        rows.append(row)
    return (
        "<p>nDCG by user group (lesson 11's niche / diverse / blockbuster users) and each "
        "group's gap to the best-served group, with 95% bootstrap intervals: a gap whose "
        "interval excludes 0 is a difference between the groups beyond noise, not a "
        "cause.</p>" + _table(header, rows, chosen={label(decision["model"])})
    )


def _gap(gap: dict | None) -> str | None:
    """A group's gap to the best-served group; the best group itself is the reference."""
    if gap is None:
        return None
    if gap["estimate"] == gap["low"] == gap["high"] == 0:
        return "best-served group"
    return _signed(gap)


def _tuning_table(compared: list[dict], k: int) -> str:
    rows = [
        [
            label(row["model"]),
            ", ".join(f"{key}={value}" for key, value in trial["params"].items()) or "(none)",
            trial["validation_ndcg"],
            "yes" if trial["params"] == row["params"] else None,
        ]
        for row in compared
        for trial in row["trials"]
    ]
    return _table(["model", "parameters", f"validation nDCG@{k}", "kept"], rows)


def _column_notes(compared: list[dict], k: int) -> str:
    """What each column of the audit table means (the audit's or the fallback's)."""
    shown = set(compared[0]["audit"]) if compared else set()
    notes = {**BEYOND_ACCURACY, **AUDIT_COLUMNS}
    lines = [
        f"<li><b>{_e(_column(name, k))}</b>: {_e(text)}</li>"
        for name, text in notes.items()
        if name in shown or (name == "ndcg_gap_<group>" and "ndcg_gap_niche" in shown)
    ]
    return "<ul>" + "".join(lines) + "</ul>"


def _profile(profile: dict) -> list[tuple[str, str]]:
    shown = dict(profile)
    shown["sparsity"] = f"{1 - profile['density']:.4%}"
    shown["density"] = f"{profile['density']:.4%}"
    shown["top_20pct_items_share"] = f"{profile['top_20pct_items_share']:.1%}"
    return list(shown.items())


# --------------------------------------------------------------------------------------
# HTML helpers
# --------------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list], chosen: set[str] | None = None) -> str:
    """A table in a sideways-scrolling box; a row whose first cell is in ``chosen`` is marked."""
    head = "".join(f"<th>{_e(name)}</th>" for name in header)
    body = []
    for row in rows:
        marked = chosen is not None and row and row[0] in chosen
        first = f"<td>{_cell(row[0])}{' (chosen)' if marked else ''}</td>" if row else ""
        cells = first + "".join(
            f'<td class="text">{_cell(value)}</td>'
            if isinstance(value, str)
            else f"<td>{_cell(value)}</td>"
            for value in row[1:]
        )
        body.append(f'<tr class="chosen">{cells}</tr>' if marked else f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _cell(value) -> str:
    """A table cell: empty for a missing value, thousands separators, 4 decimals below 1."""
    if isinstance(value, Html):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return ""
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}" if abs(value) >= 1 else f"{value:.4f}"
    return _e(value)


def _column(name: str, k: int | None = None) -> str:
    if name == "ndcg@k" and k is not None:
        return f"nDCG@{k}"
    return COLUMN_LABELS.get(name, name.replace("_", " "))


def _signed(interval: dict, digits: int = 4) -> str:
    return (
        f"{interval['estimate']:+.{digits}f} ({interval['low']:+.{digits}f} to "
        f"{interval['high']:+.{digits}f})"
    )


def _range(interval: dict) -> str:
    return f"{interval['low']:.4f} to {interval['high']:.4f}"


def _with_interval(interval: dict) -> str:
    return f"{interval['estimate']:.4f} ({_range(interval)})"


def _section(title: str) -> str:
    anchor = "".join(c if c.isalnum() else "-" for c in title.lower())
    return f'<h2 id="{anchor}">{_e(title)}</h2>'


def _e(text) -> str:
    return html.escape(str(text))


def _list(lines) -> str:
    return "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"


def _budget_note(compared, budget: dict) -> str:
    """Which grids the fit budget or the time limit cut, and what that means."""

    def cut(reason):
        return ", ".join(f"{label(row['model'])} ({len(row['trials'])} of {row['grid_size']})"
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
    if budget.get("time") is not None:
        notes.append(_time_limit_note(budget["time"]))
    return "".join(notes) or (
        "<p>Every grid was tried in full: the run is deterministic for its seed.</p>"
    )


def _time_limit_note(plan: dict) -> str:
    """The time limit's plan: what it was, what it decided, and the time the run took."""
    decisions = [f"{label(d['row'])}: {d['action']} ({d['reason']})" for d in plan["decisions"]]
    total = plan.get("total_seconds")
    took = (
        f" When this page was drawn the run had taken {total:,.1f} s, "
        f"{'within' if plan['within_limit'] else 'past'} the limit (results.json holds the "
        "total with the page drawn)."
        if total is not None
        else ""
    )
    return (
        f"<p>Time limit: {plan['limit_seconds']:g} s for the whole run (--time-limit), "
        f"{plan['setup_seconds']:,.1f} s of it spent loading and splitting the log. Before each "
        "row and each further grid point the kit reserved time for what remained (each row's "
        "test, the refit of the chosen row on the whole log, the report), estimated from the "
        f"fits and rankings it had measured in this run plus {plan['safety_margin']:.0%}.{took}"
        "</p>" + _list(decisions or ["The limit cut nothing."])
    )


def _tuning_users(results) -> str:
    used, users = results["budget"]["tuning_users"], results["protocol"]["validation_users"]
    if used == users:
        return f"all {users:,} validation users"
    return f"a seeded sample of {used:,} of its {users:,} users"


def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------

CHOSEN_COLOR, BASELINE_COLOR, OTHER_COLOR = "#2f7d32", "#8a8f98", "#3b5b9d"


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


def _role_color(name: str, decision: dict) -> str:
    if name == decision["model"]:
        return CHOSEN_COLOR
    return BASELINE_COLOR if name == decision["baseline"] else OTHER_COLOR


def _role_label(name: str, decision: dict) -> str:
    if name == decision["model"]:
        return f"{label(name)} (chosen)"
    return f"{label(name)} (baseline)" if name == decision["baseline"] else label(name)


def _accuracy_plot(compared, decision, k) -> bytes:
    names = [row["model"] for row in compared]
    fig = Figure(figsize=(6.5, 0.6 + 0.45 * len(names)))
    ax = fig.subplots()
    for i, row in enumerate(compared):
        est = row["ndcg"]["estimate"]
        ax.errorbar(
            est, i, xerr=[[est - row["ndcg"]["low"]], [row["ndcg"]["high"] - est]], fmt="o",
            capsize=4, color=_role_color(row["model"], decision),
        )  # fmt: skip
    baseline = next((row for row in compared if row["model"] == decision["baseline"]), None)
    if baseline is not None:
        ax.axvline(
            baseline["ndcg"]["estimate"] + decision["margin"], color=BASELINE_COLOR, ls="--", lw=1
        )
    ax.set_yticks(np.arange(len(names)), [_role_label(name, decision) for name in names])
    for tick, name in zip(ax.get_yticklabels(), names, strict=True):
        tick.set_color(_role_color(name, decision))
        tick.set_fontweight("bold" if name == decision["model"] else "normal")
    ax.invert_yaxis()
    ax.set(xlabel=f"test nDCG@{k} (95% bootstrap interval)")
    return _png(fig)


def _tradeoff_plot(compared, decision, k) -> bytes:
    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    points = []
    for row in compared:
        x, y = row["audit"].get("coverage", np.nan), row["ndcg"]["estimate"]
        name = row["model"]
        marker = "*" if name == decision["model"] else "s" if name == decision["baseline"] else "o"
        ax.scatter(x, y, marker=marker, s=120 if marker == "*" else 40,
                   color=_role_color(name, decision), zorder=3)  # fmt: skip
        points.append((x, y, _role_label(name, decision)))
    ax.set(xlabel="catalogue coverage of the top-k lists", ylabel=f"test nDCG@{k}")
    ax.margins(x=0.25, y=0.2)
    finite = [(x, y, text) for x, y, text in points if np.isfinite(x) and np.isfinite(y)]
    if finite:
        pixels = ax.transData.transform([(x, y) for x, y, _ in finite])
        scale = fig.dpi / 72  # points to pixels
        sizes = [(6.0 * len(text) * scale, 11.0 * scale) for _, _, text in finite]
        right = ax.transAxes.transform((1, 1))[0]
        offsets = label_offsets(pixels, sizes, step=12.0 * scale, right=right)
        for (x, y, text), (dx, dy) in zip(finite, offsets, strict=True):
            ax.annotate(
                text, (x, y), xytext=(dx / scale, dy / scale), textcoords="offset points",
                fontsize=9, arrowprops={"arrowstyle": "-", "color": "#999", "lw": 0.6}
                if abs(dy) > 12 * scale else None,
            )  # fmt: skip
    return _png(fig)


def label_offsets(
    points, sizes, step: float, gap: float = 4.0, right: float = np.inf
) -> list[tuple[float, float]]:
    """Offsets (in pixels) that keep point labels from overprinting each other.

    Each label is a box of ``sizes[i] = (width, height)`` pixels placed ``gap`` to the right
    of its point ``points[i]`` (pixels, y up), or to its left when it would cross ``right``
    (the plot's right edge); first level with the point, then ``step`` pixels higher, lower,
    two steps higher, ... until it overlaps no label placed before it. Points are labelled
    from the top of the plot down. Greedy and simple: enough for a handful of model rows
    (with labels lower than ``step``, ``2 n + 1`` heights always leave a free one).
    """
    order = sorted(range(len(points)), key=lambda i: (-points[i][1], points[i][0]))
    placed: list[tuple[float, float, float, float]] = []
    offsets: list[tuple[float, float]] = [(gap, 0.0)] * len(points)
    for i in order:
        x, y = points[i]
        width, height = sizes[i]
        dx = gap if x + gap + width <= right else -gap - width
        for attempt in range(2 * len(points) + 1):
            dy = step * ((attempt + 1) // 2) * (1 if attempt % 2 else -1)
            box = (x + dx, y + dy, x + dx + width, y + dy + height)
            if not any(_overlap(box, other) for other in placed):
                break
        placed.append(box)
        offsets[i] = (dx, dy)
    return offsets


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
