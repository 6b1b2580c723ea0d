"""Results inside Jupyter: audit a function defined in the notebook, and show any result as HTML.

``audit_step(step, problem="regression")`` (or ``forward=..., update=...`` for the
tutorial's functions) returns the same ``Audit`` the CLI prints: in a notebook it
renders as HTML (the verdict, the first-divergence table, the diagnosis and a
plot of the distance per step and the loss), ``print`` gives the CLI's text and
``to_json()`` its JSON. ``compare(spec)`` results (``Comparison``) render too.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from comparisons.spec import INITS, RunSpec

if TYPE_CHECKING:
    from comparisons.audit import Audit
    from comparisons.comparison import Comparison

__all__ = ["audit_html", "audit_step", "comparison_html"]


def audit_step(
    step: Callable[..., Any] | None = None,
    *,
    forward: Callable[..., Any] | None = None,
    update: Callable[..., Any] | None = None,
    problem: str = "regression",
    dtype: str = "float64",
    epochs: int = 50,
    order: str = "sequential",
    init: str = "all",
    seed: int = 0,
    lr: float | None = None,
    layout: str = "keras",
) -> Audit:
    """Audit ``step(params, x, y, lr) -> (params, loss)``, or the tutorial's ``forward(X, parameters)
    -> (y_hat, A1)`` and ``update(parameters, y, y_hat, A1, X[, lr])``, against Keras, as
    ``python -m comparisons audit`` does.

    Your functions run here, in the notebook's own process, with no time or memory
    limit (the command line runs them in a process of their own): a step that loops
    forever holds the kernel until you interrupt it.
    """
    from comparisons.audit import Contract, audit

    if (step is None) == (forward is None or update is None) or (step is not None and (forward or update)):
        raise ValueError("give either step, or both forward and update")
    base = RunSpec(problem=problem, dtype=dtype, epochs=epochs, order=order, seed=seed, lr=lr)
    inits = list(INITS) if init == "all" else [init]
    if step is not None:
        contract = Contract(func=getattr(step, "__name__", "step"), layout=layout)
        functions = {contract.func: step}
    else:
        assert forward is not None
        assert update is not None
        contract = Contract("tutorial", forward=forward.__name__, update=update.__name__)
        functions = {contract.forward: forward, contract.update: update}
    return audit(Path("<notebook>"), contract, base, inits, functions=functions)


def _audit_figure(result: Audit) -> str:
    from matplotlib.figure import Figure  # not pyplot: the notebook's own backend and figures stay as they are

    fig = Figure(figsize=(10, 3.2))
    distance_ax, loss_ax = fig.subplots(1, 2)
    for init, trace in result.traces.items():
        steps = np.arange(1, len(trace["distance"]) + 1)
        distance_ax.plot(steps, np.clip(trace["distance"], 1e-17, None), label=f"init {init}")
    distance_ax.axhline(result.threshold, color="red", linewidth=0.8, label=f"threshold ({result.threshold:g})")
    distance_ax.set_yscale("log")
    distance_ax.set(title="distance from Keras after each step", xlabel="step", ylabel="distance")
    distance_ax.legend(fontsize="small")
    first = result.first_divergence
    init = first.init if first is not None else next(iter(result.traces))
    trace = result.traces[init]
    steps = np.arange(1, len(trace["user_loss"]) + 1)
    loss_ax.plot(steps, trace["user_loss"], label="yours", linewidth=2.5, alpha=0.6)
    loss_ax.plot(steps, trace["keras_loss"], label="Keras", linestyle="--", color="black", linewidth=1)
    loss_ax.set(title=f"each row's loss, init {init}", xlabel="step", ylabel="loss")
    loss_ax.legend(fontsize="small")
    from comparisons.report import png_base64

    return png_base64(fig)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def audit_html(result: Audit) -> str:
    """The audit as HTML: verdict, per-init lines, first divergence, diagnosis, and a plot."""
    from comparisons.audit import rows_text

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
        used = f"row {first.row} ({cells})" if not first.batch else f"rows {rows_text(first.batch)}; the first: {cells}"
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
        parts.append(f'<img alt="distance per step and loss" src="data:image/png;base64,{_audit_figure(result)}">')
    return '<div class="backprop-vs-keras">' + "\n".join(parts) + "</div>"


def comparison_html(result: Comparison) -> str:
    """One comparison run as HTML: its verdict line and the report's figures."""
    from comparisons.report import figures

    colour = "#070" if result.matches else "#b00"
    line = (
        f"{result.spec.label}, {result.spec.epochs} epochs: {result.verdict} (max ULP weights "
        f"{result.max_ulp_weights:g}, loss {result.max_ulp_loss:g}; allowed {result.tolerance.weights:g})"
    )
    images = "".join(
        f'<img alt="{html.escape(result.spec.label)}" src="data:image/png;base64,{png}">' for png in figures(result)
    )
    return f'<div class="backprop-vs-keras"><p style="color:{colour}"><b>{html.escape(line)}</b></p>{images}</div>'
