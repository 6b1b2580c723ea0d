"""What a submission's process can do to the grader: only what it is meant to.

Each hostile step is audited the way a grader runs it (a process of its own); the
audit either finds it an error, with the reason, or is not affected at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from comparisons.cli import main

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


def test_a_pickle_in_place_of_the_result_is_never_loaded(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    header = f"""
import atexit, pickle, sys


class Payload:
    def __reduce__(self):
        return (open, ({str(marker)!r}, "w"))  # run by whoever unpickles it


def swap_the_result():
    with open(sys.argv[2], "wb") as result:
        result.write(pickle.dumps({{"runs": Payload()}}))


atexit.register(swap_the_result)
"""
    report = audit(capsys, tmp_path / "pickler.py", header)
    assert report["verdict"] == "error"
    assert "its process sent back something other than the audit's results (BadZipFile)" in report["error"]
    assert not marker.exists()


def _at_exit(action: str) -> str:
    return f"import atexit, os, sys\n\n\ndef at_exit():\n    {action}\n\n\natexit.register(at_exit)\n"


def test_a_compressed_bomb_in_place_of_the_result_is_not_unpacked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A small file that would unpack to far more than any result: refused from the archive's directory."""
    bomb = (
        "import numpy as np\n    with np.load(sys.argv[2]) as real:\n"
        "        arrays = {k: real[k] for k in real.files}\n"
        "    arrays['runs.seed.params'] = np.zeros(1 << 24)\n    np.savez_compressed(sys.argv[2], **arrays)"
    )
    report = audit(capsys, tmp_path / "bomb.py", _at_exit(bomb))
    assert report["verdict"] == "error"
    assert report["error"].endswith("(runs.seed.params.npy compressed or too large)")


def test_a_fifo_in_place_of_the_result_does_not_hang_the_grader(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = audit(capsys, tmp_path / "fifo.py", _at_exit("os.unlink(sys.argv[2]); os.mkfifo(sys.argv[2])"))
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
    code = "from comparisons.audit_worker import limit_resources\nlimit_resources(512, 1)\nwhile True:\n    pass\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
    assert done.returncode == -24  # SIGXCPU
