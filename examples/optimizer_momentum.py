"""deeplearning.ai's momentum: v = beta v + (1 - beta) g, w = w - lr v.

Audit it: python -m comparisons audit examples/optimizer_momentum.py --contract dlai --optimizer sgd --momentum 0.9
"""

import numpy as np


def initialize_velocity(parameters):
    L = len(parameters) // 2
    return {f"d{p}{layer}": np.zeros_like(parameters[f"{p}{layer}"]) for layer in range(1, L + 1) for p in "Wb"}


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    L = len(parameters) // 2
    for layer in range(1, L + 1):
        for p in "Wb":
            v[f"d{p}{layer}"] = beta * v[f"d{p}{layer}"] + (1 - beta) * grads[f"d{p}{layer}"]
            parameters[f"{p}{layer}"] = parameters[f"{p}{layer}"] - learning_rate * v[f"d{p}{layer}"]
    return parameters, v
