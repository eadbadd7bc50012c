"""The method record: every parameter behind a year's numbers, as plain values.

The workflow builds it when it is parsed (from the typed settings) and hands it to the
workbook and report rules as a ``params:`` entry, so those outputs are redone when any
recorded parameter changes, and the record always says what the numbers were computed with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from swc_raster.config import Settings
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
            alternatives
            if not y.is_vector
            else "not computed: the year is delivered as polygons (T sensitivity needs a modulus raster)"
        )
    if y.csle is not None:
        record["csle"] = dict(y.csle)
    return record
