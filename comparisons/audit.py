"""Audit a user's own backprop: their ``step(params, x, y, lr)`` against Keras after every step.

The user's code runs in a process of its own (comparisons.audit_worker) under a
time and a memory limit; Keras runs here. Two passes of the user's step:

- free-running from the initial weights, compared with Keras's trajectory after
  every step: where, if anywhere, the two part;
- teacher-forced, every step from Keras's state before it, judged in gradient
  space by comparisons.diagnosis: which parameter's update is wrong, and how.

The known-bug catalogue stays as a second opinion: the smallest set of known
bugs that reproduces the user's whole trajectory under every init.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from comparisons import audit_worker, cache, sandbox
from comparisons.diagnosis import (
    Finding,
    ForcedSteps,
    deviates,
    deviation_score,
    diagnose,
    gradient_distance,
)
from comparisons.errors import InputError
from comparisons.jupyter_html import audit_html
from comparisons.network import NetworkSpec, initial_network_params, network_data, network_job
from comparisons.notebook import NotebookCode, NotebookError, read_notebook
from comparisons.problems import PROBLEMS
from comparisons.run import dataset_arrays, initial_params, keras_records, keras_settings
from comparisons.spec import RunSpec, row_order
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS
from comparisons.ulp import relative_distance
from manual.bugs import buggy_step, bugs_for
from manual.minibatch import batch_rows
from manual.network import (
    Architecture,
    Params,
    from_keras_weights,
    in_document_order,
    parameter_names,
    to_keras_weights,
)
from manual.training import steps
from reference import numerics, runner
from reference.protocol import unnumbered

__all__ = [
    "DEFAULT_MEMORY_MIB",
    "Audit",
    "AuditRun",
    "Contract",
    "Divergence",
    "as_json",
    "as_text",
    "audit",
    "check_source",
    "keras_side",
    "measure",
]

DEFAULT_MEMORY_MIB = 2048


@dataclass(frozen=True)
class Contract:
    """How the user's code is called: their own ``step`` (in Keras's layout or with columns),
    or the tutorial notebooks' forward and update functions."""

    kind: str = "step"  # step | tutorial
    func: str = "step"
    forward: str = "L_layer_forward"
    update: str = "update_parameters"
    layout: str = "keras"  # keras | columns (the step contract's)

    @property
    def label(self) -> str:
        """What the user's code is called in messages: ``step`` or ``L_layer_forward/update_parameters``."""
        return self.func if self.kind == "step" else f"{self.forward}/{self.update}"

    def job(self) -> dict[str, str]:
        return {"contract": self.kind, "func": self.func, "forward": self.forward, "update": self.update} | {
            "layout": self.layout
        }


@dataclass(frozen=True)
class Divergence:
    init: str
    epoch: int  # 1-based
    step: int  # 1-based, within the epoch
    row: int  # 0-based index into the dataset (a batch's first row)
    row_values: dict[str, float]
    parameters: list[dict[str, Any]]  # name, array, index, user, keras, distance
    batch: list[int] = field(default_factory=list)  # a step's rows, where it takes more than one

    @property
    def batch_text(self) -> str:
        """The step's rows, the first eight of them."""
        rows = self.batch
        return ", ".join(map(str, rows[:8])) + (f" ... ({len(rows)} rows)" if len(rows) > 8 else "")


@dataclass(frozen=True)
class AuditRun:
    init: str
    max_distance: float
    divergence: Divergence | None  # the free-running trajectories part
    forced_divergence: Divergence | None = None  # from Keras's state, the first step whose update is not Keras's

    @property
    def verdict(self) -> str:
        return "match" if self.divergence is None and self.forced_divergence is None else "diverged"


