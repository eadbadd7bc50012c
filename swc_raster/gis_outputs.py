"""GIS deliverables that QGIS opens ready-styled: categorical COGs and the county GeoPackage.

Rasters (``erosion_grade.tif``, ``landcover.tif``, ``change_{a}_{b}.tif``):
:func:`write_categorical_cog` mosaics one or several batch rasters of one grid (a VRT, no
pixel copy) into a **Cloud-Optimized GeoTIFF** (tiled, DEFLATE, internal overviews by MODE
so every overview pixel is a real code) that carries

- a **colour table** (one entry per code up to the largest category; nodata transparent),
- ``{PREFIX}_{code}`` metadata items ``"中文名 / English name"`` inside the TIFF, so the
  classes travel with the file alone,
- the analysis CRS with a **name** (:func:`named_crs`: "unknown" becomes e.g.
  "Albers Equal Area 105E 25N/47N (GRS 1980)"; the definition is unchanged),
- ``SWC_DEMO`` when the data are synthetic, and no file path of the machine that made it;

and two sidecars beside it (:func:`sidecar_paths`), which GDAL and QGIS pick up by name:

- ``<name>.tif.aux.xml`` — GDAL category names (publishing language) and a raster
  attribute table ``value, name, name_zh, name_en, red, green, blue, alpha``
  (GTiff keeps both only in this PAM file; ``gdalinfo`` lists them);
- ``<name>.qml`` — a QGIS paletted style: the classes with the maps' colours and labels and
  nothing else (QGIS loads ``<name>.qml`` as the default style of ``<name>.tif``).

Vector: :func:`write_counties_gpkg` writes counties and the region with every attribute and
a ``layer_styles`` table (QGIS's own GeoPackage style table) holding a graduated rate style
with the maps' classes and colours and county-name + rate labels, marked default.

Everything is written to temporary names in the output folder and renamed at the end.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from swc_raster import grading
from swc_raster.atomic import atomic_outputs
from swc_raster.csv_files import DATA_STATUS_COLUMN, DEMO_STATUS, DEMO_TAG, DEMO_TAG_KEY
from swc_raster.errors import InputError, InputFileError
from swc_raster.tables import (
    check_total_matches_rates,
    read_county_rates,
    read_erosion_by_process,
    read_target_comparison,
    target_years,
)

COUNTIES_LAYER = "counties"
REGION_LAYER = "region"
_LANGS = ("zh", "en")


# --------------------------------------------------------------------------- categories


@dataclass(frozen=True)
class Category:
    """One class of a categorical raster: its code, names and display colour (RGB 0–255)."""

    code: int
    name_zh: str
    name_en: str
    rgb: tuple[int, int, int]

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def grade_categories() -> list[Category]:
    """SL 190 grade codes 0–7 with the maps' colours (``grading.GRADE_COLOURS``); 255 is nodata."""
    return [
        Category(c, grading.GRADE_NAMES_ZH[c], grading.GRADE_NAMES_EN[c], grading.GRADE_COLOURS[c])
        for c in grading.ALL_CODES
    ]


def change_categories() -> list[Category]:
    """Change classes of :func:`swc_raster.transitions.change_map` (0 unknown … 3 worsened); 255 is nodata."""
    from swc_raster import transitions as tr

    return [
        Category(c, tr.CHANGE_NAMES_ZH[c], tr.CHANGE_NAMES[c], tr.CHANGE_COLOURS[c]) for c in sorted(tr.CHANGE_NAMES)
    ]


def landcover_categories(legend: pd.DataFrame) -> list[Category]:
    """Code 0 "未分类 / unclassified" (the land-cover nodata) and every legend class, in the maps' colours.

    ``legend``: the land-cover legend (``code, name_zh, name_en``, optional ``colour``), e.g.
    ``swc_raster.maps.read_legend(path)``.  Colours come from ``maps.landcover_colours``, so
    QGIS shows the same colours as ``maps/landcover.png``.
    """
    from matplotlib.colors import to_rgb

    from swc_raster.maps.raster import UNCLASSIFIED_COLOUR, landcover_colours

    missing = [c for c in ("code", "name_zh", "name_en") if c not in legend.columns]
    if missing:
        raise InputError(
            "landcover legend", f"lacks column(s) {', '.join(missing)}.", "use the header code,name_zh,name_en."
        )

    def rgb(colour: str) -> tuple[int, int, int]:
        return tuple(int(round(255 * v)) for v in to_rgb(colour))

    legend = legend.assign(code=legend["code"].astype(int))
    if (legend["code"] <= 0).any():
        raise InputError(
            "landcover legend", "a legend code is 0 or negative; 0 means land-cover nodata.", "use codes ≥ 1."
        )
    colours = landcover_colours(legend)
    out = [Category(0, "未分类", "unclassified", rgb(UNCLASSIFIED_COLOUR))]
    for _, r in legend.sort_values("code").iterrows():
        out.append(Category(int(r["code"]), str(r["name_zh"]), str(r["name_en"]), rgb(colours[int(r["code"])])))
    return out


