"""Erin: handed in before it ran."""


def step(params, x, y, lr)
    return params, 0.0
