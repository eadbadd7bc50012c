"""The zonal engine: window-by-window county × land cover × grade areas.

One pass over the analysis grid.  In each window the counties are burnt by the
pixel-centre rule (a cell belongs to the county holding its centre), the three
codes are packed into one integer key and counted with ``numpy.bincount``.  The
rasters are never read more than once and memory is bounded by the window
size, whatever the raster size.  Windows are spread over worker processes.

Edge rule and its error: pixel centres.  Against an exact fractional-coverage
reference the error of a county's area is a sum of ± half-cell slivers along its
boundary, which mostly cancel: at 30 m it is < 0.02 % of a county's area and
< 0.02 pp of its rate (tests/test_workflow.py measures it against exactextract).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
import xarray as xr
from rasterio import features
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from swc_raster.align import EROSION_NODATA, footprint, open_raster
from swc_raster.atomic import atomic_path
from swc_raster.boundaries import zones_in_window
from swc_raster.grading import ALL_CODES, GAP_GRADE, NODATA_GRADE, OUTSIDE, grade_modulus
from swc_raster.grid import AnalysisGrid

N_GRADES = len(ALL_CODES)  # 0..7
#: Smallest and largest window sizes (cells a side) the engine accepts.
MIN_WINDOW, MAX_WINDOW = 64, 16384


#: Peak bytes the engine holds per window cell (codes, int64 key and temporaries).
BYTES_PER_CELL = 48


def check_window_size(window_size: int) -> None:
    """Reject window sizes that cannot work, naming the setting to change."""
    if not MIN_WINDOW <= window_size <= MAX_WINDOW:
        raise ValueError(f"window size {window_size} cells is outside {MIN_WINDOW}–{MAX_WINDOW}; "
                         "it follows from the rule's mem_mb and threads: change them with --set-resources / --set-threads.")


def window_for_memory(mem_mb: float, workers: int, largest: int = 4096) -> int:
    """The largest power-of-two window (cells a side) whose working set fits ``mem_mb`` over ``workers``.

    Raises ``ValueError`` naming the resource to raise when not even the
    smallest window fits.
    """
    per_worker = mem_mb * 2**20 / max(1, workers) - 150 * 2**20  # ~150 MB of Python, GDAL and cache per worker
    size = largest
    while size >= MIN_WINDOW and BYTES_PER_CELL * size * size > per_worker:
        size //= 2
    if size < MIN_WINDOW:
        need = workers * (150 + BYTES_PER_CELL * MIN_WINDOW**2 / 2**20)
        raise ValueError(f"mem_mb = {mem_mb:.0f} MB cannot hold even a {MIN_WINDOW}-cell window for {workers} "
                         f"worker(s); give the rule at least {need:.0f} MB (--set-resources RULE:mem_mb=...) or fewer threads.")
    return size


class _Zones:
    """County polygons with a spatial index, ready to burn into any window."""

    def __init__(self, counties: gpd.GeoDataFrame):
        self.geoms = np.asarray(counties.geometry.values)
        self.ids = counties["zone"].to_numpy()
        self.tree = shapely.STRtree(self.geoms)

    def burn(self, transform, window: Window) -> np.ndarray:
        return zones_in_window(self.geoms, self.ids, transform, window, self.tree)


def write_zones_raster(counties: gpd.GeoDataFrame, grid: AnalysisGrid, out_path: str | Path,
                       window_size: int = 2048) -> None:
    """Write each cell's zone id (uint16, 0 = outside every county) on the analysis grid."""
    zones = _Zones(counties)
    with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **grid.profile("uint16", 0)) as dst:
        for win in grid.windows(window_size):
            dst.write(zones.burn(grid.transform, win), 1, window=win)


# --------------------------------------------------------------------------- grading


def write_grade_raster(erosion_aligned: str | Path, erosion_source: str | Path, counties: gpd.GeoDataFrame,
                       t_by_zone: np.ndarray, grid: AnalysisGrid, out_path: str | Path,
                       window_size: int = 2048) -> None:
    """Grade the aligned erosion modulus by SL 190 with each county's T and write ``out_path``.

    Codes: 1–6 grades; 0 erosion nodata inside a county (non-eroded); 7 county
    land outside the erosion raster's footprint (data gap); 255 outside every
    county.  ``t_by_zone[z]`` is T (t/(km²·a)) of zone ``z`` (index 0 unused).
    """
    check_window_size(window_size)
    zones = _Zones(counties)
    with open_raster(erosion_source, "erosion") as src:
        cover = footprint(src, grid.crs_wkt)
    t_by_zone = np.asarray(t_by_zone, dtype="float64")
    with rasterio.open(erosion_aligned) as ero, atomic_path(out_path) as tmp:
        with rasterio.open(tmp, "w", **grid.profile("uint8", OUTSIDE)) as dst:
            for win in grid.windows(window_size):
                zone = zones.burn(grid.transform, win)
                a = ero.read(1, window=win).astype("float64")
                a[a == EROSION_NODATA] = np.nan
                grade = grade_modulus(a, t_by_zone[zone])
                covered = features.geometry_mask([cover], out_shape=zone.shape,
                                                 transform=window_transform(win, grid.transform), invert=True)
                grade[~covered] = GAP_GRADE
                grade[zone == 0] = OUTSIDE
                dst.write(grade, 1, window=win)
            dst.update_tags(GRADE_CODES="0 no erosion data (non-eroded), 1-6 SL 190-2007 grades, "
                                        "7 data gap (outside erosion raster), 255 outside region")


