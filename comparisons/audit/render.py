"""An audit as text (what the CLI prints) and as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reference import numerics

__all__ = ["as_json", "as_text"]


if TYPE_CHECKING:  # rendered, never built, here
    from comparisons.audit.model import Audit


def as_json(result: Audit) -> dict[str, Any]:
    first = result.first_divergence
    return {
        "verdict": result.verdict,
        "numerics": numerics.key(),  # Keras's side was computed (or cached) under this configuration
        "problem": result.problem,
        "dtype": result.dtype,
        "epochs": result.epochs,
        "threshold": result.threshold,
        "runs": [
            {
                "init": r.init,
                "verdict": r.verdict,
                "max_distance": r.max_distance,
                "trajectory": "match" if r.divergence is None else "diverged",
            }
            for r in result.runs
        ],
        "first_divergence": None
        if first is None
        else {
            "init": first.init,
            "epoch": first.epoch,
            "step": first.step,
            "row": first.row,
            "row_values": first.row_values,
            "batch_rows": first.batch,
            "parameters": first.parameters,
            "from_keras_state": all(r.divergence is None for r in result.runs),
        },
        "diagnosis": {
            "findings": [f.as_json() for f in result.findings],
            "known_bugs": result.bugs or [],
            "per_parameter": result.per_parameter,
        },
        "notebook": None
        if result.notebook is None
        else {
            "code_cells": result.notebook.cells,
            "definitions": len(result.notebook.kept),
            "skipped_statements": result.notebook.skipped,
        },
    }


def _under(inits: list[str], settings: str = "") -> str:
    """``init keras (settings)`` or ``every init (seed, random, keras; settings)``: exactly the inits that ran."""
    if len(inits) == 1:
        return f"init {inits[0]}" + (f" ({settings})" if settings else "")
    return f"every init ({', '.join(inits)}{'; ' + settings if settings else ''})"


def as_text(result: Audit) -> str:
    where = f"{result.path}:{result.func}"
    settings = (
        f"{result.problem}, {result.dtype}, {result.epochs} epochs, {result.order} rows, threshold {result.threshold:g}"
    )
    worst = max(r.max_distance for r in result.runs)
    lines = []
    if result.verdict == "match":
        lines.append(
            f"MATCH: {where} agrees with Keras after every step under {_under(result.inits, settings)}; "
            f"max distance {worst:.3g}"
        )
    else:
        lines += _diverged_text(result, where, settings)
    if result.notebook is not None:
        code = result.notebook
        cells = len({cell for cell, _ in code.kept})
        lines.insert(
            1,
            f"Notebook: ran {len(code.kept)} definitions (imports it uses, functions, classes, literal "
            f"assignments) from {cells} of its {code.cells} code cells; skipped {code.skipped} other statements "
            "and shell or magic lines without running them",
        )
    if "seed" in result.inits and set(result.inits) <= {"seed"}:
        lines.append(
            "Note: under init seed alone every weight starts at 0.1, so the two hidden neurons stay "
            "interchangeable and a step that mixes them up cannot be seen; audit with --init all."
        )
    return "\n".join(lines)


def _diverged_text(result: Audit, where: str, settings: str) -> list[str]:
    lines = [f"DIVERGED: {where} differs from Keras ({settings})"]
    for r in result.runs:
        if r.divergence is not None:
            state = f"diverges at epoch {r.divergence.epoch}, step {r.divergence.step}"
        elif r.forced_divergence is not None:
            forced = r.forced_divergence
            state = (
                f"trajectory within the threshold, but from Keras's state the update differs "
                f"at epoch {forced.epoch}, step {forced.step}"
            )
        else:
            state = "matches after every step"
        lines.append(f"  init {r.init + ':':<7} {state} (max distance {r.max_distance:.3g})")
    first = result.first_divergence
    assert first is not None
    cells = ", ".join(f"{k}={v:g}" for k, v in first.row_values.items())
    forced_only = all(r.divergence is None for r in result.runs)
    FORCED = " (each step from Keras's state)"
    lines.append(
        f"First divergence{FORCED if forced_only else ''}: init {first.init}, "
        f"epoch {first.epoch}, step {first.step}, "
        + (f"row {first.row} ({cells})" if not first.batch else f"rows {first.batch_text}; the first: {cells}")
    )
    lines.append(f"  {'value':<8} {'index':<9} {'user':>24} {'keras':>24} {'distance':>10}")
    for p in first.parameters:
        index = "" if p["array"] is None else f"{p['array']}[{', '.join(map(str, p['index']))}]"
        lines.append(f"  {p['name']:<8} {index:<9} {p['user']!r:>24} {p['keras']!r:>24} {p['distance']:>10.3g}")
    hidden = [r.init for r in result.runs if r.verdict == "match"]
    if hidden:
        lines.append(f"Invisible under init {', '.join(hidden)}: only the other inits expose it.")
    if result.findings:
        lines.append("Diagnosis (each step judged from Keras's state before it):")
        for n, f in enumerate(result.findings, start=1):
            lines.append(
                f"  {n}. {f.kind}, first at init {f.first['init']}, epoch {f.first['epoch']}, step {f.first['step']}"
            )
            lines.append(f"     {f.message}")
    elif not result.per_parameter and any(r.forced_divergence is not None for r in result.runs):
        from_state = next(r.forced_divergence for r in result.runs if r.forced_divergence is not None)
        lines.append(
            "Diagnosis: the per-parameter diagnosis explains the document's two networks only; for a network "
            f"of your own: from Keras's state, your update first differs at init {from_state.init}, "
            f"epoch {from_state.epoch}, step {from_state.step}"
        )
    else:
        lines.append(
            "Diagnosis: from Keras's state every update and loss is right; the trajectories part only "
            "on your own (does your step keep state between calls?)"
        )
    if result.bugs:
        plural = "s" if len(result.bugs) > 1 else ""
        lines.append(
            f"Known bug{plural} {', '.join(result.bugs)} reproduce{'' if plural else 's'} the whole trajectory "
            f"under {_under(result.inits)}."
        )
    return lines
