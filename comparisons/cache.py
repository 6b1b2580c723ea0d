"""A disk cache of what the Keras side computes, so a repeat run never imports TensorFlow.

An entry is one ``.npz`` file of plain numpy arrays (read with
``allow_pickle=False``: reading it cannot run code) holding, beside the arrays,
a JSON header: the full key it was computed for and a SHA-256 of every array.
Its name is a hash of that key. The key holds every setting that determines
the result, a hash of the data, and the versions and numerical settings that
can change the last bits (TensorFlow, Keras, numpy, the numerical
configuration of reference/numerics.py, the machine). An entry is trusted only if it loads, its key is the one asked for
and every checksum holds; otherwise it is ignored, with a one-line notice on
stderr, and recomputed. Entries are written to a temporary file and renamed
into place, so a reader never sees half of one.

Where: ``$XDG_CACHE_HOME/backprop-vs-keras``, else the platform's usual cache
folder (``~/.cache``, ``~/Library/Caches``, ``%LOCALAPPDATA%``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from reference import numerics

__all__ = ["clear", "data_hash", "directory", "enabled", "fetch", "info", "set_enabled"]

SCHEMA = 2  # bump when an entry's layout or meaning changes
_HEADER = "__header__"
_state = {"enabled": True}


def set_enabled(on: bool) -> None:
    """``--no-cache``: compute everything, read and write nothing."""
    _state["enabled"] = on


def enabled() -> bool:
    return _state["enabled"]


def directory() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        base = Path(xdg)
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path.home() / ".cache"
    return base / "backprop-vs-keras"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def environment() -> dict[str, Any]:
    """What besides the settings can change Keras's last bits; read without importing TensorFlow."""
    return {
        "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
        "numpy": np.__version__,
        # the configuration the Keras side runs under, checked by reading it back when it ends
        # (reference/runner.py): never the environment variable, which a loaded TensorFlow ignores
        "numerics": numerics.key(),
        "machine": platform.machine(),
        "schema": str(SCHEMA),
    }


def data_hash(*arrays: np.ndarray) -> str:
    """The content of some arrays (values, dtype, shape), as a hex digest."""
    digest = hashlib.sha256()
    for array in arrays:
        a = np.ascontiguousarray(array)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _checksum(array: np.ndarray) -> str:
    return data_hash(array)


def _notice(path: Path, reason: str) -> None:
    print(f"comparisons: ignoring cache entry {path.name} ({reason}); recomputing it", file=sys.stderr)


def _read(path: Path, key: Mapping[str, Any]) -> dict[str, np.ndarray] | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        header = json.loads(str(arrays.pop(_HEADER)[()]))
    except Exception as error:  # whatever the damage (zip, zlib, npy, JSON), the entry is not used
        _notice(path, f"unreadable: {type(error).__name__}")
        return None
    if not isinstance(header, dict) or header.get("key") != json.loads(json.dumps(key)):
        _notice(path, "written for other settings or library versions")
        return None
    sums = header.get("checksums")
    if (
        not isinstance(sums, dict)
        or set(sums) != set(arrays)
        or any(_checksum(a) != sums[n] for n, a in arrays.items())
    ):
        _notice(path, "checksum mismatch")
        return None
    return arrays


def _write(path: Path, key: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    header = {"key": key, "checksums": {name: _checksum(np.asarray(a)) for name, a in arrays.items()}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".writing-", suffix=".npz", dir=path.parent)
        try:
            members: dict[str, Any] = {_HEADER: np.array(json.dumps(header, sort_keys=True)), **arrays}
            with os.fdopen(handle, "wb") as out:
                np.savez(out, allow_pickle=False, **members)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:  # a read-only or full disk costs the speed-up, not the result
        print(f"comparisons: could not write the cache ({error.strerror}); going on without it", file=sys.stderr)


def fetch(
    kind: str, settings: Mapping[str, Any], compute: Callable[[], Mapping[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The arrays ``compute()`` returns for these settings: from the cache when a valid entry
    holds them, else computed (and stored). Bit-identical either way."""
    if not enabled():
        return {name: np.asarray(a) for name, a in compute().items()}
    key = {"kind": kind, "settings": dict(settings), "environment": environment()}
    name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:40]
    path = directory() / f"{kind}-{name}.npz"
    found = _read(path, key)
    if found is not None:
        return found
    arrays = {name: np.asarray(a) for name, a in compute().items()}
    _write(path, key, arrays)
    return arrays


def _entries() -> list[Path]:
    folder = directory()
    return sorted(folder.glob("*.npz")) if folder.is_dir() else []


def info() -> dict[str, Any]:
    entries = _entries()
    return {
        "directory": str(directory()),
        "entries": len(entries),
        "bytes": sum(p.stat().st_size for p in entries),
        "enabled": enabled(),
    }


def clear() -> int:
    """Remove every entry (and any half-written one); how many were removed."""
    entries = _entries()
    for path in entries:
        path.unlink(missing_ok=True)
    return len(entries)
