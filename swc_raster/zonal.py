"""The zonal engine: window-by-window county × land cover × grade areas.

One pass over the analysis grid.  Each window is cut into 512-cell tiles (the
block size of the rasters the pipeline writes).  A tile outside every county is
skipped unread; a tile inside one county is counted without rasterizing; in the
other tiles the counties are burnt by the pixel-centre rule (a cell belongs to
the county holding its centre).  Land cover and grade are packed into one byte
per cell and counted with ``numpy.bincount``.  The rasters are never read more
than once and memory is bounded by the tile size, whatever the raster or window
size.  Windows are spread over worker processes.  How and why: the comment
above ``crosstab`` below, and benchmarks/README.md for the measurements.

Edge rule and its error: pixel centres.  Against an exact fractional-coverage
reference the error of a county's area is a sum of ± half-cell slivers along its
boundary, which mostly cancel: at 30 m it is < 0.02 % of a county's area and
< 0.02 pp of its rate for counties of a few hundred km² and more
(tests/test_workflow.py measures it against exactextract); it grows as a county
shrinks (benchmarks: 0.05 pp for a 12 km² district at 30 m).
"""

from __future__ import annotations

import atexit
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
from swc_raster.grading import ALL_CODES, GAP_GRADE, OUTSIDE, grade_modulus
from swc_raster.grid import AnalysisGrid
from swc_raster.logs import progress

N_GRADES = len(ALL_CODES)  # 0..7
#: Smallest and largest window sizes (cells a side) the engine accepts.
MIN_WINDOW, MAX_WINDOW = 64, 16384


#: Peak bytes per window cell that ``window_for_memory`` budgets for.  Conservative since the
#: engine counts tile by tile (its working set no longer grows with the window); kept so that
#: the window sizes the workflow derives from mem_mb stay as they were.
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
                       window_size: int = 2048) -> np.ndarray:
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
            windows = grid.windows(window_size)
            for win in progress(windows, len(windows), "grading"):
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
#
# How the count is made fast (benchmarks/README.md has the numbers):
# - Each window is cut into tiles of TILE cells (the block size of the rasters the
#   pipeline writes, so a tile read decodes whole blocks, once).  A tile is
#   classified from the county polygons before anything is read: outside every
#   county → skipped, not even read; inside one county → no rasterization;
#   otherwise ("mixed") the counties meeting it, clipped to it, are burnt as local
#   labels 1..k — all the mixed tiles of a window in one vectorised call
#   (burn_centres: GDAL's scan-line rule in numpy, same cells, a fraction of the cost).
# - Land cover and grade are packed into one byte per cell, ``lc << 3 | grade & 7``
#   (raw land-cover codes < 31) or ``8 · legend index + grade & 7``; ``& 7`` turns
#   grade 255 into the data-gap grade 7, as count_codes does.  In a mixed tile the
#   label joins the byte when it fits (k ≤ 2, or 3 without cells outside the
#   counties), else a uint16 key is counted.  Bytes are counted two cells at a time
#   (a uint16 view, 65 536 bins), which halves bincount's work and its stalls on
#   runs of equal codes.  Per-code counts are folded into (land-cover index, grade)
#   once per batch of windows.
# - Buffers are reused tile after tile and GDAL's block cache is kept small, so memory
#   is a few MB per worker plus the cache, whatever the raster or window size.

_WORKER: dict = {}
#: Cells a side of the unit the engine classifies, reads and counts.
TILE = 512
#: GDAL block cache (MB) while counting: tiles are block-aligned, so little is re-read.
GDAL_CACHE_MB = 64
#: Largest piece of a window classified and burnt at once (cells a side; a multiple of TILE).
_SUB = 2048
#: Count code pairs (uint16 view) from this many cells on; below it a plain bincount is cheaper.
_PAIR_MIN_CELLS = 1 << 15


