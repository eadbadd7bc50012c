"""Soil and water conservation rates (水土保持率) from the cross-tab.

rate (%) = (land − erosion) / land × 100, where erosion is the area of grades
2–6 (A ≥ T).  Erosion nodata counts as non-eroded land; land outside the
erosion raster (a data gap) is left out of both terms, so the rate is that of
the land with data.  Aggregates are area-weighted: Σ erosion / Σ land.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from swc_raster.errors import CoverageError
from swc_raster.grading import EROSION_GRADES, GAP_GRADE, NODATA_GRADE

#: The rate formula as every output states it (method record, workbook notes, report).
RATE_FORMULA = (
    "rate = (land − gap − erosion) / (land − gap) × 100; erosion = SL 190-2007 grades 2–6 (A ≥ T); "
    "erosion nodata counts as non-eroded land; gap = land outside the erosion raster (0 when covered); "
    "the region value is area-weighted (Σ erosion / Σ land)"
)
RATE_FORMULA_ZH = (
    "水土保持率 = (土地面积 − 数据缺失面积 − 水土流失面积) / (土地面积 − 数据缺失面积) × 100；"
    "水土流失面积为 SL 190-2007 轻度至剧烈（A ≥ T）；侵蚀数据空值计为非流失土地；"
    "区域值按面积加权（由各县面积之和计算），不是各县百分比的平均。"
)

#: The erosion_by_landcover.csv column contract (one row per county × land-cover class × grade).
LANDCOVER_COLUMNS = [
    "year",
    "county_code",
    "county_name",
    "landcover_code",
    "landcover_name_zh",
    "landcover_name_en",
    "grade_code",
    "grade_name_zh",
    "grade_name_en",
    "area_km2",
]
GRADE_COLUMNS = [f"area_grade{g}_km2" for g in range(1, 7)]
RATE_COLUMNS = [
    "year",
    "level",
    "county_code",
    "county_name",
    "t_allowable_t_km2",
    "land_area_km2",
    "erosion_area_km2",
    "rate_pct",
    *GRADE_COLUMNS,
    "nodata_area_km2",
    "gap_area_km2",
]


def rate_pct(
    land_km2: np.ndarray | float, erosion_km2: np.ndarray | float, gap_km2: np.ndarray | float = 0.0
) -> np.ndarray | float:
    """100 × (land − gap − erosion) / (land − gap); NaN where no land has data."""
    assessed = np.asarray(land_km2, dtype="float64") - np.asarray(gap_km2, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(assessed > 0, 100.0 * (assessed - np.asarray(erosion_km2)) / assessed, np.nan)
    return rate if rate.ndim else float(rate)


def county_rates(
    crosstab: xr.DataArray,
    names: dict[str, str],
    t_by_county: dict[str, float],
    *,
    year: int | str,
    region_code: str,
    region_name: str,
) -> pd.DataFrame:
    """One row per county, then the region row, in the ``county_rates.csv`` contract."""
    by_grade = crosstab.sum("landcover_code").to_pandas()  # county × grade, km²
    empty = [f"{c} {names[c]}" for c in by_grade.index[by_grade.sum(axis=1) <= 0]]
    if empty:
        raise CoverageError(
            f"counties {', '.join(empty)}",
            "have no land on the analysis grid, so they have no rate.",
            "check that the boundaries and the rasters cover these counties (CRS, extent).",
        )
    rows = pd.DataFrame(index=by_grade.index)
    for g in range(1, 7):
        rows[f"area_grade{g}_km2"] = by_grade[g]
    rows["nodata_area_km2"] = by_grade[NODATA_GRADE]
    rows["gap_area_km2"] = by_grade[GAP_GRADE]
    rows["land_area_km2"] = by_grade.sum(axis=1)
    rows["erosion_area_km2"] = by_grade[list(EROSION_GRADES)].sum(axis=1)
    rows["county_name"] = [names[c] for c in rows.index]
    rows["t_allowable_t_km2"] = [float(t_by_county[c]) for c in rows.index]
    rows["level"] = "county"
    rows = rows.reset_index().rename(columns={"index": "county_code"})
    sums = rows[[*GRADE_COLUMNS, "nodata_area_km2", "gap_area_km2", "land_area_km2", "erosion_area_km2"]].sum()
    ts = set(rows["t_allowable_t_km2"])
    region = {
        **sums.to_dict(),
        "county_code": region_code,
        "county_name": region_name,
        "level": "region",
        "t_allowable_t_km2": ts.pop() if len(ts) == 1 else np.nan,
    }
    out = pd.concat([rows, pd.DataFrame([region])], ignore_index=True)
    out["rate_pct"] = rate_pct(out["land_area_km2"], out["erosion_area_km2"], out["gap_area_km2"])
    out["year"] = year
    # Six decimals (1 m² in km²) drop float noise from the sums without losing information.
    return out[RATE_COLUMNS].round(6)


SENSITIVITY_COLUMNS = ["year", "county_code", "county_name", "level", "t_km2", "erosion_area_km2", "rate_pct"]


def t_sensitivity(
    crosstab: xr.DataArray,
    eroded: pd.DataFrame,
    names: dict[str, str],
    *,
    year: int | str,
    region_code: str,
    region_name: str,
) -> pd.DataFrame:
    """The ``t_sensitivity.csv`` table: each county's rate had every county the alternative T, then the region.

    ``eroded``: ``county_code, t_km2, eroded_area_km2`` — the area with A ≥ T (defined modulus, inside the
    erosion raster) counted beside the grades.  Land and gap areas come from ``crosstab`` (T does not move
    them); the rate follows :func:`rate_pct`, the region row is area-weighted (sums of the county areas).
    """
    by_grade = crosstab.sum("landcover_code").to_pandas()
    land = by_grade.sum(axis=1)
    gap = by_grade[GAP_GRADE]
    missing = sorted(set(by_grade.index) - set(eroded["county_code"]))
    if missing and len(eroded):
        raise CoverageError(f"counties {missing}", "have no T-sensitivity counts.", "rerun the crosstab rule.")
    rows = []
    for t, part in eroded.groupby("t_km2", sort=True):
        e = part.set_index("county_code")["eroded_area_km2"].reindex(by_grade.index)
        block = pd.DataFrame(
            {
                "county_code": by_grade.index,
                "county_name": [names[c] for c in by_grade.index],
                "level": "county",
                "t_km2": float(t),
                "erosion_area_km2": e.to_numpy(),
                "land": land.to_numpy(),
                "gap": gap.to_numpy(),
            }
        )
        region = {
            "county_code": region_code,
            "county_name": region_name,
            "level": "region",
            "t_km2": float(t),
            "erosion_area_km2": block["erosion_area_km2"].sum(),
            "land": block["land"].sum(),
            "gap": block["gap"].sum(),
        }
        rows.append(pd.concat([block, pd.DataFrame([region])], ignore_index=True))
    if not rows:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    out = pd.concat(rows, ignore_index=True)
    out["rate_pct"] = rate_pct(out["land"], out["erosion_area_km2"], out["gap"])
    out["year"] = year
    return out[SENSITIVITY_COLUMNS].round(6)


def landcover_long(
    crosstab: xr.DataArray, names: dict[str, str], legend: pd.DataFrame, *, year: int | str
) -> pd.DataFrame:
    """The ``erosion_by_landcover.csv`` long table (zero-area rows dropped)."""
    from swc_raster.grading import GRADE_NAMES_EN, GRADE_NAMES_ZH

    df = crosstab.to_dataframe(name="area_km2").reset_index()
    df = df[df["area_km2"] > 0].copy()
    lz = dict(zip(legend["code"].astype(int), legend["name_zh"]))
    le = dict(zip(legend["code"].astype(int), legend["name_en"]))
    df.insert(0, "year", year)
    df.insert(2, "county_name", df["county_code"].map(names))
    df["landcover_name_zh"] = df["landcover_code"].map(lz).fillna("未分类")
    df["landcover_name_en"] = df["landcover_code"].map(le).fillna("unclassified")
    df["grade_name_zh"] = df["grade_code"].map(GRADE_NAMES_ZH)
    df["grade_name_en"] = df["grade_code"].map(GRADE_NAMES_EN)
    df["area_km2"] = df["area_km2"].round(6)
    return df[LANDCOVER_COLUMNS].reset_index(drop=True)
