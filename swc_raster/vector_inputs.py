"""Erosion patches (图斑) and survey land use (三调) as polygons: reading and the county cross-tab.

Two vector inputs a monitoring team may hold instead of rasters:

- **erosion patches**: polygons with an intensity attribute, either a grade (SL 190 codes 1–6 or
  the product's own values, through a declared code table) or an erosion modulus with its unit,
  graded with each county's T;
- **survey land use**: polygons with GB/T 21010 codes (``0101``, ``0301``, ``05H1``, ``1104K``…)
  mapped to the legend's codes by a declared mapping (:func:`read_code_map`).

:func:`crosstab_exact` gives the county × land cover × grade table (km², the format of
``zonal.crosstab``, so ``rates.county_rates`` takes it unchanged) by exact polygon overlay in the
equal-area analysis CRS; :func:`crosstab_rasterized` is the fallback that burns both layers on a fine
grid (pixel-centre rule). Decision 0007 ("Vector inputs") gives the rules and the measured error of
the fallback.

Area rules of the overlay, county by county:

- land covered by no land-use polygon has land-cover code 0 (unclassified);
- land covered by no erosion patch is 微度 (grade 1) when ``uncovered="slight"`` (the patches list
  the eroded land, the convention of the dynamic-monitoring 图斑 layer) or a data gap (grade 7) when
  ``uncovered="gap"`` (the patches are a full-coverage grade map, so a hole in it is missing data);
- polygons of one layer must not overlap (an overlap would count its land twice): refused.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import xarray as xr
from affine import Affine
from rasterio import features

from swc_raster.errors import CrsError, InputError, InputFileError, InputWarning
from swc_raster.grading import ALL_CODES, GAP_GRADE, GRADE_NAMES_ZH, check_allowable_loss, grade_modulus
from swc_raster.grid import require_equal_area
from swc_raster.legend import LANDCOVER_NODATA
from swc_raster.units import T_PIXEL, normalise_unit, to_t_km2

Uncovered = Literal["slight", "gap"]
#: Grade given to county land that no erosion patch covers, by rule.
UNCOVERED_GRADE: Final = {"slight": 1, "gap": GAP_GRADE}
#: Overlap between two polygons of one layer above this area (m²) is refused; below it, it is float noise
#: of exports and reprojection (1 m² = 1e-6 km², below the published tables' 6 decimals).
OVERLAP_TOLERANCE_M2: Final = 1.0
#: The default code table of a graded patch attribute: SL 190 codes 1–6 and the Chinese grade names.
SL190_GRADE_CODES: Final = {**{str(g): g for g in range(1, 7)}, **{GRADE_NAMES_ZH[g]: g for g in range(1, 7)}}
#: Built-in mappings of survey land-use codes (GB/T 21010-2017 and the 三调 working classification).
CODE_MAPS: Final = ("gbt21010", "gbt21010_8")
#: First-level GB/T 21010 class (1–12) → the 8 bulletin classes of ``gbt21010_8`` (05–09 are 建设用地).
FIRST_LEVEL_TO_BULLETIN8: Final = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 5, 7: 5, 8: 5, 9: 5, 10: 6, 11: 7, 12: 8}


@dataclass(frozen=True)
class ErosionPatches:
    """Erosion patches in the analysis CRS: a grade (1–6) or a modulus (t/(km²·a)) per polygon."""

    geometry: np.ndarray
    grade: np.ndarray | None
    modulus_t_km2: np.ndarray | None
    source: str

    def grades(self, t_allowable: float) -> np.ndarray:
        """Each patch's SL 190 grade (uint8 1–6), a modulus graded with ``t_allowable``."""
        if self.grade is not None:
            return self.grade
        return grade_modulus(self.modulus_t_km2, t_allowable)


@dataclass(frozen=True)
class LandUsePolygons:
    """Land-use polygons in the analysis CRS with the legend code of each."""

    geometry: np.ndarray
    code: np.ndarray
    source: str


# --------------------------------------------------------------------------- reading


