"""The method record: every parameter behind a year's numbers, as plain values.

The workflow builds it when it is parsed (from the typed settings) and hands it to the
workbook and report rules as a ``params:`` entry, so those outputs are redone when any
recorded parameter changes, and the record always says what the numbers were computed with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from swc_raster.config import Settings, YearInputs
from swc_raster.rates import RATE_FORMULA

EDGE_RULE = (
    "coverage fraction in the tables (a boundary cell counts in each county by the share of it inside); "
    "pixel centre in the rasters"
)


def method_record(settings: Settings, year: int, county_codes: Iterable[str]) -> dict[str, Any]:
    """The parameters of one year's computation (JSON-serialisable; no file is read)."""
    y = settings.year(year)
    a = settings.analysis
    record: dict[str, Any] = {
        "formula": RATE_FORMULA,
        "allowable_loss_t_km2": {code: settings.allowable_loss.t_for(code) for code in sorted(county_codes)},
        "analysis_crs": a.crs,
        "resolution_m": a.resolution_m,
        "resampling": {"landcover": a.landcover_resampling, "erosion": a.erosion_resampling},
        "erosion_unit": y.erosion_unit,
        "min_coverage_pct": settings.validation.min_coverage_pct,
        "edge_rule": EDGE_RULE,
        "inputs": {
            "boundaries": settings.boundaries.path,
            "targets": settings.targets,
            "landcover_legend": settings.landcover_legend,
            "landcover": y.landcover,
            "erosion": y.erosion,
        },
    }
    alternatives = list(settings.allowable_loss.sensitivity_t_km2)
    if alternatives:
        record["t_sensitivity_t_km2"] = (
            "not computed: the year is delivered as polygons (T sensitivity needs a modulus raster)"
            if y.is_vector
            else "not computed: the erosion raster holds grades (T sensitivity needs a modulus raster)"
            if y.is_graded
            else alternatives
        )
    if y.csle is not None:
        record["csle"] = dict(y.csle)
    record["erosion_forms"] = erosion_forms(y)
    record["input_limits"] = input_limits(y)
    if y.has_wind:
        record["inputs"]["wind_erosion"] = y.wind_erosion
        record["wind_erosion_unit"] = y.wind_erosion_unit
        if y.wind_erosion_grades is None:
            record["wind_grading_t_km2"] = list(settings.wind_thresholds_t_km2)
    if y.is_graded:
        record["erosion_grades"] = {k: list(v) for k, v in dict(y.erosion_grades).items()}
    if y.wind_erosion_grades is not None:
        record["wind_erosion_grades"] = {k: list(v) for k, v in dict(y.wind_erosion_grades).items()}
    return record


def erosion_forms(y: YearInputs) -> dict[str, str | None]:
    """How the year's water and wind erosion were delivered."""
    water = "patches" if y.is_vector else "csle" if y.is_csle else "grades" if y.is_graded else "modulus"
    wind = None if not y.has_wind else "grades" if y.wind_erosion_grades is not None else "modulus"
    return {"water": water, "wind": wind}


def input_limits(y: YearInputs) -> list[dict[str, str]]:
    """What this year's inputs cannot give, in both languages (shown in the workbook and report)."""
    limits = []
    if y.is_graded:
        limits.append(
            {
                "zh": "水力侵蚀为强度分级图输入：各县容许土壤流失量 T 不影响结果（微度与轻度的界线已在分级图中确定）；"
                "无 T 敏感性分析；无侵蚀模数及土壤流失量统计。",
                "en": "Water erosion given as an intensity-grade raster: the counties' allowable soil loss T does "
                "not change the result (the slight/light boundary is fixed in the grades); no T sensitivity; "
                "no erosion-modulus or soil-loss statistics.",
            }
        )
    if y.wind_erosion_grades is not None:
        limits.append(
            {
                "zh": "风力侵蚀为强度分级图输入：无风蚀模数统计。",
                "en": "Wind erosion given as an intensity-grade raster: no wind-erosion modulus statistics.",
            }
        )
    if y.is_vector:
        limits.append(
            {
                "zh": "侵蚀图斑与土地利用矢量输入：无 T 敏感性分析，无侵蚀强度分级栅格图。",
                "en": "Erosion patches and land-use polygons: no T sensitivity, no erosion-grade raster.",
            }
        )
    return limits
