"""``python -m comparisons bench``: the plain and the fast Keras paths on the same work, in one process.

The work: both problems, float64, the notebooks' settings (sequential rows, every
weight 0.1), ``epochs`` epochs each, per-epoch weights and losses. Times are wall
seconds after imports, summed over both problems, and include building and
tracing the models (a fresh process pays them once). ``manual_s`` is the
document-formula numpy side on the same work.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from comparisons.problems import PROBLEMS
from comparisons.run import initial_params, manual_step, run_keras, run_manual
from comparisons.spec import RunSpec

__all__ = ["bench"]


def bench(epochs: int, progress: Callable[[str], None]) -> dict[str, object]:
    progress("importing TensorFlow")
    import reference  # noqa: F401  # imported before the clocks start: the targets are "after imports"

    plain_s = fast_s = manual_s = 0.0
    identical = True
    for problem in PROBLEMS:
        spec = RunSpec(problem=problem, dtype="float64", epochs=epochs)
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
        run_manual(spec, manual_step(spec, "formulas"), params)
        manual_s += time.perf_counter() - start
        identical = identical and fast.equals(plain)
    return {
        "epochs": epochs,
        "plain_s": round(plain_s, 3),
        "fast_s": round(fast_s, 3),
        "speedup": round(plain_s / fast_s, 1),
        "identical": identical,
        "manual_s": round(manual_s, 3),
    }
