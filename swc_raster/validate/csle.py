"""Years whose erosion modulus the CSLE branch computes (a `csle:` block instead of `erosion:`).

Header checks: the block's keys, declared units (SI only), the DEM on a metric projected grid,
the factor table (every legend code present). Data checks: each factor raster covers the
counties and has plausible values for its declared unit (K in US units, FVC in percent
declared as fraction, scaled NDVI, DEM heights not in metres). Unit and table rules come from
:mod:`swc_raster.csle_raster`, which computes the branch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pyproj
from rasterio.windows import Window

from swc_raster.errors import FileProblem, InputError, Problem, UnitError
from swc_raster.validate.boundaries import Counties
from swc_raster.validate.context import Context, Year, check_file, fmt_num, is_number
from swc_raster.validate.coverage import check_coverage
from swc_raster.validate.erosion import MAX_SAMPLE
from swc_raster.validate.landcover import check_landcover_dtype
from swc_raster.validate.tables import legend_codes
from swc_raster.validate.tiles import OpenRaster, TileReader, open_raster, region_window, strided_sample_index


def _region(counties: Counties | None) -> tuple[pyproj.CRS | None, tuple[float, ...] | None]:
    return (None, None) if counties is None else (counties.crs, counties.bounds())


#: Raster keys of a `csle:` block and what their band holds.
_CSLE_WHAT: Final = {
    "dem": "elevations (DEM)",
    "r": "rainfall erosivity R",
    "k": "soil erodibility K",
    "fvc": "fractional vegetation cover",
    "ndvi": "NDVI",
    "e": "engineering factor E",
}
_CSLE_DEFAULT_TABLE: Final = "config/csle_factors.csv"


def is_csle(y: Year) -> bool:
    return y.entry.get("csle") is not None


def _csle_view(y: Year) -> Year:
    """The year with the `csle:` keys flattened (``csle.dem`` …), so that labels read ``years[Y].csle.dem (path)``."""
    c = y.entry.get("csle")
    c = c if isinstance(c, Mapping) else {}
    return Year(y.index, y.label, {f"csle.{k}": v for k, v in c.items()})


def _csle_raster_keys(c: Mapping[str, Any]) -> list[str]:
    """Keys of the block holding raster paths (R and K may be constants)."""
    out = []
    for key in _CSLE_WHAT:
        v = c.get(key)
        if v is None or (isinstance(v, str) and v.strip() == "") or is_number(v) or isinstance(v, bool):
            continue
        out.append(key)
    return out


def csle_header(ctx: Context, y: Year) -> None:
    """Header checks of a year's `csle:` block: keys, units (SI), DEM grid, factor rasters open, factor table."""
    from swc_raster import csle_raster as cr

    c = y.entry.get("csle")
    if not isinstance(c, Mapping):
        ctx.add(
            y.input("csle"),
            f"`csle:` must be a mapping of the CSLE inputs, got {c!r}.",
            "write it as `csle: {dem: …, r: …, r_unit: …, k: …, k_unit: …, fvc: …}` (config/README.md).",
        )
        return
    # Exactly one of `erosion` and `csle`.  A year naming the branch's own output as its erosion
    # (swc_raster.config.CSLE_EROSION) is not a conflict.
    from swc_raster.config import CSLE_EROSION, CSLE_EROSION_UNIT

    er, eu = y.entry.get("erosion"), y.entry.get("erosion_unit")
    if (er not in (None, "") and str(er) != CSLE_EROSION.format(year=y.label)) or (
        eu not in (None, "") and str(eu) != CSLE_EROSION_UNIT and er in (None, "")
    ):
        ctx.add(
            y.input("csle"),
            f"year {y.label} has both a finished erosion raster (`erosion:`/`erosion_unit:`) and a `csle:` block.",
            "keep exactly one: `erosion:` with `erosion_unit:` to use a finished raster, or `csle:` to compute it.",
        )
    v = y.entry.get("landcover")
    if v is None or str(v).strip() == "":
        ctx.add(
            y.input("landcover"),
            f"year {y.label} has no land-cover raster (`landcover:` is missing); "
            "the CSLE branch needs it for B, E and T.",
            "add `landcover: <path to the land-cover raster>` to the year's entry.",
        )
    else:
        r = open_raster(ctx, y, "landcover")
        if r is not None:
            check_landcover_dtype(ctx, r)
            r.close()
    cv = _csle_view(y)

    # Units (declared, known, SI).
    units_ok: dict[str, str | None] = {}
    for key, fn, default in (
        ("dem_unit", cr.normalise_dem_unit, cr.DEM_UNIT),
        ("r_unit", cr.normalise_r_unit, None),
        ("k_unit", cr.normalise_k_unit, None),
        ("fvc_unit", cr.normalise_fvc_unit, "fraction"),
    ):
        try:
            units_ok[key] = fn(c.get(key, default), y.input(f"csle.{key}", c.get(key)))
        except UnitError as exc:
            units_ok[key] = None
            for p in exc.problems:
                ctx.add(p.input, p.problem, p.fix)

    # Required inputs and constants.
    if c.get("dem") in (None, ""):
        ctx.add(
            y.input("csle.dem"),
            "the CSLE block has no DEM (`dem:` is missing).",
            "add `dem: <path to a DEM in metres on a projected metric grid>`.",
        )
    for key, unit_key, name, check in (
        ("r", "r_unit", "R", cr.r_values_problem),
        ("k", "k_unit", "K", cr.k_values_problem),
    ):
        v = c.get(key)
        label = y.input(f"csle.{key}", v)
        if v is None or (isinstance(v, str) and v.strip() == "") or isinstance(v, bool):
            ctx.add(
                label,
                f"the CSLE block has no {name} (`{key}:` is missing).",
                f"set `{key}:` to a raster path or a constant in SI units.",
            )
        elif is_number(v):
            if v < 0:
                ctx.add(label, f"{name} = {v} is negative; a CSLE factor cannot be negative.", f"give {name} ≥ 0.")
            elif units_ok[unit_key] is not None:
                msg = check(float(v), f"{name} = {v}")
                if msg:
                    ctx.unit_problem(label, msg, f"give {name} in {units_ok[unit_key]} (SI) or correct `{unit_key}`.")
    has_fvc = c.get("fvc") not in (None, "")
    has_ndvi = c.get("ndvi") not in (None, "")
    if has_fvc == has_ndvi:
        ctx.add(
            y.input("csle"),
            "give exactly one vegetation input: `fvc:` (fractional vegetation cover) or `ndvi:` "
            + ("(both are set)." if has_fvc else "(neither is set)."),
            "set `fvc:` to a cover raster, or `ndvi:` with the pixel-dichotomy values `ndvi_soil:` and `ndvi_veg:`.",
        )
    if has_ndvi:
        lo, hi = c.get("ndvi_soil", 0.05), c.get("ndvi_veg", 0.85)
        if not (is_number(lo) and is_number(hi) and -1.0 <= lo < hi <= 1.0):
            ctx.add(
                y.input("csle.ndvi_soil"),
                f"ndvi_soil = {lo!r} and ndvi_veg = {hi!r} must be NDVI values with −1 ≤ ndvi_soil < ndvi_veg ≤ 1.",
                "use the NDVI of bare soil and of full cover, e.g. the 5 % and 95 % quantiles (0.05 and 0.85).",
            )
    cap = c.get("lambda_cap_m", 300)
    if not (is_number(cap) and cap > 0):
        ctx.add(
            y.input("csle.lambda_cap_m"),
            f"`lambda_cap_m: {cap!r}` is not a positive length in metres.",
            "use e.g. 300 (the default).",
        )
    for key, allowed in (("s_method", ("csle", "rusle")), ("b_method", ("jiang1996", "cai2000"))):
        if key in c and c[key] not in allowed:
            ctx.add(
                y.input(f"csle.{key}"),
                f"`{key}: {c[key]!r}` is not one of {', '.join(allowed)}.",
                f"use one of {', '.join(allowed)}.",
            )

    # Raster headers; the DEM must be on a metric projected grid.
    for key in _csle_raster_keys(c):
        r = open_raster(ctx, cv, f"csle.{key}", what=_CSLE_WHAT[key])
        if r is None:
            continue
        try:
            if key == "dem" and _georeferenced(r):
                bad = cr.dem_crs_problem(r.ds.crs, c.get("dem"), f"years[{y.label}].csle.dem")
                if bad:
                    ctx.add(cv.input("csle.dem", c.get("dem")), *bad)
                elif r.ds.transform.b != 0 or r.ds.transform.d != 0:
                    ctx.add(
                        cv.input("csle.dem", c.get("dem")),
                        "the DEM grid is rotated; slopes need a north-up grid.",
                        f"warp it to a north-up grid: `gdalwarp {c.get('dem')} dem_northup.tif`.",
                    )
        finally:
            r.close()

    # The factor table: readable, every legend code present.
    rel = c.get("factor_table", _CSLE_DEFAULT_TABLE)
    label = y.input("csle.factor_table", rel)
    path = check_file(ctx, label, rel)
    if path is None:
        return
    try:
        table = cr.read_factor_table(path, label)
    except InputError as exc:
        for p in exc.problems:
            ctx.add(label, p.problem, p.fix, FileProblem if isinstance(exc, OSError) else Problem)
        return
    legend = legend_codes(ctx)
    if legend:
        missing = sorted(legend - table.codes)
        if missing:
            ctx.add(
                label,
                f"land-use code{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} of the legend "
                f"({ctx.cfg.get('landcover_legend') or 'landcover_legend'}) {'are' if len(missing) > 1 else 'is'} missing from the "
                "CSLE factor table, so B, E and T are unknown there.",
                "add a row `code,kind,E,T` for each (kind: " + ", ".join(cr.KINDS) + "; E = T = 1 without measures).",
            )