# --------------------------------------------------------------------------- CRS


def named_crs(crs):
    """The same CRS (pyproj ``CRS``) with a descriptive name where PROJ says "unknown".

    A CRS given as a PROJ string (the analysis CRS, ``+proj=aea +lon_0=105 …``) is called
    "unknown" in WKT, and QGIS shows it so.  Only names change (projected CRS, conversion,
    base CRS); parameters, ellipsoid and datum stay, so the result compares equal to
    ``crs`` (pyproj ``equals``, rasterio ``==``) and coordinates are identical.  The default
    analysis CRS becomes "Albers Equal Area 105E 25N/47N (GRS 1980)".
    """
    from pyproj import CRS

    crs = CRS.from_user_input(crs)
    if not crs.is_projected or crs.name not in ("unknown", ""):
        return crs
    d = crs.to_json_dict()
    params = {p["name"]: p["value"] for p in d.get("conversion", {}).get("parameters", [])}
    method = d.get("conversion", {}).get("method", {}).get("name", "projection")

    def deg(value: float, pos: str, neg: str) -> str:
        text = f"{abs(value):g}"
        return f"{text}{pos if value >= 0 else neg}"

    lon = next((v for k, v in params.items() if k.startswith("Longitude of")), None)
    parallels = [v for k, v in params.items() if k.startswith("Latitude of") and "standard parallel" in k]
    parts = [method]
    if lon is not None:
        parts.append(deg(lon, "E", "W"))
    if parallels:
        parts.append("/".join(deg(v, "N", "S") for v in parallels))
    name = " ".join(parts) + f" ({crs.ellipsoid.name})"
    d["name"] = name
    d["conversion"]["name"] = " ".join(parts)
    if d.get("base_crs", {}).get("name") in ("unknown", ""):
        d["base_crs"]["name"] = f"Geographic ({crs.datum.name})"
    return CRS.from_json_dict(d)


# --------------------------------------------------------------------------- categorical COGs


def sidecar_paths(out_tif: str | os.PathLike) -> tuple[Path, Path]:
    """The two files written beside a categorical COG: ``<name>.tif.aux.xml`` and ``<name>.qml``."""
    out_tif = Path(out_tif)
    return out_tif.with_name(out_tif.name + ".aux.xml"), out_tif.with_suffix(".qml")


def _as_paths(sources) -> list[Path]:
    paths = [Path(sources)] if isinstance(sources, (str, os.PathLike)) else [Path(p) for p in sources]
    if not paths:
        raise InputError("sources", "no raster given.", "pass the batch rasters to mosaic (at least one).")
    for p in paths:
        if not p.is_file():
            raise InputFileError(str(p), "the raster does not exist.", "run the step that writes it first.")
    return paths


def _mosaic_grid(paths: list[Path]):
    """(crs, transform, width, height, dtype) of the union of rasters that share one grid; InputError if not."""
    import rasterio
    from rasterio.transform import from_origin

    infos = []
    for p in paths:
        with rasterio.open(p) as src:
            infos.append((p, src.crs, src.transform, src.width, src.height, src.count, src.dtypes[0]))
    p0, crs, t0, *_rest, dtype = infos[0]
    res_x, res_y = t0.a, -t0.e
    for p, c, t, _w, _h, count, dt in infos:
        problems = []
        if count != 1:
            problems.append(f"{count} bands (expected 1)")
        if dt != dtype or dt not in ("uint8", "uint16"):
            problems.append(f"data type {dt} (expected uint8 or uint16, as {p0.name})")
        if c != crs:
            problems.append(f"CRS {c} differs from {crs}")
        if t.b or t.d or not math.isclose(t.a, res_x) or not math.isclose(-t.e, res_y):
            problems.append(f"cell {t.a:g} × {-t.e:g} differs from {res_x:g} × {res_y:g} (or the grid is rotated)")
        off = ((t.c - t0.c) / res_x, (t0.f - t.f) / res_y)
        if any(abs(o - round(o)) > 1e-6 for o in off):
            problems.append("its cells do not line up with the first raster's")
        if problems:
            raise InputError(
                str(p),
                "cannot be mosaicked with the others: " + "; ".join(problems) + ".",
                "pass batch rasters of one workflow run (same analysis grid).",
            )
    left = min(t.c for _, _, t, *_ in infos)
    top = max(t.f for _, _, t, *_ in infos)
    right = max(t.c + w * res_x for _, _, t, w, *_ in infos)
    bottom = min(t.f - h * res_y for _, _, t, _w, h, *_ in infos)
    width, height = round((right - left) / res_x), round((top - bottom) / res_y)
    return crs, from_origin(left, top, res_x, res_y), width, height, dtype, infos


