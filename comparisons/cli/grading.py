"""The audit's and the grader's commands: ``audit`` (a step, a tutorial's functions, a learner's
optimizer) and ``grade`` (a class), and what they share with the autograder: the contract, the
spec and the optimizer the options describe."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from comparisons.audit.model import Contract
from comparisons.cli.parser import PROG
from comparisons.cli.specs import audit_spec
from comparisons.errors import InputError
from comparisons.spec import INITS
from reference import numerics

if TYPE_CHECKING:  # built where an optimizer is audited, with the audit's modules
    from comparisons.audit.keras_steps import AuditSpec
    from comparisons.audit.optimizer_audit import OptimizerJob
    from comparisons.audit.rubric import Rubric

__all__ = ["audit_command", "grade_command", "graded_with", "progress_of"]

# the options that describe a learner's optimizer: the dlai and class contracts' only
OPTIMIZER_FLAGS = frozenset({"optimizer", "momentum", "class", "beta1", "beta2", "epsilon", "rho"})


def progress_of(quiet: bool) -> Callable[[str], None]:
    """Progress on stderr, rewritten in place; silent when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return lambda message: None

    def show(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()

    return show


def audit_command(args: argparse.Namespace) -> int:
    from comparisons.audit.auditor import audit
    from comparisons.audit.render.json import audit_json
    from comparisons.audit.render.text import audit_text

    if args.contract in ("dlai", "class"):
        return _audit_optimizer(args)
    _refuse_optimizer_flags(args)
    path, _, func = args.target.rpartition(":") if ":" in args.target else (args.target, "", "step")
    if not func.isidentifier():
        raise InputError(f"{args.target}: {func!r} is not a function name")
    if args.contract == "tutorial" and ":" in args.target:
        raise InputError(f"{args.target}: the tutorial contract names its functions with --forward and --update")
    contract = _contract(args, func)
    base = audit_spec(args)
    inits = list(INITS) if args.init == "all" else [args.init]
    _check_sandbox(args, "audit")
    result = audit(
        Path(path), contract, base, inits, args.timeout, args.memory, sandboxed=args.sandbox, cells=args.cells
    )
    print(json.dumps(audit_json(result)) if args.json else audit_text(result))
    return 0 if result.verdict == "match" else 1


def _refuse_optimizer_flags(args: argparse.Namespace) -> None:
    """The step and tutorial contracts' update is plain SGD: an optimizer's options are a mistake there."""
    optimizer_only = sorted(OPTIMIZER_FLAGS & args.given)
    if optimizer_only:
        flag = "--" + optimizer_only[0]
        raise InputError(f"{flag} describes a learner's optimizer: give --contract dlai or --contract class")


def _optimizer_job(args: argparse.Namespace) -> OptimizerJob:
    """A learner's optimizer (--contract dlai or class): the optimizer, its network, the given hyperparameters."""
    from comparisons.audit.optimizer_audit import OptimizerJob, optimizer_spec
    from comparisons.audit.optimizer_code import RELEVANT

    for option in ("problem", "layers"):
        if getattr(args, option) is not None:
            raise InputError(
                f"--{option}: an optimizer is audited on a network built for it (every hyperparameter matters there)"
            )
    kind = "momentum" if args.optimizer == "sgd" and args.momentum > 0 else args.optimizer
    given = {"learning_rate": args.lr}
    given |= {"momentum": args.momentum} if kind == "momentum" and "momentum" in args.given else {}
    flags = {"beta_1": "beta1", "beta_2": "beta2", "epsilon": "epsilon", "rho": "rho"}
    for name, flag in flags.items():
        if getattr(args, flag) is not None and name not in RELEVANT[kind]:
            has = ", ".join(n for n in RELEVANT[kind] if n != "learning_rate") or "only a learning rate"
            raise InputError(f"--{flag}: {kind} has no {name} ({kind}: {has})")
    given |= {name: getattr(args, flag) for name, flag in flags.items() if getattr(args, flag) is not None}
    spec = optimizer_spec(kind, args.lr, args.dtype, args.epochs, args.seed)
    return OptimizerJob(args.contract, kind, spec, given, getattr(args, "class"))


def _audit_optimizer(args: argparse.Namespace) -> int:
    """A learner's optimizer (--contract dlai or class), judged against its method's conventions."""
    from comparisons.audit.optimizer_audit import audit_optimizer
    from comparisons.audit.render.json import optimizer_json
    from comparisons.audit.render.text import optimizer_text

    if ":" in args.target:
        raise InputError(
            f"{args.target}: the {args.contract} contract finds its functions by name (--class chooses a class)"
        )
    job = _optimizer_job(args)
    inits = list(INITS) if args.init == "all" else [args.init]
    _check_sandbox(args, "audit")
    result = audit_optimizer(
        Path(args.target),
        job.contract,
        job.kind,
        job.spec,
        inits,
        job.given,
        job.class_name,
        args.timeout,
        args.memory,
        sandboxed=args.sandbox,
        cells=args.cells,
    )
    print(json.dumps(optimizer_json(result)) if args.json else optimizer_text(result))
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
    for option in ("forward", "update"):
        if not getattr(args, option).isidentifier():
            raise InputError(f"--{option} {getattr(args, option)!r} is not a function name")
    return Contract(args.contract, func, args.forward, args.update, args.layout)


def graded_with(args: argparse.Namespace) -> tuple[Contract, AuditSpec, list[str], OptimizerJob | None, Rubric]:
    """What a submission is graded with: the contract, the spec, the inits, the learner's optimizer
    (the dlai and class contracts), and the rubric, checked against the network's tensors."""
    from comparisons.audit.grade import tensors_of
    from comparisons.audit.rubric import DEFAULT_RUBRIC, read_rubric

    optimizer = _optimizer_job(args) if args.contract in ("dlai", "class") else None
    if optimizer is None:
        _refuse_optimizer_flags(args)
    contract = _contract(args, args.func) if optimizer is None else Contract()
    base = audit_spec(args) if optimizer is None else optimizer.spec
    inits = list(INITS) if args.init == "all" else [args.init]
    rubric = read_rubric(Path(args.rubric)) if args.rubric is not None else DEFAULT_RUBRIC
    try:
        rubric.points(tensors_of(base, optimizer))
    except InputError as error:
        raise InputError(f"{args.rubric}: {str(error).removeprefix('rubric: ')}") from None
    return contract, base, inits, optimizer, rubric


def grade_command(args: argparse.Namespace) -> int:
    from comparisons.audit.grade import check_gradebook_folder, grade, submissions, write_gradebook
    from comparisons.audit.render.json import grade_json
    from comparisons.audit.render.text import grades_text

    contract, base, inits, optimizer, rubric = graded_with(args)
    paths = submissions([Path(p) for p in args.paths])
    if args.out is not None:
        check_gradebook_folder(Path(args.out))
    _check_sandbox(args, "grade")
    if args.format == "otter" and args.out is None:
        raise InputError("--format otter writes final_grades.csv into the gradebook: give --out DIR")
    progress = progress_of(args.quiet or args.json)
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
        optimizer=optimizer,
        rubric=rubric,
    )
    progress("")
    what = (
        f"{base.problem}, {base.dtype}, {base.epochs} epochs, {base.order} rows"
        if optimizer is None
        else f"a learner's {optimizer.kind} ({optimizer.contract} contract), {base.dtype}, {base.epochs} epochs"
    )
    called = f"{contract.kind} contract ({contract.label}), " if optimizer is None else ""
    settings = (
        f"{what}, inits {', '.join(inits)}, "
        f"seed {base.seed}, {called}"
        f"{'in the bubblewrap sandbox' if args.sandbox else 'no sandbox (process limits only)'}, "
        f"Keras's side with {numerics.describe(numerics.key())}"
    )
    if args.out is not None:
        write_gradebook(Path(args.out), grades, settings, interrupted, otter=args.format == "otter")
    if args.json:
        for g in grades:
            print(json.dumps(grade_json(g)))
    else:
        print(grades_text(grades, len(paths), settings))
        if args.out is not None:
            also = ", grades.html and final_grades.csv" if args.format == "otter" else " and grades.html"
            print(f"Gradebook written to {args.out}/: grades.csv{also}")
    if interrupted:
        print(f"{PROG}: interrupted; the gradebook holds the {len(grades)} submissions that finished", file=sys.stderr)
        return 130
    return 0
