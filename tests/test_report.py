"""``python -m comparisons report``: the files, their structure, their bytes, and atomic replacement."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import comparisons.report
from comparisons.cli import main

LABELS = [f"{p}-{d}-sequential-seed" for p in ("regression", "classification") for d in ("float32", "float64")]
VALUES = ["loss", "w^1_11", "w^1_12", "w^1_21", "w^1_22", "b_11", "b_12", "w^2_11", "w^2_21", "b_21"]


def _report(capsys: pytest.CaptureFixture[str], out: Path, *extra: str) -> tuple[int, str, str]:
    status = main(["report", "--out", str(out), "--epochs", "3", *extra])
    stdout, stderr = capsys.readouterr()
    return status, stdout, stderr


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "default"
    assert main(["report", "--out", str(out), "--epochs", "3"]) == 0
    return out


def test_files(report: Path) -> None:
    names = sorted(p.name for p in report.iterdir())
    assert names == sorted([".comparisons-report", "report.html", "summary.md", *(f"{label}.csv" for label in LABELS)])


def test_csv_has_both_sides_and_differences_per_epoch(report: Path) -> None:
    data = pd.read_csv(report / "regression-float64-sequential-seed.csv")
    expected = ["epoch"] + [f"{v} {side}" for v in VALUES for side in ("manual", "keras", "abs diff", "ulp")]
    assert list(data.columns) == expected
    assert data["epoch"].tolist() == [1, 2, 3]
    assert (data["b_21 manual"] == data["b_21 keras"]).all()  # regression: bit-identical, through the CSV too
    assert (data[[f"{v} ulp" for v in VALUES]] == 0).all().all()


def test_summary(report: Path) -> None:
    text = (report / "summary.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| problem | dtype | order | init | epochs | learning rate | final loss (manual) |")
    assert [row.split(" | ")[0:2] for row in rows[1:]] == [
        ["| regression", "float32"],
        ["| regression", "float64"],
        ["| classification", "float32"],
        ["| classification", "float64"],
    ]
    for name in ("Python", "TensorFlow", "Keras", "numpy"):
        assert re.search(rf"^- {name}: \d", text, re.MULTILINE), name


def test_html_is_self_contained(report: Path) -> None:
    page = (report / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2 * len(LABELS)  # loss/ULP and parameters, per run
    assert not re.search(r"(src|href)=\"(?!data:)", page), "external reference"
    assert "<script" not in page
    assert "url(" not in page
    assert "<link" not in page
    assert page.count("<tr>") == 1 + len(LABELS)


def test_same_command_same_bytes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Twice the same command, a second process's worth of state in between (its own folder):
    the same bytes in every file but the page's pictures, whose PNG encoder is matplotlib's."""
    once, again = tmp_path / "once", tmp_path / "again"
    for out in (once, again):
        status, _, stderr = _report(capsys, out, "--problem", "regression", "--dtype", "float64")
        assert (status, stderr) == (0, "")  # and quiet where stderr is not a terminal
    names = sorted(p.name for p in once.iterdir() if p.name != "report.html")
    assert names == [".comparisons-report", "regression-float64-sequential-seed.csv", "summary.md"]
    for name in names:
        assert (again / name).read_bytes() == (once / name).read_bytes(), name


def test_a_mismatch_still_writes_the_report_and_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "bug"
    argv = ["--problem", "regression", "--dtype", "float64", "--implementation", "b2-from-W2"]
    status, stdout, _ = _report(capsys, out, *argv)
    assert status == 1
    assert "MISMATCH from epoch 1" in (out / "summary.md").read_text()
    assert 'class="bad"' in (out / "report.html").read_text()
    assert f"open {out / 'report.html'}" in stdout


def test_replaces_an_earlier_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "r"
    _report(capsys, out, "--problem", "regression", "--dtype", "float64")
    _report(capsys, out, "--problem", "classification", "--dtype", "float32")
    assert sorted(p.name for p in out.glob("*.csv")) == ["classification-float32-sequential-seed.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no staging or retired folders left


def test_refuses_a_folder_that_is_not_a_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    status, stdout, stderr = _report(capsys, tmp_path)
    assert (status, stdout) == (2, "")
    assert stderr.startswith(
        f"python -m comparisons: error: {tmp_path}: folder is not empty and holds no earlier report"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_interrupted_run_leaves_the_previous_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "r"
    _report(capsys, out, "--problem", "regression", "--dtype", "float64")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(comparisons.report, "report_html", interrupted)
    status, _, stderr = _report(capsys, out, "--problem", "classification", "--dtype", "float32")
    assert (status, stderr) == (130, "python -m comparisons: interrupted\n")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_out_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--epochs", "2"]) == 2
    assert capsys.readouterr().err == "python -m comparisons: error: the following arguments are required: --out\n"