def _colour_table_xml(categories: Sequence[Category], nodata: int) -> str:
    """Entries 0 … max code: category colours, others (and nodata) transparent."""
    by_code = {c.code: c for c in categories}
    entries = []
    for code in range(max(by_code) + 1):
        cat = by_code.get(code)
        if cat is None or code == nodata:
            entries.append('<Entry c1="255" c2="255" c3="255" c4="0"/>')
        else:
            r, g, b = cat.rgb
            entries.append(f'<Entry c1="{r}" c2="{g}" c3="{b}" c4="255"/>')
    return "<ColorTable>" + "".join(entries) + "</ColorTable>"


def _metadata_xml(items: dict[str, str]) -> str:
    return (
        "<Metadata>" + "".join(f"<MDI key={quoteattr(k)}>{escape(v)}</MDI>" for k, v in items.items()) + "</Metadata>"
    )


def _vrt(paths, grid, *, nodata: int, crs_wkt: str, categories, tags: dict[str, str], description: str) -> str:
    from rasterio.dtypes import _gdal_typename

    crs, transform, width, height, dtype, infos = grid
    sources = []
    for p, _c, t, w, h, *_ in infos:
        xoff, yoff = round((t.c - transform.c) / transform.a), round((transform.f - t.f) / -transform.e)
        rect = f'xOff="{xoff}" yOff="{yoff}" xSize="{w}" ySize="{h}"'
        kind = "SimpleSource" if len(infos) == 1 else "ComplexSource"
        # ComplexSource with NODATA: a batch's empty border never covers its neighbour's data
        nd = "" if len(infos) == 1 else f"<NODATA>{nodata}</NODATA>"
        sources.append(
            f'<{kind}><SourceFilename relativeToVRT="0">{escape(str(p.resolve()))}</SourceFilename>'
            f'<SourceBand>1</SourceBand><SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
            f"<DstRect {rect}/>{nd}</{kind}>"
        )
    return (
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
        f"<SRS>{escape(crs_wkt)}</SRS>"
        f"<GeoTransform>{', '.join(repr(float(v)) for v in transform.to_gdal())}</GeoTransform>"
        f"{_metadata_xml(tags)}"
        f'<VRTRasterBand dataType="{_gdal_typename(dtype)}" band="1">'
        f"<Description>{escape(description)}</Description>"
        f"<NoDataValue>{nodata}</NoDataValue>"
        f"<ColorInterp>Palette</ColorInterp>"
        f"{_colour_table_xml(categories, nodata)}"
        f"{''.join(sources)}"
        f"</VRTRasterBand></VRTDataset>"
    )


def pam_xml(categories: Sequence[Category], *, lang: str, nodata: int, description: str) -> str:
    """The ``.aux.xml`` text: band description, category names (``lang``) and a raster attribute table."""
    by_code = {c.code: c for c in categories}
    names = "".join(
        f"<Category>{escape(by_code[c].name(lang)) if c in by_code and c != nodata else ''}</Category>"
        for c in range(max(by_code) + 1)
    )
    fields = [
        ("value", 0, 5),
        ("name", 2, 2),
        ("name_zh", 2, 0),
        ("name_en", 2, 0),
        ("red", 0, 6),
        ("green", 0, 7),
        ("blue", 0, 8),
        ("alpha", 0, 9),
    ]  # (name, GFT type, GFU usage)
    defs = "".join(
        f'<FieldDefn index="{i}"><Name>{n}</Name><Type>{t}</Type><Usage>{u}</Usage></FieldDefn>'
        for i, (n, t, u) in enumerate(fields)
    )
    rows = []
    for i, c in enumerate(c for c in categories if c.code != nodata):
        values = [c.code, c.name(lang), c.name_zh, c.name_en, *c.rgb, 255]
        rows.append(f'<Row index="{i}">' + "".join(f"<F>{escape(str(v))}</F>" for v in values) + "</Row>")
    return (
        '<PAMDataset>\n  <PAMRasterBand band="1">\n'
        f"    <Description>{escape(description)}</Description>\n"
        f"    <CategoryNames>{names}</CategoryNames>\n"
        f'    <GDALRasterAttributeTable tableType="thematic">{defs}{"".join(rows)}</GDALRasterAttributeTable>\n'
        "  </PAMRasterBand>\n</PAMDataset>\n"
    )


_QML_HEAD = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


def paletted_qml(categories: Sequence[Category], *, lang: str, nodata: int) -> str:
    """A QGIS raster style: paletted renderer with one entry per category (nodata left out)."""
    entries = "".join(
        f'<paletteEntry value="{c.code}" color="#{c.rgb[0]:02x}{c.rgb[1]:02x}{c.rgb[2]:02x}" alpha="255" '
        f"label={quoteattr(c.name(lang))}/>"
        for c in categories
        if c.code != nodata
    )
    return (
        _QML_HEAD + '<qgis version="3.22.16" styleCategories="AllStyleCategories">'
        "<pipe>"
        '<rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">'
        f"<rasterTransparency/><colorPalette>{entries}</colorPalette>"
        "</rasterrenderer>"
        '<brightnesscontrast brightness="0" contrast="0" gamma="1"/>'
        '<huesaturation saturation="0" grayscaleMode="0" colorizeOn="0"/>'
        '<rasterresampler maxOversampling="2"/>'
        "</pipe><blendMode>0</blendMode></qgis>\n"
    )


