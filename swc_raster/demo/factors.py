"""The demo's rainfall erosivity R and soil erodibility K, in SI units, in the published range for
south-east Shanxi (decision record 0003, "R and K").

- **R**, MJ·mm/(ha·h·a): Shanxi's annual R 2000–2016 spans 663–2 810, rising from the north-west
  to the south-east, where Jincheng lies (mean 1 629 for the province; 中国水土保持科学 2020, 18(1),
  doi 10.16843/j.sswc.2020.01.001). The demo's R rises across the region from ≈ 1 900 (north-west,
  沁水) to ≈ 2 650 (south-east, the Taihang escarpment), with a small orographic increase
  (+0.25 per m above 800 m) and smooth noise, clipped to 1 700–2 810.
- **K**, t·ha·h/(ha·MJ·mm): an **assumed regional value** (no SE-Shanxi K map in SI units could be
  consulted offline). Cinnamon soils (褐土) and loess-derived soils of the basins: ≈ 0.030–0.034;
  thin stony soils (粗骨土, brown soils 棕壤) of the mountains, whose rock fragments protect the
  surface: ≈ 0.013–0.016. Both are inside the 0.001–0.07 range of SI K values that
  ``swc_raster.validate.csle`` accepts, and typical of nomograph/EPIC K of loess and cinnamon soils
  in the literature (0.02–0.045).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from swc_raster.demo.grids import Grid, noise_field

#: Range the demo's R is clipped to, MJ·mm/(ha·h·a) (the top is Shanxi's published maximum).
R_RANGE: Final = (1700.0, 2810.0)
#: Range the demo's K is clipped to, t·ha·h/(ha·MJ·mm) (assumed regional values).
K_RANGE: Final = (0.005, 0.016)


def erosivity_field(base: Grid, dem: np.ndarray, seed: int) -> np.ndarray:
    """Rainfall erosivity R, MJ·mm/(ha·h·a), on the landscape grid: NW → SE gradient, orography, noise."""
    xs, ys = base.centres()
    towards_se = (xs[None, :] - xs[0]) / (xs[-1] - xs[0]) * 0.55 + (ys[0] - ys[:, None]) / (ys[0] - ys[-1]) * 0.45
    r = 1900.0 + 750.0 * towards_se + 0.25 * (dem - 800.0) + 40.0 * noise_field(base, seed, 3, beta=3.0, corr_m=20000.0)
    return np.clip(r, *R_RANGE).astype(np.float32)


def erodibility_field(base: Grid, mountainousness: np.ndarray, seed: int) -> np.ndarray:
    """Soil erodibility K, t·ha·h/(ha·MJ·mm): silty loess/cinnamon soils in the basins, stony soils in the mountains."""
    k = 0.015 - 0.009 * mountainousness + 0.001 * noise_field(base, seed, 4, beta=3.0, corr_m=6000.0)
    return np.clip(k, *K_RANGE).astype(np.float32)
