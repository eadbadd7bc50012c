"""Rates and area-weighted aggregation on hand-made cross-tabs."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from swc_raster.rates import county_rates, landcover_long, rate_pct


def _crosstab(areas_by_grade: dict[str, list[float]]) -> xr.DataArray:
    codes = list(areas_by_grade)
    data = np.zeros((len(codes), 2, 8))
    for i, c in enumerate(codes):
        data[i, 1, :] = areas_by_grade[c]  # all in land-cover class 1
    return xr.DataArray(
        data,
        dims=("county_code", "landcover_code", "grade_code"),
        coords={"county_code": codes, "landcover_code": [0, 1], "grade_code": list(range(8))},
    )


def test_rate_formula_and_region_is_area_weighted():
    #            nodata g1   g2  g3  g4  g5  g6  gap
    big = [10.0, 590, 300, 80, 15, 4, 1, 0]  # land 1000, erosion 400 → 60 %
    small = [0.0, 90, 10, 0, 0, 0, 0, 0]  # land 100, erosion 10 → 90 %
    table = county_rates(
        _crosstab({"A": big, "B": small}),
        {"A": "甲", "B": "乙"},
        {"A": 200, "B": 200},
        year=2023,
        region_code="R",
        region_name="全区",
    )
    a, b, r = (table.iloc[i] for i in range(3))
    assert a.land_area_km2 == 1000 and a.erosion_area_km2 == 400 and a.rate_pct == pytest.approx(60.0)
    assert b.rate_pct == pytest.approx(90.0)
    # Region: (1100 − 410) / 1100, not the mean of 60 and 90 (= 75).
    assert r.level == "region" and r.rate_pct == pytest.approx(100 * 690 / 1100)
    assert r.nodata_area_km2 == 10 and r.area_grade2_km2 == 310


def test_gap_is_left_out_of_the_rate():
    # land 100 of which 10 gap; erosion 18 of 90 assessed → 80 %.
    table = county_rates(
        _crosstab({"A": [0, 72, 18, 0, 0, 0, 0, 10]}), {"A": "甲"}, {"A": 200}, year=1, region_code="R", region_name="R"
    )
    assert table.iloc[0].gap_area_km2 == 10 and table.iloc[0].rate_pct == pytest.approx(80.0)


def test_rate_pct_without_land_is_nan():
    assert np.isnan(rate_pct(5.0, 0.0, 5.0))


def test_landcover_long_names_and_drops_zero_rows():
    legend = pd.DataFrame({"code": [1], "name_zh": ["耕地"], "name_en": ["Cropland"]})
    long = landcover_long(_crosstab({"A": [0, 5, 2, 0, 0, 0, 0, 0]}), {"A": "甲"}, legend, year=2023)
    assert long[["grade_code", "area_km2"]].values.tolist() == [[1, 5.0], [2, 2.0]]
    assert set(long.landcover_name_zh) == {"耕地"} and set(long.grade_name_zh) == {"微度", "轻度"}