def write_categorical_cog(
    sources: str | os.PathLike | Sequence[str | os.PathLike],
    out_tif: str | os.PathLike,
    categories: Sequence[Category],
    *,
    nodata: int,
    tag_prefix: str,
    description: str,
    lang: str = "zh",
    demo: bool = False,
    tags: dict[str, str] | None = None,
    blocksize: int = 512,
    overview_resampling: str = "MODE",
    sidecars: bool = True,
) -> Path:
    """Mosaic ``sources`` (one grid) into a categorical Cloud-Optimized GeoTIFF with its two sidecars.

    Parameters
    ----------
    sources : path or sequence of paths
        Single-band uint8/uint16 rasters on one grid (same CRS and cell, aligned), e.g. the
        batches of one year; where they overlap, a later source's data wins and nodata
        never covers data.
    out_tif : path
        The COG.  ``<name>.tif.aux.xml`` and ``<name>.qml`` are written beside it.
    categories : sequence of Category
        Every code the raster may hold, with names and colours.
    nodata : int
        The no-data code (transparent, no class).
    tag_prefix : str
        Metadata items ``{tag_prefix}_{code}`` = ``"中文 / English"`` (e.g. ``GRADE``).
    description : str
        Band description (also the dataset's ``SWC_CONTENT`` item).
    lang : {"zh", "en"}
        Language of the category names and QGIS labels (the RAT holds both).
    demo : bool
        Add ``SWC_DEMO`` = "synthetic demo data, not real measurements".
    tags : dict, optional
        More dataset metadata items (must not hold file paths).
    blocksize, overview_resampling
        COG tile size; MODE or NEAREST (any other would invent codes in overviews).
    sidecars : bool
        Write the ``.aux.xml`` and ``.qml`` (False for intermediate per-batch files).

    Memory: GDAL's block cache; pixels stream from the sources through a VRT.
    """
    import rasterio
    import rasterio.shutil

    if lang not in _LANGS:
        raise InputError("lang", f"unknown language {lang!r}.", "use 'zh' or 'en'.")
    if overview_resampling.upper() not in ("MODE", "NEAREST"):
        raise InputError(
            "overview_resampling",
            f"{overview_resampling!r} would mix category codes.",
            "use MODE or NEAREST for a categorical raster.",
        )
    paths = _as_paths(sources)
    grid = _mosaic_grid(paths)
    crs_wkt = named_crs(grid[0].to_wkt()).to_wkt() if grid[0] else ""
    items = {"SWC_CONTENT": description}
    items.update({f"{tag_prefix}_{c.code}": f"{c.name_zh} / {c.name_en}" for c in categories})
    items[f"{tag_prefix}_{nodata}"] = "无数据 / nodata (outside)"
    items.update(tags or {})
    if demo:
        items[DEMO_TAG_KEY] = DEMO_TAG
    vrt = _vrt(paths, grid, nodata=nodata, crs_wkt=crs_wkt, categories=categories, tags=items, description=description)
    outputs = (out_tif, *sidecar_paths(out_tif)) if sidecars else (out_tif,)
    with atomic_outputs(*outputs) as temps:
        with rasterio.open(vrt) as vsrc:
            rasterio.shutil.copy(
                vsrc,
                temps[0],
                driver="COG",
                COMPRESS="DEFLATE",
                BLOCKSIZE=str(blocksize),
                OVERVIEW_RESAMPLING=overview_resampling.upper(),
                RESAMPLING="NEAREST",
                BIGTIFF="IF_SAFER",
            )
        temps[0].with_name(temps[0].name + ".aux.xml").unlink(missing_ok=True)  # GDAL's own PAM copy, if any
        if sidecars:
            temps[1].write_text(
                pam_xml(categories, lang=lang, nodata=nodata, description=description), encoding="utf-8"
            )
            temps[2].write_text(paletted_qml(categories, lang=lang, nodata=nodata), encoding="utf-8")
    return Path(out_tif)


def write_grade_cog(
    grade_tif: str | os.PathLike | Sequence[str | os.PathLike],
    out_tif: str | os.PathLike,
    *,
    blocksize: int = 512,
    overview_resampling: str = "MODE",
    lang: str = "zh",
    demo: bool = False,
) -> Path:
    """``erosion_grade.tif``: the grade raster(s) of one year as a categorical COG (codes 0–7, 255 nodata).

    ``grade_tif``: one grade raster or the batches' grade rasters (mosaicked).  Colours are
    ``grading.GRADE_COLOURS``; metadata ``GRADE_{code}``; sidecars as in
    :func:`write_categorical_cog`.
    """
    for p in _as_paths(grade_tif):
        _check_single_band_integer(p, "grade")
    return write_categorical_cog(
        grade_tif,
        out_tif,
        grade_categories(),
        nodata=grading.OUTSIDE,
        tag_prefix="GRADE",
        description="SL 190-2007 erosion intensity grade (2-6 are erosion)",
        lang=lang,
        demo=demo,
        blocksize=blocksize,
        overview_resampling=overview_resampling,
    )


