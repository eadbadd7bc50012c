"""The data stage: reads raster values (tile by tile, bounded memory) and boundary geometries, for one year."""

from __future__ import annotations

from typing import Any

from swc_raster.validate.boundaries import Counties
from swc_raster.validate.context import Context, find_year
from swc_raster.validate.coverage import check_coverage
from swc_raster.validate.csle import csle_data, is_csle
from swc_raster.validate.erosion import erosion_unit, scan_erosion
from swc_raster.validate.landcover import check_landcover_dtype, scan_landcover
from swc_raster.validate.tables import legend_codes
from swc_raster.validate.tiles import open_raster, region_window
from swc_raster.validate.vector import is_vector


def year_data(ctx: Context, year: Any, counties: Counties | None) -> None:
    """Every data check of one year's rasters (coverage of each county, then the values over the region)."""
    y = find_year(ctx, year)
    if y is None or is_vector(y):  # a vector year's data are checked as they are read (vector_inputs)
        return
    csle_year = is_csle(y)
    legend = legend_codes(ctx)
    unit = None if csle_year else erosion_unit(ctx, y)
    region = (None, None) if counties is None else (counties.crs, counties.bounds())
    for key in ("landcover",) if csle_year else ("landcover", "erosion"):
        r = open_raster(ctx, y, key)
        if r is None:
            continue
        try:
            if key == "landcover" and not check_landcover_dtype(ctx, r):
                continue
            if counties is not None and not check_coverage(ctx, key, r, counties):
                continue  # disjoint: value checks over nothing would only add noise
            if not r.usable:
                continue
            win = region_window(r, *region)
            if win.width <= 0 or win.height <= 0:
                continue
            if key == "erosion":
                scan_erosion(ctx, y, r, win, unit)
            else:
                scan_landcover(ctx, r, win, legend)
        finally:
            r.close()
    if csle_year:
        csle_data(ctx, y, counties)
