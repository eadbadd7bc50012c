"""Erosion-modulus units: declaration, conversion to t/(km²·a), plausibility.

Everything inside swc-raster works in t/(km²·a), the unit of SL 190-2007's
grade thresholds.  Inputs declare their unit; this module converts them.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from swc_raster.errors import UnitError

#: Canonical unit names accepted in the config.
T_KM2: Final = "t/km2/a"
T_HA: Final = "t/ha/a"
T_PIXEL: Final = "t/pixel/a"
KG_M2: Final = "kg/m2/a"
UNITS: Final = (T_KM2, T_HA, T_PIXEL, KG_M2)

#: Spellings users write for the same units (normalised: lower case, no spaces).
_ALIASES: Final = {
    "t/(km2·a)": T_KM2, "t/(km²·a)": T_KM2, "t/km²/a": T_KM2, "t/km2/yr": T_KM2, "t/(km2*a)": T_KM2,
    "t/(ha·a)": T_HA, "t/ha/yr": T_HA, "t/(ha*a)": T_HA,
    "t/(pixel·a)": T_PIXEL, "t/pixel/yr": T_PIXEL, "t/(pixel*a)": T_PIXEL,
    "kg/(m2·a)": KG_M2, "kg/(m²·a)": KG_M2, "kg/m²/a": KG_M2, "kg/m2/yr": KG_M2, "kg/(m2*a)": KG_M2,
}

#: Multiplier from each area-based unit to t/(km²·a).
#: 1 ha = 0.01 km² so 1 t/ha = 100 t/km²; 1 kg/m² = 1e-3 t / 1e-6 km² = 1000 t/km².
TO_T_KM2: Final = {T_KM2: 1.0, T_HA: 100.0, KG_M2: 1000.0}


def normalise_unit(unit: str | None, input_name: str = "erosion_unit") -> str:
    """Return the canonical name of a declared erosion unit.

    Raises :class:`UnitError` when the unit is missing or unknown: guessing a
    unit is how a t/ha raster ends up graded as t/km² (rate ≈ 100 %).
    """
    if unit is None or str(unit).strip() == "":
        raise UnitError(
            input_name,
            "the erosion raster's unit is not declared.",
            f"add `erosion_unit:` with one of {', '.join(UNITS)} for this year in the config.",
        )
    key = str(unit).strip().lower().replace(" ", "")
    if key in UNITS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise UnitError(
        input_name,
        f"unknown erosion unit {unit!r}.",
        f"declare one of {', '.join(UNITS)} (1 t/ha/a = 100 t/km2/a; 1 kg/m2/a = 1000 t/km2/a).",
    )


def to_t_km2(values: np.ndarray, unit: str, pixel_area_km2: np.ndarray | float | None = None) -> np.ndarray:
    """Convert an erosion-modulus array to t/(km²·a) (float64 copy).

    ``pixel_area_km2`` (the true ground area of each source pixel, broadcastable
    to ``values``) is required for ``t/pixel/a`` and ignored otherwise.
    """
    unit = normalise_unit(unit)
    values = np.asarray(values, dtype="float64")
    if unit == T_PIXEL:
        if pixel_area_km2 is None:
            raise UnitError(unit, "t/pixel/a needs each pixel's ground area.", "pass pixel_area_km2.")
        return values / np.asarray(pixel_area_km2, dtype="float64")
    return values * TO_T_KM2[unit]


#: Medians (t/km²/a, over land with data) outside this range are implausible for
#: a water-erosion modulus raster; real county rasters have medians of tens to
#: a few thousand t/km²/a.
PLAUSIBLE_MEDIAN_T_KM2: Final = (5.0, 20_000.0)


def check_plausible(values_t_km2: np.ndarray, declared: str, input_name: str) -> str | None:
    """Say why converted values look mislabelled, or return ``None`` when plausible.

    The test is on the median of positive values: a t/ha raster declared as
    t/km² has a median ~100× too small, a t/km² raster declared as t/ha ~100× too large.
    """
    v = np.asarray(values_t_km2, dtype="float64")
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return None
    med = float(np.median(v))
    lo, hi = PLAUSIBLE_MEDIAN_T_KM2
    if med < lo:
        return (
            f"{input_name}: declared {declared}, but the median erosion modulus is only {med:.3g} t/km2/a "
            f"after conversion; the raster is probably in a larger unit (t/ha/a values are 100× smaller than t/km2/a)."
        )
    if med > hi:
        return (
            f"{input_name}: declared {declared}, but the median erosion modulus is {med:.3g} t/km2/a after "
            f"conversion; the raster is probably in a smaller unit (e.g. t/km2/a declared as t/ha/a)."
        )
    return None
