"""Bulletin-style tables: the Excel workbook, and the table model the HTML report shares.

Inputs are the contract files of ``docs/architecture.md`` (``county_rates.csv``,
``target_comparison.csv``, ``erosion_by_landcover.csv``).  Each published table is
built once as a :class:`Table` (headers with units, raw values, a *kind* per column
that fixes how numbers print) and then written to Excel (:func:`write_workbook`) or
HTML (``swc_raster.report``), so both show the same numbers the same way:

==========  =====================  ==========================
kind        Excel number format    printed as
==========  =====================  ==========================
area        ``#,##0.00``           1,234.57   (km²)
pct         ``#,##0.00``           76.86      (%)
gap         ``+#,##0.00;-#,##0.00;0.00``  +3.21 / -5.10 (percentage points)
t           ``#,##0``              1,000      (t/(km²·a))
met         text                   达标 / 未达标 (met / not met)
text, code  text                   as is
==========  =====================  ==========================

Values are stored at full precision; only their display is rounded.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from swc_raster import grading, processes
from swc_raster.atomic import atomic_outputs
from swc_raster.csv_files import CSV_ENCODING
from swc_raster.errors import InputError, InputFileError
from swc_raster.rates import LANDCOVER_COLUMNS as RATES_LANDCOVER_COLUMNS
from swc_raster.rates import RATE_COLUMNS

DEMO_BANNER = "演示数据 DEMO DATA — synthetic, not real measurements"

RATES_COLUMNS = RATE_COLUMNS  # the county_rates.csv contract, defined once in swc_raster.rates
COMPARISON_BASE_COLUMNS = ["year", "level", "county_code", "county_name", "rate_pct"]
LANDCOVER_COLUMNS = RATES_LANDCOVER_COLUMNS  # the erosion_by_landcover.csv contract, defined in swc_raster.rates
_TARGET_RE = re.compile(r"^target_(\d{4})_pct$")

EXCEL_FORMATS = {
    "area": "#,##0.00",
    "pct": "#,##0.00",
    "gap": "+#,##0.00;-#,##0.00;0.00",
    "t": "#,##0",
    "int": "0",
}
_DECIMALS = {"area": 2, "pct": 2, "gap": 2, "t": 0, "int": 0}


# --------------------------------------------------------------------------- files


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- reading


def _read_csv(path: str | os.PathLike, required: Sequence[str], what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(
            str(path), f"the {what} table does not exist.", "run the workflow step that writes it, or fix the path."
        )
    df = pd.read_csv(
        path,
        dtype={
            "county_code": str,
            "county_name": str,
            "level": str,
            "landcover_name_zh": str,
            "landcover_name_en": str,
            "grade_name_zh": str,
            "grade_name_en": str,
        },
        encoding=CSV_ENCODING,  # UTF-8 with or without the BOM that published CSVs carry
        keep_default_na=True,
    )
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            str(path),
            f"the {what} table lacks the column(s) {', '.join(missing)}.",
            "produce it with swc-raster (columns are listed in docs/architecture.md, 'Output contract').",
        )
    if df.empty:
        raise InputError(str(path), f"the {what} table has no rows.", "re-run the step that writes it.")
    df["county_code"] = df["county_code"].str.strip()
    return df


def read_county_rates(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``county_rates.csv`` (codes as strings); counties first, region row(s) last."""
    df = _read_csv(path, RATES_COLUMNS, "county_rates")
    bad = sorted(set(df["level"]) - {"county", "region"})
    if bad:
        raise InputError(str(path), f"unknown level value(s) {bad}.", "level must be 'county' or 'region'.")
    return _counties_then_region(df)


def _counties_then_region(df: pd.DataFrame) -> pd.DataFrame:
    order = df["level"].map({"county": 0, "region": 1})
    return df.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)


def target_years(comparison: pd.DataFrame) -> list[int]:
    """Target years Y with a ``target_{Y}_pct`` column, ascending."""
    return sorted(int(m.group(1)) for c in comparison.columns if (m := _TARGET_RE.match(c)))


def _as_bool(value) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        v = value.strip().lower()
        if v in {"true", "1", "yes", "t"}:
            return True
        if v in {"false", "0", "no", "f"}:
            return False
        if v in {"", "nan", "na"}:
            return None
        raise ValueError(value)
    return bool(value)