def _hist256(key: np.ndarray) -> np.ndarray:
    """Counts of each uint8 code of the C-contiguous array ``key`` (length 256, int64)."""
    flat = key.reshape(-1)
    n = flat.size
    if n < _PAIR_MIN_CELLS:
        return np.bincount(flat, minlength=256)
    pairs = np.bincount(flat[: n - n % 2].view(np.uint16), minlength=65536).reshape(256, 256)
    out = pairs.sum(axis=0) + pairs.sum(axis=1)
    if n % 2:
        out[flat[-1]] += 1
    return out


def burn_centres(polys: np.ndarray, part: np.ndarray, label: np.ndarray, x0: np.ndarray, y0: np.ndarray,
                 shapes: np.ndarray, res: tuple[float, float]) -> np.ndarray | None:
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
    """One worker's (or thread's) state: datasets, polygons, buffers and per-code accumulators."""

    def __init__(self, landcover: str, grade: str, counties_wkb: list[bytes], zone_ids: np.ndarray,
                 grid_transform, lut: np.ndarray, n_zones: int, n_classes: int, tile: int):
        self.lc = rasterio.open(landcover)
        self.grade = rasterio.open(grade)
        self.geoms = shapely.from_wkb(counties_wkb)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self.ids = np.asarray(zone_ids, dtype="int64")
        self.transform = grid_transform
        self.res_x, self.res_y = abs(grid_transform.a), abs(grid_transform.e)
        self.lut, self.n_zones, self.n_classes, self.tile = lut, n_zones, n_classes, tile
        self.lc_u8 = np.dtype(self.lc.dtypes[0]) == np.uint8
        n_flat = n_classes * N_GRADES
        # packing 1: 8 · legend index + grade, for codes ≥ 31 or not uint8 (needs n_classes · 8 ≤ 255)
        self.lut8 = (lut[: 256 if self.lc_u8 else 65536] * N_GRADES).astype("uint8") if n_flat <= 255 else None
        # fold[p][code] = flat (index · 8 + grade) cell of a packed code of packing p; n_flat = unused code
        codes = np.arange(256)
        raw = np.where(codes < 31 * 8, lut[np.minimum(codes >> 3, 30)] * N_GRADES + (codes & 7), n_flat)
        idx = np.where(codes < n_flat, codes, n_flat)
        self.fold = [np.eye(n_flat + 1, dtype="int64")[raw], np.eye(n_flat + 1, dtype="int64")[idx]]
        self.acc = np.zeros((2, n_zones + 1, 256), dtype="int64")
        self.other = np.zeros((n_zones + 1, n_classes, N_GRADES), dtype="int64")  # legends too large to pack
        t2 = tile * tile
        self.buf = {"lc": np.empty(t2, dtype=self.lc.dtypes[0]), "grade": np.empty(t2, dtype="uint8"),
                    "key": np.empty(t2, dtype="uint8"), "tmp": np.empty(t2, dtype="uint8"),
                    "zl": np.empty(t2, dtype="uint8"), "k16": np.empty(t2, dtype="uint16")}

    def _b(self, name: str, h: int, w: int) -> np.ndarray:
        return self.buf[name][: h * w].reshape(h, w)

    def close(self) -> None:
        self.lc.close()
        self.grade.close()

    def count(self, windows: Sequence[Window]) -> np.ndarray:
        """Counts of ``windows`` → int64 (n_zones+1, n_classes, 8); zone 0 is left empty."""
        self.acc[:] = 0
        self.other[:] = 0
        for win in windows:
            c0, r0, w, h = int(win.col_off), int(win.row_off), int(win.width), int(win.height)
            for r in range(r0, r0 + h, _SUB):  # bounded work arrays whatever the window size
                for c in range(c0, c0 + w, _SUB):
                    self._window(Window(c, r, min(_SUB, c0 + w - c), min(_SUB, r0 + h - r)))
        out = self.other.copy()
        n_flat = self.n_classes * N_GRADES
        for p in (0, 1):
            out += (self.acc[p] @ self.fold[p])[:, :n_flat].reshape(self.n_zones + 1, self.n_classes, N_GRADES)
        out[0] = 0
        return out

    def _window(self, win: Window) -> None:
        t = self.tile
        c0, r0, w, h = int(win.col_off), int(win.row_off), int(win.width), int(win.height)
        tiles = [Window(c, r, min(t, c0 + w - c), min(t, r0 + h - r))
                 for r in range(r0, r0 + h, t) for c in range(c0, c0 + w, t)]
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
            geoms = hit_geom[bounds[i]:bounds[i + 1]]
            if len(geoms) == 1 and (i, geoms[0]) in within:
                whole.append((i, int(geoms[0])))
            elif len(geoms):
                mixed.append(i)
        for i, g in whole:
            self._tile(tiles[i], [g], None)
        if not mixed:
            return
        # burn the counties meeting the mixed tiles, each clipped to its tile, in one go
        polys, part, label, used = [], [], [], []
        for j, i in enumerate(mixed):
            geoms = hit_geom[bounds[i]:bounds[i + 1]]
            clipped = shapely.clip_by_rect(self.geoms[geoms], x0[i] - self.res_x, y1[i] - self.res_y,
                                           x1[i] + self.res_x, y0[i] + self.res_y)
            keep = ~shapely.is_empty(clipped)
            polys.append(clipped[keep])
            used.append([int(g) for g in geoms[keep]])
            part.append(np.full(int(keep.sum()), j))
            label.append(np.arange(1, int(keep.sum()) + 1))
        mixed_shapes = shapes[mixed]
        if max(len(u) for u in used) < 255:
            flat = burn_centres(np.concatenate(polys), np.concatenate(part), np.concatenate(label),
                                x0[mixed], y0[mixed], mixed_shapes, (self.res_x, self.res_y))
        else:  # more counties in one tile than uint8 labels (never for real counties)
            flat = None
        offset = np.r_[0, np.cumsum(mixed_shapes[:, 0] * mixed_shapes[:, 1])]
        for j, i in enumerate(mixed):
            h, w = (int(v) for v in mixed_shapes[j])
            if flat is not None:
                zl = flat[offset[j]:offset[j + 1]].reshape(h, w)
            elif len(used[j]) < 255:  # overlapping counties: GDAL burns the later over the earlier
                zl = np.zeros((h, w), dtype=np.uint8)
                if len(used[j]):
                    features.rasterize(zip(polys[j], label[j]), out=zl, transform=window_transform(tiles[i], tr),
                                       all_touched=False)
            else:
                zl = None
            self._tile(tiles[i], used[j], zl)

    def _tile(self, tw: Window, geoms: list[int], zl: np.ndarray | None) -> None:
        """Count one tile: all of it in county ``geoms[0]`` when ``zl`` is None, else by the local labels ``zl``."""
        h, w = int(tw.height), int(tw.width)
        lc = self.lc.read(1, window=tw, out=self._b("lc", h, w))
        grade = self.grade.read(1, window=tw, out=self._b("grade", h, w))
        key, tmp = self._b("key", h, w), self._b("tmp", h, w)
        lc_max = int(lc.max()) if self.lc_u8 else 255
        if lc_max < 31:
            p, n_key = 0, (lc_max << 3) + 8
            np.left_shift(lc, 3, out=key)
        elif self.lut8 is not None:
            p, n_key = 1, self.n_classes * N_GRADES
            np.take(self.lut8, lc, out=key)
        else:
            self._tile_general(tw, lc, grade)
            return
        np.bitwise_and(grade, 7, out=tmp)
        np.bitwise_or(key, tmp, out=key)
        acc = self.acc[p]
        if zl is None and len(geoms) == 1:
            acc[self.ids[geoms[0]]] += _hist256(key)
            return
        if zl is None:
            self._tile_general(tw, lc, grade)
            return
        k = len(geoms)
        if k == 0:
            return
        zones = self.ids[geoms]
        base = 1 if (k + 1) * n_key > 256 and zl.min() > 0 else 0  # no cell outside the counties: no group 0
        if (k + 1 - base) * n_key <= 256:  # label and code fit one byte: count them two cells at a time
            np.multiply(zl, n_key, out=tmp)
            np.add(tmp, key, out=tmp)
            if base:
                np.subtract(tmp, n_key, out=tmp)
            counts = _hist256(tmp)[: (k + 1 - base) * n_key].reshape(k + 1 - base, n_key)
            acc[zones, :n_key] += counts[1 - base:]
        else:
            k16 = self._b("k16", h, w)
            np.left_shift(zl, 8, out=k16, dtype="uint16")
            np.bitwise_or(k16, key, out=k16)
            counts = np.bincount(k16.reshape(-1), minlength=(k + 1) * 256).reshape(-1, 256)
            acc[zones] += counts[1:]

    def _tile_general(self, tw: Window, lc: np.ndarray, grade: np.ndarray) -> None:
        """Land-cover codes that fit neither packing (large legends, codes ≥ 31 not in a small legend)."""
        zone = zones_in_window(self.geoms, self.ids, self.transform, tw, self.tree)
        self.other += count_codes(zone, self.lut[lc], grade, self.n_zones, self.n_classes)


