"""``python -m comparisons [check|report|bench]``: run both sides and say whether they match.

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

from comparisons.audit.model import Contract
from comparisons.comparison import Comparison
from comparisons.errors import InputError
from comparisons.network_cli import (
    add_audit_network_options,
    add_bench_network_options,
    add_network_options,
    add_sheet_network_options,
    audit_spec,
    bench_network_spec,
    network_runs,
    refuse_network_options,
    sheet_network,
)
from comparisons.problems import PROBLEMS
from comparisons.run import IMPLEMENTATIONS, compare
from comparisons.spec import DTYPES, INITS, ORDERS, RunSpec
from comparisons.testing import assert_trajectory_matches
from manual.bugs import KNOWN_BUGS
from manual.minibatch_bugs import MINIBATCH_BUGS
from reference import numerics

__all__ = ["main"]

PROG = "python -m comparisons"
COMMANDS = ("check", "report", "bench", "audit", "grade", "formulas", "cache")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # raises instead of exiting
        raise InputError(message)


def _whole_number(minimum: int, below: str) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``; ``below`` says what a smaller one is."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is {below}")
        return value

    return parse


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive finite number")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--problem", choices=[*PROBLEMS, "all"], default=None, help="the document's networks (default: all)"
    )
    parser.add_argument("--dtype", choices=[*DTYPES, "all"], default="all")
    parser.add_argument("--order", choices=[*ORDERS, "all"], default="sequential", help="row order within each epoch")
    parser.add_argument(
        "--init",
        choices=[*INITS, "all"],
        default=None,
        help="initial weights (default: seed, all 0.1 and biases 0, for the document's problems; random for --layers)",
    )
    parser.add_argument("--epochs", type=_whole_number(1, "not a positive whole number"), default=RunSpec.epochs)
    parser.add_argument(
        "--lr", type=_learning_rate, default=None, help="default: 0.001 regression, 0.0001 classification"
    )
    parser.add_argument(
        "--seed",
        type=_whole_number(0, "negative"),
        default=0,
        help="for the shuffle/sample orders and random/keras inits",
    )
    parser.add_argument(
        "--implementation",
        choices=(*IMPLEMENTATIONS, *KNOWN_BUGS, "minibatch", *MINIBATCH_BUGS),
        default=None,
        metavar="{formulas,layerwise,minibatch,KNOWN-BUG}",
        help="manual side: the document's per-parameter formulas (default), matrix-form backprop, "
        f"or one of the known bugs, to see a mismatch: {', '.join(KNOWN_BUGS)}; for --layers: "
        f"minibatch (default) or one of {', '.join(MINIBATCH_BUGS)}",
    )
    parser.add_argument("--data", metavar="CSV", help="train on this CSV (needs a single --problem, or --layers)")
    add_network_options(parser, _whole_number(1, "not a positive whole number"))
    _add_keras_options(parser)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def _add_keras_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="recompute the Keras side; read and write no cache (results are the same)",
    )
    parser.add_argument(
        "--device",
        choices=numerics.DEVICES,
        default="cpu",
        help="where Keras's side runs (default: cpu, even where a GPU is visible; gpu: TF32 off, "
        "op determinism on, and the tolerances were measured on the CPU)",
    )


def build_parser(command: str = "check") -> argparse.ArgumentParser:
    descriptions = {
        "check": "Train the document's network by hand-written backprop and by Keras from identical "
        "weights and rows, and compare them after every epoch. Commands: check (the default), report, bench.",
        "report": "Run the comparisons and write a CSV per run, summary.md and a self-contained report.html.",
        "bench": "Time the plain Keras path (one fit per epoch) against the fast one on the same work, "
        "and a first audit against a cached repeat.",
        "audit": "Check your own step(params, x, y, lr) -> (new_params, loss) against Keras after every step, "
        "under every init, and say which parameter's update is wrong and how.",
        "grade": "Audit a class's submissions (files, or folders of them) in one run, each in a process of its "
        "own, into a gradebook.",
        "formulas audit": "Check a sheet of LaTeX gradient formulas, in the document's notation, against autodiff "
        "(tf.GradientTape and central finite differences) at many random points.",
        "formulas derive": "Print the correct formula sheet for a network, derived symbolically.",
        "cache": "Show where the cache of Keras results lives and how big it is (info), or empty it (clear).",
    }
    prog = PROG if command == "check" else f"{PROG} {command}"
    parser = _Parser(prog=prog, description=descriptions[command])
    if command == "bench":
        parser.add_argument("--epochs", type=_whole_number(1, "not a positive whole number"), default=1000)
        parser.add_argument(
            "--part",
            choices=["keras", "audit", "grade", "network", "all"],
            default="all",
            help="keras: the plain and fast Keras paths; audit: a first and a cached repeat audit; "
            "grade: a class audited one by one against graded together; network: the Keras paths and "
            "the manual trainer on 4-16-16-3 tanh/relu/softmax, Adam, batch 8, 256 rows, 100 epochs "
            "(default: all four)",
        )
        parser.add_argument(
            "--submissions",
            type=_whole_number(1, "not a positive whole number"),
            default=40,
            help="the grade part's class size (default 40)",
        )
        parser.add_argument(
            "--baseline",
            choices=["cached", "uncached"],
            default="cached",
            help="the grade part's one-by-one audits: sharing the cache (default), or each without it",
        )
        parser.add_argument(
            "--audit-file",
            metavar="PATH.py",
            default=os.path.relpath(Path(__file__).resolve().parent.parent / "examples" / "notebook_regression.py"),
            help="the regression step file the audit part times (default: examples/notebook_regression.py)",
        )
        add_bench_network_options(parser, _whole_number(1, "not a positive whole number"), _learning_rate)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--quiet", action="store_true", help="no progress on the terminal")
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
        return parser
    if command.startswith("formulas "):
        if command == "formulas audit":
            parser.add_argument(
                "file",
                metavar="FILE",
                help="text, Markdown or a notebook's markdown cells; lines without a derivative are ignored",
            )
            parser.add_argument("--json", action="store_true", help="print one JSON object")
            _add_keras_options(parser)
            parser.add_argument(
                "--network",
                choices=[*PROBLEMS, "auto"],
                help="the document's network; auto: each block of consecutive formulas against the "
                "network that fits it best (or --layers for your own)",
            )
        else:
            parser.add_argument("--network", choices=list(PROBLEMS), help="the document's network (or --layers)")
        add_sheet_network_options(parser)
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
        return parser
    if command in ("audit", "grade"):
        if command == "audit":
            parser.add_argument(
                "target",
                metavar="PATH[:FUNC]",
                help="your .py file or notebook (.ipynb), and the step function in it (default: step)",
            )
        else:
            parser.add_argument("paths", metavar="PATH", nargs="+", help="submissions (.py, .ipynb) or folders of them")
            parser.add_argument("--func", default="step", help="the step contract's function (default: step)")
            parser.add_argument(
                "--jobs",
                type=_whole_number(1, "not a positive whole number"),
                default=os.cpu_count() or 1,
                help="submissions run at once (default: the number of cores)",
            )
            parser.add_argument("--out", metavar="DIR", help="write grades.csv and grades.html there")
            parser.add_argument("--quiet", action="store_true", help="no progress bar on the terminal")
        parser.add_argument(
            "--contract",
            choices=["step", "tutorial"],
            default="step",
            help="step: FUNC(params, x, y, lr) -> (params, loss); tutorial: the notebooks' "
            "forward(X, parameters) -> (y_hat, A1) and update(parameters, y, y_hat, A1, X[, lr])",
        )
        parser.add_argument("--forward", default="L_layer_forward", help="the tutorial contract's forward function")
        parser.add_argument("--update", default="update_parameters", help="the tutorial contract's update function")
        parser.add_argument(
            "--layout",
            choices=["keras", "columns"],
            default="keras",
            help="the step contract's layout: keras (b (n,), x (n,)) or columns (b (n, 1), x (n, 1))",
        )
        parser.add_argument("--problem", choices=list(PROBLEMS), help="the document's network (or --layers)")
        add_audit_network_options(parser, _whole_number(1, "not a positive whole number"))
        parser.add_argument("--dtype", choices=DTYPES, default="float64")
        parser.add_argument("--order", choices=ORDERS, default="sequential", help="row order within each epoch")
        parser.add_argument(
            "--init", choices=[*INITS, "all"], default="all", help="initial weights (default: every init)"
        )
        parser.add_argument("--epochs", type=_whole_number(1, "not a positive whole number"), default=50)
        parser.add_argument(
            "--lr",
            type=_learning_rate,
            default=None,
            help="default: 0.001 regression, 0.0001 classification, 0.01 (Keras's SGD) for --layers",
        )
        parser.add_argument("--seed", type=_whole_number(0, "negative"), default=0)
        parser.add_argument(
            "--timeout", type=_learning_rate, default=60.0, help="seconds your code may take in all (default 60)"
        )
        parser.add_argument(
            "--memory",
            type=_whole_number(64, "below 64 MiB, too little to start Python and numpy"),
            default=2048,
            metavar="MIB",
            help="memory your code may use, in MiB (default 2048)",
        )
        parser.add_argument(
            "--sandbox",
            action=argparse.BooleanOptionalAction,
            default=command == "grade",
            help="run the code in bubblewrap: read-only files, no network, its own processes "
            f"(default: {'yes' if command == 'grade' else 'no'}; --no-sandbox: the process limits only)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        _add_keras_options(parser)
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
        return parser
    if command == "cache":
        parser.add_argument("action", choices=["info", "clear"])
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
        return parser
    _add_run_options(parser)
    if command == "report":
        parser.add_argument(
            "--out", metavar="DIR", required=True, help="the report folder (replaced if it holds a report)"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress on the terminal")
    return parser


def _progress(quiet: bool) -> Callable[[str], None]:
    """Progress on stderr, rewritten in place; silent when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return lambda message: None

    def show(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()

    return show


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


def _compare_all(args: argparse.Namespace, progress: Callable[[str], None]) -> list[Comparison]:
    from comparisons.datasets import read_csv

    if args.layers is not None:
        return _compare_networks(args, progress)
    if args.implementation is None:
        args.implementation = "formulas"
    if args.implementation == "minibatch" or args.implementation in set(MINIBATCH_BUGS) - set(KNOWN_BUGS):
        raise InputError(f"--implementation {args.implementation} is for a network of your own (--layers)")
    refuse_network_options(args)
    if args.init is None:
        args.init = "seed"
    problems = list(PROBLEMS) if args.problem in (None, "all") else [args.problem]
    data = None
    if args.data is not None:
        if len(problems) != 1:
            raise InputError("--data needs a single --problem (regression or classification)")
        data = read_csv(args.data, PROBLEMS[problems[0]])
    specs = [
        RunSpec(problem=p, dtype=d, epochs=args.epochs, order=o, init=i, seed=args.seed, lr=args.lr)
        for p in problems
        for d in (DTYPES if args.dtype == "all" else [args.dtype])
        for o in (ORDERS if args.order == "all" else [args.order])
        for i in (INITS if args.init == "all" else [args.init])
    ]
    results = []
    for n, spec in enumerate(specs, start=1):
        progress(f"run {n}/{len(specs)}: {spec.label}")
        results.append(compare(spec, args.implementation, data))
    progress("")
    return results


def _compare_networks(args: argparse.Namespace, progress: Callable[[str], None]) -> list[Comparison]:
    from comparisons.network import compare_network

    if args.implementation is None:
        args.implementation = "minibatch"
    if args.implementation in IMPLEMENTATIONS or args.implementation in set(KNOWN_BUGS) - set(MINIBATCH_BUGS):
        raise InputError(
            f"--implementation {args.implementation} is the document's network's; --layers takes minibatch"
        )
    specs, data = network_runs(args)
    results = []
    for n, spec in enumerate(specs, start=1):
        progress(f"run {n}/{len(specs)}: {spec.label}")
        results.append(compare_network(spec, args.implementation, data))
    progress("")
    return results


def _print_results(args: argparse.Namespace, results: list[Comparison]) -> int:
    floor = f"ULPs counted with a floor of {results[0].tolerance.floor:g}"
    if args.layers is not None:
        spec = results[0].spec
        rows = f"{args.data}" if args.data else f"{getattr(spec, 'rows', 0)} rows of synthetic data"
        network = getattr(spec, "network", "")
        print(f"manual ({args.implementation}) vs Keras: {network}, {rows}, seed {args.seed}; {floor}")
    else:
        problems = list(dict.fromkeys(r.spec.problem for r in results))
        rates = ", ".join(f"{PROBLEMS[p].learning_rate if args.lr is None else args.lr:g} ({p})" for p in problems)
        print(f"manual ({args.implementation}) vs Keras, seed {args.seed}, learning rate {rates}; {floor}")
    print(_table(results))
    for r in results:
        if not r.matches:
            print()
            print(_first_mismatch(r))
    matched = sum(r.matches for r in results)
    print(f"{matched} of {len(results)} runs match Keras after every epoch")
    return 0 if matched == len(results) else 1


def _check(args: argparse.Namespace) -> int:
    return _print_results(args, _compare_all(args, _progress(quiet=False)))


def _report(args: argparse.Namespace) -> int:
    from comparisons.report import write_report

    progress = _progress(args.quiet)
    out = Path(args.out)
    results = _compare_all(args, progress)
    write_report(results, out, seed=args.seed, implementation=args.implementation, progress=progress)
    progress("")
    status = _print_results(args, results)
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
        _progress(args.quiet),
        args.part,
        Path(args.audit_file),
        args.submissions,
        args.baseline,
        network=network,
    )
    _progress(args.quiet)("")
    if args.json:
        print(json.dumps(result))
    if args.part in ("keras", "all") and not args.json:
        print(f"{result['epochs']} epochs of both problems (float64), per-epoch weights and losses:")
        print(f"  Keras plain path, one fit per epoch: {result['plain_s']:.2f} s")
        print(f"  Keras fast path, one compiled loop:  {result['fast_s']:.2f} s ({result['speedup']}x faster)")
        print(f"  manual numpy side:                   {result['manual_s']:.2f} s")
        print(f"  trajectories {'identical' if result['identical'] else 'DIFFERENT'} (plain vs fast, bit for bit)")
    if args.part in ("audit", "all") and not args.json:
        print(f"python -m comparisons audit {result['audit_file']} --problem regression, each in a fresh process:")
        print(f"  first, empty cache: {result['audit_first_s']:.2f} s")
        print(f"  repeat, cached:     {result['audit_repeat_s']:.2f} s ({result['audit_ratio']:g} of the first)")
        print(f"  outputs {'identical' if result['audit_identical'] else 'DIFFERENT'}")
    if args.part in ("grade", "all") and not args.json:
        print(f"A class of {result['submissions']} regression submissions (examples/class_regression, repeated):")
        sharing = "sharing the cache" if result["baseline"] == "cached" else "each without the cache"
        print(f"  audited one by one, a fresh process each ({sharing}): {result['separate_s']:.2f} s")
        where = "in the sandbox" if result["grade_sandbox"] else "no sandbox"
        print(
            f"  graded together, one process ({where}): {result['grade_s']:.2f} s ({result['grade_ratio']:g} of that)"
        )
    if args.part in ("network", "all") and not args.json:
        print(f"{result['network']}:")
        print(f"  Keras plain path, one fit per epoch: {result['network_plain_s']:.2f} s")
        faster = f"({result['network_speedup']}x faster)"
        print(f"  Keras fast path, one compiled loop:  {result['network_fast_s']:.2f} s {faster}")
        print(f"  manual numpy trainer:                {result['network_manual_s']:.2f} s")
        print(
            f"  trajectories {'identical' if result['network_identical'] else 'DIFFERENT'} (plain vs fast, bit for bit)"
        )
    identical = ("identical", "audit_identical", "network_identical")
    return 0 if all(result.get(key, True) for key in identical) else 1


