"""The document's exact per-row stack: one row, one SGD update, the 2-2-1 networks' formulas."""
