"""The command line: ``python -m comparisons``.

- parser.py  every command's options, declared once, with their defaults
- specs.py   the runs the options ask for: every default they leave open, resolved in one place
- text.py    the main job's and the bench's results on the terminal
- main.py    each command's handler, and the exit statuses
"""

from comparisons.cli.main import main

__all__ = ["main"]
