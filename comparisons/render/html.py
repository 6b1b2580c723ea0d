"""The main job's results as HTML: one run in Jupyter, and the report's page."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from comparisons.render.page import cell, fragment, headline, image, page, table
from comparisons.render.plots import figures
from comparisons.render.sentences import SUMMARY_COLUMNS, matched, report_intro, run_line, summary_rows

if TYPE_CHECKING:  # read, never built, here: Comparison renders itself through this package
    from comparisons.comparison import Comparison

__all__ = ["comparison_html", "report_html"]


def _figures(result: Comparison) -> str:
    return "".join(image(png, result.spec.label) for png in figures(result))


def comparison_html(result: Comparison) -> str:
    """One run, as Jupyter shows it: its verdict and the report's figures."""
    return fragment(headline(run_line(result), result.matches) + _figures(result))


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


def report_html(
    results: list[Comparison],
    seed: int,
    implementation: str,
    versions: dict[str, str],
    progress: Callable[[str], None],
) -> str:
    """summary.md's settings and table, the time it was made, then each run's verdict and figures."""
    rows = (
        "\n"
        + "".join(  # one row a line
            "<tr>" + "".join(cell(c) for c in row[:-1]) + cell(row[-1], "" if r.matches else "bad") + "</tr>\n"
            for r, row in zip(results, summary_rows(results), strict=True)
        )
    )
    intro = "\n\n".join(report_intro(results, seed, implementation))
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    built_with = "; ".join(f"{name}: {version}" for name, version in versions.items())
    sections = []
    for n, r in enumerate(results, start=1):
        progress(f"plotting {n}/{len(results)}: {r.spec.label}")
        sections.append(f"<section><h2>{html.escape(run_line(r))}</h2>{_figures(r)}</section>")
    body = (
        f"<h1>Manual backprop vs Keras</h1><p>{html.escape(intro)}</p>\n"
        f"{table(SUMMARY_COLUMNS, rows)}\n"
        f"<p>{matched(results)}.</p>\n"
        f"<p>Made {made} with {html.escape(built_with)}.</p>\n" + "\n".join(sections)
    )
    return page("Manual backprop vs Keras", _STYLE, body)
