"""How far one training step of the manual side may be from Keras's, both taken from the same state.

Issue 19: the verdict judges each step of the manual side started from Keras's own full state
(weights, optimizer slots, iteration count) against Keras's next state. Both sides then compute
the same mathematics from the same numbers and differ only by rounding, which this module bounds,
per parameter, from the state and the batch alone: no measurement, so the bound holds at any
learning rate, any network, either dtype.

With u = eps / 2 of the run's dtype, D the optimizer's step (w' = w + D) and e_g a bound on the
computed gradient's error, each side is within ulp(w') / 2 + |dD/dg| e_g + C_OPTIMIZER u M of the
exact step from the same state (M: |D|, or the larger terms D's arithmetic rounds where they
cancel). Two sides, each that far from the exact step, are at most twice that apart:

    B = [ ulp(w') + 2 (|dD/dg| e_g + C_OPTIMIZER u M) ] / ulp(max(|w'|, floor))

e_g is a first-order running-error bound (Higham, Accuracy and Stability of Numerical
Algorithms, ch. 3): a sum of n rounded terms is within gamma_n = n u / (1 - n u) of its terms'
absolute sum, whatever order Keras's kernels sum in, and each activation kernel is within
C_ACTIVATION u of its output. Constants shared by both sides (the learning rate, Adam's beta^t)
are the same numbers on both, so their rounding is no difference.

Where rounding decides the mathematics the bound is no verdict, and ``StepBound`` says so: a
gradient zero to working precision, which an adaptive optimizer divides by its own running size
and turns into a step; a branch (relu at 0, MAE's sign at y_hat == y) that the two sides may take
differently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from manual.activations import derivative_from_output
from manual.batch.optimizers import Optimizer, OptimizerConfig, make_optimizer
from manual.batch.training import backward, forward, row_delta
from manual.network import Architecture, Params

__all__ = [
    "C_ACTIVATION",
    "C_OPTIMIZER",
    "StepBound",
    "gamma",
    "gradient_error",
    "slot_bound",
    "step_bound",
]

# An activation kernel's own rounding, in u of its output: Keras's (Eigen's) tanh and sigmoid
# are rational approximations within 1-2 ULP, numpy's within 1, each relative to the output;
# softmax rounds an exp, a sum and a division. linear and relu round nothing.
C_ACTIVATION = {"linear": 0, "relu": 0, "tanh": 4, "sigmoid": 4, "softmax": 6}
# The optimizer's own arithmetic, in u of the terms it rounds: at most five roundings in a row
# (Adam: m', v', sqrt, + epsilon, the product and the quotient), with room to spare
C_OPTIMIZER = 8
_CROSS_ENTROPIES = ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy")


@dataclass(frozen=True)
class StepBound:
    # per parameter, the largest |manual - keras| of the new weights one step may show, in ULPs of
    # max(|w'|, floor) in the run's dtype (comparisons/ulp.py's ulp_distance)
    ulps: Params
    # per parameter: the true gradient is zero to working precision (|g| <= e_g, e_g > 0), so
    # an adaptive optimizer turns rounding noise into a step (an exact zero, a dead relu's, is not)
    zero_gradient: Params
    # branches decided by rounding in this batch, e.g. "relu at 0 in layer 2, neuron 3"
    branches: list[str]
    # the manual side's gradients at the state, and e_g, the bound on either side's error in them:
    # what the slots' bound (slot_bound) is built from too
    gradients: Params
    errors: Params


def gamma(n: int, u: float) -> float:
    """gamma_n = n u / (1 - n u): a sum of n rounded terms is within gamma_n of their absolute sum."""
    return n * u / (1 - n * u)


def _magnitude(values: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(values, dtype=np.float64))


def _slope_error(
    activation: str, output: np.ndarray, e_O: np.ndarray, slope: np.ndarray | float, u: float
) -> np.ndarray | float:
    """The error of derivative_from_output's dO/dz (of size ``slope``), from its output O's error e_O."""
    if activation == "sigmoid":  # O (1 - O): d/dO = 1 - 2 O; 1 - O and the product rounded
        return np.abs(1 - 2 * output) * e_O + 2 * u * slope
    if activation == "tanh":  # 1 - O^2: d/dO = -2 O; O^2 rounded (u O^2, ~u when saturated), then 1 - O^2
        return 2 * np.abs(output) * e_O + u * output * output + u * slope
    return 0.0  # linear: none; relu: 0 or 1 exactly, away from a branch


def _forward_errors(
    arch: Architecture, params: Params, outputs: list[np.ndarray], u: float, branches: list[str]
) -> list[np.ndarray]:
    """e_O for every layer's outputs (O_0 = X, exact in the run's dtype); relu branches noted."""
    errors = [np.zeros(outputs[0].shape)]
    for k, activation in enumerate(arch.activations, start=1):
        W, b = params[f"W{k}"], params[f"b{k}"]
        O_in, W_abs = _magnitude(outputs[k - 1]), _magnitude(W)
        # Z = O W + b, n products and the bias summed: gamma_{n+1}; the inputs' own errors through |W|
        e_z = gamma(len(W) + 1, u) * (O_in @ W_abs + _magnitude(b)) + errors[-1] @ W_abs
        output = np.asarray(outputs[k], dtype=np.float64)
        if activation == "relu":
            z = (outputs[k - 1] @ W + b).astype(np.float64)  # Z_k again, as forward computed it: its sign matters
            # each side within e_z of the exact z: they may disagree on its sign within 2 e_z of 0
            for j in np.flatnonzero((np.abs(z) <= 2 * e_z).any(axis=0)):
                branches.append(f"relu at 0 in layer {k}, neuron {j + 1}")
            e_O = np.where(z > -e_z, e_z, 0.0)  # max(z, 0): exactly 0 on both sides where z < -e_z
        elif activation == "softmax":
            # dO_j = O_j (dz_j - sum_i O_i dz_i): at most O_j (e_z_j + max_i e_z_i)
            e_O = output * (e_z + e_z.max(axis=-1, keepdims=True)) + C_ACTIVATION[activation] * u * output
        else:
            slope = derivative_from_output(activation, output)
            e_O = (e_z if slope is None else np.abs(slope) * e_z) + C_ACTIVATION[activation] * u * np.abs(output)
        errors.append(e_O)
    return errors


def _output_signal_error(
    arch: Architecture, Y: np.ndarray, Y_hat: np.ndarray, e_Y_hat: np.ndarray, u: float, branches: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(row_delta, its error): dl/dZ_L of each row's own loss."""
    delta = row_delta(arch.loss, arch.activations[-1], Y, Y_hat)
    assert delta is not None  # backward has already refused a pairing without one
    n, delta_abs = Y_hat.shape[-1], _magnitude(delta)
    if arch.loss in _CROSS_ENTROPIES:
        # through the logits: (Y_hat - Y) / n, n = 1 for the categorical ones; the subtraction and
        # the division rounded
        divisor = n if arch.loss == "binary_crossentropy" else 1
        return delta, e_Y_hat / divisor + 2 * u * delta_abs
    activation = arch.activations[-1]
    output = np.asarray(Y_hat, dtype=np.float64)
    residual = np.abs(output - np.asarray(Y, dtype=np.float64))
    slope = derivative_from_output(activation, output)
    slope_abs = 1.0 if slope is None else np.abs(slope)
    e_slope = 0.0 if slope is None else _slope_error(activation, output, e_Y_hat, slope_abs, u)
    if arch.loss == "mean_absolute_error":
        # sign(Y_hat - Y) / n: the sign is exact unless the two sides may see Y_hat on either side of Y
        for j in np.flatnonzero((residual <= 2 * e_Y_hat).any(axis=0)):
            branches.append(f"MAE's sign at y_hat == y, output {j + 1}")
        return delta, e_slope / n + 2 * u * delta_abs
    # 2 (Y_hat - Y) / n times the slope: the residual's error (Y_hat's and its rounding), the
    # slope's error, and the division and the product rounded
    return delta, 2 / n * ((e_Y_hat + u * residual) * slope_abs + residual * e_slope) + 2 * u * delta_abs


