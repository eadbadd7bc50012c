"""The data stage: reads raster values (tile by tile, bounded memory) and boundary geometries, for one year."""

from __future__ import annotations

import copy
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from swc_raster.validate.boundaries import Counties
from swc_raster.validate.context import Context, Year, find_year
from swc_raster.validate.coverage import check_coverage
from swc_raster.validate.csle import csle_data, is_csle
from swc_raster.validate.erosion import erosion_unit, scan_erosion
from swc_raster.validate.grades import is_graded, scan_grades
from swc_raster.validate.landcover import check_landcover_dtype, scan_landcover
from swc_raster.validate.tables import legend_codes
from swc_raster.validate.tiles import open_raster, region_window
from swc_raster.validate.vector import is_vector


def year_data(ctx: Context, year: Any, counties: Counties | None, workers: int = 1, values: bool = True) -> None:
    """Every data check of one year's rasters (coverage of each county, then the values over the region).

    With ``workers`` ≥ 2 the erosion raster is scanned in a second process while this one scans the
    land cover: the two decodes are the checks' whole cost, and they do not depend on each other.
    ``values`` False leaves out the checks that read pixel values (the workflow makes them in its
    counting pass, :mod:`swc_raster.value_checks`): data type, coverage and the CSLE inputs remain.
    """
    y = find_year(ctx, year)
    if y is None or is_vector(y):  # a vector year's data are checked as they are read (vector_inputs)
        return
    csle_year = is_csle(y)
    legend = legend_codes(ctx)
    unit = None if csle_year or is_graded(y, "erosion") else erosion_unit(ctx, y)
    region = (None, None) if counties is None else (counties.crs, counties.bounds())
    keys = ("landcover",) if csle_year else ("landcover", "erosion")
    if y.entry.get("wind_erosion") is not None:
        keys += ("wind_erosion",)
    if workers >= 2 and "erosion" in keys and values:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            erosion = pool.submit(_raster_in_worker, ctx, y, "erosion", legend, unit, counties, region)
            for key in keys:
                if key != "erosion":
                    check_raster(ctx, y, key, legend, unit, counties, region, values)
            problems, warnings = erosion.result()
        ctx.problems.extend(problems)
        ctx.warnings.extend(warnings)
    else:
        for key in keys:
            check_raster(ctx, y, key, legend, unit, counties, region, values)
    if csle_year:
        csle_data(ctx, y, counties)


def check_raster(
    ctx: Context,
    y: Year,
    key: str,
    legend: Any,
    unit: str | None,
    counties: Counties | None,
    region: tuple,
    values: bool = True,
) -> None:
    """One raster of the year: data type, coverage of every county, then (``values``) its values over the region.

    ``unit`` is the water-erosion unit; the wind layer's own unit is read from its entry.  The wind
    layer need not cover every county (wind erosion is monitored in its own zone): low coverage
    is a warning, no overlap at all a problem.
    """
    r = open_raster(ctx, y, key)
    if r is None:
        return
    try:
        if key == "wind_erosion" and not is_graded(y, key):
            unit = erosion_unit(ctx, y, key)
        if key == "landcover" and not check_landcover_dtype(ctx, r):
            return
        if counties is not None and not check_coverage(ctx, key, r, counties, low_is_warning=key == "wind_erosion"):
            return  # disjoint: value checks over nothing would only add noise
        if not r.usable or not values:
            return
        win = region_window(r, *region)
        if win.width <= 0 or win.height <= 0:
            return
        if key != "landcover" and is_graded(y, key):
            scan_grades(ctx, y, r, win, key)
        elif key != "landcover":
            scan_erosion(ctx, y, r, win, unit, key)
        else:
            scan_landcover(ctx, r, win, legend)
    finally:
        r.close()


def _raster_in_worker(
    ctx: Context, y: Year, key: str, legend: Any, unit: str | None, counties: Counties | None, region: tuple
) -> tuple[list, list[str]]:
    """:func:`check_raster` in a fresh context; returns what it found (problems, warnings)."""
    own = copy.copy(ctx)
    own.problems, own.warnings = [], []
    check_raster(own, y, key, legend, unit, counties, region)
    return own.problems, own.warnings
