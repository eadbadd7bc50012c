"""The government's target table: read, match to the boundaries, check, compare.

The table is wide: ``county_code, county_name, target_2025, target_2035`` (one
``target_YYYY`` column per target year, values in %), one row per county plus
one row for the whole region.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from swc_raster.errors import InputError, InputFileError
from swc_raster.names import normalise_code, normalise_name

_TARGET_COL = re.compile(r"^target_(\d{4})$")


def target_years(table: pd.DataFrame) -> list[int]:
    """Target years named by the ``target_YYYY`` columns of a target table, ascending."""
    years = sorted(int(m.group(1)) for c in table.columns if (m := _TARGET_COL.match(str(c))))
    if not years:
        raise InputError(
            "targets table",
            "no target_YYYY column.",
            "give the targets as county_code,county_name,target_2025,target_2035 (config/targets.csv).",
        )
    return years


def read_targets(path: str | Path) -> pd.DataFrame:
    """Read the target table; codes as strings, names without whitespace, targets as floats in [0, 100]."""
    path = Path(path)
    label = f"targets ({path})"
    if not path.exists():
        raise InputFileError(label, "the file does not exist.", "check `targets:` in the config.")
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    table.columns = [c.strip() for c in table.columns]
    missing = {"county_code", "county_name"} - set(table.columns)
    years = sorted(int(m.group(1)) for c in table.columns if (m := _TARGET_COL.match(str(c))))
    if missing or not years:
        raise InputError(
            label,
            f"needs columns county_code, county_name and target_YYYY; has {list(table.columns)}.",
            "use the layout of config/targets.csv.",
        )
    table["county_code"] = table["county_code"].map(normalise_code)
    table["county_name"] = table["county_name"].map(normalise_name)
    for y in years:
        col = f"target_{y}"
        values = pd.to_numeric(table[col].str.strip().str.rstrip("%"), errors="coerce")
        bad = table.loc[values.isna() | (values < 0) | (values > 100), "county_name"].tolist()
        if bad:
            raise InputError(
                label, f"{col} is not a percentage in 0–100 for {bad}.", "write targets as numbers like 67.61."
            )
        table[col] = values
    dup = table.county_code[table.county_code.duplicated()].tolist()
    if dup:
        raise InputError(label, f"repeats county code(s) {dup}.", "keep one row per county.")
    return table


def match_to_boundaries(targets: pd.DataFrame, counties: pd.DataFrame, region_code: str, source: str) -> None:
    """Every boundary county must have a target row, every target row a county (or be the region).

    A row matches by code; a row whose code is unknown but whose name (without
    whitespace) is a county's name is reported as a code mismatch.
    """
    county_codes = set(counties["county_code"])
    names = dict(zip(counties["county_code"], counties["county_name"]))
    rows = targets[targets.county_code != region_code]
    extra = rows[~rows.county_code.isin(county_codes)]
    missing = sorted(county_codes - set(rows.county_code))
    problems = []
    if len(extra):
        problems.append(
            "rows not in the boundaries: " + ", ".join(f"{c} {n}" for c, n in zip(extra.county_code, extra.county_name))
        )
    if missing:
        problems.append("boundary counties without a target: " + ", ".join(f"{c} {names[c]}" for c in missing))
    if region_code not in set(targets.county_code):
        problems.append(f"no row for the whole region {region_code}")
    if problems:
        raise InputError(
            f"targets ({source})",
            "; ".join(problems) + ".",
            "make the table's county_code column use the boundaries' GB/T 2260 codes, one row per county "
            "plus one for the region (config region.code).",
        )
    for code, name in zip(rows.county_code, rows.county_name):
        if names[code] != name:
            warnings.warn(
                f"targets ({source}): county {code} is named {name!r} there but {names[code]!r} in the boundaries.",
                stacklevel=2,
            )


def check_region_consistency(
    targets: pd.DataFrame, land_area_km2: dict[str, float], region_code: str, tolerance_pp: float = 0.1
) -> list[str]:
    """Warn when the region's target differs from the area-weighted county targets by more than ``tolerance_pp``.

    Returns the warning texts (also issued as warnings).  The Jincheng plan
    passes: 67.59 vs 67.61 for 2025 and 81.49 vs 81.5 for 2035.
    """
    notes = []
    counties = targets[targets.county_code != region_code]
    region = targets[targets.county_code == region_code]
    weights = counties.county_code.map(land_area_km2).to_numpy(dtype="float64")
    for y in target_years(targets):
        weighted = float(np.sum(weights * counties[f"target_{y}"]) / np.sum(weights))
        stated = float(region[f"target_{y}"].iloc[0])
        if abs(weighted - stated) > tolerance_pp:
            note = (
                f"targets: the region's {y} target {stated:.2f} % differs from the area-weighted county targets "
                f"{weighted:.2f} % by {abs(weighted - stated):.2f} pp (> {tolerance_pp} pp); check the table."
            )
            warnings.warn(note, stacklevel=2)
            notes.append(note)
    return notes


def compare(rates: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """The ``target_comparison.csv`` table: rate, target, gap (pp) and met, per target year."""
    out = rates[["year", "level", "county_code", "county_name", "rate_pct"]].copy()
    by_code = targets.set_index("county_code")
    for y in target_years(targets):
        target = out["county_code"].map(by_code[f"target_{y}"])
        out[f"target_{y}_pct"] = target
        out[f"gap_{y}_pp"] = out["rate_pct"] - target
        out[f"met_{y}"] = out[f"gap_{y}_pp"] >= 0
    return out
