"""Put land-cover and erosion rasters, in any CRS and resolution, onto the analysis grid.

Decisions (docs/decisions/0001-alignment.md):

- land cover is categorical: nearest neighbour when the grid is as fine as the
  source or finer, the most frequent class (mode) when coarsening;
- erosion modulus is converted to t/(km²·a) first (t/pixel with each source
  pixel's true area), then resampled by nearest neighbour, or by the average
  when coarsening, which keeps the area-weighted mean;
- both are read through a warped view window by window, so memory is bounded by
  the window, not the raster.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from swc_raster.atomic import atomic_path
from swc_raster.cellarea import pixel_area_km2
from swc_raster.errors import CrsError, InputFileError
from swc_raster.footprint import raster_footprint
from swc_raster.grid import AnalysisGrid
from swc_raster.legend import LANDCOVER_NODATA, check_landcover_dtype
from swc_raster.logs import progress
from swc_raster.units import EROSION_NODATA, T_PIXEL, normalise_unit, to_t_km2

#: The grid coarsens the source when its cell is this much larger than the source's.
COARSEN_RATIO = 1.5


def open_raster(path: str | Path, label: str) -> rasterio.DatasetReader:
    """Open a raster or raise an error naming the input and the fix."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{label} ({path})", "the file does not exist.", "check the path in the config.")
    try:
        src = rasterio.open(path)
    except rasterio.RasterioIOError as exc:
        raise InputFileError(
            f"{label} ({path})",
            f"cannot be opened as a raster ({exc}).",
            "re-export it as a GeoTIFF; the file may be truncated or not a raster.",
        ) from exc
    if src.crs is None:
        src.close()
        raise CrsError(
            f"{label} ({path})",
            "has no CRS, so it cannot be placed on the map.",
            "assign the right one, e.g. `gdal_edit.py -a_srs EPSG:4547 file.tif`, or re-export with a CRS.",
        )
    return src


def source_cell_size_m(src: rasterio.DatasetReader, crs_wkt: str) -> float:
    """Typical ground size of a source cell (m): √(footprint area in the equal-area CRS / cell count)."""
    outline = raster_footprint(src, crs_wkt)
    if outline is None:
        raise CrsError(
            f"raster ({src.name})",
            "does not project into the analysis CRS.",
            "check the raster's CRS and that it lies in the region.",
        )
    return math.sqrt(outline.area / (src.width * src.height))


def _resampling(src: rasterio.DatasetReader, grid: AnalysisGrid, coarse: Resampling, fine: Resampling) -> Resampling:
    return coarse if grid.res > COARSEN_RATIO * source_cell_size_m(src, grid.crs_wkt) else fine


def _warp_to(
    src,
    grid: AnalysisGrid,
    out_path: Path,
    dtype: str,
    nodata: float,
    resampling: Resampling,
    window_size: int,
    convert=None,
) -> None:
    profile = grid.profile(dtype, nodata)
    with (
        WarpedVRT(
            src,
            crs=grid.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            resampling=resampling,
            nodata=nodata,
            dtype=dtype,
            tolerance=1e-6,
        ) as vrt,
        atomic_path(out_path) as tmp,
        rasterio.open(tmp, "w", **profile) as dst,
    ):
        windows = grid.windows(window_size)
        for win in progress(windows, len(windows), f"warping {Path(src.name).name}"):
            block = vrt.read(1, window=win)
            dst.write(convert(block) if convert else block, 1, window=win)


def align_landcover(
    src_path: str | Path,
    grid: AnalysisGrid,
    out_path: str | Path,
    method: Literal["auto", "nearest", "mode"] = "auto",
    window_size: int = 2048,
) -> str:
    """Write the land-cover raster onto ``grid`` (uint8/uint16 codes, 0 = no data). Returns the method used.

    On the grid's lattice a plain copy; nearest neighbour through the exact coarse lattice of
    :mod:`swc_raster.sources`; mode (coarsening) through GDAL's warper.
    """
    from swc_raster.sources import GridSource

    with open_raster(src_path, "land cover") as src:
        check_landcover_dtype(src.dtypes[0], "land cover", src_path)
    reader = GridSource(src_path, grid, kind="landcover", resampling=method, label="land cover")
    try:
        if reader.mode == "warp":
            rs = Resampling[reader.method]
            with open_raster(src_path, "land cover") as src:
                _warp_to(src, grid, Path(out_path), str(reader.dtype), LANDCOVER_NODATA, rs, window_size)
            return rs.name
        with (
            atomic_path(out_path) as tmp,
            rasterio.open(tmp, "w", **grid.profile(str(reader.dtype), LANDCOVER_NODATA), num_threads=2) as dst,
        ):
            windows = grid.windows(512)
            for win in progress(windows, len(windows), f"land cover onto the grid ({reader.method})"):
                dst.write(reader.read(win), 1, window=win)
        return "nearest" if reader.mode == "nearest" else reader.method
    finally:
        reader.close()


def align_erosion(
    src_path: str | Path,
    unit: str,
    grid: AnalysisGrid,
    out_path: str | Path,
    method: Literal["auto", "nearest", "average", "bilinear"] = "auto",
    window_size: int = 2048,
    workdir: str | Path | None = None,
) -> str:
    """Write the erosion modulus onto ``grid`` in t/(km²·a) (float32, nodata −9999). Returns the method used.

    Area-based units are linear, so converting after resampling equals
    converting before.  t/(pixel·a) depends on the source pixel's area, so it
    is converted in the source grid first (a temporary GeoTIFF).
    """
    unit = normalise_unit(unit, f"erosion unit of {src_path}")
    out_path = Path(out_path)
    with open_raster(src_path, "erosion") as src:
        rs = _resampling(src, grid, Resampling.average, Resampling.nearest) if method == "auto" else Resampling[method]
        if unit == T_PIXEL:
            tmp_src = Path(workdir or out_path.parent) / f".{out_path.stem}.t_km2_source.tif"
            _per_pixel_to_t_km2(src, tmp_src, window_size)
            try:
                with rasterio.open(tmp_src) as conv:
                    _warp_to(conv, grid, out_path, "float32", EROSION_NODATA, rs, window_size)
            finally:
                tmp_src.unlink(missing_ok=True)
        else:

            def convert(block: np.ndarray) -> np.ndarray:
                valid = block != EROSION_NODATA
                out = np.full(block.shape, EROSION_NODATA, dtype="float32")
                out[valid] = to_t_km2(block[valid], unit)
                return out

            _warp_to(src, grid, out_path, "float32", EROSION_NODATA, rs, window_size, convert)
    return rs.name


def _per_pixel_to_t_km2(src: rasterio.DatasetReader, out_path: Path, window_size: int) -> None:
    profile = src.profile | {
        "dtype": "float32",
        "nodata": EROSION_NODATA,
        "driver": "GTiff",
        "count": 1,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
    }
    with rasterio.open(out_path, "w", **profile) as dst:
        for row in range(0, src.height, window_size):
            for col in range(0, src.width, window_size):
                win = Window(col, row, min(window_size, src.width - col), min(window_size, src.height - row))
                block = src.read(1, window=win, masked=True)
                out = np.full(block.shape, EROSION_NODATA, dtype="float32")
                ok = ~np.ma.getmaskarray(block)
                out[ok] = to_t_km2(block.data[ok], T_PIXEL, pixel_area_km2(src, win)[ok])
                dst.write(out, 1, window=win)
