"""The audit's results rendered: an audit, and a graded class, each once per format.

They sit below the results (model.py, grade.py), which render themselves through
them; so they read the results only as types. The sentences both the text and the
HTML say are written once, in sentences.py.

- sentences.py  every sentence of an audit, for the text and the HTML alike
- text.py       what the CLI prints: an audit, a class's grades
- html.py       what Jupyter shows of an audit, and grades.html
- json.py       what --json prints: an audit, a graded submission
- tables.py     grades.csv; plots.py the audit's plot
"""
