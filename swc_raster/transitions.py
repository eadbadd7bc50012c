"""Erosion-grade transitions between two years on the same analysis grid.

Both inputs are ``results/{year}/erosion_grade.tif`` rasters: uint8 grade codes
0–7 (see :mod:`swc_raster.grading`) and 255 outside the region.  The two years
must share the analysis grid (CRS, transform, shape); otherwise pixels would
not be the same piece of land and a transition would be meaningless, so the
functions here refuse instead of resampling.

Rasters are read window by window (``window_size`` × ``window_size`` pixels),
so memory stays at a few arrays of one window whatever the raster size.

Change classes (``change`` column and :func:`change_map` codes):

===========  ====  ==========================================================
change       map   rule
===========  ====  ==========================================================
improved     1     both grades in 1–6 and to < from
unchanged    2     both grades in 1–6 and to == from
worsened     3     both grades in 1–6 and to > from
unknown      0     either grade is 0 (no erosion data), 7 (data gap) or 255
                   (outside the region in one year only)
(outside)    255   outside the region in both years (map only)
===========  ====  ==========================================================
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import rasterio
from rasterio.io import DatasetReader
from rasterio.windows import Window

from swc_raster.errors import CrsError, InputError
from swc_raster.grading import OUTSIDE

PathLike = str | os.PathLike[str]

#: Change classes and their codes in the change map.
CHANGE_UNKNOWN: Final = 0
CHANGE_IMPROVED: Final = 1
CHANGE_UNCHANGED: Final = 2
CHANGE_WORSENED: Final = 3
CHANGE_NAMES: Final = {
    CHANGE_UNKNOWN: "unknown",
    CHANGE_IMPROVED: "improved",
    CHANGE_UNCHANGED: "unchanged",
    CHANGE_WORSENED: "worsened",
}
CHANGE_NAMES_ZH: Final = {
    CHANGE_UNKNOWN: "未知",
    CHANGE_IMPROVED: "好转",
    CHANGE_UNCHANGED: "不变",
    CHANGE_WORSENED: "恶化",
}
#: Map colours (RGB) of the change classes.
CHANGE_COLOURS: Final = {
    CHANGE_UNKNOWN: (200, 200, 200),
    CHANGE_IMPROVED: (26, 150, 65),
    CHANGE_UNCHANGED: (255, 255, 191),
    CHANGE_WORSENED: (215, 25, 28),
}

_GRID_FIX: Final = (
    "use the same analysis grid (config analysis.crs/resolution_m) for both years, or do not ask for this transition."
)

#: Grade codes accepted in a grade raster; 255 gets category index 8.
_CODES: Final = (0, 1, 2, 3, 4, 5, 6, 7, OUTSIDE)
_NCAT: Final = len(_CODES)
_CAT_OF_CODE: Final = np.full(256, -1, dtype=np.int64)
_CAT_OF_CODE[list(_CODES)] = np.arange(_NCAT)
_CODE_OF_CAT: Final = np.array(_CODES, dtype=np.int64)


def _change_class(grade_from: np.ndarray, grade_to: np.ndarray) -> np.ndarray:
    """Change-class codes (0–3, uint8) of two grade arrays; 255 where both are outside."""
    f = np.asarray(grade_from)
    t = np.asarray(grade_to)
    known = (f >= 1) & (f <= 6) & (t >= 1) & (t <= 6)
    out = np.full(f.shape, CHANGE_UNKNOWN, dtype=np.uint8)
    out[known & (t < f)] = CHANGE_IMPROVED
    out[known & (t == f)] = CHANGE_UNCHANGED
    out[known & (t > f)] = CHANGE_WORSENED
    out[(f == OUTSIDE) & (t == OUTSIDE)] = OUTSIDE
    return out


def _grid_of(ds: DatasetReader) -> tuple[object, tuple[float, ...], tuple[int, int]]:
    return ds.crs, tuple(ds.transform)[:6], (ds.height, ds.width)


def _same_grid(a: DatasetReader, b: DatasetReader) -> bool:
    crs_a, tr_a, shape_a = _grid_of(a)
    crs_b, tr_b, shape_b = _grid_of(b)
    if shape_a != shape_b or crs_a != crs_b or (crs_a is None) != (crs_b is None):
        return False
    # exact in practice (same grid.json); tolerate float noise of a millionth of a cell
    tol = 1e-6 * max(abs(tr_a[0]), abs(tr_a[4]))
    return bool(np.allclose(tr_a, tr_b, rtol=0.0, atol=tol))


def _describe(ds: DatasetReader) -> str:
    crs = ds.crs.to_string() if ds.crs else "no CRS"
    t = ds.transform
    return f"CRS {crs}, cell {t.a:g} × {abs(t.e):g}, origin ({t.c:g}, {t.f:g}), shape {ds.height} × {ds.width}"


def _check_same_grid(a: DatasetReader, b: DatasetReader, fix: str = _GRID_FIX) -> None:
    if not _same_grid(a, b):
        raise InputError(
            f"{a.name} and {b.name}",
            f"the rasters are not on the same grid: {a.name} has {_describe(a)}; {b.name} has {_describe(b)}.",
            fix,
        )


def _check_grade_dtype(ds: DatasetReader) -> None:
    if not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
        raise InputError(
            str(ds.name),
            f"a grade raster must hold integer grade codes, found data type {ds.dtypes[0]}.",
            "pass the erosion_grade.tif written by the grade step (uint8 codes 0–7, 255 outside).",
        )


def _cell_area_m2(ds: DatasetReader) -> float:
    """True area of one cell in m² (the analysis grid is equal-area and projected)."""
    if ds.crs is None or ds.crs.is_geographic:
        raise CrsError(
            str(ds.name),
            "the grade raster is not in a projected (equal-area) CRS, so its cells have no single area in m².",
            "grade on the analysis grid (config analysis.crs, an equal-area projection in metres).",
        )
    t = ds.transform
    _, metres_per_unit = ds.crs.linear_units_factor
    return abs(t.a * t.e - t.b * t.d) * metres_per_unit**2


def _windows(height: int, width: int, size: int) -> Iterator[Window]:
    if size < 1:
        raise ValueError(f"window_size must be a positive number of pixels, got {size}")
    for row in range(0, height, size):
        for col in range(0, width, size):
            yield Window(col, row, min(size, width - col), min(size, height - row))


def _categories(codes: np.ndarray, name: str) -> np.ndarray:
    """Category index (0–8) of each grade code; InputError on a code that is not a grade."""
    arr = codes.astype(np.int64, copy=False)
    bad = (arr < 0) | (arr > 255)
    cat = np.full(arr.shape, -1, dtype=np.int64)
    cat[~bad] = _CAT_OF_CODE[arr[~bad]]
    if (cat < 0).any():
        values = sorted(set(np.unique(arr[cat < 0]).tolist()))[:10]
        raise InputError(
            name,
            f"pixel values {values} are not grade codes (0–7, 255 outside).",
            "pass the erosion_grade.tif written by the grade step, not an erosion-modulus or land-cover raster.",
        )
    return cat


def transition_matrix(
    grade_from_path: PathLike,
    grade_to_path: PathLike,
    zones: PathLike | np.ndarray,
    zone_codes: Mapping[int, str],
    *,
    window_size: int = 1024,
) -> pd.DataFrame:
    """Area of each county moving from each grade (earlier year) to each grade (later year).

    Parameters
    ----------
    grade_from_path, grade_to_path : path
        Grade rasters of the earlier and the later year (``erosion_grade.tif``),
        integer grade codes 0–7 and 255 outside, on the same grid.
    zones : path or ndarray
        County index of every pixel, 0 = outside every county: a single-band
        integer GeoTIFF on the same grid (e.g. uint16 rasterised boundaries) or
        an integer array of the grid's shape.
    zone_codes : mapping of int to str
        Zone index → county code, e.g. ``{1: "140502", 2: "140521"}``.  Every
        non-zero index present in ``zones`` must be mapped.
    window_size : int
        Side of the square read window, pixels; memory ≈ 3 windows of int64.

    Returns
    -------
    DataFrame
        Long table, zero rows omitted, sorted by county code, from_grade,
        to_grade: ``county_code`` (str), ``from_grade``, ``to_grade`` (codes
        0–7; 255 where a pixel of a county is outside the region in one year's
        grade raster), ``cells`` (pixel count), ``area_km2`` (cells × cell area,
        cell area = |a·e − b·d| of the transform in m², the grid being
        equal-area), ``change`` (improved / unchanged / worsened / unknown, see
        the module docstring).  Per county, Σ area = the county's rasterised
        area; summing over to_grade (from_grade) gives the earlier (later)
        year's area by grade.

    Raises
    ------
    InputError
        The two grade rasters (or the zones raster) are not on the same grid,
        a raster holds values that are not grade codes, or a zone index has no
        county code.
    CrsError
        The grid is not projected, so cells have no area in m².
    """
    if any(int(k) <= 0 for k in zone_codes):
        raise ValueError("zone indices in zone_codes must be positive (0 means outside every county)")
    max_zone = max((int(k) for k in zone_codes), default=0)
    # dense index 0..K-1 per mapped zone, -1 for unmapped values; zone 0 is dropped
    lut = np.full(max_zone + 1, -1, dtype=np.int64)
    keys = sorted(int(k) for k in zone_codes)
    lut[keys] = np.arange(len(keys))
    codes = [str(zone_codes[k]) for k in keys]
    nbins = len(keys) * _NCAT * _NCAT
    counts = np.zeros(nbins, dtype=np.int64)

    with rasterio.open(grade_from_path) as src_from, rasterio.open(grade_to_path) as src_to:
        _check_same_grid(src_from, src_to)
        for ds in (src_from, src_to):
            _check_grade_dtype(ds)
        cell_m2 = _cell_area_m2(src_from)
        zone_ds = None
        if isinstance(zones, np.ndarray):
            if zones.shape != (src_from.height, src_from.width):
                raise InputError(
                    "zones array",
                    f"shape {zones.shape} differs from the grade rasters' {(src_from.height, src_from.width)}.",
                    "rasterise the county boundaries on the analysis grid of the grade rasters.",
                )
            if not np.issubdtype(zones.dtype, np.integer):
                raise InputError(
                    "zones array",
                    f"data type {zones.dtype} is not an integer type.",
                    "pass county indices as integers (0 = outside).",
                )
        else:
            zone_ds = rasterio.open(zones)
        try:
            if zone_ds is not None:
                _check_same_grid(
                    src_from,
                    zone_ds,
                    fix="rasterise the county boundaries on the analysis grid "
                    "of the grade rasters (results/common/grid.json).",
                )
            for window in _windows(src_from.height, src_from.width, window_size):
                if zone_ds is not None:
                    z = zone_ds.read(1, window=window)
                else:
                    rows, cols = window.toslices()
                    z = zones[rows, cols]
                z = z.astype(np.int64, copy=False)
                inside = z > 0
                if not inside.any():
                    continue
                zi = z[inside]
                unmapped = (zi > max_zone) | (lut[np.minimum(zi, max_zone)] < 0)
                if unmapped.any():
                    values = sorted(set(np.unique(zi[unmapped]).tolist()))[:10]
                    raise InputError(
                        str(zones) if zone_ds is not None else "zones array",
                        f"zone indices {values} have no county code in the mapping.",
                        "pass a zone_codes mapping with every index of the zones raster (0 = outside).",
                    )
                f = _categories(src_from.read(1, window=window)[inside], str(src_from.name))
                t = _categories(src_to.read(1, window=window)[inside], str(src_to.name))
                combined = (lut[zi] * _NCAT + f) * _NCAT + t
                counts += np.bincount(combined, minlength=nbins)
        finally:
            if zone_ds is not None:
                zone_ds.close()

    cube = counts.reshape(len(keys), _NCAT, _NCAT)
    zi, fi, ti = np.nonzero(cube)
    from_codes = _CODE_OF_CAT[fi]
    to_codes = _CODE_OF_CAT[ti]
    cells = cube[zi, fi, ti]
    table = pd.DataFrame(
        {
            "county_code": pd.Series([codes[i] for i in zi], dtype=object),
            "from_grade": from_codes.astype(np.int64),
            "to_grade": to_codes.astype(np.int64),
            "cells": cells.astype(np.int64),
            "area_km2": cells * cell_m2 / 1e6,
            "change": pd.Series([CHANGE_NAMES[c] for c in _change_class(from_codes, to_codes)], dtype=object),
        }
    )
    return table.sort_values(["county_code", "from_grade", "to_grade"], kind="stable").reset_index(drop=True)


def change_map(
    grade_from_path: PathLike,
    grade_to_path: PathLike,
    out_path: PathLike,
    *,
    window_size: int = 1024,
    year_from: int | str | None = None,
    year_to: int | str | None = None,
    lang: str = "zh",
    demo: bool = False,
) -> Path:
    """Write a change-class map of two years' grade rasters.

    Parameters
    ----------
    grade_from_path, grade_to_path : path
        Grade rasters of the earlier and the later year, same grid.
    out_path : path
        Cloud-Optimized GeoTIFF written: uint8, 1 improved, 2 unchanged, 3 worsened, 0 unknown
        (either year no data / gap / outside), 255 outside the region in both years (nodata);
        256 × 256 tiles, DEFLATE, colour table ``CHANGE_COLOURS``, class names in the metadata
        (``CHANGE_{code}``), named CRS (``gis_outputs.named_crs``).  No sidecars: this is a
        batch's map, published through ``gis_outputs.write_change_cog``.  Written to
        temporary files beside ``out_path`` and renamed when complete, so a failure leaves
        neither a half-written output nor a temporary file.
    window_size : int
        Side of the square processing window, pixels (a multiple of 256 keeps
        writes aligned to tiles).
    year_from, year_to : int or str, optional
        Year labels recorded as ``SWC_YEAR_FROM``/``SWC_YEAR_TO`` (the metadata holds no file path).
    lang : {"zh", "en"}
        Language of the band's category names.
    demo : bool
        Mark the file as synthetic demo data (``SWC_DEMO``).

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    InputError
        The two rasters are not on the same grid or hold non-grade values.
    """
    from swc_raster.gis_outputs import write_change_cog

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp.tif")
    try:
        with rasterio.open(grade_from_path) as src_from, rasterio.open(grade_to_path) as src_to:
            _check_same_grid(src_from, src_to)
            for ds in (src_from, src_to):
                _check_grade_dtype(ds)
            profile = {
                "driver": "GTiff",
                "dtype": "uint8",
                "count": 1,
                "nodata": OUTSIDE,
                "width": src_from.width,
                "height": src_from.height,
                "crs": src_from.crs,
                "transform": src_from.transform,
                "tiled": True,
                "blockxsize": 256,
                "blockysize": 256,
                "compress": "deflate",
            }
            with rasterio.open(tmp, "w", **profile) as dst:
                for window in _windows(src_from.height, src_from.width, window_size):
                    f = src_from.read(1, window=window)
                    t = src_to.read(1, window=window)
                    _categories(f, str(src_from.name))
                    _categories(t, str(src_to.name))
                    dst.write(_change_class(f, t), 1, window=window)
        write_change_cog(
            tmp, out_path, year_from=year_from, year_to=year_to, lang=lang, demo=demo, blocksize=256, sidecars=False
        )
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".aux.xml").unlink(missing_ok=True)
    return out_path


__all__ = [
    "CHANGE_COLOURS",
    "CHANGE_IMPROVED",
    "CHANGE_NAMES",
    "CHANGE_NAMES_ZH",
    "CHANGE_UNCHANGED",
    "CHANGE_UNKNOWN",
    "CHANGE_WORSENED",
    "change_map",
    "transition_matrix",
]
