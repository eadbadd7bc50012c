"""The scale bar: a round length in km, in alternating black and white segments."""

from __future__ import annotations

import math


def nice_length(target: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ not above ``target`` (same unit)."""
    exp = 10 ** math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * exp <= target:
            return m * exp
    return exp  # pragma: no cover


def draw_scale_bar(ax, length_m: float) -> None:
    """Draw a bar of ``length_m`` metres on ``ax`` (x limits 0…length, y 0…1), labelled in km."""
    from matplotlib.patches import Rectangle

    km = length_m / 1000
    nseg = 2 if f"{km:g}".lstrip("0.").startswith("5") else 4  # 5, 50, 500 km: halves; 1, 2, 10, 20…: quarters
    ax.set_xlim(0, length_m)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    seg = length_m / nseg
    for i in range(nseg):
        ax.add_patch(
            Rectangle(
                (i * seg, 0.05),
                seg,
                0.22,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                clip_on=False,
            )
        )
    for pos, v in ((0, 0.0), (nseg // 2, km / 2), (nseg, km)):
        ax.text(pos * seg, 0.4, f"{v:g}", ha="center", va="bottom", fontsize=7, clip_on=False)
    ax.text(length_m + 0.06 * length_m, 0.16, "km", ha="left", va="center", fontsize=7, clip_on=False)