def gradient_error(
    arch: Architecture, params: Params, X: np.ndarray, Y: np.ndarray
) -> tuple[Params, Params, list[str]]:
    """(the manual side's gradients, e_g: a bound on either side's error in them, branches).

    The error terms are magnitudes, computed in float64 from the run's computed values (first
    order: products of two errors are left out)."""
    u = float(np.finfo(X.dtype).eps) / 2
    outputs, _ = forward(arch, params, X)
    grads = backward(arch, params, outputs, Y)
    branches: list[str] = []
    e_O = _forward_errors(arch, params, outputs, u, branches)
    L, B = arch.layers, len(Y)
    delta, e_delta = _output_signal_error(arch, Y, outputs[L], e_O[L], u, branches)
    # the batch's mean: divided by B (or times a rounded 1 / B), one or two roundings
    delta = np.asarray(delta, dtype=np.float64) / B
    e_delta = e_delta / B + 2 * u * np.abs(delta)
    errors: Params = {}
    for k in range(L, 0, -1):
        O_in, delta_abs = _magnitude(outputs[k - 1]), np.abs(delta)
        # dL/dW_k = O_{k-1}^T delta_k: B products summed, and both factors' errors
        errors[f"W{k}"] = gamma(B, u) * O_in.T @ delta_abs + e_O[k - 1].T @ delta_abs + O_in.T @ e_delta
        errors[f"b{k}"] = gamma(B, u) * delta_abs.sum(axis=0) + e_delta.sum(axis=0)  # sum over the batch
        if k > 1:
            W = np.asarray(params[f"W{k}"], dtype=np.float64)
            activation = arch.activations[k - 2]
            back = delta @ W.T  # dL/dO_{k-1} = delta_k W_k^T, again in float64: its size matters
            e_back = gamma(W.shape[1], u) * delta_abs @ np.abs(W).T + e_delta @ np.abs(W).T
            O_signed = np.asarray(outputs[k - 1], dtype=np.float64)
            slope = derivative_from_output(activation, O_signed)
            if slope is None:  # linear: delta_{k-1} = back, nothing rounded
                delta, e_delta = back, e_back
                continue
            e_slope = _slope_error(activation, O_signed, e_O[k - 1], np.abs(slope), u)
            delta = back * slope  # dL/dZ_{k-1}
            # the back-propagated error through |slope|, the slope's own error, the product rounded
            e_delta = e_back * np.abs(slope) + np.abs(back) * e_slope + u * np.abs(delta)
    return grads, errors, branches