def _georeferenced(r: OpenRaster) -> bool:
    return r.crs is not None and r.georeferenced


def _scan_values(ctx: Context, r: OpenRaster, win: Window) -> dict[str, Any] | None:
    """Valid-value count, min, max and a strided sample (≤ ~1 M values) over ``win``; ``None`` on a read error."""
    reader = TileReader(ctx, r, win)
    step = max(1, math.ceil(reader.total / MAX_SAMPLE))
    n_valid = n_bad = seen = 0
    vmin, vmax = math.inf, -math.inf
    samples: list[np.ndarray] = []
    for tile in reader:
        assert tile.valid is not None
        finite = np.isfinite(tile.data) if tile.data.dtype.kind == "f" else np.ones(tile.data.shape, dtype=bool)
        good = tile.valid & finite
        n_bad += int(np.count_nonzero(tile.valid & ~finite))
        n = int(np.count_nonzero(good))
        idx = strided_sample_index(seen, tile.data.size, step)
        seen += tile.data.size
        if n == 0:
            continue
        n_valid += n
        v = tile.data[good]
        vmin, vmax = min(vmin, float(v.min())), max(vmax, float(v.max()))
        keep = good.reshape(-1)[idx]
        samples.append(tile.data.reshape(-1)[idx][keep].astype("float64"))
    if reader.failed:
        return None
    sample = np.concatenate(samples) if samples else np.empty(0)
    return {"n": n_valid, "n_bad": n_bad, "min": vmin, "max": vmax, "sample": sample, "total": reader.total}


