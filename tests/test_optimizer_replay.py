"""reference/jobs.py's ``optimizer_replay``: Keras's own optimizer on a given sequence of (parameters,
gradient) pairs, from the same state, against manual/batch/optimizers.py replayed the same way.

At step t both sides start from the same parameters ``before[t]`` and apply ``grads[t]``; each
optimizer's own state (moments, accumulators, iteration count) carries over as it keeps it.

Bit for bit: plain SGD, momentum, Nesterov and Adam, in float64 and float32. RMSprop and Adagrad
are not, by one rounding: their ``ops.divide(lr * g, ops.sqrt(v + epsilon))`` runs in a graph (as
``train_step`` does under ``fit``), and Grappler's arithmetic optimizer rewrites Div(x, Sqrt(y))
into Mul(x, Rsqrt(y)). On the CPU, TensorFlow's Rsqrt is 1 / sqrt(y), rounded twice, in float64
and on the scalar path of float32 (a tensor of fewer than 8 elements, and the last n mod 8 of
larger ones); Keras's step is then ``(lr * g) * (1 / sqrt(v + epsilon))`` exactly, which the
``_GRAPH_FORM`` classes below write, and it is 1 ULP of the step from manual's one rounding in
about a quarter of the elements. On float32 tensors of 8 or more elements, Eigen's AVX path
computes Rsqrt as the CPU's approximate ``_mm256_rsqrt_ps`` and one Newton step: within 3 ULPs
of the step here (an AMD EPYC), and not reproducible in numpy at all (the approximation is the
CPU vendor's).
"""

from __future__ import annotations

import numpy as np
import pytest

from comparisons.ulp import relative_distance, ulp_distance
from manual.batch.conventions import TextbookAdam
from manual.batch.optimizers import OPTIMIZERS, Adagrad, Optimizer, OptimizerConfig, RMSprop, make_optimizer
from reference import runner
from reference.protocol import unnumbered

SHAPES = [[3, 2], [2]]
STEPS = 5
DTYPES = ("float64", "float32")
CONFIGS = {
    "sgd": OptimizerConfig("sgd", 0.05),
    "momentum": OptimizerConfig("sgd", 0.05, momentum=0.9),
    "nesterov": OptimizerConfig("sgd", 0.05, momentum=0.9, nesterov=True),
    "adam": OptimizerConfig("adam", 0.01),
    "rmsprop": OptimizerConfig("rmsprop", 0.01),
    "adagrad": OptimizerConfig("adagrad", 0.05),
}


class _GraphRMSprop(RMSprop):
    """Keras's RMSprop as its graph computes it: the division by sqrt(v + eps) a multiplication by
    its reciprocal (Grappler's Div(x, Sqrt(y)) -> Mul(x, Rsqrt(y))), rounded twice."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        lr, rho = self.c(cfg.learning_rate), self.c(cfg.rho)
        v = self.slot("v", key, w)
        v = rho * v + self.c(1 - cfg.rho) * np.square(g)
        self.state["v"][key] = v
        return w - (lr * g) * (self.c(1) / np.sqrt(v + self.c(cfg.epsilon)))


class _GraphAdagrad(Adagrad):
    """Keras's Adagrad as its graph computes it, as ``_GraphRMSprop``."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        lr = self.c(cfg.learning_rate)
        s = self.slot("s", key, w, self.c32(cfg.initial_accumulator_value))
        s = s + np.square(g)
        self.state["s"][key] = s
        return w - (lr * g) * (self.c(1) / np.sqrt(s + self.c(cfg.epsilon)))


_GRAPH_FORM: dict[str, type[Optimizer]] = OPTIMIZERS | {"rmsprop": _GraphRMSprop, "adagrad": _GraphAdagrad}


