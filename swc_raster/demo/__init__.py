"""Deterministic synthetic demo data over real county boundaries (Jincheng, Shanxi).

No fine DEM, land-cover or erosion raster of the region can be had offline, so the embedded
demo is *generated*: a synthetic landscape with the real relief pattern of Jincheng (basin in
the centre-east, Taihang mountains in the east, Taiyue/Zhongtiao mountains in the west and
south-west, the Qin and Dan rivers), land cover driven by that terrain, the real coarse MODIS
land cover and spatially correlated noise, and an erosion modulus computed from it with the
CSLE (``swc_raster.csle``, L·S by the census method of ``swc_raster.slope_length``) from R and K
in the published range of south-east Shanxi. Everything follows from a seed: the same seed,
year and resolution give identical files.

Not science: only the workflow's demo rules, the tests and the benchmarks use this package
(no module of ``swc_raster`` imports it). Design and calibration: ``docs/decisions/0003-demo-data.md``.

Modules, one concern each:

- ``constants`` — CRSs, nodata, legend codes, grids, class shares, years;
- ``geography`` — hand-placed relief anchors, rivers, settlements, roads, MODIS, county parameters;
- ``grids`` — the grids and the seeded random fields on them;
- ``factors`` — rainfall erosivity R and soil erodibility K;
- ``fields`` — the year-independent landscape (DEM, drainage, settlements, class noise);
- ``landcover`` — one year's land cover, vegetation cover and engineering measures;
- ``erosion`` — census L·S and the CSLE erosion modulus of one year;
- ``rasters`` — writers of a year's rasters (:func:`write_demo_year`) and of its CSLE factor
  rasters (:func:`write_demo_factors`);
- ``polygons`` — a year delivered as polygons (:func:`write_demo_polygons`): erosion patches
  and survey land use in a GeoPackage.
"""

from __future__ import annotations

from swc_raster.csv_files import DEMO_TAG, DEMO_TAG_KEY
from swc_raster.demo.constants import (
    DEFAULT_SEED,
    DESIGNED_YEARS,
    EROSION_CRS,
    EROSION_NODATA,
    EROSION_UNIT,
    LANDCOVER_CRS,
    LANDCOVER_NODATA,
)
from swc_raster.demo.factors import K_RANGE, R_RANGE
from swc_raster.demo.polygons import DEMO_POLYGON_FILES, write_demo_polygons
from swc_raster.demo.rasters import DEMO_FACTOR_FILES, write_demo_factors, write_demo_year

__all__ = [
    "write_demo_year",
    "write_demo_factors",
    "write_demo_polygons",
    "DEMO_FACTOR_FILES",
    "DEMO_POLYGON_FILES",
    "DEMO_TAG_KEY",
    "DEMO_TAG",
    "LANDCOVER_CRS",
    "EROSION_CRS",
    "EROSION_NODATA",
    "LANDCOVER_NODATA",
    "EROSION_UNIT",
    "DEFAULT_SEED",
    "DESIGNED_YEARS",
    "R_RANGE",
    "K_RANGE",
]
