"""What a submission's process can do to the grader: only what it is meant to.

Each hostile step is audited the way a grader runs it (a process of its own); the
audit either finds it an error, with the reason, or is not affected at all.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from comparisons.audit import sandbox
from comparisons.cli import main
from reference import runner

CORRECT = """
import numpy as np


def step(params, x, y, lr):
    PROBE
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    h = x @ W1 + b1
    y_hat = h @ W2[:, 0] + b2[0]
    e = -2 * (y - y_hat)
    new = {"W1": W1 - lr * e * np.outer(x, W2[:, 0]), "b1": b1 - lr * e * W2[:, 0]}
    return new | {"W2": W2 - lr * e * h[:, None], "b2": b2 - lr * e}, (y - y_hat) ** 2
"""


def audit(capsys: pytest.CaptureFixture[str], path: Path, header: str = "", probe: str = "pass") -> dict[str, Any]:
    path.write_text(header + CORRECT.replace("PROBE", probe))
    main(["audit", str(path), "--problem", "regression", "--epochs", "2", "--json", "--timeout", "20"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def _pickling(marker: Path) -> str:
    """A header that swaps the result for a pickle whose loading would create ``marker``."""
    return f"""
import atexit, pickle, sys


class Payload:
    def __reduce__(self):
        return (open, ({str(marker)!r}, "w"))  # run by whoever unpickles it


def swap_the_result():
    with open(sys.argv[1], "wb") as result:
        result.write(pickle.dumps({{"runs": Payload()}}))


atexit.register(swap_the_result)
"""


def test_a_pickle_in_place_of_the_result_is_never_loaded(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    report = audit(capsys, tmp_path / "pickler.py", _pickling(marker))
    assert report["verdict"] == "error"
    assert "its process sent back something other than the audit's results (BadZipFile)" in report["error"]
    assert not marker.exists()


def _at_exit(action: str) -> str:
    return f"import atexit, os, sys\n\n\ndef at_exit():\n    {action}\n\n\natexit.register(at_exit)\n"


def _rewriting_the_result(edit: str, save: str = "savez") -> str:
    """A header that, at exit, rewrites the child's real result: ``edit`` changes ``arrays``."""
    return _at_exit(
        "import numpy as np\n    with np.load(sys.argv[1]) as real:\n"
        f"        arrays = {{k: real[k] for k in real.files}}\n    {edit}\n    np.{save}(sys.argv[1], **arrays)"
    )


def test_a_compressed_bomb_in_place_of_the_result_is_not_unpacked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A small file that would unpack to far more than any result: refused from the archive's directory."""
    bomb = _rewriting_the_result("arrays['runs.seed.params'] = np.zeros(1 << 22)", "savez_compressed")
    report = audit(capsys, tmp_path / "bomb.py", bomb)
    assert report["verdict"] == "error"
    assert report["error"].endswith("(runs.seed.params.npy compressed or too large)")


def test_a_probe_alone_in_place_of_the_result_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The first steps' losses sent back without the runs, though they name a group of the problem's."""
    probe_only = _rewriting_the_result("arrays = {k: v for k, v in arrays.items() if k.startswith('probe.')}")
    report = audit(capsys, tmp_path / "probe.py", probe_only)
    assert report["error"].endswith("something other than the audit's results (a probe alone)")


def test_a_fifo_in_place_of_the_result_does_not_hang_the_grader(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = audit(capsys, tmp_path / "fifo.py", _at_exit("os.unlink(sys.argv[1]); os.mkfifo(sys.argv[1])"))
    assert report["error"].endswith("something other than the audit's results (result.npz is not a plain file)")


def test_what_the_child_starts_dies_with_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    marker = tmp_path / "outlived"
    late = f"if os.fork() == 0:\n        import time; time.sleep(1.5); open({str(marker)!r}, 'w'); os._exit(0)"
    report = audit(capsys, tmp_path / "forker.py", _at_exit(late))
    assert report["verdict"] == "match"
    time.sleep(2.5)
    assert not marker.exists()


def test_the_graders_environment_is_not_seen(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_SECRET", "s3cret")
    probe = "import os\n    assert 'GRADER_SECRET' not in os.environ and 'HOME' not in os.environ, sorted(os.environ)"
    assert audit(capsys, tmp_path / "snoop.py", probe=probe)["verdict"] == "match"


def test_the_working_folder_is_empty_and_stdin_closed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "next_to_it.txt").write_text("the grader's own file")
    probe = "import os, sys\n    assert os.listdir('.') == [] and sys.stdin.read() == '', os.listdir('.')"
    assert audit(capsys, tmp_path / "looker.py", probe=probe)["verdict"] == "match"


def test_a_file_of_gigabytes_is_stopped_at_the_size_limit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    probe = (  # a gigabyte, a megabyte at a time
        "with open('big', 'wb') as f:\n        for _ in range(1024):\n            f.write(bytes(1 << 20))"
    )
    report = audit(capsys, tmp_path / "filler.py", probe=probe)
    assert (report["verdict"], report["error"]) == (
        "error",
        f"{tmp_path / 'filler.py'}: step wrote a file over the limit of 64 MiB (epoch 1, step 1) (filler.py line 8)",
    )


def test_a_flood_on_stderr_is_stopped_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    probe = "import sys\n    while True:\n        sys.stderr.write('x' * 65536)"
    report = audit(capsys, tmp_path / "shouter.py", probe=probe)
    assert report["error"].endswith("step wrote a file over the limit of 64 MiB (epoch 1, step 1) (shouter.py line 8)")


def test_cpu_time_is_limited_apart_from_the_wall_clock() -> None:
    """The CPU limit backs up the parent's timeout: a process that spins is stopped by the kernel."""
    code = "from comparisons.audit.limits import limit_resources\nlimit_resources(512, 1)\nwhile True:\n    pass\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
    assert done.returncode == -24  # SIGXCPU


