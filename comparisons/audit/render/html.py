"""The audit as Jupyter shows it, and a graded class as grades.html."""

from __future__ import annotations

import html
from collections import Counter
from typing import TYPE_CHECKING

from comparisons.audit.render import sentences as say
from comparisons.audit.render.plots import audit_figure
from comparisons.render.page import cell, fragment, headline, image, page, row, table

if TYPE_CHECKING:  # read, never built, here: the audit renders itself through this package
    from comparisons.audit.grade import Grade
    from comparisons.audit.model import Audit
    from comparisons.audit.optimizer_audit import OptimizerAudit

__all__ = ["audit_html", "gradebook_html", "optimizer_html"]


def _paragraph(text: str | None) -> list[str]:
    return [] if text is None else [f"<p>{html.escape(text)}</p>"]


def audit_html(result: Audit) -> str:
    """The text's sentences, its tables as tables, and a plot of the distance per step and the loss."""
    parts = [headline(say.headline(result), result.verdict == "match"), *_paragraph(say.notebook(result))]
    parts += [part for note in say.notes(result) for part in _paragraph(note)]
    runs = [row([r.init, r.verdict, say.init_state(r), f"{r.max_distance:.3g}"]) for r in result.runs]
    parts.append(table(["init", "verdict", "trajectory", "max distance"], "".join(runs)))
    first = result.first_divergence
    if first is not None:
        parts += _paragraph(say.first_divergence(result))
        values = "".join(row(say.parameter_cells(p)) for p in say.shown_parameters(result))
        parts.append(table(say.PARAMETER_COLUMNS, values))
        parts += _paragraph(say.more_parameters(result))
        parts += _paragraph(say.unseen(result))
        if result.findings:
            items = "".join(
                f"<li><b>{html.escape(f.kind)}</b> ({html.escape(say.first_at(f))}): {html.escape(f.message)}</li>"
                for f in result.findings
            )
            diagnosis, rest = say.DIAGNOSIS.split(" ", 1)  # its first word bold, a heading over the list
            parts.append(f"<p><b>{diagnosis}</b> {html.escape(rest)}</p><ol>{items}</ol>")
        else:
            parts += _paragraph(say.no_finding(result))
        parts += _paragraph(say.known_bugs(result))
    parts += _paragraph(say.seed_note(result))
    if result.traces:
        parts.append(image(audit_figure(result), "distance per step and loss"))
    return fragment("\n".join(parts))


def optimizer_html(result: OptimizerAudit) -> str:
    """The text's sentences; the findings as a list."""
    parts = [
        headline(say.optimizer_headline(result), result.verdict == "match"),
        *_paragraph(say.optimizer_hyper(result)),
    ]
    parts += _paragraph(say.notebook_of(result.notebook))
    parts += _paragraph(say.keras_difference(result))
    if result.findings:
        items = "".join(
            f"<li><b>{html.escape(f.kind)}</b> ({html.escape(say.optimizer_first(f))}): {html.escape(f.message)}</li>"
            for f in result.findings
        )
        diagnosis, rest = say.OPTIMIZER_DIAGNOSIS.split(" ", 1)
        parts.append(f"<p><b>{diagnosis}</b> {html.escape(rest)}</p><ol>{items}</ol>")
    return fragment("\n".join(parts))


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.match { color: #070; } .diverged { color: #b00; } .error { color: #a60; }
pre { font-size: 0.85em; white-space: pre-wrap; margin: 0.5em 0; }
"""


def _counts(title: str, counts: Counter[str]) -> str:
    return table([title, "submissions"], "".join(row([k, str(v)]) for k, v in sorted(counts.items())))


def gradebook_html(grades: list[Grade], settings: str, interrupted: bool) -> str:
    """Self-contained: counts per verdict and per finding kind, then a row per submission that
    expands to its audit as the CLI prints it (first divergence and diagnosis), or its error."""
    verdicts = Counter(g.verdict for g in grades)
    kinds = Counter(kind for g in grades if g.audit for kind in {f.kind for f in g.audit.findings})
    rows = []
    for g in grades:
        if g.audit is None:
            detail = html.escape(g.error or "")
        else:
            detail = f"<details><summary>details</summary><pre>{html.escape(str(g.audit))}</pre></details>"
        told = f"<details><summary>feedback</summary><pre>{html.escape(g.feedback)}</pre></details>"
        points = "" if g.score is None else f"{g.score.points:g}/{g.score.max_points:g}"
        reason = "" if g.score is None else g.score.reason
        rows.append(
            f"<tr>{cell(g.path)}{cell(g.verdict, g.verdict)}{cell(points)}{cell(reason)}<td>{told}</td>"
            f"<td>{detail}</td></tr>"
        )
    note = "<p><b>Interrupted: these are the submissions that finished.</b></p>" if interrupted else ""
    headers = ["submission", "verdict", "score", "why", "what the student reads", "first divergence and diagnosis"]
    submissions = table(headers, "\n" + "\n".join(rows) + "\n")
    body = (
        f"<h1>Gradebook</h1><p>{html.escape(settings)}</p>{note}\n"
        + _counts("verdict", verdicts)
        + _counts("finding kind", kinds)
        + submissions
    )
    return page("Gradebook", _STYLE, body)
