"""The erosion layers of a year: water erosion, and optionally wind erosion, each a modulus or grades.

A monitoring year's erosion comes as a modulus raster (t/(km²·a), graded with each county's T
for water, with fixed thresholds for wind) or as an intensity-grade raster (侵蚀强度分级图)
whose codes a declared table maps to the SL 190 grades.  The engine counts every form as a
modulus: a graded cell enters as the *stand-in* modulus of its grade (:data:`STAND_IN`), the
lowest modulus of the grade on the water scale, so grading the stand-in with any allowed T
gives the declared grade back.  With a wind layer each cell takes the larger of the water
modulus and the wind grade's stand-in: its grade is then the more severe of the two processes
(grading is monotone), so a cell is eroded when either process reaches 轻度 and the rate uses
the total (docs/decisions/0008-erosion-forms.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from swc_raster.errors import ConfigError
from swc_raster.units import EROSION_NODATA

#: The configuration's names of the six SL 190 grades, in grade order (1 微度 … 6 剧烈).
GRADE_KEYS: Final = ("slight", "light", "moderate", "intense", "very_intense", "severe")

#: Stand-in modulus of each grade (index = grade; 0 = nodata), float32: 微度 0 (below every T),
#: 轻度 the largest float32 below 2 500 (at or above every allowed T, below 中度), then the lower
#: bound of each grade.  Grading a stand-in with any T ≤ ``STAND_IN[2]`` gives its grade back.
STAND_IN: Final = np.array(
    [EROSION_NODATA, 0.0, np.nextafter(np.float32(2500.0), np.float32(0.0)), 2500.0, 5000.0, 8000.0, 15000.0],
    dtype=np.float32,
)

#: SL 190-2007 wind-erosion grading by modulus, t/(km²·a): the lower bounds of 轻度 … 剧烈
#: (微度 < 200, a fixed threshold: no T).  Reproduced from the standard's wind table (decision 0008).
WIND_THRESHOLDS_T_KM2: Final = (200.0, 2500.0, 5000.0, 8000.0, 15000.0)

#: A sample of "modulus" values that are all whole numbers within this range, with at most
#: :data:`GRADED_MAX_DISTINCT` distinct values, is a graded raster (codes 1–6, maybe 0, 7–9).
GRADED_MAX_CODE: Final = 9
GRADED_MAX_DISTINCT: Final = 8


@dataclass(frozen=True)
class ErosionLayer:
    """One erosion raster of a year, as the engine reads it.

    ``unit`` is the modulus unit (None for grades); ``grade_codes`` the (raster code, grade 1–6)
    pairs of a graded raster (None for a modulus); ``nodata_codes`` codes that mean no data;
    ``thresholds_t_km2`` the fixed grading of a wind modulus (None for water: graded with T).
    """

    process: str
    path: str
    unit: str | None = None
    grade_codes: tuple[tuple[int, int], ...] | None = None
    nodata_codes: tuple[int, ...] = ()
    thresholds_t_km2: tuple[float, ...] | None = None

    @property
    def graded(self) -> bool:
        return self.grade_codes is not None

    def params(self) -> dict[str, Any]:
        """Plain values (for ``params:`` and process pools)."""
        return {
            "process": self.process,
            "path": self.path,
            "unit": self.unit,
            "grade_codes": None if self.grade_codes is None else [list(p) for p in self.grade_codes],
            "nodata_codes": list(self.nodata_codes),
            "thresholds_t_km2": None if self.thresholds_t_km2 is None else list(self.thresholds_t_km2),
        }

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> ErosionLayer:
        codes = p.get("grade_codes")
        thresholds = p.get("thresholds_t_km2")
        return cls(
            process=str(p["process"]),
            path=str(p["path"]),
            unit=p.get("unit"),
            grade_codes=None if codes is None else tuple((int(c), int(g)) for c, g in codes),
            nodata_codes=tuple(int(c) for c in p.get("nodata_codes") or ()),
            thresholds_t_km2=None if thresholds is None else tuple(float(t) for t in thresholds),
        )

    def grade_lut(self, size: int) -> np.ndarray:
        """uint8 lookup raster code → grade 1–6 (0 for nodata codes and codes not in the table)."""
        lut = np.zeros(size, dtype=np.uint8)
        for code, grade in self.grade_codes or ():
            if code < size:
                lut[code] = grade
        for code in self.nodata_codes:
            if code < size:
                lut[code] = 0
        return lut


def grade_table(block: Mapping[str, Any] | None, where: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """The (code, grade) pairs and nodata codes of an ``erosion_grades:`` block.

    Keys are the grade names of :data:`GRADE_KEYS` (each a list of raster codes) and ``nodata``;
    a grade not given keeps its SL 190 code (1 微度 … 6 剧烈).  Raises ``ConfigError`` for a
    code given twice or code 0 (read as no data by the engine).
    """
    block = dict(block or {})
    pairs: list[tuple[int, int]] = []
    for grade, key in enumerate(GRADE_KEYS, start=1):
        codes = block.get(key)
        for code in [grade] if codes is None else codes:
            pairs.append((int(code), grade))
    nodata = tuple(int(c) for c in block.get("nodata") or ())
    seen: dict[int, str] = {}
    for code, grade in [*pairs, *((c, 0) for c in nodata)]:
        name = GRADE_KEYS[grade - 1] if grade else "nodata"
        if code in seen:
            raise ConfigError(
                where,
                f"code {code} is given for both `{seen[code]}` and `{name}`.",
                "give each raster code once (a grade not listed keeps its SL 190 code 1–6: list it to move it).",
            )
        seen[code] = name
    if 0 in seen and seen[0] != "nodata":
        raise ConfigError(
            where,
            f"code 0 is declared as `{seen[0]}`; swc-raster reads code 0 of a graded raster as no data.",
            'recode the raster so that 0 is not a grade (e.g. `gdal_calc.py --calc "A+10"`) and list the new codes.',
        )
    return tuple(sorted(pairs)), nodata


def wind_grades(modulus_t_km2: np.ndarray, thresholds_t_km2: Sequence[float]) -> np.ndarray:
    """Wind-erosion grade 1–6 of each modulus (t/(km²·a), float32), 0 where nodata or not finite.

    Lower bounds inclusive (A == 200 is 轻度), compared in float32 as the engine compares.
    """
    a = np.asarray(modulus_t_km2, dtype=np.float32)
    t = np.asarray(thresholds_t_km2, dtype=np.float32)
    grade = (1 + np.searchsorted(t, a, side="right")).astype(np.uint8)
    grade[(a == np.float32(EROSION_NODATA)) | ~np.isfinite(a)] = 0
    return grade


def check_t_for_stand_ins(t_values: Sequence[float]) -> None:
    """Every T must be at most the 轻度 stand-in, or a graded 轻度 cell would read as 微度 (T ≥ 2 499.9998)."""
    bad = [t for t in t_values if float(t) > float(STAND_IN[2])]
    if bad:
        raise ConfigError(
            "allowable_loss",
            f"T = {bad[0]} t/km2/a is too close to 2 500 for graded or wind inputs.",
            "use an SL 190 value of T (200, 500 or 1000).",
        )


def graded_look(raw: np.ndarray) -> str | None:
    """Why a modulus sample looks like intensity grades, or ``None``.

    All values whole numbers in 0–:data:`GRADED_MAX_CODE`, two to :data:`GRADED_MAX_DISTINCT` of
    them, and (almost) no zeros: a modulus that coarse does not exist, a grade raster looks exactly
    so.  (A modulus rounded to whole t/ha/a in a gentle region is also coarse, but most of its
    cells are 0.)
    """
    v = np.asarray(raw, dtype="float64")
    if v.size < 50 or not np.all(np.isfinite(v)):
        return None
    distinct = np.unique(v)
    if (
        not 2 <= len(distinct) <= GRADED_MAX_DISTINCT
        or distinct.max() > GRADED_MAX_CODE
        or np.any(distinct != np.round(distinct))
        or np.mean(v == 0) >= 0.05
    ):
        return None
    listed = ", ".join(str(int(d)) for d in distinct)
    return (
        f"its values are only the whole numbers {listed}: this looks like an intensity-grade raster "
        "(侵蚀强度分级图), not an erosion modulus; read as a modulus, every cell would be 微度"
    )