def _optimizer_at(config: OptimizerConfig, dtype: str, slots: dict[str, Params], iterations: int) -> Optimizer:
    """The manual optimizer in the given state; a slot not given starts as Keras starts it."""
    opt = make_optimizer(config, dtype)
    opt.state = {name: {key: np.array(value) for key, value in values.items()} for name, values in slots.items()}
    opt.iterations = iterations
    return opt


def _step_sensitivity(
    opt: Optimizer, key: str, g: np.ndarray, m: np.ndarray, step: np.ndarray
) -> tuple[np.ndarray | float, np.ndarray]:
    """(|dD/dg| at this state, M: the size of the terms D's own arithmetic rounds), after
    ``opt.update`` has moved ``key``'s slots to m', v', s'. ``m`` is the momentum before the step."""
    cfg, g, D = opt.config, np.abs(np.asarray(g, dtype=np.float64)), _magnitude(step)
    lr = float(opt.c(cfg.learning_rate))
    after = {name: np.asarray(values[key], dtype=np.float64) for name, values in opt.state.items()}
    if cfg.name == "sgd":
        if cfg.momentum == 0:
            return lr, D  # D = -lr g
        mu, m = float(opt.c32(cfg.momentum)), _magnitude(m)
        momentum_terms = mu * m + lr * g  # m' = mu m - lr g: each term rounded, and they may cancel
        if cfg.nesterov:  # D = mu m' - lr g
            return lr * (1 + mu), mu * momentum_terms + lr * g
        return lr, momentum_terms  # D = m'
    epsilon = float(opt.c(cfg.epsilon))
    if cfg.name == "adam":  # D = -alpha m' / (sqrt(v') + epsilon)
        t = opt.iterations + 1
        beta_1, beta_2 = float(opt.c32(cfg.beta_1)), float(opt.c32(cfg.beta_2))
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)  # Adam.update's step size
        one_minus_beta_1, one_minus_beta_2 = float(opt.c(1 - cfg.beta_1)), float(opt.c(1 - cfg.beta_2))
        root_v = np.sqrt(after["v"])
        denominator = root_v + epsilon
        with np.errstate(divide="ignore", invalid="ignore"):  # v' = 0: the limit, v' >= (1 - beta_2) g^2
            g_over_root_v = np.fmin(g / root_v, 1 / np.sqrt(one_minus_beta_2))
        # through m' = m + (g - m)(1 - beta_1), and through v' = v + (g^2 - v)(1 - beta_2)
        slope = alpha * one_minus_beta_1 / denominator
        slope = slope + alpha * np.abs(after["m"]) * one_minus_beta_2 * g_over_root_v / denominator**2
        # m' rounds m and (1 - beta_1)(g - m), which may cancel
        return slope, alpha * (_magnitude(m) + one_minus_beta_1 * (g + _magnitude(m))) / denominator
    # RMSprop (v' = rho v + (1 - rho) g^2) and Adagrad (s' = s + g^2): D = -lr g / sqrt(v' + epsilon)
    if cfg.name == "rmsprop":
        accumulated, share = after["v"] + epsilon, float(opt.c(1 - cfg.rho))
    else:
        accumulated, share = after["s"] + epsilon, 1.0
    # dD/dg = lr / sqrt(v' + eps) (1 - share g^2 / (v' + eps)): g's own growth of v' slows the step
    return lr / np.sqrt(accumulated) * np.abs(1 - share * g * g / accumulated), D


