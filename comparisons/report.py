"""Comparison reports: a CSV per run, summary.md, and a self-contained report.html.

The CSV and Markdown files are byte-identical for the same command on the same
machine (no timestamps); the HTML alone carries the time it was made. The whole
report is written into a temporary folder beside ``out`` and moved into place at
the end, so an interrupted run leaves the previous report, or none, never half of one.
"""

from __future__ import annotations

import html
import platform
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons import cache
from comparisons.comparison import Comparison
from comparisons.folders import write_folder
from comparisons.plots import figures
from reference import numerics

__all__ = ["MARKER", "run_csv", "summary_markdown", "write_report"]

MARKER = ".comparisons-report"  # marks a folder as ours, so a later run may replace it


def run_csv(result: Comparison) -> pd.DataFrame:
    """Per epoch, for the loss and every parameter: manual, keras, abs diff, ulp, side by side."""
    columns: dict[str, object] = {"epoch": result.manual["epoch"]}
    for value in result.manual.columns.drop("epoch"):
        columns[f"{value} manual"] = result.manual[value]
        columns[f"{value} keras"] = result.keras[value]
        columns[f"{value} abs diff"] = result.abs_diff[value]
        columns[f"{value} ulp"] = result.ulps[value]
    return pd.DataFrame(columns)


def _versions() -> dict[str, str]:
    versions = cache.environment()  # read from the installed packages: a cached run never imports TensorFlow
    return {
        "Python": platform.python_version(),
        "TensorFlow": versions["tensorflow"],
        "Keras": versions["keras"],
        "numpy": np.__version__,
        "pandas": pd.__version__,
        # what the cache's key holds, and every computation read back when it ended
        "Keras's side": numerics.describe(numerics.key()),
    }


SUMMARY_COLUMNS = [
    "problem",
    "dtype",
    "order",
    "init",
    "epochs",
    "learning rate",
    "final loss (manual)",
    "final loss (keras)",
    "max ULP weights",
    "max ULP loss",
    "first epoch over tolerance",
    "verdict",
]


def _summary_rows(results: list[Comparison]) -> list[list[str]]:
    return [
        [
            r.spec.problem,
            r.spec.dtype,
            r.spec.order,
            r.spec.init,
            str(r.spec.epochs),
            f"{r.spec.learning_rate:g}",
            str(r.manual["loss"].iloc[-1]),
            str(r.keras["loss"].iloc[-1]),
            f"{r.max_ulp_weights:g}",
            f"{r.max_ulp_loss:g}",
            "-" if r.first_epoch_over is None else str(r.first_epoch_over),
            r.verdict,
        ]
        for r in results
    ]


def summary_markdown(results: list[Comparison], seed: int, implementation: str) -> str:
    floor = results[0].tolerance.floor
    allowed = "; ".join(
        f"{r.spec.problem} {r.spec.dtype} {r.tolerance.weights:g} (weights) / {r.tolerance.loss:g} (loss)"
        for r in {(r.spec.problem, r.spec.dtype): r for r in results}.values()
    )
    lines = [
        "# Manual backprop vs Keras",
        "",
        f"Manual side: `{implementation}`. Seed {seed}. ULP distances counted with a floor of {floor:g}. "
        f"Allowed ULPs: {allowed}.",
        *[
            f"\nNetwork: {network}."
            for network in dict.fromkeys(getattr(r.spec, "network", "") for r in results)
            if network
        ],
        "",
        "| " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|" + "---|" * len(SUMMARY_COLUMNS),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _summary_rows(results)]
    matched = sum(r.matches for r in results)
    lines += ["", f"{matched} of {len(results)} runs match Keras after every epoch.", "", "## Versions", ""]
    lines += [f"- {name}: {version}" for name, version in _versions().items()]
    return "\n".join(lines) + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
th { background: #f3f3f3; }
td.bad { color: #b00; font-weight: bold; }
img { max-width: 100%; }
section { page-break-inside: avoid; margin-top: 2em; }
@media print { body { margin: 0; max-width: none; } section { page-break-before: always; } }
"""


def _html(results: list[Comparison], summary: str, progress: Callable[[str], None]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in SUMMARY_COLUMNS)
    body = ""
    for r, row in zip(results, _summary_rows(results), strict=True):
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in row[:-1])
        body += f'<tr>{cells}<td class="{"" if r.matches else "bad"}">{html.escape(row[-1])}</td></tr>\n'
    intro = summary.split("\n| ")[0].split("\n", 2)[2].replace("`", "")  # summary.md's settings line, as text
    versions = summary.split("## Versions\n", 1)[1].strip().replace("- ", "").replace("\n", "; ")
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    sections = []
    for n, r in enumerate(results, start=1):
        progress(f"plotting {n}/{len(results)}: {r.spec.label}")
        images = "".join(
            f'<img alt="{html.escape(r.spec.label)}" src="data:image/png;base64,{png}">' for png in figures(r)
        )
        sections.append(f"<section><h2>{html.escape(r.spec.label)}: {html.escape(r.verdict)}</h2>{images}</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Manual backprop vs Keras</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        f"<h1>Manual backprop vs Keras</h1><p>{html.escape(intro.strip())}</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>\n"
        f"<p>{sum(r.matches for r in results)} of {len(results)} runs match Keras after every epoch.</p>\n"
        f"<p>Made {made} with {html.escape(versions)}.</p>\n" + "\n".join(sections) + "\n</body></html>\n"
    )


def write_report(
    results: list[Comparison], out: Path, *, seed: int, implementation: str, progress: Callable[[str], None]
) -> None:
    def write(staging: Path) -> None:
        for n, r in enumerate(results, start=1):
            progress(f"writing {n}/{len(results)}: {r.spec.label}.csv")
            run_csv(r).to_csv(staging / f"{r.spec.label}.csv", index=False, lineterminator="\n")
        summary = summary_markdown(results, seed, implementation)
        (staging / "summary.md").write_text(summary, encoding="utf-8")
        (staging / "report.html").write_text(_html(results, summary, progress), encoding="utf-8")

    write_folder(out, MARKER, "report", write)
