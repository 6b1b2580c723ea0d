"""The main job's summary.md: byte-identical for the same command on the same machine (no timestamps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from comparisons.render.sentences import SUMMARY_COLUMNS, matched, report_intro, summary_rows

if TYPE_CHECKING:  # read, never built, here: Comparison renders itself through this package
    from comparisons.comparison import Comparison

__all__ = ["summary_markdown"]


def summary_markdown(results: list[Comparison], seed: int, implementation: str, versions: dict[str, str]) -> str:
    settings, *networks = report_intro(results, seed, implementation, code=lambda name: f"`{name}`")
    lines = [
        "# Manual backprop vs Keras",
        "",
        settings,
        *[f"\n{network}" for network in networks],
        "",
        "| " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|" + "---|" * len(SUMMARY_COLUMNS),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in summary_rows(results)]
    lines += ["", f"{matched(results)}.", "", "## Versions", ""]
    lines += [f"- {name}: {version}" for name, version in versions.items()]
    return "\n".join(lines) + "\n"
