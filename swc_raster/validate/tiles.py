"""Opening a configured raster (header checks) and reading it tile by tile over the region.

:class:`TileReader` is the one scan loop of validation: erosion, land cover and the CSLE factor
rasters all read through it, so the tiling (block-aligned, ≤ 4 Mpx per tile: bounded memory),
the nodata mask and the report of a corrupt block are written once.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyproj
import rasterio
import rasterio.warp
import shapely
from rasterio.enums import MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window

from swc_raster.cellarea import apply_affine
from swc_raster.errors import FileProblem
from swc_raster.validate.context import GDALINFO_FIX, Context, Year, check_file, crs_of, gdal_msg

#: Tiles read at a time are at most about this many pixels (bounded memory).
TILE_PIXELS: Final = 4 * 1024 * 1024
TILE_SIDE: Final = 1024


@dataclass
class OpenRaster:
    """A configured raster, opened, with what its header said."""

    ds: Any  # open rasterio dataset (the caller closes it)
    label: str  # the input, as problems name it
    rel: Any  # the path as configured
    band: int
    crs: pyproj.CRS | None
    georeferenced: bool
    usable: bool  # values can be checked (single band)

    def close(self) -> None:
        self.ds.close()


def open_raster(ctx: Context, y: Year, key: str, what: str | None = None) -> OpenRaster | None:
    """Open one configured raster and run the header checks; ``None`` when it cannot be opened.

    ``what`` names the band's content in messages (default: from ``key``).
    """
    rel = y.entry.get(key)
    if rel is None or str(rel).strip() == "":
        return None  # reported by the config checks
    label = y.input(key, rel)
    path = check_file(ctx, label, rel)
    if path is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            ds = rasterio.open(path)
    except RasterioError as exc:
        ctx.add(label, f"cannot be opened as a raster: {gdal_msg(exc)}.", GDALINFO_FIX.format(path=rel), FileProblem)
        return None
    if ds.width <= 0 or ds.height <= 0 or ds.count <= 0:
        ctx.add(
            label,
            f"the raster is empty ({ds.width}×{ds.height} pixels, {ds.count} bands).",
            "export the raster again with data.",
            FileProblem,
        )
        ds.close()
        return None
    usable = True
    if ds.count != 1:
        usable = False
        what = what or ("land-cover codes" if key == "landcover" else "erosion modulus")
        ctx.add(
            label,
            f"the raster has {ds.count} bands; swc-raster reads a single band with the {what}.",
            f"extract the band that holds the {what} (see `gdalinfo {rel}`): "
            f"`gdal_translate -b <n> {rel} {Path(str(rel)).stem}_band<n>.tif`, and point `{key}:` at it.",
        )
    crs = crs_of(ds.crs)
    if crs is None:
        ctx.add(
            label,
            "the raster has no CRS (coordinate reference system).",
            f"assign the CRS the data was produced in, e.g. `gdal_edit.py -a_srs EPSG:4547 {rel}` "
            "(CGCS2000 / 3-degree Gauss-Kruger CM 114E), or re-export the raster with a CRS.",
        )
    georef = not ds.transform.is_identity
    if not georef:
        if ds.gcps[0]:
            ctx.add(
                label,
                "the raster is georeferenced only by ground control points (no geotransform).",
                f"warp it to a regular grid first: `gdalwarp -t_srs EPSG:4547 {rel} {Path(str(rel)).stem}_warped.tif`.",
            )
        else:
            ctx.add(
                label,
                "the raster has no georeferencing (no geotransform: pixel positions are unknown).",
                f"re-export it with georeferencing, or set the corner coordinates: "
                f"`gdal_edit.py -a_ullr <ulx> <uly> <lrx> <lry> {rel}`.",
            )
    return OpenRaster(ds, label, rel, 1, crs, georef, usable)


def region_window(r: OpenRaster, region_crs: pyproj.CRS | None, region_bounds: tuple[float, ...] | None) -> Window:
    """Pixel window of the raster over the region's bounding box (whole raster if unknown)."""
    ds = r.ds
    full = Window(0, 0, ds.width, ds.height)
    if region_crs is None or region_bounds is None or r.crs is None or not r.georeferenced:
        return full
    try:
        left, bottom, right, top = rasterio.warp.transform_bounds(
            region_crs.to_wkt(), r.crs.to_wkt(), *region_bounds, densify_pts=21
        )
    except Exception:  # noqa: BLE001 — unprojectable: check the whole raster
        return full
    if not all(math.isfinite(v) for v in (left, bottom, right, top)):
        return full
    inv = ~ds.transform
    cs, rs = [], []
    for x in (left, right):
        for yv in (bottom, top):
            c, rr = apply_affine(inv, x, yv)
            cs.append(c)
            rs.append(rr)
    c0, c1 = max(0, math.floor(min(cs))), min(ds.width, math.ceil(max(cs)))
    r0, r1 = max(0, math.floor(min(rs))), min(ds.height, math.ceil(max(rs)))
    if c1 <= c0 or r1 <= r0:
        return Window(0, 0, 0, 0)
    return Window(c0, r0, c1 - c0, r1 - r0)


