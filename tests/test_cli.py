"""``python -m comparisons``: the table, the exit status, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from comparisons.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_main_job_matches_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, "--epochs", "5")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[1].split()[:5] == ["problem", "dtype", "order", "init", "epochs"]
    rows = [line.split() for line in lines[2:6]]
    assert [tuple(r[:5]) for r in rows] == [
        ("regression", "float32", "sequential", "seed", "5"),
        ("regression", "float64", "sequential", "seed", "5"),
        ("classification", "float32", "sequential", "seed", "5"),
        ("classification", "float64", "sequential", "seed", "5"),
    ]
    assert [r[-1] for r in rows[:2]] == ["identical", "identical"]
    assert lines[-1] == "4 of 4 runs match Keras after every epoch"


def test_all_orders_and_inits(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys, "--problem", "regression", "--dtype", "float64", "--order", "all", "--init", "all", "--epochs", "2"
    )
    assert status == 0
    assert out.splitlines()[-1] == "9 of 9 runs match Keras after every epoch"


def test_same_command_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--problem", "classification", "--order", "shuffle", "--init", "random", "--seed", "7", "--epochs", "4")
    assert _run(capsys, *args) == _run(capsys, *args)


def test_a_known_bug_is_a_mismatch_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "--problem", "regression", "--implementation", "b2-from-W2", "--epochs", "3")
    assert status == 1
    assert "MISMATCH from epoch 1" in out
    assert out.splitlines()[-1] == "0 of 2 runs match Keras after every epoch"


def test_csv_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "more.csv"
    path.write_text("cgpa,resume_score,package\n8,8,4\n7,9,5\n6,10,6\n5,12,7\n9,7,3\n")
    status, out, _ = _run(capsys, "--problem", "regression", "--data", str(path), "--epochs", "3")
    assert status == 0
    assert "2 of 2 runs match" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--epochs", "0"], "argument --epochs: '0' is not a positive whole number", id="epochs-zero"),
        pytest.param(["--epochs", "ten"], "argument --epochs: 'ten' is not a whole number", id="epochs-text"),
        pytest.param(["--lr", "-1"], "argument --lr: '-1' is not a positive finite number", id="lr-negative"),
        pytest.param(["--lr", "nan"], "argument --lr: 'nan' is not a positive finite number", id="lr-nan"),
        pytest.param(["--seed", "-3"], "argument --seed: '-3' is negative", id="seed-negative"),
        pytest.param(["--order", "random"], "argument --order: invalid choice: 'random'", id="order"),
        pytest.param(["--bogus"], "unrecognized arguments: --bogus", id="unknown-option"),
        pytest.param(["--data", "x.csv"], "--data needs a single --problem", id="data-without-problem"),
        pytest.param(
            ["--problem", "regression", "--data", "/nonexistent/x.csv"],
            "/nonexistent/x.csv: no such file",
            id="data-missing",
        ),
        pytest.param(
            ["--problem", "regression", "--implementation", "sigmoid-derivative-dropped"],
            "known bug 'sigmoid-derivative-dropped' does not apply to the regression problem",
            id="bug-for-other-problem",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    status, out, err = _run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("python -m comparisons: error: ")
    assert message in err


@pytest.mark.fresh  # python -m comparisons, a fresh Python that imports TensorFlow
def test_module_entry_point_is_quiet_on_stderr() -> None:
    """The real command, as a user types it: no TensorFlow start-up noise, no traceback."""
    ok = subprocess.run(
        [sys.executable, "-m", "comparisons", "--problem", "regression", "--dtype", "float64", "--epochs", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ok.returncode, ok.stderr) == (0, "")
    bad = subprocess.run(
        [sys.executable, "-m", "comparisons", "--dtype", "float16"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("python -m comparisons: error: argument --dtype: invalid choice: 'float16'")