@dataclass(frozen=True)
class Audit:
    path: str
    func: str
    problem: str
    dtype: str
    epochs: int
    order: str
    threshold: float
    runs: list[AuditRun]
    findings: list[Finding] = field(default_factory=list)
    bugs: list[str] | None = field(default=None)  # the known bugs that reproduce the trajectory
    notebook: NotebookCode | None = None  # what of a notebook was run
    per_parameter: bool = True  # False: a network of the user's, which the diagnosis does not explain
    # per init, per step: "distance" (the largest over the loss and every parameter), "user_loss", "keras_loss"
    traces: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)

    def __str__(self) -> str:
        return as_text(self)

    def __repr__(self) -> str:
        return f"<Audit {self.verdict}: {self.path}:{self.func}, {self.problem}, {self.dtype}, inits {self.inits}>"

    def to_json(self) -> dict[str, Any]:
        return as_json(self)

    def _repr_html_(self) -> str:
        return audit_html(self)

    @property
    def verdict(self) -> str:
        return "match" if all(r.verdict == "match" for r in self.runs) else "diverged"

    @property
    def first_divergence(self) -> Divergence | None:
        """Where the trajectories part; failing that, the first step whose update is not Keras's."""
        free = next((r.divergence for r in self.runs if r.divergence is not None), None)
        return free or next((r.forced_divergence for r in self.runs if r.forced_divergence is not None), None)

    @property
    def inits(self) -> list[str]:
        return [r.init for r in self.runs]


