"""The erosion-modulus raster's values: finite, non-negative, nodata declared, unit plausible.

One pass over the region's tiles counts NaN, infinite, negative and fill-like values and keeps a
strided sample (≤ about :data:`MAX_SAMPLE` cells, zeros included) for the unit check of
:func:`swc_raster.units.unit_doubt`, which judges the whole distribution the declared unit implies.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from rasterio.windows import Window

from swc_raster import units
from swc_raster.cellarea import cell_areas_km2
from swc_raster.erosion_layers import graded_look
from swc_raster.errors import UnitError
from swc_raster.validate.context import Context, Year, fmt_num
from swc_raster.validate.tiles import OpenRaster, TileReader, nodata_declared, strided_sample_index

#: At most about this many erosion values are kept for the unit plausibility check (the top 0.1 %
#: the check looks at is then still ≥ 250 values).
MAX_SAMPLE: Final = 250_000
#: Values that are almost always fill values when they appear without a nodata tag.
FILL_VALUES: Final = (-9999.0, -99999.0, -999999.0, -999.0, -32768.0, -32767.0)
BIG_FILL: Final = 1e30  # |v| ≥ this: ±3.4e38 (float32 max) and friends


def erosion_unit(ctx: Context, y: Year, key: str = "erosion") -> str | None:
    """The declared unit of the year's raster ``key`` (``erosion`` or ``wind_erosion``), normalised; a
    problem when missing or unknown."""
    try:
        return units.normalise_unit(y.entry.get(f"{key}_unit"), y.input(key, y.entry.get(key)))
    except UnitError as exc:
        ctx.problems.extend(exc.problems)
        return None


def fill_like(v: np.ndarray) -> np.ndarray:
    """Cells of ``v`` that look like an undeclared fill value (-9999…, float ±3.4e38, 16/32-bit type limits)."""
    if v.dtype.kind == "f":
        m = np.isin(v, np.asarray(FILL_VALUES, dtype=v.dtype))
        with np.errstate(invalid="ignore"):
            m |= np.isfinite(v) & (np.abs(v) >= BIG_FILL)
        return m
    info = np.iinfo(v.dtype)
    candidates = [c for c in FILL_VALUES if info.min <= c <= info.max]
    if v.dtype.itemsize >= 2:
        candidates += [info.max] + ([info.min] if info.min < 0 else [])
    if not candidates:
        return np.zeros(v.shape, dtype=bool)
    return np.isin(v, np.asarray(candidates, dtype=v.dtype))


@dataclass
class ErosionScan:
    """What a pass over erosion values found (the stand-alone scan here, or the counting pass's
    :class:`swc_raster.value_checks.ValueFindings`)."""

    n_valid: int = 0
    n_nan: int = 0
    n_inf: int = 0
    n_neg: int = 0
    min_neg: float = 0.0
    fills: Counter[float] | dict[float, int] = field(default_factory=Counter)
    raw: list[np.ndarray] = field(default_factory=list)  # sampled values as stored (valid, finite, ≥ 0)
    area: list[np.ndarray] = field(default_factory=list)  # their cells' areas (km²; the tile's centre cell's)


def scan_erosion(ctx: Context, y: Year, r: OpenRaster, win: Window, unit: str | None, key: str = "erosion") -> None:
    """Check the erosion values over ``win``; add problems (and a unit warning with ``unit_check: warn``).

    ``key`` is the raster's config key (``erosion`` or ``wind_erosion``), for the messages.
    """
    reader = TileReader(ctx, r, win)
    step = max(1, math.ceil(reader.total / MAX_SAMPLE))
    with_area = r.crs is not None and r.georeferenced
    s = _scan_tiles(reader, r, step, with_area)
    if reader.failed:
        return
    nodata = r.ds.nodatavals[r.band - 1]
    raw = np.concatenate(s.raw) if s.raw else np.zeros(0)
    area = (np.concatenate(s.area) if s.area else np.zeros(0)) if with_area else None
    report_erosion_values(
        ctx, y, r.label, r.rel, nodata, s, reader.total, "of the region's window", unit, raw, area, key
    )


def report_erosion_values(
    ctx: Context,
    y: Year,
    label: str,
    rel: object,
    nodata: float | None,
    s: ErosionScan,
    total: int,
    where: str,
    unit: str | None,
    raw: np.ndarray,
    area: np.ndarray | None,
    key: str = "erosion",
) -> None:
    """The problems (and unit warning) of erosion values found by a scan of ``total`` cells ``where``.

    ``raw`` is the unit sample (values as stored, valid, finite, ≥ 0), ``area`` each one's cell area
    (km²; ``None`` when the raster's cells have no known area, which leaves t/pixel/a unchecked).
    ``key`` is the raster's config key (``erosion`` or ``wind_erosion``), for the messages.
    """
    _report_values(ctx, label, rel, nodata, s)
    if s.n_valid == 0 and not s.n_nan and not s.n_inf and not s.fills:
        ctx.add(
            label,
            f"the raster has no data over the counties: all {total} pixels {where} are nodata.",
            "check that this is the right file (or year) and that its nodata value is not a real value; "
            "export it again with data for the region.",
        )
        return
    if unit is None or not raw.size or (unit == units.T_PIXEL and area is None):
        return
    graded = graded_look(raw)
    if graded is not None:
        ctx.unit_problem(label, f"declared as a modulus in {unit}, but {graded}.", graded_fix(y, key))
        return
    doubt = units.unit_doubt(raw, unit, area)
    if doubt is not None:
        likely = f" to {doubt.likely_units[0]}" if doubt.likely_units else ""
        fix = (
            f"check the raster's unit (its metadata or the producing software: InVEST SDR `usle.tif` is "
            f"t/pixel/yr up to 3.14, t/ha/yr from 3.15) and set `years[{y.label}].{key}_unit`{likely} "
            "(one of " + ", ".join(units.UNITS) + "); if the values really are this low/high, set "
            "`validation.unit_check: warn`."
        )
        ctx.unit_problem(label, doubt.message(), fix)


def _scan_tiles(reader: TileReader, r: OpenRaster, step: int, with_area: bool) -> ErosionScan:
    ds, band = r.ds, r.band
    declared = nodata_declared(ds, band)
    s = ErosionScan()
    seen = 0
    for tile in reader:
        data, valid = tile.data, tile.valid
        assert valid is not None
        if not declared:
            fill = valid & fill_like(data)
            if fill.any():
                vals, counts = np.unique(data[fill], return_counts=True)
                s.fills.update(dict(zip(vals.astype("float64").tolist(), counts.tolist())))
                valid &= ~fill
        if data.dtype.kind == "f":
            finite = np.isfinite(data)
            bad = valid & ~finite
            if bad.any():
                nan = int(np.isnan(data[bad]).sum())
                s.n_nan += nan
                s.n_inf += int(bad.sum()) - nan
            good = valid & finite
        else:
            good = valid
        s.n_valid += int(np.count_nonzero(good))
        with np.errstate(invalid="ignore"):
            neg = good & (data < 0)
        if neg.any():
            s.n_neg += int(np.count_nonzero(neg))
            s.min_neg = min(s.min_neg, float(data[neg].min()))
        idx = strided_sample_index(seen, data.size, step)
        seen += data.size
        flat, ok = data.reshape(-1)[idx], good.reshape(-1)[idx]
        with np.errstate(invalid="ignore"):
            ok &= flat >= 0
        if ok.any():
            s.raw.append(flat[ok].astype("float64"))
            if with_area:
                # one area per tile: a plausibility check with thresholds ×100 apart needs no exact cell areas
                # (alignment converts t/pixel with each cell's own area); exact ones cost PROJ a call per sample
                w = tile.window
                centre = cell_areas_km2(ds, np.array([w.row_off + w.height // 2]), np.array([w.col_off + w.width // 2]))
                s.area.append(np.full(int(ok.sum()), float(centre[0])))
    return s


def _report_values(ctx: Context, label: str, rel: object, nodata: float | None, s: ErosionScan) -> None:
    if s.fills:
        first = max(s.fills, key=lambda k: s.fills[k])
        desc = ", ".join(f"{fmt_num(k)} ({n} pixels)" for k, n in sorted(s.fills.items(), key=lambda kv: -kv[1])[:5])
        ctx.add(
            label,
            f"no nodata value is declared, but the raster contains fill-like values: {desc}; "
            "they would be read as real erosion moduli.",
            "if these are fill values, declare the fill value as nodata: "
            f"`gdal_edit.py -a_nodata {fmt_num(first)} {rel}` (or re-export with a nodata value).",
        )
    if s.n_nan or s.n_inf:
        parts = [f"{s.n_nan} NaN" if s.n_nan else "", f"{s.n_inf} infinite" if s.n_inf else ""]
        ctx.add(
            label,
            f"{' and '.join(p for p in parts if p)} value{'s' if s.n_nan + s.n_inf != 1 else ''} "
            f"outside the declared nodata ({'none declared' if nodata is None else fmt_num(nodata)}); "
            "erosion moduli must be finite numbers.",
            (
                f"if NaN marks missing data, declare it: `gdal_edit.py -a_nodata nan {rel}`; otherwise "
                if s.n_nan
                else ""
            )
            + "recompute the raster (NaN and infinite values come from a division by zero, an overflow or "
            "missing inputs).",
        )
    if s.n_neg:
        ctx.add(
            label,
            f"{s.n_neg} pixel{'s' if s.n_neg != 1 else ''} with negative erosion modulus "
            f"(minimum {fmt_num(s.min_neg)}); "
            "a soil-loss rate cannot be negative.",
            f"recompute the raster (a negative factor?), or if {fmt_num(s.min_neg)} marks missing data, "
            f"declare it as nodata: `gdal_edit.py -a_nodata {fmt_num(s.min_neg)} {rel}` "
            "(or re-export with a nodata value).",
        )


def graded_fix(y: Year, key: str) -> str:
    """How to declare a grade raster given with a unit."""
    return (
        f"replace `{key}_unit:` with `{key}_grades:` for years[{y.label}] (e.g. `{key}_grades: {{}}` "
        "when codes 1–6 are 微度…剧烈; list other codes under their grade names and `nodata:`)."
    )