# --------------------------------------------------------------------------- cross-tab

_WORKER: dict = {}


def _init_worker(landcover: str, grade: str, counties_wkb: list[bytes], zone_ids: np.ndarray,
                 grid_transform, lut: np.ndarray, n_zones: int, n_classes: int) -> None:
    geoms = shapely.from_wkb(counties_wkb)
    _WORKER.update(lc=rasterio.open(landcover), grade=rasterio.open(grade), geoms=geoms, ids=zone_ids,
                   tree=shapely.STRtree(geoms), transform=grid_transform, lut=lut, n_zones=n_zones,
                   n_classes=n_classes)


def _count_window(win: Window) -> np.ndarray:
    w = _WORKER
    zone = zones_in_window(w["geoms"], w["ids"], w["transform"], win, w["tree"])
    lc_index = w["lut"][w["lc"].read(1, window=win)]
    return count_codes(zone, lc_index, w["grade"].read(1, window=win), w["n_zones"], w["n_classes"])


def count_codes(zone: np.ndarray, lc_index: np.ndarray, grade: np.ndarray, n_zones: int, n_classes: int) -> np.ndarray:
    """Count cells per (zone, land-cover index, grade) → int64 array (n_zones+1, n_classes, 8).

    Grade 255 (outside) inside a zone — which a consistent grade raster never
    has — is counted as a data gap rather than dropped, so no land is lost.
    """
    g = np.where(grade == OUTSIDE, GAP_GRADE, grade).astype("int64")
    key = (zone.astype("int64") * n_classes + lc_index) * N_GRADES + g
    counts = np.bincount(key.ravel(), minlength=(n_zones + 1) * n_classes * N_GRADES)
    return counts.reshape(n_zones + 1, n_classes, N_GRADES)


def landcover_lut(codes: Sequence[int], max_code: int = 65535) -> np.ndarray:
    """Map raw land-cover codes to compact indices: legend codes → 1..n, anything else → 0 (unclassified)."""
    lut = np.zeros(max_code + 1, dtype="int64")
    for i, code in enumerate(codes, start=1):
        lut[int(code)] = i
    return lut


def crosstab(landcover_aligned: str | Path, grade_path: str | Path, counties: gpd.GeoDataFrame,
             legend_codes: Sequence[int], grid: AnalysisGrid, *, window_size: int = 2048,
             workers: int | None = None) -> xr.DataArray:
    """Area (km²) per county × land-cover class × grade, from one pass over the grid.

    Returns a DataArray with dims ``(county_code, landcover_code, grade_code)``;
    land-cover code 0 holds cells whose class is missing or not in the legend.
    ``workers`` processes (default: all cores) share the windows.
    """
    check_window_size(window_size)
    n_zones = int(counties["zone"].max())
    lut = landcover_lut(legend_codes)
    n_classes = len(legend_codes) + 1
    windows = grid.windows(window_size)
    workers = max(1, min(workers or os.cpu_count() or 1, len(windows)))
    args = (str(landcover_aligned), str(grade_path), shapely.to_wkb(np.asarray(counties.geometry.values)).tolist(),
            counties["zone"].to_numpy(), grid.transform, lut, n_zones, n_classes)
    total = np.zeros((n_zones + 1, n_classes, N_GRADES), dtype="int64")
    if workers == 1:
        _init_worker(*args)
        for win in windows:
            total += _count_window(win)
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=args) as pool:
            for counts in pool.map(_count_window, windows, chunksize=max(1, len(windows) // (8 * workers))):
                total += counts
    zone_to_code = dict(zip(counties["zone"], counties["county_code"]))
    area = total[1:] * grid.cell_area_km2
    return xr.DataArray(
        area, dims=("county_code", "landcover_code", "grade_code"),
        coords={"county_code": [zone_to_code[z] for z in range(1, n_zones + 1)],
                "landcover_code": [0, *[int(c) for c in legend_codes]], "grade_code": list(ALL_CODES)},
        name="area_km2", attrs={"units": "km2", "edge_rule": "pixel centre", "cell_area_km2": grid.cell_area_km2},
    )