def _audit(args: argparse.Namespace) -> int:
    from comparisons.audit.auditor import audit
    from comparisons.audit.render import as_json, as_text

    path, _, func = args.target.rpartition(":") if ":" in args.target else (args.target, "", "step")
    if not func.isidentifier():
        raise InputError(f"{args.target}: {func!r} is not a function name")
    if args.contract == "tutorial" and ":" in args.target:
        raise InputError(f"{args.target}: the tutorial contract names its functions with --forward and --update")
    contract = _contract(args, func)
    base = audit_spec(args)
    inits = list(INITS) if args.init == "all" else [args.init]
    _check_sandbox(args, "audit")
    result = audit(Path(path), contract, base, inits, args.timeout, args.memory, sandboxed=args.sandbox)
    print(json.dumps(as_json(result)) if args.json else as_text(result))
    return 0 if result.verdict == "match" else 1


def _check_sandbox(args: argparse.Namespace, command: str) -> None:
    """Before any work: the sandbox asked for can run here, or one line on why and what to do."""
    if not args.sandbox:
        return
    from comparisons.audit import sandbox

    problem = sandbox.problem()
    if problem is not None:
        raise InputError(f"{problem}; or pass --no-sandbox to run {command}'s code under the process limits only")


def _contract(args: argparse.Namespace, func: str) -> Contract:
    if not func.isidentifier():
        raise InputError(f"{func!r} is not a function name")
    if args.contract == "tutorial" and args.layout != "keras":
        raise InputError("--layout is the step contract's; the tutorial contract is in columns already")
    for option in ("forward", "update"):
        if not getattr(args, option).isidentifier():
            raise InputError(f"--{option} {getattr(args, option)!r} is not a function name")
    return Contract(args.contract, func, args.forward, args.update, args.layout)


