"""What a typed option accepts: each parser raises argparse's error, which names the option."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["fraction", "learning_rate", "names", "whole_number", "widths"]


def whole_number(minimum: int, below: str) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``; ``below`` says what a smaller one is."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is {below}")
        return value

    return parse


def learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive finite number")
    return value


def widths(text: str) -> tuple[int, ...]:
    try:
        parsed = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of widths, like 3,5,4,2") from None
    if len(parsed) < 2 or min(parsed) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: an input and an output width at least, each 1 or more")
    return parsed


def names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(","))


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not in [0, 1)")
    return value


def cell_range(text: str) -> tuple[int, int]:
    """``A-B`` (or one cell ``A``), cells numbered from 1 as Jupyter's place among all the cells."""
    first, _, last = text.partition("-")
    try:
        bounds = (int(first), int(last or first))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range of cells, like 1-8") from None
    if bounds[0] < 1 or bounds[1] < bounds[0]:
        raise argparse.ArgumentTypeError(f"{text!r}: cells are numbered from 1, the first no later than the last")
    return bounds