def read_erosion_patches(
    path: str | os.PathLike[str],
    *,
    layer: str | None,
    analysis_crs: str,
    grade_field: str | None = None,
    grade_codes: Mapping[str, int] | None = None,
    modulus_field: str | None = None,
    modulus_unit: str | None = None,
    label: str = "erosion_patches",
) -> ErosionPatches:
    """Read erosion patches with exactly one of ``grade_field`` (with ``grade_codes``) or ``modulus_field``.

    ``grade_codes`` maps the attribute's values (compared as text, trimmed) to SL 190 grades 1–6;
    default :data:`SL190_GRADE_CODES`. ``modulus_unit`` is an area-based erosion unit (``t/km2/a``,
    ``t/ha/a``, ``kg/m2/a``). Raises :class:`~swc_raster.errors.InputError` naming the input for a
    missing file, layer or attribute, no CRS, unknown grade values, missing or negative moduli, and
    overlapping patches.
    """
    if (grade_field is None) == (modulus_field is None):
        raise InputError(
            label,
            "declare exactly one of a grade attribute or a modulus attribute.",
            "set `grade_field:` (with `grade_codes:` unless the values are SL 190 codes 1–6 or 微度…剧烈) "
            "or `modulus_field:` with `modulus_unit:`.",
        )
    field = grade_field or modulus_field
    frame, label = _read_polygons(path, layer, field, analysis_crs, label)
    values = frame[field]
    if grade_field is not None:
        grade = _map_grades(values, grade_codes or SL190_GRADE_CODES, label, grade_field)
        patches = ErosionPatches(np.asarray(frame.geometry.values), grade, None, label)
    else:
        unit = normalise_unit(modulus_unit, f"{label}: modulus_unit")
        if unit == T_PIXEL:
            raise InputError(
                label,
                "t/pixel/a has no meaning for polygons.",
                "declare the patches' modulus unit as t/km2/a, t/ha/a or kg/m2/a.",
            )
        modulus = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        bad = ~np.isfinite(modulus) | (modulus < 0)
        if bad.any():
            shown = ", ".join(f"feature {i}: {values.iloc[i]!r}" for i in np.flatnonzero(bad)[:5])
            raise InputError(
                label,
                f"{int(bad.sum())} patch(es) have no valid modulus in `{modulus_field}` ({shown}).",
                "give every patch a modulus ≥ 0, or remove patches without one.",
            )
        patches = ErosionPatches(np.asarray(frame.geometry.values), None, to_t_km2(modulus, unit), label)
    _refuse_overlaps(patches.geometry, label)
    return patches


def read_landuse_polygons(
    path: str | os.PathLike[str],
    *,
    layer: str | None,
    analysis_crs: str,
    code_field: str,
    code_map: Mapping[str, int],
    legend_codes: Sequence[int],
    label: str = "landuse_polygons",
) -> LandUsePolygons:
    """Read survey land-use polygons, each code turned into a legend code by ``code_map``.

    Codes are compared as text, trimmed (``101`` read from a number field is ``0101``). Raises
    :class:`~swc_raster.errors.InputError` for a missing attribute, codes the mapping does not hold,
    a mapping onto codes the legend lacks, no CRS, and overlapping polygons.
    """
    not_in_legend = sorted({int(v) for v in code_map.values()} - {int(c) for c in legend_codes})
    if not_in_legend:
        raise InputError(
            f"{label}: code map",
            f"maps survey codes onto {not_in_legend}, which the legend lacks.",
            "map onto the land-cover legend's codes, or use the legend the mapping is made for.",
        )
    frame, label = _read_polygons(path, layer, code_field, analysis_crs, label)
    codes = frame[code_field].map(_survey_code)
    lookup = {_survey_code(k): int(v) for k, v in code_map.items()}
    unknown = sorted(set(codes) - set(lookup), key=str)
    if unknown:
        counts = codes[codes.isin(unknown)].value_counts()
        shown = ", ".join(f"{c!r} ({counts[c]} polygons)" for c in unknown[:10])
        raise InputError(
            label,
            f"`{code_field}` holds {len(unknown)} code(s) the declared mapping does not know: {shown}.",
            "correct the codes, or add them to the mapping CSV (columns survey_code,legend_code).",
        )
    polygons = LandUsePolygons(np.asarray(frame.geometry.values), codes.map(lookup).to_numpy(dtype="int64"), label)
    _refuse_overlaps(polygons.geometry, label)
    return polygons


