"""The cheap stage: file headers and small tables only, run when the workflow is parsed."""

from __future__ import annotations

from collections import Counter

import pyproj

from swc_raster.names import normalise_code
from swc_raster.validate.boundaries import boundary_codes
from swc_raster.validate.context import UNIT_CHECK_MODES, Context, Year, find_year, is_number, years
from swc_raster.validate.csle import csle_header, is_csle
from swc_raster.validate.erosion import erosion_unit
from swc_raster.validate.grades import is_graded
from swc_raster.validate.landcover import check_landcover_dtype
from swc_raster.validate.layers import check_process_labels, check_unit_label
from swc_raster.validate.tables import check_targets, legend_codes, read_targets
from swc_raster.validate.tiles import open_raster
from swc_raster.validate.vector import is_vector, vector_header


def header_checks(ctx: Context, selected: list[str] | None) -> None:
    """Every header check of the config; the per-year ones for ``selected`` years only (``None``: all)."""
    region_code = normalise_code(ctx.section("region").get("code"))
    if not region_code:
        ctx.add(
            "config: region.code",
            "the region's code is not set.",
            'add `region: {code: "140500", name: 晋城市}` (the GB/T 2260 code of the whole region, quoted).',
        )
    validation_settings(ctx)
    boundary = boundary_codes(ctx)
    legend_codes(ctx)
    targets = read_targets(ctx)
    if targets is not None:
        check_targets(ctx, targets[0], targets[1], boundary, region_code)

    configured = years(ctx, report=True)
    counts = Counter(y.label for y in configured if not y.label.startswith("#"))
    for k in sorted(k for k, n in counts.items() if n > 1):
        ctx.add(
            f"config: years[{k}]",
            f"year {k} is configured {counts[k]} times; year labels must be unique (results go to results/{k}/).",
            "keep one entry per year; for a second version of a year use a distinct label (e.g. `2023b`).",
        )
    if selected is not None:
        known = {y.label for y in configured}
        for s in selected:
            if s not in known:
                find_year(ctx, s)
    for y in configured:
        if selected is None or y.label in selected:
            year_header(ctx, y)


def validation_settings(ctx: Context) -> None:
    """The `validation:` thresholds and `analysis.crs` (when given) are usable."""
    v = ctx.section("validation")
    if "min_coverage_pct" in v and not (is_number(v["min_coverage_pct"]) and 0 <= v["min_coverage_pct"] <= 100):
        ctx.add(
            "config: validation.min_coverage_pct",
            f"`min_coverage_pct: {v['min_coverage_pct']!r}` is not a percentage.",
            "set it to a number between 0 and 100 (default 99).",
        )
    if "overlap_tolerance_pct" in v and not (is_number(v["overlap_tolerance_pct"]) and v["overlap_tolerance_pct"] >= 0):
        ctx.add(
            "config: validation.overlap_tolerance_pct",
            f"`overlap_tolerance_pct: {v['overlap_tolerance_pct']!r}` is not a non-negative percentage.",
            "set it to a small number such as 0.1 (the default).",
        )
    if "unit_check" in v and str(v["unit_check"]).strip().lower() not in UNIT_CHECK_MODES:
        ctx.add(
            "config: validation.unit_check",
            f"`unit_check: {v['unit_check']!r}` is not one of {', '.join(UNIT_CHECK_MODES)}.",
            "use `error` (stop on an implausible unit, the default) or `warn`.",
        )
    a = ctx.section("analysis").get("crs")
    if a:
        try:
            pyproj.CRS.from_user_input(a)
        except pyproj.exceptions.CRSError as exc:
            ctx.add(
                "config: analysis.crs",
                f"the analysis CRS cannot be parsed ({exc}).",
                "use an EPSG code or a PROJ string.",
            )


def year_header(ctx: Context, y: Year) -> None:
    """One year: both rasters configured, distinct, open, single-band; unit declared; land cover integer."""
    if is_csle(y):
        csle_header(ctx, y)
        return
    if is_vector(y):
        vector_header(ctx, y)
        return
    for key, what in (("landcover", "land-cover raster"), ("erosion", "erosion-modulus raster")):
        v = y.entry.get(key)
        if v is None or str(v).strip() == "":
            ctx.add(
                y.input(key),
                f"year {y.label} has no {what} (`{key}:` is missing).",
                f"add `{key}: <path to the {what}>` to the year's entry"
                + (
                    " (with `erosion_unit:`), or a `csle:` block to compute it (config/README.md)"
                    if key == "erosion"
                    else ""
                )
                + ", or remove the year.",
            )
    lc, er = y.entry.get("landcover"), y.entry.get("erosion")
    if lc and er and ctx.key(str(lc)) == ctx.key(str(er)):
        ctx.add(
            y.input("erosion", er),
            "the same file is configured as land cover and as erosion.",
            "point `landcover:` and `erosion:` at their own rasters.",
        )
    if not is_graded(y, "erosion"):
        erosion_unit(ctx, y)
    keys = ["landcover", "erosion"]
    if y.entry.get("wind_erosion") is not None:
        keys.append("wind_erosion")
        if not is_graded(y, "wind_erosion"):
            erosion_unit(ctx, y, "wind_erosion")
    for key in keys:
        r = open_raster(ctx, y, key)
        if r is not None:
            if key == "landcover":
                check_landcover_dtype(ctx, r)
            else:  # what the raster says about itself: its process and unit
                check_process_labels(ctx, y, r, key)
                check_unit_label(ctx, y, r, key)
            r.close()
