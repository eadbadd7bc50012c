"""Erosion by process (water, wind, total) and grade: the bulletins' 水力侵蚀 / 风力侵蚀 / 合计 table.

The total comes from the year's cross-tab (the table every rate comes from: a cell's grade is the
more severe of the two processes); water and wind from the count of county × wind grade × water
grade made beside it (:func:`swc_raster.zonal.crosstab_with_sensitivity` with
``landcover_is_wind_grade``).  Land eroded by both processes counts once in the total:
total = water + wind − overlap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from swc_raster.grading import EROSION_GRADES, GAP_GRADE

PROCESS_NAMES = {
    "water": ("水力侵蚀", "water erosion"),
    "wind": ("风力侵蚀", "wind erosion"),
    "total": ("合计（水力、风力重叠只计一次）", "total (water and wind, overlap counted once)"),
}
PROCESS_GRADE_COLUMNS = [f"area_grade{g}_km2" for g in EROSION_GRADES]
#: The erosion_by_process.csv column contract (one row per county × process, then the region rows).
PROCESS_COLUMNS = [
    "year",
    "level",
    "county_code",
    "county_name",
    "process",
    "process_name_zh",
    "process_name_en",
    "land_area_km2",
    "assessed_area_km2",
    "erosion_area_km2",
    "erosion_share_pct",
    *PROCESS_GRADE_COLUMNS,
    "overlap_area_km2",
]


def _rows(process: str, land: pd.Series, assessed: pd.Series, by_grade: pd.DataFrame) -> pd.DataFrame:
    """One process's rows: ``by_grade`` is county × grade (areas, km²) with at least grades 2–6."""
    out = pd.DataFrame(index=land.index)
    out["process"] = process
    out["land_area_km2"] = land
    out["assessed_area_km2"] = assessed
    for g, col in zip(EROSION_GRADES, PROCESS_GRADE_COLUMNS):
        out[col] = by_grade[g]
    out["erosion_area_km2"] = out[PROCESS_GRADE_COLUMNS].sum(axis=1)
    out["overlap_area_km2"] = np.nan
    return out


def process_table(
    crosstab: xr.DataArray,
    joint: xr.DataArray | None,
    names: dict[str, str],
    *,
    year: int | str,
    region_code: str,
    region_name: str,
) -> pd.DataFrame:
    """The ``erosion_by_process.csv`` table.

    ``crosstab``: county × land cover × grade (the total).  ``joint``: county × wind grade (as
    ``landcover_code``: 0 no wind data, 1–6) × water grade, or None for a year without a wind layer
    (water is then the total).
    """
    total = crosstab.sum("landcover_code").to_pandas()  # county × grade 0–7
    land = total.sum(axis=1)
    rows = {"total": _rows("total", land, land - total[GAP_GRADE], total)}
    if joint is None:
        rows["water"] = _rows("water", land, land - total[GAP_GRADE], total)
    else:
        joint = joint.reindex(county_code=total.index)
        water = joint.sum("landcover_code").to_pandas()
        wind = joint.sum("grade_code").to_pandas()  # county × wind grade 0–6
        rows["water"] = _rows("water", land, land - water[GAP_GRADE], water)
        wind_assessed = wind[[g for g in wind.columns if g >= 1]].sum(axis=1)
        rows["wind"] = _rows("wind", land, wind_assessed, wind.reindex(columns=range(8), fill_value=0.0))
        both = joint.sel(landcover_code=list(EROSION_GRADES), grade_code=list(EROSION_GRADES)).sum(
            ["landcover_code", "grade_code"]
        )
        rows["total"]["overlap_area_km2"] = both.to_pandas()
    order = [p for p in ("water", "wind", "total") if p in rows]
    long = pd.concat([rows[p] for p in order]).rename_axis("county_code").reset_index()
    long["level"] = "county"
    long["county_name"] = long["county_code"].map(names)
    long["_order"] = long["process"].map({p: i for i, p in enumerate(order)})
    long = long.sort_values(["county_code", "_order"], kind="stable")
    sums = ["land_area_km2", "assessed_area_km2", "erosion_area_km2", *PROCESS_GRADE_COLUMNS]
    region = long.groupby("process", sort=False)[[*sums, "overlap_area_km2"]].sum(min_count=1).reset_index()
    region["level"] = "region"
    region["county_code"] = region_code
    region["county_name"] = region_name
    region["_order"] = region["process"].map({p: i for i, p in enumerate(order)})
    out = pd.concat([long, region.sort_values("_order")], ignore_index=True)
    out["process_name_zh"] = out["process"].map(lambda p: PROCESS_NAMES[p][0])
    out["process_name_en"] = out["process"].map(lambda p: PROCESS_NAMES[p][1])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["erosion_share_pct"] = np.where(
            out["assessed_area_km2"] > 0, 100.0 * out["erosion_area_km2"] / out["assessed_area_km2"], np.nan
        )
    out["year"] = year
    return out[PROCESS_COLUMNS].round(6).reset_index(drop=True)