def _grade(args: argparse.Namespace) -> int:
    from comparisons.audit.grade import check_gradebook_folder, grade, json_lines, submissions, write_gradebook

    contract = _contract(args, args.func)
    paths = submissions([Path(p) for p in args.paths])
    if args.out is not None:
        check_gradebook_folder(Path(args.out))
    base = audit_spec(args)
    inits = list(INITS) if args.init == "all" else [args.init]
    _check_sandbox(args, "grade")
    progress = _progress(args.quiet or args.json)
    grades, interrupted = grade(
        paths,
        contract,
        base,
        inits,
        timeout=args.timeout,
        memory=args.memory,
        jobs=args.jobs,
        progress=progress,
        sandboxed=args.sandbox,
    )
    progress("")
    settings = (
        f"{base.problem}, {base.dtype}, {base.epochs} epochs, {base.order} rows, inits {', '.join(inits)}, "
        f"seed {base.seed}, {contract.kind} contract ({contract.label}), "
        f"{'in the bubblewrap sandbox' if args.sandbox else 'no sandbox (process limits only)'}, "
        f"Keras's side with {numerics.describe(numerics.key())}"
    )
    if args.out is not None:
        write_gradebook(Path(args.out), grades, settings, interrupted)
    if args.json:
        for line in json_lines(grades):
            print(line)
    else:
        width = max(len(g.path) for g in grades) if grades else 0
        for g in grades:
            detail = g.error if g.audit is None else ", ".join(dict.fromkeys(f.kind for f in g.audit.findings))
            print(f"{g.path:<{width}}  {g.verdict:<8}  {detail}".rstrip())
        counts = {v: sum(g.verdict == v for g in grades) for v in ("match", "diverged", "error")}
        print(
            f"{len(grades)} of {len(paths)} submissions graded ({settings}): "
            + ", ".join(f"{n} {v}" for v, n in counts.items())
        )
        if args.out is not None:
            print(f"Gradebook written to {args.out}/: grades.csv and grades.html")
    if interrupted:
        print(f"{PROG}: interrupted; the gradebook holds the {len(grades)} submissions that finished", file=sys.stderr)
        return 130
    return 0


