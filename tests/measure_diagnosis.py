"""Measure how far the diagnosis separates correct steps from the known bugs, in gradient space.

    python -m tests.measure_diagnosis [--seeds N] [--epochs N]

Every update is judged from Keras's state. For each problem and dtype, over
every init and seeds 0..N-1: the largest gradient distance |u - g| / (|g| +
the step's largest gradient) and deviation score (distance over the tolerance
allowed; 1 is the line) that any correct step reaches, and for each known
bug the smallest, over runs, of the largest its steps reach (one step over
the line is enough to catch it). Then the same, in float64, for every finding
case of tests/test_diagnosis.py.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from comparisons.audit import measure
from comparisons.spec import INITS, Spec
from comparisons.tolerances import DIAGNOSIS_RTOL
from tests.test_diagnosis import CASES
from tests.user_steps import bugs_for_problem, user_file, user_source


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    examples = Path(__file__).resolve().parent.parent / "examples"
    with tempfile.TemporaryDirectory() as work:
        for problem in ("regression", "classification"):
            correct = [user_file(Path(work), problem, name=f"{problem}-ok.py"), examples / f"correct_{problem}.py"]
            bugs = {
                bug: user_file(Path(work), problem, bug, f"{problem}-{bug}.py")
                for bug in bugs_for_problem(problem)
                if bug != "loss-after-update"  # a finding about the loss, not the gradients
            }
            for dtype in ("float64", "float32"):
                worst = np.zeros(2)
                weakest = {bug: np.full(2, np.inf) for bug in bugs}
                for seed in range(args.seeds):
                    for init in INITS:
                        spec = Spec.document(problem=problem, dtype=dtype, epochs=args.epochs, init=init, seed=seed)
                        for path in correct:
                            worst = np.maximum(worst, [float(m.max()) for m in measure(path, spec)])
                        for bug, path in bugs.items():
                            if bug == "hidden-error-crossed" and init == "seed":
                                continue  # the same function as the correct step on every symmetric state
                            weakest[bug] = np.minimum(weakest[bug], [float(m.max()) for m in measure(path, spec)])
                print(f"{problem} {dtype} (rtol {DIAGNOSIS_RTOL[dtype]:.0e}): distance / score")
                print(f"  correct steps, largest: {worst[0]:.2e} / {worst[1]:.3g}")
                for bug, (distance, score) in weakest.items():
                    print(f"  {bug}, weakest run: {distance:.2e} / {score:.3g}")
        print("float64, the finding cases of tests/test_diagnosis.py: distance / score, weakest run")
        for name, problems, changes, _ in CASES:
            for problem in problems:
                path = Path(work) / "case.py"
                path.write_text(user_source(problem, changes))
                weakest_case = np.full(2, np.inf)
                for seed in range(args.seeds):
                    for init in INITS:
                        spec = Spec.document(problem=problem, epochs=args.epochs, init=init, seed=seed)
                        weakest_case = np.minimum(weakest_case, [float(m.max()) for m in measure(path, spec)])
                print(f"  {problem}, {name}: {weakest_case[0]:.2e} / {weakest_case[1]:.3g}")


if __name__ == "__main__":
    main()
