"""A learner's optimizer as the audit calls it: ``update(params, grads) -> params`` in Keras's layout.

Two contracts, each the form most public copies take:

- ``dlai``, deeplearning.ai's assignment: ``initialize_adam(parameters) -> (v, s)`` and
  ``update_parameters_with_adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon)``
  (3 values back, or 5), ``initialize_velocity`` and ``update_parameters_with_momentum(parameters,
  grads, v, beta, learning_rate)``, ``update_parameters_with_gd(parameters, grads, learning_rate)``;
  W of shape (n_out, n_in), b (n_out, 1), gradients under ``dW1``, ``db1``. Its inputs are copied
  at every call, since some learners update them in place;
- ``class``, Deep Learning from Scratch's: ``Adam(lr, beta1, beta2)`` and the like, whose
  ``update(params, grads)`` changes a dict of arrays in Keras's layout in place.

Each hyperparameter is the learner's own default where the code declares one, unless the audit
is given it; the audit's learning rate always. What was used, and where it came from, goes back
to the parent, which gives Keras's optimizer the same. Runs in the worker: numpy only.
"""

from __future__ import annotations

import copy
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from comparisons.audit.returns import UserCodeError
from comparisons.audit.user_code import failure, signature_of, user_function, user_module, where_in
from manual.network import Params

__all__ = [
    "CLASS_NAMES",
    "DLAI",
    "USUAL",
    "LearnerOptimizer",
    "ShapeChangedError",
    "learner_optimizer",
    "learner_shape",
]

# deeplearning.ai's (initializer, update) per optimizer, and the update's arguments after its state
DLAI: dict[str, tuple[str | None, str, tuple[str, ...]]] = {
    "sgd": (None, "update_parameters_with_gd", ("learning_rate",)),
    "momentum": ("initialize_velocity", "update_parameters_with_momentum", ("momentum", "learning_rate")),
    "adam": ("initialize_adam", "update_parameters_with_adam", ("learning_rate", "beta_1", "beta_2", "epsilon")),
}
# a class's name, whatever its case, per optimizer
CLASS_NAMES = {"sgd": "sgd", "momentum": "momentum", "adam": "adam", "rmsprop": "rmsprop", "adagrad": "adagrad"}
# the names a constructor or an instance gives each hyperparameter
ALIASES = {
    "learning_rate": ("lr", "learning_rate", "eta", "alpha"),
    "momentum": ("momentum", "beta", "mu"),
    "beta_1": ("beta1", "beta_1", "b1"),
    "beta_2": ("beta2", "beta_2", "b2"),
    "epsilon": ("epsilon", "eps"),
    "rho": ("rho", "decay_rate", "decay"),
}
# the hyperparameters each optimizer has: a class's other attributes (an Adam's learning-rate decay) are not read
RELEVANT = {
    "sgd": ("learning_rate",),
    "momentum": ("learning_rate", "momentum"),
    "adam": ("learning_rate", "beta_1", "beta_2", "epsilon"),
    "rmsprop": ("learning_rate", "rho", "epsilon"),
    "adagrad": ("learning_rate", "epsilon"),
}
# where a learner's code leaves one undeclared: the value most write (deeplearning.ai's epsilon 1e-8)
USUAL = {"momentum": 0.9, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "rho": 0.9}


class ShapeChangedError(UserCodeError):
    """The update gave back parameters of another shape than it was handed, one entry per tensor:
    its name, the shape given back and whether that is the tensor's own update broadcast (constant
    along every axis the tensor's own shape does not have: a state of the wrong shape)."""

    def __init__(self, message: str, changed: list[tuple[str, tuple[int, ...], bool]]) -> None:
        super().__init__(message)
        self.changed = changed


