"""T sensitivity (issue 15): each county's rate at alternative T, counted in the same pass as the grades,
equals the rate of a separate run of the stages with every county at that T."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from swc_raster import stages
from swc_raster.csv_files import read_csv
from tests._rasters import ALBERS, counties, erosion_raster, landcover_raster

CODES = ["140502", "140581"]
ALTERNATIVES = [200.0, 500.0, 1000.0]
LEGEND = list(range(1, 9))


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tsens")
    area = counties(CODES)
    area.to_file(tmp / "counties.gpkg", layer="counties")
    # a raster cut 1.5 km inside the counties' bounds: data-gap land must stay out of both terms
    erosion = erosion_raster(tmp / "erosion.tif", area, margin_m=-1500.0, median_t_km2=400.0)
    landcover = landcover_raster(tmp / "landcover.tif", area)
    stages.prepare_boundaries(
        tmp / "counties.gpkg",
        layer="counties",
        code_field="county_code",
        name_field="county_name",
        name_en_field=None,
        analysis_crs=ALBERS,
        out_gpkg=tmp / "prepared.gpkg",
    )
    stages.prepare_batch(
        tmp / "prepared.gpkg",
        codes=CODES,
        analysis_crs=ALBERS,
        resolution_m=90.0,
        out_gpkg=tmp / "batch.gpkg",
        out_grid=tmp / "grid.json",
    )
    return tmp, landcover, erosion


def _count(case, name, t_by_county, alternatives=(), workers=1):
    tmp, landcover, erosion = case
    stages.crosstab(
        landcover,
        erosion,
        counties_gpkg=tmp / "batch.gpkg",
        grid_json=tmp / "grid.json",
        legend_codes=LEGEND,
        t_by_county=t_by_county,
        t_sensitivity=alternatives,
        out_crosstab=tmp / f"{name}.nc",
        out_sensitivity=tmp / f"{name}_sens.csv",
        workers=workers,
    )
    rates = stages.county_rates(
        tmp / f"{name}.nc",
        year=2023,
        counties_gpkg=tmp / "prepared.gpkg",
        t_by_county=t_by_county,
        region_code="140500",
        region_name="两县",
        demo=False,
        out_csv=tmp / f"{name}_rates.csv",
    )
    return rates


@pytest.mark.parametrize("workers", [1, 2])
def test_sensitivity_table_equals_separate_runs_at_each_t(case, workers):
    tmp = case[0]
    configured = {"140502": 200.0, "140581": 1000.0}
    main = _count(case, f"main{workers}", configured, ALTERNATIVES, workers)
    table = stages.t_sensitivity(
        [tmp / f"main{workers}_sens.csv"],
        tmp / f"main{workers}.nc",
        year=2023,
        counties_gpkg=tmp / "prepared.gpkg",
        t_sensitivity=ALTERNATIVES,
        region_code="140500",
        region_name="两县",
        demo=True,
        out_csv=tmp / f"t_sensitivity{workers}.csv",
    )
    written = read_csv(tmp / f"t_sensitivity{workers}.csv")
    assert list(written.columns[:7]) == [
        "year",
        "county_code",
        "county_name",
        "level",
        "t_km2",
        "erosion_area_km2",
        "rate_pct",
    ]
    assert len(table) == len(ALTERNATIVES) * (len(CODES) + 1)
    assert (main.gap_area_km2.iloc[:2] > 1.0).all(), "the case must hold data-gap land"
    for t in ALTERNATIVES:
        separate = _count(case, f"sep{int(t)}_{workers}", {c: t for c in CODES})
        got = table[table.t_km2 == t].set_index("county_code")
        want = separate.set_index("county_code")
        for code in [*CODES, "140500"]:
            assert got.loc[code, "erosion_area_km2"] == pytest.approx(want.loc[code, "erosion_area_km2"], abs=2e-6)
            assert got.loc[code, "rate_pct"] == pytest.approx(want.loc[code, "rate_pct"], abs=2e-6)
        assert got.loc["140500", "level"] == "region"
    # the configured T of each county reproduces the main run's own rate
    for code, t in configured.items():
        row = table[(table.t_km2 == t) & (table.county_code == code)].iloc[0]
        assert row.rate_pct == pytest.approx(main.set_index("county_code").loc[code, "rate_pct"], abs=2e-6)
    # more T, less erosion: the rate never falls as T rises
    for code in CODES:
        r = table[table.county_code == code].sort_values("t_km2").rate_pct.to_numpy()
        assert (np.diff(r) >= 0).all() and r[-1] > r[0]


def test_region_row_is_area_weighted_not_a_mean(case):
    tmp = case[0]
    _count(case, "w", {c: 200.0 for c in CODES}, [300.0])
    table = stages.t_sensitivity(
        [tmp / "w_sens.csv"],
        tmp / "w.nc",
        year=2023,
        counties_gpkg=tmp / "prepared.gpkg",
        t_sensitivity=[300.0],
        region_code="140500",
        region_name="两县",
        demo=False,
        out_csv=tmp / "w_table.csv",
    )
    rates = pd.read_csv(tmp / "w_rates.csv", dtype={"county_code": str}, encoding="utf-8-sig")
    counties_ = table[table.level == "county"].set_index("county_code")
    land = (
        rates.set_index("county_code").loc[CODES, "land_area_km2"]
        - rates.set_index("county_code").loc[CODES, "gap_area_km2"]
    )
    expected = 100.0 * (land.sum() - counties_.loc[CODES, "erosion_area_km2"].sum()) / land.sum()
    assert table[table.level == "region"].rate_pct.iloc[0] == pytest.approx(expected, abs=1e-5)


def test_counts_for_other_t_values_are_refused(case):
    tmp = case[0]
    _count(case, "x", {c: 200.0 for c in CODES}, [500.0])
    with pytest.raises(Exception, match="rerun the crosstab rule"):
        stages.t_sensitivity(
            [tmp / "x_sens.csv"],
            tmp / "x.nc",
            year=2023,
            counties_gpkg=tmp / "prepared.gpkg",
            t_sensitivity=[500.0, 1000.0],
            region_code="140500",
            region_name="两县",
            demo=False,
            out_csv=tmp / "x_table.csv",
        )


def test_no_alternatives_writes_a_header_only(case):
    tmp = case[0]
    _count(case, "none", {c: 200.0 for c in CODES})
    assert list(pd.read_csv(tmp / "none_sens.csv").columns) == ["county_code", "t_km2", "eroded_area_km2"]
    assert len(pd.read_csv(tmp / "none_sens.csv")) == 0
