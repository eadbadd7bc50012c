"""Erosion units: names, conversion factors, plausibility of the whole distribution (decision 0006)."""

import numpy as np
import pytest
from scipy.special import ndtri

from swc_raster.errors import UnitError
from swc_raster.terrain import spectral_field, to_uniform
from swc_raster.units import ErosionProfile, check_plausible, erosion_profile, normalise_unit, to_t_km2, unit_doubt


@pytest.mark.parametrize(
    "text,canonical",
    [
        ("t/km2/a", "t/km2/a"),
        ("t/(km²·a)", "t/km2/a"),
        (" T/HA/A ", "t/ha/a"),
        ("t/(ha·a)", "t/ha/a"),
        ("kg/(m²·a)", "kg/m2/a"),
        ("t/pixel/yr", "t/pixel/a"),
    ],
)
def test_spellings(text, canonical):
    assert normalise_unit(text) == canonical


@pytest.mark.parametrize("bad", [None, "", "t/acre"])
def test_missing_or_unknown_unit_is_an_error_with_a_fix(bad):
    with pytest.raises(UnitError, match="Fix:"):
        normalise_unit(bad)


def test_conversion_factors_by_hand():
    # 1 t/ha = 1 t / 0.01 km² = 100 t/km²;  1 kg/m² = 0.001 t / 1e-6 km² = 1000 t/km².
    assert to_t_km2(np.array([2.5]), "t/ha/a")[0] == 250.0
    assert to_t_km2(np.array([0.3]), "kg/m2/a")[0] == pytest.approx(300.0)
    # 0.9 t on a 30 m pixel (0.0009 km²) = 1000 t/km².
    assert to_t_km2(np.array([0.9]), "t/pixel/a", 0.0009)[0] == pytest.approx(1000.0)
    with pytest.raises(UnitError):
        to_t_km2(np.array([1.0]), "t/pixel/a")


def test_plausibility_catches_t_ha_read_as_t_km2():
    rng = np.random.default_rng(1)
    t_km2 = rng.lognormal(np.log(300), 1.0, 10_000)
    assert check_plausible(t_km2, "t/km2/a", "x") is None
    assert "larger unit" in check_plausible(t_km2 / 100, "t/km2/a", "x")
    assert "smaller unit" in check_plausible(t_km2 * 100, "t/ha/a", "x")


# --------------------------------------------------------------------------- whole-distribution plausibility


def low_erosion_t_km2(shape=(300, 300), seed=7) -> np.ndarray:
    """A realistic low-erosion modulus field, t/(km²·a): spatially coherent (terrain-like), 80 % of the
    cells below 200, a log-normal tail (median 40, σ = ln 5 / Φ⁻¹(0.8)) capped at 20 000."""
    u = np.clip(to_uniform(spectral_field(shape, seed, corr_length_px=30)).astype("float64"), 1e-6, 1 - 1e-6)
    sigma = np.log(200 / 40) / ndtri(0.8)
    return np.minimum(40.0 * np.exp(sigma * ndtri(u)), 20_000.0)


def test_profile_by_hand():
    v = np.array([0, 100, 199, 200, 999, 1000, 15_000, 20_000, np.nan, -1.0])
    p = erosion_profile(v)  # NaN and negatives ignored: 8 cells
    assert p.n == 8
    assert p.share_slight_at_smallest_t == 3 / 8  # 0, 100, 199 < 200
    assert p.rate_at_largest_t == 5 / 8  # … and 200, 999 < 1000
    assert p.share_severe == 2 / 8  # 15 000 and 20 000 are 剧烈
    assert p.median_positive_t_km2 == 999.0  # median of the 7 positive values
    assert erosion_profile(np.zeros(4)) is None  # no positive value: nothing to judge


def test_low_erosion_field_is_what_the_test_claims():
    t = low_erosion_t_km2()
    assert 0.78 < np.mean(t < 200) < 0.82 and t.max() == 20_000.0
    # read ×100 (t/km² declared t/ha) the rate with T = 200 would collapse: share of true values < 2
    assert np.mean(t < 2) < 0.10


@pytest.mark.parametrize(
    "scale,declared", [(1.0, "t/km2/a"), (0.01, "t/ha/a"), (0.001, "kg/m2/a"), (0.0009, "t/pixel/a")]
)
def test_every_real_unit_of_a_low_erosion_raster_is_accepted(scale, declared):
    # the same field stored in each real unit (t/pixel on 30 m cells: × 0.0009 km²), declared correctly
    t = low_erosion_t_km2()
    assert unit_doubt(t * scale, declared, np.full(t.shape, 0.0009)) is None


def test_t_km2_declared_t_ha_in_a_low_erosion_region_is_refused():
    # the median alone (≈ 4 000 t/km² once ×100) looked plausible: the distribution does not
    t = low_erosion_t_km2()
    d = unit_doubt(t, "t/ha/a", np.full(t.shape, 0.0009))
    assert d is not None and d.direction == "smaller" and d.likely_units[0] == "t/km2/a"
    assert d.profile.share_severe == pytest.approx(np.mean(t * 100 >= 15_000))
    assert "probably in a smaller unit" in d.message() and "read as t/km2/a" in d.message()


def test_t_ha_declared_t_km2_in_a_low_erosion_region_is_refused():
    t_ha = low_erosion_t_km2() / 100
    d = unit_doubt(t_ha, "t/km2/a")
    assert d is not None and d.direction == "larger" and d.likely_units[0] == "t/ha/a"
    assert "probably in a larger unit" in d.message()


def test_t_ha_of_an_eroded_region_declared_t_km2_is_refused_though_its_median_passes():
    # median 6 t/ha: read as t/km² the median (6) passed the old rule, and 99.8 % of the land would be 微度
    rng = np.random.default_rng(3)
    t_ha = rng.lognormal(np.log(6), 1.2, 100_000)
    assert np.median(t_ha) > 5 and np.mean(t_ha < 200) > 0.995
    d = unit_doubt(t_ha, "t/km2/a")
    assert d is not None and d.direction == "larger" and d.likely_units[0] == "t/ha/a"
    assert "微度 even with T = 200" in d.reason


def test_a_heavily_eroded_region_in_its_real_unit_is_accepted():
    # loess-like: median 800 t/km², 3 % 剧烈, rate ≈ 56 % with T = 1000 — severe, but real
    rng = np.random.default_rng(4)
    t = rng.lognormal(np.log(800), 1.6, 100_000)
    assert unit_doubt(t, "t/km2/a") is None
    assert unit_doubt(t / 100, "t/ha/a") is None


def test_profile_is_a_value_object():
    p = erosion_profile(np.array([1.0, 2.0, 3.0]))
    assert isinstance(p, ErosionProfile) and p.too_small() is not None  # median 2 t/km² < 5
