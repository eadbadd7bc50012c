"""Erosion-modulus units: declaration, conversion to t/(km²·a), plausibility.

Everything inside swc-raster works in t/(km²·a), the unit of SL 190-2007's
grade thresholds.  Inputs declare their unit; this module converts them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from swc_raster.errors import UnitError

#: No data in the erosion modulus as the engine reads it (t/(km²·a), float32): below every real value.
EROSION_NODATA: Final = -9999.0

#: Canonical unit names accepted in the config.
T_KM2: Final = "t/km2/a"
T_HA: Final = "t/ha/a"
T_PIXEL: Final = "t/pixel/a"
KG_M2: Final = "kg/m2/a"
UNITS: Final = (T_KM2, T_HA, T_PIXEL, KG_M2)

#: Spellings users write for the same units (normalised: lower case, no spaces).
_ALIASES: Final = {
    "t/(km2·a)": T_KM2,
    "t/(km²·a)": T_KM2,
    "t/km²/a": T_KM2,
    "t/km2/yr": T_KM2,
    "t/(km2*a)": T_KM2,
    "t/(ha·a)": T_HA,
    "t/ha/yr": T_HA,
    "t/(ha*a)": T_HA,
    "t/(pixel·a)": T_PIXEL,
    "t/pixel/yr": T_PIXEL,
    "t/(pixel*a)": T_PIXEL,
    "kg/(m2·a)": KG_M2,
    "kg/(m²·a)": KG_M2,
    "kg/m²/a": KG_M2,
    "kg/m2/yr": KG_M2,
    "kg/(m2*a)": KG_M2,
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


# --------------------------------------------------------------------------- plausibility
# The rule and the reasoning behind each threshold: docs/decisions/0006-unit-plausibility.md.

#: Medians of the positive moduli (t/km²/a) outside this range are implausible for a county's
#: water-erosion raster: real ones have medians of tens to a few thousand t/km²/a.
PLAUSIBLE_MEDIAN_T_KM2: Final = (5.0, 20_000.0)
#: The smallest and largest allowable soil loss T in use (SL 190-2007), t/km²/a.
T_SMALLEST_T_KM2: Final = 200.0
T_LARGEST_T_KM2: Final = 1000.0
#: SL 190-2007's 剧烈 (severe) threshold, t/km²/a.
SEVERE_T_KM2: Final = 15_000.0
#: More of the land than this in 剧烈 is implausible (剧烈 water erosion: ≈ 0.4 % of China, ≈ 6 % of the Loess Plateau).
MAX_SEVERE_SHARE: Final = 0.15
#: A rate below this even with the largest T is implausible (county rates are 60–100 % in practice).
MIN_RATE_AT_LARGEST_T: Final = 0.20
#: Nearly all land 微度 even at the smallest T (a rate ≥ 99.5 %) is suspicious when …
MIN_SLIGHT_SHARE_SUSPICIOUS: Final = 0.995
#: … the top 0.1 % of the values still reaches this (×100: SL 190's 中度 threshold 2500), …
MIN_TAIL_Q999_T_KM2: Final = 25.0
#: … and the values ×100 are a plausible county that shows erosion (rate at the smallest T ≤ 99 %).
MAX_SLIGHT_SHARE_TIMES_100: Final = 0.99


@dataclass(frozen=True)
class ErosionProfile:
    """What an erosion raster's values imply once read in a unit: grades and rate bounds.

    Shares are of the land with data (cells with a valid modulus, zeros included).
    """

    n: int
    median_positive_t_km2: float
    q99_t_km2: float
    q999_t_km2: float
    share_slight_at_smallest_t: float  # share < 200 t/km²/a: the rate if T = 200
    rate_at_largest_t: float  # share < 1000 t/km²/a: the highest rate any T allows
    share_severe: float  # share ≥ 15 000 t/km²/a (剧烈)

    def describe(self) -> str:
        return (
            f"median {_num(self.median_positive_t_km2)} t/km2/a, 99th percentile {_num(self.q99_t_km2)}, "
            f"{100 * self.share_severe:.3g} % of the land 剧烈 (≥ 15000), a rate of "
            f"{100 * self.share_slight_at_smallest_t:.3g} % with T = 200 and "
            f"{100 * self.rate_at_largest_t:.3g} % with T = 1000"
        )

    def too_large(self) -> str | None:
        """Why the values are implausibly large, or ``None``."""
        if self.median_positive_t_km2 > PLAUSIBLE_MEDIAN_T_KM2[1]:
            return f"the median modulus {_num(self.median_positive_t_km2)} t/km2/a is above 20000"
        if self.share_severe > MAX_SEVERE_SHARE:
            return (
                f"{100 * self.share_severe:.3g} % of the land would be 剧烈 (≥ 15000 t/km2/a; "
                f"implausible above {100 * MAX_SEVERE_SHARE:g} %)"
            )
        if self.rate_at_largest_t < MIN_RATE_AT_LARGEST_T:
            return (
                f"the rate would be at most {100 * self.rate_at_largest_t:.3g} % even with T = 1000 "
                f"(county rates are 60–100 % in practice: China 72 %, Shanxi 63–66 %)"
            )
        return None

    def too_small(self, times_100: ErosionProfile | None = None) -> str | None:
        """Why the values are implausibly small, or ``None``.

        ``times_100`` is the profile of the same values read 100× larger: nearly all land 微度 is
        suspicious only when that reading gives a real-looking county.
        """
        if self.median_positive_t_km2 < PLAUSIBLE_MEDIAN_T_KM2[0]:
            return f"the median modulus is only {_num(self.median_positive_t_km2)} t/km2/a (below 5)"
        if (
            self.share_slight_at_smallest_t >= MIN_SLIGHT_SHARE_SUSPICIOUS
            and self.q999_t_km2 >= MIN_TAIL_Q999_T_KM2
            and times_100 is not None
            and times_100.too_large() is None
            and times_100.share_slight_at_smallest_t <= MAX_SLIGHT_SHARE_TIMES_100
        ):
            return (
                f"{100 * self.share_slight_at_smallest_t:.4g} % of the land would be 微度 even with T = 200 "
                f"(rate ≈ 100 %), with a tail just below the grade thresholds ÷ 100 (top 0.1 % ≥ "
                f"{_num(self.q999_t_km2)} t/km2/a), while the values ×100 give a regular erosion picture "
                f"({100 * times_100.share_slight_at_smallest_t:.3g} % 微度 with T = 200, "
                f"{100 * times_100.share_severe:.3g} % 剧烈)"
            )
        return None


def erosion_profile(values_t_km2: np.ndarray) -> ErosionProfile | None:
    """The :class:`ErosionProfile` of moduli in t/km²/a (non-finite and negative values ignored)."""
    v = np.asarray(values_t_km2, dtype="float64")
    v = v[np.isfinite(v) & (v >= 0)]
    pos = v[v > 0]
    if pos.size == 0:
        return None
    return ErosionProfile(
        n=int(v.size),
        median_positive_t_km2=float(np.median(pos)),
        q99_t_km2=float(np.quantile(v, 0.99)),
        q999_t_km2=float(np.quantile(v, 0.999)),
        share_slight_at_smallest_t=float(np.mean(v < T_SMALLEST_T_KM2)),
        rate_at_largest_t=float(np.mean(v < T_LARGEST_T_KM2)),
        share_severe=float(np.mean(v >= SEVERE_T_KM2)),
    )


@dataclass(frozen=True)
class UnitDoubt:
    """A declared unit under which the values are implausible, and the units under which they are not."""

    declared: str
    direction: str  # "larger" (values too small for the declared unit) or "smaller" (too large)
    reason: str
    profile: ErosionProfile
    likely_units: tuple[str, ...]  # real units under which the values look plausible
    likely_profiles: tuple[ErosionProfile, ...]

    def message(self) -> str:
        text = (
            f"declared {self.declared}, but read so the values imply: {self.reason}; "
            f"{self.profile.describe()}. The raster is probably in a {self.direction} unit ("
            + (
                "t/ha/a values are 100× smaller than t/km2/a"
                if self.direction == "larger"
                else "e.g. t/km2/a declared as t/ha/a"
            )
            + ")"
        )
        if self.likely_units:
            u, p = self.likely_units[0], self.likely_profiles[0]
            text += f": read as {u} they give {p.describe()}"
            if len(self.likely_units) > 1:
                text += f" (also plausible: {', '.join(self.likely_units[1:])})"
        return text + "."


def unit_doubt(
    raw_values: np.ndarray,
    declared: str,
    pixel_area_km2: np.ndarray | float | None = None,
) -> UnitDoubt | None:
    """Check that raw erosion values are plausible in their declared unit; ``None`` when they are.

    ``raw_values`` are the raster's values as stored (a sample of the valid cells, zeros
    included); ``pixel_area_km2`` each one's cell area, needed for (and only for) ``t/pixel/a``.
    The values are read in the declared unit and judged on the whole distribution (median,
    share in 剧烈, the rate the smallest and the largest T would give); when implausible,
    every other unit is tried, to name the likely real one.
    """
    declared = normalise_unit(declared)
    if declared == T_PIXEL and pixel_area_km2 is None:
        raise UnitError(declared, "t/pixel/a needs each pixel's ground area.", "pass pixel_area_km2.")
    prof = erosion_profile(to_t_km2(raw_values, declared, pixel_area_km2))
    if prof is None:
        return None
    reason = prof.too_large()
    direction = "smaller"
    if reason is None:
        reason = prof.too_small(erosion_profile(to_t_km2(raw_values, declared, pixel_area_km2) * 100.0))
        direction = "larger"
    if reason is None:
        return None
    # only now (a doubt, so rarely) read the values in every other unit, to name the likely one
    profiles = _profiles(raw_values, pixel_area_km2)
    likely = [
        u
        for u, p in profiles.items()
        if u != declared and p is not None and _plausible(p, raw_values, u, pixel_area_km2)
    ]
    scale = {u: _factor(u, raw_values, pixel_area_km2) for u in likely}
    mine = _factor(declared, raw_values, pixel_area_km2)
    # the likely units in the direction of the doubt first, then the closest in scale; t/pixel last among equals
    likely.sort(
        key=lambda u: (
            (scale[u] > mine) != (direction == "larger"),
            round(abs(math.log10(scale[u] / mine))),
            u == T_PIXEL,
        )
    )
    return UnitDoubt(declared, direction, reason, prof, tuple(likely), tuple(profiles[u] for u in likely))


def check_plausible(values_t_km2: np.ndarray, declared: str, input_name: str) -> str | None:
    """Say why converted values look mislabelled, or return ``None`` when plausible.

    ``values_t_km2`` are the values already converted from the declared unit. Judged as in
    :func:`unit_doubt` (the message does not name a likely unit: the raw values are not known here).
    """
    prof = erosion_profile(values_t_km2)
    if prof is None:
        return None
    reason = prof.too_large()
    if reason is not None:
        return (
            f"{input_name}: declared {declared}, but read so the values imply: {reason}; {prof.describe()}. "
            "The raster is probably in a smaller unit (e.g. t/km2/a declared as t/ha/a)."
        )
    reason = prof.too_small(erosion_profile(np.asarray(values_t_km2, dtype="float64") * 100.0))
    if reason is not None:
        return (
            f"{input_name}: declared {declared}, but read so the values imply: {reason}; {prof.describe()}. "
            "The raster is probably in a larger unit (t/ha/a values are 100× smaller than t/km2/a)."
        )
    return None


def _profiles(raw: np.ndarray, area: np.ndarray | float | None) -> dict[str, ErosionProfile | None]:
    out: dict[str, ErosionProfile | None] = {}
    for u in UNITS:
        if u == T_PIXEL and area is None:
            continue
        out[u] = erosion_profile(to_t_km2(raw, u, area))
    return out


def _factor(unit: str, raw: np.ndarray, area: np.ndarray | float | None) -> float:
    """Typical multiplier from ``unit`` to t/km²/a (t/pixel: 1 / median cell area)."""
    if unit == T_PIXEL:
        return float(1.0 / np.median(np.asarray(area, dtype="float64"))) if area is not None else math.nan
    return TO_T_KM2[unit]


def _plausible(p: ErosionProfile, raw: np.ndarray, unit: str, area: np.ndarray | float | None) -> bool:
    if p.too_large() is not None:
        return False
    up = erosion_profile(to_t_km2(raw, unit, area) * 100.0)
    return p.too_small(up) is None


def _num(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1e5 else f"{v:.3e}"
