"""The reference's numerical configuration: set before TensorFlow's first import, read back after.

The one owner of what can move Keras's last bits. Importing it imports no TensorFlow.

- **oneDNN.** With it on, TensorFlow's graph rewriter fuses a Dense layer's
  MatMul and BiasAdd into one oneDNN kernel whose float32 dot products use fused
  multiply-adds: one rounding where the document's formula has two. The
  document's float32 regression then drifts 1 to 47 ULPs from the hand-written
  side by epoch 5. TensorFlow turns it on by default on CPUs with AVX-512
  VNNI/BF16 (Cascade Lake and newer, AMD Zen 4 and newer), or where
  ``TF_ENABLE_ONEDNN_OPTS=1``; it reads the variable once, at import, and
  offers no call to change it later. The reference always runs with it off:
  ``configure`` sets the variable to 0 before the import (unless the user set
  it), and a process whose TensorFlow has it on anyway has the Keras side
  computed in a child process (reference/runner.py).
- **Reading it back.** TensorFlow has no public call for the state it runs
  with. ``onednn_in_tensorflow`` asks TensorFlow's private
  ``tensorflow.python.util._pywrap_util_port.IsMklEnabled()``, the call
  TensorFlow's own tests use; where a release drops it, a probe: a float32
  MatMul + BiasAdd in a graph, whose one-rounding (fused) and two-rounding
  answers differ (``fma_probe``). tests/test_numerics.py holds the two together.
- **Threads.** One intra-op thread and all cores (2 here) give bit-identical
  trajectories, measured by tests/measure_numerics.py for the document's
  problems, 4-16-16-3 networks up to batch 4096 and a 64-256-256-10 one at
  batch 256: the count is left to TensorFlow.
- **Device.** The Keras side runs on the CPU, even where a GPU is visible,
  unless ``set_device("gpu")`` (``--device gpu``); on the GPU, TF32 is off and
  op determinism on.

``key()`` is this configuration as recorded: in the cache's key, in every
report, JSON output and gradebook. Every Keras computation reads it back when
it ends and is refused if the two differ.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

__all__ = [
    "DEVICES",
    "ONEDNN_VARIABLE",
    "NumericsError",
    "configure",
    "describe",
    "device",
    "fma_probe",
    "key",
    "onednn_here",
    "onednn_in_tensorflow",
    "placed",
    "read_back",
    "set_device",
    "tensorflow_loaded",
]

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
DEVICES = ("cpu", "gpu")
_settings = {"device": "cpu"}


class NumericsError(RuntimeError):
    """The configuration asked for cannot be had here (``--device gpu`` with no GPU): bad input."""


def configure() -> None:
    """Before TensorFlow's first import: oneDNN off unless the user said otherwise (their
    setting is honoured for their own TensorFlow, and the Keras side then runs in a child
    process), and TensorFlow's C++ start-up chatter off. Idempotent; after the import, a no-op
    for TensorFlow."""
    os.environ.setdefault(ONEDNN_VARIABLE, "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def tensorflow_loaded() -> bool:
    return "tensorflow" in sys.modules


def _truthy(value: str) -> bool:
    """TensorFlow's ReadBoolFromEnvVar reads 0/false as off and 1/true as on, case-insensitive and
    nothing else; anything else leaves the CPU's default, which may be on. Only a clear off is off."""
    return value.lower() not in ("0", "false")


def onednn_here() -> bool:
    """Whether this process's TensorFlow runs with oneDNN on: read back once it is imported;
    before that, the state ``configure`` makes it import with (known without importing it)."""
    if tensorflow_loaded():
        return onednn_in_tensorflow()
    configure()
    return _truthy(os.environ[ONEDNN_VARIABLE])


def onednn_in_tensorflow() -> bool:
    """TensorFlow's own answer (private: no public call exists); the probe where it is gone."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return fma_probe()
    enabled = getattr(_pywrap_util_port, "IsMklEnabled", None)
    return fma_probe() if enabled is None else bool(enabled())


def fma_probe() -> bool:
    """A Dense layer's float32 MatMul + BiasAdd in a graph (the pattern oneDNN fuses), on
    x = (-1, a), w = (1, a), a = 1 + 2^-12: a*a = 1 + 2^-11 + 2^-24 exactly, which float32
    rounds to 1 + 2^-11 (a tie, to even). Two roundings give 2^-11; a fused multiply-add
    gives 2^-11 + 2^-24."""
    import numpy as np
    import tensorflow as tf

    a = np.float32(1 + 2**-12)
    x = tf.constant([[-1.0, a]], dtype=tf.float32)
    w = tf.constant([[1.0], [a]], dtype=tf.float32)
    b = tf.constant([0.0], dtype=tf.float32)
    with tf.device("/CPU:0"):
        out = tf.function(lambda x, w, b: tf.nn.bias_add(tf.linalg.matmul(x, w), b))(x, w, b)
    return bool(out.numpy()[0, 0] != np.float32(2**-11))


def set_device(name: str) -> None:
    """``--device``: where the Keras side runs, for the rest of this process."""
    if name not in DEVICES:
        raise NumericsError(f"unknown device {name!r} (choose from {', '.join(DEVICES)})")
    _settings["device"] = name


def device() -> str:
    return _settings["device"]


def key() -> dict[str, str]:
    """The configuration every Keras computation of this process runs under, as recorded."""
    state = {"onednn": "off", "device": device()}
    if device() == "gpu":
        state |= {"tf32": "off", "op_determinism": "on"}
    return state


def describe(state: dict[str, str]) -> str:
    """``oneDNN off, CPU`` or ``oneDNN off, GPU, TF32 off, op determinism on``."""
    words = [f"oneDNN {state['onednn']}", state["device"].upper()]
    if "tf32" in state:
        words += [f"TF32 {state['tf32']}", f"op determinism {state['op_determinism']}"]
    return ", ".join(words)


def read_back(tf: Any) -> dict[str, str]:
    """``key()``'s fields as the running TensorFlow shows them; inside ``placed``, where a tensor
    made now lands is the device (a GPU asked for but absent is soft-placed on the CPU)."""
    landed = tf.identity(tf.constant(0.0)).device
    state = {"onednn": "on" if onednn_in_tensorflow() else "off", "device": "gpu" if "GPU" in landed else "cpu"}
    if device() == "gpu":
        state["tf32"] = "on" if tf.config.experimental.tensor_float_32_execution_enabled() else "off"
        from tensorflow.python.framework import config  # private: the public API sets it but cannot read it

        state["op_determinism"] = "on" if config.is_op_determinism_enabled() else "off"
    return state


@contextlib.contextmanager
def placed(tf: Any) -> Iterator[None]:
    """Everything inside runs on the configured device: the CPU unless ``gpu`` was asked for
    (then TF32 off and op determinism on, for the rest of the process)."""
    if device() == "gpu":
        if not tf.config.list_physical_devices("GPU"):
            raise NumericsError("--device gpu: TensorFlow sees no GPU on this machine")
        tf.config.experimental.enable_tensor_float_32_execution(False)
        tf.config.experimental.enable_op_determinism()
        name = "/GPU:0"
    else:
        name = "/CPU:0"
    with tf.device(name):
        yield
