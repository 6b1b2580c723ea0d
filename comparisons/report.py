"""Comparison reports: a CSV per run, summary.md, and a self-contained report.html.

The CSV and Markdown files are byte-identical for the same command on the same
machine (no timestamps); the HTML alone carries the time it was made. The whole
report is written into a temporary folder beside ``out`` and moved into place at
the end, so an interrupted run leaves the previous report, or none, never half of one.
What each file says is render/'s; this module gathers the versions and writes the folder.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons import cache
from comparisons.comparison import Comparison
from comparisons.folders import write_folder
from comparisons.render.html import report_html
from comparisons.render.markdown import summary_markdown
from comparisons.render.tables import run_csv
from reference import numerics

__all__ = ["MARKER", "write_report"]

MARKER = ".comparisons-report"  # marks a folder as ours, so a later run may replace it


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


def write_report(
    results: list[Comparison], out: Path, *, seed: int, implementation: str, progress: Callable[[str], None]
) -> None:
    def write(staging: Path) -> None:
        for n, r in enumerate(results, start=1):
            progress(f"writing {n}/{len(results)}: {r.spec.label}.csv")
            run_csv(r).to_csv(staging / f"{r.spec.label}.csv", index=False, lineterminator="\n")
        versions = _versions()
        summary = summary_markdown(results, seed, implementation, versions)
        (staging / "summary.md").write_text(summary, encoding="utf-8")
        page = report_html(results, seed, implementation, versions, progress)
        (staging / "report.html").write_text(page, encoding="utf-8")

    write_folder(out, MARKER, "report", write)
