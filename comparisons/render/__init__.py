"""Results as text, HTML, JSON and plots: one renderer per result type and format, no copies.

The renderers sit below the results they render: ``Comparison._repr_html_`` (and the
audit's ``__str__``, ``to_json``, ``_repr_html_``) call them, so they read the results
only as types, never importing them. This package renders the core's results; the
audit's and the formula sheets' renderers live in their own packages
(audit/render/, formulas/render.py), built from the pieces here, so the core never
needs to know their results' shapes.

- sentences.py  the main job's sentences and the summary's cells, written once for every format
- text.py       the main job's table, the bench's timings and the cache, on the terminal
- markdown.py   summary.md; tables.py the CSV per run
- html.py       a run in Jupyter, and report.html
- plots.py      a run's figures, as PNG
- page.py, columns.py  the pieces every renderer builds with: HTML, and the terminal's aligned columns
"""