def read_code_map(path_or_name: str | os.PathLike[str]) -> dict[str, int]:
    """A survey-code mapping: ``gbt21010`` (first-level classes 1–12), ``gbt21010_8`` (the 8 bulletin
    classes) or a CSV ``survey_code,legend_code`` of the team's own.

    The built-in mappings hold every second-level code of GB/T 21010-2017 and the 三调 working
    classification (``swc_raster/legends/gbt21010_survey_codes.csv``) and give each the class of its
    first two digits.
    """
    name = str(path_or_name).strip().lower()
    if name in CODE_MAPS:
        table = pd.read_csv(
            resources.files("swc_raster").joinpath("legends", "gbt21010_survey_codes.csv"), dtype=str, encoding="utf-8"
        )
        first = table["first_level"].astype(int)
        to = first if name == "gbt21010" else first.map(FIRST_LEVEL_TO_BULLETIN8)
        return dict(zip(table["survey_code"], to.astype(int)))
    path = Path(path_or_name)
    label = f"landuse code map ({path})"
    if not path.is_file():
        raise InputFileError(
            label, "the file does not exist.", f"give one of {', '.join(CODE_MAPS)} or a CSV survey_code,legend_code."
        )
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [c.strip() for c in table.columns]
    if not {"survey_code", "legend_code"} <= set(table.columns):
        raise InputError(
            label,
            f"the mapping needs columns survey_code,legend_code; it has {list(table.columns)}.",
            "rename the header.",
        )
    codes = pd.to_numeric(table["legend_code"], errors="coerce")
    bad = table.index[codes.isna() | (codes < 1) | (codes % 1 != 0)]
    dup = table["survey_code"].map(_survey_code)
    dup = sorted(set(dup[dup.duplicated()]))
    if len(bad) or dup:
        raise InputError(
            label,
            f"rows {[int(i) + 2 for i in bad]} have no whole legend_code ≥ 1"
            + (f"; survey codes {dup} appear twice" if dup else "")
            + ".",
            "give each survey code one legend code.",
        )
    return dict(zip(table["survey_code"].map(_survey_code), codes.astype(int)))


