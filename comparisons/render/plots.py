"""A comparison's plots, as base64 PNG: its loss, ULP distance and parameters (an audit's: audit/render/plots.py).

matplotlib's Figure, never pyplot: inside Jupyter the user's backend and figures stay as they are.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # read, never built, here: Comparison renders itself through this package
    from comparisons.comparison import Comparison

__all__ = ["MAX_PARAMETER_PLOTS", "figures", "png_base64"]


def png_base64(figure: object) -> str:
    buffer = io.BytesIO()
    # margins set by hand, not bbox_inches="tight" or tight_layout: each costs a full extra draw
    figure.savefig(buffer, format="png", dpi=96, metadata={"Software": None})  # type: ignore[attr-defined]
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _math(name: str) -> str:
    """The document's name as mathtext: w^1_11 -> $w^{1}_{11}$, b_21 -> $b_{21}$."""
    if name.startswith("w^"):
        layer, index = name[2:].split("_")
        return f"$w^{{{layer}}}_{{{index}}}$"
    return f"$b_{{{name[2:]}}}$"


MAX_PARAMETER_PLOTS = 24


def figures(result: Comparison) -> list[str]:
    import matplotlib.ticker
    from matplotlib.figure import Figure

    epochs = result.manual["epoch"].to_numpy()
    fig = Figure(figsize=(10, 3.2))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.9, wspace=0.28)
    loss_ax, ulp_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, result.manual["loss"], label="manual", linewidth=2.5, alpha=0.6)
    loss_ax.plot(epochs, result.keras["loss"], label="Keras", linestyle="--", color="black", linewidth=1)
    loss_ax.set(title="epoch loss", xlabel="epoch", ylabel="loss")
    loss_ax.legend()
    ulps = result.ulps
    ulp_ax.plot(epochs, ulps[result.parameters].max(axis=1), label="weights (max)")
    ulp_ax.plot(epochs, ulps["loss"], label="loss", linestyle="--")
    ulp_ax.axhline(
        result.tolerance.weights, color="red", linewidth=0.8, label=f"tolerance ({result.tolerance.weights:g})"
    )
    ulp_ax.set_yscale("symlog", linthresh=1)  # log above 1 ULP, and 0 (bit-identical) stays visible
    ulp_ax.set(title="max ULP distance per epoch", xlabel="epoch", ylabel="ULP")
    peak = float(ulps[[*result.parameters, "loss"]].to_numpy().max())
    ulp_ax.set_ylim(0, max(10.0, 2 * peak))
    decades = np.log10(max(10.0, 2 * peak))
    base = 10 ** max(1, int(np.ceil(decades / 6)))  # at most about 6 ticks, however far apart
    ulp_ax.yaxis.set_major_locator(matplotlib.ticker.SymmetricalLogLocator(linthresh=1, base=base))
    if peak == 0:
        ulp_ax.text(0.5, 0.5, "bit-identical", transform=ulp_ax.transAxes, ha="center", color="green")
    ulp_ax.legend(loc="best", fontsize="small")
    first = png_base64(fig)

    names = result.parameters
    if len(names) > MAX_PARAMETER_PLOTS:  # a wide network: the parameters furthest from Keras
        worst = set(ulps[names].max().sort_values(ascending=False, kind="stable").index[:MAX_PARAMETER_PLOTS])
        names = [name for name in names if name in worst]
    cols = 3
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(10, 2.4 * rows))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.6 / (2.4 * rows), top=1 - 0.45 / (2.4 * rows), hspace=0.55)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        ax.plot(epochs, result.manual[name], linewidth=2.5, alpha=0.6, label="manual")
        ax.plot(epochs, result.keras[name], linestyle="--", color="black", linewidth=1, label="Keras")
        ax.set_title(_math(name))
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend()
    second = png_base64(fig)
    return [first, second]