def csle_data(ctx: Context, y: Year, counties: Counties | None) -> None:
    """Data checks of a CSLE year's factor rasters: coverage, data over the region, values plausible for the unit."""
    c = y.entry.get("csle")
    if not isinstance(c, Mapping):
        return
    cv = _csle_view(y)
    for key in _csle_raster_keys(c):
        rel = c.get(key)
        label = cv.input(f"csle.{key}", rel)
        r = open_raster(ctx, cv, f"csle.{key}", what=_CSLE_WHAT[key])
        if r is None:
            continue
        try:
            consequence = "A cannot be computed where a factor is missing (that land would be a data gap)"
            # E of mapped measures may cover part of the region: the factor table applies elsewhere
            if key != "e" and counties is not None and not check_coverage(ctx, f"csle.{key}", r, counties, consequence):
                continue
            if not r.usable:
                continue
            win = region_window(r, *_region(counties))
            if win.width <= 0 or win.height <= 0:
                continue
            stats = _scan_values(ctx, r, win)
            if stats is not None:
                _csle_values(ctx, key, label, rel, c, stats)
        finally:
            r.close()


def _csle_values(ctx: Context, key: str, label: str, rel: Any, c: Mapping[str, Any], st: Mapping[str, Any]) -> None:
    from swc_raster import csle_raster as cr

    what = _CSLE_WHAT[key]
    if st["n"] == 0:
        ctx.add(
            label,
            f"the raster has no {what} over the counties: all {st['total']} pixels of the region's window are nodata"
            + (" or not finite." if st["n_bad"] else "."),
            "check that this is the right file and that its nodata value is not a real value.",
        )
        return
    if st["n_bad"]:
        ctx.add(
            label,
            f"{st['n_bad']} NaN or infinite value{'s' if st['n_bad'] != 1 else ''} outside the declared nodata.",
            f"declare NaN as nodata (`gdal_edit.py -a_nodata nan {rel}`) or recompute the raster.",
        )
    vmin, vmax = st["min"], st["max"]
    median = float(np.median(st["sample"])) if st["sample"].size else float("nan")
    if key == "dem":
        lo, hi = cr.DEM_PLAUSIBLE_M
        if vmin < lo or vmax > hi:
            ctx.add(
                label,
                f"DEM heights range {fmt_num(vmin)} … {fmt_num(vmax)}, outside {lo:g} … {hi:g} m: not metres "
                "(decimetres? centimetres?) or an undeclared fill value.",
                f"give heights in metres (`dem_unit: m`) and declare the fill value as nodata "
                f"(`gdal_edit.py -a_nodata <value> {rel}`).",
            )
        return
    if vmin < 0 and key in ("r", "k", "fvc", "e"):
        ctx.add(
            label,
            f"negative values (minimum {fmt_num(vmin)}); {what} cannot be negative.",
            f"recompute the raster, or if {fmt_num(vmin)} marks missing data declare it: "
            f"`gdal_edit.py -a_nodata {fmt_num(vmin)} {rel}`.",
        )
        return
    if key in ("r", "k"):
        unit_key = f"{key}_unit"
        try:
            unit = (cr.normalise_r_unit if key == "r" else cr.normalise_k_unit)(c.get(unit_key))
        except UnitError:
            return  # reported by the header checks
        msg = (cr.r_values_problem if key == "r" else cr.k_values_problem)(median, "the raster")
        if msg:
            conv = (
                f"if it is in US customary units, convert it (K_SI = {cr.K_US_TO_SI} × K_US)"
                if key == "k"
                else f"if it is in US customary units, convert it (R_SI = {cr.R_US_TO_SI} × R_US)"
            )
            ctx.unit_problem(
                label,
                msg.removeprefix("the raster: "),
                f"{conv}; `{unit_key}` must describe the values ({unit}); if they really are this "
                "low/high, set `validation.unit_check: warn`.",
            )
    elif key == "fvc":
        try:
            unit = cr.normalise_fvc_unit(c.get("fvc_unit", "fraction"))
        except UnitError:
            return
        if unit == "fraction" and vmax > 1.0 + 1e-3:
            ctx.unit_problem(
                label,
                f"vegetation cover is declared as a fraction (0–1) but reaches {fmt_num(vmax)} "
                f"(median {fmt_num(median)}): it looks like percent.",
                "set `fvc_unit: percent` (or divide the raster by 100).",
            )
        elif unit == "percent" and vmax <= 1.0:
            ctx.unit_problem(
                label,
                f"vegetation cover is declared in percent (0–100) but never exceeds {fmt_num(vmax)}: "
                "it looks like a fraction (0–1).",
                "set `fvc_unit: fraction`.",
            )
        elif vmax > 100.0 + 1e-3:
            ctx.add(
                label,
                f"vegetation cover reaches {fmt_num(vmax)} %, above 100 %.",
                "check the raster (a scaled integer product? an undeclared fill value?).",
            )
    elif key == "e" and vmax > 1.0 + 1e-6:
        ctx.add(
            label,
            f"E reaches {fmt_num(vmax)}; the engineering factor lies in 0–1 (1 = no measures).",
            f"recompute the raster, or declare its fill value as nodata (`gdal_edit.py -a_nodata <value> {rel}`).",
        )
    elif key == "ndvi" and (vmin < -1.0 - 1e-3 or vmax > 1.0 + 1e-3):
        ctx.unit_problem(
            label,
            f"NDVI ranges {fmt_num(vmin)} … {fmt_num(vmax)}, outside −1 … 1: a scaled product "
            "(MODIS NDVI is stored ×10 000) or an undeclared fill value?",
            f'rescale it (`gdal_calc.py -A {rel} --calc="A*0.0001" --outfile=ndvi.tif`) and declare '
            "the fill value as nodata.",
        )