def _spacing(values: np.ndarray, dtype: np.dtype[np.floating]) -> np.ndarray:
    """ulp(|values|) in the run's dtype, as float64."""
    with np.errstate(over="ignore"):
        return np.spacing(np.abs(values).astype(dtype)).astype(np.float64)


def step_bound(
    arch: Architecture,
    config: OptimizerConfig,
    params: Params,
    slots: dict[str, Params],
    iterations: int,
    X: np.ndarray,
    Y: np.ndarray,
    floor: float,
) -> StepBound:
    """params, slots (manual's slot names: sgd momentum "m"; adam "m", "v"; rmsprop "v"; adagrad "s";
    empty dict for plain sgd), iterations (the optimizer's step count BEFORE this step, as Keras's
    `iterations`) are the state before the step; X, Y the batch (Y of shape (rows, outputs), or
    (rows,) class labels for sparse_categorical_crossentropy), in the run's dtype."""
    dtype = X.dtype
    u = float(np.finfo(dtype).eps) / 2
    grads, e_g, branches = gradient_error(arch, params, X, Y)
    opt = _optimizer_at(config, dtype.name, slots, iterations)
    ulps: Params = {}
    zero_gradient: Params = {}
    for key, w in params.items():
        m = slots.get("m", {}).get(key, np.zeros_like(w))
        step = opt.update(key, np.zeros_like(w), grads[key])  # D itself: from w = 0, w - x and w + m are exact
        w_new = np.asarray(w + step, dtype=np.float64)  # the manual side's w' (w - x = w + (-x))
        slope, magnitude = _step_sensitivity(opt, key, grads[key], m, step)
        error = 2 * (slope * e_g[key] + C_OPTIMIZER * u * magnitude)  # both sides, each within half
        size = np.abs(w_new)
        rounding = _spacing(size + error, dtype)  # each side rounds w' once, to half an ulp
        # Keras's w' may lie below |w'| by the whole bound: its ulp, the unit counted in, is the smaller
        unit = _spacing(np.maximum(size - error - rounding, floor), dtype)
        ulps[key] = (rounding + error) / unit
        g = np.abs(np.asarray(grads[key], dtype=np.float64))
        zero_gradient[key] = (g <= e_g[key]) & (e_g[key] > 0)
    return StepBound(ulps=ulps, zero_gradient=zero_gradient, branches=branches, gradients=grads, errors=e_g)


def slot_bound(
    config: OptimizerConfig, dtype: str, g: np.ndarray, e_g: np.ndarray, slot: str, after: np.ndarray
) -> np.ndarray:
    """The largest |manual - keras| of one slot after a step from the same state, absolute: the
    slot's sensitivity to the gradient times both sides' gradient error, and each side's own
    roundings of terms no larger than the slot and the gradient's share of it. A square's
    sensitivity is taken at |g| + e_g, not |g|: where the gradient is noise (|g| near e_g), the
    two sides' g^2 differ by as much as their g's sum times their difference."""
    u = float(np.finfo(dtype).eps) / 2
    g, e_g, after = (np.abs(np.asarray(a, dtype=np.float64)) for a in (g, e_g, after))
    sensitivity: float | np.ndarray
    share: np.ndarray
    if config.name == "sgd":  # m = mu m - lr g
        sensitivity, share = config.learning_rate, config.learning_rate * g
    elif config.name == "adam" and slot == "m":  # m = m + (g - m)(1 - beta_1)
        sensitivity, share = 1 - config.beta_1, (1 - config.beta_1) * g
    elif config.name == "adam":  # v = v + (g^2 - v)(1 - beta_2)
        sensitivity, share = 2 * (1 - config.beta_2) * (g + e_g), (1 - config.beta_2) * g * g
    elif config.name == "rmsprop":  # v = rho v + (1 - rho) g^2
        sensitivity, share = 2 * (1 - config.rho) * (g + e_g), (1 - config.rho) * g * g
    else:  # adagrad: s = s + g^2
        sensitivity, share = 2 * (g + e_g), g * g
    return 2 * (sensitivity * e_g + C_OPTIMIZER * u * (after + share))
