"""``python -m comparisons [COMMAND]``: run both sides and say whether they match; each command's handler.

With no command it checks (prints the table). Exit status: 0 everything matches
Keras, 1 something does not, 2 bad input (one line on stderr), 3 an internal
error (one line; ``--debug`` shows the traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from comparisons.cli.autograder import gradescope_command, run_command
from comparisons.cli.grading import audit_command, grade_command, progress_of
from comparisons.cli.parser import COMMANDS, PROG, build_parser
from comparisons.cli.specs import (
    bench_network_spec,
    document_runs,
    implementation_of,
    network_runs,
    resolve,
    sheet_network,
)
from comparisons.cli.text import print_bench, print_results
from comparisons.comparison import Comparison
from comparisons.errors import InputError
from comparisons.spec import Spec
from comparisons.verdict import compare
from reference import numerics

__all__ = ["main"]


def _compare_all(args: argparse.Namespace, progress: Callable[[str], None]) -> list[Comparison]:
    from comparisons.data import read_csv, to_arrays

    implementation = implementation_of(args)
    if args.layers is not None:
        networks, arrays = network_runs(args)
        return _each(networks, progress, lambda spec: compare(spec, implementation, arrays))
    documents = document_runs(args)
    data = None
    if args.data is not None:  # float64 here; each run casts to its own dtype
        X, y = to_arrays(read_csv(args.data, documents[0].definition), documents[0].definition, "float64")
        data = (X, y[:, None])
    return _each(documents, progress, lambda spec: compare(spec, implementation, data))


def _each(specs: Sequence[Spec], progress: Callable[[str], None], run: Callable[[Any], Comparison]) -> list[Comparison]:
    results = []
    for n, spec in enumerate(specs, start=1):
        progress(f"run {n}/{len(specs)}: {spec.label}")
        results.append(run(spec))
    progress("")
    return results


def _check(args: argparse.Namespace) -> int:
    return print_results(args, _compare_all(args, progress_of(quiet=False)))


def _report(args: argparse.Namespace) -> int:
    from comparisons.report import write_report

    progress = progress_of(args.quiet)
    out = Path(args.out)
    results = _compare_all(args, progress)
    write_report(results, out, seed=args.seed, implementation=implementation_of(args), progress=progress)
    progress("")
    status = print_results(args, results)
    print(
        f"Report written to {out}/: open {out / 'report.html'} in a browser; summary.md and one CSV per run beside it"
    )
    return status


def _bench(args: argparse.Namespace) -> int:
    from comparisons.bench import bench

    network = bench_network_spec(args)
    if network is not None and args.part not in ("network", "all"):
        raise InputError("the network options are the network part's: give --part network")
    result = bench(
        args.epochs,
        progress_of(args.quiet),
        args.part,
        Path(args.audit_file),
        args.submissions,
        args.baseline,
        network=network,
    )
    progress_of(args.quiet)("")
    if args.json:
        print(json.dumps(result))
    else:
        print_bench(result, args.part)
    identical = ("identical", "audit_identical", "network_identical")
    return 0 if all(result.get(key, True) for key in identical) else 1


def _formulas_audit(args: argparse.Namespace) -> int:
    from comparisons.formulas.audit import audit_page, audit_sheet
    from comparisons.formulas.sheet import PageAudit, SheetAudit, read_sheet

    network = sheet_network(args)
    sheet = read_sheet(Path(args.file))
    result: PageAudit | SheetAudit = audit_page(sheet) if network == "auto" else audit_sheet(sheet, network)
    print(json.dumps(result.as_json()) if args.json else result.as_text())
    return 0 if result.clean else 1


def _formulas_derive(args: argparse.Namespace) -> int:
    from comparisons.formulas.audit import network_title
    from comparisons.formulas.derive import derive_network_sheet, derive_sheet

    network = sheet_network(args)
    sheet = derive_sheet(network) if isinstance(network, str) else derive_network_sheet(network, network_title(network))
    print(sheet, end="")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from comparisons import cache
    from comparisons.render.text import cache_cleared_text, cache_text

    if args.action == "clear":
        removed = cache.clear()
        result = {"directory": str(cache.directory()), "removed": removed}
        print(json.dumps(result) if args.json else cache_cleared_text(result))
        return 0
    info = cache.info()
    if args.json:
        print(json.dumps(info))
    else:
        print(cache_text(info))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    command = args_in.pop(0) if args_in and args_in[0] in COMMANDS else "check"
    debug = "--debug" in args_in
    handlers = {
        "check": _check,
        "report": _report,
        "bench": _bench,
        "audit": audit_command,
        "grade": grade_command,
        "autograder gradescope": lambda args: gradescope_command(args, list(args_in)),
        "autograder run": run_command,
        "formulas audit": _formulas_audit,
        "formulas derive": _formulas_derive,
        "cache": _cache,
    }
    try:
        if command == "autograder":
            action = args_in.pop(0) if args_in else ""
            if action not in ("gradescope", "run"):
                raise InputError(f"autograder needs an action, gradescope or run, not {action!r}")
            command = f"autograder {action}"
        if command == "formulas":
            action = args_in.pop(0) if args_in else ""
            if action not in ("audit", "derive"):
                raise InputError(f"formulas needs an action, audit or derive, not {action!r}")
            command = f"formulas {action}"
        args = resolve(command, build_parser(command).parse_args(args_in))
        from comparisons import cache

        cache.set_enabled(not getattr(args, "no_cache", False))
        numerics.set_device(getattr(args, "device", "cpu"))
        return handlers[command](args)
    except (InputError, numerics.NumericsError) as error:
        if debug:
            raise
        if "--json" in args_in:  # a grader reading stdout gets an answer too
            print(json.dumps({"verdict": "error", "error": str(error)}))
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head` closed our stdout: stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:
        if debug:
            raise
        print(
            f"{PROG}: internal error: {type(error).__name__}: {error} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 3