def check_source(path: Path) -> NotebookCode | None:
    """Refuse, without running it, a file that is missing or is not Python (or a notebook of it).
    For a notebook, what of it the audit will run."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    if path.suffix == ".ipynb":
        try:
            return read_notebook(path)
        except NotebookError as error:
            raise InputError(f"{path}: {error}") from None
    try:
        source = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a Python source file (not UTF-8 text)") from None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        raise InputError(f"{path}: not valid Python: {error.msg} at line {error.lineno}") from None
    except ValueError as error:  # NUL bytes
        raise InputError(f"{path}: not a Python source file ({error})") from None
    return None


def _as_table(params: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """(steps, 1 + P): the loss, then every parameter in document order."""
    return np.column_stack([losses, params])


@dataclass(frozen=True)
class _KerasSide:
    """One init's Keras run, per step: the state before it, after it, the row's loss and the true gradient."""

    before: np.ndarray  # (K, P) document order
    after: np.ndarray  # (K, P)
    losses: np.ndarray  # (K,) each row's loss, from the parameters before its update
    grads: np.ndarray  # (K, P) dL/dparameter at ``before[k]`` on row k, by tf.GradientTape


AuditSpec = RunSpec | NetworkSpec  # the document's networks, or one of the user's trained by plain SGD


def _arch(spec: AuditSpec) -> Architecture:
    return spec.arch if isinstance(spec, NetworkSpec) else spec.definition.arch


@functools.lru_cache(maxsize=64)
def _context(spec: AuditSpec) -> dict[str, Any]:
    """The run's start, rows, order and batch size: computed once per spec, so threads grading a
    class never build Keras-initialized weights at the same time (Keras's seeding is global). Read-only."""
    if isinstance(spec, NetworkSpec):
        X, y = network_data(spec, None)
        params, batch = initial_network_params(spec), spec.batch_size
    else:
        X, y = dataset_arrays(spec, None)
        params, batch = initial_params(spec), 1
    return {
        "params": params,
        "X": X,
        "y": y,
        "order": row_order(spec, len(X)),
        "lr": spec.learning_rate,
        "batch": batch,
    }


@functools.lru_cache(maxsize=64)
def keras_side(spec: AuditSpec) -> _KerasSide:
    """Everything the audit needs from Keras for one run; a function of the spec alone, kept in
    this process (a process auditing many files computes it once) and in the disk cache."""
    context = _context(spec)
    arch = _arch(spec)
    X, y, order = context["X"], context["y"], context["order"]
    weights = to_keras_weights(arch, context["params"])
    if isinstance(spec, NetworkSpec):
        return _network_keras_side(spec, context, weights)

    def compute() -> dict[str, np.ndarray]:
        job = {"sizes": list(arch.sizes), "activations": list(arch.activations), "loss": arch.loss}
        job |= {"dtype": spec.dtype, "lr": spec.learning_rate, "weights": weights, "X": X, "y": y, "order": order}
        return _side_arrays(arch, context["params"], runner.run("steps_and_gradients", **job))

    return _read_only(cache.fetch("keras-audit", keras_settings(spec, X, y, order, weights), compute))


def _side_arrays(arch: Architecture, params: Params, result: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Keras's per-step record in document order: the parameters before and after every step,
    its loss, and the taped gradient at the state before it."""
    done = np.array([in_document_order(arch, p) for p in keras_records(arch, result)])
    start = np.array([in_document_order(arch, params)], dtype=done.dtype)
    taped = unnumbered("g", result)
    grads = [in_document_order(arch, from_keras_weights(arch, [g[k] for g in taped])) for k in range(len(done))]
    return {
        "before": np.concatenate([start, done[:-1]]),
        "after": done,
        "losses": result["losses"],
        "grads": np.array(grads),
    }


def _read_only(arrays: dict[str, np.ndarray]) -> _KerasSide:
    for array in arrays.values():
        array.setflags(write=False)
    return _KerasSide(arrays["before"], arrays["after"], arrays["losses"], arrays["grads"])


def _network_keras_side(spec: NetworkSpec, context: dict[str, Any], weights: list[np.ndarray]) -> _KerasSide:
    """``keras_side`` for a network of the user's: Keras's state after every batch, each batch's
    loss before its update, and the batch loss's true gradient at the state before it."""
    arch = spec.arch
    X, y, order, batch = context["X"], context["y"], context["order"], spec.batch_size

    def compute() -> dict[str, np.ndarray]:
        job = network_job(spec) | {"X": X, "Y": y, "order": order, "batch_size": batch}
        result = runner.run("network_steps_and_gradients", **job, weights=weights, batches=batch_rows(order, batch))
        return _side_arrays(arch, context["params"], result)

    return _read_only(cache.fetch("keras-network-audit", spec.keras_settings(X, y, order, weights), compute))


def _job_context(spec: AuditSpec, side: _KerasSide) -> dict[str, Any]:
    """What the user's process needs for one init: the run, and Keras's state before every step."""
    arch = _arch(spec)
    names = parameter_names(arch)
    states = {
        key: np.stack([side.before[:, j] for j, (k, _, _) in enumerate(names) if k == key], axis=1).reshape(
            (len(side.before), *shape)
        )
        for key, shape in arch.shapes()
    }
    return {**_context(spec), "states": states}


def _user_runs(
    path: Path, func: str, job: dict[str, Any], timeout: float, memory: int | None, sandboxed: bool = False
) -> dict[str, Any]:
    """Run the user's step, free and teacher-forced; ``memory`` None: in this process (tests)."""
    if memory is None:
        outcome = audit_worker.run(job, module_name=f"user_step_{next(_modules)}")
    else:
        outcome = _isolated(path, func, job, timeout, memory, sandboxed)
    if "error" in outcome:
        message = str(outcome["error"])
        # the child names the file as it was given it, or where the sandbox shows it
        for prefix in (f"{path}: ", f"{path.resolve()}: ", f"{sandbox.SUBMISSION}/{path.name}: "):
            message = message.removeprefix(prefix)
        raise InputError(f"{path}: {message}")
    return outcome


_modules = itertools.count()


# What the child's Python and numpy need, and nothing of the parent's environment (tokens, keys)
_CHILD_ENV = {
    "PATH": os.defpath,
    "LANG": "C.UTF-8",
    "PYTHONNOUSERSITE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # one thread: no BLAS pool reserving address space under the memory limit
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
_SIGNALS = {
    -signal.SIGXFSZ: f"wrote a file over the limit of {audit_worker.FILE_SIZE_MIB} MiB",
    -signal.SIGXCPU: "used up its CPU time",
    -signal.SIGKILL: "was killed",
}
_LIVE: set[subprocess.Popen[bytes]] = set()  # children running now, so an interrupted grader can stop them all
_LIVE_LOCK = threading.Lock()


def stop_all_children() -> None:
    """Kill every child process group still running (on Ctrl-C in the grader)."""
    with _LIVE_LOCK:
        for child in _LIVE:
            _kill_group(child)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """The child and whatever it forked into its session: nothing outlives its audit."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)


def _open_own(path: Path) -> int:
    """A file of the child's folder, opened without following a link or blocking on a FIFO the
    child may have left there; OSError if it is not a plain file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path.name} is not a plain file")
    return fd


def _tail(handle: BinaryIO, limit: int = 4096) -> list[str]:
    handle.seek(0, os.SEEK_END)
    handle.seek(max(0, handle.tell() - limit))
    return handle.read().decode(errors="replace").strip().splitlines()


def _isolated(
    path: Path, func: str, job: dict[str, Any], timeout: float, memory: int, sandboxed: bool
) -> dict[str, Any]:
    """The user's code in a child process: an empty working folder, a minimal environment, the
    job on stdin (closed before user code runs), limits on memory, CPU time, file size, open
    files and processes; with ``sandboxed``, inside bubblewrap (comparisons.sandbox); its whole
    process group is killed when it ends; what it sends back is read as plain arrays and
    checked first, never unpickled."""
    with tempfile.TemporaryDirectory(prefix="comparisons-audit-") as folder:
        work = Path(folder)
        result, progress = work / "result.npz", work / "progress"
        (work / "cwd").mkdir()
        for answer in (result, progress):
            answer.write_bytes(b"")
        cpu = str(int(timeout) + 2)  # the CPU limit backs up the wall-clock one
        worker = [sys.executable, "-m", "comparisons.audit_worker"]
        if sandboxed:
            for answer in (result, progress):
                answer.chmod(0o666)  # the child may run as a uid of its own; the folder around them stays ours alone
            names = {"result.npz": result, "progress": progress}
            results = {name: f"{sandbox.RESULTS}/{name}" for name in names}
            job = job | {"path": f"{sandbox.SUBMISSION}/{path.name}"}
            uid = [str(sandbox.child_uid())] if os.geteuid() == 0 else []
            command = [*worker, results["result.npz"], results["progress"], str(memory), cpu, *uid]
            copy = work / "submission"  # readable by any uid, whatever the original's mode
            shutil.copyfile(path, copy)
            copy.chmod(0o644)
            command, cwd = sandbox.wrap(command, copy, path.name, names), work
        else:
            command, cwd = [*worker, str(result), str(progress), str(memory), cpu], work / "cwd"
        env = _CHILD_ENV | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        # stderr: a file of ours, not a pipe (a flood cannot fill our memory), read through our own descriptor
        with tempfile.TemporaryFile() as stderr:
            child = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
            with _LIVE_LOCK:
                _LIVE.add(child)
            try:
                # written by a thread: a child that never reads it cannot block us past the timeout
                threading.Thread(target=_send, args=(child, pickle.dumps(job)), daemon=True).start()
                returncode = child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(child)
                child.wait()
                where = _progress_of(progress)
                raise InputError(
                    f"{path}: {func} did not finish within {timeout:g} s, stopped at init {where}; an endless loop?"
                ) from None
            finally:
                _kill_group(child)
                with _LIVE_LOCK:
                    _LIVE.discard(child)
            lines = _tail(stderr)
        if sandboxed:
            returncode = sandbox.exit_status(returncode)
        if returncode != 0:
            if any("MemoryError" in line for line in lines[-3:]):
                raise InputError(f"{path}: {func} ran out of memory: the limit is {memory} MiB (--memory)")
            if returncode in _SIGNALS:
                raise InputError(f"{path}: running it {_SIGNALS[returncode]} (exit status {returncode})")
            last = audit_worker.one_line((lines or ["no message"])[-1])
            raise InputError(f"{path}: running it ended the process (exit status {returncode}): {last}")
        return _read_result(path, result, job)


def _send(child: subprocess.Popen[bytes], job: bytes) -> None:
    """The job, on the child's stdin; a child that dies first is judged by its exit status."""
    assert child.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        child.stdin.write(job)
    with contextlib.suppress(BrokenPipeError):
        child.stdin.close()


def _progress_of(progress: Path) -> str:
    try:
        fd = _open_own(progress)
    except OSError:
        return "an unknown step"
    with os.fdopen(fd, "rb") as handle:
        return audit_worker.one_line(handle.read(200).decode(errors="replace").strip()) or "while importing it"


def _steps(context: dict[str, Any]) -> int:
    return len(batch_rows(context["order"], context["batch"]))


def _read_result(path: Path, result: Path, job: dict[str, Any]) -> dict[str, Any]:
    """The child's arrays: the archive's members checked (names, stored uncompressed, sizes)
    before anything is read, then shapes and dtypes; anything else is an error."""

    def refuse(why: str) -> InputError:
        return InputError(f"{path}: its process sent back something other than the audit's results ({why})")

    P = sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(job["sizes"]))  # weights and biases
    expected = {
        f"{part}.{init}.{what}": (_steps(context), P) if what == "params" else (_steps(context),)
        for part in ("runs", "forced")
        for init, context in job["runs"].items()
        for what in ("params", "losses")
    }
    dtype = next(iter(job["runs"].values()))["X"].dtype
    try:
        fd = _open_own(result)
    except OSError as error:
        raise refuse(str(error) if "plain file" in str(error) else "no result") from None
    with os.fdopen(fd, "rb") as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                members = {info.filename: info for info in archive.infolist()}
                names = {name.removesuffix(".npy") for name in members}
                if names == {"error"}:
                    limits = {"error": 64 * 1024}
                elif names == set(expected):
                    limits = {name: int(np.prod(shape)) * dtype.itemsize + 1024 for name, shape in expected.items()}
                else:
                    raise refuse(f"arrays {sorted(names)[:4]}")
                for info in members.values():
                    if info.compress_type != zipfile.ZIP_STORED or info.file_size > limits[info.filename[:-4]]:
                        raise refuse(f"{info.filename} compressed or too large")
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except InputError:
            raise
        except Exception as error:  # not an .npz, truncated, or arrays that would need pickle
            raise refuse(type(error).__name__) from None
    if set(arrays) == {"error"}:
        message = arrays["error"]
        if message.dtype.kind != "U" or message.shape != ():
            raise refuse("an error that is not text")
        return {"error": audit_worker.one_line(str(message[()]))[:2000]}
    outcome: dict[str, Any] = {"runs": {}, "forced": {}}
    for name, shape in expected.items():
        part, init, what = name.split(".")
        if arrays[name].shape != shape or arrays[name].dtype != dtype:
            raise refuse(f"{name}: shape {arrays[name].shape}, dtype {arrays[name].dtype}")
        outcome[part].setdefault(init, {})[what] = arrays[name]
    return outcome


def _first_divergence(
    init: str,
    user: np.ndarray,
    keras: np.ndarray,
    distance: np.ndarray,
    over: np.ndarray,
    context: dict[str, Any],
    problem: str,
    arch: Architecture,
) -> Divergence | None:
    """The first step where ``over`` (steps x values) holds anything, with the values it flags."""
    steps_over = np.flatnonzero(over.any(axis=1))
    if not len(steps_over):
        return None
    k = int(steps_over[0])
    batches = batch_rows(context["order"], context["batch"])
    per_epoch = len(batches) // len(context["order"])
    row = int(batches[k][0])  # a batch's first row
    X, y = context["X"], context["y"]
    if problem in PROBLEMS:
        columns = [*PROBLEMS[problem].features, PROBLEMS[problem].target]
    else:
        targets = [f"y{j + 1}" for j in range(y.shape[1])] if y.ndim > 1 else ["y"]
        columns = [*(f"x{i + 1}" for i in range(X.shape[1])), *targets]
    values = [*X[row], *np.atleast_1d(y[row])]
    names = ["loss"] + [name for _, _, name in parameter_names(arch)]
    where = {"loss": (None, None)} | {name: (key, list(i)) for key, i, name in parameter_names(arch)}
    parameters = [
        {
            "name": name,
            "array": where[name][0],
            "index": where[name][1],
            "user": float(user[k, j]),
            "keras": float(keras[k, j]),
            "distance": float(distance[k, j]),
        }
        for j, name in enumerate(names)
        if over[k, j]
    ]
    return Divergence(
        init,
        k // per_epoch + 1,
        k % per_epoch + 1,
        row,
        dict(zip(columns, map(float, values), strict=True)),
        parameters,
        [int(i) for i in batches[k]] if len(batches[k]) > 1 else [],
    )


def _reproduces(
    bugs: tuple[str, ...], spec: RunSpec, context: dict[str, Any], user: np.ndarray, threshold: float
) -> bool:
    step = buggy_step(spec.definition.arch, bugs)
    for k, record in enumerate(
        steps(step, context["params"], context["X"], context["y"], context["order"], spec.learning_rate)
    ):
        values = [record.loss, *in_document_order(spec.definition.arch, record.params)]
        if (relative_distance(values, user[k], AUDIT_FLOOR) > threshold).any():
            return False
    return True


def _known_bugs(
    specs: dict[str, RunSpec], contexts: dict[str, dict[str, Any]], users: dict[str, np.ndarray], threshold: float
) -> list[str] | None:
    """The smallest set of known bugs that reproduces the user's trajectory under every init."""
    names = [bug.name for bug in bugs_for(next(iter(specs.values())).definition.arch)]
    for size in range(1, len(names) + 1):
        for combo in itertools.combinations(names, size):
            if all(_reproduces(combo, specs[init], contexts[init], users[init], threshold) for init in specs):
                return list(combo)
    return None


def _forced_steps(init: str, context: dict[str, Any], side: _KerasSide, forced: dict[str, np.ndarray]) -> ForcedSteps:
    """Step k's X and y: its batch's first row (the whole batch at batch size 1)."""
    batches = batch_rows(context["order"], context["batch"])
    K, per_epoch = len(batches), len(batches) // len(context["order"])
    rows = np.array([rows[0] for rows in batches])
    return ForcedSteps(
        init=init,
        epochs=np.arange(K) // per_epoch + 1,
        steps=np.arange(K) % per_epoch + 1,
        states=side.before,
        X=context["X"][rows],
        y=context["y"][rows],
        true_grads=side.grads,
        keras_loss=side.losses,
        user_new=forced["params"],
        user_loss=forced["losses"],
    )


def measure(path: Path, spec: RunSpec, func: str = "step") -> tuple[np.ndarray, np.ndarray]:
    """Every update of the user's step from Keras's state (steps x parameters): its gradient
    distance and its deviation score, run in this process: for measuring the separation."""
    side = keras_side(spec)
    context = _job_context(spec, side)
    job = _job(path, Contract(func=func), spec, {"one": context})
    outcome = _user_runs(path, func, job, 0.0, None)
    forced = _forced_steps(spec.init, context, side, outcome["forced"]["one"])
    arch, lr = spec.definition.arch, spec.learning_rate
    return gradient_distance(arch, lr, spec.dtype, forced), deviation_score(arch, lr, spec.dtype, forced)


def check_auditable(spec: NetworkSpec, contract: Contract) -> None:
    """A network's audit replays a stateless step: plain SGD, the step contract."""
    opt = spec.optimizer
    if opt.name != "sgd" or opt.momentum:
        raise InputError(
            f"the audit replays each step from Keras's state, which plain SGD alone needs: "
            f"{opt.name}{' with momentum' if opt.momentum else ''} carries state between steps"
        )
    if contract.kind != "step" or contract.layout != "keras":
        raise InputError(
            "a network of your own is audited by the step contract in Keras's layout: step(params, x, y, lr)"
        )


def _job(path: Path, contract: Contract, spec: AuditSpec, contexts: dict[str, Any]) -> dict[str, Any]:
    arch = _arch(spec)
    return {
        "path": str(path.resolve()) if path.exists() else str(path),
        "sizes": list(arch.sizes),
        "loss": arch.loss,
        "runs": contexts,
    } | (contract.job())


def audit(
    path: Path,
    contract: Contract | str,
    base: AuditSpec,
    inits: list[str],
    timeout: float = 60.0,
    memory: int | None = DEFAULT_MEMORY_MIB,
    known_bugs: bool = True,
    functions: dict[str, Callable[..., Any]] | None = None,
    sandboxed: bool = False,
) -> Audit:
    """Audit the user's code in ``path`` (a .py file or a notebook; ``contract`` a Contract, or
    the step function's name) under each init. ``memory``: the child process's limit in MiB;
    None runs the user's code in this process, without limits (for tests of the diagnosis).
    ``known_bugs``: on a divergence, also search the catalogue for a set that reproduces it.
    ``functions``: the user's functions themselves, by the contract's names (the Python API):
    they run in this process, and ``path`` only names them. ``sandboxed``: the child runs in
    bubblewrap (comparisons.sandbox). ``base`` a NetworkSpec: a network of the user's, trained
    by plain SGD (the step has no state to carry), in batches of its batch size; the
    per-parameter diagnosis and the known-bug catalogue are the document's networks' only."""
    contract = Contract(func=contract) if isinstance(contract, str) else contract
    if isinstance(base, NetworkSpec):
        check_auditable(base, contract)
    if sandboxed and functions is not None:
        raise InputError("functions given in this process cannot run in the sandbox: give their file")
    if sandboxed and sandbox.problem() is not None:
        raise InputError(str(sandbox.problem()))
    notebook = check_source(path) if functions is None else None
    specs = {init: base.with_(init=init) for init in inits}
    sides = {init: keras_side(spec) for init, spec in specs.items()}
    contexts = {init: _job_context(spec, sides[init]) for init, spec in specs.items()}
    job = _job(path, contract, base, contexts)
    if functions is not None:
        job["functions"] = functions
        memory = None
    outcome = _user_runs(path, contract.label, job, timeout, memory, sandboxed)
    threshold = AUDIT_THRESHOLDS[base.dtype]
    arch = _arch(base)
    runs, forced, users, traces = [], [], {}, {}
    for init, spec in specs.items():
        side, context = sides[init], contexts[init]
        users[init] = _as_table(outcome["runs"][init]["params"], outcome["runs"][init]["losses"])
        keras = _as_table(side.after, side.losses)
        distance = relative_distance(users[init], keras, AUDIT_FLOOR)
        over = distance > threshold
        divergence = _first_divergence(init, users[init], keras, distance, over, context, base.problem, arch)
        steps_ = _forced_steps(init, context, side, outcome["forced"][init])
        forced.append(steps_)
        user_forced = _as_table(steps_.user_new, steps_.user_loss)
        forced_divergence = _first_divergence(
            init,
            user_forced,
            keras,
            relative_distance(user_forced, keras, AUDIT_FLOOR),
            deviates(arch, spec.learning_rate, base.dtype, steps_),
            context,
            base.problem,
            arch,
        )
        runs.append(AuditRun(init, float(distance.max()), divergence, forced_divergence))
        traces[init] = {"distance": distance.max(axis=1), "user_loss": users[init][:, 0], "keras_loss": keras[:, 0]}
    result = Audit(
        str(path),
        contract.label,
        base.network if isinstance(base, NetworkSpec) else base.problem,
        base.dtype,
        base.epochs,
        base.order,
        threshold,
        runs,
        notebook=notebook,
        traces=traces,
        per_parameter=isinstance(base, RunSpec),
    )
    diverged = any(r.divergence is not None or r.forced_divergence is not None for r in runs)
    if diverged and isinstance(base, RunSpec):
        findings = diagnose(arch, base.learning_rate, base.dtype, forced)
        documents = {init: spec for init, spec in specs.items() if isinstance(spec, RunSpec)}
        bugs = _known_bugs(documents, contexts, users, threshold) if known_bugs else None
        result = replace(result, findings=findings, bugs=bugs)
    return result


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
