"""``python -m comparisons bench``: what the project's speed claims rest on, measured in one run.

- ``keras``: the plain and the fast Keras paths on the same work, in one process:
  both problems, float64, the notebooks' settings (sequential rows, every weight
  0.1), ``epochs`` epochs each, per-epoch weights and losses. Wall seconds after
  imports, summed over both problems, including building and tracing the models
  (a fresh process pays them once); the disk cache is off. ``manual_s`` is the
  document-formula numpy side on the same work.
- ``audit``: the audit of a step file with its default settings, in a fresh
  process with an empty cache, then again with the cache it left: wall seconds
  of each whole command, TensorFlow's import included, and their ratio.
- ``network``: the same three timings for a network of the user's (by default
  4-16-16-3 tanh/relu/softmax, categorical cross-entropy, Adam, batch 8, 256
  synthetic rows, 100 epochs): Keras's plain path (one ``fit`` per epoch), its
  fast path (one compiled loop, building and tracing included) and the manual
  trainer, and whether the two Keras paths agree bit for bit.
- ``grade``: a class of ``submissions`` files (examples/class_regression's,
  repeated under new names), audited one by one, each in a fresh process (as a
  script looping over the files would), against ``grade`` on the folder in one
  process, which grades its default --jobs (every core) at a time: the ratio
  holds both the sharing and the parallelism. Both start from an empty cache,
  which the one-by-one audits then share (``baseline`` cached) or do not use at
  all (uncached: each recomputes Keras, as every audit did before the cache).
- ``diagnosis``: the per-tensor diagnosis of a network of the user's (3-16-16-3
  tanh/tanh/softmax, categorical cross-entropy, plain SGD at 0.01, batch 8, 64
  synthetic rows, 20 epochs, every init), on a step whose layer-2 tanh slope is
  written 1 - O (``DIAGNOSIS_STEP``): the whole audit in this process (the step
  run here, no catalogue search), timed the second time, once Keras's side is
  computed (disk cache off), and ``diagnose_network`` alone on the same
  teacher-forced steps, which must give the audit's findings; and their kinds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from comparisons import cache
from comparisons.audit import sandbox
from comparisons.errors import InputError
from comparisons.problems import PROBLEMS
from comparisons.run import initial_params, run_keras, run_manual
from comparisons.spec import INITS, Spec
from manual.batch.optimizers import OptimizerConfig
from reference import numerics, runner

__all__ = [
    "AUDIT_EXAMPLE",
    "BENCH_DIAGNOSIS",
    "BENCH_NETWORK",
    "CLASS_EXAMPLE",
    "DIAGNOSIS_STEP",
    "bench",
    "bench_audit",
    "bench_diagnosis",
    "bench_grade",
    "bench_keras",
    "bench_network",
]

AUDIT_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "notebook_regression.py"
CLASS_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "class_regression"


def bench_keras(epochs: int, progress: Callable[[str], None]) -> dict[str, object]:
    progress("importing TensorFlow")
    runner.prepare()  # before the clocks start: the targets are "after imports"

    plain_s = fast_s = manual_s = 0.0
    identical = True
    was = cache.enabled()
    cache.set_enabled(False)  # time the work, not the disk
    try:
        for problem in PROBLEMS:
            spec = Spec.document(problem, dtype="float64", epochs=epochs)
            params = initial_params(spec)
            progress(f"{problem}: fast path")
            start = time.perf_counter()
            fast = run_keras(spec, params, path="fast")
            fast_s += time.perf_counter() - start
            progress(f"{problem}: plain path (one fit per epoch)")
            start = time.perf_counter()
            plain = run_keras(spec, params, path="plain")
            plain_s += time.perf_counter() - start
            progress(f"{problem}: manual")
            start = time.perf_counter()
            run_manual(spec, "formulas", params)
            manual_s += time.perf_counter() - start
            identical = identical and fast.equals(plain)
    finally:
        cache.set_enabled(was)
    return {
        "epochs": epochs,
        "plain_s": round(plain_s, 3),
        "fast_s": round(fast_s, 3),
        "speedup": round(plain_s / fast_s, 1),
        "identical": identical,
        "manual_s": round(manual_s, 3),
    }


BENCH_NETWORK = {
    "optimizer": OptimizerConfig("adam", 0.001),
    "layers": (4, 16, 16, 3),
    "activations": ("tanh", "relu", "softmax"),
    "loss": "categorical_crossentropy",
    "batch_size": 8,
    "rows": 256,
    "epochs": 100,
}


def bench_network(spec: Spec, progress: Callable[[str], None]) -> dict[str, object]:
    progress("importing TensorFlow")
    runner.prepare()  # before the clocks start

    was = cache.enabled()
    cache.set_enabled(False)
    try:
        params = initial_params(spec)
        seconds, frames = {}, {}
        for label in ("fast", "plain", "manual"):
            progress(f"network: {label}")
            start = time.perf_counter()
            if label == "manual":
                frames[label] = run_manual(spec, "minibatch", params)
            else:
                frames[label] = run_keras(spec, params, path=label)
            seconds[label] = time.perf_counter() - start
    finally:
        cache.set_enabled(was)
    return {
        "network": f"{spec.network}, {spec.rows} rows, {spec.epochs} epochs, {spec.dtype}",
        "network_plain_s": round(seconds["plain"], 3),
        "network_fast_s": round(seconds["fast"], 3),
        "network_speedup": round(seconds["plain"] / seconds["fast"], 1),
        "network_identical": frames["fast"].equals(frames["plain"]),
        "network_manual_s": round(seconds["manual"], 3),
    }


BENCH_DIAGNOSIS = Spec(
    (3, 16, 16, 3),
    ("tanh", "tanh", "softmax"),
    "categorical_crossentropy",
    OptimizerConfig("sgd", 0.01),
    batch_size=8,
    rows=64,
    epochs=20,
)

# A learner's vectorized step for BENCH_DIAGNOSIS, with one slip: layer 2's tanh slope
DIAGNOSIS_STEP = """\
import numpy as np


