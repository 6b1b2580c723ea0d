"""The audit's sentences, written once: the text the CLI prints and the HTML Jupyter shows both say them.

Each returns the sentence as plain text (the HTML escapes it), or None where the
audit has nothing to say on that point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # read, never built, here: the audit renders itself through this package
    from comparisons.audit.findings import Finding
    from comparisons.audit.model import Audit, AuditRun
    from comparisons.audit.optimizer_audit import OptimizerAudit
    from comparisons.notebook import NotebookCode

__all__ = [
    "DIAGNOSIS",
    "PARAMETER_COLUMNS",
    "SHOWN_PARAMETERS",
    "first_at",
    "first_divergence",
    "headline",
    "init_state",
    "known_bugs",
    "more_parameters",
    "no_finding",
    "notebook",
    "notes",
    "parameter_cells",
    "seed_note",
    "settings",
    "shown_parameters",
    "unseen",
]

DIAGNOSIS = "Diagnosis (each step judged from Keras's state before it):"
PARAMETER_COLUMNS = ["value", "index", "user", "keras", "distance"]
# A network of one's own can flag hundreds of values at once: the table shows the first ones,
# a line says how many more (the JSON lists every one). The document's networks have 10 values.
SHOWN_PARAMETERS = 12


def settings(result: Audit) -> str:
    return (
        f"{result.problem}, {result.dtype}, {result.epochs} epochs, {result.order} rows, threshold {result.threshold:g}"
    )


def _under(inits: list[str], settings: str = "") -> str:
    """``init keras (settings)`` or ``every init (seed, random, keras; settings)``: exactly the inits that ran."""
    if len(inits) == 1:
        return f"init {inits[0]}" + (f" ({settings})" if settings else "")
    return f"every init ({', '.join(inits)}{'; ' + settings if settings else ''})"


def headline(result: Audit) -> str:
    """The verdict: MATCH or DIVERGED, whose code, under what."""
    where = f"{result.path}:{result.func}"
    if result.verdict == "match":
        worst = max(r.max_distance for r in result.runs)
        return (
            f"MATCH: {where} agrees with Keras after every step under {_under(result.inits, settings(result))}; "
            f"max distance {worst:.3g}"
        )
    return f"DIVERGED: {where} differs from Keras ({settings(result)})"


def notebook(result: Audit) -> str | None:
    """What of a notebook ran, and what did not."""
    return notebook_of(result.notebook)


def notebook_of(code: NotebookCode | None) -> str | None:
    """What of a notebook ran, and what did not."""
    if code is None:
        return None
    cells = len({cell for cell, _ in code.kept})
    where = "" if code.selected is None else f", cells {code.selected[0]}-{code.selected[1]} only (--cells)"
    return (
        f"Notebook: ran {len(code.kept)} definitions (imports it uses, functions, classes, literal "
        f"assignments) from {cells} of its {code.cells} code cells, in {code.order} order{where}; skipped "
        f"{code.skipped} other statements, shell and magic lines among them, without running them"
    )


def notes(result: Audit) -> list[str]:
    """What the audit chose where the learner did not say, and why: functions, cells, layout."""
    return [f"Note: {note}" for note in result.notes]


def init_state(run: AuditRun) -> str:
    """Where one init's trajectory parts from Keras's, if anywhere."""
    if run.divergence is not None:
        return f"diverges at epoch {run.divergence.epoch}, step {run.divergence.step}"
    if run.forced_divergence is not None:
        forced = run.forced_divergence
        return (
            f"trajectory within the threshold, but from Keras's state the update differs "
            f"at epoch {forced.epoch}, step {forced.step}"
        )
    return "matches after every step"


def first_divergence(result: Audit) -> str:
    """Where the first divergence is, and the row (or rows) the step took."""
    first = result.first_divergence
    assert first is not None
    cells = ", ".join(f"{k}={v:g}" for k, v in first.row_values.items())
    forced_only = all(r.divergence is None for r in result.runs)
    rows = f"row {first.row} ({cells})" if not first.batch else f"rows {first.batch_text}; the first: {cells}"
    source = " (each step from Keras's state)" if forced_only else ""
    return f"First divergence{source}: init {first.init}, epoch {first.epoch}, step {first.step}, {rows}"


def shown_parameters(result: Audit) -> list[dict[str, Any]]:
    """The rows of the first divergence's table."""
    first = result.first_divergence
    assert first is not None
    return first.parameters[:SHOWN_PARAMETERS]


def more_parameters(result: Audit) -> str | None:
    """How many values over the threshold the table leaves out."""
    first = result.first_divergence
    assert first is not None
    more = len(first.parameters) - SHOWN_PARAMETERS
    return f"... and {more} more values over the threshold (--json lists every one)" if more > 0 else None


def parameter_cells(parameter: dict[str, Any]) -> list[str]:
    """A row of the first divergence's table, under PARAMETER_COLUMNS."""
    p = parameter
    index = "" if p["array"] is None else f"{p['array']}[{', '.join(map(str, p['index']))}]"
    return [p["name"], index, repr(p["user"]), repr(p["keras"]), f"{p['distance']:.3g}"]