# In the sandbox: a class of hostile submissions graded in one run, beside a correct and a buggy one.

needs_bwrap = pytest.mark.skipif(sandbox.problem() is not None, reason=f"no sandbox here: {sandbox.problem()}")
SECRET = "s3cret-of-the-grader"
SLEEPER = "1234.5"  # a fork loop's children sleep this long: found in the process table if they outlive it


def _hostile(folder: Path, home_file: Path, out: Path, port: int) -> dict[str, str]:
    """name: header run when the submission is imported; each raises if it gets what it must not."""
    beside, sibling = folder / "planted.txt", folder / "correct.py"
    tries_writes = f"""
import os
outside = [{str(beside)!r}, {str(home_file)!r}, {str(out / "planted.txt")!r}]
for target in outside + [__file__ + ".planted", "/planted", "/run/planted", "/run/audit/planted"]:
    try:
        with open(target, "w") as planted:
            planted.write("x")
    except OSError:
        continue
    raise RuntimeError("wrote " + target)
"""
    snoops = f"""
import os
if {SECRET!r} in str(os.environ) or any(map(os.path.exists, [{str(sibling)!r}, {str(home_file.parent / ".bashrc")!r}])):
    raise RuntimeError("saw the grader's environment or files")
"""
    calls = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
except OSError:
    pass
else:
    raise RuntimeError("connected to the grader's machine")
"""
    forks = f"""
import os
while True:
    if os.fork() == 0:
        os.execv("/usr/bin/sleep", ["sleep", {SLEEPER!r}])
"""
    kills = """
import os, signal
try:
    os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
except ProcessLookupError:  # in the sandbox: its parent's group holds nothing it may signal
    pass
os.kill(os.getppid(), signal.SIGKILL)
"""
    fills = "with open('big', 'wb') as f:\n    for _ in range(1024):\n        f.write(bytes(1 << 20))\n"
    hogs = "hoard = []\nwhile True:\n    hoard.append(bytearray(1 << 26))\n"
    spins = """
import threading


def spin():
    while True:
        pass