def step(params, x, y, lr):
    X = np.atleast_2d(x)
    Y = np.asarray(y, dtype=float).reshape(len(X), -1)
    W1, b1, W2, b2, W3, b3 = (params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    O1 = np.tanh(X @ W1 + b1)
    O2 = np.tanh(O1 @ W2 + b2)
    Z3 = O2 @ W3 + b3
    E = np.exp(Z3 - Z3.max(axis=1, keepdims=True))
    O3 = E / E.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(Y * np.log(O3), axis=1))
    d3 = (O3 - Y) / len(X)
    d2 = (d3 @ W3.T) * (1 - O2)  # the slip: tanh's slope is 1 - O2**2
    d1 = (d2 @ W2.T) * (1 - O1**2)
    new = {"W3": W3 - lr * O2.T @ d3, "b3": b3 - lr * d3.sum(axis=0)}
    new |= {"W2": W2 - lr * O1.T @ d2, "b2": b2 - lr * d2.sum(axis=0)}
    return new | {"W1": W1 - lr * X.T @ d1, "b1": b1 - lr * d1.sum(axis=0)}, loss
"""


def bench_diagnosis(progress: Callable[[str], None], spec: Spec = BENCH_DIAGNOSIS) -> dict[str, object]:
    from comparisons.audit.auditor import audit, teacher_forced  # the audit's modules, only where this part runs
    from comparisons.audit.network_diagnosis import diagnose_network

    inits = list(INITS)
    was = cache.enabled()
    cache.set_enabled(False)  # Keras's side computed here, once, and kept in this process
    try:
        with tempfile.TemporaryDirectory(prefix="comparisons-bench-") as folder:
            path = Path(folder) / "diagnosis_step.py"
            path.write_text(DIAGNOSIS_STEP, encoding="utf-8")
            progress("diagnosis: a first audit, computing Keras's side")
            audit(path, "step", spec, inits, memory=None, known_bugs=False)
            progress("diagnosis: the audit again")
            start = time.perf_counter()
            result = audit(path, "step", spec, inits, memory=None, known_bugs=False)
            audit_s = time.perf_counter() - start
            forced = teacher_forced(path, spec, inits)
        progress("diagnosis: diagnose_network alone")
        start = time.perf_counter()
        findings = diagnose_network(spec.arch, spec.learning_rate, spec.dtype, forced)
        diagnosis_s = time.perf_counter() - start
    finally:
        cache.set_enabled(was)
    if findings != result.findings:  # the pieces below drifted from what audit() does
        raise RuntimeError("diagnose_network on the bench's forced steps differs from the audit's findings")
    return {
        "diagnosis_network": f"{spec.network}, {spec.rows} rows, {spec.epochs} epochs, {spec.dtype}, "
        f"inits {', '.join(inits)}",
        "diagnosis_audit_s": round(audit_s, 3),
        "diagnosis_s": round(diagnosis_s, 3),
        "diagnosis_kinds": [f.kind for f in findings],
    }


def bench_audit(path: Path, problem: str, progress: Callable[[str], None]) -> dict[str, object]:
    if not path.is_file():
        raise InputError(f"{path}: no such step file to audit (give one with --audit-file)")
    command = [sys.executable, "-m", "comparisons", "audit", str(path), "--problem", problem]
    times, outputs = [], []
    with tempfile.TemporaryDirectory(prefix="comparisons-bench-") as folder:
        env = {**os.environ, "XDG_CACHE_HOME": folder}
        for label in ("first audit, empty cache", "repeat audit, cached"):
            progress(label)
            seconds, done = _timed(command, env, verdicts=(0, 1))
            times.append(seconds)
            outputs.append((done.returncode, done.stdout))
    return {
        "audit_file": str(path),
        "audit_first_s": round(times[0], 3),
        "audit_repeat_s": round(times[1], 3),
        "audit_ratio": round(times[1] / times[0], 3),
        "audit_identical": outputs[0] == outputs[1],
    }


def _timed(
    command: list[str], env: dict[str, str], verdicts: tuple[int, ...] = (0, 1, 2)
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall seconds of a command, and what it did; it must end with one of ``verdicts`` (by
    default 0, 1, or 2 for a bad submission), never an internal error."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in verdicts or "internal error" in done.stderr:
        raise InputError(f"{' '.join(command[2:5])} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return seconds, done


def bench_grade(
    submissions: int, progress: Callable[[str], None], folder: Path = CLASS_EXAMPLE, baseline: str = "cached"
) -> dict[str, object]:
    examples = sorted(p for p in folder.iterdir() if p.suffix in (".py", ".ipynb"))
    if not examples:
        raise InputError(f"{folder}: no submissions to repeat into a class")
    with tempfile.TemporaryDirectory(prefix="comparisons-bench-") as work:
        klass = Path(work) / "class"
        klass.mkdir()
        for n in range(submissions):
            source = examples[n % len(examples)]
            (klass / f"student_{n:03d}{source.suffix}").write_bytes(source.read_bytes())
        base = [sys.executable, "-m", "comparisons"]
        audit_cache, grade_cache = Path(work) / "audit-cache", Path(work) / "grade-cache"
        separate = 0.0
        for n, path in enumerate(sorted(klass.iterdir()), start=1):
            progress(f"separate audits: {n}/{submissions}")
            env = {**os.environ, "XDG_CACHE_HOME": str(audit_cache)}
            uncached = ["--no-cache"] if baseline == "uncached" else []
            separate += _timed([*base, "audit", str(path), "--problem", "regression", *uncached], env)[0]
        progress(f"grading the {submissions} together")
        env = {**os.environ, "XDG_CACHE_HOME": str(grade_cache)}
        sandboxed = sandbox.problem() is None  # grade's default where it can run, as instructors get it
        command = [*base, "grade", str(klass), "--problem", "regression", "--quiet"]
        together = _timed(command + ([] if sandboxed else ["--no-sandbox"]), env)[0]
    return {
        "submissions": submissions,
        "baseline": baseline,
        "separate_s": round(separate, 3),
        "grade_s": round(together, 3),
        "grade_jobs": os.cpu_count() or 1,
        "grade_sandbox": sandboxed,
        "grade_ratio": round(together / separate, 3),
    }


def bench(
    epochs: int,
    progress: Callable[[str], None],
    part: str = "all",
    audit_file: Path = AUDIT_EXAMPLE,
    submissions: int = 40,
    baseline: str = "cached",
    network: Spec | None = None,
) -> dict[str, object]:
    result: dict[str, object] = {"numerics": numerics.key()}
    if part in ("keras", "all"):
        result |= bench_keras(epochs, progress)
    if part in ("audit", "all"):
        result |= bench_audit(audit_file, "regression", progress)
    if part in ("grade", "all"):
        result |= bench_grade(submissions, progress, baseline=baseline)
    if part in ("network", "all"):
        result |= bench_network(network or Spec(**BENCH_NETWORK), progress)  # type: ignore[arg-type]
    if part in ("diagnosis", "all"):
        result |= bench_diagnosis(progress, BENCH_DIAGNOSIS)
    return result
