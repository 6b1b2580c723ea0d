"""The disk cache of the Keras side: a speed-up only, never trusted blindly.

Every test here gets an empty cache folder of its own.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from comparisons import cache, to_arrays
from comparisons.audit import keras_side
from comparisons.audit.keras_steps import run_context
from comparisons.cli import main
from comparisons.problems import PROBLEMS
from comparisons.run import initial_params, run_keras
from comparisons.spec import INITS, Spec

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache.set_enabled(True)
    keras_side.cache_clear()  # what an earlier test holds in memory would never reach this folder
    run_context.cache_clear()
    yield tmp_path / "xdg" / "backprop-vs-keras"
    cache.set_enabled(True)


def fresh_and_cached(compute: Callable[[], Any]) -> tuple[Any, Any, Any]:
    """The result with the cache off, then on (written), then on again (read)."""
    cache.set_enabled(False)
    fresh = compute()
    cache.set_enabled(True)
    return fresh, compute(), compute()


def assert_identical(actual: Any, desired: Any) -> None:
    if isinstance(desired, pd.DataFrame):
        pd.testing.assert_frame_equal(actual, desired, check_exact=True)
    elif isinstance(desired, dict):
        assert actual.keys() == desired.keys()
        for key in desired:
            assert_identical(actual[key], desired[key])
    else:
        assert actual.dtype == desired.dtype
        np.testing.assert_array_equal(actual, desired)


def audit_side(spec: Spec) -> dict[str, np.ndarray]:
    side = keras_side.__wrapped__(spec)  # past the in-process memo, to the disk
    return {"before": side.before, "after": side.after, "losses": side.losses, "grads": side.grads}


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_cached_and_fresh_are_bit_identical(empty_cache: Path, problem: str, init: str) -> None:
    spec = Spec.document(
        problem=problem, dtype="float32" if init == "random" else "float64", epochs=4, init=init, seed=2
    )
    for compute in (
        lambda: audit_side(spec),
        lambda: run_keras(spec, initial_params(spec)),
        lambda: initial_params(spec),
    ):
        fresh, written, read = fresh_and_cached(compute)
        assert_identical(written, fresh)
        assert_identical(read, fresh)
    assert len(list(empty_cache.glob("*.npz"))) == (3 if init == "keras" else 2)  # the keras init's weights too


def test_no_cache_reads_and_writes_nothing(empty_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--problem", "regression", "--dtype", "float64", "--epochs", "2", "--no-cache"]) == 0
    assert not empty_cache.exists()
    assert main(["check", "--problem", "regression", "--dtype", "float64", "--epochs", "2"]) == 0
    assert len(list(empty_cache.glob("*.npz"))) == 1
    assert main(["cache", "info", "--json"]) == 0
    capsys.readouterr()
    assert main(["cache", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["directory"], info["entries"]) == (str(empty_cache), 1)
    assert info["bytes"] > 0
    assert main(["cache", "clear"]) == 0
    assert capsys.readouterr().out == f"Removed 1 entries from {empty_cache}\n"
    assert list(empty_cache.glob("*")) == []


SPEC = Spec.document(problem="classification", epochs=3, init="random", seed=1)


def _only_entry(folder: Path) -> Path:
    [entry] = folder.glob("*.npz")
    return entry


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _change_an_array_keep_the_header(path: Path) -> None:
    with np.load(path, allow_pickle=False) as stored:
        members = {name: stored[name] for name in stored.files}
    members["grads"] = members["grads"] + 1.0
    with open(path, "wb") as out:
        np.savez(out, **members)


def _written_by_other_versions(path: Path) -> None:
    with np.load(path, allow_pickle=False) as stored:
        members = {name: stored[name] for name in stored.files}
    header = json.loads(str(members["__header__"][()]))
    header["key"]["environment"]["tensorflow"] = "2.0.0"
    members["__header__"] = np.array(json.dumps(header))
    with open(path, "wb") as out:
        np.savez(out, **members)


@pytest.mark.parametrize(
    ("damage", "notice"),
    [
        pytest.param(_truncate, "unreadable", id="truncated"),
        pytest.param(_flip_a_byte, "unreadable", id="corrupted"),
        pytest.param(_change_an_array_keep_the_header, "checksum mismatch", id="checksum"),
        pytest.param(_written_by_other_versions, "written for other settings or library versions", id="other-versions"),
    ],
)
def test_a_damaged_entry_is_ignored_recomputed_and_replaced(
    empty_cache: Path, capsys: pytest.CaptureFixture[str], damage: Callable[[Path], None], notice: str
) -> None:
    fresh = audit_side(SPEC)
    entry = _only_entry(empty_cache)
    damage(entry)
    again = audit_side(SPEC)
    err = capsys.readouterr().err
    assert err == f"comparisons: ignoring cache entry {entry.name} ({notice}); recomputing it\n" or (
        notice == "unreadable" and err.startswith(f"comparisons: ignoring cache entry {entry.name} (unreadable: ")
    )
    assert_identical(again, fresh)
    assert_identical(audit_side(SPEC), fresh)  # the entry was written anew
    assert capsys.readouterr().err == ""


def test_an_entry_from_other_library_versions_is_a_miss(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audit_side(SPEC)
    versions = cache.environment()
    monkeypatch.setattr(cache, "environment", lambda: versions | {"keras": "3.99.0"})
    audit_side(SPEC)
    assert len(list(empty_cache.glob("*.npz"))) == 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"lr": 0.002}, id="learning-rate"),
        pytest.param({"seed": 3}, id="seed"),
        pytest.param({"dtype": "float32"}, id="dtype"),
        pytest.param({"epochs": 4}, id="epochs"),
        pytest.param({"order": "shuffle"}, id="order"),
        pytest.param({"init": "seed"}, id="init"),
    ],
)
def test_any_setting_that_matters_misses(empty_cache: Path, change: dict[str, Any]) -> None:
    audit_side(SPEC)
    audit_side(SPEC.with_(**change))
    assert len(list(empty_cache.glob("*.npz"))) == 2


def test_other_data_misses(empty_cache: Path) -> None:
    spec = Spec.document(problem="regression", epochs=2)
    X, y = to_arrays(PROBLEMS["regression"].data(), PROBLEMS["regression"], "float64")
    run_keras(spec, initial_params(spec), (X, y[:, None]))
    changed = y.copy()
    changed[0] = 4.5
    run_keras(spec, initial_params(spec), (X, changed[:, None]))
    assert len(list(empty_cache.glob("*.npz"))) == 2


AUDITS = [
    ["audit", "examples/correct_classification.py", "--problem", "classification", "--epochs", "5", "--json"],
    ["audit", "examples/notebook_regression.py", "--problem", "regression", "--epochs", "5", "--json"],
    ["check", "--problem", "regression", "--epochs", "5"],
    ["formulas", "audit", "comparisons/sheets/document_classification.txt", "--network", "classification"],
]
DRIVER = """
import io, json, sys, contextlib
from comparisons.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    results.append([status, out.getvalue()])
print(json.dumps({"results": results, "tensorflow": "tensorflow" in sys.modules}))
"""


@pytest.mark.fresh  # the second run is a fresh Python of its own (seconds of start-up)
def test_a_second_run_does_not_import_tensorflow(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A matching audit, a diverging one, the main job and the formula audit: run here first,
    which computes the Keras side into the cache, then again in a fresh process, which finds
    it there and never imports TensorFlow."""
    monkeypatch.chdir(ROOT)
    first = []
    for argv in AUDITS:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = main(argv)
        first.append([status, out.getvalue()])
    assert len(list(empty_cache.glob("*.npz"))) >= len(AUDITS)
    env = {**os.environ, "XDG_CACHE_HOME": str(empty_cache.parent)}
    command = [sys.executable, "-c", DRIVER, json.dumps(AUDITS)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    second: dict[str, Any] = json.loads(done.stdout)
    assert second["tensorflow"] is False
    assert second["results"] == first
    assert [status for status, _ in first] == [0, 1, 0, 1]
