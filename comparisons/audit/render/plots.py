"""The audit's plot, as base64 PNG: the distance from Keras per step under every init, and each row's loss."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from comparisons.render.plots import png_base64

if TYPE_CHECKING:  # read, never built, here: the audit renders itself through this package
    from comparisons.audit.model import Audit

__all__ = ["audit_figure"]


def audit_figure(result: Audit) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.2))
    distance_ax, loss_ax = fig.subplots(1, 2)
    for init, trace in result.traces.items():
        steps = np.arange(1, len(trace["distance"]) + 1)
        distance_ax.plot(steps, np.clip(trace["distance"], 1e-17, None), label=f"init {init}")
    distance_ax.axhline(result.threshold, color="red", linewidth=0.8, label=f"threshold ({result.threshold:g})")
    distance_ax.set_yscale("log")
    distance_ax.set(title="distance from Keras after each step", xlabel="step", ylabel="distance")
    distance_ax.legend(fontsize="small")
    first = result.first_divergence
    init = first.init if first is not None else next(iter(result.traces))
    trace = result.traces[init]
    steps = np.arange(1, len(trace["user_loss"]) + 1)
    loss_ax.plot(steps, trace["user_loss"], label="yours", linewidth=2.5, alpha=0.6)
    loss_ax.plot(steps, trace["keras_loss"], label="Keras", linestyle="--", color="black", linewidth=1)
    loss_ax.set(title=f"each row's loss, init {init}", xlabel="step", ylabel="loss")
    loss_ax.legend(fontsize="small")
    return png_base64(fig)
