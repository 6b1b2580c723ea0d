"""Learners' optimizer files, as the optimizer audit reads them (comparisons/audit/optimizer_code.py).

``dlai_source`` and ``class_source`` write a file in either contract whose update delegates to a
form of manual/: a convention (manual/batch/conventions.py's ``CONVENTIONS``) or a known mistake
(manual/batch/optimizer_bugs.py's ``OPTIMIZER_BUGS``). The forms are elementwise, so the layout the
contract hands them (deeplearning.ai's out-in, Keras's) changes nothing; each keeps one instance of
the form, built at the first call from the hyperparameters the audit ran the learner's code with,
so every hyperparameter the audit gives reaches the form. The file runs in the audit's worker,
which imports numpy and this project's manual package.

Below them, files as learners write them, by hand: deeplearning.ai's Adam and momentum, Deep
Learning from Scratch's Adam and RMSprop classes, and their slips.
"""

from __future__ import annotations

from manual.batch.conventions import CONVENTIONS
from manual.batch.optimizer_bugs import OPTIMIZER_BUGS

__all__ = [
    "BOOK_ADAM",
    "BOOK_RMSPROP",
    "CLASS_KINDS",
    "DLAI_ADAM",
    "DLAI_ADAM_BETA2_TYPO",
    "DLAI_ADAM_EPSILON_INSIDE",
    "DLAI_KINDS",
    "DLAI_MOMENTUM",
    "SHAPE_SLIPS",
    "class_source",
    "dlai_source",
]

DLAI_KINDS = ("sgd", "momentum", "adam")  # the optimizers deeplearning.ai's assignment has
CLASS_KINDS = ("sgd", "momentum", "adam", "rmsprop", "adagrad")

# The class each optimizer's file defines (the names Deep Learning from Scratch gives them)
CLASS_NAMES = {"sgd": "SGD", "momentum": "Momentum", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "AdaGrad"}


def _form(kind: str, name: str | None) -> str:
    """The Python expression of manual/'s form: the convention ``name`` of ``kind`` (Keras's where
    None), or the known mistake ``name``."""
    name = "keras" if name is None else name
    if name in CONVENTIONS[kind]:
        return f"CONVENTIONS[{kind!r}][{name!r}][0]"
    if name in OPTIMIZER_BUGS:
        if OPTIMIZER_BUGS[name].optimizer != kind:
            raise ValueError(f"{name} is a mistake of {OPTIMIZER_BUGS[name].optimizer}, not {kind}")
        return f"OPTIMIZER_BUGS[{name!r}].form"
    raise ValueError(f"{name!r} is neither a convention of {kind} nor a known mistake")


_HEADER = """\
import numpy as np

from manual.batch.conventions import CONVENTIONS
from manual.batch.optimizer_bugs import OPTIMIZER_BUGS
from manual.batch.optimizers import OptimizerConfig

FORM = {form}
"""

# deeplearning.ai's three updates; ``_step`` applies the form to the whole network at once (one
# iteration of its own per call), keyed W1, b1, ... with the gradients under dW1, db1, ...
_DLAI = {
    "sgd": """
_OPTIMIZER = []


def update_parameters_with_gd(parameters, grads, learning_rate=0.01):
    if not _OPTIMIZER:
        _OPTIMIZER.append(FORM(OptimizerConfig("sgd", learning_rate), np.dtype(parameters["W1"].dtype)))
    return _step(_OPTIMIZER[0], parameters, grads)
""",
    "momentum": """
def initialize_velocity(parameters):
    return {}


def update_parameters_with_momentum(parameters, grads, v, beta=0.9, learning_rate=0.01):
    if "optimizer" not in v:
        config = OptimizerConfig("sgd", learning_rate, momentum=beta)
        v["optimizer"] = FORM(config, np.dtype(parameters["W1"].dtype))
    return _step(v["optimizer"], parameters, grads), v
""",
    "adam": """
def initialize_adam(parameters):
    return {}, {}


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    if "optimizer" not in v:
        config = OptimizerConfig("adam", learning_rate, beta_1=beta1, beta_2=beta2, epsilon=epsilon)
        v["optimizer"] = FORM(config, np.dtype(parameters["W1"].dtype))
    return _step(v["optimizer"], parameters, grads), v, s
""",
}

