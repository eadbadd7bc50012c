"""Deterministic synthetic demo rasters over real county boundaries (Jincheng, Shanxi).

No fine DEM, land-cover or erosion raster of the region can be had offline,
so the embedded demo is *generated*: a synthetic landscape with the real
relief pattern of Jincheng (basin in the centre-east, Taihang mountains in the
east, Taiyue/Zhongtiao mountains in the west and south-west, the Qin and Dan
rivers), land cover driven by that terrain, the real coarse MODIS land cover
and spatially correlated noise, and an erosion modulus computed from it with
the CSLE (:mod:`swc_raster.csle`).  Everything follows from a seed: the same
seed, year and resolution give identical files.

Public entry point: :func:`write_demo_year`.  The design and its calibration
are recorded in ``docs/decisions/0003-demo-data.md``.

Outputs of one year:

- land cover: EPSG:4326, ≈ 1 arc-second cells (``resolution_m / 30`` arc-seconds),
  ``uint8`` legend codes 1–8 (``config/landcover_legend.csv``), nodata 0;
- erosion modulus: t/(km²·a), ``float32``, nodata −9999 (water and the densest
  built-up land are masked, as real monitoring products do), on CGCS2000 /
  3-degree Gauss-Krüger CM 114E (EPSG:4547) at ``resolution_m``.

Both are tiled DEFLATE GeoTIFFs tagged ``SWC_DEMO=synthetic demo data, not
real measurements`` and extend a few km beyond the region.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from affine import Affine

from swc_raster import csle, terrain
from swc_raster.atomic import atomic_outputs

__all__ = [
    "write_demo_year",
    "write_demo_factors",
    "DEMO_FACTOR_FILES",
    "DEMO_TAG_KEY",
    "DEMO_TAG",
    "LANDCOVER_CRS",
    "EROSION_CRS",
    "EROSION_NODATA",
    "LANDCOVER_NODATA",
    "EROSION_UNIT",
    "DEFAULT_SEED",
    "DESIGNED_YEARS",
]

DEMO_TAG_KEY: Final = "SWC_DEMO"
DEMO_TAG: Final = "synthetic demo data, not real measurements"
LANDCOVER_CRS: Final = "EPSG:4326"
EROSION_CRS: Final = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
EROSION_NODATA: Final = -9999.0
LANDCOVER_NODATA: Final = 0
EROSION_UNIT: Final = "t/km2/a"
#: CSLE input rasters written by :func:`write_demo_factors`: file name, unit, description.
DEMO_FACTOR_FILES: Final = {
    "dem": ("dem.tif", "m", "elevation, m (synthetic demo DEM)"),
    "R": ("R.tif", "MJ·mm/(ha·h·a)", "rainfall erosivity R, MJ·mm/(ha·h·a) (synthetic demo)"),
    "K": ("K.tif", "t·ha·h/(ha·MJ·mm)", "soil erodibility K, t·ha·h/(ha·MJ·mm) (synthetic demo)"),
    "fvc": ("fvc.tif", "fraction", "fractional vegetation cover, 0-1 (synthetic demo)"),
    "E": ("E.tif", "1", "engineering factor E of the mapped measures, 1 = none (synthetic demo)"),
}
DEFAULT_SEED: Final = 20230049
#: Years the multi-year story (trends, the 2023 setback) was designed for.
DESIGNED_YEARS: Final = (2021, 2022, 2023, 2024)
_BASE_YEAR: Final = 2021
_YEAR_RANGE: Final = (2015, 2035)

#: Land-cover legend codes (config/landcover_legend.csv).
CROP, ORCHARD, FOREST, GRASS, BUILT, TRANSPORT, WATER, OTHER = 1, 2, 3, 4, 5, 6, 7, 8

#: Cell size of the landscape grid on which every smooth field is synthesised,
#: m.  Fields are sampled from it onto the output grid, so the landscape is the
#: same at every output resolution.
_BASE_RES_M: Final = 90.0
#: Cell size of the macro grid for the smooth regional trends, m.
_MACRO_RES_M: Final = 900.0
#: Margin of the erosion grid beyond the region, m.
_GRID_BUFFER_M: Final = 6000.0
#: Margin of the land-cover grid beyond the region, degrees (≈ 3.3 km).
_LANDCOVER_BUFFER_DEG: Final = 0.03
#: Allowable soil loss used for the rate estimate in the summary, t/(km²·a).
_T_ALLOWABLE: Final = 200.0

#: Target shares of the region's land in the base year, % of the region (water
#: and transport follow from their geometry), allocated in this order from the
#: highest class scores down; what is left is split between forest and
#: grassland (:data:`_FOREST_SHARE_OF_REST`).  Jincheng-like proportions.
_SHARES_PCT: Final = ((BUILT, 6.5), (OTHER, 2.3), (ORCHARD, 2.0), (CROP, 30.0))
_FOREST_SHARE_OF_REST: Final = 0.58
#: Mean vegetation cover of each class in the base year (before the county offset and noise), fraction.
_FVC_LEVELS: Final = {FOREST: 0.68, GRASS: 0.58, ORCHARD: 0.45, CROP: 0.40, BUILT: 0.10, TRANSPORT: 0.05,
                      WATER: 0.0, OTHER: 0.08}
#: Upstream area from which a channel of the synthetic network is mapped as water, m².
_STREAM_AREA_M2: Final = 25e6
#: Number of village road ends drawn for the rural road network.
_N_VILLAGE_ROADS: Final = 400
#: Yearly growth of built-up land, % of the region per year.
_SPRAWL_PCT_PER_YEAR: Final = 0.12

# --------------------------------------------------------------------------- geography
# Approximate, hand-placed from topographic maps; (lon, lat, value).

#: Regional elevation trend, m.
_ELEV_ANCHORS: Final = (
    # Jincheng–Gaoping basin and the main valleys
    (112.85, 35.49, 730), (112.88, 35.62, 820), (112.92, 35.80, 900), (112.93, 35.95, 980),
    (112.80, 35.55, 780), (112.97, 35.55, 760), (112.78, 35.70, 950), (113.02, 35.68, 900),
    (112.42, 35.48, 680), (112.19, 35.69, 820), (112.45, 35.85, 760), (112.55, 35.65, 800),
    (112.70, 35.48, 760), (112.60, 35.55, 820),
    # Taihang: Lingchuan plateau and its eastern/southern mountains, the escarpment to Henan
    (113.28, 35.78, 1100), (113.20, 35.88, 1150), (113.45, 35.85, 1300), (113.55, 35.72, 1500),
    (113.58, 35.58, 1600), (113.40, 35.62, 1300), (113.33, 35.50, 1250), (113.20, 35.45, 1150),
    (113.45, 35.45, 1100), (113.10, 35.58, 1050), (113.08, 35.40, 1050), (113.50, 35.30, 700),
    (113.10, 35.25, 800), (112.95, 35.28, 900), (112.80, 35.30, 950), (112.75, 35.22, 700),
    # Zezhou west / Gaoping west hills
    (112.70, 35.60, 950), (112.78, 35.85, 1150), (112.70, 35.92, 1100),
    # Qinshui: Taiyue in the west, Lishan (Zhongtiao) in the south-west, hills in the north
    (111.97, 35.43, 1900), (112.05, 35.50, 1650), (112.00, 35.62, 1500), (111.98, 35.80, 1500),
    (112.08, 35.90, 1350), (112.25, 35.95, 1200), (112.35, 36.05, 1150), (112.55, 36.02, 1100),
    (112.65, 35.92, 1050), (112.30, 35.78, 1050), (112.60, 35.80, 950),
    # Yangcheng: Xicheng shan and the Zhongtiao in the south
    (112.35, 35.30, 1550), (112.20, 35.35, 1500), (112.50, 35.25, 1250), (112.25, 35.55, 1000),
    (112.58, 35.35, 900),
)

#: Mountainousness 0 (basin) … 1 (high mountains): scales the local relief.
_MOUNTAIN_ANCHORS: Final = (
    (112.85, 35.49, 0.05), (112.88, 35.62, 0.10), (112.92, 35.80, 0.15), (112.93, 35.95, 0.25),
    (112.80, 35.55, 0.15), (112.97, 35.55, 0.20), (113.02, 35.68, 0.35), (112.78, 35.70, 0.40),
    (112.42, 35.48, 0.35), (112.19, 35.69, 0.45), (112.45, 35.85, 0.40), (112.55, 35.65, 0.45),
    (112.70, 35.48, 0.35), (112.60, 35.55, 0.45),
    (113.28, 35.78, 0.45), (113.20, 35.88, 0.55), (113.45, 35.85, 0.75), (113.55, 35.72, 0.90),
    (113.58, 35.58, 0.95), (113.40, 35.62, 0.80), (113.33, 35.50, 0.90), (113.20, 35.45, 0.80),
    (113.45, 35.45, 0.95), (113.10, 35.58, 0.55), (113.08, 35.40, 0.75), (113.50, 35.30, 0.90),
    (113.10, 35.25, 0.80), (112.95, 35.28, 0.70), (112.80, 35.30, 0.70), (112.75, 35.22, 0.70),
    (112.70, 35.60, 0.55), (112.78, 35.85, 0.60), (112.70, 35.92, 0.60),
    (111.97, 35.43, 1.00), (112.05, 35.50, 0.95), (112.00, 35.62, 0.90), (111.98, 35.80, 0.85),
    (112.08, 35.90, 0.75), (112.25, 35.95, 0.65), (112.35, 36.05, 0.60), (112.55, 36.02, 0.55),
    (112.65, 35.92, 0.55), (112.30, 35.78, 0.60), (112.60, 35.80, 0.50),
    (112.35, 35.30, 1.00), (112.20, 35.35, 0.95), (112.50, 35.25, 0.85), (112.25, 35.55, 0.60),
    (112.58, 35.35, 0.70),
)

#: Rivers: name, half-width of the water surface (m), valley half-width (m), vertices (lon, lat, bed elevation m).
_RIVERS: Final = (
    ("Qin", 55.0, 2200.0, ((112.42, 36.10, 830), (112.40, 35.95, 760), (112.40, 35.88, 720), (112.46, 35.82, 690),
                           (112.53, 35.72, 650), (112.53, 35.62, 600), (112.53, 35.53, 560), (112.60, 35.45, 500),
                           (112.63, 35.35, 420), (112.66, 35.25, 340), (112.70, 35.12, 240))),
    ("Dan", 25.0, 1600.0, ((112.93, 36.08, 1020), (112.92, 35.95, 950), (112.92, 35.85, 890), (112.95, 35.72, 830),
                           (112.93, 35.60, 760), (112.92, 35.50, 700), (112.97, 35.40, 620), (113.00, 35.28, 470),
                           (113.03, 35.12, 330))),
    ("Xianhe", 12.0, 1100.0, ((111.98, 35.74, 1050), (112.10, 35.70, 880), (112.19, 35.69, 800), (112.32, 35.71, 720),
                              (112.45, 35.73, 665), (112.53, 35.72, 650))),
    ("Huoze", 12.0, 1100.0, ((112.15, 35.52, 920), (112.30, 35.49, 740), (112.42, 35.47, 660), (112.53, 35.53, 560))),
    ("Duanshi", 10.0, 1000.0, ((112.05, 35.97, 1150), (112.20, 35.91, 880), (112.40, 35.88, 720))),
    ("Changhe", 10.0, 1000.0, ((112.78, 35.60, 830), (112.72, 35.50, 700), (112.66, 35.42, 560), (112.61, 35.42, 505))),
    ("Lingchuan", 12.0, 1200.0, ((113.45, 35.95, 1250), (113.32, 35.80, 1060), (113.38, 35.62, 900), (113.44, 35.45, 700),
                                 (113.52, 35.25, 420))),
    ("Gaoping-east", 10.0, 1000.0, ((113.20, 35.92, 1150), (113.08, 35.80, 950), (112.95, 35.72, 830))),
    ("Zezhou-south", 10.0, 1000.0, ((112.88, 35.42, 690), (112.86, 35.30, 560), (112.84, 35.12, 330))),
    ("Zezhou-east", 10.0, 1000.0, ((113.15, 35.55, 950), (113.05, 35.45, 760), (112.97, 35.40, 620))),
)

#: Reservoirs: lon, lat, semi-axes along x and y (m).
_RESERVOIRS: Final = (
    (112.43, 35.862, 1700.0, 500.0),  # Zhangfeng reservoir on the Qin
    (112.94, 35.650, 700.0, 300.0),
    (112.33, 35.490, 600.0, 220.0),
    (112.70, 35.495, 500.0, 220.0),
    (113.30, 35.700, 400.0, 200.0),
)

#: Settlements: lon, lat, size 0–1, radius (m).  The city centre, county seats, towns.
_SETTLEMENTS: Final = (
    (112.85, 35.49, 1.00, 3600.0),  # Jincheng city
    (112.92, 35.80, 0.80, 2300.0),  # Gaoping
    (112.42, 35.48, 0.75, 2000.0),  # Yangcheng
    (112.19, 35.69, 0.70, 1400.0),  # Qinshui
    (113.28, 35.78, 0.70, 1500.0),  # Lingchuan
    (112.88, 35.62, 0.55, 1300.0), (112.93, 35.53, 0.55, 1500.0), (112.73, 35.55, 0.45, 900.0),
    (112.70, 35.45, 0.45, 900.0), (112.98, 35.35, 0.40, 800.0), (113.15, 35.42, 0.40, 700.0),
    (112.40, 35.88, 0.45, 900.0), (112.47, 35.85, 0.40, 800.0), (112.52, 35.72, 0.45, 900.0),
    (112.52, 35.54, 0.45, 900.0), (112.48, 35.55, 0.40, 800.0), (112.30, 35.45, 0.40, 700.0),
    (113.22, 35.70, 0.40, 700.0), (113.25, 35.62, 0.40, 700.0), (113.00, 35.85, 0.45, 900.0),
    (112.90, 35.70, 0.45, 900.0), (112.85, 35.82, 0.40, 800.0), (112.85, 35.98, 0.40, 700.0),
    (112.60, 35.60, 0.35, 700.0), (112.25, 35.80, 0.35, 600.0), (112.60, 35.30, 0.35, 600.0),
    (113.40, 35.88, 0.35, 600.0), (113.05, 35.68, 0.40, 700.0), (112.80, 35.38, 0.40, 700.0),
)

#: Main roads: polylines (lon, lat) between the city, the county seats and beyond.
_ROADS: Final = (
    ((112.85, 35.49), (112.88, 35.62), (112.92, 35.80), (112.93, 35.95), (112.95, 36.10)),
    ((112.85, 35.49), (112.93, 35.38), (113.00, 35.28), (113.06, 35.12)),
    ((112.85, 35.49), (112.70, 35.50), (112.53, 35.53), (112.42, 35.48), (112.30, 35.56), (112.19, 35.69),
     (112.08, 35.78), (111.92, 35.86)),
    ((112.85, 35.49), (113.00, 35.60), (113.15, 35.70), (113.28, 35.78), (113.45, 35.86), (113.65, 35.92)),
    ((112.42, 35.48), (112.50, 35.36), (112.60, 35.22), (112.66, 35.12)),
    ((112.19, 35.69), (112.30, 35.82), (112.40, 35.88), (112.42, 36.10)),
    ((112.92, 35.80), (113.10, 35.82), (113.28, 35.78)),
    ((112.53, 35.53), (112.53, 35.72), (112.40, 35.88)),
    ((112.88, 35.62), (112.73, 35.55), (112.70, 35.45), (112.80, 35.38), (112.98, 35.35), (113.15, 35.42),
     (113.25, 35.62), (113.28, 35.78)),
)

#: The coarse real land cover: MODIS MCD12C1 2019, IGBP classes, 0.05°, over
#: 111.90–113.65 E, 35.15–36.10 N (rows north to south).  NASA LP DAAC data,
#: free reuse; here only to bias where the synthetic classes fall.
_MODIS_ORIGIN: Final = (111.90, 36.10, 0.05)
_MODIS_IGBP: Final = """\
12 12 12 5 5 10 12 12 12 10 9 10 10 12 9 10 12 12 12 12 12 12 12 12 12 12 12 12 12 12 12 10 10 10 9
12 12 10 5 5 5 10 12 12 12 10 4 12 12 9 5 10 10 12 12 12 12 12 12 12 12 12 12 12 12 10 12 10 10 9
12 12 4 5 10 5 5 9 12 10 10 5 9 9 10 9 5 9 12 12 12 12 12 12 12 12 12 12 12 10 10 10 9 9 9
12 10 4 10 5 10 10 10 12 10 9 9 9 10 5 5 9 10 12 12 12 12 12 12 12 12 12 12 12 9 9 9 9 10 10
12 12 5 5 10 10 10 9 10 10 10 10 9 10 9 9 9 12 12 12 12 12 12 12 12 12 12 12 12 12 5 5 9 9 9
12 12 5 5 5 10 10 10 10 10 9 10 9 9 10 9 9 12 12 12 12 12 12 12 12 12 12 12 12 10 10 9 5 5 9
12 12 4 5 5 5 5 9 10 10 9 10 9 12 9 9 9 12 12 12 13 12 12 12 12 12 12 12 12 10 9 5 5 5 5
12 12 5 9 9 9 9 5 9 10 12 12 12 12 12 12 9 12 12 12 12 12 12 12 12 12 12 12 12 10 9 5 9 5 9
12 10 5 9 9 9 9 10 9 9 12 12 12 12 9 9 9 12 12 13 12 12 12 12 12 12 12 12 9 5 5 5 9 9 5
5 5 5 5 9 8 9 12 12 12 12 12 12 12 12 12 13 12 9 13 13 12 12 12 12 12 5 5 5 4 4 4 4 9 10
10 10 5 9 9 12 12 12 12 12 12 12 12 12 12 9 9 12 9 13 13 12 12 12 10 9 8 4 4 4 4 4 4 9 12
5 5 5 9 9 9 12 12 12 12 12 12 12 12 9 9 12 9 13 13 13 9 12 9 8 5 5 4 4 4 4 4 4 12 12
4 5 5 5 5 9 12 12 12 12 13 12 12 13 9 9 9 13 13 13 9 9 10 9 9 9 4 4 4 4 10 10 12 12 12
5 5 5 5 5 9 9 12 10 12 12 12 12 9 12 9 9 9 9 12 9 9 9 9 9 5 4 4 4 10 12 12 12 12 12
5 4 4 5 4 4 5 9 9 9 9 12 12 9 9 10 12 12 12 10 9 9 9 9 9 4 4 10 12 9 13 12 12 12 12
4 4 4 5 4 5 4 4 4 4 9 9 9 9 9 9 9 9 9 9 9 9 9 9 10 10 10 12 12 13 12 12 12 12 12
9 8 4 4 4 4 5 5 4 4 4 4 4 4 9 9 9 9 9 9 10 9 10 12 12 12 13 13 13 12 12 12 12 12 12
12 12 8 4 9 4 4 4 4 4 5 5 5 4 5 5 4 5 5 9 9 9 12 13 13 13 13 13 13 12 13 12 12 12 12
12 12 12 9 12 9 9 4 4 9 9 9 12 13 9 9 13 13 12 13 13 13 13 13 13 12 13 13 12 12 12 12 12 12 12
"""

#: County management parameters of the demo, by GB/T 2260 code:
#: fvc: offset of the vegetation cover (fraction); gain: yearly closure of the
#: gap to full cover (fraction per year); terrace: share of sloping cropland
#: terraced in the base year; terrace_gain: added per year; afforest: share of
#: steep cropland/grassland planted per year.  Unknown counties use "default".
_COUNTY_PARAMS: Final[Mapping[str, Mapping[str, float]]] = {
    "140502": {"fvc": -0.12, "gain": 0.030, "terrace": 0.35, "terrace_gain": 0.030, "afforest": 0.010},  # 城区
    "140521": {"fvc": 0.09, "gain": 0.025, "terrace": 0.75, "terrace_gain": 0.020, "afforest": 0.008},  # 沁水
    "140522": {"fvc": -0.01, "gain": 0.028, "terrace": 0.60, "terrace_gain": 0.025, "afforest": 0.010},  # 阳城
    "140524": {"fvc": -0.06, "gain": 0.030, "terrace": 0.55, "terrace_gain": 0.030, "afforest": 0.012},  # 陵川
    "140525": {"fvc": 0.03, "gain": 0.016, "terrace": 0.72, "terrace_gain": 0.020, "afforest": 0.008},  # 泽州
    "140581": {"fvc": -0.03, "gain": 0.008, "terrace": 0.55, "terrace_gain": 0.005, "afforest": 0.002},  # 高平
    "default": {"fvc": 0.00, "gain": 0.020, "terrace": 0.60, "terrace_gain": 0.020, "afforest": 0.006},
}
#: The county with a mining/construction disturbance from 2023 on, and where.
_SETBACK_COUNTY: Final = "140525"
_SETBACK_YEAR: Final = 2023
_SETBACK_SITES: Final = ((112.74, 35.40, 4000.0), (113.05, 35.46, 3500.0), (112.70, 35.60, 3000.0))


# --------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class _Grid:
    """A north-up grid in the erosion CRS (metres)."""

    transform: Affine
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def res(self) -> float:
        return float(self.transform.a)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x (per column) and y (per row), m."""
        xs = self.transform.c + (np.arange(self.width) + 0.5) * self.transform.a
        ys = self.transform.f + (np.arange(self.height) + 0.5) * self.transform.e
        return xs, ys


