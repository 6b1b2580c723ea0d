"""The main job's sentences and the summary's cells, written once: the terminal, summary.md, report.html and
Jupyter all say them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # read, never built, here: Comparison renders itself through this package
    from comparisons.comparison import Comparison
    from comparisons.tolerances import Tolerance

__all__ = ["SUMMARY_COLUMNS", "allowed", "matched", "per_step_lines", "report_intro", "run_line", "summary_rows"]

_NAMED = 3  # zero-gradient parameters named one by one; the rest counted


def allowed(tolerance: Tolerance) -> str:
    """The ULPs a run may be off by: ``8 / 8`` (weights / loss)."""
    return f"{tolerance.weights:g} / {tolerance.loss:g}"


def run_line(result: Comparison) -> str:
    """One run's verdict, with what it rests on."""
    return (
        f"{result.spec.label}, {result.spec.epochs} epochs: {result.verdict} (max ULP weights "
        f"{result.max_ulp_weights:g}, loss {result.max_ulp_loss:g}; allowed {allowed(result.tolerance)})"
    )


def matched(results: list[Comparison]) -> str:
    per_step = sum(r.matches and r.step_check is not None for r in results)
    if per_step:  # those separate free-running: "after every epoch" would not be true of them
        free = sum(r.matches for r in results) - per_step
        return (
            f"{free + per_step} of {len(results)} runs match Keras: {free} after every epoch, "
            f"{per_step} step by step from Keras's state"
        )
    return f"{sum(r.matches for r in results)} of {len(results)} runs match Keras after every epoch"


def per_step_lines(result: Comparison) -> list[str]:
    """Where a network was judged step by step: what the steps showed, and what rounding decided."""
    check = result.step_check
    if check is None:
        return []
    if check.first_over is not None:
        epoch, step, parameter = check.first_over
        return [
            f"{result.spec.label}: from Keras's own state, the step at epoch {epoch}, step {step} is off at "
            f"{parameter} by more than its derived rounding bound: not rounding"
        ]
    lines = [
        f"{result.spec.label}: every step agrees with Keras's from the same state (at most {check.worst:.2f} "
        "of its derived rounding bound); rounding decided the rest:"
    ]
    zero = [r for r in check.rounding if r.kind == "zero-gradient"]
    lines += [f"  {r.kind}: {r.message}" for r in zero[:_NAMED]]
    if len(zero) > _NAMED:
        lines.append(f"  zero-gradient: {len(zero) - _NAMED} more parameters, the same way")
    lines += [f"  {r.kind}: {r.message}" for r in check.rounding if r.kind != "zero-gradient"]
    return lines


def report_intro(
    results: list[Comparison], seed: int, implementation: str, code: Callable[[str], str] = str
) -> list[str]:
    """The report's settings, a paragraph each: the manual side, the seed, the ULPs allowed, then each
    network of one's own. ``code`` marks a name as code (Markdown's backticks)."""
    floor = results[0].tolerance.floor
    allowances = "; ".join(
        f"{r.spec.problem} {r.spec.dtype} {r.tolerance.weights:g} (weights) / {r.tolerance.loss:g} (loss)"
        for r in {(r.spec.problem, r.spec.dtype): r for r in results}.values()
    )
    settings = (
        f"Manual side: {code(implementation)}. Seed {seed}. ULP distances counted with a floor of {floor:g}. "
        f"Allowed ULPs: {allowances}."
    )
    networks = dict.fromkeys(r.spec.network for r in results if not r.spec.is_document)
    return [settings, *(f"Network: {network}." for network in networks)]


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


def summary_rows(results: list[Comparison]) -> list[list[str]]:
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