def geometries_bounds(geoms: list[Any]) -> tuple[float, ...] | None:
    return shapely.GeometryCollection(geoms).bounds if geoms else None


def tile_windows(ds: Any, band: int, win: Window) -> Iterator[Window]:
    """Block-aligned tiles of ``win``, each at most about :data:`TILE_PIXELS` pixels."""
    bh, bw = ds.block_shapes[band - 1]
    th = max(1, TILE_SIDE // max(bh, 1)) * bh
    tw = max(1, TILE_SIDE // max(bw, 1)) * bw
    tw = min(tw, int(win.width))
    if th * tw > TILE_PIXELS:
        th = max(bh, (TILE_PIXELS // max(tw, 1)) // max(bh, 1) * bh)
    r_end = int(win.row_off + win.height)
    c_end = int(win.col_off + win.width)
    for r in range(int(win.row_off), r_end, th):
        for c in range(int(win.col_off), c_end, tw):
            yield Window(c, r, min(tw, c_end - c), min(th, r_end - r))


def nodata_declared(ds: Any, band: int) -> bool:
    return MaskFlags.all_valid not in ds.mask_flag_enums[band - 1]


def nodata_value_mask(ds: Any, band: int, dtype: np.dtype) -> tuple[bool, float | None]:
    """Whether validity is decided by a value alone, and that value (``None``: every cell valid).

    ``(False, None)`` when the band has a per-dataset or alpha mask that must be read.
    """
    flags = ds.mask_flag_enums[band - 1]
    if MaskFlags.all_valid in flags:
        return True, None
    if MaskFlags.nodata in flags:
        nd = ds.nodatavals[band - 1]
        if nd is None:
            return True, None
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            if not (info.min <= nd <= info.max) or nd != int(nd):
                return True, None  # a nodata value the type cannot hold marks nothing
        return True, float(nd)
    return False, None


def valid_mask(ds: Any, band: int, data: np.ndarray, window: Window) -> np.ndarray:
    """Cells of ``data`` (read from ``window``) that hold data."""
    by_value, nd = nodata_value_mask(ds, band, data.dtype)
    if not by_value:
        return ds.read_masks(band, window=window) > 0
    if nd is None:
        return np.ones(data.shape, dtype=bool)
    if math.isnan(nd):
        return ~np.isnan(data)
    return data != np.asarray(nd).astype(data.dtype)


@dataclass
class Tile:
    window: Window
    data: np.ndarray
    valid: np.ndarray | None  # None when the reader was asked not to compute it


class TileReader:
    """Iterate over the tiles of ``win`` of an open raster; a read error is reported once and stops.

    After the loop, :attr:`failed` says whether a block could not be read (the file is corrupt
    or truncated). ``with_mask=False`` skips the validity mask (the caller handles nodata itself,
    which :func:`nodata_value_mask` allows when validity is decided by a value).
    """

    def __init__(self, ctx: Context, r: OpenRaster, win: Window, with_mask: bool = True) -> None:
        self.ctx, self.r, self.win, self.with_mask = ctx, r, win, with_mask
        self.failed = False

    @property
    def total(self) -> int:
        return int(self.win.width) * int(self.win.height)

    def __iter__(self) -> Iterator[Tile]:
        ds, band = self.r.ds, self.r.band
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            for w in tile_windows(ds, band, self.win):
                try:
                    data = ds.read(band, window=w)
                    valid = valid_mask(ds, band, data, w) if self.with_mask else None
                except RasterioError as exc:
                    self._read_failed(w, exc)
                    return
                yield Tile(w, data, valid)

    def _read_failed(self, win: Window, exc: BaseException) -> None:
        self.failed = True
        self.ctx.add(
            self.r.label,
            f"reading the pixel block at row {int(win.row_off)}, column {int(win.col_off)} failed "
            f"({gdal_msg(exc)}): the file is corrupt or truncated.",
            GDALINFO_FIX.format(path=self.r.rel),
            FileProblem,
        )


def strided_sample_index(offset: int, size: int, step: int) -> np.ndarray:
    """Flat indices of a tile of ``size`` cells taken every ``step`` cells of the whole scan.

    ``offset`` is the number of cells scanned before this tile, so the stride continues across
    tiles (no ``np.nonzero`` over the tile: the sample is taken first, validity tested on it).
    """
    start = (-offset) % step
    return np.arange(start, size, step, dtype=np.int64)
