"""Bad input: one line that names the problem, exit status 2, no traceback."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(Exception):
    """Raised for bad user input; the CLI prints ``str(error)`` alone and exits 2."""
