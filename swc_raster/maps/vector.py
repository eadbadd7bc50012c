"""Maps of county values: the conservation-rate choropleth and the gap to each target.

Each is a plain function ``(table_csv, counties_gpkg, out_png, out_vector, *, year,
lang="zh", demo=False, source_note=None, ...) -> MapOutput`` over files of the output
contract (``docs/architecture.md``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from swc_raster import fonts
from swc_raster.maps.classes import class_labels, classify, nice_breaks, ramp, symmetric_breaks
from swc_raster.maps.labels import label_fontsize, place_labels, unlabelled_note
from swc_raster.maps.layout import MapLayout, legend_patch
from swc_raster.maps.output import MapOutput, check_outputs, finish
from swc_raster.maps.polygons import draw_polygons, outline_width
from swc_raster.maps.readers import check_year, join_table, label_names, read_counties, region_name
from swc_raster.maps.text import cjk_fonts, default_source_note, pick
from swc_raster.tables import format_value, read_county_rates, read_target_comparison, region_row, target_years

#: Fill of a county without a value (hatched as well).
NODATA_FILL = "#D9D9D9"


def rate_map(
    county_rates_csv: str | os.PathLike,
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
) -> MapOutput:
    """County choropleth of ``rate_pct`` in round 5-pp classes, labelled with name and value."""
    out_png, out_vector = check_outputs(out_png, out_vector, lang)
    rates = read_county_rates(county_rates_csv)
    check_year(rates, year, county_rates_csv)
    gdf = join_table(
        read_counties(counties_gpkg, layer=layer, code_field=code_field), rates, counties_gpkg, county_rates_csv
    )
    fonts.check_drawable(gdf["county_name"], f"county_name in {Path(county_rates_csv).name}")
    names = label_names(gdf, lang)
    fonts.check_drawable(names, f"county names in {Path(counties_gpkg).name}")
    region = region_name(rates)
    reg = region_row(rates)

    breaks = nice_breaks(gdf["rate_pct"])
    classes = classify(gdf["rate_pct"], breaks)
    colours = ramp("YlGn", len(breaks) - 1)
    facecolors = [colours[c] if c >= 0 else NODATA_FILL for c in classes]
    with cjk_fonts():
        layout = MapLayout(gdf.total_bounds, demo=demo)
        ax = layout.axes[0]
        n = len(gdf)
        draw_polygons(
            ax,
            gdf.geometry,
            facecolors,
            linewidth=outline_width(n),
            hatches=[None if c >= 0 else "xx" for c in classes],
        )
        fs = label_fontsize(n)
        values = [format_value(v, "pct") + "%" for v in gdf["rate_pct"]]
        labelled, unlabelled = place_labels(
            ax,
            layout,
            gdf.geometry,
            [f"{nm}\n{v}" for nm, v in zip(names, values)],
            names,
            fontsize=fs,
            min_lines=values,
        )
        handles = [legend_patch(colours[i], lab) for i, lab in reversed(list(enumerate(class_labels(breaks))))]
        if (classes < 0).any():
            handles.append(legend_patch(NODATA_FILL, pick(lang, "无数据", "no data"), hatch="xx"))
        layout.column(gdf.crs, handles, pick(lang, "水土保持率 (%)", "Conservation rate (%)"))
        region_text = ""
        if reg is not None:
            region_text = pick(
                lang,
                f"{region}水土保持率 {format_value(reg['rate_pct'], 'pct')}%（按面积加权）",
                f"{region}: {format_value(reg['rate_pct'], 'pct')}% (area-weighted)",
            )
        layout.title(
            title
            or pick(
                lang,
                f"{region}各县（市、区）水土保持率（{year}年）",
                f"Soil and water conservation rate by county, {region}, {year}",
            ),
            region_text,
        )
        layout.banner()
        layout.note(
            source_note
            or default_source_note(
                lang, year, "土地利用与土壤侵蚀栅格", "land cover and soil erosion rasters", gdf.crs
            ),
            unlabelled_note(lang, unlabelled),
        )
        return finish(
            layout, out_png, out_vector, MapOutput(out_png, out_vector, labelled=labelled, unlabelled=unlabelled)
        )


def target_gap_map(
    target_comparison_csv: str | os.PathLike,
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
) -> MapOutput:
    """One panel per target year (2025, 2035): gap = rate − target in pp, diverging colours
    centred on 0 (red below target, blue above), counties that miss the target hatched and
    marked ×, counties that meet it marked ✓."""
    out_png, out_vector = check_outputs(out_png, out_vector, lang)
    comp = read_target_comparison(target_comparison_csv)
    check_year(comp, year, target_comparison_csv)
    years = target_years(comp)
    gdf = join_table(
        read_counties(counties_gpkg, layer=layer, code_field=code_field), comp, counties_gpkg, target_comparison_csv
    )
    fonts.check_drawable(gdf["county_name"], f"county_name in {Path(target_comparison_csv).name}")
    names = label_names(gdf, lang)
    fonts.check_drawable(names, f"county names in {Path(counties_gpkg).name}")
    region = region_name(comp)
    reg = region_row(comp)

    breaks = symmetric_breaks(np.concatenate([gdf[f"gap_{y}_pp"].to_numpy(dtype=float) for y in years]))
    k = (len(breaks) - 1) // 2
    neg = ramp("RdBu", k, 0.06, 0.40)
    pos = ramp("RdBu", k, 0.60, 0.94)
    colours = neg + pos
    with cjk_fonts():
        layout = MapLayout(gdf.total_bounds, n_panels=len(years), demo=demo, panel_titles=True, legend_in=2.1)
        n = len(gdf)
        fs = label_fontsize(n) - (1 if n <= 40 else 0.5)
        unlabelled_all: set[str] = set()  # a county missing its label in any panel
        for ax, y in zip(layout.axes, years):
            gaps = gdf[f"gap_{y}_pp"].to_numpy(dtype=float)
            met = [m is True or m == 1 for m in gdf[f"met_{y}"]]
            cls = classify(gaps, breaks)
            facecolors = [colours[c] if c >= 0 else NODATA_FILL for c in cls]
            draw_polygons(
                ax, gdf.geometry, facecolors, linewidth=outline_width(n), hatches=[None if m else "////" for m in met]
            )
            marks = ["✓" if m else "×" for m in met]
            full = [f"{nm}\n{format_value(g, 'gap')} {mk}" for nm, g, mk in zip(names, gaps, marks)]
            _, unlabelled = place_labels(
                ax,
                layout,
                gdf.geometry,
                full,
                names,
                fontsize=fs,
                min_lines=[(f"{format_value(g, 'gap')} {mk}", mk) for g, mk in zip(gaps, marks)],
            )
            unlabelled_all.update(unlabelled)
            n_met = sum(met)
            sub = pick(
                lang,
                f"对照{y}年目标：{n} 个县中 {n_met} 个达标",
                f"Against the {y} target: {n_met} of {n} counties met",
            )
            if reg is not None:
                rg = reg[f"gap_{y}_pp"]
                sub += pick(
                    lang,
                    f"\n{region} {format_value(rg, 'gap')} 百分点（{'达标' if rg >= 0 else '未达标'}）",
                    f"\n{region}: {format_value(rg, 'gap')} pp ({'met' if rg >= 0 else 'not met'})",
                )
            ax.set_title(sub, fontsize=9, pad=4)
        handles = [
            legend_patch(colours[i], lab) for i, lab in reversed(list(enumerate(class_labels(breaks, signed=True))))
        ]
        handles.append(legend_patch("white", pick(lang, "✓ 达标（差距 ≥ 0）", "✓ met (gap ≥ 0)")))
        handles.append(legend_patch("white", pick(lang, "× 未达标（斜线）", "× not met (hatched)"), hatch="////"))
        layout.column(
            gdf.crs,
            handles,
            pick(lang, "与目标差距（百分点）\n= 水土保持率 − 目标", "Gap to target (pp)\n= rate − target"),
        )
        layout.title(
            title
            or pick(
                lang,
                f"{region}各县（市、区）水土保持率与目标差距（{year}年）",
                f"Conservation rate against targets, {region}, {year}",
            )
        )
        layout.banner()
        layout.note(
            source_note
            or default_source_note(lang, year, "水土保持率与规划目标", "conservation rates and plan targets", gdf.crs),
            unlabelled_note(lang, [nm for nm in names if nm in unlabelled_all]),
        )
        return finish(
            layout,
            out_png,
            out_vector,
            MapOutput(
                out_png,
                out_vector,
                labelled=[nm for nm in names if nm not in unlabelled_all],
                unlabelled=[nm for nm in names if nm in unlabelled_all],
            ),
        )
