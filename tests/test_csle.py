"""CSLE factors against values worked out by hand.

Every expected number below was computed independently of the code (with a
calculator / the ``math`` module from the published formulas), never copied
from the functions' output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine

from swc_raster import csle

# --------------------------------------------------------------------------- slope


def plane(rows: int, cols: int, gx: float, gy: float, res_x: float, res_y: float) -> np.ndarray:
    """z = 1000 + gx·x − gy·y with x east and y north in metres (row 0 is north)."""
    x = (np.arange(cols) + 0.5) * res_x
    y = -(np.arange(rows) + 0.5) * res_y
    return (1000.0 + gx * x[None, :] + gy * y[:, None]).astype("float64")


def test_slope_of_tilted_plane_square_cells():
    # gradient (0.3, 0.4) -> |grad| = 0.5 -> atan(0.5) = 26.56505°
    dem = plane(12, 9, 0.3, 0.4, 10.0, 10.0)
    slope = csle.slope_degrees(dem, 10.0, 10.0)
    assert slope.shape == dem.shape
    np.testing.assert_allclose(slope, 26.56505, atol=1e-3)  # edges included


def test_slope_of_tilted_plane_rectangular_cells():
    # 20° plane falling to the south, cells 30 m wide and 20 m high
    g = math.tan(math.radians(20.0))
    dem = plane(8, 8, 0.0, g, 30.0, 20.0)
    np.testing.assert_allclose(csle.slope_degrees(dem, 30.0, 20.0), 20.0, atol=1e-3)
    # same rise, wrong cell height: the slope changes accordingly (atan(2·tan20°) = 36.05°)
    np.testing.assert_allclose(csle.slope_degrees(dem, 30.0, 10.0), 36.0524, atol=1e-3)


def test_flat_dem_has_zero_slope():
    assert np.all(csle.slope_degrees(np.full((5, 5), 800.0), 30, 30) == 0)


def test_slope_rejects_bad_input():
    with pytest.raises(ValueError):
        csle.slope_degrees(np.zeros(5), 30, 30)
    with pytest.raises(ValueError):
        csle.slope_degrees(np.zeros((3, 3)), 0, 30)


# --------------------------------------------------------------------------- L and S


def test_L_on_20_degree_100_m_plane():
    # L = (100 / 22.13)^0.5 = 2.125736 (θ > 5° → m = 0.5)
    assert csle.slope_length_factor(100.0, 20.0) == pytest.approx(2.125736, rel=1e-6)
    assert csle.slope_length_factor(100.0, 20.0) == pytest.approx(math.sqrt(100 / 22.13))


@pytest.mark.parametrize(
    "theta, expected",
    [
        (0.5, 1.148698),  # 2^0.2
        (1.0, 1.148698),  # boundary: θ ≤ 1° → 0.2
        (2.0, 1.231144),  # 2^0.3
        (3.0, 1.231144),  # boundary: θ ≤ 3° → 0.3
        (4.0, 1.319508),  # 2^0.4
        (5.0, 1.319508),  # boundary: θ ≤ 5° → 0.4
        (5.5, 1.414214),  # 2^0.5
        (35.0, 1.414214),
    ],
)
def test_L_exponent_by_slope_class(theta, expected):
    # λ = 2 × 22.13 m, so L = 2^m
    assert csle.slope_length_factor(2 * 22.13, theta) == pytest.approx(expected, rel=1e-6)


def test_L_cap_respected():
    # λ = 1000 m capped at 300: L = (300/22.13)^0.5 = 3.681882
    assert csle.slope_length_factor(1000.0, 20.0) == pytest.approx(3.681882, rel=1e-6)
    assert csle.slope_length_factor(1000.0, 20.0) == csle.slope_length_factor(300.0, 20.0)
    # another cap
    assert csle.slope_length_factor(1000.0, 20.0, cap_m=100.0) == pytest.approx(2.125736, rel=1e-6)
    # below the cap nothing changes
    assert csle.slope_length_factor(50.0, 20.0, cap_m=100.0) == pytest.approx(math.sqrt(50 / 22.13))


def test_L_is_one_on_unit_plot():
    assert np.allclose(csle.slope_length_factor(np.full(4, 22.13), [0.5, 2, 4, 20]), 1.0)


def test_S_csle_branches():
    # 20°: 21.91·sin20° − 0.96 = 6.533661
    assert csle.slope_steepness_factor(20.0) == pytest.approx(6.533661, rel=1e-6)
    assert csle.slope_steepness_factor(20.0) == pytest.approx(21.91 * math.sin(math.radians(20)) - 0.96)
    # 3°: 10.8·sin3° + 0.03 = 0.595228
    assert csle.slope_steepness_factor(3.0) == pytest.approx(0.595228, rel=1e-5)
    # 7°: 16.8·sin7° − 0.50 = 1.547405
    assert csle.slope_steepness_factor(7.0) == pytest.approx(1.547405, rel=1e-5)
    # 12°: Liu 1994 branch, 21.91·sin12° − 0.96 = 3.595345
    assert csle.slope_steepness_factor(12.0) == pytest.approx(3.595345, rel=1e-5)
    # boundaries: 5° and 10° belong to the steeper branch
    assert csle.slope_steepness_factor(5.0) == pytest.approx(16.8 * math.sin(math.radians(5)) - 0.5)
    assert csle.slope_steepness_factor(10.0) == pytest.approx(21.91 * math.sin(math.radians(10)) - 0.96)


def test_S_at_30_degrees_csle_vs_rusle():
    # domain notes: ≈ 10.0 (CSLE) against 7.9 (RUSLE) at 30°
    assert csle.slope_steepness_factor(30.0) == pytest.approx(21.91 * 0.5 - 0.96)  # 9.995
    assert csle.slope_steepness_factor(30.0) == pytest.approx(10.0, abs=0.01)
    assert csle.slope_steepness_factor(30.0, method="rusle") == pytest.approx(16.8 * 0.5 - 0.5)  # 7.9
    assert csle.slope_steepness_factor(30.0, method="rusle") == pytest.approx(7.9)


def test_S_rusle_switches_at_9_percent():
    # tanθ = 0.09 at θ = 5.1428°
    below, above = 5.1, 5.2
    assert csle.slope_steepness_factor(below, "rusle") == pytest.approx(10.8 * math.sin(math.radians(below)) + 0.03)
    assert csle.slope_steepness_factor(above, "rusle") == pytest.approx(16.8 * math.sin(math.radians(above)) - 0.5)
    # 12°: RUSLE stays on 16.8 sinθ − 0.5 = 2.992916
    assert csle.slope_steepness_factor(12.0, "rusle") == pytest.approx(2.992916, rel=1e-5)
    # below 10° the two methods agree except between 5° and 5.14°
    for theta in (1.0, 3.0, 6.0, 9.5):
        assert csle.slope_steepness_factor(theta, "rusle") == pytest.approx(csle.slope_steepness_factor(theta))


def test_S_unknown_method():
    with pytest.raises(ValueError):
        csle.slope_steepness_factor(10.0, method="usle")


# --------------------------------------------------------------------------- λ from a DEM


def test_slope_length_on_uniform_plane_from_dem():
    # 10 rows of 10 m on a 20° plane falling to the south: the n-th row below
    # the divide has λ = n·10 m; the bottom row, 100 m.
    res = 10.0
    g = math.tan(math.radians(20.0))
    dem = plane(10, 7, 0.0, g, res, res)
    transform = Affine(res, 0, 500_000, 0, -res, 4_000_000)
    lam = csle.slope_length_from_dem(dem, transform, cap_m=None)
    expected_rows = res * np.arange(1, 11)
    np.testing.assert_allclose(lam, np.repeat(expected_rows[:, None], 7, axis=1))
    # And the whole LS at the foot of the slope:
    # L·S = (100/22.13)^0.5 · (21.91 sin20° − 0.96) = 2.125736 · 6.533661 = 13.888838
    slope = csle.slope_degrees(dem, res, res)
    ls = csle.ls_factor(lam, slope)
    assert ls[-1, 3] == pytest.approx(13.888838, rel=1e-4)  # slope is float32


def test_slope_length_cap_and_nodata():
    res = 30.0
    g = math.tan(math.radians(15.0))
    dem = plane(20, 5, 0.0, g, res, res)
    dem[0, 0] = np.nan
    lam = csle.slope_length_from_dem(dem, Affine(res, 0, 0, 0, -res, 0), cap_m=300.0)
    assert np.isnan(lam[0, 0])
    assert np.nanmax(lam) == pytest.approx(300.0)  # 20·30 = 600 m capped
    assert lam[4, 2] == pytest.approx(150.0)  # 5th row: 5·30 m
    assert lam[-1, 2] == pytest.approx(300.0)


def test_slope_length_converges_in_a_valley():
    # A V-shaped valley draining south: the valley floor column collects both sides.
    res = 10.0
    x = np.abs(np.arange(11) - 5)[None, :] * 1.0
    y = np.arange(15)[::-1][:, None] * 0.5
    dem = 100.0 + 5.0 * x + y
    lam = csle.slope_length_from_dem(dem, Affine(res, 0, 0, 0, -res, 0), cap_m=None)
    assert lam[-1, 5] > lam[-1, 0]
    assert lam[-1, 5] == pytest.approx(dem.size * res)  # the whole grid drains through it


def test_slope_length_rejects_rotated_grid():
    with pytest.raises(ValueError):
        csle.slope_length_from_dem(np.zeros((3, 3)), Affine(10, 1, 0, 0, -10, 0))


# --------------------------------------------------------------------------- vegetation


def test_fractional_vegetation_cover():
    fvc = csle.fractional_vegetation_cover(np.array([0.45, 0.05, 0.85, 0.0, 0.95, np.nan]), 0.05, 0.85)
    np.testing.assert_allclose(fvc[:5], [0.5, 0.0, 1.0, 0.0, 1.0])
    assert np.isnan(fvc[5])
    # per-pixel end-members
    assert csle.fractional_vegetation_cover(0.5, np.array([0.1, 0.2]), np.array([0.9, 0.8])) == pytest.approx(
        [0.5, 0.5]
    )
    with pytest.raises(ValueError):
        csle.fractional_vegetation_cover(0.5, 0.8, 0.2)


def test_B_jiang_forest_and_grassland():
    lu = np.array([3, 4, 2, 3, 4])
    fvc = np.array([0.5, 0.5, 0.5, 0.03, 0.03])
    b = csle.biological_factor_B(fvc, lu)
    # forest, c = 50 %: exp(−0.0085 · 45^1.5) = 0.076851
    assert b[0] == pytest.approx(0.076851, rel=1e-4)
    # grassland, c = 50 %: exp(−0.0418 · 45) = 0.152438
    assert b[1] == pytest.approx(0.152438, rel=1e-4)
    # orchard follows the grassland relation
    assert b[2] == pytest.approx(b[1])
    # c ≤ 5 %: no protection
    assert b[3] == pytest.approx(1.0)
    assert b[4] == pytest.approx(1.0)


def test_B_cai2000():
    lu = np.array([3, 4, 3, 3, 4])
    fvc = np.array([0.5, 0.5, 0.0, 0.80, 0.10])
    b = csle.biological_factor_B(fvc, lu, method="cai2000")
    # 0.6508 − 0.3436·lg 50 = 0.067034
    assert b[0] == pytest.approx(0.067034, rel=1e-4)
    assert b[1] == pytest.approx(0.067034, rel=1e-4)
    assert b[2] == 1.0  # bare
    assert b[3] == 0.0  # ≥ 78.3 %
    # 0.6508 − 0.3436·lg 10 = 0.3072
    assert b[4] == pytest.approx(0.3072, rel=1e-4)


def test_B_fixed_rules():
    lu = np.array([1, 5, 6, 7, 8, 0])
    b = csle.biological_factor_B(np.full(6, 0.9), lu)
    assert b[0] == 1.0  # cropland: B = 1 whatever the cover
    assert b[1] == 0.0 and b[2] == 0.0 and b[3] == 0.0  # built-up, transport, water
    assert b[4] == 1.0  # other (bare) land
    assert np.isnan(b[5])  # unknown / nodata code


def test_B_decreases_with_cover():
    lu = np.full(11, 3)
    b = csle.biological_factor_B(np.linspace(0, 1, 11), lu)
    assert np.all(np.diff(b) <= 0)
    assert b.min() >= 0 and b.max() <= 1


def test_tillage_only_on_cropland():
    t = csle.tillage_factor_T(np.array([1, 2, 3, 4, 5, 8]), 0.37)
    np.testing.assert_allclose(t, [0.37, 1, 1, 1, 1, 1], rtol=1e-6)


def test_engineering_factor_table():
    e = csle.engineering_factor_E(np.array(["none", "level_terrace", "fish_scale_pit"]))
    np.testing.assert_allclose(e, [1.0, 0.084, 0.249], rtol=1e-6)
    with pytest.raises(ValueError):
        csle.engineering_factor_E("moat")


# --------------------------------------------------------------------------- soil loss


def test_soil_loss_value_and_units():
    # 400 · 0.008 · 2 · 0.1 · 1 · 1 = 0.64 t/(ha·a) = 64 t/(km²·a)
    a = csle.soil_loss(400.0, 0.008, 2.0, 0.1, 1.0, 1.0)
    assert a == pytest.approx(0.64)
    assert csle.t_ha_to_t_km2(a) == pytest.approx(64.0)
    # bottom of the 20° 100 m plane, bare soil: 400·0.01·13.888838 = 55.555 t/ha
    assert csle.soil_loss(400.0, 0.01, 13.888838, 1.0) == pytest.approx(55.555352, rel=1e-6)


def test_soil_loss_linear_in_R_and_K():
    rng = np.random.default_rng(1)
    ls, b, e, t = (rng.uniform(0.01, 5, 50) for _ in range(4))
    base = csle.soil_loss(300.0, 0.005, ls, b, e, t)
    np.testing.assert_allclose(csle.soil_loss(600.0, 0.005, ls, b, e, t), 2 * base)
    np.testing.assert_allclose(csle.soil_loss(300.0, 0.015, ls, b, e, t), 3 * base)
    np.testing.assert_allclose(csle.soil_loss(450.0, 0.010, ls, b, e, t), 3 * base)


def test_soil_loss_rejects_negative_factors():
    with pytest.raises(ValueError):
        csle.soil_loss(-1.0, 0.01, 1.0, 1.0)


# --------------------------------------------------------------------------- large-raster behaviour


def test_float32_inputs_stay_float32():
    theta = np.array([[2.0, 20.0]], dtype=np.float32)
    lam = np.array([[50.0, 100.0]], dtype=np.float32)
    assert csle.slope_length_factor(lam, theta).dtype == np.float32
    assert csle.slope_steepness_factor(theta).dtype == np.float32
    a = csle.soil_loss(lam, np.float32(0.01), theta, np.ones_like(theta), np.ones_like(theta), np.ones_like(theta))
    assert a.dtype == np.float32
    assert csle.t_ha_to_t_km2(a).dtype == np.float32
    # float32 results agree with the float64 ones
    assert csle.slope_steepness_factor(theta)[0, 1] == pytest.approx(6.533661, rel=1e-5)


def test_soil_loss_does_not_modify_inputs():
    r = np.full(3, 400.0)
    k = np.full(3, 0.01)
    before = r.copy()
    csle.soil_loss(r, k, np.full(3, 2.0), np.full(3, 0.5))
    np.testing.assert_array_equal(r, before)


def test_upstream_area_and_fill_option():
    # 10 rows of 10 m on a south-facing plane: the bottom row drains 10 cells = 1000 m².
    res = 10.0
    dem = plane(10, 4, 0.0, 0.3, res, res)
    t = Affine(res, 0, 0, 0, -res, 0)
    area = csle.upstream_area_from_dem(dem, t)
    np.testing.assert_allclose(area[-1], 1000.0)
    # A plane has no depressions: filling or not gives the same λ.
    np.testing.assert_allclose(
        csle.slope_length_from_dem(dem, t, fill=False), csle.slope_length_from_dem(dem, t, fill=True)
    )
    # A pit: without filling its rim drains into it and stops there.
    pit = dem.copy()
    pit[5, 1] -= 50.0
    lam_nofill = csle.slope_length_from_dem(pit, t, cap_m=None, fill=False)
    lam_fill = csle.slope_length_from_dem(pit, t, cap_m=None, fill=True)
    assert lam_nofill[-1, 1] < lam_fill[-1, 1]


def test_slope_next_to_nodata_comes_from_the_available_neighbours():
    # a 12° plane with holes: every valid cell, next to a hole or at the edge, has the plane's slope
    res = 30.0
    dem = plane(12, 9, 0.0, math.tan(math.radians(12.0)), res, res)
    dem[4, 4] = dem[0, 3] = dem[11, 8] = np.nan
    dem[6:8, 0] = np.nan
    slope = csle.slope_degrees(dem, res, res)
    valid = np.isfinite(dem)
    np.testing.assert_allclose(slope[valid], 12.0, atol=1e-3)
    assert np.isnan(slope[~valid]).all()