def write_landcover_cog(
    sources: str | os.PathLike | Sequence[str | os.PathLike],
    out_tif: str | os.PathLike,
    legend: pd.DataFrame,
    *,
    lang: str = "zh",
    demo: bool = False,
    blocksize: int = 512,
) -> Path:
    """``landcover.tif``: aligned land cover (one raster or the batches') as a categorical COG.

    Classes and colours from ``legend`` (:func:`landcover_categories`); code 0 is the
    land-cover nodata ("未分类 / unclassified", transparent).  A code in the raster that the
    legend lacks is refused, as the maps and tables would have no name for it.
    """
    from swc_raster.maps import raster_codes

    categories = landcover_categories(legend)
    known = {c.code for c in categories}
    for p in _as_paths(sources):
        _check_single_band_integer(p, "land-cover")
        unknown = sorted(raster_codes(p) - known)
        if unknown:
            raise InputError(
                str(p),
                f"holds land-cover code(s) {unknown[:10]} that the legend does not list.",
                "add them to the land-cover legend (config landcover_legend) or fix the raster.",
            )
    return write_categorical_cog(
        sources,
        out_tif,
        categories,
        nodata=0,
        tag_prefix="LANDCOVER",
        description="land cover on the analysis grid (legend classes; 0 = unclassified / nodata)",
        lang=lang,
        demo=demo,
        blocksize=blocksize,
    )


def write_change_cog(
    sources: str | os.PathLike | Sequence[str | os.PathLike],
    out_tif: str | os.PathLike,
    *,
    year_from: int | str | None = None,
    year_to: int | str | None = None,
    lang: str = "zh",
    demo: bool = False,
    blocksize: int = 512,
    sidecars: bool = True,
) -> Path:
    """``change_{a}_{b}.tif``: the batches' change maps (``transitions.change_map``) as one categorical COG.

    Metadata ``SWC_YEAR_FROM``/``SWC_YEAR_TO`` when both years are given (never file paths).
    """
    for p in _as_paths(sources):
        _check_single_band_integer(p, "change")
    tags = {}
    if year_from is not None and year_to is not None:
        tags = {"SWC_YEAR_FROM": str(year_from), "SWC_YEAR_TO": str(year_to)}
    return write_categorical_cog(
        sources,
        out_tif,
        change_categories(),
        nodata=grading.OUTSIDE,
        tag_prefix="CHANGE",
        description="erosion grade change between two years: 1 improved, 2 unchanged, 3 worsened, 0 unknown",
        lang=lang,
        demo=demo,
        tags=tags,
        blocksize=blocksize,
        sidecars=sidecars,
    )


def _check_single_band_integer(path: Path, what: str) -> None:
    import rasterio

    with rasterio.open(path) as src:
        if src.count != 1 or src.dtypes[0] not in ("uint8", "uint16"):
            raise InputError(
                str(path),
                f"expected one uint8 band of {what} codes, found {src.count} band(s) of {src.dtypes[0]}.",
                f"pass the {what} raster written by the workflow.",
            )


def grade_colormap() -> dict[int, tuple[int, int, int, int]]:
    """The grade palette written into the COG ({code: (r, g, b, a)}; codes without a grade transparent)."""
    out = {code: (255, 255, 255, 0) for code in range(max(grading.ALL_CODES) + 1)}
    for code, rgb in grading.GRADE_COLOURS.items():
        out[code] = (*rgb, 255)
    return out


# --------------------------------------------------------------------------- GeoPackage


#: The GeoPackage's per-process fields (from ``erosion_by_process.csv``), in layer order.
PROCESS_FIELDS = [
    "water_erosion_km2",
    "wind_erosion_km2",
    "overlap_erosion_km2",
    "total_erosion_km2",
    *[f"{p}_grade{g}_km2" for p in ("water", "wind") for g in grading.EROSION_GRADES],
]


def process_fields(by_process: pd.DataFrame) -> pd.DataFrame:
    """One row per (``level``, ``county_code``) with :data:`PROCESS_FIELDS` from the by-process table.

    ``by_process``: :func:`swc_raster.tables.read_erosion_by_process`.  ``wind_*`` are missing
    (NULL in the GeoPackage) where the year has no wind-erosion layer; ``overlap_erosion_km2``
    is the total row's overlap; ``total_erosion_km2`` the total row's erosion area (the rate's).
    """
    keys = ["level", "county_code"]
    wide = by_process.pivot(index=keys, columns="process", values="erosion_area_km2")
    out = pd.DataFrame(index=wide.index)
    for process in ("water", "wind", "total"):
        out[f"{process}_erosion_km2"] = wide[process] if process in wide.columns else float("nan")
    totals = by_process[by_process["process"] == "total"].set_index(keys)
    out["overlap_erosion_km2"] = pd.to_numeric(totals["overlap_area_km2"], errors="coerce")
    for process in ("water", "wind"):
        rows = by_process[by_process["process"] == process].set_index(keys)
        for g in grading.EROSION_GRADES:
            out[f"{process}_grade{g}_km2"] = rows[f"area_grade{g}_km2"].reindex(out.index).astype(float)
    return out[PROCESS_FIELDS].astype(float).reset_index()


