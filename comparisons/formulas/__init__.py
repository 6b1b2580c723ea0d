"""Formula sheets: the document's notation read (latex.py), derived (derive.py), and audited.

- latex.py      LaTeX formulas in the document's notation, parsed
- derive.py     the correct sheet for a network, derived symbolically
- sheet.py      a sheet as read, and what its audit finds
- gradients.py  the true partial derivatives: autodiff and finite differences, which must agree
- audit.py      every formula evaluated at many random points against them
- render.py     what an audit of a sheet says, as text and as JSON
"""
