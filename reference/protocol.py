"""What the parent and the Keras child process (reference/child.py) send each other.

One message is a 4-byte big-endian length, then an ``.npz`` file of plain arrays
(read with ``allow_pickle=False``) holding a JSON header under ``__header__``.

Messages:
- ready: header ``{"ready": true}``, once, when the child has imported TensorFlow;
- request: header ``{"job": name, "device": "cpu"|"gpu", "arguments": {...}}``;
  an argument that is an array (or a list of them) travels as an array, and
  the header names it ``{"__array__": "a0"}``;
- reply: header ``{"state": {...}}`` (the configuration read back when the
  job ended) and the job's arrays; or header ``{"error": "one line", "kind": "ValueError"}``.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping, Sequence
from typing import IO, Any

import numpy as np

__all__ = ["decode", "encode", "numbered", "read_message", "unnumbered", "write_message"]

_HEADER = "__header__"
_LENGTH = struct.Struct(">I")


def _flatten(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, (list, tuple)):
        return [_flatten(v, arrays) for v in value]
    if isinstance(value, dict):
        return {str(k): _flatten(v, arrays) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _restore(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return arrays[value["__array__"]]
        return {k: _restore(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v, arrays) for v in value]
    return value


def encode(header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """``header`` (arrays anywhere inside it travel as arrays) and named ``arrays``, as one message body."""
    members = dict(arrays or {})
    carried: dict[str, np.ndarray] = {}
    flat = _flatten(header, carried)
    members |= {f"arg/{name}": a for name, a in carried.items()}
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **{_HEADER: np.array(json.dumps(flat))}, **members)
    return buffer.getvalue()


def decode(body: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header (its arrays restored) and the named arrays."""
    with np.load(io.BytesIO(body), allow_pickle=False) as stored:
        members = {name: stored[name] for name in stored.files}
    header = json.loads(str(members.pop(_HEADER)[()]))
    carried = {name.removeprefix("arg/"): a for name, a in members.items() if name.startswith("arg/")}
    arrays = {name: a for name, a in members.items() if not name.startswith("arg/")}
    return _restore(header, carried), arrays


def numbered(prefix: str, arrays: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """A job's list of arrays as named members: ``w0``, ``w1``, ..."""
    return {f"{prefix}{i}": np.asarray(a) for i, a in enumerate(arrays)}


def unnumbered(prefix: str, arrays: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """``numbered``'s list back, in order."""
    count = sum(1 for name in arrays if name.startswith(prefix) and name[len(prefix) :].isdigit())
    return [arrays[f"{prefix}{i}"] for i in range(count)]


def write_message(stream: IO[bytes], body: bytes) -> None:
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()


def read_message(stream: IO[bytes]) -> bytes | None:
    """One message's body; None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    body = stream.read(length)
    if len(body) < length:
        raise EOFError("the stream ended inside a message")
    return body
