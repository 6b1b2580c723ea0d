"""Measure what oneDNN and the thread count do to Keras's side: ``python -m tests.measure_numerics``.

- oneDNN: the document's problems (every dtype and init, 100 epochs), Keras's side
  computed in a process with ``TF_ENABLE_ONEDNN_OPTS`` 0 and then 1, each against
  the manual side: the worst ULPs (weights, loss) and the verdict per run;
- threads: the same runs and 4-16-16-3 networks (SGD and Adam, batch 8 to
  4096), with one intra-op thread and with TensorFlow's default (all cores):
  whether every trajectory is bit-identical (and 64-256-256-10, SGD, batch 256);
- the child process: what it costs a notebook that imported TensorFlow first,
  with oneDNN off and on there.

Each side runs in a fresh process that calls reference/jobs.py directly, not
through reference/runner.py (which would move oneDNN-on work to a child with it
off). reference/numerics.py and the README state the results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = [
    *(
        ((4, 16, 16, 3), optimizer, batch, rows)
        for optimizer in ("sgd", "adam")
        for batch, rows in ((8, 256), (4096, 4096))
    ),
    ((64, 256, 256, 10), "sgd", 256, 1024),
]


def _runs(specs: list[Any]) -> dict[str, Any]:
    from comparisons.data import spec_arrays
    from comparisons.run import initial_params, keras_job
    from comparisons.spec import row_order
    from manual import to_keras_weights

    runs = {}
    for spec in specs:
        params = initial_params(spec)
        X, Y = spec_arrays(spec)
        job = keras_job(spec) | {"X": X, "Y": Y, "order": row_order(spec, len(X)), "batch_size": spec.batch_size}
        runs[spec.label] = (
            spec,
            params,
            "trajectory",
            job | {"weights": to_keras_weights(spec.arch, params), "path": "fast"},
        )
    return runs


def _document_runs() -> dict[str, Any]:
    from comparisons.spec import Spec

    return _runs(
        [
            Spec.document(problem=problem, dtype=dtype, init=init, epochs=100)
            for problem in ("regression", "classification")
            for dtype in ("float32", "float64")
            for init in ("seed", "random", "keras")
        ]
    )


def _network_runs() -> dict[str, Any]:
    from comparisons.spec import Spec
    from manual.batch.optimizers import OptimizerConfig

    return _runs(
        [
            Spec(
                layers=layers,
                activations=("tanh", "relu", "softmax"),
                loss="categorical_crossentropy",
                optimizer=OptimizerConfig(optimizer, 0.01),
                batch_size=batch,
                rows=rows,
                epochs=5,
                dtype="float32",
                init="random",
                order="shuffle",
            )
            for layers, optimizer, batch, rows in NETWORKS
        ]
    )


# What the child costs a notebook that imported TensorFlow first: its first comparisons, then a cached one
NOTEBOOK = """
import time, keras
from comparisons import Spec, compare
seconds = []
for problem in ("regression", "classification", "classification"):
    start = time.perf_counter()
    compare(Spec.document(problem=problem, dtype="float32"))
    seconds.append(time.perf_counter() - start)
print("first comparison %.2f s, second %.2f s, cached %.3f s" % tuple(seconds))
"""


def worker(part: str, threads: int, out: Path) -> None:
    """One side, in this process's TensorFlow as its environment configured it."""
    from comparisons import cache
    from reference import jobs

    cache.set_enabled(False)
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
    if part == "onednn":
        from comparisons.comparison import Comparison
        from comparisons.run import keras_records, run_manual, trajectory_frame

        found = {}
        for label, (spec, params, name, job) in _document_runs().items():
            arrays, state = jobs.run(name, job)
            arch = spec.arch
            keras = trajectory_frame(arch, keras_records(arch, arrays), arrays["losses"])
            c = Comparison(spec=spec, manual=run_manual(spec, "formulas", params), keras=keras)
            found[label] = [c.max_ulp_weights, c.max_ulp_loss, c.verdict, state["onednn"]]
        out.write_text(json.dumps(found))
    else:
        trajectories: dict[str, np.ndarray] = {}
        for label, (_, _, name, job) in {**_document_runs(), **_network_runs()}.items():
            arrays, _ = jobs.run(name, job)
            trajectories |= {f"{label}/{k}": v for k, v in arrays.items()}
        np.savez(out, allow_pickle=False, **trajectories)


def _run_worker(part: str, out: Path, threads: int = 0, onednn: str = "0") -> None:
    env = os.environ | {"TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "tests.measure_numerics", "--worker", part, "--threads", str(threads), str(out)]
    subprocess.run(command, check=True, cwd=ROOT, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=["onednn", "threads"])
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("out", nargs="?")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.threads, Path(args.out))
        return
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        for onednn in ("0", "1"):
            path = Path(folder) / f"onednn-{onednn}.json"
            _run_worker("onednn", path, onednn=onednn)
            results[onednn] = json.loads(path.read_text())
        print(f"{'run':<40} oneDNN off: ULP weights, loss, verdict   oneDNN on")
        for label, off in results["0"].items():
            on = results["1"][label]
            print(f"{label:<40} {off[0]:>9g} {off[1]:>4g}  {off[2]:<22} {on[0]:>9g} {on[1]:>4g}  {on[2]}")
        paths = {n: Path(folder) / f"threads-{n}.npz" for n in (1, 0)}
        for n, path in paths.items():
            _run_worker("threads", path, threads=n)
        one, default = np.load(paths[1]), np.load(paths[0])
        runs = sorted({name.rsplit("/", 1)[0] for name in one.files})
        for run in runs:
            same = all(np.array_equal(one[n], default[n]) for n in one.files if n.startswith(run + "/"))
            print(f"threads 1 vs all ({os.cpu_count()} cores): {'identical' if same else 'DIFFERENT'}  {run}")
        for onednn in ("0", "1"):
            env = os.environ | {"TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
            env["XDG_CACHE_HOME"] = str(Path(folder) / f"cache-{onednn}")
            done = subprocess.run(
                [sys.executable, "-c", NOTEBOOK], capture_output=True, text=True, check=True, cwd=ROOT, env=env
            )
            print(f"a notebook, TF_ENABLE_ONEDNN_OPTS={onednn}: {done.stdout.strip()}")


if __name__ == "__main__":
    main()
