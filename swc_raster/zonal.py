"""The zonal engine: window-by-window county × land cover × grade areas.

One pass over the analysis grid, reading the two rasters of a year — land
cover and the aligned erosion modulus — and grading each cell with its
county's T as it goes.  Each window is cut into 512-cell tiles (the block size
of the rasters the pipeline writes).  A tile outside every county is skipped
unread; a tile inside one county is counted without rasterizing; in the other
tiles the counties are burnt by the pixel-centre rule, counted, and the cells a
county boundary crosses are then corrected to their exact coverage.  The
per-cell loops are compiled (swc_raster.kernels).  The rasters are never read
more than once and memory is bounded by the tile size, whatever the raster or
window size.  Windows are spread over worker processes.  How and why: the
comment above ``crosstab`` below, and benchmarks/README.md for the measurements.

Edge rule: fractional coverage.  A cell crossed by a county boundary is
counted in each county it overlaps, weighted by the share of its area inside
(exact up to float rounding: tests/test_zonal.py compares every cell with
shapely's intersection areas), so a county's land area is its polygon's area
on the analysis grid and the areas of neighbouring counties add up with no
sliver lost or counted twice.  The grade of such a cell uses each county's own
T.  Rasters (grade, zones) can hold one county per cell and use the pixel
centre; tables built from them (transitions) therefore differ from this table
by the boundary slivers, < 0.02 % of a county's area at 30 m.
"""

from __future__ import annotations

import atexit
import math
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

from swc_raster.align import EROSION_NODATA, open_raster
from swc_raster.atomic import atomic_path
from swc_raster.boundaries import zones_in_window
from swc_raster.errors import InputError
from swc_raster.footprint import raster_footprint
from swc_raster.grading import ALL_CODES, GAP_GRADE, OUTSIDE, grade_modulus
from swc_raster.grid import AnalysisGrid, CellAreas
from swc_raster.logs import progress

N_GRADES = len(ALL_CODES)  # 0..7


def _kernels():
    """The compiled kernels, imported on first use: numba costs ~1 s to import, and the jobs that only
    read or write tables (county rates, land-use table, gather) import this module too."""
    from swc_raster import kernels

    return kernels


def GridSource(*args, **kwargs):  # noqa: N802 - the class of swc_raster.sources, imported on first use (numba)
    from swc_raster.sources import GridSource as cls

    return cls(*args, **kwargs)


def open_source(grid: AnalysisGrid, kind: str, spec: dict):
    """A source raster (or erosion layers) read onto ``grid``: :func:`swc_raster.layer_sources.open_source`."""
    from swc_raster.layer_sources import open_source as opener

    return opener(grid, kind, spec)


#: Smallest and largest window sizes (cells a side) the engine accepts.
MIN_WINDOW, MAX_WINDOW = 64, 16384


#: Peak bytes per window cell that ``window_for_memory`` budgets for.  Conservative since the
#: engine counts tile by tile (its working set no longer grows with the window); kept so that
#: the window sizes the workflow derives from mem_mb stay as they were.
BYTES_PER_CELL = 48


def check_window_size(window_size: int) -> None:
    """Reject window sizes that cannot work, naming the setting to change."""
    if not MIN_WINDOW <= window_size <= MAX_WINDOW:
        raise ValueError(
            f"window size {window_size} cells is outside {MIN_WINDOW}–{MAX_WINDOW}; "
            "it follows from the rule's mem_mb and threads: change them with --set-resources / --set-threads."
        )


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
        raise ValueError(
            f"mem_mb = {mem_mb:.0f} MB cannot hold even a {MIN_WINDOW}-cell window for {workers} "
            f"worker(s); give the rule at least {need:.0f} MB (--set-resources RULE:mem_mb=...) or fewer threads."
        )
    return size


class _Zones:
    """County polygons with a spatial index, ready to burn into any window."""

    def __init__(self, counties: gpd.GeoDataFrame):
        self.geoms = np.asarray(counties.geometry.values)
        self.ids = counties["zone"].to_numpy()
        self.tree = shapely.STRtree(self.geoms)

    def burn(self, transform, window: Window) -> np.ndarray:
        return zones_in_window(self.geoms, self.ids, transform, window, self.tree)


def write_zones_raster(
    counties: gpd.GeoDataFrame, grid: AnalysisGrid, out_path: str | Path, window_size: int = 2048
) -> np.ndarray:
    """Write each cell's zone id (uint16, 0 = outside every county) on the analysis grid.

    Returns the number of cells of each zone id (index 0: outside).
    """
    zones = _Zones(counties)
    cells = np.zeros(int(counties["zone"].max()) + 1, dtype="int64")
    with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **grid.profile("uint16", 0)) as dst:
        for win in grid.windows(window_size):
            burnt = zones.burn(grid.transform, win)
            cells += np.bincount(burnt.ravel(), minlength=len(cells))
            dst.write(burnt, 1, window=win)
    return cells


