"""Audits and comparisons as HTML, for Jupyter's ``_repr_html_``: the verdict, tables and plots."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from comparisons.plots import audit_figure, figures

if TYPE_CHECKING:  # the results are read, never built, here
    from comparisons.audit.model import Audit
    from comparisons.comparison import Comparison

__all__ = ["audit_html", "comparison_html"]


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def audit_html(result: Audit) -> str:
    """The audit as HTML: verdict, per-init lines, first divergence, diagnosis, and a plot."""
    text = str(result).splitlines()
    good = result.verdict == "match"
    colour = "#070" if good else "#b00"
    parts = [f'<p style="color:{colour}"><b>{html.escape(text[0])}</b></p>']
    rows = [
        [
            r.init,
            r.verdict,
            "" if r.divergence is None else f"epoch {r.divergence.epoch}, step {r.divergence.step}",
            f"{r.max_distance:.3g}",
        ]
        for r in result.runs
    ]
    parts.append(_table(["init", "verdict", "trajectories part at", "max distance"], rows))
    first = result.first_divergence
    if first is not None:
        cells = html.escape(", ".join(f"{k}={v:g}" for k, v in first.row_values.items()))
        used = f"row {first.row} ({cells})" if not first.batch else f"rows {first.batch_text}; the first: {cells}"
        parts.append(
            f"<p>First divergence: init {html.escape(first.init)}, epoch {first.epoch}, step {first.step}, {used}</p>"
        )
        values = [
            [
                p["name"],
                "" if p["array"] is None else f"{p['array']}[{', '.join(map(str, p['index']))}]",
                repr(p["user"]),
                repr(p["keras"]),
                f"{p['distance']:.3g}",
            ]
            for p in first.parameters
        ]
        parts.append(_table(["value", "index", "yours", "Keras", "distance"], values))
    if result.findings:
        items = "".join(
            f"<li><b>{html.escape(f.kind)}</b> (first at init {html.escape(f.first['init'])}, "
            f"epoch {f.first['epoch']}, step {f.first['step']}): {html.escape(f.message)}</li>"
            for f in result.findings
        )
        parts.append(f"<p><b>Diagnosis</b> (each step judged from Keras's state before it):</p><ol>{items}</ol>")
    if result.bugs:
        parts.append(f"<p>Known bugs that reproduce the whole trajectory: {html.escape(', '.join(result.bugs))}</p>")
    if result.traces:
        parts.append(f'<img alt="distance per step and loss" src="data:image/png;base64,{audit_figure(result)}">')
    return '<div class="backprop-vs-keras">' + "\n".join(parts) + "</div>"


def comparison_html(result: Comparison) -> str:
    """One comparison run as HTML: its verdict line and the report's figures."""
    colour = "#070" if result.matches else "#b00"
    line = (
        f"{result.spec.label}, {result.spec.epochs} epochs: {result.verdict} (max ULP weights "
        f"{result.max_ulp_weights:g}, loss {result.max_ulp_loss:g}; allowed {result.tolerance.weights:g})"
    )
    images = "".join(
        f'<img alt="{html.escape(result.spec.label)}" src="data:image/png;base64,{png}">' for png in figures(result)
    )
    return f'<div class="backprop-vs-keras"><p style="color:{colour}"><b>{html.escape(line)}</b></p>{images}</div>'
