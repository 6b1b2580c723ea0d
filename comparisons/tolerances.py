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

__all__ = [
    "AUDIT_FLOOR",
    "AUDIT_THRESHOLDS",
    "DIAGNOSIS_ATOL_EPS",
    "DIAGNOSIS_RTOL",
    "NETWORK_BASE_ULPS",
    "NETWORK_ULPS_PER_EPOCH",
    "TOLERANCES",
    "Tolerance",
    "network_tolerance",
    "tolerance_for",
]

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


# Any other network (a Spec of one's own, not a preset): Keras's matmuls (Eigen) sum their products in
# another order than numpy's (OpenBLAS) once a sum has more than two terms (a batch of two
# or more rows, a layer wider than two), and its tanh, sigmoid, exp and log kernels differ
# from numpy's by 1-2 ULP; the harness bounds these rather than reproducing Eigen's blocking.
# The differences accumulate epoch by epoch, fastest where momentum multiplies the step.
# Measured (`python -m tests.measure_networks --seeds 3 --epochs 50`, every hidden activation,
# loss, optimizer and batch size varied alone, widths 4 and 8, inits random and keras; and
# 200 epochs of momentum, Nesterov and Adam, 100 of 4-16-16-3 with Adam on 256 rows):
# - 50 epochs: at most 10 ULP for every activation, loss and batch size, and for plain SGD,
#   Adam, RMSprop and Adagrad; 39-68 with momentum 0.9 (Nesterov's the worst, float32).
# - 200 epochs of momentum: 353 (float32), 116 (float64); Adam 10. 4-16-16-3, 100 epochs
#   of Adam: 17 (float32), 126 (float64).
# The worst is below 1.8 ULP per epoch after 50; the bound allows 32 + 4 per epoch, for weights
# and loss (losses stay under 15). Bugs move parameters by 1e12 float64 ULPs or more in the
# first epoch (tests/test_network.py). A learning rate large enough to make training chaotic
# amplifies the 1-ULP differences without bound: there, no tolerance holds.
NETWORK_BASE_ULPS, NETWORK_ULPS_PER_EPOCH = 32, 4


def network_tolerance(epochs: int) -> Tolerance:
    """The same for float32 and float64: ULPs scale with the dtype already."""
    bound = NETWORK_BASE_ULPS + NETWORK_ULPS_PER_EPOCH * epochs
    return Tolerance(weights=bound, loss=bound)


# A user's own step is held to a relative distance, |user - keras| / max(|keras|, 0.1),
# after every step: their code may order its floating-point operations differently
# from Keras (``lr * 2 * (y - y_hat) * O`` against Keras's ``lr * (O * (-2 (y - y_hat)))``),
# which no ULP bound can anticipate. Measured here (examples/, tests/test_audit.py):
# - float64: correct steps in three styles stay below 2e-14 over 200 epochs; the
#   weakest known bug (W2 updated first, classification) is 1e-7 away within one
#   epoch, every other one 1.7e-4 or more. 1e-10 leaves a factor of 1000 each way.
# - float32: correct steps drift to 1.5e-5 over 200 epochs (a loss (y - y_hat)^2 near
#   zero inherits y_hat's rounding); known bugs are 1.7e-4 or more away within one
#   epoch, except W2 updated first in classification, which float32 cannot see.
#   5e-5 leaves a factor of about 3 each way: audit in float64, the default.
AUDIT_FLOOR = 0.1
AUDIT_THRESHOLDS = {"float64": 1e-10, "float32": 5e-5}

# The diagnosis judges each update from Keras's state (comparisons/diagnosis.py), in
# gradient space: the implied gradient u = (old - new) / lr against a hypothesis g
# matches when |u - g| <= RTOL (|g| + the step's largest true gradient)
#                          + ATOL_EPS eps max(|old|, |new|, 0.1) / lr.
# The first term is the gradient's own arithmetic, which a user may order differently;
# the second the rounding of new = old - lr g, which dividing by lr magnifies.
# Measured by `python -m tests.measure_diagnosis` (50 epochs, every init, seeds 0-9),
# as the largest |u - g| over its allowance (1 is the line):
# - float64: correct steps (three styles) reach 0.028; the weakest known bug, W2
#   updated first in classification under init keras, reaches 129 in its weakest
#   run, every other one 1e5 or more. 2e-10 sits about 36x and 129x from each side.
# - float32: correct steps reach 0.062; the known bugs 25 or more in regression, but
#   in classification W2 updated first (0.036) and, in their weakest runs, the index
#   swap (0.63) are below float32's resolution: the trajectory check still sees the
#   swap; audit in float64.
DIAGNOSIS_RTOL = {"float64": 2e-10, "float32": 1e-4}
DIAGNOSIS_ATOL_EPS = 8.0
