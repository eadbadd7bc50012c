"""The zonal engine against a naive per-cell reference, and areas of analytic shapes."""

import math

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from swc_raster.grid import AnalysisGrid
from swc_raster.zonal import crosstab, window_for_memory

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=GRS80 +units=m"


def _write(path, array, grid, nodata):
    with rasterio.open(path, "w", **grid.profile(str(array.dtype), nodata, block=16)) as dst:
        dst.write(array, 1)


def _naive(lc, grade, polygons, grid, legend):
    """Per-cell reference: the county whose polygon contains the cell centre."""
    rows, cols = np.indices(grid.shape)
    t = grid.transform
    xs, ys = t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e
    out = np.zeros((len(polygons), len(legend) + 1, 8), dtype="int64")
    for z, poly in enumerate(polygons):
        inside = shapely.contains_xy(poly, xs, ys)
        for l_raw, g in zip(lc[inside], grade[inside]):
            li = legend.index(l_raw) + 1 if l_raw in legend else 0
            out[z, li, 7 if g == 255 else g] += 1
    return out


def _setup(tmp_path, seed, shape, n_polys):
    rng = np.random.default_rng(seed)
    h, w = shape
    grid = AnalysisGrid.covering((0, 0, w * 100.0, h * 100.0), ALBERS, 100.0)
    lc = rng.integers(0, 5, shape).astype("uint8")  # 0 = no data, 4 not in legend
    grade = rng.integers(0, 8, shape).astype("uint8")
    polys, taken = [], shapely.Polygon()
    for _ in range(n_polys):
        cx, cy = rng.uniform(0, w * 100), rng.uniform(0, h * 100)
        r = rng.uniform(150, 0.6 * min(h, w) * 100)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
        p = shapely.Polygon(np.c_[cx + r * np.cos(angles), cy + r * np.sin(angles)]).difference(taken)
        if p.area > 0:
            polys.append(p)
            taken = taken.union(p)
    counties = gpd.GeoDataFrame({"zone": np.arange(1, len(polys) + 1), "county_code": [f"C{i}" for i in range(len(polys))]},
                                geometry=polys, crs=ALBERS)
    _write(tmp_path / "lc.tif", lc, grid, 0)
    _write(tmp_path / "grade.tif", grade, grid, 255)
    return grid, lc, grade, counties


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), h=st.integers(20, 90), w=st.integers(20, 90), n=st.integers(1, 4),
       window=st.sampled_from([64, 128]))
def test_engine_equals_naive_reference(tmp_path_factory, seed, h, w, n, window):
    tmp = tmp_path_factory.mktemp("z")
    grid, lc, grade, counties = _setup(tmp, seed, (h, w), n)
    legend = [1, 2, 3]
    got = crosstab(tmp / "lc.tif", tmp / "grade.tif", counties, legend, grid, window_size=window, workers=1)
    expected = _naive(lc, grade, list(counties.geometry), grid, legend) * grid.cell_area_km2
    np.testing.assert_allclose(got.values, expected)


def test_window_size_and_worker_count_do_not_change_the_result(tmp_path):
    grid, _, _, counties = _setup(tmp_path, 7, (300, 260), 4)
    runs = [crosstab(tmp_path / "lc.tif", tmp_path / "grade.tif", counties, [1, 2, 3], grid,
                     window_size=ws, workers=wk).values for ws, wk in [(64, 1), (128, 2), (4096, 1)]]
    assert all(np.array_equal(runs[0], r) for r in runs[1:])
    assert all(max(win.width, win.height) <= 64 for win in grid.windows(64))


def test_area_of_a_grid_aligned_rectangle_is_exact(tmp_path):
    grid, _, _, _ = _setup(tmp_path, 1, (100, 100), 1)
    rect = gpd.GeoDataFrame({"zone": [1], "county_code": ["R"]}, geometry=[shapely.box(1000, 2000, 4000, 4000)], crs=ALBERS)
    got = crosstab(tmp_path / "lc.tif", tmp_path / "grade.tif", rect, [1, 2, 3], grid, window_size=64, workers=1)
    assert float(got.sum()) == pytest.approx(3.0 * 2.0)  # 3 km × 2 km


def test_area_of_a_disc_is_close_to_pi_r_squared(tmp_path):
    grid, _, _, _ = _setup(tmp_path, 1, (100, 100), 1)
    disc = gpd.GeoDataFrame({"zone": [1], "county_code": ["D"]}, geometry=[shapely.Point(5000, 5000).buffer(3000, 256)],
                            crs=ALBERS)
    got = float(crosstab(tmp_path / "lc.tif", tmp_path / "grade.tif", disc, [1], grid, window_size=64, workers=1).sum())
    assert got == pytest.approx(math.pi * 9.0, rel=0.005)  # pixel-centre error along a 19 km edge of 100 m cells


def test_memory_budget_sets_the_window_and_rejects_impossible_budgets():
    assert window_for_memory(1000, 2) == 2048
    assert window_for_memory(24000, 2) == 4096
    with pytest.raises(ValueError, match="mem_mb"):
        window_for_memory(200, 2)