def counties_without_cell_centre(counties: gpd.GeoDataFrame, grid: AnalysisGrid) -> list[int]:
    """Zone ids of counties that hold no cell centre of ``grid`` (slivers), without burning the whole grid.

    A polygon that still has area after an inward buffer of half a cell diagonal holds a disc
    of that radius, and every such disc holds a cell centre; only the others are burnt, each
    in its own bounding window.
    """
    geoms = np.asarray(counties.geometry.values)
    inner = shapely.buffer(geoms, -grid.res * math.sqrt(0.5), quad_segs=1)
    empty = []
    for zone, geom, thin in zip(counties["zone"], geoms, shapely.is_empty(inner)):
        if not thin:
            continue
        xmin, ymin, xmax, ymax = geom.bounds
        c0 = max(int(math.floor((xmin - grid.x0) / grid.res)), 0)
        r0 = max(int(math.floor((grid.y0 - ymax) / grid.res)), 0)
        c1 = min(int(math.ceil((xmax - grid.x0) / grid.res)), grid.width)
        r1 = min(int(math.ceil((grid.y0 - ymin) / grid.res)), grid.height)
        if c1 <= c0 or r1 <= r0:
            empty.append(int(zone))
            continue
        win = Window(c0, r0, c1 - c0, r1 - r0)
        burnt = features.rasterize(
            [(geom, 1)], out_shape=(r1 - r0, c1 - c0), dtype="uint8", transform=window_transform(win, grid.transform)
        )
        if not burnt.any():
            empty.append(int(zone))
    return empty


# --------------------------------------------------------------------------- grading


def write_grade_raster(
    erosion_aligned: str | Path,
    erosion_source: str | Path,
    counties: gpd.GeoDataFrame,
    t_by_zone: np.ndarray,
    grid: AnalysisGrid,
    out_path: str | Path,
    window_size: int = 2048,
    *,
    erosion_unit: str = "t/km2/a",
    erosion_resampling: str = "auto",
    erosion_layers: Sequence[dict] | None = None,
    footprint: shapely.Geometry | None = None,
) -> None:
    """Grade the erosion modulus by SL 190 with each county's T and write ``out_path``.

    ``erosion_aligned`` is read onto ``grid`` as it is (:class:`swc_raster.sources.GridSource`,
    in ``erosion_unit``): the aligned modulus, or the source raster itself.

    Codes: 1–6 grades; 0 erosion nodata inside a county (non-eroded); 7 county
    land outside the erosion raster's footprint (data gap); 255 outside every
    county.  ``t_by_zone[z]`` is T (t/(km²·a)) of zone ``z`` (index 0 unused).
    ``erosion_layers`` and ``footprint``: as for :func:`crosstab_with_sensitivity` (the grade is then
    the more severe of water and wind erosion; ``footprint`` the union of the layers' footprints).
    """
    check_window_size(window_size)
    zones = _Zones(counties)
    if footprint is not None:
        cover = footprint
    else:
        with open_raster(erosion_source, "erosion") as src:
            cover = raster_footprint(src, grid.crs_wkt)
    t_by_zone = np.asarray(t_by_zone, dtype="float64")
    if erosion_layers is not None:
        ero = open_source(grid, "erosion", {"layers": list(erosion_layers), "resampling": erosion_resampling})
    else:
        ero = GridSource(erosion_aligned, grid, kind="erosion", unit=erosion_unit, resampling=erosion_resampling)
    with (
        atomic_path(out_path) as tmp,
        rasterio.open(tmp, "w", **grid.profile("uint8", OUTSIDE), num_threads=2) as dst,
    ):
        windows = grid.windows(window_size)
        for win in progress(windows, len(windows), "grading"):
            zone = zones.burn(grid.transform, win)
            a = ero.read(win).astype("float64")
            a[a == EROSION_NODATA] = np.nan
            grade = grade_modulus(a, t_by_zone[zone])
            covered = features.geometry_mask(
                [cover], out_shape=zone.shape, transform=window_transform(win, grid.transform), invert=True
            )
            grade[~covered] = GAP_GRADE
            grade[zone == 0] = OUTSIDE
            dst.write(grade, 1, window=win)
        dst.update_tags(
            GRADE_CODES="0 no erosion data (non-eroded), 1-6 SL 190-2007 grades, "
            "7 data gap (outside erosion raster), 255 outside region"
        )
    ero.close()


# --------------------------------------------------------------------------- cross-tab
#
# How the count is made fast (benchmarks/README.md has the numbers):
# - The engine reads the two rasters the year starts from — land cover and the
#   erosion modulus — and grades each cell itself (kernels.grade_keys), so the
#   table needs no grade raster: one read of each input, nothing written.
# - Each window is cut into tiles of TILE cells (the block size of the rasters the
#   pipeline writes, so a tile read decodes whole blocks, once).  A tile is
#   classified from the county polygons before anything is read: outside every
#   county → skipped, not even read; inside one county → no rasterization;
#   otherwise ("mixed") the counties meeting it, clipped to it, are burnt as local
#   labels 1..k — all the mixed tiles of a window in one vectorised call
#   (burn_centres: GDAL's scan-line rule in numpy, same cells, a fraction of the cost).
# - Per cell, compiled loops (swc_raster.kernels) grade the modulus with the
#   county's T, pack ``code << 3 | grade`` into one key and count the keys; raw
#   uint8 codes < 32 are packed as they are and folded into legend classes once
#   per batch of windows, other codes are mapped to their legend index first.
# - Edges: in a mixed tile the counties, clipped exactly to the tile, are turned
#   into signed-area accumulations (kernels.accumulate_edges) that flag the cells
#   their edges cross; only those cells are revisited, their pixel-centre count
#   replaced by their coverage of each county (kernels.correct_boundary_cells).
# - Buffers are reused tile after tile and GDAL's block cache is kept small, so memory
#   is a few MB per worker plus the cache, whatever the raster or window size.

