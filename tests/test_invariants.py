"""Property tests of the science's invariants on random small cases (hypothesis)."""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from swc_raster.errors import CoverageError
from swc_raster.grid import AnalysisGrid
from swc_raster.rates import county_rates
from swc_raster.zonal import crosstab
from tests._rasters import ALBERS

RES = 100.0


def _case(tmp, seed, n_counties):
    """Random erosion (with nodata), random land cover, counties tiling part of the grid as vertical strips."""
    rng = np.random.default_rng(seed)
    h, w = 40, 10 * n_counties
    grid = AnalysisGrid.covering((0, 0, w * RES, h * RES), ALBERS, RES)
    a = rng.lognormal(np.log(400), 1.5, (h, w)).astype("float32")
    a[rng.random((h, w)) < 0.05] = -9999.0
    with rasterio.open(tmp / "ero.tif", "w", **grid.profile("float32", -9999.0, block=16)) as dst:
        dst.write(a, 1)
    with rasterio.open(tmp / "lc.tif", "w", **grid.profile("uint8", 0, block=16)) as dst:
        dst.write(rng.integers(1, 4, (h, w)).astype("uint8"), 1)
    # Strip edges at least ~1.2 cells apart and off the cell lines, so every county holds cell centres.
    edges = (
        np.sort(rng.choice(np.arange(1, w // 2), n_counties - 1, replace=False)) * 2
        + rng.uniform(-0.4, 0.4, n_counties - 1)
    ) * RES
    xs = [0.0, *edges, w * RES]
    polys = [shapely.box(x0, 0, x1, h * RES) for x0, x1 in zip(xs, xs[1:])]
    counties = gpd.GeoDataFrame(
        {
            "zone": np.arange(1, n_counties + 1),
            "county_code": [f"{i:06d}" for i in range(n_counties)],
            "county_name": [f"县{i}" for i in range(n_counties)],
        },
        geometry=polys,
        crs=ALBERS,
    )
    return grid, counties


def _rates(tmp, grid, counties, t_values):
    t_by_zone = np.r_[0.0, t_values]
    table = crosstab(tmp / "lc.tif", tmp / "ero.tif", counties, [1, 2, 3], grid, t_by_zone, window_size=64, workers=1)
    return county_rates(
        table,
        dict(zip(counties.county_code, counties.county_name)),
        dict(zip(counties.county_code, t_values)),
        year=1,
        region_code="999999",
        region_name="全区",
    )


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 4), t=st.sampled_from([200.0, 500.0, 1000.0]))
def test_grade_areas_sum_to_land_area_and_rates_are_percentages(tmp_path_factory, seed, n, t):
    tmp = tmp_path_factory.mktemp("inv")
    grid, counties = _case(tmp, seed, n)
    table = _rates(tmp, grid, counties, [t] * n)
    parts = table[[f"area_grade{g}_km2" for g in range(1, 7)]].sum(axis=1) + table.nodata_area_km2 + table.gap_area_km2
    np.testing.assert_allclose(parts, table.land_area_km2, rtol=0, atol=9 * 0.5e-6)  # the table rounds areas to 1 m²
    assert table.rate_pct.between(0, 100).all()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3))
def test_rate_never_decreases_as_t_increases(tmp_path_factory, seed, n):
    tmp = tmp_path_factory.mktemp("mono")
    grid, counties = _case(tmp, seed, n)
    rates = [_rates(tmp, grid, counties, [t] * n).rate_pct.to_numpy() for t in (200.0, 500.0, 1000.0, 2000.0)]
    assert all((later >= earlier - 1e-12).all() for earlier, later in zip(rates, rates[1:]))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 4), perm_seed=st.integers(0, 100))
def test_results_unchanged_under_reordering_of_counties(tmp_path_factory, seed, n, perm_seed):
    tmp = tmp_path_factory.mktemp("perm")
    grid, counties = _case(tmp, seed, n)
    base = _rates(tmp, grid, counties, [200.0] * n).set_index("county_code").sort_index()
    order = np.random.default_rng(perm_seed).permutation(n)
    shuffled = counties.iloc[order].reset_index(drop=True)
    shuffled["zone"] = np.arange(1, n + 1)
    again = _rates(tmp, grid, shuffled, [200.0] * n).set_index("county_code").sort_index()
    np.testing.assert_allclose(
        again.drop(columns=["county_name", "level"]).to_numpy(float),
        base.drop(columns=["county_name", "level"]).to_numpy(float),
    )


def test_a_county_without_any_cell_is_an_error_not_a_blank(tmp_path):
    grid, counties = _case(tmp_path, 1, 2)
    outside = counties.copy()
    outside.loc[1, "geometry"] = shapely.box(-50 * RES, 0, -40 * RES, 40 * RES)  # off the grid: no land counted
    with pytest.raises(CoverageError, match="000001"):
        _rates(tmp_path, grid, outside, [200.0, 200.0])


def test_a_sliver_county_gets_its_area_not_nothing(tmp_path):
    """10 m wide on 100 m cells: no cell centre, but its coverage of the cells it crosses is counted."""
    grid, counties = _case(tmp_path, 1, 2)
    sliver = counties.copy()
    sliver.loc[1, "geometry"] = shapely.box(5 * RES + 10, 0, 5 * RES + 20, 40 * RES)
    table = _rates(tmp_path, grid, sliver, [200.0, 200.0]).set_index("county_code")
    assert table.loc["000001", "land_area_km2"] == pytest.approx(0.010 * 4.0, abs=1e-6)
