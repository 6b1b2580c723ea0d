"""The command line: ``python -m comparisons``.

- options.py every command's options in one table: each declared once, with its help and its default
- values.py  what a typed option accepts (whole numbers, rates, widths, names)
- parser.py  each command's parser, built from the table
- specs.py   the defaults the options leave open, resolved in one place, and the runs they ask for
- text.py    the line that says what the main job ran (render/ prints its results and the bench's)
- main.py    each command's handler, and the exit statuses
"""

from comparisons.cli.main import main

__all__ = ["main"]
