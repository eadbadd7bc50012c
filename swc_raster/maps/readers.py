"""What the maps read: counties, a table joined to them, a raster overview, the land-cover legend.

Every reader checks what a map relies on (a projected CRS in metres, one table row per
polygon, the table's year, legend codes) and names the input and the fix when it is wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from swc_raster.errors import CrsError, InputError, InputFileError
from swc_raster.tables import region_row


def read_counties(counties_gpkg, *, layer: str | None = None, code_field: str = "county_code"):
    """Counties GeoDataFrame (``county_code`` as string), in a projected metric CRS."""
    import geopandas as gpd

    path = Path(counties_gpkg)
    if not path.is_file():
        raise InputFileError(
            str(path),
            "the counties GeoPackage does not exist.",
            "use results/common/boundaries.gpkg written by prepare_boundaries.",
        )
    gdf = gpd.read_file(path, layer=layer)
    if code_field not in gdf.columns:
        raise InputError(
            str(path),
            f"no field {code_field!r} (fields: {', '.join(map(str, gdf.columns))}).",
            "pass code_field= naming the GB/T 2260 county code field.",
        )
    if gdf.crs is None:
        raise CrsError(str(path), "the counties layer has no CRS.", "use the boundaries in the analysis CRS.")
    if not gdf.crs.is_projected or (gdf.crs.axis_info and gdf.crs.axis_info[0].unit_name not in ("metre", "meter")):
        raise CrsError(
            str(path),
            f"the counties are in {gdf.crs.name}, not a projected CRS in metres; scale bars and areas need metres.",
            "use results/common/boundaries.gpkg (analysis CRS), or reproject the layer first.",
        )
    gdf = gdf.rename(columns={code_field: "county_code"})
    gdf["county_code"] = gdf["county_code"].astype(str).str.strip()
    return gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]


def join_table(gdf, table: pd.DataFrame, counties_path, table_path):
    """Attach the county rows of ``table`` to the geometries by county_code (1:1, strict)."""
    rows = table[table["level"] == "county"]
    geo_codes, row_codes = set(gdf["county_code"]), set(rows["county_code"])
    no_geom, no_row = sorted(row_codes - geo_codes), sorted(geo_codes - row_codes)
    if no_geom or no_row:
        parts = []
        if no_geom:
            parts.append(f"codes in {Path(table_path).name} without a polygon: {', '.join(no_geom)}")
        if no_row:
            parts.append(f"polygons in {Path(counties_path).name} without a row: {', '.join(no_row)}")
        raise InputError(
            str(table_path),
            "the table and the counties do not match (" + "; ".join(parts) + ").",
            "use the counties GeoPackage and tables of the same workflow run (same boundaries).",
        )
    keep = [c for c in gdf.columns if c not in rows.columns or c == "county_code"]
    return gdf[keep].merge(rows, on="county_code", how="inner", validate="one_to_one")


def label_names(gdf, lang: str) -> list[str]:
    """County names to print: English ones where the layer has them and ``lang`` is "en"."""
    if "county_name" not in gdf.columns:
        return list(gdf["county_code"])
    if lang == "en" and "county_name_en" in gdf.columns:
        return [
            str(e) if isinstance(e, str) and e.strip() else str(z)
            for e, z in zip(gdf["county_name_en"], gdf["county_name"])
        ]
    return [str(n) for n in gdf["county_name"]]


def region_name(table: pd.DataFrame) -> str:
    """The region row's name ("" without a region row)."""
    reg = region_row(table)
    return "" if reg is None else str(reg["county_name"])


def check_year(df: pd.DataFrame, year, path) -> None:
    """The table holds ``year`` only."""
    years = {str(y) for y in df["year"].unique()}
    if years != {str(year)}:
        raise InputError(
            str(path),
            f"the table is for year(s) {sorted(years)}, the map for {year}.",
            "pass the table of the same year.",
        )


def raster_header(path):
    """``(crs, bounds)`` of a map raster, which must exist and be in a projected CRS in metres."""
    import rasterio
    from pyproj import CRS

    path = Path(path)
    if not path.is_file():
        raise InputFileError(str(path), "the raster does not exist.", "run the workflow step that writes it.")
    with rasterio.open(path) as src:
        crs, bounds = src.crs, tuple(src.bounds)
    if crs is None:
        raise CrsError(str(path), "the raster has no CRS.", "use the raster on the analysis grid (results/{year}/...).")
    if not CRS.from_user_input(crs).is_projected:
        raise CrsError(
            str(path),
            f"the raster is in {CRS.from_user_input(crs).name}, not a projected CRS in metres.",
            "use the raster aligned to the analysis grid (results/{year}/...).",
        )
    return crs, bounds


def read_overview(path, max_size: int = 2000):
    """Read band 1 decimated to at most ``max_size`` pixels on the long side (mode resampling).

    Returns ``(array, transform, crs, nodata)``.  Memory: the output array only (plus
    GDAL's block cache), e.g. 2000 × 1300 × 1 byte ≈ 2.6 MB for any input size.  GDAL
    reads internal overviews when the file has them.
    """
    import rasterio
    from rasterio.enums import Resampling

    path = Path(path)
    if not path.is_file():
        raise InputFileError(str(path), "the raster does not exist.", "run the workflow step that writes it.")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise CrsError(
                str(path), "the raster has no CRS.", "use the raster on the analysis grid (results/{year}/...)."
            )
        factor = max(1.0, max(src.width, src.height) / max_size)
        shape = (max(1, round(src.height / factor)), max(1, round(src.width / factor)))
        resampling = Resampling.nearest if factor == 1.0 else Resampling.mode
        array = src.read(1, out_shape=shape, resampling=resampling)
        transform = src.transform * src.transform.scale(src.width / shape[1], src.height / shape[0])
        return array, transform, src.crs, src.nodata


def counties_for_raster(counties_gpkg, raster_crs, layer, code_field):
    """The counties in the raster's CRS."""
    from pyproj import CRS

    gdf = read_counties(counties_gpkg, layer=layer, code_field=code_field)
    rcrs = CRS.from_user_input(raster_crs)
    return gdf if gdf.crs.equals(rcrs) else gdf.to_crs(rcrs)


def read_legend(legend_csv) -> pd.DataFrame:
    """Land-cover legend ``code, name_zh, name_en, colour`` as a table (:func:`swc_raster.legend.read_legend`)."""
    from swc_raster.legend import read_legend as read_legend_file

    return read_legend_file(legend_csv).to_frame()


def raster_codes(path) -> set[int]:
    """Every value present in band 1 (nodata excluded), scanned block by block (memory: one block)."""
    import rasterio

    codes: set[int] = set()
    with rasterio.open(path) as src:
        for _, window in src.block_windows(1):
            block = src.read(1, window=window)
            if block.dtype == np.uint8:
                values = np.nonzero(np.bincount(block.ravel(), minlength=256))[0]
            else:
                values = np.unique(block[np.isfinite(block)] if block.dtype.kind == "f" else block)
            codes.update(int(v) for v in values)
        if src.nodata is not None and np.isfinite(src.nodata):
            codes.discard(int(src.nodata))
    return codes
