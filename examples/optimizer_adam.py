"""deeplearning.ai's Adam as the assignment has it: the textbook convention (Kingma and Ba's Algorithm 1).

Audit it: python -m comparisons audit examples/optimizer_adam.py --contract dlai
"""

import numpy as np


def initialize_adam(parameters):
    L = len(parameters) // 2
    v, s = {}, {}
    for layer in range(1, L + 1):
        v["dW" + str(layer)] = np.zeros_like(parameters["W" + str(layer)])
        v["db" + str(layer)] = np.zeros_like(parameters["b" + str(layer)])
        s["dW" + str(layer)] = np.zeros_like(parameters["W" + str(layer)])
        s["db" + str(layer)] = np.zeros_like(parameters["b" + str(layer)])
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    L = len(parameters) // 2
    v_corrected, s_corrected = {}, {}
    for layer in range(1, L + 1):
        for p in ("dW", "db"):
            k = p + str(layer)
            v[k] = beta1 * v[k] + (1 - beta1) * grads[k]
            v_corrected[k] = v[k] / (1 - beta1**t)
            s[k] = beta2 * s[k] + (1 - beta2) * grads[k] ** 2
            s_corrected[k] = s[k] / (1 - beta2**t)
        parameters["W" + str(layer)] = parameters["W" + str(layer)] - learning_rate * v_corrected["dW" + str(layer)] / (
            np.sqrt(s_corrected["dW" + str(layer)]) + epsilon
        )
        parameters["b" + str(layer)] = parameters["b" + str(layer)] - learning_rate * v_corrected["db" + str(layer)] / (
            np.sqrt(s_corrected["db" + str(layer)]) + epsilon
        )
    return parameters, v, s, v_corrected, s_corrected
