"""One verdict on every machine: whatever imported TensorFlow first, and however it was configured,
Keras's side is computed with oneDNN off, on the CPU, and the cache never serves a result computed
under another configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from comparisons import cache
from comparisons.cli import main
from comparisons.run import initial_params, run_keras
from comparisons.spec import Spec
from reference import numerics, protocol, runner

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, tmp_path: Path, **env: str) -> Any:
    """``code`` in a fresh interpreter (its last line printed as JSON), with its own empty cache."""
    environment = {k: v for k, v in os.environ.items() if k != numerics.ONEDNN_VARIABLE}
    environment |= {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=environment, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


KERAS_FIRST = """
import json, keras  # as a notebook does: TensorFlow first, with whatever oneDNN it chose
import tensorflow as tf
from comparisons import Spec, compare
from reference import jobs, numerics, runner
spec = Spec.document(problem="regression", dtype="float32", epochs=20, init="random")
result = compare(spec)
found = {"verdict": result.verdict, "max_ulp": max(result.max_ulp_weights, result.max_ulp_loss),
         "onednn": [numerics.onednn_here(), numerics.fma_probe()], "child": "process" in runner._child}
if found["child"]:  # an error there is one line here
    try:
        runner.run("no_such_job")
    except RuntimeError as error:
        found["error"] = str(error)
