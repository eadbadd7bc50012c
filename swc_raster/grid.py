"""The analysis grid: the cells every input is counted on.

Two kinds (``analysis.grid`` in the config, docs/decisions/0001-alignment.md):

- ``equal_area``: an equal-area CRS and a square cell; every cell has the same true ground
  area (``res²``), so an area is a pixel count times the cell area.
- ``source``: the erosion raster's own lattice (any projected CRS in metres, or lon/lat),
  cropped to a batch's counties; each cell's true area comes from the projection
  (:mod:`swc_raster.cellarea`, :class:`CellAreas`).

Batches of one region share the lattice (``origin_x``, ``origin_y``, ``res``), so their
grids line up cell for cell, and a cell's global index does not depend on the batch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS
from rasterio.crs import CRS as RioCRS
from rasterio.windows import Window

from swc_raster.errors import CrsError


def require_equal_area(crs_text: str) -> CRS:
    """Parse ``crs_text`` and insist it is a projected, equal-area CRS in metres."""
    try:
        crs = CRS.from_user_input(crs_text)
    except Exception as exc:  # pyproj raises CRSError, a plain Exception
        raise CrsError(
            "analysis.crs",
            f"cannot parse {crs_text!r} ({exc}).",
            "give an EPSG code or PROJ string of an equal-area projection, e.g. Albers (+proj=aea).",
        ) from exc
    method = crs.coordinate_operation.method_name.lower() if crs.coordinate_operation else ""
    equal_area = any(k in method for k in ("albers", "equal area", "equal-area", "mollweide", "sinusoidal"))
    if not crs.is_projected or not equal_area:
        raise CrsError(
            "analysis.crs",
            f"{crs.name!r} is not an equal-area projection, so pixel areas would be wrong.",
            "use an equal-area CRS such as Albers (+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=GRS80).",
        )
    if crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise CrsError("analysis.crs", f"units are {crs.axis_info[0].unit_name!r}, not metres.", "add +units=m.")
    return crs


def require_area_lattice(crs_text: str, label: str) -> CRS:
    """A CRS a raster can be counted on as it is: projected in metres, or geographic (lon/lat)."""
    try:
        crs = CRS.from_user_input(crs_text)
    except Exception as exc:
        raise CrsError(
            label, f"has a CRS that cannot be parsed ({exc}).", "re-export the raster with its CRS."
        ) from exc
    if crs.is_geographic:
        return crs
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise CrsError(
            label,
            f"is in {crs.name!r}, neither lon/lat nor a projection in metres, so cell areas "
            "cannot be computed on its grid.",
            "set analysis.grid: equal_area in the config (the rasters are then resampled onto Albers).",
        )
    return crs


def is_equal_area(crs: CRS) -> bool:
    method = crs.coordinate_operation.method_name.lower() if crs.is_projected and crs.coordinate_operation else ""
    return any(k in method for k in ("albers", "equal area", "equal-area", "mollweide", "sinusoidal"))


@dataclass(frozen=True)
class AnalysisGrid:
    """A north-up grid of square cells.

    Attributes
    ----------
    crs_wkt : WKT of the CRS.
    x0, y0 : upper-left corner (CRS units: m, or degrees for lon/lat).
    res : cell size (CRS units).
    width, height : number of columns and rows.
    origin_x, origin_y : a corner of the global lattice the grid is cut from (batch grids share it).
    equal_area : every cell has the true area ``res²`` (an equal-area CRS in metres).
    """

    crs_wkt: str
    x0: float
    y0: float
    res: float
    width: int
    height: int
    origin_x: float = 0.0
    origin_y: float = 0.0
    equal_area: bool = True

    @classmethod
    def on_lattice(
        cls,
        bounds: tuple[float, float, float, float],
        crs_wkt: str,
        origin_x: float,
        origin_y: float,
        res: float,
        snap: int = 512,
    ) -> AnalysisGrid:
        """The part of the lattice (``origin_x/y``, ``res``, any CRS) covering ``bounds`` (grid CRS).

        Its first row and column are multiples of ``snap`` in the lattice, so that the engine's
        512-cell tiles are the source raster's 512-cell blocks when the lattice is the raster's.
        """
        xmin, ymin, xmax, ymax = bounds
        c0 = math.floor((xmin - origin_x) / res) // snap * snap
        r0 = math.floor((origin_y - ymax) / res) // snap * snap
        c1 = math.ceil((xmax - origin_x) / res)
        r1 = math.ceil((origin_y - ymin) / res)
        crs = CRS.from_wkt(crs_wkt)
        return cls(
            crs_wkt,
            origin_x + c0 * res,
            origin_y - r0 * res,
            float(res),
            max(1, c1 - c0),
            max(1, r1 - r0),
            origin_x,
            origin_y,
            is_equal_area(crs) and crs.axis_info[0].unit_name in ("metre", "meter"),
        )

    @property
    def global_offset(self) -> tuple[int, int]:
        """(row, col) of the grid's first cell in the global lattice."""
        return (round((self.origin_y - self.y0) / self.res), round((self.x0 - self.origin_x) / self.res))

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], crs_text: str, res: float) -> AnalysisGrid:
        """The smallest grid aligned on multiples of ``res`` that covers ``bounds`` (in the grid CRS)."""
        if not res > 0:
            raise ValueError(f"resolution_m must be positive, got {res}")
        crs = require_equal_area(crs_text)
        xmin, ymin, xmax, ymax = bounds
        x0 = math.floor(xmin / res) * res
        y0 = math.ceil(ymax / res) * res
        width = max(1, math.ceil((xmax - x0) / res))
        height = max(1, math.ceil((y0 - ymin) / res))
        return cls(crs.to_wkt(), x0, y0, float(res), width, height)

    @property
    def transform(self) -> Affine:
        return Affine(self.res, 0.0, self.x0, 0.0, -self.res, self.y0)

    @property
    def crs(self) -> RioCRS:
        return RioCRS.from_wkt(self.crs_wkt)

    @property
    def cell_area_km2(self) -> float:
        """The true area of every cell of an equal-area grid (km²); for other grids see :class:`CellAreas`."""
        return self.res * self.res / 1e6

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    def profile(self, dtype: str, nodata: float | int, block: int = 512) -> dict:
        """A rasterio profile for a tiled, DEFLATE-compressed GeoTIFF on this grid."""
        return {
            "driver": "GTiff",
            "dtype": dtype,
            "count": 1,
            "nodata": nodata,
            "width": self.width,
            "height": self.height,
            "crs": self.crs,
            "transform": self.transform,
            "tiled": True,
            "blockxsize": block,
            "blockysize": block,
            "compress": "deflate",
            "predictor": 2 if dtype.startswith(("uint", "int")) else 3,
            "BIGTIFF": "IF_SAFER",
        }

    def windows(self, size: int = 2048) -> list[Window]:
        """Row-major square windows of at most ``size`` cells a side covering the grid."""
        if size < 16:
            raise ValueError(f"window size {size} is too small; use at least 16 (typical 512-4096).")
        return [
            Window(col, row, min(size, self.width - col), min(size, self.height - row))
            for row in range(0, self.height, size)
            for col in range(0, self.width, size)
        ]

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.__dict__, indent=1), encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | Path) -> AnalysisGrid:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


