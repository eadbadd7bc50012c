"""Raster-level CSLE: one year's erosion modulus A = R·K·L·S·B·E·T from factor rasters.

The optional upstream branch of the workflow (issue 7): when a year's config
gives a ``csle:`` block instead of an ``erosion:`` raster, this module computes
the factors and A and writes them, so the rest of the pipeline grades A like
any other erosion product.

Grid (``docs/decisions/0002-csle-factors.md``, "Raster branch"): everything is
computed on the **DEM's own metric grid**, cropped to the region.  Slope and
slope length are computed where the DEM was produced (no interpolation of
elevations, no second projection's scale error), flow routing sees one
unbroken DEM whatever the batches of the analysis grid are, and A is then
written like a monitoring product in its producer's grid: the existing
``align`` stage puts it on the equal-area analysis grid.

Steps (:func:`compute_year`):

1. DEM window = the region's bounding box + a routing buffer
   (2 · λ cap + 10 cells, so λ of every output cell is unaffected by the
   window's edge); L·S by the census method (:mod:`swc_raster.slope_length`):
   slope θ (Horn, from the available neighbours: every valid cell gets one),
   D8 routing on the depression-filled DEM (unless ``fill_depressions: false``)
   with flats drained towards lower terrain, cumulative slope length with
   √2 on diagonal steps, the slope-length cutoff rule (``lambda_cutoff``), L
   of each cell's segment, S by the CSLE or RUSLE formulas.
2. Output grid = the DEM grid over the region's bounding box + 5 cells,
   cropped to the factor rasters' common footprint (so land that a factor does
   not cover lies outside A and is graded as a data gap, not as non-eroded).
3. Land use (nearest; mode when coarsening), R, K, FVC or NDVI (bilinear;
   average when coarsening) warped onto the output grid one at a time.
4. B from cover and land-use kind (:func:`csle.biological_factor_B`), E and T
   looked up by land-use code in the factor table — E from an optional raster of
   mapped measures where it has data — R and K raster or constant.
5. A = R·K·LS·B·E·T, t/(ha·a) → t/(km²·a) (×100), multiplied factor by factor.
6. Each factor and A written as a Cloud-Optimized GeoTIFF (float32, nodata
   −9999, DEFLATE, internal overviews), all outputs renamed into place together.
7. ``county_factor_means.csv``: per county and for the region, the
   area-weighted means of R, K, LS, B, E, T and A over the cells where A is
   defined (each cell weighted by its true ground area).

Memory: whole-array processing, one factor at a time (the running product A,
the land use and the current factor), plus the DEM window.  Routing needs the
whole DEM window once (the filled DEM and the direction codes, ≈ 5 bytes a
cell, plus 16 bytes per flat cell); λ and L·S are then computed tile by tile
(``tile_cells``), identical to a whole-window run.  Jincheng at 30 m is
≈ 17 Mpx: ≈ 70 MB per float32 array.  A province at 30 m (≈ 3·10⁸ cells):
see ``benchmarks/csle_province_ls.py`` and the decision record.

Units (declared in the config, checked here and in :mod:`swc_raster.validate`):
R in MJ·mm/(ha·h·a), K in t·ha·h/(ha·MJ·mm) (SI only: US customary values are
refused with the conversion factor), DEM heights in metres on a projected
metric grid, FVC as a fraction or percent, NDVI −1…1.
"""

from __future__ import annotations

import csv
import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Final

import numpy as np
from affine import Affine

from swc_raster import csle, slope_length
from swc_raster.align import COARSEN_RATIO, open_raster
from swc_raster.atomic import atomic_outputs
from swc_raster.errors import CoverageError, CrsError, InputError, InputFileError, InputWarning, UnitError

__all__ = [
    "CsleInputs",
    "FactorTable",
    "compute_year",
    "output_paths",
    "read_factor_table",
    "normalise_r_unit",
    "normalise_k_unit",
    "normalise_dem_unit",
    "normalise_fvc_unit",
    "r_values_problem",
    "k_values_problem",
    "dem_crs_problem",
    "R_UNIT",
    "K_UNIT",
    "DEM_UNIT",
    "FVC_UNITS",
    "KINDS",
    "FACTORS",
    "A_FILE",
    "MEANS_FILE",
    "NODATA",
    "OUTPUT_UNIT",
]

#: Canonical units (as written in the config and in the outputs' tags).
R_UNIT: Final = "MJ·mm/(ha·h·a)"
K_UNIT: Final = "t·ha·h/(ha·MJ·mm)"
DEM_UNIT: Final = "m"
FVC_UNITS: Final = ("fraction", "percent")
#: Unit of the A raster handed to the rest of the pipeline.
OUTPUT_UNIT: Final = "t/km2/a"
NODATA: Final = -9999.0

#: Factor rasters written per year, in this order; A last.
FACTORS: Final = ("R", "K", "LS", "B", "E", "T")
A_FILE: Final = "A_t_km2.tif"
MEANS_FILE: Final = "county_factor_means.csv"

#: Slope-length cutoff rules (``lambda_cutoff``): the census rule, or the cap alone.
LAMBDA_CUTOFFS: Final = ("census", "none")
#: Side of the tiles of the λ/LS pass, cells (the result does not depend on it; memory does).
DEFAULT_TILE_CELLS: Final = 1024

#: Land-use kinds of the factor table (what B does for each: :data:`csle.FIXED_B` or a cover relation).
KINDS: Final = ("cropland", "orchard", "forest", "grassland", "built_up", "transport", "water", "other")