def read_target_comparison(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``target_comparison.csv``; ``met_{Y}`` become True/False/None."""
    df = _read_csv(path, COMPARISON_BASE_COLUMNS, "target_comparison")
    years = target_years(df)
    if not years:
        raise InputError(str(path), "no target_{Y}_pct column found.", "produce it with the compare_targets step.")
    for y in years:
        needed = [f"gap_{y}_pp", f"met_{y}"]
        missing = [c for c in needed if c not in df.columns]
        if missing:
            raise InputError(
                str(path), f"target year {y} lacks {', '.join(missing)}.", "re-run the compare_targets step."
            )
        try:
            df[f"met_{y}"] = df[f"met_{y}"].map(_as_bool).astype(object)
        except ValueError as exc:
            raise InputError(
                str(path), f"met_{y} has a value that is not true/false: {exc}.", "use True/False."
            ) from None
    return _counties_then_region(df)


def read_erosion_by_landcover(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``erosion_by_landcover.csv`` (long table, counties only)."""
    df = _read_csv(path, LANDCOVER_COLUMNS, "erosion_by_landcover")
    df["landcover_code"] = df["landcover_code"].astype(int)
    df["grade_code"] = df["grade_code"].astype(int)
    return df


#: The ``erosion_by_process.csv`` contract: one row per county × process (water, wind, total), then the region's.
PROCESS_COLUMNS = processes.PROCESS_COLUMNS  # defined once, in swc_raster.processes
#: Processes in the order their rows are shown; ``total`` counts a cell eroded by both once (the rate uses it).
PROCESSES = tuple(processes.PROCESS_NAMES)  # water, wind, total


def read_erosion_by_process(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``erosion_by_process.csv``: counties in file order then the region, each with water, wind, total.

    Refuses unknown ``level``/``process`` values and a county without its ``water`` or ``total`` row
    (``wind`` rows exist only in a year with a wind-erosion layer).
    """
    df = _read_csv(path, PROCESS_COLUMNS, "erosion_by_process")
    df["process"] = df["process"].astype(str).str.strip()
    for column, allowed in (("level", {"county", "region"}), ("process", set(PROCESSES))):
        bad = sorted(set(df[column]) - allowed)
        if bad:
            raise InputError(
                str(path), f"unknown {column} value(s) {bad}.", f"{column} must be one of {sorted(allowed)}."
            )
    present = df.groupby(["level", "county_code"])["process"].agg(set)
    lacking = [code for (_, code), procs in present.items() if not {"water", "total"} <= procs]
    if lacking:
        raise InputError(
            str(path),
            f"county/region code(s) {lacking} lack a 'water' or 'total' row.",
            "produce the table with swc-raster (every county has water and total rows).",
        )
    first_seen = {code: i for i, code in enumerate(dict.fromkeys(df["county_code"]))}
    order = df.assign(
        _level=df["level"].map({"county": 0, "region": 1}),
        _county=df["county_code"].map(first_seen),
        _process=df["process"].map({p: i for i, p in enumerate(PROCESSES)}),
    )
    return (
        order.sort_values(["_level", "_county", "_process"], kind="stable")
        .drop(columns=["_level", "_county", "_process"])
        .reset_index(drop=True)
    )


def has_wind(by_process: pd.DataFrame) -> bool:
    """True when the year has a wind-erosion layer (the by-process table has ``wind`` rows)."""
    return bool((by_process["process"] == "wind").any())


def check_total_matches_rates(by_process: pd.DataFrame, rates: pd.DataFrame, path: str | os.PathLike) -> None:
    """Refuse a by-process table whose ``total`` erosion area differs from ``county_rates.csv`` (another run).

    Both tables come from one count and are published to 10⁻⁶ km², so they agree within ``1e-4`` km²
    (100 m²) unless they come from different runs or years.
    """
    total = by_process[by_process["process"] == "total"].set_index(["level", "county_code"])["erosion_area_km2"]
    rated = rates.set_index(["level", "county_code"])["erosion_area_km2"]
    joined = pd.concat({"total": total, "rates": rated}, axis=1)
    off = joined[~((joined["total"] - joined["rates"]).abs() <= 1e-4)]
    if len(off):
        detail = ", ".join(f"{code}: {r['total']} vs {r['rates']}" for (_, code), r in off.head(5).iterrows())
        raise InputError(
            str(path),
            f"its total erosion area differs from county_rates.csv ({detail} km²; a missing row shows as nan).",
            "use the by-process and rate tables of the same year and run.",
        )


def region_row(rates: pd.DataFrame) -> pd.Series | None:
    reg = rates[rates["level"] == "region"]
    return reg.iloc[0] if len(reg) else None


# --------------------------------------------------------------------------- formatting


def format_value(value, kind: str, lang: str = "zh") -> str:
    """Print one value the way the workbook displays it (see module docstring)."""
    if kind == "met":
        b = value if isinstance(value, bool) or value is None else _as_bool(value)
        if b is None:
            return "—"
        return ("达标" if b else "未达标") if lang == "zh" else ("met" if b else "not met")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind in _DECIMALS:
        x = float(value)
        d = _DECIMALS[kind]
        x = round(x, d) + 0.0  # no "-0.00"
        text = f"{x:,.{d}f}"
        if kind == "gap" and x > 0:
            text = "+" + text
        return text
    return str(value)


def text_width(text: str) -> int:
    """Display width: East Asian wide/full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


# --------------------------------------------------------------------------- table model


@dataclass
class Table:
    """One published table: headers (with units), a kind per column, raw rows."""

    key: str
    sheet: str
    title: str
    headers: list[str]
    kinds: list[str]
    rows: list[list] = field(default_factory=list)
    region_rows: set[int] = field(default_factory=set)  # indices of bold region rows
    note: str = ""
    total_rows: set[int] = field(default_factory=set)  # indices of shaded subtotal rows (e.g. a county's total)

    def formatted(self, lang: str = "zh") -> list[list[str]]:
        return [[format_value(v, k, lang) for v, k in zip(row, self.kinds)] for row in self.rows]


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _year_of(df: pd.DataFrame) -> str:
    return str(df["year"].iloc[0])


def _region_name(rates: pd.DataFrame, lang: str) -> str:
    reg = region_row(rates)
    if reg is None:
        return ""
    return str(reg["county_name"])


def _code_name_headers(lang: str) -> list[str]:
    return [_t(lang, "行政区划代码", "Code"), _t(lang, "县（市、区）", "County")]


def rates_table(rates: pd.DataFrame, lang: str = "zh") -> Table:
    """Per-county rate table (report's county table)."""
    year, region = _year_of(rates), _region_name(rates, lang)
    headers = _code_name_headers(lang) + [
        _t(lang, "允许土壤流失量 T (t/(km²·a))", "Allowable loss T (t/(km²·a))"),
        _t(lang, "土地面积 (km²)", "Land area (km²)"),
        _t(lang, "水土流失面积 (km²)", "Erosion area (km²)"),
        _t(lang, "水土保持率 (%)", "Conservation rate (%)"),
        _t(lang, "无侵蚀数据面积 (km²)", "No erosion data (km²)"),
        _t(lang, "数据缺失面积 (km²)", "Data gap (km²)"),
    ]
    kinds = ["code", "text", "t", "area", "area", "pct", "area", "area"]
    table = Table(
        "rates",
        _t(lang, "水土保持率", "Rates"),
        _t(
            lang,
            f"{region}各县（市、区）水土保持率（{year}年）",
            f"{region} soil and water conservation rate by county, {year}",
        ),
        headers,
        kinds,
    )
    for _, r in rates.iterrows():
        table.rows.append(
            [
                r["county_code"],
                r["county_name"],
                r["t_allowable_t_km2"],
                r["land_area_km2"],
                r["erosion_area_km2"],
                r["rate_pct"],
                r["nodata_area_km2"],
                r["gap_area_km2"],
            ]
        )
        if r["level"] == "region":
            table.region_rows.add(len(table.rows) - 1)
    return table


def targets_table(rates: pd.DataFrame, comparison: pd.DataFrame, lang: str = "zh") -> Table:
    """Sheet (a): rates against the 2025/2035 targets."""
    years = target_years(comparison)
    year, region = _year_of(comparison), _region_name(rates, lang)
    headers = _code_name_headers(lang) + [
        _t(lang, "土地面积 (km²)", "Land area (km²)"),
        _t(lang, "水土流失面积 (km²)", "Erosion area (km²)"),
        _t(lang, f"{year}年水土保持率 (%)", f"Conservation rate {year} (%)"),
    ]
    kinds = ["code", "text", "area", "area", "pct"]
    for y in years:
        headers += [
            _t(lang, f"{y}年目标 (%)", f"Target {y} (%)"),
            _t(lang, f"与{y}年目标差距 (百分点)", f"Gap to {y} target (pp)"),
            _t(lang, f"{y}年是否达标", f"{y} target met"),
        ]
        kinds += ["pct", "gap", "met"]
    table = Table(
        "targets",
        _t(lang, "水土保持率与目标对比", "Rates vs targets"),
        _t(
            lang,
            f"{region}各县（市、区）水土保持率与目标对比（{year}年）",
            f"{region} conservation rate against targets, {year}",
        ),
        headers,
        kinds,
        note=_t(
            lang,
            "差距 = 水土保持率 − 目标值；差距 ≥ 0 为达标。",
            "Gap = rate − target; the target is met when the gap ≥ 0.",
        ),
    )
    areas = rates.set_index(["level", "county_code"])
    for _, r in comparison.iterrows():
        key = (r["level"], r["county_code"])
        land = areas.loc[key, "land_area_km2"] if key in areas.index else float("nan")
        eros = areas.loc[key, "erosion_area_km2"] if key in areas.index else float("nan")
        row = [r["county_code"], r["county_name"], land, eros, r["rate_pct"]]
        for y in years:
            row += [r[f"target_{y}_pct"], r[f"gap_{y}_pp"], r[f"met_{y}"]]
        table.rows.append(row)
        if r["level"] == "region":
            table.region_rows.add(len(table.rows) - 1)
    return table


def grades_table(rates: pd.DataFrame, lang: str = "zh") -> Table:
    """Sheet (b): area by SL 190 grade per county."""
    year, region = _year_of(rates), _region_name(rates, lang)
    names = grading.GRADE_NAMES_ZH if lang == "zh" else grading.GRADE_NAMES_EN
    headers = _code_name_headers(lang) + [_t(lang, "土地面积 (km²)", "Land area (km²)")]
    headers += [_t(lang, f"{names[g]} (km²)", f"{names[g].capitalize()} (km²)") for g in range(1, 7)]
    headers += [
        _t(lang, "水土流失面积合计 (km²)", "Erosion area, total (km²)"),
        _t(lang, "水土流失面积占土地面积 (%)", "Erosion area share of land (%)"),
        _t(lang, "无侵蚀数据面积 (km²)", "No erosion data (km²)"),
        _t(lang, "数据缺失面积 (km²)", "Data gap (km²)"),
    ]
    kinds = ["code", "text", "area"] + ["area"] * 6 + ["area", "pct", "area", "area"]
    table = Table(
        "grades",
        _t(lang, "各县水土流失面积按强度分级", "Erosion area by grade"),
        _t(
            lang,
            f"{region}各县（市、区）水土流失面积按侵蚀强度分级（{year}年）",
            f"{region} erosion area by intensity grade (SL 190-2007), {year}",
        ),
        headers,
        kinds,
        note=_t(
            lang,
            "水土流失面积为轻度至剧烈（2–6级）面积之和；微度不计入水土流失。",
            "Erosion area is the sum of grades light to severe (2–6); slight is not erosion.",
        ),
    )
    for _, r in rates.iterrows():
        land = r["land_area_km2"]
        assessed = land - r.get("gap_area_km2", 0.0)  # the rate's denominator: land with erosion data
        share = 100.0 * r["erosion_area_km2"] / assessed if assessed else float("nan")
        table.rows.append(
            [
                r["county_code"],
                r["county_name"],
                land,
                *[r[f"area_grade{g}_km2"] for g in range(1, 7)],
                r["erosion_area_km2"],
                share,
                r["nodata_area_km2"],
                r["gap_area_km2"],
            ]
        )
        if r["level"] == "region":
            table.region_rows.add(len(table.rows) - 1)
    return table


def process_note(wind: bool, lang: str = "zh") -> str:
    """What the by-process table's total and share mean; says so when the year has water erosion only."""
    share = _t(
        lang,
        "占比 = 水土流失面积 / 参评面积；参评面积 = 土地面积 − 该类侵蚀的数据缺失面积。",
        "Share = erosion area / assessed area; assessed area = land − that process's data gap.",
    )
    if not wind:
        return (
            _t(
                lang,
                "本年只有水力侵蚀数据（无风力侵蚀图层），合计即水力侵蚀。",
                "This year has water erosion only (no wind-erosion layer): the total is the water erosion.",
            )
            + (" " if lang == "en" else "")
            + share
        )
    return (
        _t(
            lang,
            "合计：水力、风力侵蚀均达轻度及以上的面积（重叠面积）只计一次，合计 = 水力 + 风力 − 重叠，"
            "强度取两者中较重者；水土保持率按合计计算。",
            "Total: land eroded by both water and wind (the overlap) is counted once, total = water + wind − overlap, "
            "graded by the more severe of the two; the conservation rate uses the total. ",
        )
        + share
    )


def process_table(by_process: pd.DataFrame, lang: str = "zh") -> Table:
    """Erosion area, share and grades 2–6 per county and process (water, wind, total), region last.

    ``by_process``: :func:`read_erosion_by_process`.  Process names come from the table itself
    (``process_name_zh``/``process_name_en``); the overlap is shown on total rows only.
    """
    year, region = _year_of(by_process), _region_name(by_process, lang)
    names = grading.GRADE_NAMES_ZH if lang == "zh" else grading.GRADE_NAMES_EN
    headers = _code_name_headers(lang) + [
        _t(lang, "侵蚀类型", "Process"),
        _t(lang, "土地面积 (km²)", "Land area (km²)"),
        _t(lang, "参评面积 (km²)", "Assessed area (km²)"),
        _t(lang, "水土流失面积 (km²)", "Erosion area (km²)"),
        _t(lang, "水土流失面积占比 (%)", "Erosion share (%)"),
    ]
    headers += [_t(lang, f"{names[g]} (km²)", f"{names[g].capitalize()} (km²)") for g in grading.EROSION_GRADES]
    headers += [_t(lang, "水力风力重叠面积 (km²)", "Water–wind overlap (km²)")]
    kinds = ["code", "text", "text", "area", "area", "area", "pct"] + ["area"] * len(grading.EROSION_GRADES) + ["area"]
    table = Table(
        "process",
        _t(lang, "按侵蚀类型", "By process"),
        _t(
            lang,
            f"{region}各县（市、区）水土流失面积按侵蚀类型（{year}年）",
            f"{region} erosion area by process (water, wind), {year}",
        ),
        headers,
        kinds,
        note=process_note(has_wind(by_process), lang),
    )
    name_col = "process_name_zh" if lang == "zh" else "process_name_en"
    for _, r in by_process.iterrows():
        table.rows.append(
            [
                r["county_code"],
                r["county_name"],
                r[name_col],
                r["land_area_km2"],
                r["assessed_area_km2"],
                r["erosion_area_km2"],
                r["erosion_share_pct"],
                *[r[f"area_grade{g}_km2"] for g in grading.EROSION_GRADES],
                r["overlap_area_km2"] if r["process"] == "total" else None,
            ]
        )
        if r["level"] == "region":
            table.region_rows.add(len(table.rows) - 1)
        if r["process"] == "total":
            table.total_rows.add(len(table.rows) - 1)
    return table


def _landcover_classes(ebl: pd.DataFrame, lang: str) -> list[tuple[int, str]]:
    col = "landcover_name_zh" if lang == "zh" else "landcover_name_en"
    classes = ebl.drop_duplicates("landcover_code").sort_values("landcover_code")
    return [(int(c), str(n)) for c, n in zip(classes["landcover_code"], classes[col])]


def landuse_table(ebl: pd.DataFrame, rates: pd.DataFrame, lang: str = "zh") -> Table:
    """Sheet (c): erosion area (grades 2–6) by land-use class, county × class, with a region row."""
    year, region = _year_of(rates), _region_name(rates, lang)
    classes = _landcover_classes(ebl, lang)
    eros = ebl[ebl["grade_code"].isin(grading.EROSION_GRADES)]
    pivot = eros.pivot_table(
        index="county_code", columns="landcover_code", values="area_km2", aggfunc="sum", fill_value=0.0
    )
    headers = _code_name_headers(lang) + [f"{name} (km²)" for _, name in classes]
    headers += [_t(lang, "水土流失面积合计 (km²)", "Erosion area, total (km²)")]
    kinds = ["code", "text"] + ["area"] * len(classes) + ["area"]
    table = Table(
        "landuse",
        _t(lang, "按土地利用类型", "Erosion by land use"),
        _t(
            lang,
            f"{region}各县（市、区）水土流失面积按土地利用类型（{year}年）",
            f"{region} erosion area by land-use class, {year}",
        ),
        headers,
        kinds,
        note=_t(
            lang,
            "水土流失面积（轻度至剧烈）按土地利用一级类汇总；“未分类”为土地利用数据缺失的像元。",
            "Erosion area (light to severe) summed by land-use class; 'unclassified' = land-cover nodata.",
        ),
    )
    counties = rates[rates["level"] == "county"]
    totals = [0.0] * (len(classes) + 1)
    for _, r in counties.iterrows():
        vals = [
            float(pivot.loc[r["county_code"], c]) if r["county_code"] in pivot.index and c in pivot.columns else 0.0
            for c, _ in classes
        ]
        vals.append(sum(vals))
        totals = [a + b for a, b in zip(totals, vals)]
        table.rows.append([r["county_code"], r["county_name"], *vals])
    reg = region_row(rates)
    if reg is not None:
        table.rows.append([reg["county_code"], reg["county_name"], *totals])
        table.region_rows.add(len(table.rows) - 1)
    return table


def landuse_detail_table(ebl: pd.DataFrame, lang: str = "zh") -> Table:
    """Detail sheet: the long county × land use × grade table (for Excel pivot tables)."""
    year = _year_of(ebl)
    lc_col = "landcover_name_zh" if lang == "zh" else "landcover_name_en"
    gr_col = "grade_name_zh" if lang == "zh" else "grade_name_en"
    headers = _code_name_headers(lang) + [
        _t(lang, "土地利用代码", "Land-use code"),
        _t(lang, "土地利用类型", "Land-use class"),
        _t(lang, "侵蚀强度代码", "Grade code"),
        _t(lang, "侵蚀强度", "Grade"),
        _t(lang, "面积 (km²)", "Area (km²)"),
    ]
    kinds = ["code", "text", "int", "text", "int", "text", "area"]
    table = Table(
        "landuse_detail",
        _t(lang, "土地利用与强度明细", "Land use x grade detail"),
        _t(
            lang,
            f"各县（市、区）土地利用类型与侵蚀强度面积明细（{year}年）",
            f"Area by county, land-use class and grade, {year}",
        ),
        headers,
        kinds,
    )
    df = ebl.sort_values(["county_code", "landcover_code", "grade_code"], kind="stable")
    for _, r in df.iterrows():
        table.rows.append(
            [
                r["county_code"],
                r["county_name"],
                int(r["landcover_code"]),
                r[lc_col],
                int(r["grade_code"]),
                r[gr_col],
                r["area_km2"],
            ]
        )
    return table


def t_values(rates: pd.DataFrame) -> dict[str, float]:
    """T used per county (``{"140502 城区": 200.0, ...}``)."""
    out = {}
    for _, r in rates[rates["level"] == "county"].iterrows():
        out[f"{r['county_code']} {r['county_name']}"] = r["t_allowable_t_km2"]
    return out


def software_versions() -> dict[str, str]:
    """Versions of swc-raster and the libraries that shape its outputs."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in (
        "swc-raster",
        "numpy",
        "pandas",
        "rasterio",
        "geopandas",
        "shapely",
        "pyproj",
        "snakemake",
        "matplotlib",
        "mplfonts",
        "openpyxl",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    try:
        import rasterio

        out["GDAL"] = rasterio.__gdal_version__
    except ImportError:  # pragma: no cover
        out["GDAL"] = "not installed"
    return out


# --------------------------------------------------------------------------- workbook


def _method_notes(
    rates: pd.DataFrame, lang: str, demo: bool, method: dict | None, sources: dict[str, Path]
) -> list[tuple[str, str]]:
    year = _year_of(rates)
    reg = region_row(rates)
    notes = []
    if demo:
        notes.append(
            (
                _t(lang, "数据性质", "Data"),
                DEMO_BANNER
                + _t(
                    lang,
                    "。本表数字为演示用合成数据，不是实测或官方数据。",
                    ". The numbers are synthetic demo data, not real or official figures.",
                ),
            )
        )
    notes += [
        (_t(lang, "年份", "Year"), year),
        (_t(lang, "区域", "Region"), f"{reg['county_code']} {reg['county_name']}" if reg is not None else ""),
        (
            _t(lang, "水土保持率", "Conservation rate"),
            _t(
                lang,
                "水土保持率 = (土地面积 − 数据缺失面积 − 水土流失面积) / (土地面积 − 数据缺失面积) × 100；"
                "区域值按面积加权（由各县面积之和计算），不是各县百分比的平均。",
                "rate = (land − gap − erosion) / (land − gap) × 100; the region value is area-weighted "
                "(from summed areas), never a mean of county percentages.",
            ),
        ),
        (
            _t(lang, "侵蚀强度分级", "Erosion grades"),
            _t(
                lang,
                "SL 190-2007：微度 A<T；轻度 T≤A<2 500；中度 2 500–5 000；强烈 5 000–8 000；极强烈 8 000–15 000；"
                "剧烈 ≥15 000 t/(km²·a)。水土流失面积 = 轻度至剧烈面积之和。",
                "SL 190-2007: slight A<T; light T≤A<2,500; moderate 2,500–5,000; intense 5,000–8,000; "
                "very intense 8,000–15,000; severe ≥15,000 t/(km²·a). Erosion area = light to severe.",
            ),
        ),
        (
            _t(lang, "面积计算", "Areas"),
            _t(
                lang,
                "面积在等积投影坐标系中按像元计数 × 像元面积计算；侵蚀数据无值像元计为未侵蚀土地。",
                "Areas are pixel counts × cell area in an equal-area CRS; erosion nodata counts as non-eroded land.",
            ),
        ),
    ]
    t_by = t_values(rates)
    t_text = (
        "；".join(f"{k}: {format_value(v, 't')}" for k, v in t_by.items())
        if lang == "zh"
        else "; ".join(f"{k}: {format_value(v, 't')}" for k, v in t_by.items())
    )
    notes.append((_t(lang, "允许土壤流失量 T (t/(km²·a))", "Allowable soil loss T (t/(km²·a))"), t_text))
    for key, value in (method or {}).items():
        if key == "software":
            continue  # merged into the software line below
        if key == "inputs":
            notes += _inputs_notes(value, lang)
            continue
        if key == "input_limits":
            continue  # at the top of the sheet (write_workbook)
        if key == "erosion_forms":
            notes.append((method_label(key, lang), erosion_forms_text(value, lang)))
            continue
        notes.append((method_label(key, lang), _flat(value, lang)))
    for name, path in sources.items():
        notes.append((_t(lang, f"源文件 {name}", f"Source {name}"), f"{path.name}  SHA-256 {file_sha256(path)}"))
    versions = {**software_versions(), **dict((method or {}).get("software") or {})}
    notes.append((_t(lang, "软件版本", "Software"), ", ".join(f"{k} {v}" for k, v in versions.items())))
    notes.append((_t(lang, "生成时间", "Generated"), _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")))
    notes.append(
        (
            _t(lang, "说明", "Note"),
            _t(
                lang,
                "数值为模型估算，不同于抽样调查的官方数字。",
                "Figures are model estimates and may differ from official sampling-based figures.",
            ),
        )
    )
    return notes


#: Names (zh, en) of the forms an erosion input comes in (the method record's ``erosion_forms`` values).
EROSION_FORM_NAMES = {
    "modulus": ("侵蚀模数栅格", "erosion-modulus raster"),
    "grades": ("侵蚀强度分级图", "intensity-grade raster"),
    "csle": ("由 CSLE 因子计算的侵蚀模数", "erosion modulus computed from the CSLE factors"),
    "patches": ("侵蚀图斑（矢量）", "erosion patches (polygons)"),
}
_PROCESS_NAMES = {"water": ("水力侵蚀", "water erosion"), "wind": ("风力侵蚀", "wind erosion")}


def erosion_forms_text(forms, lang: str = "zh") -> str:
    """ "水力侵蚀：侵蚀强度分级图；风力侵蚀：无": the method record's ``erosion_forms`` in words."""
    if not isinstance(forms, Mapping):
        return _flat(forms, lang)
    parts = []
    for process, form in forms.items():
        zh_en = _PROCESS_NAMES.get(str(process))
        name = _t(lang, *zh_en) if zh_en else str(process)
        if form is None:
            shown = _t(lang, "无", "none")
        else:
            form_names = EROSION_FORM_NAMES.get(str(form))
            shown = f"{_t(lang, *form_names)} ({form})" if form_names else str(form)
        parts.append(f"{name}{_t(lang, '：', ': ')}{shown}")
    return _t(lang, "；", "; ").join(parts)


def input_limits(method, lang: str = "zh") -> list[str]:
    """The method record's ``input_limits`` sentences in ``lang``: results this year's inputs cannot give.

    Each entry is ``{"zh": ..., "en": ...}`` (a plain string is taken as is); empty when absent.
    """
    out = []
    for entry in (method or {}).get("input_limits") or []:
        if isinstance(entry, Mapping):
            text = entry.get(lang) or entry.get("zh") or entry.get("en")
        else:
            text = entry
        if text:
            out.append(str(text))
    return out


def input_limits_heading(lang: str = "zh") -> str:
    """Heading of the notice listing :func:`input_limits` (workbook notes and report)."""
    return _t(lang, "注意：本年输入数据无法给出的结果", "Note: results this year's inputs cannot give")


#: Labels (zh, en) of the ``method`` record's keys (report and workbook notes).
METHOD_LABELS = {
    "crs": ("分析坐标系", "Analysis CRS"),
    "analysis_crs": ("分析坐标系", "Analysis CRS"),
    "resolution_m": ("分析格网分辨率 (m)", "Grid resolution (m)"),
    "allowable_loss": ("允许土壤流失量 T (t/(km²·a))", "Allowable soil loss T (t/(km²·a))"),
    "t_allowable": ("允许土壤流失量 T (t/(km²·a))", "Allowable soil loss T (t/(km²·a))"),
    "t_sensitivity_t_km2": ("T 敏感性：另算的 T 值 (t/(km²·a))", "T sensitivity: other T values (t/(km²·a))"),
    "inputs": ("输入数据", "Inputs"),
    "erosion_unit": ("侵蚀模数单位", "Erosion modulus unit"),
    "region": ("区域", "Region"),
    "targets": ("目标表", "Target table"),
    "landcover_legend": ("土地利用图例", "Land-cover legend"),
    "validation": ("输入检查", "Input validation"),
    "software": ("软件版本", "Software versions"),
    "year": ("评价年份", "Year"),
    "formula": ("计算公式", "Formula"),
    "allowable_loss_t_km2": ("各县允许土壤流失量 T (t/(km²·a))", "Allowable soil loss T per county (t/(km²·a))"),
    "resampling": ("重采样方法", "Resampling"),
    "edge_rule": ("县界边缘像元归属", "Edge pixels"),
    "landcover": ("土地利用", "Land cover"),
    "erosion": ("土壤侵蚀模数", "Soil erosion modulus"),
    "boundaries": ("行政区界", "Boundaries"),
    "default_t_km2": ("默认 T (t/(km²·a))", "Default T (t/(km²·a))"),
    "by_county": ("按县设定的 T", "T set per county"),
    "erosion_forms": ("侵蚀数据形式", "Erosion input forms"),
    "input_limits": ("本年输入无法给出的结果", "Results the inputs cannot give"),
}


def method_label(key, lang: str) -> str:
    """ "分析坐标系 (analysis_crs)": the label of a ``method`` key with the key itself (findable)."""
    key = str(key)
    if key in METHOD_LABELS:
        zh, en = METHOD_LABELS[key]
        return f"{_t(lang, zh, en)} ({key})"
    return key


def _flat(value, lang: str = "zh") -> str:
    if isinstance(value, dict):
        sep = "；" if lang == "zh" else "; "
        return sep.join(f"{method_label(k, lang)}: {_flat(v, lang)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_flat(v, lang) for v in value)
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


def _inputs_notes(inputs, lang: str) -> list[tuple[str, str]]:
    """One note per input file: path and SHA-256 (or that it is missing)."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = {Path(inputs).name: inputs}
    if isinstance(inputs, (list, tuple)):
        inputs = {Path(p).name: p for p in inputs}
    out = []
    for name, spec in dict(inputs).items():
        path = Path(str(spec.get("path", "") if isinstance(spec, dict) else spec))
        digest = file_sha256(path) if path.is_file() else _t(lang, "文件不存在", "file not found")
        out.append(
            (
                _t(lang, f"输入数据 {method_label(name, lang)}", f"Input {method_label(name, lang)}"),
                f"{path}  SHA-256 {digest}",
            )
        )
    return out


def _write_table(ws, table: Table, lang: str, demo: bool) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ncol = len(table.headers)
    title = table.title + (f"  【{DEMO_BANNER}】" if demo else "")
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=13, color="C00000" if demo else "000000")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.row_dimensions[1].height = 24
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    for j, header in enumerate(table.headers, start=1):
        c = ws.cell(row=2, column=j, value=header)
        c.font = Font(bold=True)
        c.fill = header_fill
        c.border = border
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[2].height = 48
    miss_fill = PatternFill("solid", fgColor="F8D7DA")
    region_fill = PatternFill("solid", fgColor="F2F2F2")
    total_fill = PatternFill("solid", fgColor="EEF3E8")
    widths = [max(8, min(text_width(h) // 2 + 2, 16)) for h in table.headers]
    for i, row in enumerate(table.rows):
        r = i + 3
        is_region = i in table.region_rows
        for j, (value, kind) in enumerate(zip(row, table.kinds), start=1):
            if kind == "met":
                cell_value = format_value(value, "met", lang)
            elif kind in EXCEL_FORMATS:
                cell_value = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
            else:
                cell_value = None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
            c = ws.cell(row=r, column=j, value=cell_value)
            c.border = border
            if kind in EXCEL_FORMATS:
                c.number_format = EXCEL_FORMATS[kind]
                c.alignment = Alignment(horizontal="right")
            elif kind in ("code", "met"):
                c.number_format = "@"
                c.alignment = Alignment(horizontal="center")
            if kind == "met" and value is False:
                c.fill = miss_fill
            if i in table.total_rows and not is_region:
                c.fill = total_fill
            if is_region:
                c.font = Font(bold=True)
                if not (kind == "met" and value is False):
                    c.fill = region_fill
            widths[j - 1] = max(widths[j - 1], text_width(format_value(value, kind, lang)) + 2)
    if table.note:
        ws.cell(row=len(table.rows) + 4, column=1, value=table.note).font = Font(italic=True, color="404040")
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = "C3"
    ws.auto_filter.ref = f"A2:{get_column_letter(ncol)}{len(table.rows) + 2}"
    ws.sheet_view.zoomScale = 100
    set_print_layout(ws, widths, title_rows="1:2", demo=demo)


#: A4 printable width in Excel pixels (96 dpi) with the 0.5-inch side margins set below.
_A4_PORTRAIT_PX = (8.27 - 2 * 0.5) * 96


def column_px(width: float) -> float:
    """Excel column width (characters of the default font) → pixels: 7 px per character + 5 px padding."""
    return 7 * width + 5


def set_print_layout(ws, widths: Sequence[float], *, title_rows: str, demo: bool) -> None:
    """Print the sheet on A4, one table's width per page (as many pages down as needed).

    Landscape when the columns are wider than A4 portrait's printable width; ``fitToPage``
    with ``fitToWidth=1, fitToHeight=0`` (Excel's and LibreOffice's "1 page wide, automatic
    height"); ``title_rows`` repeated on every page; centred; footer "page / pages"; the demo
    banner in red in every page header when ``demo``.
    """
    from openpyxl.worksheet.page import PageMargins

    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if sum(column_px(w) for w in widths) > _A4_PORTRAIT_PX else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    ws.oddFooter.center.text = "&P / &N"
    if demo:
        ws.oddHeader.center.text = DEMO_BANNER
        ws.oddHeader.center.color = "C00000"


def write_workbook(
    county_rates_csv: str | os.PathLike,
    target_comparison_csv: str | os.PathLike,
    erosion_by_landcover_csv: str | os.PathLike,
    out_xlsx: str | os.PathLike,
    *,
    lang: str = "zh",
    demo: bool = False,
    method: dict | None = None,
    process_csv: str | os.PathLike | None = None,
) -> Path:
    """Write the bulletin workbook (.xlsx) and return its path.

    Sheets: (a) 水土保持率与目标对比, (b) 各县水土流失面积按强度分级, 按侵蚀类型 (erosion by
    process: water, wind, total — only when ``process_csv`` is given), (c) 按土地利用类型
    (erosion area by land-use class), a long detail sheet, and 说明 (notes: method, T per
    county, source checksums, software versions, demo note).  Headers carry units; region
    rows are bold; header rows are frozen.  ``lang="en"`` writes English headers.
    ``method`` (optional) adds key/value lines to the notes sheet; its ``input_limits``
    (results the year's inputs cannot give) open the notes sheet, in red.
    ``process_csv``: the year's ``erosion_by_process.csv`` (:func:`read_erosion_by_process`);
    its total must equal ``county_rates.csv``'s erosion area.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    _check_lang(lang)
    rates = read_county_rates(county_rates_csv)
    comparison = read_target_comparison(target_comparison_csv)
    ebl = read_erosion_by_landcover(erosion_by_landcover_csv)
    tables = [targets_table(rates, comparison, lang), grades_table(rates, lang)]
    if process_csv is not None:
        by_process = read_erosion_by_process(process_csv)
        check_total_matches_rates(by_process, rates, process_csv)
        tables.append(process_table(by_process, lang))
    tables += [landuse_table(ebl, rates, lang), landuse_detail_table(ebl, lang)]
    sources = {
        "county_rates.csv": Path(county_rates_csv),
        "target_comparison.csv": Path(target_comparison_csv),
        "erosion_by_landcover.csv": Path(erosion_by_landcover_csv),
        **({"erosion_by_process.csv": Path(process_csv)} if process_csv is not None else {}),
    }
    wb = Workbook()
    wb.remove(wb.active)
    for table in tables:
        _write_table(wb.create_sheet(table.sheet), table, lang, demo)
    ws = wb.create_sheet(_t(lang, "说明", "Notes"))
    ws.cell(row=1, column=1, value=_t(lang, "说明", "Notes") + (f"  【{DEMO_BANNER}】" if demo else "")).font = Font(
        bold=True, size=13, color="C00000" if demo else "000000"
    )
    notes = _method_notes(rates, lang, demo, method, sources)
    limits = input_limits(method, lang)
    first_limit = 1 if demo else 0  # right below the demo note, above everything else
    notes[first_limit:first_limit] = [
        (input_limits_heading(lang) if j == 0 else "", text) for j, text in enumerate(limits)
    ]
    limit_rows = range(first_limit + 2, first_limit + 2 + len(limits))
    limit_fill = PatternFill("solid", fgColor="FFF2CC")
    for i, (k, v) in enumerate(notes, start=2):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True, color="C00000" if i in limit_rows else "000000")
        c = ws.cell(row=i, column=2, value=v)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if i in limit_rows:
            c.font = Font(bold=True, color="C00000")
            c.fill = ws.cell(row=i, column=1).fill = limit_fill
        # wrapped rows need an explicit height: neither openpyxl nor LibreOffice's import sizes them
        ws.row_dimensions[i].height = 15 * max(1, math.ceil(text_width(str(v)) / 104))
        ws.cell(row=i, column=1).alignment = Alignment(vertical="top", wrap_text=True)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    set_print_layout(ws, [28, 110], title_rows="1:1", demo=demo)
    wb.properties.title = tables[0].title
    wb.properties.creator = "swc-raster"
    with atomic_outputs(out_xlsx) as (tmp,):
        wb.save(tmp)
    return Path(out_xlsx)


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        raise InputError("lang", f"unknown language {lang!r}.", "use 'zh' (Chinese, default) or 'en'.")
