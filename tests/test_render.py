"""One renderer per result type and format, and no sentence written twice: the text and the HTML say the same."""

from __future__ import annotations

import ast
import html
import importlib
import re
import types
from pathlib import Path

import pytest

from comparisons.audit.findings import Finding
from comparisons.audit.model import Audit, AuditRun, Divergence
from comparisons.audit.render.html import audit_html
from comparisons.audit.render.json import audit_json
from comparisons.audit.render.text import audit_text
from comparisons.notebook import NotebookCode

ROOT = Path(__file__).resolve().parent.parent / "comparisons"

# (result, format) -> the one function that renders it. A bench's and the cache's results are
# plain dicts, their own JSON; everything else a command prints or writes is rendered here.
RENDERERS = {
    ("the main job's runs", "text"): "render.text.comparisons_text",
    ("the main job's runs", "markdown"): "render.markdown.summary_markdown",
    ("the main job's runs", "html"): "render.html.report_html",
    ("the main job's runs", "json"): "render.json.comparisons_json",
    ("a comparison", "html"): "render.html.comparison_html",
    ("a comparison", "csv"): "render.tables.run_csv",
    ("a comparison", "png"): "render.plots.figures",
    ("the bench", "text"): "render.text.bench_text",
    ("the cache", "text"): "render.text.cache_text",
    ("the cache, cleared", "text"): "render.text.cache_cleared_text",
    ("an audit", "text"): "audit.render.text.audit_text",
    ("an audit", "html"): "audit.render.html.audit_html",
    ("an audit", "json"): "audit.render.json.audit_json",
    ("an audit", "png"): "audit.render.plots.audit_figure",
    ("an optimizer's audit", "text"): "audit.render.text.optimizer_text",
    ("an optimizer's audit", "html"): "audit.render.html.optimizer_html",
    ("an optimizer's audit", "json"): "audit.render.json.optimizer_json",
    ("a graded class", "text"): "audit.render.text.grades_text",
    ("a graded class", "html"): "audit.render.html.gradebook_html",
    ("a graded class", "csv"): "audit.render.tables.grades_csv",
    ("a graded submission", "json"): "audit.render.json.grade_json",
    ("a graded submission", "gradescope"): "audit.render.json.gradescope_json",
    ("a graded class", "otter"): "audit.render.tables.final_grades_csv",
    ("a score", "json"): "audit.render.json.score_json",
    ("a score", "student text"): "audit.render.feedback.feedback",
    ("a score of an error", "student text"): "audit.render.feedback.error_feedback",
    ("a sheet's audit", "text"): "formulas.render.sheet_text",
    ("a sheet's audit", "json"): "formulas.render.sheet_json",
    ("a page's audit", "text"): "formulas.render.page_text",
    ("a page's audit", "json"): "formulas.render.page_json",
}
# what the renderers are built from: HTML pieces, aligned columns, and the sentences shared by formats
PIECES = {
    "render.page",
    "render.columns",
    "render.plots.png_base64",
    "render.sentences",
    "audit.render.sentences",
    "audit.render.feedback.student_text",  # a message with the grading machine taken out
}


def _renderer_modules() -> list[str]:
    """Every module of a render package, and formulas/render.py: ``render.text``, ``audit.render.html``."""
    found = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in sorted(ROOT.rglob("*.py"))
        if "render" in p.relative_to(ROOT).parts or p.stem == "render"
    ]
    return [name for name in found if not name.endswith("__init__")]


def test_every_renderer_is_the_only_one_of_its_result_and_format() -> None:
    """A function a renderer module makes public either is the one renderer the table names for a
    result and format, or a piece the renderers share: a second renderer fails here until it
    replaces the first."""
    public = set()
    for name in _renderer_modules():
        if name in PIECES:
            continue
        module = importlib.import_module(f"comparisons.{name}")
        public |= {
            f"{name}.{item}"
            for item in module.__all__
            if isinstance(getattr(module, item), types.FunctionType) and f"{name}.{item}" not in PIECES
        }
    assert public == set(RENDERERS.values())
    assert len(set(RENDERERS.values())) == len(RENDERERS)  # no function renders two results


_MARKUP = re.compile(r"<(!DOCTYPE|html|body|p|div|table|tr|td|th|img|li|ol|pre|details|h1|h2|section)\b")


OTHERS = [p for p in sorted(ROOT.rglob("*.py")) if "render" not in p.relative_to(ROOT).parts and p.stem != "render"]


@pytest.mark.parametrize("path", OTHERS, ids=[str(p.relative_to(ROOT)) for p in OTHERS])
def test_html_is_written_by_the_renderers_alone(path: Path) -> None:
    """No module but a renderer holds markup, or escapes it: a second HTML copy of a result fails here."""
    tree = ast.parse(path.read_text())
    markup = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert [text for text in markup if _MARKUP.search(text)] == []
    assert "html" not in {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}


def _text_of(page: str) -> str:
    """The words a browser shows, one block (a paragraph, a row, an item) a line, cells a space apart."""
    page = re.sub(r"</(td|th)>", " ", page)
    page = re.sub(r"</(p|tr|li|ol)>|<br>", "\n", page)
    page = html.unescape(re.sub(r"<[^>]+>", "", page))
    return "\n".join(" ".join(line.split()) for line in page.splitlines())