def learner_shape(contract: str, key: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A tensor's shape as the contract hands it: deeplearning.ai's W (n_out, n_in) and b (n_out, 1),
    or the class's, Keras's own."""
    if contract != "dlai":
        return shape
    return shape[::-1] if key[0] == "W" else (shape[0], 1)


def _changed(label: str, returned: dict[str, np.ndarray], contract: str, like: Params) -> None:
    """Raise ShapeChangedError naming every tensor given back in another shape."""
    changed = []
    for key, value in like.items():
        expected = learner_shape(contract, key, value.shape)
        array = returned[key]
        if array.shape != expected:
            changed.append((key, array.shape, _broadcast(array, expected)))
    if changed:
        listed = ", ".join(f"{key} of shape {shape}" for key, shape, _ in changed)
        raise ShapeChangedError(f"{label} returned {listed}, not the shape it was handed", changed)


def _array(label: str, key: str, value: Any, dtype: np.dtype[Any]) -> np.ndarray:
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise UserCodeError(f"{label} gave back {key} as {type(value).__name__}, not an array of numbers") from None


def _broadcast(array: np.ndarray, expected: tuple[int, ...]) -> bool:
    """Whether ``array`` is constant along each axis a tensor of shape ``expected`` was broadcast over."""
    if array.ndim < len(expected) or array.size == 0:
        return False
    padded = (1,) * (array.ndim - len(expected)) + expected
    if any(e not in (1, n) for e, n in zip(padded, array.shape, strict=True)):
        return False
    axes = [axis for axis, (e, n) in enumerate(zip(padded, array.shape, strict=True)) if e == 1 and n > 1]
    first = array[tuple(slice(0, 1) if axis in axes else slice(None) for axis in range(array.ndim))]
    return bool(axes) and bool(np.array_equal(array, np.broadcast_to(first, array.shape)))


@dataclass
class LearnerOptimizer:
    """The learner's optimizer behind one call, its state kept here or in the learner's instance."""

    update: Callable[[Params, Params], Params]
    label: str  # what messages call it: update_parameters_with_adam, Adam
    hyper: dict[str, float] = field(default_factory=dict)  # the hyperparameters it runs with
    source: dict[str, str] = field(default_factory=dict)  # each one's origin: yours, given, usual


def learner_optimizer(
    job: dict[str, Any], module_name: str, given: dict[str, float], upto: int | None = None
) -> LearnerOptimizer:
    """The job's contract (``dlai`` or ``class``) for the job's optimizer, from the user's file;
    ``given``: the hyperparameters the audit was told (the learning rate always)."""
    given_objects = job.get("functions")  # the Python API's: the learner's own functions or class
    module = user_module(job, module_name, upto) if given_objects is None else _namespace(module_name, given_objects)
    if job["contract"] == "dlai":
        return _dlai(module, job["path"], job["optimizer"], given)
    return _instance(module, job["path"], job["optimizer"], job.get("class"), given, given_objects is not None)


def _namespace(name: str, objects: dict[str, Any]) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in objects.items():
        setattr(module, key, value)
    return module


def _call(label: str, path: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except UserCodeError:
        raise
    except Exception as error:
        raise UserCodeError(f"{label} {failure(error)}{where_in(error, path)}") from None


def _dlai(module: types.ModuleType, path: str, kind: str, given: dict[str, float]) -> LearnerOptimizer:
    if kind not in DLAI:
        raise UserCodeError(f"{path}: the dlai contract has no {kind} (it has {', '.join(DLAI)})")
    init_name, update_name, names = DLAI[kind]
    update = user_function(module, path, update_name)
    init = None if init_name is None else user_function(module, path, init_name)
    state_args = {"sgd": 2, "momentum": 3, "adam": 5}[kind]  # parameters, grads[, v[, s, t]]
    try:
        declared = list(inspect.signature(update).parameters.values())
    except (TypeError, ValueError):
        declared = []
    if len(declared) < state_args + len(names):
        raise UserCodeError(
            f"{path}: {update_name}{signature_of(update)} does not take "
            f"({', '.join(['parameters', 'grads', 'v', 's', 't'][:state_args] + list(names))})"
        )
    hyper, source, kwargs = {}, {}, {}
    for name, parameter in zip(names, declared[state_args:], strict=False):
        if name in given:
            hyper[name], source[name] = given[name], "given"
            kwargs[parameter.name] = given[name]
        elif parameter.default is not inspect.Parameter.empty:
            hyper[name], source[name] = _number(update_name, parameter), "yours"
        else:
            hyper[name], source[name] = USUAL[name], "usual"
            kwargs[parameter.name] = USUAL[name]
    state: list[Any] = []
    t = 0

    def step(params: Params, grads: Params) -> Params:
        nonlocal state, t
        parameters = {key: (value.T if key[0] == "W" else value.reshape(-1, 1)).copy() for key, value in params.items()}
        dlai_grads = {
            f"d{key}": (value.T if key[0] == "W" else value.reshape(-1, 1)).copy() for key, value in grads.items()
        }
        if init is not None and not state:
            out = _call(init_name or "", path, init, copy.deepcopy(parameters))
            state = list(out) if kind == "adam" and isinstance(out, tuple | list) else [out]
            if kind == "adam" and len(state) != 2:
                raise UserCodeError(f"{init_name} must return (v, s), returned {type(out).__name__}")
        t += 1
        extra = [t] if kind == "adam" else []
        out = _call(update_name, path, update, parameters, dlai_grads, *state, *extra, **kwargs)
        new, state = _dlai_returned(update_name, kind, out, state)
        return _from_dlai(update_name, new, params)

    return LearnerOptimizer(step, update_name, hyper, source)


def _number(owner: str, parameter: inspect.Parameter) -> float:
    """A default the learner's signature declares, as the number it must be."""
    value = parameter.default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserCodeError(f"{owner}'s default {parameter.name}={value!r} is not a number")
    return float(value)


def _dlai_returned(name: str, kind: str, out: Any, state: list[Any]) -> tuple[Any, list[Any]]:
    """(parameters, the state carried to the next call) from what the update returned."""
    if kind == "sgd":
        return out, state
    wanted = {"momentum": (2,), "adam": (3, 5)}[kind]
    if not isinstance(out, tuple | list) or len(out) not in wanted:
        shape = "(parameters, v)" if kind == "momentum" else "(parameters, v, s) or 5 values"
        raise UserCodeError(f"{name} must return {shape}, returned {type(out).__name__}")
    return out[0], list(out[1 : 1 + len(state)])


def _from_dlai(name: str, parameters: Any, like: Params) -> Params:
    if not isinstance(parameters, dict):
        raise UserCodeError(f"{name} returned parameters as a {type(parameters).__name__}, not a dict")
    returned = {}
    for key, value in like.items():
        if key not in parameters:
            raise UserCodeError(f"{name} returned parameters without {key!r}")
        returned[key] = _array(name, key, parameters[key], value.dtype)
    _changed(name, returned, "dlai", like)
    return {key: (a.T if key[0] == "W" else a.reshape(-1)).copy() for key, a in returned.items()}


def _instance(
    module: types.ModuleType, path: str, kind: str, named: str | None, given: dict[str, float], handed: bool = False
) -> LearnerOptimizer:
    """``handed``: the classes came from the Python API, not from the learner's file."""
    cls = _find_class(module, path, kind, named, handed)
    try:
        declared = dict(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        declared = {}
    kwargs, supplied = {}, {}
    for name in RELEVANT[kind]:
        parameter = next((declared[a] for a in ALIASES[name] if a in declared), None)
        if parameter is None:
            continue
        if name in given:
            kwargs[parameter.name] = given[name]
        elif parameter.default is inspect.Parameter.empty:  # required: the usual value, said as such
            kwargs[parameter.name] = supplied[name] = USUAL.get(name, given["learning_rate"])
    if not any(a in declared for a in ALIASES["learning_rate"]):
        raise UserCodeError(
            f"{path}: {cls.__name__}{signature_of(cls)} takes no learning rate (lr or learning_rate) "
            "to construct it with"
        )
    optimizer = _call(cls.__name__, path, cls, **kwargs)
    hyper, source = {}, {}
    for name in RELEVANT[kind]:
        found = next((a for a in ALIASES[name] if _is_number(getattr(optimizer, a, None))), None)
        if found is not None:
            hyper[name] = float(getattr(optimizer, found))
            source[name] = "given" if name in given else "usual" if name in supplied else "yours"
        elif name in given:  # kept under a name of its own, or used as given: the audit's value
            hyper[name], source[name] = given[name], "given"
    update = getattr(optimizer, "update", None)
    if not callable(update):
        raise UserCodeError(f"{path}: {cls.__name__} has no update(params, grads) method")

    def step(params: Params, grads: Params) -> Params:
        mine = {key: value.copy() for key, value in params.items()}
        out = _call(f"{cls.__name__}.update", path, update, mine, {key: value.copy() for key, value in grads.items()})
        new = out if isinstance(out, dict) else mine  # changed in place, as the book's do
        missing = [key for key in params if key not in new]
        if missing:
            raise UserCodeError(f"{cls.__name__}.update left params without {missing[0]!r}")
        result = {key: _array(f"{cls.__name__}.update", key, new[key], value.dtype) for key, value in params.items()}
        _changed(f"{cls.__name__}.update", result, "class", params)
        return result

    return LearnerOptimizer(step, cls.__name__, hyper, source)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _find_class(module: types.ModuleType, path: str, kind: str, named: str | None, handed: bool) -> type:
    classes = {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type) and (handed or value.__module__ == module.__name__)  # not those it imports
    }
    if named is not None:
        if named not in classes:
            raise UserCodeError(f"{path}: defines no class {named!r} (it defines: {', '.join(classes) or 'none'})")
        return classes[named]
    by_name = [name for name in classes if name.lower() == CLASS_NAMES.get(kind, kind)]
    if len(by_name) == 1:
        return classes[by_name[0]]
    with_update = [name for name, cls in classes.items() if _takes_two(getattr(cls, "update", None))]
    if len(with_update) == 1:
        return classes[with_update[0]]
    listed = ", ".join(with_update) or "none"
    raise UserCodeError(
        f"{path}: no class named {kind} (whatever the case), and {'several' if with_update else 'none'} with an "
        f"update(params, grads) method: {listed}; choose one with --class NAME"
    )


def _takes_two(method: Any) -> bool:
    if not callable(method):
        return False
    try:
        inspect.signature(method).bind(None, None, None)  # self, params, grads
    except (TypeError, ValueError):
        return False
    return True