_DLAI_STEP = """

def _step(optimizer, parameters, grads):
    new = optimizer.apply(dict(parameters), {k: grads["d" + k] for k in parameters})
    return {k: new[k] for k in parameters}
"""


def dlai_source(kind: str, name: str | None = None) -> str:
    """deeplearning.ai's functions for ``kind`` (sgd, momentum, adam), delegating to the convention
    or known mistake ``name`` (Keras's convention where None)."""
    return _HEADER.format(form=_form(kind, name)) + _DLAI[kind] + _DLAI_STEP


# the constructor's arguments and Keras's configuration, per class
_CLASS = {
    "sgd": ("lr=0.01", "self.lr = lr", 'OptimizerConfig("sgd", self.lr)'),
    "momentum": (
        "lr=0.01, momentum=0.9",
        "self.lr, self.momentum = lr, momentum",
        'OptimizerConfig("sgd", self.lr, momentum=self.momentum)',
    ),
    "adam": (
        "lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8",
        "self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps",
        'OptimizerConfig("adam", self.lr, beta_1=self.beta1, beta_2=self.beta2, epsilon=self.eps)',
    ),
    "rmsprop": (
        "lr=0.01, rho=0.9, eps=1e-7",
        "self.lr, self.rho, self.eps = lr, rho, eps",
        'OptimizerConfig("rmsprop", self.lr, rho=self.rho, epsilon=self.eps)',
    ),
    "adagrad": (
        "lr=0.01, eps=1e-7",
        "self.lr, self.eps = lr, eps",
        'OptimizerConfig("adagrad", self.lr, epsilon=self.eps)',
    ),
}

_CLASS_BODY = """

class {cls}:
    def __init__(self, {arguments}):
        {assign}
        self.optimizer = None

    def update(self, params, grads):
        if self.optimizer is None:
            self.optimizer = FORM({config}, np.dtype(next(iter(params.values())).dtype))
        new = self.optimizer.apply(params, grads)
        for key in params:
            params[key][...] = new[key]
"""


def class_source(kind: str, name: str | None = None) -> str:
    """Deep Learning from Scratch's class for ``kind`` (SGD, Momentum, Adam, RMSprop, AdaGrad),
    its update(params, grads) writing into params in place, delegating to the convention or known
    mistake ``name`` (Keras's convention where None)."""
    arguments, assign, config = _CLASS[kind]
    body = _CLASS_BODY.format(cls=CLASS_NAMES[kind], arguments=arguments, assign=assign, config=config)
    return _HEADER.format(form=_form(kind, name)) + body


# Hand-written, as learners hand them in.

# deeplearning.ai's Adam as the assignment's solution writes it: the textbook convention
DLAI_ADAM = """\
import numpy as np


def initialize_adam(parameters):
    L = len(parameters) // 2
    v, s = {}, {}
    for l in range(1, L + 1):
        v["dW" + str(l)] = np.zeros(parameters["W" + str(l)].shape)
        v["db" + str(l)] = np.zeros(parameters["b" + str(l)].shape)
        s["dW" + str(l)] = np.zeros(parameters["W" + str(l)].shape)
        s["db" + str(l)] = np.zeros(parameters["b" + str(l)].shape)
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    L = len(parameters) // 2
    v_corrected, s_corrected = {}, {}
    for l in range(1, L + 1):
        for p in ("W", "b"):
            d = "d" + p + str(l)
            v[d] = beta1 * v[d] + (1 - beta1) * grads[d]
            v_corrected[d] = v[d] / (1 - beta1**t)
            s[d] = beta2 * s[d] + (1 - beta2) * np.power(grads[d], 2)
            s_corrected[d] = s[d] / (1 - beta2**t)
            step = v_corrected[d] / (np.sqrt(s_corrected[d]) + epsilon)
            parameters[p + str(l)] = parameters[p + str(l)] - learning_rate * step
    return parameters, v, s, v_corrected, s_corrected
"""