def _sequence(
    dtype: str, seed: int, shapes: list[list[int]] = SHAPES, steps: int = STEPS
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per variable, its values before each step and its gradients, stacked over the steps: values
    from 0.1 to 10 in size, gradients from 1e-3 to 100, some exactly zero and some 1e-12."""
    rng = np.random.default_rng(seed)
    before, grads = [], []
    for shape in shapes:
        size = (steps, *shape)
        before.append((rng.normal(size=size) * 10.0 ** rng.uniform(-1, 1, size=size)).astype(dtype))
        g = rng.normal(size=size) * 10.0 ** rng.uniform(-3, 2, size=size)
        kind = rng.uniform(size=size)
        g[kind < 0.15] = 0.0
        g[(kind >= 0.15) & (kind < 0.3)] = np.copysign(1e-12, g[(kind >= 0.15) & (kind < 0.3)])
        grads.append(g.astype(dtype))
    return before, grads


def _keras(
    config: OptimizerConfig, dtype: str, before: list[np.ndarray], grads: list[np.ndarray], shapes: list[list[int]]
) -> list[np.ndarray]:
    arrays = runner.run(
        "optimizer_replay",
        dtype=dtype,
        optimizer=config.name,
        arguments=config.keras_arguments(),
        shapes=shapes,
        before=before,
        grads=grads,
    )
    assert sorted(arrays) == [f"after{i}" for i in range(len(shapes))]
    return unnumbered("after", arrays)


def _replayed(
    config: OptimizerConfig,
    dtype: str,
    before: list[np.ndarray],
    grads: list[np.ndarray],
    kinds: dict[str, type[Optimizer]] | None = None,
) -> list[np.ndarray]:
    """The numpy optimizer replayed the same way: the parameters the given ones at every step, its
    state its own."""
    optimizer = make_optimizer(config, dtype, kinds)
    steps: list[dict[str, np.ndarray]] = []
    for t in range(len(before[0])):
        params = {str(i): b[t] for i, b in enumerate(before)}
        steps.append(optimizer.apply(params, {str(i): g[t] for i, g in enumerate(grads)}))
    return [np.stack([step[str(i)] for step in steps]) for i in range(len(before))]


def _max_ulps(actual: list[np.ndarray], desired: list[np.ndarray], dtype: str) -> float:
    floor = float(np.finfo(dtype).tiny)
    return max(float(ulp_distance(a, d, dtype, floor).max()) for a, d in zip(actual, desired, strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_keras_optimizer_replayed_is_numpy_bit_for_bit(name: str, dtype: str, seed: int) -> None:
    """manual/batch/optimizers.py's optimizers as they are, RMSprop and Adagrad in their graph form."""
    before, grads = _sequence(dtype, seed)
    keras = _keras(CONFIGS[name], dtype, before, grads, SHAPES)
    manual = _replayed(CONFIGS[name], dtype, before, grads, _GRAPH_FORM)
    for i, (k, m) in enumerate(zip(keras, manual, strict=True)):
        assert k.dtype == np.dtype(dtype)
        assert k.shape == (STEPS, *SHAPES[i])
        np.testing.assert_array_equal(k, m, err_msg=f"{name} {dtype} variable {i}: {_max_ulps(keras, manual, dtype)}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["rmsprop", "adagrad"])
def test_manual_rmsprop_and_adagrad_round_their_division_once_where_keras_rounds_twice(name: str, dtype: str) -> None:
    """With the parameters 0 before every step, each value after it is minus the step itself: manual's
    ``(lr * g) / sqrt(v + eps)`` is 1 ULP from Keras's ``(lr * g) * (1 / sqrt(v + eps))`` in some
    elements, never more."""
    before, grads = _sequence(dtype, 0)
    before = [np.zeros_like(b) for b in before]
    keras = _keras(CONFIGS[name], dtype, before, grads, SHAPES)
    manual = _replayed(CONFIGS[name], dtype, before, grads)
    assert _max_ulps(keras, manual, dtype) == 1


@pytest.mark.parametrize("name", ["rmsprop", "adagrad"])
def test_float32_rsqrt_of_eight_elements_or_more_is_the_cpus_approximation(name: str) -> None:
    """Eigen's vectorized float32 Rsqrt (the CPU's approximate reciprocal square root and one Newton
    step) on a 4x4 variable: up to 3 ULPs of the step from the graph form's 1 / sqrt (measured on an
    AMD EPYC; the approximation is the CPU vendor's), bit-identical on the 2-element one (scalar path)."""
    before, grads = _sequence("float32", 0, [[4, 4], [2]])
    before = [np.zeros_like(b) for b in before]
    keras = _keras(CONFIGS[name], "float32", before, grads, [[4, 4], [2]])
    manual = _replayed(CONFIGS[name], "float32", before, grads, _GRAPH_FORM)
    assert 0 < _max_ulps(keras[:1], manual[:1], "float32") <= 3
    np.testing.assert_array_equal(keras[1], manual[1])


def test_the_check_tells_textbook_adam_apart() -> None:
    """Kingma and Ba's Adam (epsilon added to sqrt(v_hat)), replayed the same way, is not Keras's:
    more than the audit's float64 threshold away after the first step."""
    before, grads = _sequence("float64", 0)
    config = CONFIGS["adam"]
    keras = _keras(config, "float64", before, grads, SHAPES)
    textbook = _replayed(config, "float64", before, grads, OPTIMIZERS | {"adam": TextbookAdam})
    first = max(float(relative_distance(t[0], k[0], 0.1).max()) for t, k in zip(textbook, keras, strict=True))
    assert first > 1e-10


def test_every_replay_starts_from_the_optimizers_fresh_state() -> None:
    """The optimizer is kept per process; a replay after another (here at another learning rate)
    gives what it gave first."""
    before, grads = _sequence("float64", 3)
    config = CONFIGS["adam"]
    first = _keras(config, "float64", before, grads, SHAPES)
    _keras(OptimizerConfig("adam", 0.5), "float64", grads, before, SHAPES)
    again = _keras(config, "float64", before, grads, SHAPES)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
