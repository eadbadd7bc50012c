"""Rasters as monitoring teams receive them, for the whole-job benchmark (``whole_job.py``).

Two cases over Shanxi's 117 counties:

- ``same-grid``: land cover (uint8) and erosion modulus (float32, t/(km²·a)) on one CGCS2000
  3° Gauss-Krüger grid (EPSG:4546, central meridian 111° E), 30 m, origin on multiples of 30 m;
- ``mixed-grid``: the same erosion raster, land cover on a CGCS2000 lon/lat grid (EPSG:4490)
  of 0.00025° (≈ 28 × 22 m).

Textures and codes as ``inputs.py`` (value-noise land cover with speckle, a terrain-like
modulus with pixel noise and ~1 % nodata blobs); tiled 512 × 512 DEFLATE (predictor 2 for the
codes, 3 for the modulus), as GDAL-made products are delivered.  Generated window by window
(memory a few hundred MB) and cached in ``benchmarks/out/delivered/``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from inputs import LC_EROSION, LC_SALT, LC_SHARES, LOG_A0, LOG_A1, OUT, PIXEL_NOISE, Field, _cuts, load_counties
from pyproj import Transformer

from swc_raster.grid import AnalysisGrid

DIR = OUT / "delivered"
GK = "EPSG:4546"
LONLAT = "EPSG:4490"
LL_RES = 0.00025
VERSION = 1


@dataclass(frozen=True)
class Lattice:
    """A north-up grid in any CRS (``res`` in the CRS's units) with a ground spacing for the textures."""

    crs: str
    x0: float
    y0: float
    res: float
    width: int
    height: int
    ground_m: float

    def profile(self, dtype: str, nodata) -> dict:
        from affine import Affine

        return {
            "driver": "GTiff",
            "dtype": dtype,
            "count": 1,
            "nodata": nodata,
            "width": self.width,
            "height": self.height,
            "crs": self.crs,
            "transform": Affine(self.res, 0, self.x0, 0, -self.res, self.y0),
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "compress": "deflate",
            "predictor": 2 if dtype == "uint8" else 3,
            "BIGTIFF": "IF_SAFER",
        }

    def texture_grid(self) -> AnalysisGrid:
        """The Field generator's view: cells of ``ground_m`` metres (only res/width/height are used)."""
        return AnalysisGrid("", 0.0, 0.0, self.ground_m, self.width, self.height)


def _covering(
    crs: str, bounds: tuple[float, float, float, float], res: float, margin: float, ground_m: float
) -> Lattice:
    xmin, ymin, xmax, ymax = bounds
    x0 = math.floor((xmin - margin) / res) * res
    y0 = math.ceil((ymax + margin) / res) * res
    width = math.ceil((xmax + margin - x0) / res)
    height = math.ceil((y0 - ymin + margin) / res)
    return Lattice(crs, round(x0, 9), round(y0, 9), res, width, height, ground_m)


def lattices() -> dict[str, Lattice]:
    counties = load_counties("shanxi")
    ll = Transformer.from_crs(counties.crs, LONLAT, always_xy=True)
    gk = Transformer.from_crs(counties.crs, GK, always_xy=True)
    b = counties.total_bounds
    return {
        "gk": _covering(GK, gk.transform_bounds(*b, densify_pts=51), 30.0, 600.0, 30.0),
        "ll": _covering(LONLAT, ll.transform_bounds(*b, densify_pts=51), LL_RES, 0.005, 25.0),
    }


def paths() -> dict[str, Path]:
    return {
        "erosion": DIR / "erosion_gk.tif",
        "landcover_gk": DIR / "landcover_gk.tif",
        "landcover_ll": DIR / "landcover_ll.tif",
    }


def _landcover(field: Field, lc_cuts, rng, win) -> np.ndarray:
    lc = (np.searchsorted(lc_cuts, field.window(win)) + 1).astype("uint8")
    salt = rng.random(lc.shape, dtype="float32") < LC_SALT
    lc[salt] = rng.choice(np.arange(1, 9, dtype="uint8"), int(salt.sum()), p=LC_SHARES)
    return lc


def generate(log=print) -> dict[str, Path]:
    """Write (or reuse) the three delivered rasters; returns their paths."""
    DIR.mkdir(parents=True, exist_ok=True)
    stamp, out = DIR / "inputs.json", paths()
    if stamp.exists() and all(p.exists() for p in out.values()) and json.loads(stamp.read_text())["version"] == VERSION:
        return out
    grids = lattices()
    t0 = time.perf_counter()
    seed = 31337
    lc_cuts = _cuts(LC_SHARES)
    gk, ll = grids["gk"], grids["ll"]
    log(f"delivered: GK {gk.width} x {gk.height}, lon/lat {ll.width} x {ll.height} ...")
    tg = gk.texture_grid()
    lc_field = Field(tg, [(6000, 1.0), (1500, 0.7), (300, 0.45)], seed)
    terrain = Field(tg, [(8000, 1.0), (2000, 0.8), (450, 0.5), (120, 0.25)], seed + 1)
    holes = Field(tg, [(3000, 1.0), (700, 0.5)], seed + 2)
    with (
        rasterio.open(out["landcover_gk"], "w", **gk.profile("uint8", 0), num_threads=2) as lc_dst,
        rasterio.open(out["erosion"], "w", **gk.profile("float32", -9999.0), num_threads=2) as er_dst,
    ):
        for i, win in enumerate(tg.windows(2048)):
            rng = np.random.default_rng([seed, i])
            lc = _landcover(lc_field, lc_cuts, rng, win)
            score = (
                0.85 * terrain.window(win)
                + LC_EROSION[lc]
                + PIXEL_NOISE * rng.standard_normal(lc.shape, dtype="float32")
            )
            erosion = np.exp(LOG_A0 + LOG_A1 * score).astype("float32")
            erosion[holes.window(win) > 2.4] = -9999.0
            lc_dst.write(lc, 1, window=win)
            er_dst.write(erosion, 1, window=win)
    tl = ll.texture_grid()
    ll_field = Field(tl, [(6000, 1.0), (1500, 0.7), (300, 0.45)], seed + 3)
    with rasterio.open(out["landcover_ll"], "w", **ll.profile("uint8", 0), num_threads=2) as dst:
        for i, win in enumerate(tl.windows(2048)):
            dst.write(_landcover(ll_field, lc_cuts, np.random.default_rng([seed + 3, i]), win), 1, window=win)
    meta = {
        "version": VERSION,
        "seconds": time.perf_counter() - t0,
        "mpx": {k: g.width * g.height / 1e6 for k, g in grids.items()},
        "mb": {k: p.stat().st_size / 2**20 for k, p in out.items()},
    }
    stamp.write_text(json.dumps(meta, indent=1))
    log(f"delivered: generated in {meta['seconds']:.0f} s: {meta}")
    return out


if __name__ == "__main__":
    generate()
