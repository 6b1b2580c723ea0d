"""Rows as the terminal's tables show them: left-aligned columns two spaces apart."""

from __future__ import annotations

__all__ = ["columns"]


def columns(rows: list[list[str]]) -> list[str]:
    """Each row a line, every column as wide as its widest cell, no trailing blanks."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