threading.Thread(target=spin, daemon=True).start()
spin()
"""
    return {
        "writer.py": tries_writes,
        "snoop.py": snoops,
        "caller.py": calls,
        "forker.py": forks,
        "killer.py": kills,
        "filler.py": fills,
        "hog.py": hogs,
        "spinner.py": spins,
    }


@pytest.mark.fresh  # the grader is a fresh Python of its own, as an instructor runs it (8-10 s)
@needs_bwrap
def test_a_hostile_class_is_contained_and_the_rest_graded(tmp_path: Path) -> None:
    from comparisons.audit import keras_side
    from comparisons.audit.grade import MARKER
    from comparisons.audit.keras_steps import run_context
    from comparisons.spec import INITS, Spec

    keras_side.cache_clear()  # held in memory from a test with a cache of its own: written to none we share

    run_context.cache_clear()
    for init in INITS:  # computed here, so the grader below finds them in the session's cache
        keras_side(Spec.document(problem="regression", epochs=5, init=init))
    folder, out = tmp_path / "class", tmp_path / "gradebook"
    folder.mkdir()
    out.mkdir()
    (out / MARKER).write_text("")  # an earlier gradebook, there while the class runs
    home_file = Path.home() / f"planted-{tmp_path.name}.txt"
    marker = tmp_path / "unpickled"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        for name, header in _hostile(folder, home_file, out, listener.getsockname()[1]).items():
            (folder / name).write_text(header + CORRECT.replace("PROBE", "pass"))
        (folder / "correct.py").write_text(CORRECT.replace("PROBE", "pass"))
        (folder / "buggy.py").write_text(CORRECT.replace("PROBE", "pass").replace("b1 - lr * e", "b1 - 2 * lr * e"))
        (folder / "pickler.py").write_text(_pickling(marker) + CORRECT.replace("PROBE", "pass"))
        argv = ["grade", str(folder), "--problem", "regression", "--epochs", "5", "--timeout", "4", "--memory", "512"]
        done = subprocess.run(
            [sys.executable, "-m", "comparisons", *argv, "--json", "--out", str(out), "--quiet"],
            capture_output=True,
            text=True,
            env=os.environ | {"GRADER_SECRET": SECRET},
            start_new_session=True,  # if containment failed, a killer would reach this group, not pytest's
            timeout=180,
            check=False,
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection arrived
    assert (done.returncode, done.stderr.replace(runner.NOTICE + "\n", "")) == (0, "")  # the notice: oneDNN on
    grades = {
        Path(g["path"]).name: (g["verdict"], g.get("error", "")) for g in map(json.loads, done.stdout.splitlines())
    }
    stopped = {name: (verdict, _kind(error)) for name, (verdict, error) in grades.items()}
    # as root the child is another uid and may not signal bwrap's first process; unprivileged, it is the
    # same uid inside a namespace of its own and may kill it, which ends its own sandbox: contained both ways
    killer = {("error", "no permission")} | ({("error", "killed")} if os.geteuid() != 0 else set())
    assert stopped.pop("killer.py") in killer, grades
    assert stopped == {
        "buggy.py": ("diverged", ""),
        "caller.py": ("match", ""),
        "correct.py": ("match", ""),
        "filler.py": ("error", "file size limit"),
        "forker.py": ("error", "process limit"),
        "hog.py": ("error", "memory limit"),
        "pickler.py": ("error", "not the audit's results"),
        "snoop.py": ("match", ""),
        "spinner.py": ("error", "time limit"),
        "writer.py": ("match", ""),
    }, grades
    assert [p for p in (folder / "planted.txt", home_file, marker) if p.exists()] == []
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "grades.csv", "grades.html"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(grades)
    sleepers = [p for p in Path("/proc").glob("[0-9]*/cmdline") if _read(p) == f"sleep\0{SLEEPER}\0"]
    assert sleepers == []


def _kind(error: str) -> str:
    """What stopped a submission, from its error line."""
    kinds = {
        "wrote a file over the limit of 64 MiB": "file size limit",
        "BlockingIOError": "process limit",
        "ran out of memory": "memory limit",
        "PermissionError": "no permission",
        "was killed": "killed",
        "something other than the audit's results": "not the audit's results",
        "did not finish within": "time limit",
        "used up its CPU time": "time limit",
    }
    return next((kind for text, kind in kinds.items() if text in error), error)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:  # a process that ended while we looked
        return ""


def test_grade_without_bwrap_says_how_to_install_it_or_go_without(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "available", lambda: None)
    monkeypatch.setattr(sandbox, "problem", sandbox.problem.__wrapped__)
    (tmp_path / "step.py").write_text(CORRECT.replace("PROBE", "pass"))
    argv = ["grade", str(tmp_path), "--problem", "regression", "--epochs", "2", "--json"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "python -m comparisons: error: bubblewrap (bwrap) is not installed: apt-get install bubblewrap "
        "(Debian, Ubuntu) or dnf install bubblewrap (Fedora), version 0.7 or later; or pass --no-sandbox "
        "to run grade's code under the process limits only\n"
    )
    assert main([*argv, "--no-sandbox"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "match"


def test_the_probes_catch_a_child_that_is_not_sandboxed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The hostile class's probes can fail: without bubblewrap the writer writes, the snoop sees
    its neighbour and the caller connects (each then raises, and is graded error saying so)."""
    folder, out = tmp_path / "class", tmp_path / "gradebook"
    folder.mkdir()
    out.mkdir()
    home_file = Path.home() / f"planted-{tmp_path.name}.txt"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        hostile = _hostile(folder, home_file, out, listener.getsockname()[1])
        for name in ("writer.py", "snoop.py", "caller.py"):
            (folder / name).write_text(hostile[name] + CORRECT.replace("PROBE", "pass"))
        (folder / "correct.py").write_text(CORRECT.replace("PROBE", "pass"))
        try:
            argv = ["grade", str(folder), "--problem", "regression", "--epochs", "5", "--no-sandbox", "--json"]
            assert main(argv) == 0
        finally:
            home_file.unlink(missing_ok=True)
    grades = {Path(g["path"]).name: g.get("error", "") for g in map(json.loads, capsys.readouterr().out.splitlines())}
    assert grades == {
        "caller.py": "importing it raised RuntimeError: connected to the grader's machine (caller.py line 8)",
        "correct.py": "",
        "snoop.py": "importing it raised RuntimeError: saw the grader's environment or files (snoop.py line 4)",
        "writer.py": f"importing it raised RuntimeError: wrote {folder / 'planted.txt'} (writer.py line 10)",
    }


def test_a_signal_through_bwrap_reads_as_popen_reports_it() -> None:
    """bwrap exits 128 + n for a child killed by signal n; the audit names signals by Popen's -n."""
    assert [sandbox.exit_status(s) for s in (0, 1, 2, 137, 152)] == [0, 1, 2, -9, -24]


def test_a_shape_from_a_step_that_has_no_forward_pass_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Text the parent would print as a note, sent back by a step contract's child."""
    forged = _rewriting_the_result("arrays['yhat_shape'] = np.array('\\x1b[31mred')")
    report = audit(capsys, tmp_path / "shape.py", forged)
    assert report["error"].endswith("something other than the audit's results (yhat_shape where none is due)")