def field_aliases(columns: Sequence[str], lang: str = "zh") -> dict[str, str]:
    """Display names (QGIS aliases) of the GeoPackage's fields, with units; fields not known keep their name."""
    zh = lang == "zh"
    names = grading.GRADE_NAMES_ZH if zh else grading.GRADE_NAMES_EN
    process = {"water": ("水力侵蚀", "Water erosion"), "wind": ("风力侵蚀", "Wind erosion")}
    fixed = {
        "year": ("年份", "Year"),
        "level": ("级别", "Level"),
        "county_code": ("行政区划代码", "County code"),
        "county_name": ("县（市、区）", "County"),
        "county_name_en": ("县（市、区）英文名", "County (English)"),
        "t_allowable_t_km2": ("允许土壤流失量 T (t/(km²·a))", "Allowable loss T (t/(km²·a))"),
        "land_area_km2": ("土地面积 (km²)", "Land area (km²)"),
        "erosion_area_km2": ("水土流失面积 (km²)", "Erosion area (km²)"),
        "rate_pct": ("水土保持率 (%)", "Conservation rate (%)"),
        "nodata_area_km2": ("无侵蚀数据面积 (km²)", "No erosion data (km²)"),
        "gap_area_km2": ("数据缺失面积 (km²)", "Data gap (km²)"),
        "water_erosion_km2": ("水力侵蚀面积 (km²)", "Water erosion area (km²)"),
        "wind_erosion_km2": ("风力侵蚀面积 (km²)", "Wind erosion area (km²)"),
        "overlap_erosion_km2": ("水力风力重叠面积 (km²)", "Water–wind overlap (km²)"),
        "total_erosion_km2": ("水土流失面积合计 (km²)", "Erosion area, total (km²)"),
        DATA_STATUS_COLUMN: ("数据性质", "Data status"),
    }
    out = {}
    for col in columns:
        if col in fixed:
            out[col] = fixed[col][0 if zh else 1]
        elif m := re.fullmatch(r"area_grade(\d)_km2", col):
            out[col] = f"{names[int(m.group(1))]} (km²)" if zh else f"{names[int(m.group(1))].capitalize()} (km²)"
        elif m := re.fullmatch(r"(water|wind)_grade(\d)_km2", col):
            p, g = process[m.group(1)], names[int(m.group(2))]
            out[col] = f"{p[0]}{g} (km²)" if zh else f"{p[1]}, {g} (km²)"
        elif m := re.fullmatch(r"(target|gap|met)_(\d{4})(?:_pct|_pp)?", col):
            what, y = m.group(1), m.group(2)
            out[col] = {
                "target": (f"{y}年目标 (%)", f"Target {y} (%)"),
                "gap": (f"与{y}年目标差距 (百分点)", f"Gap to {y} target (pp)"),
                "met": (f"{y}年是否达标 (1 是, 0 否)", f"{y} target met (1 yes, 0 no)"),
            }[what][0 if zh else 1]
    return out