_WORKER: dict = {}
#: Cells a side of the unit the engine classifies, reads and counts.
TILE = 512
#: GDAL block cache (MB) while counting: tiles are block-aligned, so little is re-read.
GDAL_CACHE_MB = 64
#: Largest piece of a window classified and burnt at once (cells a side; a multiple of TILE).
_SUB = 2048


def burn_centres(
    polys: np.ndarray,
    part: np.ndarray,
    label: np.ndarray,
    x0: np.ndarray,
    y0: np.ndarray,
    shapes: np.ndarray,
    res: tuple[float, float],
) -> np.ndarray | None:
    """Pixel-centre labels of several small windows ("parts") at once, as one flat uint8 buffer.

    Part ``j`` is a ``shapes[j] = (h, w)`` window whose upper-left corner is
    ``(x0[j], y0[j])``; polygon ``i`` is burnt with ``label[i]`` (1..255) into part
    ``part[i]``.  The buffer holds the parts one after the other, each C-ordered.

    GDAL's polygon scan-line rule re-done with numpy: the crossings of each row's
    centre line with the rings, signed by the edge's direction and the ring's
    orientation (entering or leaving), summed along the row and filled as runs: the same cells as
    ``rasterio.features.rasterize(all_touched=False)`` (``benchmarks/check_burn.py``
    compares them on every tile of the benchmarks), without its fixed cost of half
    a millisecond a call.  Returns ``None`` when two polygons of a part overlap
    (the caller lets GDAL burn the later over the earlier).
    """
    a, e = res[0], -res[1]
    h, w = shapes[:, 0].astype(np.int64), shapes[:, 1].astype(np.int64)
    offset = np.r_[0, np.cumsum(h * w)]
    parts, part_poly = shapely.get_parts(polys, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    poly = part_poly[ring_part][coord_ring]
    j = part[poly]
    u = -x0[j] / a + xy[:, 0] * (1.0 / a)  # pixel coordinates in the part, as GDALInvGeoTransform
    v = -y0[j] / e + xy[:, 1] * (1.0 / e)
    edge = coord_ring[1:] == coord_ring[:-1]  # consecutive vertices of one ring
    ring = coord_ring[:-1][edge]
    poly = poly[:-1][edge]
    u1, v1, u2, v2 = u[:-1][edge], v[:-1][edge], u[1:][edge], v[1:][edge]
    # orientation: +1 when the polygon lies on the same side of every edge as for an exterior ring
    # of positive area in (column, row) space; holes run the other way round
    area = np.bincount(ring, weights=u1 * v2 - u2 * v1, minlength=len(rings))
    exterior = np.r_[True, ring_part[1:] != ring_part[:-1]]  # get_rings gives each exterior first
    orient = np.where((area > 0) == exterior, 1, -1)[ring]
    up = v1 > v2
    u1, u2 = np.where(up, u2, u1), np.where(up, u1, u2)  # from the lower to the upper end, as GDAL does
    v1, v2 = np.where(up, v2, v1), np.where(up, v1, v2)
    # rows whose centre line y = r + 0.5 satisfies v1 <= y < v2 (horizontal edges cross none)
    r0 = np.maximum(np.ceil(v1 - 0.5), 0).astype(np.int64)
    n = np.minimum(np.ceil(v2 - 0.5), h[part[poly]]).astype(np.int64) - r0
    cross = n > 0
    if not cross.any():
        return np.zeros(int(offset[-1]), dtype=np.uint8)
    u1, v1, u2, v2, poly, r0, n = u1[cross], v1[cross], u2[cross], v2[cross], poly[cross], r0[cross], n[cross]
    step = (np.where(up, 1, -1) * orient)[cross]  # +1 entering the polygon left to right, -1 leaving it
    k = np.repeat(np.arange(len(n)), n)
    row = r0[k] + np.arange(k.size) - np.repeat(np.cumsum(n) - n, n)
    x = (row + 0.5 - v1[k]) * (u2[k] - u1[k]) / (v2[k] - v1[k]) + u1[k]
    poly, step = poly[k], step[k]
    j = part[poly]
    col = np.minimum(np.maximum(np.floor(x + 0.5), 0), w[j]).astype(np.int64)  # first cell whose centre is right of x
    pos = offset[j] + row * w[j] + col  # a leave at col = w ends the run at the end of the row
    order = np.argsort(pos, kind="stable")  # runs of crossings come sorted per edge: merge sort is fastest
    pos = pos[order]
    value = np.cumsum((step * label[poly])[order])
    depth = np.cumsum(step[order])
    last = np.r_[pos[1:] != pos[:-1], True]  # the state after every change at one position
    depth = depth[last]
    if depth.max(initial=0) > 1 or depth.min(initial=0) < 0:  # overlaps (or rings GDAL would read otherwise)
        return None
    pos, value = pos[last], value[last]
    return np.repeat(np.r_[0, value].astype(np.uint8), np.diff(np.r_[0, pos, offset[-1]]))


class _Counter:
    """One worker's state: datasets, polygons, the erosion footprint, buffers and count accumulators."""

    def __init__(
        self,
        landcover: dict,
        erosion: dict,
        counties_wkb: list[bytes],
        zone_ids: np.ndarray,
        t_by_zone: np.ndarray,
        footprint_wkb: bytes | None,
        grid: AnalysisGrid,
        lut: np.ndarray,
        n_zones: int,
        n_classes: int,
        tile: int,
        t_alt: Sequence[float] = (),
        check_values: bool = False,
    ):
        self.lc = open_source(grid, "landcover", landcover)
        self.ero = open_source(grid, "erosion", erosion)
        self.values = _value_checks(self.lc, self.ero, grid) if check_values else None
        self.areas = CellAreas(grid)
        grid_transform = grid.transform
        self.nodata = np.float32(EROSION_NODATA)
        self.geoms = shapely.from_wkb(counties_wkb)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self.ids = np.asarray(zone_ids, dtype="int64")
        self.t32 = np.array([_kernels().t_float32(t) for t in t_by_zone], dtype=np.float32)  # by zone id
        self.cover = None if footprint_wkb is None else shapely.from_wkb(footprint_wkb)
        if self.cover is not None:
            shapely.prepare(self.cover)
        self.transform = grid_transform
        self.res_x, self.res_y = abs(grid_transform.a), abs(grid_transform.e)
        self.n_zones, self.n_classes, self.tile = n_zones, n_classes, tile
        self.lc_u8 = self.lc.dtype == np.uint8
        # keys of raw codes (uint8 land cover, codes < 32) and of legend indices (anything else)
        self.n_index_keys = n_classes * N_GRADES
        key_type = np.uint8 if self.n_index_keys <= 256 else np.uint16  # as compile_now(wide_keys) expects
        self.index_of = lut[: 256 if self.lc_u8 else 65536].astype(key_type)
        raw = np.arange(256)
        # raw key → index key: 8 · legend index of the code + grade
        self.raw_to_index = lut[raw >> 3] * N_GRADES + (raw & 7)
        # cell areas (or cells, on an equal-area grid) by zone, lane and key
        self.acc = {
            "raw": np.zeros((n_zones + 1, _kernels().LANES, 256)),
            "index": np.zeros((n_zones + 1, _kernels().LANES, self.n_index_keys)),
        }
        # boundary cells: coverage minus pixel-centre count, by zone and key
        self.frac = {"raw": np.zeros((n_zones + 1, 256)), "index": np.zeros((n_zones + 1, self.n_index_keys))}
        # T sensitivity: cells by zone, lane and level (how many of the ascending alternative T the modulus reaches)
        self.t_alt32 = np.array([_kernels().t_float32(t) for t in t_alt], dtype=np.float32)
        self.n_levels = len(self.t_alt32) + 1
        self.acc_alt = np.zeros((n_zones + 1, _kernels().LANES, self.n_levels))
        self.frac_alt = np.zeros((n_zones + 1, self.n_levels))
        self.cover_acc = np.zeros(0)  # signed-area accumulator of the counties of a tile, grown as needed
        self.touched = np.zeros(tile * tile, dtype=np.uint8)
        self.cells = np.empty(tile * tile, dtype=np.int64)  # the cells county edges cross in a tile
        t2 = tile * tile
        self.buf = {
            "lc": np.empty(t2, dtype=self.lc.dtype),
            "ero": np.empty(t2, dtype=np.float32),
            "raw": np.empty(t2, dtype=np.uint8),
            "index": np.empty(t2, dtype=key_type),
            "codes": np.empty(t2, dtype=key_type),
            "level": np.empty(t2, dtype=np.uint8),
        }

    def _b(self, name: str, h: int, w: int) -> np.ndarray:
        return self.buf[name][: h * w].reshape(h, w)

    def close(self) -> None:
        self.lc.close()
        self.ero.close()

    def count(self, windows: Sequence[Window]) -> tuple[np.ndarray, np.ndarray, object]:
        """Cells (coverage-weighted at county edges) of ``windows`` → float64 (n_zones+1, n_classes, 8), and
        the cells of each T-sensitivity level → float64 (n_zones+1, n_levels); zone 0 empty in both; and
        the value checks' findings on the cells read (:class:`swc_raster.value_checks.ValueFindings`, or None)."""
        for acc in (*self.acc.values(), *self.frac.values(), self.acc_alt, self.frac_alt):
            acc[:] = 0
        for win in windows:
            c0, r0, w, h = int(win.col_off), int(win.row_off), int(win.width), int(win.height)
            for r in range(r0, r0 + h, _SUB):  # bounded work arrays whatever the window size
                for c in range(c0, c0 + w, _SUB):
                    self._window(Window(c, r, min(_SUB, c0 + w - c), min(_SUB, r0 + h - r)))
        by_index = self.acc["index"].sum(axis=1) + self.frac["index"]
        raw = self.acc["raw"].sum(axis=1) + self.frac["raw"]
        for code in np.flatnonzero(raw.any(axis=0)):
            by_index[:, self.raw_to_index[code]] += raw[:, code]
        out = by_index.reshape(self.n_zones + 1, self.n_classes, N_GRADES)
        out[0] = 0
        levels = self.acc_alt.sum(axis=1) + self.frac_alt
        levels[0] = 0
        return out, levels, None if self.values is None else self.values.take()

    def _window(self, win: Window) -> None:
        t = self.tile
        c0, r0, w, h = int(win.col_off), int(win.row_off), int(win.width), int(win.height)
        tiles = [
            Window(c, r, min(t, c0 + w - c), min(t, r0 + h - r))
            for r in range(r0, r0 + h, t)
            for c in range(c0, c0 + w, t)
        ]
        tr = self.transform
        x0 = np.array([tr.c + tw.col_off * tr.a for tw in tiles])
        y0 = np.array([tr.f + tw.row_off * tr.e for tw in tiles])
        shapes = np.array([(tw.height, tw.width) for tw in tiles], dtype=np.int64)
        x1, y1 = x0 + shapes[:, 1] * tr.a, y0 + shapes[:, 0] * tr.e
        boxes = shapely.box(x0, y1, x1, y0)
        hit_tile, hit_geom = self.tree.query(boxes, predicate="intersects")
        if not len(hit_tile):
            return  # outside every county: nothing to read
        within = set(zip(*self.tree.query(boxes, predicate="within")))  # (tile, polygon) with tile ⊂ polygon
        order = np.lexsort((hit_geom, hit_tile))
        hit_tile, hit_geom = hit_tile[order], hit_geom[order]
        bounds = np.searchsorted(hit_tile, np.arange(len(tiles) + 1))
        whole, mixed = [], []
        for i in range(len(tiles)):
            geoms = hit_geom[bounds[i] : bounds[i + 1]]
            if len(geoms) == 1 and (i, geoms[0]) in within:
                whole.append((i, int(geoms[0])))
            elif len(geoms):
                mixed.append(i)
        for i, g in whole:
            self._tile(tiles[i], boxes[i], [g], None)
        if not mixed:
            return
        # burn the counties meeting the mixed tiles, each clipped to its tile, in one go
        polys, part, label, used = [], [], [], []
        for j, i in enumerate(mixed):
            geoms = hit_geom[bounds[i] : bounds[i + 1]]
            clipped = shapely.clip_by_rect(
                self.geoms[geoms], x0[i] - self.res_x, y1[i] - self.res_y, x1[i] + self.res_x, y0[i] + self.res_y
            )
            keep = ~shapely.is_empty(clipped)
            polys.append(clipped[keep])
            used.append([int(g) for g in geoms[keep]])
            part.append(np.full(int(keep.sum()), j))
            label.append(np.arange(1, int(keep.sum()) + 1))
        mixed_shapes = shapes[mixed]
        if max(len(u) for u in used) >= 255:  # more counties in one tile than uint8 labels (never for real counties)
            raise ValueError(
                f"more than 254 counties meet one {t}-cell tile; split the region into batches "
                "(split.counties_per_batch in the config)"
            )
        flat = burn_centres(
            np.concatenate(polys),
            np.concatenate(part),
            np.concatenate(label),
            x0[mixed],
            y0[mixed],
            mixed_shapes,
            (self.res_x, self.res_y),
        )
        offset = np.r_[0, np.cumsum(mixed_shapes[:, 0] * mixed_shapes[:, 1])]
        for j, i in enumerate(mixed):
            if not used[j]:
                continue
            h, w = (int(v) for v in mixed_shapes[j])
            if flat is not None:
                zl = flat[offset[j] : offset[j + 1]].reshape(h, w)
            else:  # overlapping counties: GDAL burns the later over the earlier
                zl = np.zeros((h, w), dtype=np.uint8)
                features.rasterize(
                    zip(polys[j], label[j]), out=zl, transform=window_transform(tiles[i], tr), all_touched=False
                )
            self._tile(tiles[i], boxes[i], used[j], zl, self._edges(polys[j], tiles[i]))

    def _edges(self, polys: np.ndarray, tw: Window) -> tuple[np.ndarray, ...]:
        """Edges of ``polys`` (label i + 1 for polygon i) clipped exactly to the tile, in its pixel coordinates.

        Exteriors are oriented counter-clockwise in map coordinates, holes
        clockwise, as kernels.accumulate_edges expects.
        """
        tr = self.transform
        x0, y0 = tr.c + tw.col_off * tr.a, tr.f + tw.row_off * tr.e
        h, w = int(tw.height), int(tw.width)
        clipped = shapely.clip_by_rect(polys, x0, y0 - h * self.res_y, x0 + w * self.res_x, y0)
        parts, owner = shapely.get_parts(clipped, return_index=True)
        keep = shapely.get_type_id(parts) == 3  # polygons (clipping can leave lines or points on the tile's sides)
        parts = shapely.orient_polygons(parts[keep], exterior_cw=False)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
        u = np.clip((xy[:, 0] - x0) / self.res_x, 0, w)
        v = np.clip((y0 - xy[:, 1]) / self.res_y, 0, h)
        edge = coord_ring[1:] == coord_ring[:-1]
        label = (owner[keep][ring_part][coord_ring[:-1][edge]] + 1).astype(np.int64)
        return u[:-1][edge], v[:-1][edge], u[1:][edge], v[1:][edge], label

    def _gap(self, tw: Window, box) -> np.ndarray | None:
        """Cells of the tile outside the erosion raster's footprint (grade 7), or None when there are none."""
        if self.cover is None or self.cover.contains(box):
            return None
        h, w = int(tw.height), int(tw.width)
        return features.geometry_mask([self.cover], out_shape=(h, w), transform=window_transform(tw, self.transform))

    def _tile(
        self, tw: Window, box, geoms: list[int], zl: np.ndarray | None, edges: tuple[np.ndarray, ...] | None = None
    ) -> None:
        """Count one tile: all of it in county ``geoms[0]`` when ``zl`` is None, else by the local labels ``zl``.

        In a mixed tile the cells are counted by their centres' labels, then the
        cells crossed by the counties' ``edges`` are corrected to their coverage.
        """
        h, w = int(tw.height), int(tw.width)
        row_w = self.areas.rows(int(tw.row_off), h, int(tw.col_off), w)
        gap = self._gap(tw, box)
        if self.values is not None:  # the value checks see the tile as read (swc_raster.value_checks)
            self.values.start_tile(tw, zl, gap, row_w * self.areas.scale_km2)
        lc = self.lc.read(tw, out=self._b("lc", h, w)).reshape(-1)
        ero = self.ero.read(tw, out=self._b("ero", h, w)).reshape(-1)
        if self.lc_u8 and int(lc.max()) < 32:
            kind, codes = "raw", lc
        else:
            kind, codes = "index", np.take(self.index_of, lc, out=self.buf["codes"][: h * w])
        key = self.buf[kind][: h * w]
        zones = self.ids[geoms]
        t_of_label = np.r_[np.float32(0), self.t32[zones]].astype(np.float32)
        if zl is None or (t_of_label[1:] == t_of_label[1]).all():
            _kernels().grade_keys(codes, ero, t_of_label[1], self.nodata, key)
        else:
            _kernels().grade_keys_labelled(codes, ero, zl.reshape(-1), t_of_label, self.nodata, key)
        if gap is not None:
            _kernels().mark_gap(key, gap.reshape(-1))
        level = self._levels(ero, gap, h * w)
        acc = self.acc[kind]
        if zl is None:
            _kernels().count_keys_rows(key, w, row_w, acc[zones[0]])
            if level.size:
                _kernels().count_keys_rows(level, w, row_w, self.acc_alt[zones[0]])
            return
        local = np.zeros((len(geoms) + 1, _kernels().LANES, acc.shape[2]))
        labels = zl.reshape(-1)
        _kernels().count_keys_labelled_rows(labels, key, w, row_w, local)
        acc[zones] += local[1:]
        if level.size:
            local_alt = np.zeros((len(geoms) + 1, _kernels().LANES, self.n_levels))
            _kernels().count_keys_labelled_rows(labels, level, w, row_w, local_alt)
            self.acc_alt[zones] += local_alt[1:]
        if edges is None:
            return
        n = (len(geoms) + 1) * h * (w + 1)
        if self.cover_acc.size < n:
            self.cover_acc = np.zeros(n)
        cover = self.cover_acc[:n].reshape(len(geoms) + 1, h, w + 1)  # zeros: the kernels leave it so
        touched = self.touched[: h * w].reshape(h, w)
        n = _kernels().accumulate_edges(*edges, cover, touched, self.cells)
        crossed = np.sort(self.cells[:n])
        corrections = np.zeros((len(geoms) + 1, acc.shape[2]))
        level_corrections = np.zeros((len(geoms) + 1, self.n_levels))
        no_gap = np.zeros(0, dtype=np.bool_)
        _kernels().correct_boundary_cells(
            cover,
            touched,
            crossed,
            labels,
            codes,
            ero,
            no_gap if gap is None else gap.reshape(-1),
            t_of_label,
            self.nodata,
            corrections,
            row_w,
            level,
            level_corrections,
        )
        self.frac[kind][zones] += corrections[1:]
        self.frac_alt[zones] += level_corrections[1:]

    def _levels(self, ero: np.ndarray, gap: np.ndarray | None, n: int) -> np.ndarray:
        """Each cell's T-sensitivity level (0 on gap cells); empty when no alternative T is asked for."""
        if not len(self.t_alt32):
            return self.buf["level"][:0]
        level = self.buf["level"][:n]
        _kernels().levels_at_least(ero, self.t_alt32, self.nodata, level)
        if gap is not None:
            level[gap.reshape(-1)] = 0
        return level


def _compile_value_checks(landcover: str | Path, erosion: str | Path) -> None:
    """The value checks' kernels for the two rasters' types, compiled before the workers fork."""
    from swc_raster.value_checks import compile_now

    with rasterio.open(landcover) as lc, rasterio.open(erosion) as ero:
        compile_now(lc.dtypes[0], ero.dtypes[0])


def _value_checks(landcover, erosion, grid: AnalysisGrid):
    """The value checks of a worker's two sources, hooked onto their reads."""
    from swc_raster.value_checks import TileChecks

    checks = TileChecks(landcover, erosion, grid.global_offset)
    checks.attach(landcover, erosion)
    return checks


def _init_worker(*args) -> None:
    _WORKER["counter"] = _Counter(*args)
    _WORKER["env"] = rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB).__enter__()
    # the worker process lives as long as the pool; close its datasets when it exits
    atexit.register(_WORKER["counter"].close)


