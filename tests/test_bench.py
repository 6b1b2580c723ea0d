"""``python -m comparisons bench``: both Keras paths on the same work, and whether they agree."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import comparisons.bench
from comparisons.cli import main
from comparisons.run import run_keras
from comparisons.spec import Spec
from manual import Params


def test_bench_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--epochs", "2", "--json", "--part", "keras"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"numerics", "epochs", "plain_s", "fast_s", "speedup", "identical", "manual_s"}
    assert result["numerics"] == {"onednn": "off", "device": "cpu"}
    assert result["epochs"] == 2
    assert result["identical"] is True
    assert result["plain_s"] > 0
    assert result["fast_s"] > 0
    assert result["manual_s"] > 0


def test_bench_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--epochs", "1", "--part", "keras"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 epochs of both problems (float64), per-epoch weights and losses:\n")
    assert "trajectories identical (plain vs fast, bit for bit)" in out


def test_bench_notices_when_the_paths_differ(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def off_by_one_ulp(spec: Spec, params: Params, path: str = "fast") -> pd.DataFrame:
        trajectory = run_keras(spec, params, path=path)
        if path == "plain":
            trajectory.loc[trajectory.index[-1], "b_21"] = np.nextafter(trajectory["b_21"].iloc[-1], np.inf)
        return trajectory

    monkeypatch.setattr(comparisons.bench, "run_keras", off_by_one_ulp)
    assert main(["bench", "--epochs", "1", "--json", "--part", "keras"]) == 1
    assert json.loads(capsys.readouterr().out)["identical"] is False


@pytest.mark.long  # two fresh processes, one importing TensorFlow (about 10 s); test_cache's fresh-process
# test holds the property it times (a cached repeat never imports TensorFlow) in the default run
def test_bench_audit_times_a_first_and_a_cached_repeat(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--part", "audit", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {
        "numerics",
        "audit_file",
        "audit_first_s",
        "audit_repeat_s",
        "audit_ratio",
        "audit_identical",
    }
    assert result["audit_identical"] is True
    assert result["audit_repeat_s"] > 0
    assert result["audit_ratio"] == round(result["audit_repeat_s"] / result["audit_first_s"], 3)


def test_bench_audit_needs_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["bench", "--part", "audit", "--audit-file", str(tmp_path / "none.py")]) == 2
    assert "no such step file to audit" in capsys.readouterr().err


def test_bench_diagnosis_times_a_network_audit_and_its_diagnosis(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The part's own network, on fewer rows and epochs: the same step, the same finding."""
    small = comparisons.bench.BENCH_DIAGNOSIS.with_(rows=16, epochs=2)
    monkeypatch.setattr(comparisons.bench, "BENCH_DIAGNOSIS", small)
    assert main(["bench", "--part", "diagnosis", "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"numerics", "diagnosis_network", "diagnosis_audit_s", "diagnosis_s", "diagnosis_kinds"}
    assert result["diagnosis_network"] == (
        "3-16-16-3 tanh,tanh,softmax categorical_crossentropy sgd(lr 0.01) batch 8, 16 rows, 2 epochs, float64, "
        "inits seed, random, keras"
    )
    assert result["diagnosis_kinds"] == ["activation-derivative"]  # layer 2's slope: one finding, not four
    assert result["diagnosis_audit_s"] > 0
    assert result["diagnosis_s"] > 0


def test_bench_diagnosis_step_imports_only_numpy() -> None:
    tree = ast.parse(comparisons.bench.DIAGNOSIS_STEP)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported == {"numpy"}
    assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