#: US customary → SI conversion factors (Foster et al. 1981): K_SI = 0.1317 · K_US, R_SI = 17.02 · R_US.
K_US_TO_SI: Final = 0.1317
R_US_TO_SI: Final = 17.02
#: Plausible medians of K in SI units.  Measured K of Chinese soils lies within about
#: 0.001–0.07; the largest US-unit K (≈ 0.75) is ≈ 0.1 in SI, so a median above 0.1
#: cannot be an SI K — it is US customary (7.59 × SI) or a scaled integer raster.
K_SI_PLAUSIBLE: Final = (0.0005, 0.1)
#: Plausible medians of R in SI units (China: ≈ 50 in the arid north-west to ≈ 15 000
#: on the south coast).  The US→SI factor 17 lies inside this range, so R can only be
#: checked for gross errors.
R_SI_PLAUSIBLE: Final = (10.0, 30_000.0)
#: Plausible DEM heights, m (Dead Sea shore … Everest with margin).
DEM_PLAUSIBLE_M: Final = (-500.0, 9000.0)

#: Output margin beyond the region's bounding box, cells.
_OUTPUT_MARGIN_CELLS: Final = 5
#: Block size over which one cell area is computed (the areal scale varies smoothly).
_AREA_BLOCK: Final = 64

_DEM_FIX: Final = (
    "reproject it to a projected CRS in metres at its native resolution, e.g. "
    "`gdalwarp -t_srs EPSG:4547 -tr 30 30 -r bilinear {path} dem_4547.tif` (CGCS2000 / 3-degree Gauss-Kruger "
    "CM 114E; use the zone or UTM zone of your region), and point `{key}` at the new file"
)


# --------------------------------------------------------------------------- units


def _unit_key(unit: Any) -> str:
    """A unit spelling reduced to lower case with "." between factors: ``MJ mm ha^-1`` → ``mj.mm.ha-1``."""
    s = str(unit).strip().lower()
    for a, b in (("−", "-"), ("⁻¹", "-1"), ("^-1", "-1"), ("year", "a"), ("yr", "a")):
        s = s.replace(a, b)
    s = re.sub(r"[\s·⋅*×]+", ".", s)
    s = re.sub(r"\.*([/()])\.*", r"\1", s)
    return s.strip(".")


_R_SI_KEYS: Final = {
    "mj.mm/(ha.h.a)",
    "mj.mm.ha-1.h-1.a-1",
    "mj.mm/ha/h/a",
    "mj.mm/(ha.h)/a",
    "si",
}
_K_SI_KEYS: Final = {
    "t.ha.h/(ha.mj.mm)",
    "t.ha.h.ha-1.mj-1.mm-1",
    "t.h/(mj.mm)",
    "t.h.mj-1.mm-1",
    "t.ha.h/(mj.ha.mm)",
    "t.ha.h/(ha.mm.mj)",
    "si",
}
_US_WORDS: Final = ("us", "uscustomary", "english", "imperial", "customary")


def _is_us(key: str) -> bool:
    return (
        key.replace(".", "") in _US_WORDS
        or "ton" in key
        or "acre" in key
        or "ft" in key
        or ".ac" in key
        or "/ac" in key
    )


def _normalise_si_unit(
    unit: Any, input_name: str, symbol: str, quantity: str, canonical: str, si_keys, us_to_si: float, note: str = ""
) -> str:
    """``canonical`` when ``unit`` names it; :class:`UnitError` naming the fix for US customary, unknown or no unit."""
    key_name = f"{symbol.lower()}_unit"
    if unit is None or str(unit).strip() == "":
        raise UnitError(
            input_name,
            f"the unit of the {quantity} {symbol} is not declared.",
            f"add `{key_name}: {canonical}` to the year's `csle:` block (SI units).",
        )
    key = _unit_key(unit)
    if key in si_keys:
        return canonical
    if _is_us(key):
        raise UnitError(
            input_name,
            f"{symbol} is declared in US customary units ({unit!r}); swc-raster takes SI units only.",
            f"convert the raster to {canonical} ({symbol}_SI = {us_to_si} × {symbol}_US{note}, e.g. "
            f'`gdal_calc.py -A {symbol}_us.tif --calc="A*{us_to_si}" --outfile={symbol}_si.tif`) and declare '
            f"`{key_name}: {canonical}`.",
        )
    raise UnitError(
        input_name,
        f"unknown unit of {symbol} {unit!r}.",
        f"declare `{key_name}: {canonical}` (SI) and give {symbol} in it.",
    )


def normalise_r_unit(unit: Any, input_name: str = "csle.r_unit") -> str:
    """The canonical R unit (:data:`R_UNIT`) for a declared unit; :class:`UnitError` otherwise.

    Only SI is accepted.  A declared US customary unit is refused with the conversion
    (R_SI = 17.02 · R_US): the run never guesses a unit.
    """
    return _normalise_si_unit(unit, input_name, "R", "rainfall erosivity", R_UNIT, _R_SI_KEYS, R_US_TO_SI)


def normalise_k_unit(unit: Any, input_name: str = "csle.k_unit") -> str:
    """The canonical K unit (:data:`K_UNIT`) for a declared unit; :class:`UnitError` otherwise (SI only)."""
    return _normalise_si_unit(
        unit, input_name, "K", "soil erodibility", K_UNIT, _K_SI_KEYS, K_US_TO_SI, ", i.e. divide by 7.59"
    )


def normalise_dem_unit(unit: Any, input_name: str = "csle.dem_unit") -> str:
    """``"m"`` for a DEM height unit in metres; :class:`UnitError` for feet or anything else."""
    key = _unit_key(unit if unit is not None else DEM_UNIT)
    if key in ("m", "metre", "meter", "metres", "meters"):
        return DEM_UNIT
    if key in ("ft", "feet", "foot", "us-ft", "usft", "ftus"):
        raise UnitError(
            input_name,
            f"the DEM heights are declared in feet ({unit!r}); slopes need heights in metres.",
            'convert the heights to metres (`gdal_calc.py -A dem_ft.tif --calc="A*0.3048" '
            "--outfile=dem_m.tif`) and set `dem_unit: m`.",
        )
    raise UnitError(input_name, f"unknown DEM height unit {unit!r}.", "give the DEM heights in metres, `dem_unit: m`.")


