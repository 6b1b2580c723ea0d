"""What one comparison run is: problem, dtype, learning rate, epochs, row order, initial weights, seed.

Everything random comes from ``numpy.random.default_rng((seed, stream))``, one
stream per purpose, so changing the row order never changes the initial weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from comparisons.errors import InputError
from comparisons.problems import PROBLEMS, Problem
from comparisons.tolerances import Tolerance, tolerance_for
from manual import Architecture, Params

__all__ = ["DTYPES", "INITS", "ORDERS", "RunSpec", "random_params", "row_order", "seed_params"]

DTYPES = ("float32", "float64")
ORDERS = ("sequential", "shuffle", "sample")
INITS = ("seed", "random", "keras")
_INIT_STREAM, _ORDER_STREAM = 0, 1


@dataclass(frozen=True)
class RunSpec:
    problem: str = "regression"
    dtype: str = "float64"
    epochs: int = 100
    order: str = "sequential"
    init: str = "seed"
    seed: int = 0
    lr: float | None = None  # None: the tutorial's rate for the problem

    def __post_init__(self) -> None:
        for field, value, allowed in [
            ("problem", self.problem, tuple(PROBLEMS)),
            ("dtype", self.dtype, DTYPES),
            ("order", self.order, ORDERS),
            ("init", self.init, INITS),
        ]:
            if value not in allowed:
                raise InputError(f"unknown {field} {value!r} (choose from {', '.join(allowed)})")
        if self.epochs < 1:
            raise InputError(f"epochs must be at least 1, got {self.epochs}")
        if self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed}")
        if self.lr is not None and not (np.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"learning rate must be a positive finite number, got {self.lr}")

    @property
    def definition(self) -> Problem:
        return PROBLEMS[self.problem]

    @property
    def learning_rate(self) -> float:
        return self.definition.learning_rate if self.lr is None else self.lr

    @property
    def tolerance(self) -> Tolerance:
        return tolerance_for(self.problem, self.dtype)

    @property
    def label(self) -> str:
        """Readable id: ``regression-float64-shuffle-random``."""
        return f"{self.problem}-{self.dtype}-{self.order}-{self.init}"

    def with_(self, **changes: object) -> RunSpec:
        return replace(self, **changes)  # type: ignore[arg-type]  # dataclasses.replace is loosely typed


class Ordered(Protocol):
    """What a row order depends on: a RunSpec's or a NetworkSpec's."""

    @property
    def order(self) -> str: ...
    @property
    def epochs(self) -> int: ...
    @property
    def seed(self) -> int: ...


def row_order(spec: Ordered, n_rows: int) -> np.ndarray:
    """Row indices, shape (epochs, n_rows): the sequence both sides are fed."""
    if spec.order == "sequential":
        return np.tile(np.arange(n_rows), (spec.epochs, 1))
    rng = np.random.default_rng((spec.seed, _ORDER_STREAM))
    if spec.order == "shuffle":
        return np.stack([rng.permutation(n_rows) for _ in range(spec.epochs)])
    # "select random row", as the document's algorithm says: draws with replacement
    return rng.integers(0, n_rows, size=(spec.epochs, n_rows))


def seed_params(arch: Architecture, dtype: str) -> Params:
    """The notebooks' start: every weight 0.1, every bias 0."""
    return {key: np.full(shape, 0.1 if key.startswith("W") else 0.0, dtype=dtype) for key, shape in arch.shapes()}


def random_params(arch: Architecture, dtype: str, seed: int) -> Params:
    """Seeded and asymmetric (weights ~ N(0, 0.5^2), biases ~ N(0, 0.1^2)): equal
    weights make the two hidden neurons interchangeable and hide index bugs."""
    rng = np.random.default_rng((seed, _INIT_STREAM))
    return {
        key: rng.normal(0.0, 0.5 if key.startswith("W") else 0.1, size=shape).astype(dtype)
        for key, shape in arch.shapes()
    }
