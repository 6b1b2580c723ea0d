"""The main job's, the bench's and the cache's results as the terminal shows them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from comparisons.render.columns import columns
from comparisons.render.sentences import allowed, matched, per_step_lines
from comparisons.testing import assert_trajectory_matches

if TYPE_CHECKING:  # read, never built, here: Comparison renders itself through this package
    from comparisons.comparison import Comparison

__all__ = ["bench_text", "cache_cleared_text", "cache_text", "comparisons_text"]


def _table(results: list[Comparison]) -> list[str]:
    header = ["problem", "dtype", "order", "init", "epochs", "manual loss", "keras loss"]
    header += ["max ULP weights", "max ULP loss", "allowed", "verdict"]
    rows = [header]
    for r in results:
        rows.append(
            [
                r.spec.problem,
                r.spec.dtype,
                r.spec.order,
                r.spec.init,
                str(r.spec.epochs),
                str(r.manual["loss"].iloc[-1]),
                str(r.keras["loss"].iloc[-1]),
                f"{r.max_ulp_weights:g}",
                f"{r.max_ulp_loss:g}",
                allowed(r.tolerance),
                r.verdict,
            ]
        )
    return columns(rows)


def _first_mismatch(result: Comparison) -> str:
    """The numpy.testing-style account of the first epoch out of tolerance."""
    try:
        assert_trajectory_matches(
            result.manual,
            result.keras,
            dtype=result.spec.dtype,
            tolerance=result.tolerance,
            header=f"{result.spec.label}: manual (actual) vs Keras (desired)",
        )
    except AssertionError as mismatch:
        return str(mismatch)
    raise AssertionError("a run that does not match must fail the assertion")  # the two checks disagree


def comparisons_text(results: list[Comparison], settings: str) -> str:
    """The main job's table under ``settings`` (the line that says what ran), each mismatch
    accounted for, and how many runs match."""
    lines = [settings, *_table(results)]
    for r in results:
        if not r.matches:
            lines += ["", _first_mismatch(r)]
        if r.step_check is not None:
            lines += ["", *per_step_lines(r)]
    return "\n".join([*lines, matched(results)])


def bench_text(result: dict[str, Any], part: str) -> str:
    """The bench's timings, part by part, as the README shows them."""
    lines = []
    if part in ("keras", "all"):
        lines += [
            f"{result['epochs']} epochs of both problems (float64), per-epoch weights and losses:",
            f"  Keras plain path, one fit per epoch: {result['plain_s']:.2f} s",
            f"  Keras fast path, one compiled loop:  {result['fast_s']:.2f} s ({result['speedup']}x faster)",
            f"  manual numpy side:                   {result['manual_s']:.2f} s",
            f"  trajectories {'identical' if result['identical'] else 'DIFFERENT'} (plain vs fast, bit for bit)",
        ]
    if part in ("audit", "all"):
        lines += [
            f"python -m comparisons audit {result['audit_file']} --problem regression, each in a fresh process:",
            f"  first, empty cache: {result['audit_first_s']:.2f} s",
            f"  repeat, cached:     {result['audit_repeat_s']:.2f} s ({result['audit_ratio']:g} of the first)",
            f"  outputs {'identical' if result['audit_identical'] else 'DIFFERENT'}",
        ]
    if part in ("grade", "all"):
        sharing = "sharing the cache" if result["baseline"] == "cached" else "each without the cache"
        where = "in the sandbox" if result["grade_sandbox"] else "no sandbox"
        lines += [
            f"A class of {result['submissions']} regression submissions (examples/class_regression, repeated):",
            f"  audited one by one, a fresh process each ({sharing}): {result['separate_s']:.2f} s",
            f"  graded together, one process ({where}): {result['grade_s']:.2f} s ({result['grade_ratio']:g} of that)",
        ]
    if part in ("network", "all"):
        lines += [
            f"{result['network']}:",
            f"  Keras plain path, one fit per epoch: {result['network_plain_s']:.2f} s",
            f"  Keras fast path, one compiled loop:  {result['network_fast_s']:.2f} s "
            f"({result['network_speedup']}x faster)",
            f"  manual numpy trainer:                {result['network_manual_s']:.2f} s",
            f"  trajectories {'identical' if result['network_identical'] else 'DIFFERENT'} "
            "(plain vs fast, bit for bit)",
        ]
    if part in ("diagnosis", "all"):
        lines += [
            f"{result['diagnosis_network']}, a step with one wrong slope:",
            f"  the audit, in this process, Keras's side computed: {result['diagnosis_audit_s']:.2f} s",
            f"  the diagnosis alone:                               {result['diagnosis_s']:.2f} s",
            f"  findings: {', '.join(result['diagnosis_kinds']) or 'none'}",
        ]
    return "\n".join(lines)


def cache_text(info: dict[str, Any]) -> str:
    return f"{info['directory']}: {info['entries']} entries, {info['bytes'] / 1024:.1f} KiB"


def cache_cleared_text(result: dict[str, Any]) -> str:
    return f"Removed {result['removed']} entries from {result['directory']}"