# the same, epsilon under the square root: an epsilon-placement finding
DLAI_ADAM_EPSILON_INSIDE = DLAI_ADAM.replace("(np.sqrt(s_corrected[d]) + epsilon)", "np.sqrt(s_corrected[d] + epsilon)")

# the same, beta2 typed 0.01 (for 0.999) in the signature: its updates are the textbook's for that
# beta2, and wrong: a hyperparameter finding
DLAI_ADAM_BETA2_TYPO = DLAI_ADAM.replace("beta2=0.999", "beta2=0.01")

# deeplearning.ai's momentum: v = beta v + (1 - beta) g, w = w - eta v
DLAI_MOMENTUM = """\
import numpy as np


def initialize_velocity(parameters):
    L = len(parameters) // 2
    v = {}
    for l in range(L):
        v["dW" + str(l + 1)] = np.zeros_like(parameters["W" + str(l + 1)])
        v["db" + str(l + 1)] = np.zeros_like(parameters["b" + str(l + 1)])
    return v


def update_parameters_with_momentum(parameters, grads, v, beta=0.9, learning_rate=0.01):
    L = len(parameters) // 2
    for l in range(L):
        v["dW" + str(l + 1)] = beta * v["dW" + str(l + 1)] + (1 - beta) * grads["dW" + str(l + 1)]
        v["db" + str(l + 1)] = beta * v["db" + str(l + 1)] + (1 - beta) * grads["db" + str(l + 1)]
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * v["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * v["db" + str(l + 1)]
    return parameters, v
"""

# Deep Learning from Scratch's momentum (common/optimizer.py), its update written out of place, as
# many copies do: a shape the update changes then reaches the audit (in place, numpy raises)
BOOK_MOMENTUM = """\
import numpy as np


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] = params[key] + self.v[key]
"""

# Updates that give a tensor back in another shape: (contract, optimizer, file, the finding's kind,
# the tensors it names)
SHAPE_SLIPS = {
    # v for a bias initialized with its weight's shape: the bias's own update, broadcast to it
    "dlai-state": (
        "dlai",
        "momentum",
        DLAI_MOMENTUM.replace(
            'v["db" + str(l + 1)] = np.zeros_like(parameters["b" + str(l + 1)])',
            'v["db" + str(l + 1)] = np.zeros_like(parameters["W" + str(l + 1)])',
        ),
        "state",
        ["b1", "b2"],
    ),
    "class-state": (
        "class",
        "momentum",
        BOOK_MOMENTUM.replace("self.v[key] = np.zeros_like(val)", "self.v[key] = np.zeros((len(val), 1))"),
        "state",
        ["b1", "b2"],
    ),
    # the bias's line reads the weight's velocity or gradient: a copy-paste slip
    "dlai-other-parameter": (
        "dlai",
        "momentum",
        DLAI_MOMENTUM.replace('- learning_rate * v["db" + str(l + 1)]', '- learning_rate * v["dW" + str(l + 1)]'),
        "other-parameter",
        ["b1", "b2"],
    ),
    "class-other-parameter": (
        "class",
        "momentum",
        BOOK_MOMENTUM.replace("- self.lr * grads[key]", '- self.lr * grads[key.replace("b", "W")]'),
        "other-parameter",
        ["b1", "b2"],
    ),
    # W given back transposed: no mistake explains the shape
    "dlai-wrong": (
        "dlai",
        "momentum",
        DLAI_MOMENTUM.replace(
            'parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * v["dW" + str(l + 1)]',
            'parameters["W" + str(l + 1)] = (parameters["W" + str(l + 1)] - learning_rate * v["dW" + str(l + 1)]).T',
        ),
        "wrong",
        ["W1", "W2"],
    ),
}

# Deep Learning from Scratch's Adam (common/optimizer.py): Keras's form, the bias corrections folded
# into the step size, epsilon 1e-7 added to sqrt(v), every constant exact
BOOK_ADAM = """\
import numpy as np


class Adam:
    \"\"\"Adam (http://arxiv.org/abs/1412.6980v8)\"\"\"

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)

        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)

        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
"""

# The book's RMSprop: epsilon added to sqrt(h), PyTorch's form; decay_rate its rho
BOOK_RMSPROP = """\
import numpy as np


class RMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)

        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
"""
