"""GIS deliverables that QGIS opens directly: a county GeoPackage and a grade COG.

- :func:`write_counties_gpkg` — county polygons with every rate and target attribute
  (UTF-8 Chinese names, full field names: GeoPackage, never Shapefile), plus a one-feature
  ``region`` layer carrying the region row.
- :func:`write_grade_cog` — ``erosion_grade.tif`` as a Cloud-Optimized GeoTIFF with
  internal overviews (mode resampling, so overview pixels are real grade codes) and a
  colour table of the conventional grade colours (``grading.GRADE_COLOURS``).

Both write to a temporary file in the output's folder and rename it at the end.
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import escape

from swc_raster import grading
from swc_raster.errors import InputError, InputFileError
from swc_raster.atomic import atomic_outputs
from swc_raster.tables import read_county_rates, read_target_comparison, target_years

COUNTIES_LAYER = "counties"
REGION_LAYER = "region"


def write_counties_gpkg(
    counties_gpkg: str | os.PathLike,
    county_rates_csv: str | os.PathLike,
    target_comparison_csv: str | os.PathLike,
    out_gpkg: str | os.PathLike,
    *,
    layer: str | None = None,
    code_field: str = "county_code",
) -> Path:
    """County polygons joined (by ``county_code``) to ``county_rates.csv`` and the target columns.

    Layer ``counties``: the boundary fields (e.g. ``county_name_en``), every column of
    ``county_rates.csv`` and ``target_{Y}_pct``, ``gap_{Y}_pp``, ``met_{Y}`` (0/1 integer,
    empty when unknown) for each target year.  Layer ``region``: the dissolved region with
    the region rows.  CRS: that of the input (the analysis CRS).
    """
    import geopandas as gpd

    from swc_raster.maps import read_counties

    rates = read_county_rates(county_rates_csv)
    comp = read_target_comparison(target_comparison_csv)
    years = target_years(comp)
    gdf = read_counties(counties_gpkg, layer=layer, code_field=code_field)
    target_cols = [c for y in years for c in (f"target_{y}_pct", f"gap_{y}_pp", f"met_{y}")]
    table = rates.merge(
        comp[["level", "county_code", *target_cols]], on=["level", "county_code"], how="left", validate="one_to_one"
    )
    for y in years:
        table[f"met_{y}"] = table[f"met_{y}"].map({True: 1, False: 0}).astype("Int8")
    counties = table[table["level"] == "county"]
    geo_codes, row_codes = set(gdf["county_code"]), set(counties["county_code"])
    if geo_codes != row_codes:
        raise InputError(
            str(county_rates_csv),
            f"counties and table do not match (no polygon: {sorted(row_codes - geo_codes)}; "
            f"no row: {sorted(geo_codes - row_codes)}).",
            "use the boundaries and tables of the same workflow run.",
        )
    boundary_cols = [c for c in gdf.columns if c not in table.columns and c != "geometry"]
    merged = gdf[["county_code", *boundary_cols, "geometry"]].merge(counties, on="county_code", how="inner")
    ordered = [
        "county_code",
        "county_name",
        *[c for c in boundary_cols],
        *[c for c in table.columns if c not in ("county_code", "county_name")],
    ]
    out = gpd.GeoDataFrame(merged[ordered], geometry=merged.geometry, crs=gdf.crs)
    out["year"] = _year_field(out["year"])
    region_rows = table[table["level"] == "region"]
    region = None
    if len(region_rows):
        geom = gdf.geometry.union_all()
        region = gpd.GeoDataFrame(region_rows.reset_index(drop=True), geometry=[geom] * len(region_rows), crs=gdf.crs)
        region["year"] = _year_field(region["year"])
    with atomic_outputs(out_gpkg) as (tmp,):
        out.to_file(tmp, layer=COUNTIES_LAYER, driver="GPKG", engine="pyogrio")
        if region is not None:
            region.to_file(tmp, layer=REGION_LAYER, driver="GPKG", engine="pyogrio", mode="a")
    return Path(out_gpkg)


def _year_field(values):
    """Integer years when every label is an integer (filterable in QGIS), else text labels."""
    text = values.astype(str)
    return values.astype("int32") if text.str.fullmatch(r"\d+").all() else text


def _colour_table_xml() -> str:
    entries = []
    for code in range(256):
        if code in grading.GRADE_COLOURS:
            r, g, b = grading.GRADE_COLOURS[code]
            entries.append(f'<Entry c1="{r}" c2="{g}" c3="{b}" c4="255"/>')
        else:
            entries.append('<Entry c1="255" c2="255" c3="255" c4="0"/>')
    return "<ColorTable>" + "".join(entries) + "</ColorTable>"


def _grade_metadata_xml() -> str:
    items = [
        f'<MDI key="GRADE_{c}">{escape(grading.GRADE_NAMES_ZH[c])} / {escape(grading.GRADE_NAMES_EN[c])}</MDI>'
        for c in grading.ALL_CODES
    ]
    items.append('<MDI key="GRADE_255">outside the region (nodata)</MDI>')
    items.append('<MDI key="GRADES">SL 190-2007 erosion intensity grades; 2-6 are erosion</MDI>')
    return "<Metadata>" + "".join(items) + "</Metadata>"


def write_grade_cog(
    grade_tif: str | os.PathLike,
    out_tif: str | os.PathLike,
    *,
    blocksize: int = 512,
    overview_resampling: str = "MODE",
) -> Path:
    """Copy ``erosion_grade.tif`` to a Cloud-Optimized GeoTIFF with a grade colour table.

    The source is wrapped in a VRT (no pixel copy) that adds the palette, the nodata
    value (255) and grade-name metadata, then GDAL's COG driver writes tiles, DEFLATE
    compression and internal overviews (``overview_resampling``: MODE or NEAREST, so
    overview pixels stay valid grade codes).  Memory: GDAL's block cache only.
    """
    import rasterio
    import rasterio.shutil

    src_path = Path(grade_tif)
    if not src_path.is_file():
        raise InputFileError(str(src_path), "the grade raster does not exist.", "run the grade step first.")
    if overview_resampling.upper() not in ("MODE", "NEAREST"):
        raise InputError(
            "overview_resampling",
            f"{overview_resampling!r} would mix grade codes.",
            "use MODE or NEAREST for a categorical raster.",
        )
    with rasterio.open(src_path) as src:
        if src.count != 1 or src.dtypes[0] != "uint8":
            raise InputError(
                str(src_path),
                f"expected one uint8 band of grade codes, found {src.count} " f"band(s) of {src.dtypes[0]}.",
                "pass erosion_grade.tif written by the grade step.",
            )
        gt = src.transform.to_gdal()
        wkt = src.crs.to_wkt() if src.crs else ""
        width, height = src.width, src.height
    vrt = (
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
        f"<SRS>{escape(wkt)}</SRS>"
        f"<GeoTransform>{', '.join(repr(float(v)) for v in gt)}</GeoTransform>"
        f"{_grade_metadata_xml()}"
        f'<VRTRasterBand dataType="Byte" band="1">'
        f"<NoDataValue>{grading.OUTSIDE}</NoDataValue>"
        f"<ColorInterp>Palette</ColorInterp>"
        f"{_colour_table_xml()}"
        f'<SimpleSource><SourceFilename relativeToVRT="0">{escape(str(src_path.resolve()))}</SourceFilename>'
        f"<SourceBand>1</SourceBand></SimpleSource>"
        f"</VRTRasterBand></VRTDataset>"
    )
    with atomic_outputs(out_tif) as (tmp,):
        with rasterio.open(vrt) as vsrc:
            rasterio.shutil.copy(
                vsrc,
                tmp,
                driver="COG",
                COMPRESS="DEFLATE",
                BLOCKSIZE=str(blocksize),
                OVERVIEW_RESAMPLING=overview_resampling.upper(),
                RESAMPLING="NEAREST",
                BIGTIFF="IF_SAFER",
            )
    return Path(out_tif)


def grade_colormap() -> dict[int, tuple[int, int, int, int]]:
    """The palette written into the COG ({code: (r, g, b, a)}), for checks and styling."""
    out = {code: (255, 255, 255, 0) for code in range(256)}
    for code, rgb in grading.GRADE_COLOURS.items():
        out[code] = (*rgb, 255)
    return out
