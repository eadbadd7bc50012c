"""Constants of the demo generator: CRSs, nodata, legend codes, grids, class shares, years."""

from __future__ import annotations

from typing import Final

LANDCOVER_CRS: Final = "EPSG:4326"
EROSION_CRS: Final = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
EROSION_NODATA: Final = -9999.0
LANDCOVER_NODATA: Final = 0
EROSION_UNIT: Final = "t/km2/a"
DEFAULT_SEED: Final = 20230049
#: Years the multi-year story (trends, the 2023 setback) was designed for.
DESIGNED_YEARS: Final = (2021, 2022, 2023, 2024)
BASE_YEAR: Final = 2021
YEAR_RANGE: Final = (2015, 2035)

#: Land-cover legend codes (config/landcover_legend.csv).
CROP, ORCHARD, FOREST, GRASS, BUILT, TRANSPORT, WATER, OTHER = 1, 2, 3, 4, 5, 6, 7, 8

#: Cell size of the landscape grid on which every smooth field is synthesised,
#: m.  Fields are sampled from it onto the output grid, so the landscape is the
#: same at every output resolution.
BASE_RES_M: Final = 90.0
#: Cell size of the macro grid for the smooth regional trends, m.
MACRO_RES_M: Final = 900.0
#: Margin of the erosion grid beyond the region, m.
GRID_BUFFER_M: Final = 6000.0
#: Margin of the land-cover grid beyond the region, degrees (≈ 3.3 km).
LANDCOVER_BUFFER_DEG: Final = 0.03
#: Allowable soil loss used for the rate estimate in the summary, t/(km²·a).
T_ALLOWABLE: Final = 200.0

#: Target shares of the region's land in the base year, % of the region (water
#: and transport follow from their geometry), allocated in this order from the
#: highest class scores down; what is left is split between forest and
#: grassland (:data:`FOREST_SHARE_OF_REST`).  Jincheng-like proportions.
SHARES_PCT: Final = ((BUILT, 6.5), (OTHER, 2.3), (ORCHARD, 2.0), (CROP, 24.0))
FOREST_SHARE_OF_REST: Final = 0.85
#: Mean vegetation cover of each class in the base year (before the county offset and noise), fraction.
FVC_LEVELS: Final = {
    FOREST: 0.90,
    GRASS: 0.88,
    ORCHARD: 0.62,
    CROP: 0.40,
    BUILT: 0.10,
    TRANSPORT: 0.05,
    WATER: 0.0,
    OTHER: 0.08,
}
#: Upstream area from which a channel of the synthetic network is mapped as water, m².
STREAM_AREA_M2: Final = 25e6
#: Number of village road ends drawn for the rural road network.
N_VILLAGE_ROADS: Final = 400
#: Yearly growth of built-up land, % of the region per year.
SPRAWL_PCT_PER_YEAR: Final = 0.12