def _survey_code(value: object) -> str:
    """A survey code as text: trimmed, upper case; numbers from number fields get their leading zero back."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().upper()
    if text.isdigit() and len(text) in (1, 3):  # 101 → 0101, 9 → 09: the leading zero a number field drops
        text = "0" + text
    return text


def _read_polygons(
    path: str | os.PathLike[str], layer: str | None, field: str, analysis_crs: str, label: str
) -> tuple[gpd.GeoDataFrame, str]:
    """The layer's polygons with ``field``, valid and in the analysis CRS; the label with file and layer."""
    path = Path(path)
    label = f"{label} ({path.name}{':' + layer if layer else ''})"
    if not path.exists():
        raise InputFileError(label, "the file does not exist.", "check the path in the config.")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise InputFileError(
            label,
            f"GDAL cannot open it as a vector file ({exc}).",
            "export it as GeoPackage (or shapefile / FileGDB readable by GDAL's OpenFileGDB).",
        ) from exc
    if layer is None and len(layers) > 1:
        raise InputError(
            label,
            f"the file has {len(layers)} layers {layers} and none is declared.",
            "declare `layer:` with the one to read.",
        )
    if layer is not None and layer not in layers:
        raise InputError(label, f"has no layer {layer!r}; its layers are {layers}.", "correct `layer:`.")
    frame = gpd.read_file(path, layer=layer)
    if field not in frame.columns:
        fields = [c for c in frame.columns if c != "geometry"]
        raise InputError(
            label,
            f"has no attribute {field!r}; its attributes are {fields}.",
            "declare the attribute that holds the value (names are case-sensitive).",
        )
    if frame.crs is None:
        raise CrsError(
            label,
            "has no CRS, so its areas cannot be computed.",
            "assign the CRS its coordinates are in (e.g. EPSG:4490 CGCS2000) in QGIS and export again.",
        )
    if len(frame) == 0:
        raise InputError(label, "has no features.", "point the config at the layer that holds the polygons.")
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    kinds = set(frame.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise InputError(
            label,
            f"holds {sorted(kinds - {'Polygon', 'MultiPolygon'})} geometries, not polygons.",
            "give a polygon layer (patches and land-use parcels are areas).",
        )
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        warnings.warn(
            f"{label}: {int(invalid.sum())} invalid polygon(s) repaired with make_valid "
            f"(first: {shapely.is_valid_reason(frame.geometry[invalid].iloc[0])}).",
            InputWarning,
            stacklevel=3,
        )
        fixed = shapely.make_valid(frame.geometry.values[invalid.to_numpy()])
        frame.loc[invalid, "geometry"] = [_polygonal(g) for g in fixed]
    crs_wkt = require_equal_area(analysis_crs).to_wkt()
    return frame.to_crs(crs_wkt).reset_index(drop=True), label


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a repaired geometry (make_valid may add stray lines and points)."""
    parts = shapely.get_parts(geom)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), [3, 6])])


def _map_grades(values: pd.Series, codes: Mapping[str, int], label: str, field: str) -> np.ndarray:
    table = {_grade_key(k): int(v) for k, v in codes.items()}
    off = sorted({v for v in table.values() if not 1 <= v <= 6})
    if off:
        raise InputError(
            f"{label}: grade_codes",
            f"maps values onto {off}, not SL 190 grades 1–6.",
            "map each value to 1 微度 … 6 剧烈.",
        )
    keys = values.map(_grade_key)
    unknown = sorted(set(keys) - set(table), key=str)
    if unknown:
        raise InputError(
            label,
            f"`{field}` holds value(s) {unknown[:10]} the grade code table does not know "
            f"(it knows {sorted(table, key=str)}).",
            "declare `grade_codes:` mapping every value of the attribute to a grade 1–6.",
        )
    return keys.map(table).to_numpy(dtype="uint8")


def _grade_key(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _refuse_overlaps(geoms: np.ndarray, label: str, tolerance_m2: float = OVERLAP_TOLERANCE_M2) -> None:
    """Refuse a layer whose polygons overlap: the overlay would count the shared land twice."""
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if not len(a):
        return
    area = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    over = area > tolerance_m2
    if over.any():
        worst = np.argsort(-area)[: min(5, int(over.sum()))]
        shown = ", ".join(f"features {a[k]} and {b[k]} ({area[k]:.0f} m²)" for k in worst)
        raise InputError(
            label,
            f"{int(over.sum())} pair(s) of polygons overlap, {area[over].sum() / 1e6:.6f} km² in all "
            f"({shown}); overlapping land would be counted twice.",
            "remove the overlaps (QGIS: Vector ▸ Geometry Tools ▸ Check Validity, or the Topology Checker "
            "with 'must not overlap'), then export again.",
        )


# --------------------------------------------------------------------------- exact overlay


def crosstab_exact(
    counties: gpd.GeoDataFrame,
    patches: ErosionPatches,
    *,
    landuse: LandUsePolygons | None,
    legend_codes: Sequence[int],
    t_by_county: Mapping[str, float],
    uncovered: Uncovered,
) -> xr.DataArray:
    """County × land cover × grade areas (km²) by exact polygon overlay, county by county.

    ``counties`` (``county_code``, geometry) and both layers are in the same equal-area CRS (metres).
    Each county's pieces of both layers are cut out with one vectorised intersection, and the
    pieces that meet are intersected pairwise (an STRtree finds them); the land a layer leaves
    uncovered follows by subtraction, so no union is ever built. Memory grows with one county's
    pieces, not with the region.
    """
    lc_codes, uncovered_grade = _check_table_args(counties, legend_codes, t_by_county, uncovered)
    lc_index = _code_index(lc_codes)
    lu_geoms = landuse.geometry if landuse is not None else np.empty(0, dtype=object)
    lu_index = lc_index(landuse.code) if landuse is not None else np.empty(0, dtype="int64")
    lu_tree, er_tree = shapely.STRtree(lu_geoms), shapely.STRtree(patches.geometry)
    area = np.zeros((len(counties), len(lc_codes), len(ALL_CODES)))
    for k, (code, county) in enumerate(zip(counties["county_code"], counties.geometry.values)):
        shapely.prepare(county)
        lu_i = lu_tree.query(county, predicate="intersects")
        er_i = er_tree.query(county, predicate="intersects")
        lu_piece, er_piece = _clip(lu_geoms[lu_i], county), _clip(patches.geometry[er_i], county)
        lu_area, er_area = shapely.area(lu_piece), shapely.area(er_piece)
        lu_class, er_grade = lu_index[lu_i], patches.grades(float(t_by_county[code]))[er_i]
        # pieces that meet: their common land carries the land-use class and the patch's grade
        a, b = shapely.STRtree(er_piece).query(lu_piece, predicate="intersects")
        both = shapely.area(shapely.intersection(lu_piece[a], er_piece[b]))
        np.add.at(area[k], (lu_class[a], er_grade[b]), both)
        # land use without a patch; a patch without land use (code 0); neither
        lu_rest = lu_area - np.bincount(a, both, minlength=len(lu_piece))
        er_rest = er_area - np.bincount(b, both, minlength=len(er_piece))
        np.add.at(area[k], (lu_class, uncovered_grade), lu_rest)
        np.add.at(area[k], (0, er_grade), er_rest)
        area[k, 0, uncovered_grade] += shapely.area(county) - lu_area.sum() - er_area.sum() + both.sum()
    # subtraction leaves float noise (≈1e-9 m²) where a layer covers all; overlaps are refused when read
    area[np.abs(area) < 1e-6] = 0.0
    return _table(area / 1e6, counties, lc_codes, "exact polygon overlay")


def uncovered_rule_notes(table: xr.DataArray, patches: ErosionPatches, uncovered: Uncovered) -> list[str]:
    """Signs in the data that the declared rule for land without a patch may be the wrong one.

    ``slight`` with 微度 patches in the layer: the layer looks like a full-coverage grade map, whose
    holes would be missing data (``gap``). ``slight`` with a county no patch reaches: the layer may not
    cover that county at all, and its rate of 100 % would rest on no data.
    """
    notes: list[str] = []
    if uncovered == "slight":
        if patches.grade is not None and (patches.grade == 1).any():
            notes.append(
                f"{patches.source}: {int((patches.grade == 1).sum())} patch(es) are 微度, so the layer looks "
                "like a full-coverage grade map; land without a patch is counted as 微度 (uncovered: slight). "
                "If the map leaves land out because it has no data there, declare uncovered: gap."
            )
        patched = table.sel(grade_code=[g for g in ALL_CODES if g not in (0, 1, GAP_GRADE)]).sum(
            ["landcover_code", "grade_code"]
        )
        for code in table.county_code.values[(patched == 0).values]:
            notes.append(
                f"{patches.source}: no eroded patch reaches county {code}; its rate is 100 % only if the "
                "layer covers that county (otherwise declare uncovered: gap or add its patches)."
            )
    return notes


def _clip(geoms: np.ndarray, county: shapely.Geometry) -> np.ndarray:
    """Each geometry's part inside the (prepared) county; those wholly inside are kept as they are."""
    inside = shapely.contains_properly(county, geoms)
    out = geoms.copy()
    out[~inside] = shapely.intersection(geoms[~inside], county)
    return out


def _check_table_args(
    counties: gpd.GeoDataFrame, legend_codes: Sequence[int], t_by_county: Mapping[str, float], uncovered: str
) -> tuple[list[int], int]:
    if uncovered not in UNCOVERED_GRADE:
        raise InputError(
            "erosion_patches.uncovered",
            f"{uncovered!r} is not a rule for land without a patch.",
            "declare `uncovered: slight` (patches list the eroded land) or `uncovered: gap` "
            "(patches are a full-coverage grade map).",
        )
    for code in counties["county_code"]:
        if code not in t_by_county:
            raise InputError("allowable_loss", f"no T was given for county {code}.", "give T for every county.")
        check_allowable_loss(float(t_by_county[code]))
    codes = [int(c) for c in legend_codes]
    if LANDCOVER_NODATA in codes:
        raise InputError("landcover_legend", "code 0 is reserved for unclassified land.", "renumber the class.")
    return [LANDCOVER_NODATA, *codes], UNCOVERED_GRADE[uncovered]


def _code_index(lc_codes: list[int]):
    position = {c: i for i, c in enumerate(lc_codes)}

    def index(codes: np.ndarray) -> np.ndarray:
        return np.array([position[int(c)] for c in codes], dtype="int64")

    return index


def _table(area_km2: np.ndarray, counties: gpd.GeoDataFrame, lc_codes: list[int], edge_rule: str) -> xr.DataArray:
    return xr.DataArray(
        area_km2,
        dims=("county_code", "landcover_code", "grade_code"),
        coords={
            "county_code": [str(c) for c in counties["county_code"]],
            "landcover_code": lc_codes,
            "grade_code": list(ALL_CODES),
        },
        name="area_km2",
        attrs={"units": "km2", "edge_rule": edge_rule},
    )


# --------------------------------------------------------------------------- rasterized fallback


def crosstab_rasterized(
    counties: gpd.GeoDataFrame,
    patches: ErosionPatches,
    *,
    landuse: LandUsePolygons | None,
    legend_codes: Sequence[int],
    t_by_county: Mapping[str, float],
    uncovered: Uncovered,
    resolution_m: float,
    window_size: int = 2048,
) -> xr.DataArray:
    """The same table from both layers burnt on a ``resolution_m`` grid (pixel-centre rule).

    The fallback of :func:`crosstab_exact`: each cell takes the county, land-use class and patch
    holding its centre, so areas are cell counts × resolution² and a county's land area is its
    polygon's area up to the cells its boundary crosses (decision 0007 gives the measured error).
    Cells are counted window by window: memory ≈ 16 bytes × ``window_size``².
    """
    lc_codes, uncovered_grade = _check_table_args(counties, legend_codes, t_by_county, uncovered)
    if not resolution_m > 0:
        raise InputError("erosion_patches.resolution_m", f"{resolution_m} is not a cell size.", "give metres > 0.")
    n_zones, n_lc, n_g = len(counties), len(lc_codes), len(ALL_CODES)
    lut = np.zeros(max(lc_codes) + 1, dtype="int64")
    lut[lc_codes] = np.arange(n_lc)
    t_by_zone = np.r_[np.nan, [float(t_by_county[c]) for c in counties["county_code"]]]
    graded = patches.grade is not None
    value = patches.grade.astype("float32") if graded else patches.modulus_t_km2.astype("float64")
    xmin, ymin, xmax, ymax = counties.total_bounds
    x0, y0 = np.floor(xmin / resolution_m) * resolution_m, np.ceil(ymax / resolution_m) * resolution_m
    width = int(np.ceil((xmax - x0) / resolution_m))
    height = int(np.ceil((y0 - ymin) / resolution_m))
    transform = Affine(resolution_m, 0, x0, 0, -resolution_m, y0)
    layers = [
        (np.asarray(counties.geometry.values), np.arange(1, n_zones + 1, dtype="float64")),
        (
            landuse.geometry if landuse is not None else np.empty(0, dtype=object),
            landuse.code.astype("float64") if landuse is not None else np.empty(0),
        ),
        (patches.geometry, value),
    ]
    trees = [shapely.STRtree(g) for g, _ in layers]
    counts = np.zeros((n_zones + 1) * n_lc * n_g, dtype="int64")
    for r in range(0, height, window_size):
        for c in range(0, width, window_size):
            h, w = min(window_size, height - r), min(window_size, width - c)
            win_transform = transform * Affine.translation(c, r)
            box = (
                win_transform.c,
                win_transform.f - h * resolution_m,
                win_transform.c + w * resolution_m,
                win_transform.f,
            )
            zone, lu, er = (_burn(g, v, t, box, (h, w), win_transform) for (g, v), t in zip(layers, trees))
            zone = np.nan_to_num(zone).astype("int64")  # NaN: no polygon of the layer holds the cell centre
            inside = zone > 0
            if not inside.any():
                continue
            zone, lu, er = zone[inside], np.nan_to_num(lu[inside]).astype("int64"), er[inside]
            no_patch = np.isnan(er)
            if graded:
                grade = np.nan_to_num(er).astype("int64")
            else:
                grade = grade_modulus(er, t_by_zone[zone]).astype("int64")
            grade[no_patch] = uncovered_grade
            key = (zone * n_lc + lut[lu]) * n_g + grade
            counts += np.bincount(key, minlength=counts.size)
    area = counts.reshape(n_zones + 1, n_lc, n_g)[1:] * (resolution_m**2 / 1e6)
    return _table(area.astype("float64"), counties, lc_codes, f"pixel centre, {resolution_m:g} m cells")


def _burn(
    geoms: np.ndarray,
    values: np.ndarray,
    tree: shapely.STRtree,
    box: tuple[float, float, float, float],
    shape: tuple[int, int],
    transform: Affine,
) -> np.ndarray:
    """``values`` of the polygons holding each cell centre of one window (NaN where none; float64)."""
    out = np.full(shape, np.nan)
    idx = tree.query(shapely.box(*box))
    if len(idx):
        res = transform.a
        clipped = shapely.clip_by_rect(geoms[idx], box[0] - res, box[1] - res, box[2] + res, box[3] + res)
        shapes = [(g, float(values[i])) for i, g in zip(idx, clipped) if not g.is_empty]
        if shapes:
            features.rasterize(shapes, out=out, transform=transform, all_touched=False)
    return out