def write_counties_gpkg(
    counties_gpkg: str | os.PathLike,
    county_rates_csv: str | os.PathLike,
    target_comparison_csv: str | os.PathLike,
    out_gpkg: str | os.PathLike,
    *,
    layer: str | None = None,
    code_field: str = "county_code",
    lang: str = "zh",
    demo: bool = False,
    process_csv: str | os.PathLike | None = None,
) -> Path:
    """County polygons joined (by ``county_code``) to ``county_rates.csv`` and the target columns, styled for QGIS.

    ``process_csv`` (the year's ``erosion_by_process.csv``, optional) adds :data:`PROCESS_FIELDS`
    to both layers: water, wind (NULL without a wind layer), overlap and total erosion area and
    the water and wind areas of grades 2–6 (:func:`process_fields`).  Every field has a display
    name with its unit (:func:`field_aliases`, ``lang``) in the layers' QGIS styles.

    Layer ``counties``: the boundary fields (e.g. ``county_name_en``), every column of
    ``county_rates.csv`` and ``target_{Y}_pct``, ``gap_{Y}_pp``, ``met_{Y}`` (0/1 integer,
    empty when unknown) for each target year.  Layer ``region``: the dissolved region with
    the region rows.  CRS: that of the input (the analysis CRS), named (:func:`named_crs`).
    When ``demo``: column ``data_status`` = "演示数据 demo data" in both layers and the
    marker in each layer's GeoPackage description.  Table ``layer_styles`` (QGIS's style
    table): counties graduated by ``rate_pct`` with the rate map's classes and colours and
    labels "name / rate %" (``lang``: county_name or county_name_en), the region outlined;
    both marked default, so QGIS draws them styled on open.
    """
    import geopandas as gpd

    from swc_raster.maps import read_counties

    if lang not in _LANGS:
        raise InputError("lang", f"unknown language {lang!r}.", "use 'zh' or 'en'.")
    rates = read_county_rates(county_rates_csv).drop(columns=[DATA_STATUS_COLUMN], errors="ignore")
    comp = read_target_comparison(target_comparison_csv)
    years = target_years(comp)
    gdf = read_counties(counties_gpkg, layer=layer, code_field=code_field)
    target_cols = [c for y in years for c in (f"target_{y}_pct", f"gap_{y}_pp", f"met_{y}")]
    table = rates.merge(
        comp[["level", "county_code", *target_cols]], on=["level", "county_code"], how="left", validate="one_to_one"
    )
    for y in years:
        table[f"met_{y}"] = table[f"met_{y}"].map({True: 1, False: 0}).astype("Int8")
    if process_csv is not None:
        by_process = read_erosion_by_process(process_csv)
        check_total_matches_rates(by_process, rates, process_csv)
        table = table.merge(process_fields(by_process), on=["level", "county_code"], how="left", validate="one_to_one")
    if demo:
        table[DATA_STATUS_COLUMN] = DEMO_STATUS
    counties = table[table["level"] == "county"]
    geo_codes, row_codes = set(gdf["county_code"]), set(counties["county_code"])
    if geo_codes != row_codes:
        raise InputError(
            str(county_rates_csv),
            f"counties and table do not match (no polygon: {sorted(row_codes - geo_codes)}; "
            f"no row: {sorted(geo_codes - row_codes)}).",
            "use the boundaries and tables of the same workflow run.",
        )
    crs = named_crs(gdf.crs) if gdf.crs is not None else None
    boundary_cols = [c for c in gdf.columns if c not in table.columns and c != "geometry"]
    merged = gdf[["county_code", *boundary_cols, "geometry"]].merge(counties, on="county_code", how="inner")
    ordered = [
        "county_code",
        "county_name",
        *boundary_cols,
        *[c for c in table.columns if c not in ("county_code", "county_name")],
    ]
    out = gpd.GeoDataFrame(merged[ordered], geometry=merged.geometry.values, crs=crs)
    out["year"] = _year_field(out["year"])
    region_rows = table[table["level"] == "region"]
    region = None
    if len(region_rows):
        geom = gdf.geometry.union_all()
        region = gpd.GeoDataFrame(region_rows.reset_index(drop=True), geometry=[geom] * len(region_rows), crs=crs)
        region["year"] = _year_field(region["year"])
    year = str(table["year"].iloc[0])
    marker = f" [{DEMO_STATUS}]" if demo else ""
    descriptions = {
        COUNTIES_LAYER: f"soil and water conservation rate by county, {year} (swc-raster){marker}",
        REGION_LAYER: f"soil and water conservation rate of the region, {year} (swc-raster){marker}",
    }
    label_field = "county_name_en" if lang == "en" and "county_name_en" in out.columns else "county_name"
    with atomic_outputs(out_gpkg) as (tmp,):
        out.to_file(
            tmp,
            layer=COUNTIES_LAYER,
            driver="GPKG",
            engine="pyogrio",
            layer_options={"DESCRIPTION": descriptions[COUNTIES_LAYER]},
        )
        if region is not None:
            region.to_file(
                tmp,
                layer=REGION_LAYER,
                driver="GPKG",
                engine="pyogrio",
                mode="a",
                layer_options={"DESCRIPTION": descriptions[REGION_LAYER]},
            )
        styles = {
            COUNTIES_LAYER: rate_style_qml(
                out["rate_pct"], label_field=label_field, lang=lang, aliases=field_aliases(out.columns, lang)
            )
        }
        if region is not None:
            styles[REGION_LAYER] = outline_style_qml(aliases=field_aliases(region.columns, lang))
        write_layer_styles(tmp, styles, description=f"swc-raster {year}{marker}")
    return Path(out_gpkg)


def _year_field(values):
    """Integer years when every label is an integer (filterable in QGIS), else text labels."""
    text = values.astype(str)
    return values.astype("int32") if text.str.fullmatch(r"\d+").all() else text


def _rgba(colour) -> str:
    """QGIS colour text "r,g,b,a" of a matplotlib colour."""
    from matplotlib.colors import to_rgba

    return ",".join(str(int(round(255 * v))) for v in to_rgba(colour))


def _fill_symbol(name: str, fill: str, outline: str, width_mm: float, style: str = "solid") -> str:
    options = {
        "color": fill,
        "outline_color": outline,
        "outline_width": f"{width_mm:g}",
        "outline_width_unit": "MM",
        "outline_style": "solid",
        "style": style,
        "joinstyle": "bevel",
    }
    opts = "".join(f'<Option type="QString" name="{k}" value="{v}"/>' for k, v in options.items())
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" pass="0" locked="0" enabled="1"><Option type="Map">{opts}</Option></layer>'
        "</symbol>"
    )