def _grid_over(bounds: Sequence[float], res: float) -> _Grid:
    minx, miny, maxx, maxy = bounds
    width = int(math.ceil(round((maxx - minx) / res, 6)))
    height = int(math.ceil(round((maxy - miny) / res, 6)))
    return _Grid(Affine(res, 0.0, minx, 0.0, -res, maxy), width, height)


def _extent(region_bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """Region bounds + buffer, snapped outward to the macro cell (a multiple of the base cell)."""
    minx, miny, maxx, maxy = region_bounds
    step = _MACRO_RES_M
    return (
        math.floor((minx - _GRID_BUFFER_M) / step) * step,
        math.floor((miny - _GRID_BUFFER_M) / step) * step,
        math.ceil((maxx + _GRID_BUFFER_M) / step) * step,
        math.ceil((maxy + _GRID_BUFFER_M) / step) * step,
    )


@functools.lru_cache(maxsize=4)
def _transformer(src: str, dst: str):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def _lonlat_to_xy(lonlat: np.ndarray) -> np.ndarray:
    tr = _transformer(LANDCOVER_CRS, EROSION_CRS)
    a = np.asarray(lonlat, dtype=np.float64).reshape(-1, lonlat.shape[-1])
    x, y = tr.transform(a[:, 0], a[:, 1])
    out = a.copy()
    out[:, 0], out[:, 1] = x, y
    return out


def _sample(field: np.ndarray, src: _Grid, dst: _Grid) -> np.ndarray:
    return terrain.bilinear_resample(field, src.transform, dst.transform, dst.shape)


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent, reproducible random stream per purpose."""
    return np.random.default_rng([seed, stream])


def _coarser(grid: _Grid, factor: int) -> _Grid:
    t = grid.transform
    return _Grid(
        Affine(t.a * factor, 0.0, t.c, 0.0, t.e * factor, t.f),
        -(-grid.width // factor),
        -(-grid.height // factor),
    )


def _field(grid: _Grid, seed: int, stream: int, beta: float, corr_m: float) -> np.ndarray:
    """Standardised spectral noise on ``grid`` with a correlation length in metres.

    Smooth fields (correlation length ≥ 16 cells) are synthesised on a coarser
    grid and sampled bilinearly: same look, a fraction of the cost.
    """
    factor = int(np.clip(corr_m // (8.0 * grid.res), 1, 10))
    gen = _coarser(grid, factor) if factor > 1 else grid
    f = terrain.spectral_field(gen.shape, _rng(seed, stream), beta=beta, corr_length_px=corr_m / gen.res)
    return f if gen is grid else terrain.standardise(_sample(f, gen, grid))


def _blur(field: np.ndarray, grid: _Grid, sigma_m: float) -> np.ndarray:
    """Gaussian blur with a standard deviation in metres, via a block-averaged coarser grid."""
    from scipy.ndimage import gaussian_filter

    factor = int(max(1, sigma_m // (3.0 * grid.res)))
    if factor == 1:
        return gaussian_filter(field, sigma=sigma_m / grid.res, mode="nearest").astype(np.float32)
    h, w = field.shape
    ph, pw = -(-h // factor) * factor, -(-w // factor) * factor
    padded = np.pad(np.asarray(field, dtype=np.float32), ((0, ph - h), (0, pw - w)), mode="edge")
    blocks = padded.reshape(ph // factor, factor, pw // factor, factor).mean(axis=(1, 3))
    coarse = _coarser(grid, factor)
    smooth = gaussian_filter(blocks, sigma=sigma_m / coarse.res, mode="nearest")
    return _sample(smooth, coarse, grid)


# --------------------------------------------------------------------------- the landscape (year-independent)


def _kernel_interp(grid: _Grid, anchors: Sequence[tuple[float, float, float]], sigma_m: float) -> np.ndarray:
    """Gaussian-kernel weighted mean of anchor values at every cell (smooth trend surface)."""
    pts = _lonlat_to_xy(np.array([(a[0], a[1]) for a in anchors]))
    vals = np.array([a[2] for a in anchors], dtype=np.float64)
    xs, ys = grid.centres()
    num = np.full(grid.shape, 1e-9 * vals.mean())
    den = np.full(grid.shape, 1e-9)
    for (px, py), v in zip(pts, vals, strict=True):
        w = np.exp(-(((xs[None, :] - px) ** 2 + (ys[:, None] - py) ** 2) / (2 * sigma_m**2)))
        num += w * v
        den += w
    return (num / den).astype(np.float32)


def _modis_priors(grid: _Grid) -> dict[str, np.ndarray]:
    """Smoothed shares of MODIS class groups, sampled at the grid's cells (0–1)."""
    from scipy.ndimage import gaussian_filter, map_coordinates

    igbp = np.array([[int(v) for v in line.split()] for line in _MODIS_IGBP.strip().splitlines()])
    groups = {
        "crop": np.isin(igbp, (12, 14)),
        "forest": np.isin(igbp, (1, 2, 3, 4, 5)),
        "grass": np.isin(igbp, (6, 7, 8, 9, 10)),
        "urban": igbp == 13,
    }
    lon0, lat0, step = _MODIS_ORIGIN
    xs, ys = grid.centres()
    tr = _transformer(EROSION_CRS, LANDCOVER_CRS)
    xx, yy = np.meshgrid(xs, ys)
    lon, lat = tr.transform(xx.ravel(), yy.ravel())
    del xx, yy
    col = (np.asarray(lon) - lon0) / step - 0.5
    row = (lat0 - np.asarray(lat)) / step - 0.5
    out = {}
    for name, ind in groups.items():
        smooth = gaussian_filter(ind.astype(np.float64), sigma=0.8, mode="nearest")
        out[name] = map_coordinates(smooth, [row, col], order=1, mode="nearest").reshape(grid.shape).astype(np.float32)
    return out


def _polyline_xy(vertices: Sequence[Sequence[float]]) -> np.ndarray:
    v = np.asarray(vertices, dtype=np.float64)
    xy = _lonlat_to_xy(v[:, :2])
    return np.column_stack([xy, v[:, 2:]]) if v.shape[1] > 2 else xy


def _densify(xyz: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` m along a polyline, extra columns interpolated linearly."""
    pieces = []
    for a, b in zip(xyz[:-1], xyz[1:], strict=True):
        n = max(2, int(math.ceil(math.hypot(b[0] - a[0], b[1] - a[1]) / step)) + 1)
        t = np.linspace(0.0, 1.0, n)[:, None]
        pieces.append(a[None, :] * (1 - t) + b[None, :] * t)
    return np.vstack(pieces)


def _rivers_on(grid: _Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance to the nearest river centreline (m), its bed elevation (m) and valley half-width (m)."""
    from scipy.ndimage import distance_transform_edt

    bed = np.full(grid.shape, np.inf, dtype=np.float32)
    width = np.zeros(grid.shape, dtype=np.float32)
    inv = ~grid.transform
    for _name, _half_width, valley, vertices in _RIVERS:
        pts = _densify(_polyline_xy(vertices), grid.res / 3)
        cols, rows = inv * (pts[:, 0], pts[:, 1])
        rows = np.floor(rows).astype(int)
        cols = np.floor(cols).astype(int)
        ok = (rows >= 0) & (rows < grid.height) & (cols >= 0) & (cols < grid.width)
        r, c, z = rows[ok], cols[ok], pts[ok, 2].astype(np.float32)
        lower = z < bed[r, c]
        bed[r[lower], c[lower]] = z[lower]
        width[r[lower], c[lower]] = valley
    is_river = np.isfinite(bed)
    dist, (ri, ci) = distance_transform_edt(~is_river, return_indices=True)
    return (dist * grid.res).astype(np.float32), bed[ri, ci], width[ri, ci]


def _carve_rivers(z: np.ndarray, grid: _Grid) -> np.ndarray:
    """Lower the terrain towards the main rivers' bed profiles: valley floors widening downstream."""
    dist, bed, valley = _rivers_on(grid)
    v = 1.0 - np.exp(-((dist / valley) ** 2))
    return np.where(z > bed, bed + (z - bed) * v, z).astype(np.float32)


def _dem(
    base: _Grid, macro: _Grid, seed: int, mount: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, float]]]:
    """A terrain-like DEM (m) with a dendritic drainage network, on the base grid.

    Returns the DEM and the stream lines — (xy vertex array in m, upstream
    area in km²) — of the channel segments draining at least
    :data:`_STREAM_AREA_M2`.

    1. On a coarse grid (3 base cells), a smooth surface — the regional trend,
       gentle noise, the main rivers' valleys — is routed with D8 (pyflwdir);
       cells draining ≥ 1 km² are channels, with the bed elevation of the
       depression-filled surface.
    2. The channel segments are drawn onto the base grid, slightly meandered
       by a smooth displacement field.
    3. Every cell rises above its nearest channel with an exponential
       hillslope profile ``H (1 − exp(−d / 450 m))`` whose relief ``H`` grows
       with mountainousness (25 m in the basin to ≈ 475 m in the mountains),
       plus a little noise; the main rivers get their valley floors.
    """
    import pyflwdir
    from pyflwdir.dem import fill_depressions
    from scipy.ndimage import distance_transform_edt

    coarse = _coarser(base, 3)
    trend_c = _sample(_kernel_interp(macro, _ELEV_ANCHORS, 9000.0), macro, coarse)
    mount_c = np.clip(_sample(_kernel_interp(macro, _MOUNTAIN_ANCHORS, 9000.0), macro, coarse), 0.0, 1.0)
    zc = (
        trend_c
        + (10.0 + 40.0 * mount_c) * _field(coarse, seed, 1, beta=3.3, corr_m=15000.0)
        + (15.0 + 60.0 * mount_c) * _field(coarse, seed, 2, beta=2.5, corr_m=2000.0)
    )
    zc = _carve_rivers(zc, coarse)
    filled, d8 = fill_depressions(zc.astype(np.float32), nodata=-9999.0, outlets="edge")
    flw = pyflwdir.from_array(d8, ftype="d8", check_ftype=False, transform=coarse.transform, latlon=False)
    area_km2 = flw.upstream_area(unit="km2")
    channel = (area_km2 >= 1.0).ravel()
    idx = np.flatnonzero(channel)
    ds = flw.idxs_ds[idx]
    keep = channel[ds] & (ds != idx)
    idx, ds = idx[keep], ds[keep]
    seg_area_km2 = area_km2.ravel()[idx]
    del flw, d8, zc, area_km2

    # Channel segments → points every ~1/8 segment, meandered, burnt onto the base grid.
    xs, ys = coarse.centres()
    r0, c0 = np.divmod(idx, coarse.width)
    r1, c1 = np.divmod(ds, coarse.width)
    zf = filled.ravel()
    t = np.linspace(0.0, 1.0, 8, endpoint=False)[None, :]
    px = (xs[c0][:, None] * (1 - t) + xs[c1][:, None] * t).ravel()
    py = (ys[r0][:, None] * (1 - t) + ys[r1][:, None] * t).ravel()
    pz = (zf[idx][:, None] * (1 - t) + zf[ds][:, None] * t).ravel().astype(np.float32)
    del filled, zf
    inv = ~base.transform
    cols, rows = inv * (px, py)
    ri = np.clip(rows.astype(np.intp), 0, base.height - 1)
    ci = np.clip(cols.astype(np.intp), 0, base.width - 1)
    px += 110.0 * _field(base, seed, 40, beta=3.0, corr_m=1500.0)[ri, ci]
    py += 110.0 * _field(base, seed, 41, beta=3.0, corr_m=1500.0)[ri, ci]
    # Stream lines: each large segment's 8 points and the first point of the segment below it.
    seg_of_cell = np.full(coarse.width * coarse.height, -1, dtype=np.intp)
    seg_of_cell[idx] = np.arange(idx.size)
    wx, wy = px.reshape(-1, 8), py.reshape(-1, 8)
    streams = []
    for k in np.flatnonzero(seg_area_km2 >= _STREAM_AREA_M2 / 1e6):
        nxt = seg_of_cell[ds[k]]
        end = (wx[nxt, 0], wy[nxt, 0]) if nxt >= 0 else (xs[c1[k]], ys[r1[k]])
        streams.append((np.vstack([np.column_stack([wx[k], wy[k]]), end]), float(seg_area_km2[k])))
    del wx, wy, seg_of_cell
    cols, rows = inv * (px, py)
    ri, ci = np.floor(rows).astype(np.intp), np.floor(cols).astype(np.intp)
    ok = (ri >= 0) & (ri < base.height) & (ci >= 0) & (ci < base.width)
    bed = np.full(base.shape, np.inf, dtype=np.float32)
    np.minimum.at(bed, (ri[ok], ci[ok]), pz[ok])
    dist, (ii, jj) = distance_transform_edt(~np.isfinite(bed), return_indices=True)
    dist = (dist * base.res).astype(np.float32)
    z_bed = bed[ii, jj]
    del bed, ii, jj

    relief = 25.0 + 450.0 * mount**1.3
    z = z_bed + relief * (1.0 - np.exp(-dist / 450.0))
    z += 0.12 * relief * _field(base, seed, 42, beta=2.8, corr_m=1200.0) * (1.0 - np.exp(-dist / 150.0))
    return _carve_rivers(z.astype(np.float32), base), streams


def _landscape(base: _Grid, macro: _Grid, region, seed: int) -> dict[str, np.ndarray]:
    """All year-independent smooth fields on the base grid (float32)."""
    from rasterio.features import rasterize
    from scipy.ndimage import gaussian_filter

    f: dict[str, np.ndarray] = {}
    mount = np.clip(_sample(_kernel_interp(macro, _MOUNTAIN_ANCHORS, 9000.0), macro, base), 0.0, 1.0)
    z, streams = _dem(base, macro, seed, mount)
    f["streams"] = streams
    f["dem"] = z
    f["mount"] = mount.astype(np.float32)

    # Terrain descriptors used by the land-cover scores.
    f["rel"] = (z - _blur(z, base, 1500.0)).astype(np.float32)
    gy, gx = np.gradient(z.astype(np.float64), base.res)
    # gy is d z / d row (south-positive); northness of the facing direction:
    # a slope facing north has z rising to the south (gy > 0).
    grad = np.hypot(gx, gy)
    north = np.where(grad > 0, gy / np.maximum(grad, 1e-9), 0.0)
    f["north"] = (north * np.clip(np.degrees(np.arctan(grad)) / 15.0, 0, 1)).astype(np.float32)
    del gx, gy, grad, north

    # Rain erosivity: rising from the north-west to the south-east, a little
    # orographic increase and local noise; kept within 300–500.
    xs, ys = base.centres()
    t = (xs[None, :] - xs[0]) / (xs[-1] - xs[0]) * 0.55 + (ys[0] - ys[:, None]) / (ys[0] - ys[-1]) * 0.45
    r = 310.0 + 170.0 * t + 0.04 * (z - 800.0) + 8.0 * _field(base, seed, 3, beta=3.0, corr_m=20000.0)
    f["R"] = np.clip(r, 300.0, 500.0).astype(np.float32)
    # Soil erodibility: silty loess-derived soils in the basin, stony thin soils in the mountains.
    k = 0.0095 - 0.0050 * mount + 0.0010 * _field(base, seed, 4, beta=3.0, corr_m=6000.0)
    f["K"] = np.clip(k, 0.004, 0.012).astype(np.float32)
    del z, t, r, k

    # Settlements: the city, county seats and towns as kernels; villages and
    # mines as noise patches on gentle, low-lying land.
    pts = _lonlat_to_xy(np.array([(s[0], s[1]) for s in _SETTLEMENTS]))
    kern = np.zeros(base.shape, dtype=np.float32)
    for (px, py), (_, _, size, radius) in zip(pts, _SETTLEMENTS, strict=True):
        d2 = ((xs[None, :] - px) ** 2 + (ys[:, None] - py) ** 2) / radius**2
        np.maximum(kern, (size * np.exp(-d2)).astype(np.float32), out=kern)
    f["near_town"] = _blur(kern, base, 2500.0)
    # Irregular town outlines: the kernels modulated by smooth noise.
    f["kernel"] = kern * np.exp(0.45 * _field(base, seed, 7, beta=2.6, corr_m=1500.0))
    f["villages"] = terrain.to_uniform(_field(base, seed, 5, beta=2.6, corr_m=500.0))
    # Village road ends: cells drawn with the village propensity as weight.
    w = (f["villages"] ** 8 * (1.0 - 0.5 * mount) * (f["rel"] < 30.0)).ravel().astype(np.float64)
    pick = _rng(seed, 50).choice(w.size, size=_N_VILLAGE_ROADS, replace=False, p=w / w.sum())
    f["village_xy"] = np.column_stack([xs[pick % base.width], ys[pick // base.width]])
    del w, pick
    mines = terrain.to_uniform(_field(base, seed, 6, beta=2.4, corr_m=700.0))
    f["mines_score"] = np.where(mines > 0.992, 0.45 + 0.1 * mines, 0.0) * (1.0 - 0.3 * mount)
    del mines

    # Class noise (standardised) and year-change scores (uniform 0–1).
    f["n_crop"] = _field(base, seed, 10, beta=3.0, corr_m=2500.0)
    f["n_forest"] = _field(base, seed, 11, beta=3.0, corr_m=3000.0)
    f["n_orchard"] = _field(base, seed, 12, beta=2.6, corr_m=900.0)
    f["n_other"] = _field(base, seed, 13, beta=2.6, corr_m=600.0)
    f["n_veg"] = _field(base, seed, 14, beta=2.8, corr_m=1500.0)
    f["n_pond"] = _field(base, seed, 15, beta=2.4, corr_m=300.0)
    f["u_terrace"] = terrain.to_uniform(_field(base, seed, 20, beta=2.6, corr_m=800.0))
    f["u_afforest"] = terrain.to_uniform(_field(base, seed, 21, beta=2.6, corr_m=1200.0))
    f["u_gain"] = terrain.to_uniform(_field(base, seed, 22, beta=3.0, corr_m=5000.0))
    # Where the setback disturbance may fall: patches within its sites.
    zone = np.zeros(base.shape, dtype=bool)
    for (px, py), (_, _, radius) in zip(
        _lonlat_to_xy(np.array([(s[0], s[1]) for s in _SETBACK_SITES])), _SETBACK_SITES, strict=True
    ):
        zone |= ((xs[None, :] - px) ** 2 + (ys[:, None] - py) ** 2) < radius**2
    f["disturb"] = np.where(zone, terrain.to_uniform(_field(base, seed, 23, beta=2.6, corr_m=500.0)), 0.0)
    del zone
    f["u_restore"] = terrain.to_uniform(_field(base, seed, 24, beta=2.6, corr_m=600.0))

    f.update({f"modis_{k}": _sample(v, macro, base) for k, v in _modis_priors(macro).items()})

    # County management parameters, blended smoothly across county borders
    # (on a 450 m grid, over ≈ 1 km).
    codes = [str(c) for c in region["county_code"]]
    mid = _coarser(base, 5)
    ids = rasterize(
        [(geom, i + 1) for i, geom in enumerate(region.geometry)],
        out_shape=mid.shape, transform=mid.transform, fill=0, dtype="int16",
    )
    names = ("fvc", "gain", "terrace", "terrace_gain", "afforest")
    default = _COUNTY_PARAMS["default"]
    sigma = 1000.0 / mid.res
    den = np.full(mid.shape, 1e-6, dtype=np.float64)
    nums = {n: np.full(mid.shape, 1e-6 * default[n], dtype=np.float64) for n in names}
    for i, code in enumerate(codes, start=1):
        w = gaussian_filter((ids == i).astype(np.float64), sigma=sigma, mode="constant")
        den += w
        params = _COUNTY_PARAMS.get(code, default)
        for n in names:
            nums[n] += w * params[n]
    for n in names:
        f[f"p_{n}"] = _sample((nums[n] / den).astype(np.float32), mid, base)
    return f


# --------------------------------------------------------------------------- land cover


def _burn(shapes: list, grid: _Grid) -> np.ndarray:
    from rasterio.features import rasterize

    if not shapes:
        return np.zeros(grid.shape, dtype=bool)
    return rasterize(
        [(s, 1) for s in shapes], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8"
    ).astype(bool)


def _water_and_roads(
    grid: _Grid, village_xy: np.ndarray, streams: Sequence[tuple[np.ndarray, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Rivers, reservoirs and roads burnt onto ``grid``: centrelines (1-cell paths) plus their width.

    Main roads are hand-drawn; rural roads join every settlement and village
    road end to its two nearest neighbours.
    """
    from scipy.spatial import cKDTree
    from shapely.affinity import scale
    from shapely.geometry import LineString, Point

    water_shapes: list = []
    for _name, half_width, _valley, vertices in _RIVERS:
        line = LineString(_polyline_xy(vertices)[:, :2])
        water_shapes += [line, line.buffer(half_width)]
    # Streams are one cell wide; on coarse grids keep only the larger ones so the
    # water share does not grow with the cell size.
    min_km2 = _STREAM_AREA_M2 / 1e6 * max(1.0, grid.res / 30.0) ** 2
    water_shapes += [LineString(line) for line, area in streams if area >= min_km2]
    for lon, lat, ax, ay in _RESERVOIRS:
        (x, y), = _lonlat_to_xy(np.array([[lon, lat]]))
        water_shapes.append(scale(Point(x, y).buffer(1.0), ax, ay))
    road_shapes: list = []
    for vertices in _ROADS:
        line = LineString(_polyline_xy(vertices))
        road_shapes += [line, line.buffer(20.0)]
    ends = np.vstack([_lonlat_to_xy(np.array([(s[0], s[1]) for s in _SETTLEMENTS])), np.asarray(village_xy, float)])
    _, nearest = cKDTree(ends).query(ends, k=3)
    pairs = {tuple(sorted((int(i), int(j)))) for i, row in enumerate(nearest) for j in row[1:]}
    for i, j in sorted(pairs):
        line = LineString([ends[i], ends[j]])
        road_shapes += [line, line.buffer(8.0)]
    return _burn(water_shapes, grid), _burn(road_shapes, grid)


def _top_share(
    score: np.ndarray, free: np.ndarray, region_sub: np.ndarray, sub: tuple[slice, slice], share_pct: float
) -> float:
    """Score threshold so that the free pixels at or above it make ``share_pct`` % of the region.

    Estimated on a regular subsample (``sub``) of the grid, so it is cheap and
    does not depend on the output resolution beyond sampling noise.
    """
    s = score[sub]
    cand = s[free[sub] & region_sub]
    n = int(round(region_sub.sum() * share_pct / 100.0))
    if n <= 0 or cand.size == 0:
        return float("inf")
    if n >= cand.size:
        return float("-inf")
    return float(np.partition(cand, cand.size - n)[cand.size - n])


def _gentle(slope: np.ndarray, scale_deg: float) -> np.ndarray:
    return np.exp(-((slope / np.float32(scale_deg)) ** 2))


@dataclass
class _Year:
    """One year's land cover and the per-pixel state the erosion needs."""

    lc: np.ndarray  # uint8 codes
    fvc: np.ndarray  # fraction 0–1
    e: np.ndarray  # engineering factor
    dense_urban: np.ndarray  # bool, masked in the erosion raster


def _base_scores(land: Mapping[str, np.ndarray], year: int) -> dict[str, np.ndarray]:
    """Combine the landscape fields into the per-class scores (base grid).

    Only the parts that depend on the output grid (slope, fine texture) are
    added after sampling, so each score is sampled once.
    """
    dy = year - _BASE_YEAR
    mount, rel, near = land["mount"], land["rel"], land["near_town"]
    sc: dict[str, np.ndarray] = {}
    sc["dem"] = land["dem"]
    sc["pond"] = np.where(rel < -5.0, land["n_pond"], -3.0)
    sc["kernel"] = np.maximum(land["kernel"], land["mines_score"])
    sc["villages"] = land["villages"] ** 8 * (1.0 - 0.5 * mount) * np.where(rel < 30.0, 1.0, 0.6)
    sc["other"] = 0.35 * land["n_other"] + 0.25 * near
    sc["orchard"] = 0.8 * near + 0.5 * land["n_orchard"] - 0.4 * mount
    sc["crop"] = (
        0.45 * land["modis_crop"] - 0.35 * mount + 0.004 * np.clip(-rel, -40, 40) + 0.3 * land["n_crop"] + 0.3 * near
    )
    sc["forest"] = (
        0.6 * mount + 0.35 * (land["modis_forest"] - land["modis_grass"]) + 0.35 * land["north"]
        + 0.25 * np.clip((land["dem"] - 900.0) / 600.0, -1, 1.5) + 0.4 * land["n_forest"] - 0.5 * near
    )
    sc["veg"] = 0.10 * land["n_veg"] + 0.065 * land["north"] + land["p_fvc"]
    sc["u_terrace"] = land["u_terrace"]
    sc["p_terrace"] = np.clip(land["p_terrace"] + land["p_terrace_gain"] * dy, 0.0, 0.95)
    sc["afforest"] = land["u_afforest"] - land["p_afforest"] * max(dy, 0)
    sc["gain"] = land["p_gain"] * (0.4 + 1.2 * land["u_gain"])
    sc["disturb"] = land["disturb"]
    sc["restore"] = land["u_restore"]
    sc["rk"] = land["R"] * land["K"]
    sc["R"] = land["R"]  # exported separately by write_demo_factors
    sc["K"] = land["K"]
    out = {k: np.asarray(v, dtype=np.float32) for k, v in sc.items()}
    out["village_xy"] = land["village_xy"]
    out["streams"] = land["streams"]
    return out


def _land_cover(
    scores: Mapping[str, np.ndarray],
    base: _Grid,
    target: _Grid,
    slope: np.ndarray,
    region: np.ndarray,
    year: int,
    seed: int,
) -> _Year:
    """Base-year land cover on the target grid, then the year's changes."""
    def S(name: str) -> np.ndarray:
        return _sample(scores[name], base, target)

    step = max(1, int(round(math.sqrt(region.size / 1.5e6))))
    sub = (slice(step // 2, None, step), slice(step // 2, None, step))
    region_sub = region[sub]
    fine = _field(target, seed, 30, beta=2.0, corr_m=120.0)  # field-scale texture
    gentle = _gentle(slope, 10.0)

    lc = np.zeros(target.shape, dtype=np.uint8)
    water, roads = _water_and_roads(target, scores["village_xy"], scores["streams"])
    # Ponds and small reservoirs in flat valley bottoms.
    water |= (S("pond") + 0.3 * fine > 2.2) & (slope < 4.0)
    lc[water] = WATER
    lc[roads & ~water] = TRANSPORT
    del water, roads

    # Built-up: kernels of the city, seats and towns, and mines; villages on gentle land.
    kernel = S("kernel")
    urban = S("villages")
    urban *= 0.62 * (0.5 + 0.5 * gentle)
    np.maximum(urban, kernel, out=urban)
    urban += 0.04 * fine
    free = lc == 0
    lc[free & (urban >= _top_share(urban, free, region_sub, sub, _SHARES_PCT[0][1]))] = BUILT
    dense_urban = (lc == BUILT) & (kernel > 0.62)
    del kernel

    # Other land: cliffs and bare rock on the steepest slopes, yards and spoil near settlements.
    other = S("other")
    other += np.clip((slope - 28.0) / 14.0, 0.0, 1.0) + 0.1 * fine
    free = lc == 0
    lc[free & (other >= _top_share(other, free, region_sub, sub, _SHARES_PCT[1][1]))] = OTHER
    del other

    # Orchards: gentle to moderate slopes near villages.
    orchard = S("orchard")
    orchard += np.exp(-(((slope - 8.0) / 7.0) ** 2)) + 0.15 * fine
    free = lc == 0
    lc[free & (orchard >= _top_share(orchard, free, region_sub, sub, _SHARES_PCT[2][1]))] = ORCHARD
    del orchard

    # Cropland: gentle land, valley floors and plateau tops, where MODIS sees cropland.
    crop = S("crop")
    crop += 1.2 * _gentle(slope, 9.0) + 0.12 * fine
    free = lc == 0
    lc[free & (crop >= _top_share(crop, free, region_sub, sub, _SHARES_PCT[3][1]))] = CROP
    del crop

    # Forest or grassland for the rest: forest higher, steeper, north-facing, far from villages.
    forest = S("forest")
    forest += 0.25 * np.clip(slope / 30.0, 0, 1) + 0.12 * fine
    free = lc == 0
    rest_pct = 100.0 * float((free[sub] & region_sub).sum()) / max(1, int(region_sub.sum()))
    lc[free & (forest >= _top_share(forest, free, region_sub, sub, _FOREST_SHARE_OF_REST * rest_pct))] = FOREST
    lc[lc == 0] = GRASS
    del forest, free

    # Vegetation cover of the base year, fraction.
    veg = S("veg")
    veg += 0.035 * fine
    fvc = np.full(target.shape, 0.08, dtype=np.float32)
    for code, level in _FVC_LEVELS.items():
        sel = lc == code
        fvc[sel] = level + (veg[sel] if code in (FOREST, GRASS, ORCHARD) else 0.05 * fine[sel])
    del veg

    # Engineering measures: terraces on sloping cropland (more on steeper land).
    dy = year - _BASE_YEAR
    u_ter = S("u_terrace")
    p_ter = S("p_terrace")
    p_ter *= np.sqrt(np.clip((slope - 2.0) / 10.0, 0.0, 1.0))
    terraced = (lc == CROP) & (u_ter < p_ter)
    e = np.ones(target.shape, dtype=np.float32)
    level = u_ter < 0.7 * p_ter
    e[terraced & level] = csle.ENGINEERING_E["level_terrace"]
    e[terraced & ~level] = csle.ENGINEERING_E["slope_terrace"]
    del u_ter, p_ter, level

    # ---- the year's changes -------------------------------------------------
    if dy > 0:
        # Urban growth onto the best-placed open land.
        not_fixed = (lc != WATER) & (lc != TRANSPORT)
        thr = _top_share(urban, not_fixed, region_sub, sub, _SHARES_PCT[0][1] + _SPRAWL_PCT_PER_YEAR * dy)
        grow = not_fixed & (urban >= thr) & np.isin(lc, (CROP, ORCHARD, GRASS, OTHER))
        lc[grow] = BUILT
        fvc[grow] = 0.10
        e[grow] = 1.0
        del grow, not_fixed
        # Afforestation (Grain for Green, barren-hill planting) with fish-scale pits.
        eligible = ((lc == CROP) & (slope > 15.0) & ~terraced) | ((lc == GRASS) & (slope > 10.0))
        planted = eligible & (S("afforest") < 0.0)
        lc[planted] = FOREST
        fvc[planted] = np.maximum(fvc[planted] - 0.1, 0.30)
        e[planted] = csle.ENGINEERING_E["fish_scale_pit"]
        del eligible, planted
    del urban, terraced

    # Vegetation recovery: each year closes a share of the gap to full cover.
    vegetated = np.isin(lc, (FOREST, GRASS, ORCHARD))
    gain = S("gain")[vegetated]
    fvc[vegetated] = 1.0 - (1.0 - fvc[vegetated]) * (1.0 - gain) ** dy
    del gain, vegetated

    # The setback: mining / construction disturbance from _SETBACK_YEAR, partly restored later.
    if year >= _SETBACK_YEAR:
        hit = (S("disturb") > 0.25) & np.isin(lc, (FOREST, GRASS, ORCHARD))
        restored = hit & (S("restore") < 0.3 * (year - _SETBACK_YEAR))
        lc[hit] = OTHER
        fvc[hit] = 0.05
        e[hit] = 1.0
        lc[restored] = GRASS
        fvc[restored] = 0.30
        e[restored] = csle.ENGINEERING_E["fish_scale_pit"]
        del hit, restored

    np.clip(fvc, 0.0, 0.97, out=fvc)
    return _Year(lc=lc, fvc=fvc, e=e, dense_urban=dense_urban)


# --------------------------------------------------------------------------- erosion


def _erosion(scores: Mapping[str, np.ndarray], base: _Grid, target: _Grid, ls: np.ndarray, state: _Year) -> np.ndarray:
    """CSLE erosion modulus, t/(km²·a), float32 with nodata over water and the densest built-up land."""
    # A synthetic NDVI turned back into cover by the pixel dichotomy model, as a monitoring team would.
    ndvi_soil, ndvi_veg = np.float32(0.05), np.float32(0.85)
    ndvi = ndvi_soil + (ndvi_veg - ndvi_soil) * state.fvc
    ndvi[state.lc == WATER] = -0.1
    fvc = csle.fractional_vegetation_cover(ndvi, ndvi_soil, ndvi_veg)
    del ndvi
    b = csle.biological_factor_B(fvc, state.lc)
    del fvc
    t = csle.tillage_factor_T(state.lc)
    rk = _sample(scores["rk"], base, target)
    # R·K carries both (MJ·mm/(ha·h·a) × t·ha·h/(ha·MJ·mm) = t/ha/a); R = rk, K = 1 in the product.
    a = csle.t_ha_to_t_km2(csle.soil_loss(rk, np.float32(1.0), ls, b, state.e, t))
    del rk, b, t
    # Whole t/(km²·a), as monitoring products are delivered; compresses 2× better.
    a = np.rint(a).astype(np.float32, copy=False)
    a[(state.lc == WATER) | state.dense_urban] = np.float32(EROSION_NODATA)
    return a


# --------------------------------------------------------------------------- writing


_LANDCOVER_COLOURS: Final = {
    0: (0, 0, 0, 0), CROP: (255, 235, 150, 255), ORCHARD: (200, 150, 230, 255), FOREST: (30, 120, 40, 255),
    GRASS: (160, 210, 90, 255), BUILT: (220, 50, 40, 255), TRANSPORT: (120, 120, 120, 255),
    WATER: (60, 130, 220, 255), OTHER: (200, 190, 170, 255),
}


def _gtiff_profile(dtype: str, crs: str, transform: Affine, width: int, height: int, nodata: float) -> dict:
    return {
        "driver": "GTiff", "dtype": dtype, "count": 1, "crs": crs, "transform": transform,
        "width": width, "height": height, "nodata": nodata, "tiled": True, "blockxsize": 512,
        "blockysize": 512, "compress": "deflate", "predictor": 3 if dtype.startswith("float") else 1,
        "num_threads": "all_cpus", "bigtiff": "if_safer",
    }


def _common_tags(year: int, seed: int, resolution_m: float) -> dict[str, str]:
    return {
        DEMO_TAG_KEY: DEMO_TAG,
        "SWC_YEAR": str(year),
        "SWC_SEED": str(seed),
        "SWC_RESOLUTION_M": f"{resolution_m:g}",
        "SWC_GENERATOR": "swc_raster.demo.write_demo_year",
    }


def _landcover_grid(region_4326_bounds: Sequence[float], resolution_m: float) -> tuple[Affine, int, int, float]:
    arcsec = max(1, int(round(resolution_m / 30.0)))
    step = arcsec / 3600.0
    minx, miny, maxx, maxy = region_4326_bounds
    minx = math.floor((minx - _LANDCOVER_BUFFER_DEG) / step) * step
    maxx = math.ceil((maxx + _LANDCOVER_BUFFER_DEG) / step) * step
    miny = math.floor((miny - _LANDCOVER_BUFFER_DEG) / step) * step
    maxy = math.ceil((maxy + _LANDCOVER_BUFFER_DEG) / step) * step
    width = int(round((maxx - minx) / step))
    height = int(round((maxy - miny) / step))
    return Affine(step, 0.0, minx, 0.0, -step, maxy), width, height, step


def _read_region(boundaries_path: str, layer: str):
    import geopandas as gpd

    counties = gpd.read_file(boundaries_path, layer=layer)
    if counties.crs is None:
        raise ValueError(f"{boundaries_path}: the boundaries have no CRS")
    if "county_code" not in counties.columns:
        counties["county_code"] = [str(i) for i in range(len(counties))]
    if "county_name" not in counties.columns:
        counties["county_name"] = counties["county_code"]
    counties["county_code"] = counties["county_code"].astype(str)
    return counties


def _generate(boundaries_path: str, layer: str, year: int, resolution_m: float, seed: int,
              factors: dict[str, np.ndarray] | None = None):
    """Everything but the writing: (counties, region, target grid, land-cover state, erosion, summary).

    ``factors``: when a dict is given, the CSLE input rasters on the target grid
    are stored in it: ``dem`` (m), ``R``, ``K`` (sampled separately from the
    landscape grid), ``fvc`` (the cover the erosion used, 0 on water) and
    ``E`` (the engineering measures the erosion used).
    """
    from rasterio.features import rasterize

    counties = _read_region(boundaries_path, layer)
    region = counties.to_crs(EROSION_CRS)
    extent = _extent(region.total_bounds)
    macro = _grid_over(extent, _MACRO_RES_M)
    base = _grid_over(extent, _BASE_RES_M)
    target = _grid_over(extent, resolution_m)

    scores = _base_scores(_landscape(base, macro, region, seed), year)

    # Terrain on the output grid: slope and slope length from the sampled DEM
    # (depression-free already: filled on the base grid).
    dem = _sample(scores["dem"], base, target)
    slope = csle.slope_degrees(dem, target.res, target.res)
    lam = csle.slope_length_from_dem(dem, target.transform, cap_m=csle.DEFAULT_LAMBDA_CAP_M, fill=False)
    if factors is not None:
        factors["dem"] = dem
        factors["R"] = _sample(scores["R"], base, target)
        factors["K"] = _sample(scores["K"], base, target)
    del dem
    ls = csle.ls_factor(lam, slope).astype(np.float32)
    del lam

    county_ids = rasterize(
        [(geom, i + 1) for i, geom in enumerate(region.geometry)],
        out_shape=target.shape, transform=target.transform, fill=0, dtype="int16",
    )
    in_region = county_ids > 0
    state = _land_cover(scores, base, target, slope, in_region, year, seed)
    del slope
    if factors is not None:
        factors["fvc"] = np.where(state.lc == WATER, np.float32(0.0), state.fvc).astype(np.float32)
        factors["E"] = state.e.copy()
    erosion = _erosion(scores, base, target, ls, state)
    del ls, scores

    # Summary (on the erosion grid; GK cells are equal-area to ~0.1 % here).
    n_c = len(region) + 1
    ids = county_ids.ravel()
    counts = np.bincount(ids, minlength=n_c)
    eroded = np.bincount(ids, weights=(erosion.ravel() >= _T_ALLOWABLE), minlength=n_c)
    rates = {
        code: round(100.0 * (1.0 - float(eroded[i + 1]) / float(counts[i + 1])), 2) if counts[i + 1] else None
        for i, code in enumerate(region["county_code"])
    }
    lc_counts = np.bincount(state.lc[in_region], minlength=9)
    n_region = max(1, int(in_region.sum()))
    shares = {int(c): round(100.0 * float(lc_counts[c]) / n_region, 2) for c in range(1, 9)}
    summary = {"landcover_share_pct": shares, "rate_estimate_pct": rates}
    return counties, region, target, state, erosion, summary


# --------------------------------------------------------------------------- public


def write_demo_year(
    boundaries_path: str,
    year: int,
    landcover_path: str,
    erosion_path: str,
    *,
    layer: str = "counties",
    resolution_m: float = 30.0,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Generate one year of the synthetic demo data and write both GeoTIFFs.

    Parameters
    ----------
    boundaries_path : str
        Vector file with the counties (fields ``county_code``, ``county_name``);
        the landscape is designed for Jincheng's six units but any region in
        the CGCS2000 CM 114E zone works.
    year : int
        Year label, 2015–2035.  2021–2024 is the designed series (vegetation
        recovering, terraces and planting, a mining/construction setback in
        泽州 from 2023); other years extrapolate the trends.
    landcover_path, erosion_path : str
        Output GeoTIFF paths (parent folders are created).
    layer : str, default "counties"
        Layer of ``boundaries_path``.
    resolution_m : float, default 30
        Erosion cell size, m.  The land cover is written at
        ``round(resolution_m / 30)`` arc-seconds (1″ for 30 m).  Coarser
        values (90, 150) are much faster and give the same landscape.
    seed : int, default 20230049
        Seed of every random field; same seed → identical rasters.

    Returns
    -------
    dict
        Paths, CRSs, shapes, the land-cover shares of the region (%) and a
        quick per-county rate estimate (% of land with A < 200 t/(km²·a),
        erosion nodata counted as non-eroded, on the erosion grid).
    """
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    year = int(year)
    if not (_YEAR_RANGE[0] <= year <= _YEAR_RANGE[1]):
        raise ValueError(f"year {year} is outside {_YEAR_RANGE[0]}–{_YEAR_RANGE[1]}; the demo is designed for 2021–2024")
    if not (10.0 <= float(resolution_m) <= 1000.0):
        raise ValueError(f"resolution_m must be between 10 and 1000 m, got {resolution_m}")
    resolution_m = float(resolution_m)

    counties, _region, target, state, erosion, summary = _generate(boundaries_path, layer, year, resolution_m, seed)

    tags = _common_tags(year, seed, resolution_m)
    lc_transform, lc_width, lc_height, _ = _landcover_grid(counties.to_crs(LANDCOVER_CRS).total_bounds, resolution_m)
    lc_out = np.zeros((lc_height, lc_width), dtype=np.uint8)
    reproject(
        state.lc, lc_out, src_transform=target.transform, src_crs=EROSION_CRS, src_nodata=LANDCOVER_NODATA,
        dst_transform=lc_transform, dst_crs=LANDCOVER_CRS, dst_nodata=LANDCOVER_NODATA,
        resampling=Resampling.nearest, num_threads=2,
    )
    del state

    # Both files appear together, and only complete (a killed run leaves neither).
    with atomic_outputs(erosion_path, landcover_path) as (erosion_tmp, landcover_tmp):
        profile = _gtiff_profile("float32", EROSION_CRS, target.transform, target.width, target.height, EROSION_NODATA)
        with rasterio.open(erosion_tmp, "w", **profile) as dst:
            dst.write(erosion, 1)
            dst.update_tags(**tags, SWC_UNIT=EROSION_UNIT, SWC_T_ALLOWABLE_HINT="200 t/km2/a (北方土石山区)")
            dst.update_tags(1, UNIT=EROSION_UNIT, QUANTITY="soil erosion modulus (CSLE)")
            dst.set_band_description(1, f"erosion modulus, {EROSION_UNIT} (synthetic demo)")
            dst.units = (EROSION_UNIT,)
        del erosion
        profile = _gtiff_profile("uint8", LANDCOVER_CRS, lc_transform, lc_width, lc_height, LANDCOVER_NODATA)
        with rasterio.open(landcover_tmp, "w", **profile) as dst:
            dst.write(lc_out, 1)
            dst.write_colormap(1, _LANDCOVER_COLOURS)
            dst.update_tags(**tags, SWC_LEGEND="config/landcover_legend.csv (1 耕地 … 8 其他土地), 0 nodata")
            dst.set_band_description(1, "land cover, legend codes 1-8 (synthetic demo)")

    return {
        "year": year,
        "seed": seed,
        "resolution_m": resolution_m,
        "landcover_path": str(landcover_path),
        "erosion_path": str(erosion_path),
        "landcover_crs": LANDCOVER_CRS,
        "erosion_crs": EROSION_CRS,
        "erosion_unit": EROSION_UNIT,
        "landcover_shape": (lc_height, lc_width),
        "erosion_shape": target.shape,
        **summary,
        "t_allowable_t_km2": _T_ALLOWABLE,
    }


def write_demo_factors(
    boundaries_path: str,
    year: int,
    out_dir: str,
    *,
    layer: str = "counties",
    resolution_m: float = 30.0,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Write the demo's own CSLE input rasters of one year, for the workflow's CSLE branch.

    The same landscape as :func:`write_demo_year` with the same arguments (same
    seed, year and resolution → the same terrain, land cover and cover): the
    DEM the demo's slope and slope length come from, the rainfall erosivity R,
    the soil erodibility K, the year's fractional vegetation cover and its map
    of engineering measures (E), so that A computed from them by
    ``swc_raster.csle_raster`` can be compared with the demo's own erosion
    raster.  The land cover to use with them is the one :func:`write_demo_year`
    writes for the year.

    Files in ``out_dir`` (:data:`DEMO_FACTOR_FILES`), all float32 on CGCS2000 /
    3-degree Gauss-Krüger CM 114E (EPSG:4547) at ``resolution_m``, tiled DEFLATE,
    tagged as synthetic demo data:

    - ``dem.tif`` — elevation, m (≈ 240–2 000 m; depression-free at the 90 m
      landscape scale, small pits from the bilinear sampling remain);
    - ``R.tif`` — MJ·mm/(ha·h·a), 300–500;
    - ``K.tif`` — t·ha·h/(ha·MJ·mm), 0.004–0.012;
    - ``fvc.tif`` — fraction 0–1 (0 on water);
    - ``E.tif`` — engineering factor of the mapped measures: level (0.084) and
      slope (0.414) terraces on sloping cropland, fish-scale pits (0.249) on new
      plantations and restored land, 1 elsewhere.

    What the demo's erosion raster has and these do not: the nodata mask over
    water and the densest built-up core (the branch gives A = 0 there, B = 0),
    and the unfilled DEM (the branch fills depressions by default).

    Returns
    -------
    dict
        Paths, CRS, shape, value ranges.
    """
    import rasterio

    year = int(year)
    if not (_YEAR_RANGE[0] <= year <= _YEAR_RANGE[1]):
        raise ValueError(f"year {year} is outside {_YEAR_RANGE[0]}–{_YEAR_RANGE[1]}; the demo is designed for 2021–2024")
    if not (10.0 <= float(resolution_m) <= 1000.0):
        raise ValueError(f"resolution_m must be between 10 and 1000 m, got {resolution_m}")
    resolution_m = float(resolution_m)
    factors: dict[str, np.ndarray] = {}
    _counties, _region, target, state, erosion, _summary = _generate(
        boundaries_path, layer, year, resolution_m, seed, factors=factors
    )
    del state, erosion
    out = {key: str(Path(out_dir) / name) for key, (name, _, _) in DEMO_FACTOR_FILES.items()}
    tags = {**_common_tags(year, seed, resolution_m), "SWC_GENERATOR": "swc_raster.demo.write_demo_factors"}
    ranges = {}
    with atomic_outputs(*out.values()) as temps:
        for (key, (_, unit, description)), tmp in zip(DEMO_FACTOR_FILES.items(), temps, strict=True):
            a = factors.pop(key).astype(np.float32, copy=False)
            ranges[key] = (round(float(np.nanmin(a)), 6), round(float(np.nanmax(a)), 6))
            profile = _gtiff_profile("float32", EROSION_CRS, target.transform, target.width, target.height,
                                     EROSION_NODATA)
            with rasterio.open(tmp, "w", **profile) as dst:
                dst.write(a, 1)
                dst.update_tags(**tags, SWC_UNIT=unit)
                dst.update_tags(1, UNIT=unit, QUANTITY=key)
                dst.set_band_description(1, description)
                dst.units = (unit,)
            del a
    return {"year": year, "seed": seed, "resolution_m": resolution_m, "paths": out, "crs": EROSION_CRS,
            "shape": target.shape, "ranges": ranges}