def _init_worker(*args) -> None:
    _WORKER["counter"] = _Counter(*args)
    _WORKER["env"] = rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB).__enter__()
    # the worker process lives as long as the pool; close its datasets when it exits
    atexit.register(_WORKER["counter"].close)


def _count_windows(windows: list[Window]) -> np.ndarray:
    return _WORKER["counter"].count(windows)


def count_codes(zone: np.ndarray, lc_index: np.ndarray, grade: np.ndarray, n_zones: int, n_classes: int) -> np.ndarray:
    """Count cells per (zone, land-cover index, grade) → int64 array (n_zones+1, n_classes, 8).

    Grade 255 (outside) inside a zone — which a consistent grade raster never
    has — is counted as a data gap rather than dropped, so no land is lost.
    """
    n_keys = (n_zones + 1) * n_classes * N_GRADES
    kt = np.uint32 if n_keys < 2**32 else np.int64  # no int64 temporaries when the keys fit 32 bits
    key = zone.astype(kt) * kt(n_classes)
    key += lc_index.astype(kt)
    key *= kt(N_GRADES)
    key += np.where(grade == OUTSIDE, GAP_GRADE, grade).astype(kt)
    counts = np.bincount(key.ravel(), minlength=n_keys)
    return counts.reshape(n_zones + 1, n_classes, N_GRADES)


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
            counties["zone"].to_numpy(), grid.transform, lut, n_zones, n_classes, min(TILE, window_size))
    total = np.zeros((n_zones + 1, n_classes, N_GRADES), dtype="int64")
    if workers == 1:
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            counter = _Counter(*args)
            try:
                for batch in _batches(windows, 16):
                    total += counter.count(batch)
            finally:
                counter.close()
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=args) as pool:
            chunks = list(_batches(windows, 8 * workers))
            for counts in progress(pool.map(_count_windows, chunks), len(chunks), "counting"):
                total += counts
    zone_to_code = dict(zip(counties["zone"], counties["county_code"]))
    area = total[1:] * grid.cell_area_km2
    return xr.DataArray(
        area, dims=("county_code", "landcover_code", "grade_code"),
        coords={"county_code": [zone_to_code[z] for z in range(1, n_zones + 1)],
                "landcover_code": [0, *[int(c) for c in legend_codes]], "grade_code": list(ALL_CODES)},
        name="area_km2", attrs={"units": "km2", "edge_rule": "pixel centre", "cell_area_km2": grid.cell_area_km2},
    )