def _count_windows(windows: list[Window]) -> np.ndarray:
    return _WORKER["counter"].count(windows)


def landcover_lut(codes: Sequence[int], max_code: int = 65535) -> np.ndarray:
    """Map raw land-cover codes to compact indices: legend codes → 1..n, anything else → 0 (unclassified)."""
    lut = np.zeros(max_code + 1, dtype="int64")
    for i, code in enumerate(codes, start=1):
        lut[int(code)] = i
    return lut


def _batches(windows: list[Window], n: int) -> list[list[Window]]:
    """``windows`` cut into ``n`` runs of consecutive windows (neighbours share blocks and polygons)."""
    n = max(1, min(n, len(windows)))
    edges = np.linspace(0, len(windows), n + 1).round().astype(int)
    return [windows[a:b] for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _check_erosion_raster(path: str | Path, grid: AnalysisGrid) -> None:
    """The engine reads the aligned modulus as written by ``align_erosion``: float32 on ``grid``."""
    with rasterio.open(path) as src:
        if src.dtypes[0] != "float32" or (src.width, src.height) != (grid.width, grid.height):
            raise ValueError(
                f"{path}: expected the aligned erosion modulus (float32, {grid.width} × {grid.height} "
                f"cells), found {src.dtypes[0]}, {src.width} × {src.height}; give the output of "
                "align_erosion for this grid"
            )


def crosstab(
    landcover_aligned: str | Path,
    erosion_aligned: str | Path,
    counties: gpd.GeoDataFrame,
    legend_codes: Sequence[int],
    grid: AnalysisGrid,
    t_by_zone: Sequence[float],
    **kwargs,
) -> xr.DataArray:
    """Area (km²) per county × land-cover class × SL 190 grade (see :func:`crosstab_with_sensitivity`)."""
    return crosstab_with_sensitivity(
        landcover_aligned, erosion_aligned, counties, legend_codes, grid, t_by_zone, **kwargs
    )[0]


def crosstab_with_sensitivity(
    landcover_aligned: str | Path,
    erosion_aligned: str | Path,
    counties: gpd.GeoDataFrame,
    legend_codes: Sequence[int],
    grid: AnalysisGrid,
    t_by_zone: Sequence[float],
    *,
    footprint: shapely.Geometry | None = None,
    window_size: int = 2048,
    workers: int | None = None,
    erosion_unit: str | None = None,
    landcover_resampling: str = "auto",
    erosion_resampling: str = "auto",
    t_sensitivity: Sequence[float] = (),
    erosion_layers: Sequence[dict] | None = None,
    landcover_is_wind_grade: bool = False,
    findings=None,
) -> tuple[xr.DataArray, xr.DataArray]:
    """Area (km²) per county × land-cover class × SL 190 grade, from one pass over the grid.

    The two rasters are read onto ``grid`` as they are (:class:`swc_raster.sources.GridSource`:
    a plain read when on the grid's lattice, else nearest neighbour through an exact coarse
    lattice, else GDAL's warper), each cell weighted by its true area (:class:`CellAreas`).
    ``erosion_unit`` None: ``erosion_aligned`` is the modulus in t/(km²·a) on ``grid`` (float32,
    nodata −9999, as ``align_erosion`` writes it); otherwise it is a source raster in that unit.
    Each cell is graded with the T of its
    county, ``t_by_zone[zone]``, exactly as ``write_grade_raster`` grades it.
    ``footprint`` (grid CRS) is the erosion raster's coverage: county land
    outside it is grade 7 (data gap); None means the raster covers the grid.
    Returns a DataArray with dims ``(county_code, landcover_code, grade_code)``;
    land-cover code 0 holds cells whose class is missing or not in the legend.
    ``workers`` processes (default: all cores) share the windows.

    T sensitivity, in the same pass: for each alternative T of ``t_sensitivity`` (every county
    alike) the area (km²) of each county whose modulus is defined, inside the erosion raster's
    footprint and ≥ that T — its erosion area had every county that T (all T < 2 500, so only
    the 微度/轻度 boundary moves), counted exactly as the grades are (same cells, same coverage
    weights at county edges, same float32 comparison).  Returned as the second value, a DataArray
    ``(county_code, t_km2)`` (no ``t_km2`` when ``t_sensitivity`` is empty).

    ``erosion_layers`` (:meth:`swc_raster.erosion_layers.ErosionLayer.params` of the water layer and
    the optional wind layer) replaces ``erosion_aligned``: graded rasters and wind erosion are read
    as the modulus their grades stand for (:mod:`swc_raster.layer_sources`).  With
    ``landcover_is_wind_grade`` the wind layer's grades (1–6) take the place of the land-cover
    classes: the count is then county × wind grade × water grade (the by-process table).

    ``findings`` (a :class:`swc_raster.value_checks.ValueFindings`): when given, the two rasters'
    values are checked in the same pass, on the cells it reads whose centre lies in a county (values
    outside every county cannot change a result), and what is found is added to it.  Not with
    ``erosion_layers``: those years' rasters are checked by the year's input checks (validate_year).
    """
    from swc_raster.grading import check_allowable_loss

    check_window_size(window_size)
    t_alt = sorted({float(t) for t in t_sensitivity})
    for t in t_alt:
        check_allowable_loss(t)
    if erosion_unit is None and erosion_layers is None:
        _check_erosion_raster(erosion_aligned, grid)
    if counties.empty:
        raise InputError("counties", "there is no county to count.", "check the batch's boundaries (codes, layer).")
    n_zones = int(counties["zone"].max())
    t_by_zone = np.asarray(t_by_zone, dtype="float64")
    if len(t_by_zone) <= n_zones:
        raise ValueError(f"t_by_zone has {len(t_by_zone)} values; it needs one per zone id 0..{n_zones}")
    if landcover_is_wind_grade:
        legend_codes = [1, 2, 3, 4, 5, 6]  # the wind grades are the classes (0: no wind data)
    lut = landcover_lut(legend_codes)
    n_classes = len(legend_codes) + 1
    windows = grid.windows(window_size)
    workers = max(1, min(workers or os.cpu_count() or 1, len(windows)))
    _kernels().compile_now(wide_keys=n_classes * N_GRADES > 256)  # before forking: the workers inherit the kernels
    if findings is not None and erosion_layers is not None:
        raise ValueError("the counting pass checks the values of plain rasters only; erosion layers are checked first")
    if findings is not None:
        _compile_value_checks(landcover_aligned, erosion_aligned)
    lc_spec = {"path": str(landcover_aligned), "resampling": landcover_resampling, "label": "land cover"}
    ero_spec = {
        "path": str(erosion_aligned),
        "unit": erosion_unit or "t/km2/a",
        "resampling": erosion_resampling,
        "label": "erosion",
    }
    if erosion_layers is not None:
        water = [layer for layer in erosion_layers if layer["process"] == "water"]
        ero_spec = {
            "layers": water if landcover_is_wind_grade else list(erosion_layers),
            "resampling": erosion_resampling,
        }
        if landcover_is_wind_grade:
            lc_spec = {"layers": list(erosion_layers), "resampling": erosion_resampling, "read": "wind_grade"}
    args = (
        lc_spec,
        ero_spec,
        shapely.to_wkb(np.asarray(counties.geometry.values)).tolist(),
        counties["zone"].to_numpy(),
        t_by_zone,
        None if footprint is None else shapely.to_wkb(footprint),
        grid,
        lut,
        n_zones,
        n_classes,
        min(TILE, window_size),
        t_alt,
        findings is not None,
    )
    total = np.zeros((n_zones + 1, n_classes, N_GRADES))
    levels = np.zeros((n_zones + 1, len(t_alt) + 1))
    if workers == 1:
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            counter = _Counter(*args)
            try:
                for batch in _batches(windows, 16):
                    counts, by_level, found = counter.count(batch)
                    total += counts
                    levels += by_level
                    if found is not None:
                        findings.update(found)
            finally:
                counter.close()
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=args) as pool:
            chunks = list(_batches(windows, 8 * workers))
            for counts, by_level, found in progress(pool.map(_count_windows, chunks), len(chunks), "counting"):
                total += counts
                levels += by_level
                if found is not None:
                    findings.update(found)
    zone_to_code = dict(zip(counties["zone"], counties["county_code"]))
    scale = CellAreas(grid).scale_km2
    area = np.maximum(total[1:], 0.0) * scale  # −1e−13 cells of rounding in coverage sums → 0
    codes = [zone_to_code[z] for z in range(1, n_zones + 1)]
    # eroded at t_alt[k] ⇔ level > k: the areas of levels k+1 … n summed
    at_least = np.cumsum(levels[1:, ::-1], axis=1)[:, ::-1][:, 1:]
    eroded = xr.DataArray(
        np.maximum(at_least, 0.0) * scale,
        dims=("county_code", "t_km2"),
        coords={"county_code": codes, "t_km2": t_alt},
        name="eroded_area_km2",
        attrs={"units": "km2", "meaning": "area with A >= T_alt (defined modulus, no data gap)"},
    )
    table = xr.DataArray(
        area,
        dims=("county_code", "landcover_code", "grade_code"),
        coords={
            "county_code": [zone_to_code[z] for z in range(1, n_zones + 1)],
            "landcover_code": [0, *[int(c) for c in legend_codes]],
            "grade_code": list(ALL_CODES),
        },
        name="area_km2",
        attrs={
            "units": "km2",
            "edge_rule": "coverage fraction",
            "cell_area": "res² (equal-area grid)" if grid.equal_area else "true area of each row's cells",
        },
    )
    return table, eroded


def read_crosstab(path: str | Path) -> xr.DataArray:
    """A cross-tab written by the crosstab stage (county codes as text)."""
    with xr.open_dataarray(path) as da:
        table = da.load()
    return table.assign_coords(county_code=[str(c) for c in table.county_code.values])
