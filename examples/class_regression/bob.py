"""Bob: the notebook's lines, one parameter each, updated in place (W2 first)."""


def step(params, x, y, lr):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    O11 = W1[0, 0] * x[0] + W1[1, 0] * x[1] + b1[0]
    O12 = W1[0, 1] * x[0] + W1[1, 1] * x[1] + b1[1]
    y_hat = W2[0, 0] * O11 + W2[1, 0] * O12 + b2[0]
    g = lr * 2 * (y - y_hat)
    W2[0, 0] += g * O11
    W2[1, 0] += g * O12
    b2[0] += g
    W1[0, 0] += g * W2[0, 0] * x[0]
    W1[1, 0] += g * W2[0, 0] * x[1]
    b1[0] += g * W2[0, 0]
    W1[0, 1] += g * W2[1, 0] * x[0]
    W1[1, 1] += g * W2[1, 0] * x[1]
    b1[1] += g * W2[1, 0]
    return params, (y - y_hat) ** 2