def aliases_qml(aliases: Mapping[str, str] | None) -> str:
    """The ``<aliases>`` element of a QGIS vector style (fields by name; QGIS shows these in tables and forms)."""
    if not aliases:
        return ""
    items = "".join(f"<alias field={quoteattr(f)} name={quoteattr(a)}/>" for f, a in aliases.items())
    return f"<aliases>{items}</aliases>"


def rate_style_qml(rates, *, label_field: str, lang: str = "zh", aliases: Mapping[str, str] | None = None) -> str:
    """QGIS vector style: graduated by ``rate_pct`` with the rate map's classes and colours, labelled.

    Classes are ``maps.classes.nice_breaks`` of the rates and colours the YlGn ramp of the rate map,
    so the layer looks like ``maps/rate.png``; labels: the county name and the rate (2 decimals).
    ``aliases``: display names of fields (:func:`field_aliases`).
    """
    from swc_raster.maps.classes import class_labels, nice_breaks, ramp

    breaks = nice_breaks(pd.to_numeric(pd.Series(rates), errors="coerce").to_numpy(dtype=float))
    colours = ramp("YlGn", len(breaks) - 1)  # as maps.vector.rate_map
    labels = class_labels(breaks)
    ranges, symbols = [], []
    for i, (lo, hi) in enumerate(zip(breaks[:-1], breaks[1:])):
        ranges.append(f'<range lower="{lo:.6f}" upper="{hi:.6f}" symbol="{i}" label="{labels[i]}" render="true"/>')
        symbols.append(_fill_symbol(str(i), _rgba(colours[i]), "77,77,77,255", 0.3))
    expression = f"\"{label_field}\" || '\\n' || format_number(\"rate_pct\", 2) || ' %'"
    return (
        _QML_HEAD + '<qgis version="3.22.16" styleCategories="Symbology|Labeling|Fields">'
        f'<renderer-v2 type="graduatedSymbol" attr="rate_pct" graduatedMethod="GraduatedColor" '
        f'symbollevels="0" enableorderby="0" forceraster="0">'
        f"<ranges>{''.join(ranges)}</ranges><symbols>{''.join(symbols)}</symbols>"
        '<classificationMethod id="Pretty"/>'
        "</renderer-v2>"
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(expression)} isExpression="1" fontSize="9" fontSizeUnit="Point" '
        'fontFamily="Noto Sans CJK SC" textColor="0,0,0,255" multilineAlign="1" textOpacity="1">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
        'bufferOpacity="0.9"/></text-style>'
        '<text-format wrapChar="" multilineAlign="1"/>'
        '<placement placement="1" centroidInside="1" centroidWhole="0" fitInPolygonOnly="0"/>'
        '<rendering obstacle="1" displayAll="0" limitNumLabels="0"/>'
        "</settings></labeling>"
        f"{aliases_qml(aliases)}"
        "<layerGeometryType>2</layerGeometryType>"
        "</qgis>\n"
    )


def outline_style_qml(*, aliases: Mapping[str, str] | None = None) -> str:
    """QGIS vector style for the region layer: no fill, a dark outline (``aliases``: fields' display names)."""
    return (
        _QML_HEAD + '<qgis version="3.22.16" styleCategories="Symbology|Fields">'
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{_fill_symbol('0', '255,255,255,0', '35,35,35,255', 0.8, style='no')}</symbols>"
        f"</renderer-v2>{aliases_qml(aliases)}<layerGeometryType>2</layerGeometryType></qgis>\n"
    )


_LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME DEFAULT CURRENT_TIMESTAMP
)"""


def write_layer_styles(gpkg: str | os.PathLike, styles: dict[str, str], *, description: str = "") -> None:
    """Add QGIS default styles (``{layer: qml}``) to a GeoPackage's ``layer_styles`` table.

    The table has QGIS's own layout and is registered in ``gpkg_contents`` as an attributes
    table (so the file stays a valid GeoPackage); QGIS applies a style with
    ``useAsDefault = 1`` when it opens the layer.
    """
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    con = sqlite3.connect(gpkg)
    try:
        with con:
            geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
            missing = sorted(set(styles) - set(geom_cols))
            if missing:
                raise InputError(str(gpkg), f"has no layer(s) {missing} to style.", "write the layers first.")
            con.execute(_LAYER_STYLES_DDL)
            con.execute(
                "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
                "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles', ?)",
                (now,),
            )
            for layer_name, qml in styles.items():
                con.execute("DELETE FROM layer_styles WHERE f_table_name = ? AND useAsDefault = 1", (layer_name,))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                    "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'swc-raster', '', ?)",
                    (layer_name, geom_cols[layer_name], layer_name, qml, description, now),
                )
    finally:
        con.close()
