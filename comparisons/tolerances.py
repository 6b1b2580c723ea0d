"""How far the manual side may be from Keras, in ULPs of the working dtype.

Set from measurement on this project's CI machine (2-core x86-64, TensorFlow
2.21 / Keras 3.15 on CPU, oneDNN off), over 1000 epochs of every order and init,
both implementations (``python -m comparisons --epochs 1000 ...`` reproduces them):

- regression: bit-identical in float32 and float64. Every quantity is a product,
  a sum or a square that numpy and TensorFlow round the same way, so any
  difference at all is a bug.
- classification: Keras differentiates binary cross-entropy through
  ``sigmoid_cross_entropy_with_logits`` and evaluates the sigmoid with Eigen's
  kernels, where the document writes 1/(1 + e^-z) and -y log(y_hat) - ...: the
  per-row loss and gradient differ by 1-2 ULP. Now and then that flips the
  rounding of w - eta g, and the flips add up slowly. Worst measured after 1000
  epochs over seeds 0-3: weights 4 ULP (float32) and 3 ULP (float64), loss 4 ULP
  (float32) and 5 ULP (float64); 20 epochs stay within 2. The bounds below are 8.

The floor is 0.1, the scale of the notebooks' initial weights. A parameter that
passes closer to zero than that (a bias starting at 0, a weight changing sign)
carries the rounding errors of the 0.1-sized terms it is computed from, so its
distance is counted in ULPs of 0.1. Bugs move parameters by 1e-4 or more of that
scale after one step: millions of float64 ULPs, thousands of float32 ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TOLERANCES", "Tolerance", "tolerance_for"]

FLOOR = 0.1


@dataclass(frozen=True)
class Tolerance:
    weights: float  # max ULP distance of any parameter
    loss: float  # max ULP distance of the epoch loss
    floor: float = FLOOR

    def bounds(self, names: list[str]) -> np.ndarray:
        """The allowed distance for each named value: ``loss`` or a parameter."""
        return np.array([self.loss if name == "loss" else self.weights for name in names])


TOLERANCES = {
    "regression": {"float32": Tolerance(weights=0, loss=0), "float64": Tolerance(weights=0, loss=0)},
    "classification": {"float32": Tolerance(weights=8, loss=8), "float64": Tolerance(weights=8, loss=8)},
}


def tolerance_for(problem: str, dtype: str) -> Tolerance:
    return TOLERANCES[problem][dtype]
