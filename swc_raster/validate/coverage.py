"""Does a raster cover each county? (the footprint and the share rule of :mod:`swc_raster.footprint`)."""

from __future__ import annotations

from collections.abc import Iterable

import pyproj
import rasterio.warp
import shapely

from swc_raster.footprint import coverage_pct, raster_footprint
from swc_raster.validate.boundaries import Counties
from swc_raster.validate.context import Context
from swc_raster.validate.tiles import OpenRaster


def check_coverage(
    ctx: Context,
    key: str,
    r: OpenRaster,
    counties: Counties,
    consequence: str | None = None,
    *,
    low_is_warning: bool = False,
) -> bool:
    """Report counties the raster covers less than ``validation.min_coverage_pct``; ``False`` when disjoint.

    ``consequence`` says what happens to the uncovered land (default: from ``key``).  With
    ``low_is_warning`` (a layer monitored in its own zone, as wind erosion) low coverage is a
    warning; no overlap at all is still a problem.
    """
    if r.crs is None or counties.crs is None or not r.georeferenced or not counties.items:
        return True
    ea = ctx.equal_area_crs()
    try:
        fp = raster_footprint(r.ds, ea)
    except (pyproj.exceptions.ProjError, ValueError):
        fp = None
    shares = [(c, coverage_pct(c.geom_ea, fp)) for c in counties.items if c.geom_ea is not None and c.geom_ea.area > 0]
    if not shares:
        return True
    if all(s <= 0 for _, s in shares):
        rb = _lonlat_bounds(r.crs, r.ds.bounds)
        cb = _lonlat_bounds(counties.crs, shapely.GeometryCollection([c.geom for c in counties.items]).bounds)
        ctx.add(
            r.label,
            f"the raster does not overlap the county boundaries at all (raster lon/lat bounds {rb}, boundaries {cb}).",
            "use the raster of this region; if it is the right file, its CRS is probably wrong "
            f"(check with `gdalinfo {r.rel}` and fix with `gdal_edit.py -a_srs EPSG:<code> {r.rel}`), "
            "or x and y are swapped.",
        )
        return False
    need = ctx.min_coverage()
    low = [(c, s) for c, s in shares if s < need]
    if low and low_is_warning:
        desc = ", ".join(f"{c.name} ({c.code}) {s:.1f} %" for c, s in low)
        ctx.warnings.append(
            f"[{r.label}] covers only part of {'these counties' if len(low) > 1 else 'this county'}: {desc}; "
            "land outside it has no wind-erosion data (counted as not eroded by wind)."
        )
        return True
    if low:
        desc = ", ".join(f"{c.name} ({c.code}) {s:.1f} %" for c, s in low)
        gap = "data gap" if key == "erosion" else "unclassified (未分类)"
        consequence = consequence or f"the rest would be reported as {gap}"
        ctx.add(
            r.label,
            f"the raster does not cover enough of {'these counties' if len(low) > 1 else 'this county'}: {desc} "
            f"of the county area is inside the raster (minimum {need:g} %, validation.min_coverage_pct); "
            f"{consequence}.",
            "use a raster covering the whole region (mosaic adjacent tiles, e.g. "
            "`gdalbuildvrt mosaic.vrt a.tif b.tif`), "
            "or lower `validation.min_coverage_pct` if the gap is intended.",
        )
    return True


def _lonlat_bounds(crs: pyproj.CRS, bounds: Iterable[float]) -> str:
    try:
        b = rasterio.warp.transform_bounds(crs.to_wkt(), "EPSG:4326", *bounds, densify_pts=21)
        return "(" + ", ".join(f"{v:.3f}" for v in b) + ")"
    except Exception:  # noqa: BLE001
        return "(" + ", ".join(f"{v:.6g}" for v in bounds) + ") in the raster's CRS"
