"""Publication maps: rate choropleth, target gap, erosion grades, land cover.

Every map is a plain function ``(inputs..., out_png, out_vector, *, year, lang="zh",
demo=False, source_note=None, ...) -> MapOutput`` whose inputs are files of the output
contract (``docs/architecture.md``):

- :func:`rate_map` — ``county_rates.csv`` + counties GeoPackage
- :func:`target_gap_map` — ``target_comparison.csv`` + counties GeoPackage
- :func:`grade_map` — ``erosion_grade.tif`` + counties GeoPackage
- :func:`landcover_map` — aligned land-cover GeoTIFF + legend CSV + counties GeoPackage

Each writes a 300 dpi PNG and a vector copy (``.pdf`` or ``.svg``, chosen by the suffix of
``out_vector``) through temporary files renamed at the end: a failure leaves no output.
The PDFs keep their text as text (selectable, searchable) and their raster layers at
300 ppi at print size.  Figures are drawn on matplotlib's Agg canvas without pyplot (no
global figure state, no display needed).  All text uses the CJK font of
:mod:`swc_raster.fonts` and is checked against its character map before anything is written.

Modules, one concern each:

========== ==================================================================
vector     the two maps of county values (rate, target gap)
raster     the two raster maps (grades, land cover) on one skeleton
readers    counties, tables joined to them, raster overviews, the legend
layout     the page: map frames, title, legend column, note
labels     county names and values, inside polygons or with leader lines
classes    class breaks and colour ramps of the choropleths
polygons   county polygons as matplotlib patches
north      north arrow at true north (grid convergence)
scalebar   the scale bar
text       language, wrapping, source notes, outlined text that stays text
output     writing PNG + PDF/SVG (TrueType text, print-resolution rasters)
========== ==================================================================
"""

from swc_raster.maps.classes import classify, nice_breaks, symmetric_breaks
from swc_raster.maps.labels import MAX_COUNTIES_ALL_LABELLED
from swc_raster.maps.north import north_angle
from swc_raster.maps.output import DPI, PRINT_PPI, MapOutput
from swc_raster.maps.raster import grade_map, landcover_colours, landcover_map
from swc_raster.maps.readers import raster_codes, read_counties, read_legend, read_overview
from swc_raster.maps.text import wrap_text
from swc_raster.maps.vector import rate_map, target_gap_map

__all__ = [
    "DPI",
    "MAX_COUNTIES_ALL_LABELLED",
    "PRINT_PPI",
    "MapOutput",
    "classify",
    "grade_map",
    "landcover_colours",
    "landcover_map",
    "nice_breaks",
    "north_angle",
    "raster_codes",
    "rate_map",
    "read_counties",
    "read_legend",
    "read_overview",
    "symmetric_breaks",
    "target_gap_map",
    "wrap_text",
]
