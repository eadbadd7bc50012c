"""The analysis grid: one equal-area CRS and one square cell for every input.

Because the CRS is equal-area, every cell has the same true ground area
(``res²``), so an area is a pixel count times the cell area.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

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
        raise CrsError("analysis.crs", f"cannot parse {crs_text!r} ({exc}).",
                       "give an EPSG code or PROJ string of an equal-area projection, e.g. Albers (+proj=aea).") from exc
    method = (crs.coordinate_operation.method_name.lower() if crs.coordinate_operation else "")
    equal_area = any(k in method for k in ("albers", "equal area", "equal-area", "mollweide", "sinusoidal"))
    if not crs.is_projected or not equal_area:
        raise CrsError("analysis.crs", f"{crs.name!r} is not an equal-area projection, so pixel areas would be wrong.",
                       "use an equal-area CRS such as Albers (+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=GRS80).")
    if crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise CrsError("analysis.crs", f"units are {crs.axis_info[0].unit_name!r}, not metres.", "add +units=m.")
    return crs


@dataclass(frozen=True)
class AnalysisGrid:
    """A north-up grid of square cells in an equal-area CRS.

    Attributes
    ----------
    crs_wkt : WKT of the equal-area CRS.
    x0, y0 : upper-left corner (m).
    res : cell size (m).
    width, height : number of columns and rows.
    """

    crs_wkt: str
    x0: float
    y0: float
    res: float
    width: int
    height: int

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
        return self.res * self.res / 1e6

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    def profile(self, dtype: str, nodata: float | int, block: int = 512) -> dict:
        """A rasterio profile for a tiled, DEFLATE-compressed GeoTIFF on this grid."""
        return {
            "driver": "GTiff", "dtype": dtype, "count": 1, "nodata": nodata,
            "width": self.width, "height": self.height, "crs": self.crs, "transform": self.transform,
            "tiled": True, "blockxsize": block, "blockysize": block, "compress": "deflate",
            "predictor": 2 if dtype.startswith(("uint", "int")) else 3, "BIGTIFF": "IF_SAFER",
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
