"""Read a source raster onto the analysis grid, tile by tile, without writing anything.

Three ways, chosen once per raster (docs/decisions/0001-alignment.md):

- ``direct``: the raster is on the grid's lattice (same CRS, same cell, origin on a cell
  corner): a tile is a plain window read of the raster, shifted; nothing is resampled.
- ``nearest``: each grid cell takes the source cell holding its centre.  The centres' positions
  in the source are computed exactly (PROJ) on a coarse lattice of nodes every ``STEP`` cells,
  tied to the *global* lattice (not to the batch), and interpolated bilinearly in between; the
  interpolation error of a smooth projection over 16 cells is < 1e-4 cell (tests/test_align.py),
  and a cell's source position depends only on its global index, so batches read exactly what a
  single job reads.  Compiled gather (:func:`_gather`), no GDAL warper.
- ``warp``: GDAL's warper for the other resampling methods (mode, average, bilinear), when the
  grid is coarser than the source.

The erosion modulus comes out in t/(km²·a) (float32, nodata −9999): area units are linear;
t/(pixel·a) is divided by the true area of the source pixel (:mod:`swc_raster.cellarea`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
from numba import njit
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.windows import Window

from swc_raster.grid import AnalysisGrid, CellAreas
from swc_raster.legend import LANDCOVER_NODATA
from swc_raster.units import EROSION_NODATA

#: Spacing (cells) of the lattice of exactly transformed cell centres (``nearest``).
STEP = 16
#: An equal-area CRS of the whole globe, to compare cell sizes (only the ratio matters).
SIZE_CRS = "+proj=cea +lon_0=0 +lat_ts=0 +ellps=GRS80 +units=m +no_defs"
#: The grid coarsens the source when its cell is this much larger than the source's (as align.COARSEN_RATIO).
COARSEN_RATIO = 1.5


def same_lattice(src: rasterio.DatasetReader, grid: AnalysisGrid, tol: float = 1e-6) -> bool:
    """True when the raster's cells are the grid's cells (same CRS, cell and corners, up to ``tol`` of a cell)."""
    t = src.transform
    if t.b != 0 or t.d != 0 or src.crs is None:
        return False
    if abs(t.a - grid.res) > tol * grid.res or abs(-t.e - grid.res) > tol * grid.res:
        return False
    dx, dy = (grid.x0 - t.c) / grid.res, (t.f - grid.y0) / grid.res
    if abs(dx - round(dx)) > tol or abs(dy - round(dy)) > tol:
        return False
    return CRS.from_wkt(src.crs.to_wkt()) == CRS.from_wkt(grid.crs_wkt)


def choose_mode(src: rasterio.DatasetReader, grid: AnalysisGrid, method: str, kind: str) -> tuple[str, str]:
    """(way, resampling name) for a raster onto ``grid``: direct when on the lattice, else by ``method``."""
    if same_lattice(src, grid):
        return "direct", "none (same grid)"
    if method == "auto":
        from swc_raster.align import source_cell_size_m

        coarser = _grid_cell_m(grid) > COARSEN_RATIO * source_cell_size_m(src, SIZE_CRS)
        method = ("mode" if kind == "landcover" else "average") if coarser else "nearest"
    return ("nearest" if method == "nearest" else "warp"), method


def _grid_cell_m(grid: AnalysisGrid) -> float:
    """Typical ground size of a grid cell (m)."""
    crs = CRS.from_wkt(grid.crs_wkt)
    if not crs.is_geographic:
        return grid.res * (crs.axis_info[0].unit_conversion_factor or 1.0)
    areas = CellAreas(grid).rows(grid.height // 2, 1, grid.width // 2, 1)
    return math.sqrt(float(areas[0]) * 1e6)


@njit(cache=True, nogil=True)
def _gather(u_nodes, v_nodes, step, r_first, c_first, h, w, src, src_r0, src_c0, fill, out):
    """``out[i, j]`` = the source cell under the centre of grid cell (i, j), else ``fill``.

    ``u_nodes``/``v_nodes``: source pixel coordinates (column, row) of the lattice nodes; grid
    cell (i, j) lies ``r_first + i`` rows and ``c_first + j`` columns after the first node.
    ``src`` is the block of the source read from (``src_r0``, ``src_c0``).  Bilinear between the
    nodes: first along the node columns for the cell's row, then along the row (the same numbers
    for a cell whatever tile or batch it is read in).
    """
    sh, sw = src.shape
    inv = 1.0 / step
    n_nodes = u_nodes.shape[1]
    ic = np.empty(w, np.int64)
    tc = np.empty(w, np.float64)
    for j in range(w):
        b = c_first + j
        ic[j] = b // step
        tc[j] = (b - ic[j] * step) * inv
    u_row = np.empty(n_nodes)
    v_row = np.empty(n_nodes)
    for i in range(h):
        a = r_first + i
        ir = a // step
        tr = (a - ir * step) * inv
        for k in range(n_nodes):
            u_row[k] = (1.0 - tr) * u_nodes[ir, k] + tr * u_nodes[ir + 1, k]
            v_row[k] = (1.0 - tr) * v_nodes[ir, k] + tr * v_nodes[ir + 1, k]
        for j in range(w):
            k = ic[j]
            u = u_row[k] + tc[j] * (u_row[k + 1] - u_row[k])
            v = v_row[k] + tc[j] * (v_row[k + 1] - v_row[k])
            col = int(math.floor(u)) - src_c0
            row = int(math.floor(v)) - src_r0
            if 0 <= row < sh and 0 <= col < sw:
                out[i, j] = src[row, col]
            else:
                out[i, j] = fill


class GridSource:
    """One source raster read onto tiles of ``grid`` (open in the process that reads)."""

    #: Called with each tile's values as stored, before any conversion (swc_raster.value_checks).
    inspect = None

    def __init__(
        self,
        path: str | Path,
        grid: AnalysisGrid,
        *,
        kind: str,
        unit: str = "t/km2/a",
        resampling: str = "auto",
        label: str | None = None,
    ):
        from swc_raster.align import open_raster

        self.path, self.grid, self.kind = str(path), grid, kind
        self.src = open_raster(path, label or kind)
        self.mode, self.method = choose_mode(self.src, grid, resampling, kind)
        self.dtype = np.dtype(self.src.dtypes[0]) if kind == "landcover" else np.dtype("float32")
        if kind == "landcover":
            from swc_raster.legend import aligned_landcover_dtype, check_landcover_dtype

            check_landcover_dtype(self.src.dtypes[0], label or kind, path)
            self.dtype = np.dtype(aligned_landcover_dtype(self.src.dtypes[0]))
        self.fill = LANDCOVER_NODATA if kind == "landcover" else EROSION_NODATA
        self.src_nodata = self.src.nodata
        self.unit = unit
        self.factor = None
        if kind == "erosion":
            from swc_raster.units import T_PIXEL, normalise_unit, to_t_km2

            self.unit = normalise_unit(unit, f"erosion unit of {path}")
            self.per_pixel = self.unit == T_PIXEL
            if not self.per_pixel:
                self.factor = float(to_t_km2(np.array([1.0]), self.unit)[0])
        if kind == "erosion" and self.per_pixel and self.mode == "warp":
            from swc_raster.errors import InputError

            raise InputError(
                f"erosion ({path})",
                f"is in t/pixel/a and would be resampled by {self.method}, which mixes pixels of different areas.",
                "set analysis.erosion_resampling: nearest, or convert the raster to t/km2/a first.",
            )
        self.g_row, self.g_col = grid.global_offset
        # direct reads: the grid's cell (row, col) is the raster's (row + r_shift, col + c_shift)
        self.r_shift = round((self.src.transform.f - grid.y0) / grid.res) if self.mode == "direct" else 0
        self.c_shift = round((grid.x0 - self.src.transform.c) / grid.res) if self.mode == "direct" else 0
        self._to_src = None
        self._vrt = None
        self._areas = None

    def close(self) -> None:
        if self._vrt is not None:
            self._vrt.close()
        self.src.close()

    # ------------------------------------------------------------------ reading

    def read(self, tile: Window, out: np.ndarray | None = None) -> np.ndarray:
        """The tile (grid window) of the source, in the grid's cells: codes, or the modulus in t/(km²·a)."""
        h, w = int(tile.height), int(tile.width)
        if out is None:
            out = np.empty((h, w), dtype=self.dtype)
        if self.mode == "direct":
            raw = self._read_direct(tile, out if self.src.dtypes[0] == out.dtype else None)
            src_rows = None
        elif self.mode == "nearest":
            raw, src_rows = self._read_nearest(tile)
        else:
            raw, src_rows = self._read_warp(tile), None
        if self.inspect is not None:
            self.inspect(raw)
        if self.kind == "landcover":
            if raw is not out:
                np.copyto(out, raw, casting="unsafe")
            if self.src_nodata is not None and self.src_nodata != LANDCOVER_NODATA:
                out[raw == self.src_nodata] = LANDCOVER_NODATA
            return out
        return self._to_modulus(raw, out, tile, src_rows)

    def _read_direct(self, tile: Window, out: np.ndarray | None) -> np.ndarray:
        h, w = int(tile.height), int(tile.width)
        r0, c0 = int(tile.row_off) + self.r_shift, int(tile.col_off) + self.c_shift
        if out is None:
            out = np.empty((h, w), dtype=self.src.dtypes[0])
        rr0, cc0 = max(r0, 0), max(c0, 0)
        rr1, cc1 = min(r0 + h, self.src.height), min(c0 + w, self.src.width)
        if rr0 == r0 and cc0 == c0 and rr1 == r0 + h and cc1 == c0 + w:
            return self.src.read(1, window=Window(c0, r0, w, h), out=out)
        out[:] = self._source_fill(out.dtype)
        if rr1 > rr0 and cc1 > cc0:
            out[rr0 - r0 : rr1 - r0, cc0 - c0 : cc1 - c0] = self.src.read(
                1, window=Window(cc0, rr0, cc1 - cc0, rr1 - rr0)
            )
        return out

    def _source_fill(self, dtype):
        """The value of cells outside the raster before conversion: the raster's nodata, else the output fill."""
        if self.src_nodata is not None and np.can_cast(np.min_scalar_type(self.src_nodata), dtype):
            return self.src_nodata
        return self.fill if np.can_cast(np.min_scalar_type(self.fill), dtype) else 0

    def _nodes(self, tile: Window) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Source pixel coordinates of the lattice nodes around ``tile`` and the tile's offset from the first node."""
        gr0, gc0 = self.g_row + int(tile.row_off), self.g_col + int(tile.col_off)
        nr0, nc0 = (gr0 // STEP) * STEP, (gc0 // STEP) * STEP
        nr1 = -(-(gr0 + int(tile.height)) // STEP) * STEP
        nc1 = -(-(gc0 + int(tile.width)) // STEP) * STEP
        gi = np.arange(nr0, nr1 + 1, STEP, dtype="float64")
        gj = np.arange(nc0, nc1 + 1, STEP, dtype="float64")
        g = self.grid
        x = g.origin_x + (gj + 0.5) * g.res  # global cell centres: the same numbers in every batch
        y = g.origin_y - (gi + 0.5) * g.res
        xx, yy = np.meshgrid(x, y)
        if self._to_src is None:
            self._to_src = Transformer.from_crs(
                CRS.from_wkt(g.crs_wkt), CRS.from_wkt(self.src.crs.to_wkt()), always_xy=True
            )
        sx, sy = self._to_src.transform(xx, yy)
        inv = ~self.src.transform
        u = inv.a * sx + inv.b * sy + inv.c
        v = inv.d * sx + inv.e * sy + inv.f
        return np.ascontiguousarray(u), np.ascontiguousarray(v), gr0 - nr0, gc0 - nc0

    def _read_nearest(self, tile: Window) -> tuple[np.ndarray, np.ndarray | None]:
        h, w = int(tile.height), int(tile.width)
        u, v, r_first, c_first = self._nodes(tile)
        out = np.empty((h, w), dtype=self.src.dtypes[0])
        fill = self._source_fill(out.dtype)
        ok = np.isfinite(u) & np.isfinite(v)
        if not ok.all():  # nodes outside the projection's domain: the tile lies (partly) off the source
            u, v = np.where(ok, u, -1e9), np.where(ok, v, -1e9)
        c_lo, c_hi = max(int(math.floor(u.min())), 0), min(int(math.floor(u.max())) + 1, self.src.width)
        r_lo, r_hi = max(int(math.floor(v.min())), 0), min(int(math.floor(v.max())) + 1, self.src.height)
        if c_hi <= c_lo or r_hi <= r_lo:
            out[:] = fill
            return out, None
        block = self.src.read(1, window=Window(c_lo, r_lo, c_hi - c_lo, r_hi - r_lo))
        _gather(u, v, STEP, r_first, c_first, h, w, block, r_lo, c_lo, fill, out)
        src_rows = None
        if self.kind == "erosion" and self.per_pixel:
            src_rows = self._source_rows(u, v, r_first, c_first, h, w, r_lo, r_hi)
        return out, src_rows

    def _source_rows(self, u, v, r_first, c_first, h, w, r_lo, r_hi) -> np.ndarray:
        """Source pixel areas (km²) under each grid cell, for t/(pixel·a): per source row, at the block's centre column."""
        from swc_raster.cellarea import cell_areas_km2

        rows = np.arange(r_lo, r_hi, dtype="float64")
        col = 0.5 * (float(u.min()) + float(u.max()))
        by_row = np.asarray(np.broadcast_to(cell_areas_km2(self.src, rows, np.array(math.floor(col))), rows.shape))
        # rows of the gathered cells: interpolate v like _gather does (bilinear), then floor
        a = (r_first + np.arange(h))[:, None]
        b = (c_first + np.arange(w))[None, :]
        ir, ic = a // STEP, b // STEP
        tr, tc = (a - ir * STEP) / STEP, (b - ic * STEP) / STEP
        v0 = (1 - tr) * v[ir, ic] + tr * v[ir + 1, ic]
        v1 = (1 - tr) * v[ir, ic + 1] + tr * v[ir + 1, ic + 1]
        vv = v0 + tc * (v1 - v0)
        row = np.clip(np.floor(vv).astype(np.int64) - r_lo, 0, len(by_row) - 1)
        return by_row[row]

    def _read_warp(self, tile: Window) -> np.ndarray:
        from rasterio.vrt import WarpedVRT

        if self._vrt is None:
            src = self.src
            g = self.grid
            self._vrt = WarpedVRT(
                src,
                crs=g.crs,
                transform=g.transform,
                width=g.width,
                height=g.height,
                resampling=Resampling[self.method],
                dtype=self.src.dtypes[0],
                nodata=self._source_fill(np.dtype(self.src.dtypes[0])),
                tolerance=1e-6,
            )
        return self._vrt.read(1, window=tile)

    def _to_modulus(self, raw: np.ndarray, out: np.ndarray, tile: Window, src_rows) -> np.ndarray:
        """Source values → t/(km²·a), float32, −9999 where the source has nodata or no cell."""
        valid = np.isfinite(raw) if raw.dtype.kind == "f" else np.ones(raw.shape, bool)
        if self.src_nodata is not None:
            valid &= raw != self.src_nodata
        if self.factor is not None:
            np.multiply(raw, self.factor, out=out, casting="unsafe") if self.factor != 1.0 else np.copyto(
                out, raw, casting="unsafe"
            )
        else:
            if src_rows is None:  # the source is on the grid: its pixels are the grid's cells
                if self._areas is None:
                    self._areas = CellAreas(self.grid)
                per_row = self._areas.rows(int(tile.row_off), int(tile.height), int(tile.col_off), int(tile.width))
                area = (per_row * self._areas.scale_km2)[:, None]
            else:
                area = src_rows
            np.divide(raw, area, out=out, casting="unsafe")
        out[~valid] = EROSION_NODATA
        return out