PARAMETERS = [
    {"name": "w^1_11", "array": "W1", "index": [0, 0], "user": 0.25, "keras": 0.125, "distance": 1.0},
    {"name": "b_21", "array": "b2", "index": [0], "user": 0.5, "keras": 0.0078125, "distance": 4.92},
]
FIRST = {"init": "seed", "epoch": 1, "step": 2}


def _finding(kind: str, message: str) -> Finding:
    return Finding(kind, ["b_21"], [{"array": "b2", "index": [0]}], None, None, None, None, FIRST, message)


def _audit(runs: list[AuditRun], **changes: object) -> Audit:
    fields: dict[str, object] = {
        "path": "alice's <step>.py",
        "func": "step",
        "problem": "regression",
        "dtype": "float64",
        "epochs": 5,
        "order": "sequential",
        "threshold": 1e-10,
        "runs": runs,
    }
    return Audit(**(fields | changes))  # type: ignore[arg-type]


def _divergence(init: str, batch: list[int] | None = None) -> Divergence:
    return Divergence(init, 1, 2, 1, {"cgpa": 8.0, "package": 4.0}, PARAMETERS, batch or [])


AUDITS = {
    "diverged, with findings and known bugs": _audit(
        [AuditRun("seed", 3.1, _divergence("seed")), AuditRun("random", 0.0, None)],
        findings=[_finding("not-updated", "b_21 (b2[0]): never updated"), _finding("sign", "b_21 & <sign>")],
        bugs=["b2-from-W2"],
        notebook=NotebookCode(cells=4, kept=[(1, ast.Pass()), (3, ast.Pass())], skipped=2),
    ),
    "diverged only from Keras's state, in batches, on a network": _audit(
        [AuditRun("keras", 1e-12, None, _divergence("keras", batch=list(range(10))))],
        findings=[
            Finding(
                "activation-derivative",
                ["W1", "b1"],
                [{"array": "W1", "index": None}, {"array": "b1", "index": None}],
                None,
                None,
                None,
                1,
                FIRST,
                "layer 1 (tanh): its delta multiplies by 1 - O, where tanh's slope is 1 - O^2",
            )
        ],
    ),
    "diverged, every update right": _audit([AuditRun("seed", 2.0, _divergence("seed"))]),
    "a match under init seed alone": _audit([AuditRun("seed", 0.0, None)]),
}


@pytest.mark.parametrize("result", AUDITS.values(), ids=AUDITS.keys())
def test_the_html_says_every_sentence_of_the_text(result: Audit) -> None:
    """The first divergence, the diagnosis, the known bugs, every note: said once, shown by both.
    Only the layout differs: the per-init lines and the findings' first lines become table cells
    and list items, which must carry the same words."""
    shown = _text_of(audit_html(result))
    for line in audit_text(result).splitlines():
        words = " ".join(line.split())
        init = re.fullmatch(r"init (\w+): (.*) \(max distance (\S+)\)", words)
        finding = re.fullmatch(r"\d+\. ([\w-]+), (first at .*)", words)
        if init is not None:
            run = next(r for r in result.runs if r.init == init[1])
            assert f"{init[1]} {run.verdict} {init[2]} {init[3]}" in shown
        elif finding is not None:
            assert f"{finding[1]} ({finding[2]}):" in shown
        else:
            assert words in shown, line


def test_the_first_divergence_reads_the_same_in_text_and_html() -> None:
    """The sentence that drifted before the renderers were one: the HTML had lost "(each step from
    Keras's state)" and the known bugs' wording."""
    result = AUDITS["diverged only from Keras's state, in batches, on a network"]
    sentence = "First divergence (each step from Keras's state): init keras, epoch 1, step 2, rows 0, 1, 2, 3, 4, 5"
    assert sentence in audit_text(result)
    assert html.escape(sentence) in audit_html(result)


@pytest.mark.parametrize(("values", "more"), [(12, None), (13, "... and 1 more"), (288, "... and 276 more")])
def test_a_long_first_divergence_shows_twelve_values_and_counts_the_rest(values: int, more: str | None) -> None:
    """A network of one's own can flag hundreds of values: the text and the HTML show the first
    twelve and say how many more; the JSON keeps every one."""
    parameters = [PARAMETERS[0] | {"name": f"w{k}", "index": [0, k]} for k in range(values)]
    divergence = Divergence("seed", 1, 2, 1, {"cgpa": 8.0, "package": 4.0}, parameters, [])
    result = _audit([AuditRun("seed", 3.1, divergence)])
    text = audit_text(result)
    assert [line.split()[0] for line in text.splitlines() if line.startswith("  w")] == [f"w{k}" for k in range(12)]
    counted = [line for line in text.splitlines() if "more values over the threshold" in line]
    expected = [] if more is None else [f"  {more} values over the threshold (--json lists every one)"]
    assert counted == expected
    assert (more is not None) == (f"{more} values over the threshold" in audit_html(result))
    assert len(audit_json(result)["first_divergence"]["parameters"]) == values


def test_the_cores_renderers_know_no_capability() -> None:
    """render/ renders the core's results; the audit's and the sheets' renderers build on it, never
    the other way: the core stays readable, and testable, without the audit or the formula sheets."""
    from tests.test_architecture import MODULES, _module_imports

    for name in (n for n in MODULES if n.split(".")[0] == "render"):
        assert {m for m in _module_imports(MODULES[name]) if m.split(".")[0] in ("audit", "formulas", "cli")} == set()
