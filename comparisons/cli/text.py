"""What the main job ran, said from its options; render/ says the rest, as the terminal shows it."""

from __future__ import annotations

import argparse
from typing import Any

from comparisons.cli.specs import implementation_of
from comparisons.comparison import Comparison
from comparisons.problems import PROBLEMS
from comparisons.render.json import comparisons_json
from comparisons.render.text import bench_text, comparisons_text

__all__ = ["print_bench", "print_results"]


def _settings(args: argparse.Namespace, results: list[Comparison]) -> str:
    """The line above the table: the options that shaped every run (the data file is the command line's)."""
    floor = f"ULPs counted with a floor of {results[0].tolerance.floor:g}"
    if args.layers is not None:
        spec = results[0].spec
        rows = f"{args.data}" if args.data else f"{spec.rows} rows of synthetic data"
        return f"manual ({implementation_of(args)}) vs Keras: {spec.network}, {rows}, seed {args.seed}; {floor}"
    problems = list(dict.fromkeys(r.spec.problem for r in results))
    rates = ", ".join(f"{PROBLEMS[p].learning_rate if args.lr is None else args.lr:g} ({p})" for p in problems)
    return f"manual ({implementation_of(args)}) vs Keras, seed {args.seed}, learning rate {rates}; {floor}"


def print_results(args: argparse.Namespace, results: list[Comparison]) -> int:
    """The table (or, with --json, one JSON object), and the exit status: 0 when every run matches Keras."""
    render = comparisons_json if getattr(args, "json", False) else comparisons_text
    print(render(results, _settings(args, results)))
    return 0 if all(r.matches for r in results) else 1


def print_bench(result: dict[str, Any], part: str) -> None:
    print(bench_text(result, part))
