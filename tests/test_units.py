"""Erosion units: names, conversion factors, plausibility."""

import numpy as np
import pytest

from swc_raster.errors import UnitError
from swc_raster.units import check_plausible, normalise_unit, to_t_km2


@pytest.mark.parametrize("text,canonical", [
    ("t/km2/a", "t/km2/a"), ("t/(km²·a)", "t/km2/a"), (" T/HA/A ", "t/ha/a"), ("t/(ha·a)", "t/ha/a"),
    ("kg/(m²·a)", "kg/m2/a"), ("t/pixel/yr", "t/pixel/a"),
])
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