class CellAreas:
    """True ground area (km²) of the cells of a grid, row by row for one tile.

    Equal-area grids: ``res²`` everywhere (returned as 1 cell each; the caller scales).
    Lon/lat: the exact ellipsoidal area of each row's cells (:func:`cellarea.cell_areas_km2`).
    Other projections (Gauss-Krüger, UTM, Lambert…): map area / areal scale factor at the
    centre column of the tile's 512-cell block column of the global lattice (the same in every
    batch), evaluated every ``ROW_STEP`` rows of the lattice and interpolated linearly between
    (the scale factor is smooth: the interpolation error is < 1e-9).  Along a row the factor of a
    conformal zone changes by ≤ 2·x·Δx/R² (≤ 2.4e-4 over a 512-cell tile at 30 m and 320 km from
    the central meridian); the tile-centre value is exact for the tile's mean and at worst
    1.2e-4 off for a county covering one side of one tile only, so counties' land areas stay
    within ~1e-5 of their polygons' true areas (tests/test_zonal.py).
    """

    ROW_STEP = 8
    BLOCK = 512

    def __init__(self, grid: AnalysisGrid):
        self.grid = grid
        self.unit = grid.equal_area
        self._crs = CRS.from_wkt(grid.crs_wkt)
        self._cache: dict[tuple[int, int, int], np.ndarray] = {}
        self._projected = None

    @property
    def scale_km2(self) -> float:
        """Factor turning the returned weights into km² (the cell area for equal-area grids, else 1)."""
        return self.grid.cell_area_km2 if self.unit else 1.0

    def rows(self, row_off: int, height: int, col_off: int, width: int) -> np.ndarray:
        """Weights (float64, one per row) of the cells of rows ``row_off…row_off+height-1`` near these columns."""
        if self.unit:
            return np.ones(height)
        # the centre column of the global 512-cell block column, so that a cell's weight is the same in
        # every batch (batch grids cut the lattice at different columns)
        g_row, g_col = self.grid.global_offset
        centre = ((g_col + col_off + width // 2) // self.BLOCK) * self.BLOCK + self.BLOCK // 2 - g_col
        key = (row_off, height, centre)
        if key not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = self._rows(row_off, height, centre)
        return self._cache[key]

    def _rows(self, row_off: int, height: int, col: int) -> np.ndarray:
        from swc_raster.cellarea import ProjectedAreas, cell_areas_km2

        if self._crs.is_geographic:
            rows = np.arange(row_off, row_off + height, dtype="float64")
            return np.ascontiguousarray(cell_areas_km2(_GridShim(self.grid), rows, np.array(float(col))))
        if self._projected is None:
            self._projected = ProjectedAreas(self._crs)
        g_row = self.grid.global_offset[0]
        first = (g_row + row_off) // self.ROW_STEP * self.ROW_STEP - g_row  # on global multiples of ROW_STEP
        rows = np.arange(first, row_off + height + self.ROW_STEP, self.ROW_STEP)
        at = self._projected.km2(self.grid.transform, rows.astype("float64"), np.array(float(col)))
        return np.interp(np.arange(row_off, row_off + height), rows, at)


class _GridShim:
    """The two attributes of a dataset that ``cellarea.cell_areas_km2`` reads."""

    def __init__(self, grid: AnalysisGrid):
        from rasterio.crs import CRS as RioCRS

        self.crs = RioCRS.from_wkt(grid.crs_wkt)
        self.transform = grid.transform
