"""Maps of a categorical raster under the county outlines: erosion grades and land cover.

Both are drawn by one skeleton, :func:`draw_raster_map`: read the raster at the resolution
the printed map needs (:data:`~swc_raster.maps.output.PRINT_PPI` pixels per inch, mode
resampling of a finer raster, never more than the source has), colour its codes, draw the
county outlines and names, legend, title and note.  A map differs from the other only in
how codes become colours and legend entries (its ``paint`` function) and in its words.

Memory: the raster is read once at print resolution — for a 6-inch map about
1 800 × 2 200 cells, a few MB whatever the size of the source (GDAL reads internal
overviews when the file has them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from swc_raster import fonts, grading
from swc_raster.errors import InputError
from swc_raster.maps.labels import label_fontsize, place_labels, unlabelled_note
from swc_raster.maps.layout import MapLayout, legend_patch
from swc_raster.maps.output import PRINT_PPI, MapOutput, check_outputs, finish
from swc_raster.maps.polygons import draw_polygons, outline_width
from swc_raster.maps.readers import (
    counties_for_raster,
    label_names,
    raster_codes,
    raster_header,
    read_legend,
    read_overview,
)
from swc_raster.maps.text import cjk_fonts, default_source_note, pick

#: Fixed land-cover palette by first-level class name (GB/T 21010 style colours).
LANDCOVER_PALETTE = {
    "耕地": "#F3DE6C",
    "园地": "#E39B3C",
    "林地": "#2F7D32",
    "草地": "#A8D672",
    "建设用地": "#D33B3B",
    "交通运输用地": "#6E6E6E",
    "水域及水利设施用地": "#3F8FD2",
    "其他土地": "#CDBB99",
    "cropland": "#F3DE6C",
    "orchard": "#E39B3C",
    "forest": "#2F7D32",
    "grassland": "#A8D672",
    "built-up land": "#D33B3B",
    "transport land": "#6E6E6E",
    "water": "#3F8FD2",
    "other land": "#CDBB99",
}
#: Colours for classes the palette above does not name, chosen by code (stable across years).
FALLBACK_COLOURS = (
    "#8DD3C7",
    "#BEBADA",
    "#FB8072",
    "#80B1D3",
    "#FDB462",
    "#B3DE69",
    "#FCCDE5",
    "#BC80BD",
    "#CCEBC5",
    "#FFED6F",
    "#1B9E77",
    "#D95F02",
    "#7570B3",
    "#E7298A",
)
UNCLASSIFIED_COLOUR = "#E4E4E4"
#: SL 190-2007 modulus range of each grade, t/(km²·a), for the legend (T: the county's allowable loss).
GRADE_RANGES = {1: "< T", 2: "T – 2 500", 3: "2 500 – 5 000", 4: "5 000 – 8 000", 5: "8 000 – 15 000", 6: "≥ 15 000"}

#: ``paint(codes, transform, nodata, counties) -> (rgba, legend handles)``: colours of a
#: raster read at map resolution, and the legend entries for what it shows.
Paint = Callable[[np.ndarray, object, float | None, object], tuple[np.ndarray, list]]


@dataclass(frozen=True)
class RasterMapWords:
    """The words of a raster map (already in the map's language)."""

    title: str
    legend_title: str
    #: What the raster is, (zh, en), for the default source note.
    source_what: tuple[str, str]
    subtitle: str | None = None


def image_extent(array: np.ndarray, transform) -> tuple[float, float, float, float]:
    """``(left, right, bottom, top)`` of a north-up raster, for ``imshow(extent=...)``."""
    h, w = array.shape
    left, top = transform.c, transform.f
    return (left, left + transform.a * w, top + transform.e * h, top)


def hex_rgba(colour) -> tuple[int, int, int, int]:
    """8-bit RGBA of a matplotlib colour."""
    from matplotlib.colors import to_rgba

    return tuple(round(c * 255) for c in to_rgba(colour))


def draw_raster_map(
    raster_tif: str | os.PathLike,
    counties_gpkg: str | os.PathLike,
    out_png: Path,
    out_vector: Path,
    *,
    paint: Paint,
    words: RasterMapWords,
    year,
    lang: str,
    demo: bool,
    source_note: str | None,
    layer: str | None,
    code_field: str,
    legend_in: float,
    max_size: int | None = None,
) -> MapOutput:
    """The raster-map skeleton: raster at print resolution, county outlines and names, legend, words.

    ``max_size`` caps the pixels read on the raster's long side (default: as many as
    :data:`PRINT_PPI` at print size needs).
    """
    crs, bounds = raster_header(raster_tif)
    gdf = counties_for_raster(counties_gpkg, crs, layer, code_field)
    names = label_names(gdf, lang)
    fonts.check_drawable(names, f"county names in {Path(counties_gpkg).name}")
    with cjk_fonts():
        layout = MapLayout(gdf.total_bounds, demo=demo, legend_in=legend_in)
        size = layout.pixels_for(bounds, PRINT_PPI)
        array, transform, _, nodata = read_overview(raster_tif, size if max_size is None else min(size, max_size))
        rgba, handles = paint(array, transform, nodata, gdf)
        ax = layout.axes[0]
        ax.imshow(rgba, extent=image_extent(array, transform), interpolation="nearest", zorder=1)
        n = len(gdf)
        draw_polygons(ax, gdf.geometry, ["none"] * n, edgecolor="#1A1A1A", linewidth=outline_width(n) + 0.2, zorder=3)
        labelled, unlabelled = place_labels(ax, layout, gdf.geometry, names, names, fontsize=label_fontsize(n))
        layout.column(gdf.crs, handles, words.legend_title)
        layout.title(words.title, words.subtitle)
        layout.banner()
        layout.note(
            source_note or default_source_note(lang, year, *words.source_what, gdf.crs),
            unlabelled_note(lang, unlabelled),
        )
        width_in = (bounds[2] - bounds[0]) * layout.points_per_metre() / 72.0
        result = MapOutput(
            out_png, out_vector, labelled=labelled, unlabelled=unlabelled, raster_ppi=array.shape[1] / width_in
        )
        return finish(layout, out_png, out_vector, result)


def grade_map(
    grade_tif: str | os.PathLike,
    counties_gpkg: str | os.PathLike,
    out_png: str | os.PathLike,
    out_vector: str | os.PathLike,
    *,
    year,
    lang: str = "zh",
    demo: bool = False,
    source_note: str | None = None,
    layer: str | None = None,
    code_field: str = "county_code",
    title: str | None = None,
    region_name: str = "",
    max_size: int | None = None,
) -> MapOutput:
    """SL 190 erosion grades in their conventional colours, county outlines and names.

    The raster is read at print resolution (see :func:`draw_raster_map`); no-data grades
    0 and 7 show in greys and are listed in the legend when they appear on the map.
    """
    out_png, out_vector = check_outputs(out_png, out_vector, lang)
    grade_names = grading.GRADE_NAMES_ZH if lang == "zh" else grading.GRADE_NAMES_EN

    def paint(array, _transform, _nodata, _counties):
        unknown = sorted(set(np.unique(array).tolist()) - set(grading.ALL_CODES) - {grading.OUTSIDE})
        if unknown:
            raise InputError(
                str(grade_tif),
                f"grade codes {unknown} are not SL 190 grade codes (0–7, 255).",
                "pass erosion_grade.tif written by the grade step.",
            )
        lut = np.zeros((256, 4), dtype="uint8")  # 255 (outside the region) stays transparent
        for code, rgb in grading.GRADE_COLOURS.items():
            lut[code] = (*rgb, 255)
        colour = {g: np.array(grading.GRADE_COLOURS[g]) / 255 for g in grading.GRADE_COLOURS}
        handles = [legend_patch(colour[g], f"{grade_names[g]}  {GRADE_RANGES[g]}") for g in range(1, 7)]
        present = set(np.unique(array).tolist())
        handles += [
            legend_patch(colour[g], grade_names[g]) for g in (grading.NODATA_GRADE, grading.GAP_GRADE) if g in present
        ]
        return lut[array], handles

    place = region_name + ", " if region_name else ""
    words = RasterMapWords(
        title=title
        or pick(lang, f"{region_name}土壤侵蚀强度分级图（{year}年）", f"Soil erosion intensity grades, {place}{year}"),
        subtitle=pick(
            lang, "微度不计入水土流失；水土流失 = 轻度至剧烈", "Slight is not erosion; erosion = light to severe"
        ),
        legend_title=pick(
            lang,
            "土壤侵蚀强度（SL 190-2007）\n侵蚀模数 t/(km²·a)",
            "Erosion intensity (SL 190-2007)\nmodulus t/(km²·a)",
        ),
        source_what=("土壤侵蚀模数栅格（按 SL 190-2007 分级）", "soil erosion modulus raster graded by SL 190-2007"),
    )
    return draw_raster_map(
        grade_tif,
        counties_gpkg,
        out_png,
        out_vector,
        paint=paint,
        words=words,
        year=year,
        lang=lang,
        demo=demo,
        source_note=source_note,
        layer=layer,
        code_field=code_field,
        legend_in=2.2,
        max_size=max_size,
    )


def landcover_colours(legend: pd.DataFrame) -> dict[int, str]:
    """Fixed colour per legend code: the ``colour`` column, else the class-name palette, else by code."""
    out = {}
    for _, r in legend.iterrows():
        colour = r.get("colour") if "colour" in legend.columns else None
        if not isinstance(colour, str) or not colour.strip():
            colour = (
                LANDCOVER_PALETTE.get(str(r["name_zh"]).strip())
                or LANDCOVER_PALETTE.get(str(r["name_en"]).strip().lower())
                or FALLBACK_COLOURS[int(r["code"]) % len(FALLBACK_COLOURS)]
            )
        out[int(r["code"])] = colour
    return out


def landcover_map(
    landcover_tif: str | os.PathLike,
    legend_csv: str | os.PathLike,
    counties_gpkg: str | os.PathLike,
    out_png: str | os.PathLike,
    out_vector: str | os.PathLike,
    *,
    year,
    lang: str = "zh",
    demo: bool = False,
    source_note: str | None = None,
    layer: str | None = None,
    code_field: str = "county_code",
    title: str | None = None,
    region_name: str = "",
    max_size: int | None = None,
) -> MapOutput:
    """Land-cover classes with the legend's names and a fixed palette, inside the counties.

    Every code in the raster (full-resolution block scan) must be in the legend, else
    :class:`InputError`.  Code 0 and raster nodata inside the region show as 未分类.
    """
    out_png, out_vector = check_outputs(out_png, out_vector, lang)
    legend = read_legend(legend_csv)
    present = raster_codes(landcover_tif)
    missing = sorted(present - set(legend["code"]) - {0})
    if missing:
        raise InputError(
            str(legend_csv),
            f"land-cover code(s) {missing} occur in {Path(landcover_tif).name} but are not in the legend.",
            "add a row code,name_zh,name_en for each to the legend CSV (config: landcover_legend), "
            "or reclassify the land-cover raster to the legend's codes.",
        )
    name_col = "name_zh" if lang == "zh" else "name_en"
    fonts.check_drawable(legend[name_col].astype(str), f"{name_col} in {Path(legend_csv).name}")
    colours = landcover_colours(legend)
    class_names = dict(zip(legend["code"], legend[name_col].astype(str)))

    def paint(array, transform, nodata, counties):
        from rasterio.features import geometry_mask

        inside = geometry_mask(list(counties.geometry), out_shape=array.shape, transform=transform, invert=True)
        rgba = np.zeros(array.shape + (4,), dtype="uint8")
        unclassified = inside & ((array == 0) | ((array == nodata) if nodata is not None else False))
        handles = []
        for code in legend["code"]:
            sel = inside & (array == code) & ~unclassified
            if sel.any() or code in present:
                rgba[sel] = hex_rgba(colours[code])
                handles.append(legend_patch(colours[code], class_names[code]))
        rgba[unclassified] = hex_rgba(UNCLASSIFIED_COLOUR)
        if unclassified.any():
            handles.append(legend_patch(UNCLASSIFIED_COLOUR, pick(lang, "未分类 / 无数据", "unclassified / no data")))
        return rgba, handles

    place = region_name + ", " if region_name else ""
    words = RasterMapWords(
        title=title or pick(lang, f"{region_name}土地利用现状图（{year}年）", f"Land use, {place}{year}"),
        legend_title=pick(lang, "土地利用类型", "Land use"),
        source_what=("土地利用栅格（对齐至分析格网）", "land-cover raster aligned to the analysis grid"),
    )
    return draw_raster_map(
        landcover_tif,
        counties_gpkg,
        out_png,
        out_vector,
        paint=paint,
        words=words,
        year=year,
        lang=lang,
        demo=demo,
        source_note=source_note,
        layer=layer,
        code_field=code_field,
        legend_in=2.1,
        max_size=max_size,
    )
