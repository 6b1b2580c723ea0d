"""A formula sheet's audit as text (a table of verdicts, then a summary per block) and as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from comparisons.render.columns import columns
from reference import numerics

if TYPE_CHECKING:  # read, never built, here: the sheet's audit renders itself through this module
    from comparisons.formulas.sheet import PageAudit, SheetAudit, Verdict

__all__ = ["page_json", "page_text", "sheet_json", "sheet_text"]


def _where(v: Verdict) -> str:
    return str(v.line) if v.cell is None else f"cell {v.cell}, line {v.line}"


def _detail(v: Verdict) -> str:
    if v.verdict == "mislabeled":
        return f"this is dL/d{v.actual}"
    if v.verdict == "factor":
        return f"{v.factor:g} times the true derivative"
    if v.verdict == "sign":
        return "the true derivative with the opposite sign"
    if v.verdict == "unknown-parameter":
        return f"the network has no parameter {v.parameter}"
    if v.verdict == "wrong":
        return "not the derivative of any parameter, up to sign or factor"
    if v.verdict == "skipped":
        return f"not read: {v.reason}"
    return ""


def _table(lines: list[Verdict], networks: list[str] | None = None) -> list[str]:
    header = ["line", *(["network"] if networks is not None else []), "parameter", "verdict", "detail"]
    rows = [header]
    for n, v in enumerate(lines):
        named = [networks[n]] if networks is not None else []
        rows.append([_where(v), *named, v.parameter or "", v.verdict, _detail(v)])
    return columns(rows)


def _summary(result: SheetAudit) -> str:
    formulas = [v for v in result.lines if v.verdict != "skipped"]
    correct = sum(v.verdict == "correct" for v in formulas)
    summary = f"{correct} of {len(formulas)} formulas correct for the {result.network} network"
    summary += f"; missing: {', '.join(result.missing) if result.missing else 'none'}"
    summary += f"; labelled twice: {', '.join(result.duplicates) if result.duplicates else 'none'}"
    skipped = len(result.lines) - len(formulas)
    return summary + (f"; skipped: {skipped} line{'s' if skipped > 1 else ''}" if skipped else "")


def sheet_text(result: SheetAudit) -> str:
    return "\n".join([*_table(result.lines), _summary(result)])


def page_text(result: PageAudit) -> str:
    """``--network auto``: one table in the page's order, each line with its block's network, then each block."""
    ordered = sorted(
        [(v, b.network) for b in result.blocks for v in b.lines] + [(v, "") for v in result.skipped],
        key=lambda pair: (pair[0].cell or 0, pair[0].line),
    )
    lines = _table([v for v, _ in ordered], [network for _, network in ordered])
    for n, block in enumerate(result.blocks, start=1):
        span = f"{_where(block.lines[0])} to {_where(block.lines[-1])}" if block.lines else ""
        lines.append(f"block {n} (lines {span}): {_summary(block)}")
    if result.skipped:
        one = len(result.skipped) == 1
        lines.append(
            f"skipped: {len(result.skipped)} line{'' if one else 's'} that mention{'s' if one else ''} "
            "a derivative but could not be read"
        )
    return "\n".join(lines)


def _verdict(v: Verdict) -> dict[str, Any]:
    entry: dict[str, Any] = {"line": v.line, "parameter": v.parameter, "verdict": v.verdict}
    for key in ("cell", "actual", "factor", "reason"):
        if getattr(v, key) is not None:
            entry[key] = getattr(v, key)
    return entry


def _sheet(result: SheetAudit) -> dict[str, Any]:
    return {
        "network": result.network,
        "lines": [_verdict(v) for v in result.lines],
        "missing": result.missing,
        "duplicates": result.duplicates,
    }


def sheet_json(result: SheetAudit) -> dict[str, Any]:
    # the true gradients were computed by Keras under this configuration
    return _sheet(result) | {"numerics": numerics.key()}


def page_json(result: PageAudit) -> dict[str, Any]:
    return {
        "network": "auto",
        "blocks": [_sheet(b) for b in result.blocks],
        "skipped": [_verdict(v) for v in result.skipped],
        "numerics": numerics.key(),
    }