def unseen(result: Audit) -> str | None:
    """The inits under which the slip does not show."""
    hidden = [r.init for r in result.runs if r.verdict == "match"]
    return f"Invisible under init {', '.join(hidden)}: only the other inits expose it." if hidden else None


def first_at(finding: Finding) -> str:
    first = finding.first
    return f"first at init {first['init']}, epoch {first['epoch']}, step {first['step']}"


def no_finding(result: Audit) -> str:
    """The diagnosis where it names no finding: every update from Keras's state is right."""
    return (
        "Diagnosis: from Keras's state every update and loss is right; the trajectories part only "
        "on your own (does your step keep state between calls?)"
    )


def known_bugs(result: Audit) -> str | None:
    """The known bugs that reproduce the whole trajectory."""
    if not result.bugs:
        return None
    plural = "s" if len(result.bugs) > 1 else ""
    return (
        f"Known bug{plural} {', '.join(result.bugs)} reproduce{'' if plural else 's'} the whole trajectory "
        f"under {_under(result.inits)}."
    )


def seed_note(result: Audit) -> str | None:
    """Why init seed alone hides a slip: its two hidden neurons start, and stay, alike."""
    if "seed" in result.inits and set(result.inits) <= {"seed"}:
        return (
            "Note: under init seed alone every weight starts at 0.1, so the two hidden neurons stay "
            "interchangeable and a step that mixes them up cannot be seen; audit with --init all."
        )
    return None


OPTIMIZER_DIAGNOSIS = "Diagnosis (each update judged from your optimizer's own state, on the same gradients):"


def optimizer_headline(result: OptimizerAudit) -> str:
    where = f"{result.path}:{result.label}"
    inits = ", ".join(result.inits)
    under = f"{result.optimizer}, {result.contract} contract, {result.dtype}, {result.steps} steps under init {inits}"
    if result.verdict == "match":
        return (
            f"MATCH: {where} is {result.described}: the {result.convention} convention, every update within "
            f"{result.threshold:g} of it ({under})"
        )
    if result.convention is not None:
        return f"DIVERGED: {where} is {result.described}, but with the findings below ({under})"
    if result.reshaped is not None:
        at = f"init {result.reshaped['init']}, step {result.reshaped['step']}"
        judged = (
            "no update before it to judge"
            if not result.steps
            else f"the updates before it are {result.described}"
            if result.distance <= result.threshold
            else f"the nearest convention before it, {result.described}, is {result.distance:.3g} away at its worst"
        )
        return f"DIVERGED: {where} gave a tensor back in another shape at {at}; {judged} ({under})"
    return (
        f"DIVERGED: {where} is none of {result.optimizer}'s conventions; the nearest, {result.described}, is "
        f"{result.distance:.3g} away at its worst update ({under})"
    )


def optimizer_hyper(result: OptimizerAudit) -> str:
    said = {"yours": "your default", "given": "the audit's", "usual": "the usual, your code has none"}
    return "Hyperparameters: " + ", ".join(
        f"{name} {value:g} ({said.get(source, source)})" for name, (value, source) in result.hyper.items()
    )


def keras_difference(result: OptimizerAudit) -> str | None:
    """Where Keras's own optimizer stands: from the same state, on the same gradients."""
    if result.convention is None or np.isnan(result.keras):  # a mistake, or Keras's own left out
        return None
    lr = result.learning_rate
    through = _THROUGH_FLOAT32.get(result.optimizer)
    if result.keras_lr != lr:  # deeplearning.ai's momentum: Keras's at eta (1 - beta), in exact arithmetic
        why = (
            f"yours is Keras's momentum at learning rate {lr:g} x (1 - {result.momentum:g}) = "
            f"{result.keras_lr:g} in exact arithmetic; Keras {through}"
        )
    elif result.convention == "keras":
        why = f"Keras {through}, your constants are exact" if through else "the same formula"
    else:
        why = f"the conventions differ, Keras's with {result.keras_described.split(', ', 1)[1]}"
    if result.keras <= result.threshold:
        return f"Keras's own {result.optimizer} agrees, every update within {result.threshold:g}: {why}."
    return (
        f"Keras's own {result.optimizer}, from the same state on the same gradients, differs by up to "
        f"{result.keras:.3g} (relative) over these {result.steps} steps: {why}."
    )


# where Keras's own optimizer rounds a constant to float32 first (manual/batch/optimizers.py's c32)
_THROUGH_FLOAT32 = {
    "momentum": "takes the momentum through float32 (0.9 becomes 0.8999999762)",
    "adam": "takes beta_1 and beta_2 through float32 in its bias corrections",
    "adagrad": "starts its sums at float32's 0.1",
}


def optimizer_first(finding: Finding) -> str:
    return f"first at init {finding.first['init']}, step {finding.first['step']}"