# --device gpu's switches, without a GPU: one made visible, which soft placement runs on the CPU
real = tf.config.list_physical_devices
tf.config.list_physical_devices = lambda kind=None: ["GPU"] if kind == "GPU" else real(kind)
numerics.set_device("gpu")
arguments = {"sizes": [2, 2, 1], "activations": ["linear", "linear"], "dtype": "float32", "seed": 0}
_, found["gpu_state"] = jobs.run("initial_weights", arguments)
found["tf32"] = tf.config.experimental.tensor_float_32_execution_enabled()
print(json.dumps(found))
"""


@pytest.mark.fresh
@pytest.mark.parametrize(
    "setting",
    [
        pytest.param({}, id="keras-first-cpu-default"),  # on by default on AVX-512 VNNI/BF16 CPUs, else off
        pytest.param({"TF_ENABLE_ONEDNN_OPTS": "1"}, id="keras-first-onednn-on"),
    ],
)
def test_a_process_that_imported_keras_first_gets_the_identical_verdict(
    tmp_path: Path, setting: dict[str, str]
) -> None:
    """The document's float32 regression, in a process whose TensorFlow was imported before the
    harness, stays bit-identical; where oneDNN is on there (TensorFlow's answer and the probe's
    agree, in both states), Keras's side moved to the child, saying so. And --device gpu turns TF32
    off and op determinism on (global switches: a fresh process is the place to try them)."""
    found, stderr = _python(KERAS_FIRST, tmp_path, **setting)
    assert (found["verdict"], found["max_ulp"]) == ("identical", 0)
    onednn, probed = found["onednn"]
    assert probed is onednn
    assert found["child"] is onednn
    if setting:
        assert onednn is True
        assert found["error"] == "KeyError: 'no_such_job'"
    assert stderr.count(runner.NOTICE) == (1 if onednn else 0)
    # soft-placed on the CPU, and read back so: the runner would refuse such a result
    assert found["gpu_state"] == {
        "onednn": "on" if onednn else "off",
        "device": "cpu",
        "tf32": "off",
        "op_determinism": "on",
    }
    assert found["tf32"] is False


def test_a_job_interrupted_in_the_child_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its reply, still on its way, must never answer the next job: the child is stopped, and the
    next job starts a new one (a stand-in child here; test_a_child_that_died_is_replaced runs real ones)."""
    import subprocess
    import sys

    stand_in = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.buffer.read()"], stdin=subprocess.PIPE)
    monkeypatch.setitem(runner._child, "process", stand_in)
    monkeypatch.setitem(runner._child, "device", numerics.device())

    def interrupted(child: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_receive", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner._ask_child("trajectory", {})
    assert "process" not in runner._child
    assert stand_in.wait(timeout=10) == 0  # its stdin closed: it ended


@pytest.mark.long
def test_a_child_that_died_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same job here and in the child (forced), bit for bit, before and after the child is killed."""
    spec = Spec.document(problem="classification", dtype="float32", epochs=5, init="keras", order="shuffle")
    cache.set_enabled(False)
    try:
        here = run_keras(spec, initial_params(spec))
        monkeypatch.setattr(runner, "in_child", lambda: True)
        np.testing.assert_array_equal(run_keras(spec, initial_params(spec)).to_numpy(), here.to_numpy())
        runner._child["process"].kill()
        runner._child["process"].wait()
        np.testing.assert_array_equal(run_keras(spec, initial_params(spec)).to_numpy(), here.to_numpy())
    finally:
        runner.stop_child()
        cache.set_enabled(True)


@pytest.mark.parametrize(("value", "on"), [(None, False), ("1", True), ("0", False), ("true", True)])
def test_the_state_before_the_import_follows_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None, on: bool
) -> None:
    monkeypatch.setattr(numerics, "tensorflow_loaded", lambda: False)
    if value is None:
        monkeypatch.delenv(numerics.ONEDNN_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(numerics.ONEDNN_VARIABLE, value)
    assert numerics.onednn_here() is on


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("1", True),
        ("true", True),
        ("0", False),
        ("false", False),
        ("FALSE", False),
        # TensorFlow parses nothing else: the CPU's default stands, which may be on
        (" 0", True),
        ("off", True),
        ("", True),
    ],
)
def test_the_variable_is_read_as_tensorflow_reads_it(value: str, on: bool) -> None:
    assert numerics._truthy(value) is on


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Each Keras job this test runs, by name, in an empty cache of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache.set_enabled(True)
    ran: list[str] = []
    execute = runner._execute

    def counting(job: str, arguments: dict[str, Any]) -> Any:
        ran.append(job)
        return execute(job, arguments)

    monkeypatch.setattr(runner, "_execute", counting)
    return ran


def test_the_cache_never_serves_an_entry_of_another_configuration(
    counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One entry per configuration: asked for under another, a trajectory is computed anew."""
    spec = Spec.document(problem="regression", dtype="float32", epochs=3)
    params = initial_params(spec)
    run_keras(spec, params)
    run_keras(spec, params)
    assert counted == ["trajectory"]  # the second was served
    other = numerics.key() | {"onednn": "on"}
    execute = runner._execute
    with monkeypatch.context() as patch:
        patch.setattr(numerics, "key", lambda: other)
        patch.setattr(runner, "_execute", lambda job, arguments: (execute(job, arguments)[0], other))
        run_keras(spec, params)
    assert counted == ["trajectory", "trajectory"]
    run_keras(spec, params)
    assert counted == ["trajectory", "trajectory"]
    assert cache.info()["entries"] == 2


def test_a_result_computed_under_another_configuration_is_refused_and_never_cached(
    counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the issue saw: a trajectory computed with oneDNN on, filed under off."""
    spec = Spec.document(problem="regression", dtype="float32", epochs=3)
    params = initial_params(spec)
    execute = runner._execute

    def with_onednn_on(job: str, arguments: dict[str, Any]) -> Any:
        arrays, state = execute(job, arguments)
        return arrays, state | {"onednn": "on"}

    monkeypatch.setattr(runner, "_execute", with_onednn_on)
    with pytest.raises(RuntimeError, match="ran with oneDNN on, CPU, not oneDNN off, CPU: result discarded"):
        run_keras(spec, params)
    assert cache.info()["entries"] == 0


@pytest.fixture
def on_the_cpu_after() -> Iterator[None]:
    yield
    numerics.set_device("cpu")


def _gpus() -> list[Any]:
    import tensorflow as tf

    return list(tf.config.list_physical_devices("GPU"))


def test_device_gpu_without_a_gpu_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], on_the_cpu_after: None
) -> None:
    if _gpus():
        pytest.skip("a GPU is visible here: --device gpu runs")
    status = main(["--problem", "regression", "--epochs", "2", "--device", "gpu", "--no-cache"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err[-1] == "python -m comparisons: error: --device gpu: TensorFlow sees no GPU on this machine"


def test_a_visible_gpu_leaves_the_keras_side_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import tensorflow as tf

    from reference import keras_model

    real, device = tf.config.list_physical_devices, tf.device
    asked: list[str] = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["GPU"] if kind == "GPU" else real(kind))

    def spied(name: str) -> Any:
        asked.append(name)
        return device(name)

    monkeypatch.setattr(tf, "device", spied)
    with numerics.placed(tf):
        model = keras_model.build_model([2, 2, 1], ["linear", "linear"], "mean_squared_error", "float32")
        state = numerics.read_back(tf)
    assert asked == ["/CPU:0"]
    assert state["device"] == "cpu"
    assert all(w.value.device.endswith("CPU:0") for w in model.weights)


def test_a_message_carries_nested_arrays_and_plain_values() -> None:
    weights = [np.arange(4.0).reshape(2, 2), np.zeros(2, dtype=np.float32)]
    header = {"job": "j", "arguments": {"weights": weights, "sizes": [2, 2], "lr": 0.1, "opts": {"nesterov": True}}}
    body = protocol.encode(header, {"losses": np.ones(3)})
    decoded, arrays = protocol.decode(body)
    assert decoded["arguments"]["sizes"] == [2, 2]
    assert decoded["arguments"]["opts"] == {"nesterov": True}
    for actual, desired in zip(decoded["arguments"]["weights"], weights, strict=True):
        assert actual.dtype == desired.dtype
        np.testing.assert_array_equal(actual, desired)
    assert list(arrays) == ["losses"]
    assert [w.shape for w in protocol.unnumbered("w", protocol.numbered("w", weights))] == [(2, 2), (2,)]
