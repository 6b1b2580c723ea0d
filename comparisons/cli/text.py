"""The main job's results on the terminal: the table, the first mismatch, the bench's timings."""

from __future__ import annotations

import argparse
from typing import Any

from comparisons.cli.specs import implementation_of
from comparisons.comparison import Comparison
from comparisons.problems import PROBLEMS
from comparisons.testing import assert_trajectory_matches

__all__ = ["print_bench", "print_results"]


def _table(results: list[Comparison]) -> str:
    header = ["problem", "dtype", "order", "init", "epochs", "manual loss", "keras loss"]
    header += ["max ULP weights", "max ULP loss", "allowed", "verdict"]
    rows = [header]
    for r in results:
        tol = r.tolerance
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
                f"{tol.weights:g} / {tol.loss:g}",
                r.verdict,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


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


def print_results(args: argparse.Namespace, results: list[Comparison]) -> int:
    floor = f"ULPs counted with a floor of {results[0].tolerance.floor:g}"
    if args.layers is not None:
        spec = results[0].spec
        rows = f"{args.data}" if args.data else f"{getattr(spec, 'rows', 0)} rows of synthetic data"
        network = getattr(spec, "network", "")
        print(f"manual ({implementation_of(args)}) vs Keras: {network}, {rows}, seed {args.seed}; {floor}")
    else:
        problems = list(dict.fromkeys(r.spec.problem for r in results))
        rates = ", ".join(f"{PROBLEMS[p].learning_rate if args.lr is None else args.lr:g} ({p})" for p in problems)
        print(f"manual ({implementation_of(args)}) vs Keras, seed {args.seed}, learning rate {rates}; {floor}")
    print(_table(results))
    for r in results:
        if not r.matches:
            print()
            print(_first_mismatch(r))
    matched = sum(r.matches for r in results)
    print(f"{matched} of {len(results)} runs match Keras after every epoch")
    return 0 if matched == len(results) else 1


def print_bench(result: dict[str, Any], part: str) -> None:
    """The bench's timings, part by part, as the README shows them."""
    if part in ("keras", "all"):
        print(f"{result['epochs']} epochs of both problems (float64), per-epoch weights and losses:")
        print(f"  Keras plain path, one fit per epoch: {result['plain_s']:.2f} s")
        print(f"  Keras fast path, one compiled loop:  {result['fast_s']:.2f} s ({result['speedup']}x faster)")
        print(f"  manual numpy side:                   {result['manual_s']:.2f} s")
        print(f"  trajectories {'identical' if result['identical'] else 'DIFFERENT'} (plain vs fast, bit for bit)")
    if part in ("audit", "all"):
        print(f"python -m comparisons audit {result['audit_file']} --problem regression, each in a fresh process:")
        print(f"  first, empty cache: {result['audit_first_s']:.2f} s")
        print(f"  repeat, cached:     {result['audit_repeat_s']:.2f} s ({result['audit_ratio']:g} of the first)")
        print(f"  outputs {'identical' if result['audit_identical'] else 'DIFFERENT'}")
    if part in ("grade", "all"):
        print(f"A class of {result['submissions']} regression submissions (examples/class_regression, repeated):")
        sharing = "sharing the cache" if result["baseline"] == "cached" else "each without the cache"
        print(f"  audited one by one, a fresh process each ({sharing}): {result['separate_s']:.2f} s")
        where = "in the sandbox" if result["grade_sandbox"] else "no sandbox"
        print(
            f"  graded together, one process ({where}): {result['grade_s']:.2f} s ({result['grade_ratio']:g} of that)"
        )
    if part in ("network", "all"):
        print(f"{result['network']}:")
        print(f"  Keras plain path, one fit per epoch: {result['network_plain_s']:.2f} s")
        faster = f"({result['network_speedup']}x faster)"
        print(f"  Keras fast path, one compiled loop:  {result['network_fast_s']:.2f} s {faster}")
        print(f"  manual numpy trainer:                {result['network_manual_s']:.2f} s")
        print(
            f"  trajectories {'identical' if result['network_identical'] else 'DIFFERENT'} (plain vs fast, bit for bit)"
        )
