"""Benchmark: CSLE L·S of a province-sized DEM (Shanxi's extent at 30 m) with bounded memory.

What it measures (issue 13):

1. **Equality**: λ and L·S of a DEM computed in tiles equal a whole-DEM run, cell for cell
   (``--check-cells``, a smaller case).
2. **Peak memory and time** of ``slope_length.ls_factor_from_dem`` on synthetic terrain of
   ``--rows`` × ``--cols`` cells at 30 m, read window by window from a tiled GeoTIFF on disk
   (as the CSLE branch reads a DEM), GDAL's block cache capped at 256 MB as in the workflow's
   rules.  Each size runs in a fresh process; peak memory is the process's maximum resident
   set (``ru_maxrss``).  Without ``--rows/--cols`` the extent is
   Shanxi's bounding box in CGCS2000 / 3-degree GK CM 114E (EPSG:4547), from the shared
   county polygons.

The terrain is a sum of random plane waves (wavelengths 0.6–80 km, amplitude ∝ wavelength,
≈ 2 km of relief), rounded to whole metres like an integer DEM.  It is a hard case for
routing: ≈ 24 % of its cells lie in filled depressions (flats), against 3 % flats and no
depressions on the real Willamette test DEM, and flats cost 16 bytes a cell more.  Usage::

    python benchmarks/csle_province_ls.py --check-cells 3000          # equality on 3000 × 3000
    python benchmarks/csle_province_ls.py --rows 8000 --cols 8000     # one size
    python benchmarks/csle_province_ls.py                             # Shanxi's extent (≈ 3·10⁸ cells)
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RES = 30.0
SHANXI = Path(__file__).resolve().parents[2] / "shared" / "data" / "shanxi_counties.gpkg"


def waves(seed: int = 13, n: int = 40) -> np.ndarray:
    """(kx, ky, phase, amplitude) of ``n`` plane waves, wavelengths log-uniform 0.6–80 km."""
    rng = np.random.default_rng(seed)
    wl = np.exp(rng.uniform(math.log(600.0), math.log(80_000.0), n))
    ang = rng.uniform(0, 2 * math.pi, n)
    k = 2 * math.pi / wl
    amp = 0.012 * wl  # relief grows with wavelength (≈ 1 km at 80 km)
    return np.stack([k * np.cos(ang), k * np.sin(ang), rng.uniform(0, 2 * math.pi, n), amp], axis=1)


def terrain(r0: int, c0: int, r1: int, c1: int, w: np.ndarray) -> np.ndarray:
    """Elevation (int16, whole metres) of rows r0..r1, columns c0..c1 (the same cell, whatever the window)."""
    y = ((np.arange(r0, r1) + 0.5) * RES)[:, None]
    x = ((np.arange(c0, c1) + 0.5) * RES)[None, :]
    z = np.full((r1 - r0, c1 - c0), 1200.0, dtype=np.float64)
    for kx, ky, ph, a in w:
        z += a * np.sin(kx * x + ky * y + ph)
    return np.round(z).astype(np.int16)


def write_dem(path: Path, rows: int, cols: int, block: int = 2048) -> None:
    import rasterio
    from affine import Affine

    w = waves()
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": "int16",
        "nodata": -32768,
        "crs": "EPSG:4547",
        "transform": Affine(RES, 0, 300_000.0, 0, -RES, 4_550_000.0),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "BIGTIFF": "YES",
    }
    from rasterio.windows import Window

    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, rows, block):
            for c0 in range(0, cols, block):
                r1, c1 = min(r0 + block, rows), min(c0 + block, cols)
                dst.write(terrain(r0, c0, r1, c1, w), 1, window=Window(c0, r0, c1 - c0, r1 - r0))


def run_one(dem: Path, tile: int | None) -> dict:
    """L·S of ``dem`` read window by window; peak memory of this process."""
    import rasterio
    from rasterio.windows import Window

    from swc_raster import slope_length

    # GDAL's block cache capped as the workflow's rules do (else it may hold 5 % of the RAM)
    with rasterio.Env(GDAL_CACHEMAX=256), rasterio.open(dem) as src:

        def read(r0: int, c0: int, r1: int, c1: int) -> np.ndarray:
            # straight into float32 (no masked int16 copy: 4 bytes a cell, not 12)
            a = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), out_dtype="float32")
            a[a == np.float32(src.nodata)] = np.nan
            return a

        t0 = time.perf_counter()
        r = slope_length.ls_factor_from_dem(
            read, src.transform, shape=(src.height, src.width), tile_cells=tile, keep=("ls",)
        )
        seconds = time.perf_counter() - t0
    ls = r.ls
    return {
        "rows": int(ls.shape[0]),
        "cols": int(ls.shape[1]),
        "cells": int(ls.size),
        "tile": tile,
        "tiles": r.tiles,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "bytes_per_cell": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0 / ls.size, 2),
        "mean_ls": float(np.nanmean(ls)),
        "cells_without_ls": int(np.isnan(ls).sum()),
    }


def check_equal(n: int, tile: int) -> dict:
    """Whole-DEM and tiled λ, L·S of an n × n synthetic DEM: identical?"""
    from affine import Affine

    from swc_raster import slope_length

    dem = terrain(0, 0, n, n, waves()).astype(np.float32)
    t = Affine(RES, 0, 0, 0, -RES, 0)
    whole = slope_length.ls_factor_from_dem(dem, t, tile_cells=None)
    tiled = slope_length.ls_factor_from_dem(dem, t, tile_cells=tile)
    rule = slope_length.CutoffRule(channel_area_m2=1e6)
    whole_ch = slope_length.ls_factor_from_dem(dem, t, tile_cells=None, cutoff=rule)
    tiled_ch = slope_length.ls_factor_from_dem(dem, t, tile_cells=tile, cutoff=rule)
    return {
        "cells": n * n,
        "tiles": tiled.tiles,
        "lambda_equal": bool(np.array_equal(whole.lambda_m, tiled.lambda_m, equal_nan=True)),
        "ls_equal": bool(np.array_equal(whole.ls, tiled.ls, equal_nan=True)),
        "ls_equal_with_channels": bool(np.array_equal(whole_ch.ls, tiled_ch.ls, equal_nan=True)),
    }


def shanxi_shape() -> tuple[int, int]:
    import geopandas as gpd

    b = gpd.read_file(SHANXI, layer="counties").to_crs("EPSG:4547").total_bounds
    return int(math.ceil((b[3] - b[1]) / RES)), int(math.ceil((b[2] - b[0]) / RES))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int)
    ap.add_argument("--cols", type=int)
    ap.add_argument("--tile", type=int, default=1024)
    ap.add_argument("--check-cells", type=int, help="only the whole-vs-tiled equality on an n × n DEM")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    a = ap.parse_args()
    if a.check_cells:
        print(json.dumps(check_equal(a.check_cells, max(64, a.check_cells // 5))))
        return
    if a.worker:  # the measured process
        print(json.dumps(run_one(Path(a.worker), a.tile)))
        return
    rows, cols = (a.rows, a.cols) if a.rows and a.cols else shanxi_shape()
    Path(a.workdir).mkdir(parents=True, exist_ok=True)
    dem = Path(a.workdir) / f"csle_bench_dem_{rows}x{cols}.tif"
    t0 = time.perf_counter()
    if not dem.exists():
        write_dem(dem, rows, cols)
    made = time.perf_counter() - t0
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(dem), "--tile", str(a.tile)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["dem_seconds"] = round(made, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
