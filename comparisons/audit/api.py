"""Results inside Jupyter: audit a function defined in the notebook, and show any result as HTML.

``audit_step(step, problem="regression")`` (or ``forward=..., update=...`` for the
tutorial's functions) returns the same ``Audit`` the CLI prints: in a notebook it
renders as HTML (the verdict, the first-divergence table, the diagnosis and a
plot of the distance per step and the loss), ``print`` gives the CLI's text and
``to_json()`` its JSON. ``compare(spec)`` results (``Comparison``) render too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from comparisons.audit import optimizer_audit
from comparisons.audit.auditor import audit
from comparisons.audit.model import Audit, Contract
from comparisons.audit.optimizer_code import DLAI
from comparisons.audit.render.html import audit_html
from comparisons.render.html import comparison_html
from comparisons.spec import DEFAULT_LEARNING_RATES, INITS, Spec

__all__ = ["audit_html", "audit_optimizer", "audit_step", "comparison_html"]


def audit_step(
    step: Callable[..., Any] | None = None,
    *,
    forward: Callable[..., Any] | None = None,
    update: Callable[..., Any] | None = None,
    problem: str = "regression",
    dtype: str = "float64",
    epochs: int = 50,
    order: str = "sequential",
    init: str = "all",
    seed: int = 0,
    lr: float | None = None,
    layout: str | None = None,
    network: Spec | None = None,
) -> Audit:
    """Audit ``step(params, x, y, lr) -> (params, loss)``, or the tutorial's ``forward(X, parameters)
    -> (y_hat, A1)`` and ``update(parameters, y, y_hat, A1, X[, lr])``, against Keras, as
    ``python -m comparisons audit`` does.

    ``layout``: how your code stores a layer (comparisons.audit.layouts); None: the one in
    which your first step runs. Your functions run here, in the notebook's own process, with no time or memory
    limit (the command line runs them in a process of their own): a step that loops
    forever holds the kernel until you interrupt it.

    ``network``: a network of your own instead of ``problem``, trained by plain SGD
    (``comparisons.Spec(layers, activations, loss, optimizer, batch_size=..., rows=..., epochs=...)``,
    its own epochs, dtype, order, seed and learning rate): ``step`` in Keras's layout, diagnosed by tensor.
    """
    if (step is None) == (forward is None or update is None) or (step is not None and (forward or update)):
        raise ValueError("give either step, or both forward and update")
    base = network or Spec.document(problem, dtype=dtype, epochs=epochs, order=order, seed=seed, lr=lr)
    if network is not None and step is None:
        raise ValueError("a network of your own is audited through step(params, x, y, lr)")
    inits = list(INITS) if init == "all" else [init]
    if step is not None:
        contract = Contract(func=getattr(step, "__name__", "step"), layout=layout)
        functions = {contract.func: step}
    else:
        assert forward is not None
        assert update is not None
        contract = Contract("tutorial", forward=forward.__name__, update=update.__name__, layout=layout)
        functions = {contract.forward: forward, contract.update: update}
    return audit(Path("<notebook>"), contract, base, inits, functions=functions)


def audit_optimizer(
    update: Callable[..., Any] | None = None,
    *,
    initialize: Callable[..., Any] | None = None,
    optimizer_class: type | None = None,
    optimizer: str = "adam",
    lr: float | None = None,
    momentum: float | None = None,
    beta1: float | None = None,
    beta2: float | None = None,
    epsilon: float | None = None,
    rho: float | None = None,
    dtype: str = "float64",
    epochs: int = 50,
    init: str = "all",
    seed: int = 0,
) -> optimizer_audit.OptimizerAudit:
    """Audit your optimizer as ``python -m comparisons audit --contract dlai`` (or ``class``) does:
    deeplearning.ai's ``update`` (``update_parameters_with_adam``, ``..._with_momentum`` or
    ``..._with_gd``) with its ``initialize`` (``initialize_adam``, ``initialize_velocity``), or
    an ``optimizer_class`` with ``update(params, grads)``. ``optimizer``: adam, sgd (with
    ``momentum``: momentum), rmsprop, adagrad; ``lr``: Keras's default for it where None; the
    other hyperparameters your code's defaults where None. Runs here, in the notebook's process."""
    if (update is None) == (optimizer_class is None):
        raise ValueError("give either update (with initialize, deeplearning.ai's functions) or optimizer_class")
    kind = "momentum" if optimizer == "sgd" and momentum else optimizer
    if kind not in optimizer_audit.KERAS_NAMES:
        raise ValueError(f"unknown optimizer {optimizer!r} (choose from sgd, adam, rmsprop, adagrad)")
    rate = DEFAULT_LEARNING_RATES[optimizer_audit.KERAS_NAMES[kind]] if lr is None else lr
    values = {"momentum": momentum, "beta_1": beta1, "beta_2": beta2, "epsilon": epsilon, "rho": rho}
    given = {"learning_rate": rate} | {name: value for name, value in values.items() if value is not None}
    spec = optimizer_audit.optimizer_spec(kind, rate, dtype, epochs, seed)
    inits = list(INITS) if init == "all" else [init]
    if optimizer_class is not None:
        functions: dict[str, Any] = {optimizer_class.__name__: optimizer_class}
        return optimizer_audit.audit_optimizer(
            Path("<notebook>"), "class", kind, spec, inits, given, optimizer_class.__name__, functions=functions
        )
    if kind not in DLAI:
        raise ValueError(f"deeplearning.ai's functions have no {kind}: give optimizer_class")
    init_name, update_name, _ = DLAI[kind]
    if (initialize is None) != (init_name is None):
        raise ValueError(
            f"{update_name} comes with {init_name}: give initialize" if init_name else "sgd has no initialize"
        )
    functions = {update_name: update} | ({init_name: initialize} if init_name else {})
    return optimizer_audit.audit_optimizer(Path("<notebook>"), "dlai", kind, spec, inits, given, functions=functions)