def _formulas_audit(args: argparse.Namespace) -> int:
    from comparisons.formulas.audit import audit_page, audit_sheet
    from comparisons.formulas.sheet import PageAudit, SheetAudit, read_sheet

    network = sheet_network(args)
    sheet = read_sheet(Path(args.file))
    result: PageAudit | SheetAudit = audit_page(sheet) if network == "auto" else audit_sheet(sheet, network)
    print(json.dumps(result.as_json() | {"numerics": numerics.key()}) if args.json else result.as_text())
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

    if args.action == "clear":
        removed = cache.clear()
        result = {"directory": str(cache.directory()), "removed": removed}
        print(json.dumps(result) if args.json else f"Removed {removed} entries from {cache.directory()}")
        return 0
    info = cache.info()
    if args.json:
        print(json.dumps(info))
    else:
        print(f"{info['directory']}: {info['entries']} entries, {info['bytes'] / 1024:.1f} KiB")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    command = args_in.pop(0) if args_in and args_in[0] in COMMANDS else "check"
    debug = "--debug" in args_in
    handlers = {
        "check": _check,
        "report": _report,
        "bench": _bench,
        "audit": _audit,
        "grade": _grade,
        "formulas audit": _formulas_audit,
        "formulas derive": _formulas_derive,
        "cache": _cache,
    }
    try:
        if command == "formulas":
            action = args_in.pop(0) if args_in else ""
            if action not in ("audit", "derive"):
                raise InputError(f"formulas needs an action, audit or derive, not {action!r}")
            command = f"formulas {action}"
        args = build_parser(command).parse_args(args_in)
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