def normalise_fvc_unit(unit: Any, input_name: str = "csle.fvc_unit") -> str:
    """``"fraction"`` (0–1) or ``"percent"`` (0–100)."""
    key = _unit_key(unit if unit is not None else "fraction")
    if key in ("fraction", "0-1", "1"):
        return "fraction"
    if key in ("percent", "%", "pct", "0-100"):
        return "percent"
    raise UnitError(
        input_name,
        f"unknown vegetation-cover unit {unit!r}.",
        "set `fvc_unit:` to `fraction` (values 0–1) or `percent` (0–100).",
    )


def k_values_problem(median: float, what: str = "K") -> str | None:
    """Why a median K (declared SI) is implausible, or ``None``."""
    lo, hi = K_SI_PLAUSIBLE
    if not math.isfinite(median):
        return None
    if median > hi:
        us = (
            " — it looks like US customary units (7.59 × the SI value)"
            if median <= 1.0
            else " — a scaled integer raster (e.g. K × 1000) or US customary units?"
        )
        return (
            f"{what}: the median soil erodibility is {median:.4g}, declared in {K_UNIT}; SI values of K lie "
            f"within about 0.001–0.07 and never above {hi}{us}."
        )
    if median < lo:
        return (
            f"{what}: the median soil erodibility is {median:.3g}, declared in {K_UNIT}: far below any soil's "
            f"K (0.001–0.07) — a unit or scale error?"
        )
    return None


def r_values_problem(median: float, what: str = "R") -> str | None:
    """Why a median R (declared SI) is implausible, or ``None``."""
    lo, hi = R_SI_PLAUSIBLE
    if not math.isfinite(median):
        return None
    if median < lo:
        return (
            f"{what}: the median rainfall erosivity is {median:.4g} {R_UNIT}: below any annual R in China "
            f"(≈ 50–15 000) — US customary units (×{R_US_TO_SI} for SI), a monthly or event value, or a scale error?"
        )
    if median > hi:
        return (
            f"{what}: the median rainfall erosivity is {median:.4g} {R_UNIT}: above any annual R "
            "(≈ 50–15 000 in China) — a scaled integer raster or J instead of MJ?"
        )
    return None


def dem_crs_problem(crs: Any, path: Any = "dem.tif", key: str = "csle.dem") -> tuple[str, str] | None:
    """(problem, fix) when a DEM's CRS cannot give slopes in metres, else ``None``.

    Slope and slope length need horizontal coordinates in metres: a geographic CRS
    (degrees) or a projected CRS in feet is refused, with the ``gdalwarp`` command to fix it.
    """
    import pyproj

    if crs is None:
        return (
            "the DEM has no CRS, so its cell size in metres is unknown.",
            f"assign the CRS it was produced in, e.g. `gdal_edit.py -a_srs EPSG:4547 {path}`.",
        )
    try:
        pc = pyproj.CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
    except pyproj.exceptions.CRSError as exc:
        return (
            f"the DEM's CRS cannot be read ({exc}).",
            f"assign a valid CRS: `gdal_edit.py -a_srs EPSG:<code> {path}`.",
        )
    fix = _DEM_FIX.format(path=path, key=key)
    if pc.is_geographic:
        return (
            f"the DEM is in geographic coordinates ({pc.name}, cells in degrees): slope and slope length need "
            "a grid in metres, and swc-raster does not resample elevations silently.",
            fix + ".",
        )
    if not pc.is_projected:
        return (f"the DEM's CRS ({pc.name}) is not a projected CRS in metres.", fix + ".")
    axis = pc.axis_info[0] if pc.axis_info else None
    factor = axis.unit_conversion_factor if axis is not None else 1.0
    if axis is None or not math.isclose(factor or 1.0, 1.0, rel_tol=1e-9):
        name = axis.unit_name if axis is not None else "unknown"
        return (f"the DEM's CRS ({pc.name}) has coordinates in {name}, not metres.", fix + ".")
    return None


# --------------------------------------------------------------------------- factor table


@dataclass(frozen=True)
class FactorTable:
    """Per land-use code: kind (for B), engineering factor E and tillage factor T."""

    path: str
    kinds: Mapping[int, str]
    e: Mapping[int, float]
    t: Mapping[int, float]

    @property
    def codes(self) -> set[int]:
        return set(self.kinds)

    def lut(self, which: str) -> np.ndarray:
        """Look-up array ``value[code]`` (float32, NaN for codes not in the table, code 0 included)."""
        values = self.e if which == "E" else self.t
        out = np.full(max(values, default=0) + 1, np.nan, dtype=np.float32)
        for code, v in values.items():
            out[code] = v
        return out


