"""Erosion intensity grades of SL 190-2007 (water erosion).

Grade codes used in every raster and table of swc-raster:

====  ======  ==================  =================================
code  中文     English              modulus A, t/(km²·a)
====  ======  ==================  =================================
0     无数据   no erosion data      erosion nodata inside the region,
                                    counted as non-eroded land
1     微度     slight (tolerable)   A < T
2     轻度     light                T ≤ A < 2 500
3     中度     moderate             2 500 ≤ A < 5 000
4     强烈     intense              5 000 ≤ A < 8 000
5     极强烈   very intense         8 000 ≤ A < 15 000
6     剧烈     severe               A ≥ 15 000
7     数据缺失 data gap             outside the erosion raster's coverage
255   —       outside the region   (raster nodata)
====  ======  ==================  =================================

Grades 2–6 are erosion (水土流失); 微度 is not.
"""

from __future__ import annotations

from typing import Final

import numpy as np

NODATA_GRADE: Final = 0
GAP_GRADE: Final = 7
OUTSIDE: Final = 255
EROSION_GRADES: Final = (2, 3, 4, 5, 6)
ALL_CODES: Final = (0, 1, 2, 3, 4, 5, 6, 7)

#: Fixed upper thresholds of grades 2–5 in t/(km²·a); grade 1's upper bound is T.
THRESHOLDS_T_KM2: Final = (2_500.0, 5_000.0, 8_000.0, 15_000.0)

GRADE_NAMES_ZH: Final = {
    0: "无侵蚀数据",
    1: "微度",
    2: "轻度",
    3: "中度",
    4: "强烈",
    5: "极强烈",
    6: "剧烈",
    7: "数据缺失",
}
GRADE_NAMES_EN: Final = {
    0: "no erosion data",
    1: "slight",
    2: "light",
    3: "moderate",
    4: "intense",
    5: "very intense",
    6: "severe",
    7: "data gap",
}
#: Conventional map colours of the six grades (light to dark), plus no-data and gap.
GRADE_COLOURS: Final = {
    0: (220, 220, 220),
    1: (56, 168, 0),
    2: (255, 255, 115),
    3: (255, 170, 0),
    4: (255, 85, 0),
    5: (230, 0, 0),
    6: (115, 0, 0),
    7: (130, 130, 130),
}


def check_allowable_loss(t_allowable: float) -> None:
    """T must lie in (0, 2 500) t/(km²·a) or grade 2 would be empty or inverted."""
    if not (0 < t_allowable < THRESHOLDS_T_KM2[0]):
        raise ValueError(
            f"allowable soil loss T = {t_allowable} t/km2/a is outside (0, 2500); SL 190 uses 200, 500 or 1000. "
            "Fix allowable_loss in the config."
        )


def grade_modulus(modulus_t_km2: np.ndarray, t_allowable: np.ndarray | float) -> np.ndarray:
    """Grade an erosion-modulus array (t/(km²·a)) into SL 190 codes 0–6 (uint8).

    ``t_allowable`` is T per pixel (broadcastable) or a scalar.  Non-finite
    values (nodata, already set to NaN) become grade 0, "no erosion data".
    Boundaries are inclusive below: A == T is 轻度, A == 2 500 is 中度.
    """
    a = np.asarray(modulus_t_km2, dtype="float64")
    t = np.broadcast_to(np.asarray(t_allowable, dtype="float64"), a.shape)
    grade = np.ones(a.shape, dtype="uint8")
    grade[a >= t] = 2
    for code, threshold in enumerate(THRESHOLDS_T_KM2, start=3):
        grade[a >= threshold] = code
    grade[~np.isfinite(a)] = NODATA_GRADE
    return grade
