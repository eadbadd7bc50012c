"""Classes of choropleth values: round breaks, class of each value, legend labels, colour ramps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np


def nice_breaks(values: Sequence[float], max_classes: int = 7) -> np.ndarray:
    """Class breaks at round numbers covering the data: 5-pp steps unless the range needs 10/20 (wide) or 2/1 (narrow)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.array([0.0, 100.0])
    lo, hi = float(v.min()), float(v.max())

    def make(step):
        start = math.floor(lo / step) * step
        stop = math.ceil(hi / step) * step
        if stop <= start:
            stop = start + step
        return np.round(np.arange(start, stop + step / 2, step), 6)

    b = make(5.0)
    if len(b) - 1 > max_classes:
        for step in (10.0, 20.0, 25.0, 50.0):
            b = make(step)
            if len(b) - 1 <= max_classes:
                break
    elif len(b) - 1 < 3:
        for step in (2.0, 1.0, 0.5):
            cand = make(step)
            if len(cand) - 1 > max_classes:
                break
            b = cand
            if len(b) - 1 >= 3:
                break
    return b


def symmetric_breaks(values: Sequence[float], max_half: int = 4) -> np.ndarray:
    """Breaks centred on 0 (…, −s, 0, +s, …) covering max |value| with ≤ ``max_half`` classes per side."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    m = float(np.abs(v).max()) if v.size else 1.0
    m = max(m, 1e-9)
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0):
        k = math.ceil(m / step)
        if m == k * step:
            k += 1  # the maximum must fall inside the outermost class
        if k <= max_half:
            return np.arange(-k, k + 1) * step
    return np.arange(-max_half, max_half + 1) * math.ceil(m / max_half)  # pragma: no cover


def classify(values: Sequence[float], breaks: Sequence[float]) -> np.ndarray:
    """Class index of each value: [b_i, b_{i+1}), last class closed; −1 for NaN."""
    v = np.asarray(values, dtype=float)
    idx = np.digitize(v, breaks[1:-1], right=False)
    idx = np.clip(idx, 0, len(breaks) - 2)
    idx[~np.isfinite(v)] = -1
    return idx


def class_labels(breaks: Sequence[float], signed: bool = False) -> list[str]:
    """Legend labels "60 ~ 65" ("−10 ~ 0", "0 ~ +10" when ``signed``); lower bound inclusive."""

    def fmt(v: float) -> str:
        text = f"{abs(v):g}"
        if v < 0:
            return "-" + text  # hyphen-minus, as in the tables (the CJK font's U+2212 is full width)
        return ("+" + text) if signed and v > 0 else text

    return [f"{fmt(a)} ~ {fmt(b)}" for a, b in pairwise(breaks)]


def ramp(cmap_name: str, n: int, lo: float = 0.15, hi: float = 0.9) -> list:
    """``n`` RGBA colours evenly spaced on ``[lo, hi]`` of a matplotlib colour map."""
    from matplotlib import colormaps

    cmap = colormaps[cmap_name]
    return [cmap(x) for x in np.linspace(lo, hi, n)]