def read_factor_table(path: str | os.PathLike[str], label: str | None = None) -> FactorTable:
    """Read the CSLE factor table (CSV, UTF-8): ``code, kind, E, T`` (+ any note columns).

    Lines starting with ``#`` are comments (sources, assumptions).

    ``kind`` is one of :data:`KINDS`; ``E`` and ``T`` are numbers in 0–1.  Raises
    :class:`InputError` listing every bad row, or :class:`InputFileError`.
    """
    path = Path(path)
    label = label or f"csle.factor_table ({path})"
    if not path.is_file():
        raise InputFileError(
            label,
            f"the file does not exist (looked for {path.resolve()}).",
            "point `csle.factor_table:` at the CSV (see config/csle_factors.csv).",
        )
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            kept = [(n, line) for n, line in enumerate(fh, start=1) if not line.lstrip().startswith("#")]
            reader = csv.DictReader(line for _, line in kept)
            columns = [(f or "").strip() for f in (reader.fieldnames or [])]
            rows = [
                {c: "" for c in columns} | {(k or "").strip(): v.strip() for k, v in r.items() if isinstance(v, str)}
                for r in reader
            ]
    except UnicodeDecodeError as exc:
        raise InputError(label, "the file is not UTF-8 text.", "save it as CSV UTF-8.") from exc
    need = ("code", "kind", "E", "T")
    missing = [c for c in need if c not in columns]
    if missing:
        raise InputError(
            label,
            f"missing column(s) {', '.join(missing)} (found: {', '.join(columns) or 'none'}).",
            "the header must include `code,kind,E,T` (see config/csle_factors.csv).",
        )
    kinds: dict[int, str] = {}
    e: dict[int, float] = {}
    t: dict[int, float] = {}
    bad: list[str] = []
    for (i, _), r in zip(kept[1:], rows):  # i: the line number in the file (comment lines included)
        try:
            code_f = float(r["code"])
            if not code_f.is_integer() or code_f < 1:
                raise ValueError
            code = int(code_f)
        except ValueError:
            bad.append(f"line {i}: code {r['code']!r} is not a land-use code (integer ≥ 1)")
            continue
        if code in kinds:
            bad.append(f"line {i}: code {code} is listed twice")
            continue
        kind = r["kind"].lower()
        if kind not in KINDS:
            bad.append(f"line {i}: kind {r['kind']!r} is not one of {', '.join(KINDS)}")
        values = {}
        for col in ("E", "T"):
            try:
                v = float(r[col])
                if not (0.0 <= v <= 1.0):
                    raise ValueError
                values[col] = v
            except ValueError:
                bad.append(f"line {i}: {col} = {r[col]!r} is not a factor between 0 and 1")
        if kind in KINDS and len(values) == 2:
            kinds[code], e[code], t[code] = kind, values["E"], values["T"]
    if bad:
        raise InputError(label, "; ".join(bad) + ".", "fix these rows (one row per land-use code: code,kind,E,T).")
    if not kinds:
        raise InputError(label, "the table has no rows.", "add one row per land-use code of the legend.")
    return FactorTable(str(path), kinds, e, t)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CsleInputs:
    """One year's CSLE inputs (the year's ``csle:`` block and its land cover)."""

    landcover: str
    dem: str
    r: str | float
    k: str | float
    r_unit: str | None = R_UNIT
    k_unit: str | None = K_UNIT
    dem_unit: str = DEM_UNIT
    fvc: str | None = None
    fvc_unit: str = "fraction"
    e: str | None = None
    ndvi: str | None = None
    ndvi_soil: float = 0.05
    ndvi_veg: float = 0.85
    factor_table: str = "config/csle_factors.csv"
    lambda_cap_m: float = csle.DEFAULT_LAMBDA_CAP_M
    lambda_cutoff: str = "census"
    cutoff_ratio_gentle: float = slope_length.CENSUS_CUTOFF.ratio_gentle
    cutoff_ratio_steep: float = slope_length.CENSUS_CUTOFF.ratio_steep
    channel_area_m2: float | None = None
    s_method: str = "csle"
    b_method: str = "jiang1996"
    fill_depressions: bool = True
    label: str = "csle"

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], label: str | None = None) -> CsleInputs:
        """From a config ``years:`` entry with a ``csle:`` block (defaults as in the schema)."""
        c = dict(entry.get("csle") or {})
        year = entry.get("year")
        keys = {f.name for f in fields(cls)} - {"landcover", "label"}
        kwargs = {k: c[k] for k in keys if k in c and c[k] is not None}
        # units are declared, never defaulted: a missing one reaches normalise_*_unit as None
        kwargs |= {k: c.get(k) for k in ("r_unit", "k_unit")}
        return cls(landcover=str(entry["landcover"]), label=label or f"years[{year}].csle", **kwargs)

    def key(self, name: str) -> str:
        return f"{self.label}.{name}"

    def cutoff_rule(self) -> slope_length.CutoffRule:
        """The slope-length cutoff rule of ``lambda_cutoff`` and its parameters (:class:`InputError` if invalid)."""
        if self.lambda_cutoff not in LAMBDA_CUTOFFS:
            raise InputError(
                self.key("lambda_cutoff"),
                f"{self.lambda_cutoff!r} is not a cutoff rule.",
                f"use one of {', '.join(LAMBDA_CUTOFFS)} (census: end slopes where the slope angle "
                "drops sharply, and at channels if `channel_area_m2` is set).",
            )
        if self.lambda_cutoff == "none":
            if self.channel_area_m2 is not None:
                raise InputError(
                    self.key("channel_area_m2"),
                    "a channel threshold is set but `lambda_cutoff: none` switches every cutoff off.",
                    "use `lambda_cutoff: census`, or remove channel_area_m2.",
                )
            return slope_length.NO_CUTOFF
        for name in ("cutoff_ratio_gentle", "cutoff_ratio_steep"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise InputError(
                    self.key(name),
                    f"{v!r} is not a ratio between 0 and 1.",
                    "use the census values 0.7 (below a 5 % slope) and 0.5 (steeper).",
                )
        area = self.channel_area_m2
        if area is not None and not (isinstance(area, (int, float)) and area > 0):
            raise InputError(
                self.key("channel_area_m2"),
                f"{area!r} is not a positive area in m².",
                "give the upstream area at which channels begin, e.g. 100000 (0.1 km²), or remove the key.",
            )
        return slope_length.CutoffRule(
            ratio_gentle=float(self.cutoff_ratio_gentle),
            ratio_steep=float(self.cutoff_ratio_steep),
            channel_area_m2=None if area is None else float(area),
        )


def _is_path(v: Any) -> bool:
    return isinstance(v, (str, os.PathLike)) and not _is_number_text(v)


def _is_number_text(v: Any) -> bool:
    try:
        float(str(v))
        return True
    except ValueError:
        return False


def output_paths(out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """The branch's output files in ``out_dir``: one per factor, ``A`` and ``means``."""
    d = Path(out_dir)
    return {**{f: d / f"{f}.tif" for f in FACTORS}, "A": d / A_FILE, "means": d / MEANS_FILE}


# --------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class _Grid:
    crs: Any  # rasterio CRS
    transform: Any  # Affine
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def res(self) -> float:
        return math.sqrt(abs(self.transform.a * self.transform.e))

    def sub(self, row0: int, col0: int, height: int, width: int) -> _Grid:
        return _Grid(self.crs, self.transform @ Affine.translation(col0, row0), width, height)


def _window_over(
    ds_transform: Any, bounds: tuple[float, float, float, float], full: tuple[int, int]
) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1) of the pixels touching ``bounds``, clipped to ``full`` = (height, width)."""
    inv = ~ds_transform
    left, bottom, right, top = bounds
    cs, rs = [], []
    for x in (left, right):
        for y in (bottom, top):
            c, r = inv @ (x, y)
            cs.append(c)
            rs.append(r)
    r0, r1 = max(0, math.floor(min(rs))), min(full[0], math.ceil(max(rs)))
    c0, c1 = max(0, math.floor(min(cs))), min(full[1], math.ceil(max(cs)))
    return r0, c0, r1, c1


def _footprint(src: Any, crs: Any):
    from swc_raster.footprint import raster_footprint

    return raster_footprint(src, crs.to_wkt())


def _source_cell_m(src: Any, crs: Any) -> float:
    from swc_raster.align import source_cell_size_m

    return source_cell_size_m(src, crs.to_wkt())


def _warp(path: str, label: str, grid: _Grid, *, categorical: bool, nearest: bool = False) -> np.ndarray:
    """One raster onto ``grid``: codes (nearest/mode, nodata → 0) or float32 (bilinear/average, nodata → NaN).

    ``nearest``: float values that are classes of a map (E of mapped measures): nearest, average when coarsening.
    """
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    with open_raster(path, label) as src:
        coarse = grid.res > COARSEN_RATIO * _source_cell_m(src, grid.crs)
        if categorical:
            rs = Resampling.mode if coarse else Resampling.nearest
            dtype = "uint8" if np.dtype(src.dtypes[0]).itemsize == 1 else "uint16"
            nodata: float = 0
        else:
            rs = Resampling.average if coarse else (Resampling.nearest if nearest else Resampling.bilinear)
            dtype, nodata = "float32", float("nan")
        with WarpedVRT(
            src,
            crs=grid.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            resampling=rs,
            nodata=nodata,
            dtype=dtype,
            tolerance=1e-6,
        ) as vrt:
            return vrt.read(1)


# --------------------------------------------------------------------------- writing


def _write_cog(path: Path, array: np.ndarray, grid: _Grid, *, name: str, unit: str, tags: Mapping[str, str]) -> None:
    """A float32 Cloud-Optimized GeoTIFF (nodata −9999, DEFLATE, internal overviews by averaging)."""
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    data = np.where(np.isfinite(array), array, np.float32(NODATA)).astype(np.float32, copy=False)
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": grid.width,
        "height": grid.height,
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": NODATA,
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(data, 1)
            ds.update_tags(**tags, SWC_FACTOR=name, SWC_UNIT=unit)
            ds.update_tags(1, UNIT=unit, QUANTITY=name)
            ds.set_band_description(1, f"{name}, {unit}")
        del data
        with mem.open() as src:
            rasterio.shutil.copy(
                src,
                path,
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="YES",
                BLOCKSIZE="512",
                OVERVIEW_RESAMPLING="AVERAGE",
                BIGTIFF="IF_SAFER",
                NUM_THREADS="ALL_CPUS",
            )


# --------------------------------------------------------------------------- county means


def _cell_areas_km2(grid: _Grid) -> np.ndarray:
    """True ground area of every cell, km² (float32), computed once per 64×64 block (smooth areal scale)."""
    from swc_raster.cellarea import cell_areas_km2

    b = _AREA_BLOCK
    rows = np.arange(0, grid.height, b, dtype="float64")[:, None] + min(b, grid.height) / 2.0 - 0.5
    cols = np.arange(0, grid.width, b, dtype="float64")[None, :] + min(b, grid.width) / 2.0 - 0.5
    ds = SimpleNamespace(crs=grid.crs, transform=grid.transform)
    coarse = np.asarray(cell_areas_km2(ds, rows, cols), dtype=np.float64)
    coarse = np.broadcast_to(coarse, (rows.shape[0], cols.shape[1]))
    full = np.repeat(np.repeat(coarse, b, axis=0), b, axis=1)[: grid.height, : grid.width]
    return full.astype(np.float32)


def _zones(counties: Any, grid: _Grid) -> np.ndarray:
    """County ids 1..n (row order of ``counties``) on ``grid`` by cell centre; 0 outside."""
    from rasterio.features import rasterize

    g = counties.to_crs(grid.crs.to_wkt())
    return rasterize(
        [(geom, i + 1) for i, geom in enumerate(g.geometry)],
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        dtype="int32",
    )


_MEAN_COLUMNS: Final = {
    "R": "mean_R_MJ_mm_ha_h_a",
    "K": "mean_K_t_ha_h_ha_MJ_mm",
    "LS": "mean_LS",
    "B": "mean_B",
    "E": "mean_E",
    "T": "mean_T",
    "A": "mean_A_t_km2_a",
}


def _means_table(
    paths: Mapping[str, Path], counties: Any, grid: _Grid, year: Any, region_code: str, region_name: str
) -> list[dict[str, Any]]:
    import rasterio

    zones = _zones(counties, grid)
    n = len(counties) + 1
    w = _cell_areas_km2(grid)
    with rasterio.open(paths["A"]) as src:
        a = src.read(1)
    valid = a != np.float32(NODATA)
    z = zones[valid]
    wv = w[valid].astype(np.float64)
    area = np.bincount(z, weights=wv, minlength=n)
    land = np.bincount(zones.ravel(), weights=w.ravel().astype(np.float64), minlength=n)
    sums: dict[str, np.ndarray] = {"A": np.bincount(z, weights=wv * a[valid], minlength=n)}
    del a
    for f in FACTORS:
        with rasterio.open(paths[f]) as src:
            v = src.read(1)[valid]
        sums[f] = np.bincount(z, weights=wv * v, minlength=n)
        del v
    rows = []
    codes = [str(c) for c in counties["county_code"]]
    names = [str(c) for c in counties["county_name"]]
    for i, (code, name) in enumerate(zip(codes, names, strict=True), start=1):
        rows.append(_mean_row(year, "county", code, name, land[i], area[i], {k: s[i] for k, s in sums.items()}))
    rows.append(
        _mean_row(
            year,
            "region",
            region_code,
            region_name,
            land[1:].sum(),
            area[1:].sum(),
            {k: s[1:].sum() for k, s in sums.items()},
        )
    )
    return rows


def _mean_row(
    year: Any, level: str, code: str, name: str, land: float, area: float, sums: Mapping[str, float]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "year": year,
        "level": level,
        "county_code": code,
        "county_name": name,
        "area_km2": round(float(area), 4),
        "nodata_area_km2": round(float(land - area), 4),
    }
    for key in (*FACTORS, "A"):
        mean = sums[key] / area if area > 0 else float("nan")
        row[_MEAN_COLUMNS[key]] = "" if not math.isfinite(mean) else float(f"{mean:.6g}")
    return row


# --------------------------------------------------------------------------- the computation


def _cutoff_tag(name: str, rule: slope_length.CutoffRule) -> str:
    if name == "none":
        return "none (cap only)"
    channel = "off" if rule.channel_area_m2 is None else f"{rule.channel_area_m2:g} m2"
    return f"{name}: slope ratio {rule.ratio_gentle:g} (<5 %) / {rule.ratio_steep:g}; channels {channel}"


def _constant_or_raster(value: str | float, label: str, grid: _Grid) -> np.ndarray:
    if _is_path(value):
        return _warp(str(value), label, grid, categorical=False)
    return np.full(grid.shape, np.float32(float(value)), dtype=np.float32)


def _check_values(name: str, label: str, a: np.ndarray, unit_check: str = "error") -> None:
    """Negative factor values are an input error; the median of R and K must be plausible in SI units.

    ``unit_check="warn"`` (``validation.unit_check``) turns an implausible median into a warning.
    """
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        raise CoverageError(label, f"{name} has no data over the region.", "use a raster covering the region.")
    if finite.min() < 0:
        raise InputError(
            label,
            f"{name} has negative values (minimum {float(finite.min()):.4g}); a CSLE factor cannot be negative.",
            "recompute the raster, or declare its fill value as nodata.",
        )
    if name == "E" and finite.max() > 1:
        raise InputError(
            label,
            f"E reaches {float(finite.max()):.4g}; the engineering factor lies in 0–1 (1 = no measures).",
            "recompute the raster, or declare its fill value as nodata.",
        )
    check = {"R": r_values_problem, "K": k_values_problem}.get(name)
    if check is not None:
        sample = finite[:: max(1, finite.size // 1_000_000)]
        msg = check(float(np.median(sample)), name)
        if msg and unit_check == "warn":
            warnings.warn(f"[{label}] {msg} (validation.unit_check: warn)", InputWarning, stacklevel=3)
        elif msg:
            raise UnitError(label, msg, f"give {name} in {R_UNIT if name == 'R' else K_UNIT} (SI).")


def _check_cover(footprint: Any, label: str, region: Any, min_coverage_pct: float) -> Any:
    """The footprint, after checking it covers ≥ ``min_coverage_pct`` % of every county (:class:`CoverageError`)."""
    low = []
    for code, name, geom in zip(region["county_code"], region["county_name"], region.geometry, strict=True):
        if geom is None or geom.is_empty or geom.area <= 0:
            continue
        share = 100.0 * geom.intersection(footprint).area / geom.area
        if share < min_coverage_pct:
            low.append(f"{name} ({code}) {share:.1f} %")
    if low:
        raise CoverageError(
            label,
            f"the raster does not cover enough of the region: {', '.join(low)} of the county "
            f"area is inside it (minimum {min_coverage_pct:g} %, validation.min_coverage_pct); "
            "A cannot be computed where a factor is missing.",
            "use a raster covering the whole region (mosaic adjacent tiles, e.g. "
            "`gdalbuildvrt mosaic.vrt a.tif b.tif`).",
        )
    return footprint


def compute_year(
    inputs: CsleInputs,
    counties: Any,
    outputs: Mapping[str, str | os.PathLike[str]],
    *,
    min_coverage_pct: float = 99.0,
    unit_check: str = "error",
    year: Any = "",
    region_code: str = "",
    region_name: str = "",
    tags: Mapping[str, str] | None = None,
    log: Any = None,
    tile_cells: int | None = DEFAULT_TILE_CELLS,
) -> dict[str, Any]:
    """Compute the CSLE factors and A of one year and write them (see the module docstring).

    Parameters
    ----------
    inputs : CsleInputs
        Paths (relative to the working directory) and settings.
    counties : geopandas.GeoDataFrame
        County polygons (any CRS) with ``county_code`` and ``county_name``:
        the region to cover and the zones of the means table.
    outputs : mapping
        Output paths by key: ``R, K, LS, B, E, T`` (factor COGs), ``A`` (A in
        t/(km²·a), COG) and ``means`` (CSV); see :func:`output_paths`.
    year, region_code, region_name
        Labels of the means table's rows.
    min_coverage_pct : float, default 99
        Share of each county that the DEM and every factor raster must cover
        (``validation.min_coverage_pct``).
    unit_check : {"error", "warn"}
        What implausible R or K values do (``validation.unit_check``).
    tags : mapping, optional
        Extra GeoTIFF tags (e.g. the demo banner).
    tile_cells : int or None, default 1024
        Side of the tiles in which λ and L·S are computed after routing (``None``: one tile).
        The result is identical for any tile size; only the memory changes.

    Returns
    -------
    dict
        Grid and window sizes, resampling notes and the region's factor means.

    Raises
    ------
    CrsError
        The DEM is not on a metric projected grid (e.g. EPSG:4326), or a raster has no CRS.
    UnitError
        A declared unit is unknown/US customary, or R/K values are implausible for SI.
    CoverageError
        The DEM or a factor raster does not reach the region.
    InputError
        A land-use code is missing from the factor table, a factor is negative, …
    """
    say = log.info if log is not None else (lambda *a, **k: None)
    need = {*FACTORS, "A", "means"}
    if set(outputs) != need:
        raise ValueError(f"outputs must have exactly the keys {sorted(need)}, got {sorted(outputs)}")
    lab = inputs.key
    normalise_dem_unit(inputs.dem_unit, lab("dem_unit"))
    r_unit = normalise_r_unit(inputs.r_unit, lab("r_unit"))
    k_unit = normalise_k_unit(inputs.k_unit, lab("k_unit"))
    if inputs.s_method not in ("csle", "rusle"):
        raise InputError(lab("s_method"), f"{inputs.s_method!r} is not a slope-steepness method.", "use csle or rusle.")
    if not (inputs.lambda_cap_m > 0):
        raise InputError(lab("lambda_cap_m"), f"{inputs.lambda_cap_m!r} is not a positive length.", "use e.g. 300.")
    if (inputs.fvc is None) == (inputs.ndvi is None):
        raise InputError(
            inputs.label,
            "give exactly one of `fvc:` (vegetation cover) and `ndvi:`.",
            "set `fvc:` to a cover raster, or `ndvi:` with `ndvi_soil:` and `ndvi_veg:`.",
        )
    fvc_unit = normalise_fvc_unit(inputs.fvc_unit, lab("fvc_unit"))
    table = read_factor_table(inputs.factor_table, f"{lab('factor_table')} ({inputs.factor_table})")
    tags = dict(tags or {})
    cap = float(inputs.lambda_cap_m)
    cutoff = inputs.cutoff_rule()

    # ---- 1. DEM window, slope, λ, LS ---------------------------------------------------------
    dem_label = f"{lab('dem')} ({inputs.dem})"
    with open_raster(inputs.dem, lab("dem")) as src:
        bad = dem_crs_problem(src.crs, inputs.dem, lab("dem"))
        if bad:
            raise CrsError(dem_label, *bad)
        t = src.transform
        if t.b != 0 or t.d != 0:
            raise CrsError(
                dem_label,
                "the DEM grid is rotated; slope needs a north-up grid.",
                f"warp it to a north-up grid: `gdalwarp -t_srs {src.crs.to_string()} {inputs.dem} dem_northup.tif`.",
            )
        full = _Grid(src.crs, t, src.width, src.height)
        res = full.res
        from rasterio.warp import transform_bounds

        region_bounds = transform_bounds(
            counties.crs.to_wkt(), src.crs.to_wkt(), *counties.total_bounds, densify_pts=21
        )
        buffer_m = 2.0 * cap + 10.0 * res
        left, bottom, right, top = region_bounds
        r0, c0, r1, c1 = _window_over(
            t, (left - buffer_m, bottom - buffer_m, right + buffer_m, top + buffer_m), (src.height, src.width)
        )
        if r1 <= r0 or c1 <= c0:
            raise CoverageError(
                dem_label,
                "the DEM does not overlap the region at all.",
                "use the DEM of this region (check its CRS with `gdalinfo`).",
            )
        from rasterio.windows import Window

        dem = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        dem = np.ma.filled(dem.astype(np.float32), np.nan)
        comp = full.sub(r0, c0, r1 - r0, c1 - c0)
        dem_cover = _footprint(src, full.crs)
    say("DEM window %d×%d cells of %.4g m (buffer %.0f m)", comp.width, comp.height, res, buffer_m)
    finite = dem[np.isfinite(dem)]
    if finite.size == 0:
        raise CoverageError(dem_label, "the DEM has no data over the region.", "use a DEM covering the region.")
    lo, hi = DEM_PLAUSIBLE_M
    if finite.min() < lo or finite.max() > hi:
        raise UnitError(
            dem_label,
            f"DEM heights range {float(finite.min()):.6g}…{float(finite.max()):.6g}, outside "
            f"{lo:g}…{hi:g} m: not metres, or an undeclared fill value.",
            "give heights in metres and declare the fill value as nodata (`gdal_edit.py -a_nodata`).",
        )
    del finite
    routed = slope_length.ls_factor_from_dem(
        dem,
        comp.transform,
        cap_m=cap,
        cutoff=cutoff,
        s_method=inputs.s_method,  # type: ignore[arg-type]
        fill=bool(inputs.fill_depressions),
        tile_cells=tile_cells,
        keep=("ls",),
    )
    del dem
    ls_full = routed.ls
    say("L·S by the census method: %d tile(s), halo %d cells", routed.tiles, routed.halo_cells)

    # ---- 2. output grid: region + margin, inside every factor's footprint ---------------------
    margin = _OUTPUT_MARGIN_CELLS * res
    o = _window_over(comp.transform, (left - margin, bottom - margin, right + margin, top + margin), comp.shape)
    region = counties.to_crs(full.crs.to_wkt())
    cover = _check_cover(dem_cover, dem_label, region, min_coverage_pct)
    for key, value in (
        ("landcover", inputs.landcover),
        ("r", inputs.r),
        ("k", inputs.k),
        ("fvc", inputs.fvc),
        ("ndvi", inputs.ndvi),
    ):
        if value is not None and _is_path(value):
            name = lab(key) if key != "landcover" else inputs.label.replace(".csle", ".landcover")
            with open_raster(value, name) as s:
                fp = _footprint(s, full.crs)
            cover = cover.intersection(_check_cover(fp, f"{name} ({value})", region, min_coverage_pct))
    if cover.is_empty:
        raise CoverageError(
            inputs.label, "the factor rasters have no area in common.", "use factor rasters of the same region."
        )
    cr = _window_over(comp.transform, cover.bounds, comp.shape)
    orow0, ocol0 = max(o[0], cr[0]), max(o[1], cr[1])
    orow1, ocol1 = min(o[2], cr[2]), min(o[3], cr[3])
    if orow1 <= orow0 or ocol1 <= ocol0:
        raise CoverageError(
            inputs.label, "the factor rasters do not overlap the region.", "use factor rasters covering the region."
        )
    out = comp.sub(orow0, ocol0, orow1 - orow0, ocol1 - ocol0)
    ls = np.ascontiguousarray(ls_full[orow0:orow1, ocol0:ocol1])
    del ls_full
    say("output grid %d×%d cells", out.width, out.height)

    paths = {k: Path(v) for k, v in outputs.items()}
    base_tags = {
        **tags,
        "SWC_YEAR": str(year),
        "SWC_GENERATOR": "swc_raster.csle_raster.compute_year",
        "SWC_S_METHOD": inputs.s_method,
        "SWC_LAMBDA_CAP_M": f"{cap:g}",
        "SWC_B_METHOD": inputs.b_method,
        "SWC_L_METHOD": "segment L, cumulative slope length (census)",
        "SWC_LAMBDA_CUTOFF": _cutoff_tag(inputs.lambda_cutoff, cutoff),
    }
    with atomic_outputs(*(paths[k] for k in (*FACTORS, "A", "means"))) as temps:
        tmp = dict(zip((*FACTORS, "A", "means"), temps, strict=True))
        _write_cog(tmp["LS"], ls, out, name="LS", unit="1", tags=base_tags)
        a = ls  # the running product, t/(ha·a) at the end
        del ls

        # ---- 3–4. land use, E, T, B ------------------------------------------------------------
        lu = _warp(inputs.landcover, inputs.label.replace(".csle", ".landcover"), out, categorical=True)
        present = set(np.unique(lu).tolist()) - {0}
        missing = sorted(present - table.codes)
        if missing:
            raise InputError(
                f"{lab('factor_table')} ({inputs.factor_table})",
                f"land-use code(s) {', '.join(map(str, missing))} of the land cover are missing from the factor table.",
                "add a row `code,kind,E,T` for each of them.",
            )
        for name in ("E", "T"):
            lut = table.lut(name)
            f = lut[np.minimum(lu, lut.size - 1)]
            f[(lu == 0) | (lu >= lut.size)] = np.nan
            if name == "E" and inputs.e is not None:
                # mapped measures: the raster's E where it has data, the table's elsewhere
                mapped = _warp(str(inputs.e), lab("e"), out, categorical=False, nearest=True)
                _check_values("E", f"{lab('e')} ({inputs.e})", mapped)
                has = np.isfinite(mapped) & (lu != 0)
                f[has] = mapped[has]
                del mapped, has
            _write_cog(tmp[name], f, out, name=name, unit="1", tags=base_tags)
            a *= f
            del f
        if inputs.fvc is not None:
            cov = _warp(str(inputs.fvc), lab("fvc"), out, categorical=False)
            if fvc_unit == "percent":
                cov /= np.float32(100.0)
        else:
            ndvi = _warp(str(inputs.ndvi), lab("ndvi"), out, categorical=False)
            cov = csle.fractional_vegetation_cover(ndvi, float(inputs.ndvi_soil), float(inputs.ndvi_veg))
            del ndvi
        b = csle.biological_factor_B(cov, lu, method=inputs.b_method, kinds=table.kinds)  # type: ignore[arg-type]
        del cov, lu
        _write_cog(tmp["B"], b, out, name="B", unit="1", tags=base_tags)
        a *= b
        del b

        # ---- R and K -----------------------------------------------------------------------
        for name, value, unit in (("R", inputs.r, r_unit), ("K", inputs.k, k_unit)):
            f = _constant_or_raster(value, lab(name.lower()), out)
            _check_values(name, f"{lab(name.lower())} ({value})", f, unit_check)
            _write_cog(tmp[name], f, out, name=name, unit=unit, tags=base_tags)
            a *= f
            del f

        # ---- 5–6. A -----------------------------------------------------------------------
        a = csle.t_ha_to_t_km2(a)
        n_valid = int(np.isfinite(a).sum())
        _write_cog(tmp["A"], a, out, name="soil erosion modulus A (CSLE)", unit=OUTPUT_UNIT, tags=base_tags)
        del a

        # ---- 7. county means ----------------------------------------------------------------
        rows = _means_table({k: tmp[k] for k in (*FACTORS, "A")}, counties, out, year, region_code, region_name)
        with open(tmp["means"], "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return {
        "dem_window": (comp.height, comp.width),
        "output_grid": (out.height, out.width),
        "resolution_m": res,
        "cells_with_A": n_valid,
        "region_means": rows[-1],
    }
