"""The HTML pieces every page and Jupyter fragment is made of, escaped in one place."""

from __future__ import annotations

import html

__all__ = ["cell", "fragment", "headline", "image", "page", "row", "table"]

GOOD, BAD = "#070", "#b00"


def cell(text: str, css: str | None = None) -> str:
    return f"<td>{html.escape(text)}</td>" if css is None else f'<td class="{css}">{html.escape(text)}</td>'


def row(cells: list[str]) -> str:
    """A table row of plain text cells, each escaped."""
    return "<tr>" + "".join(cell(text) for text in cells) + "</tr>"


def table(header: list[str], body: str) -> str:
    """``body``: the rows, already rendered, with whatever line breaks the page keeps between them."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def headline(text: str, good: bool) -> str:
    """A verdict's sentence, bold, green where it holds and red where it does not."""
    return f'<p style="color:{GOOD if good else BAD}"><b>{html.escape(text)}</b></p>'


def image(png: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def fragment(body: str) -> str:
    """What Jupyter shows for a result: one block, styled by the notebook's own CSS."""
    return f'<div class="backprop-vs-keras">{body}</div>'


def page(title: str, style: str, body: str) -> str:
    """A self-contained page: no link, no script, everything inline."""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>\n{body}\n</body></html>\n"
    )
