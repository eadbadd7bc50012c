"""Erosion patches and survey land use as polygons (swc_raster.vector_inputs): planted truth and refusals.

The planted case is made of axis-aligned rectangles (km) in the equal-area analysis CRS: holes,
islands inside holes and multipart polygons. The expected areas are computed independently of the
code under test, by rectangle arithmetic (a polygon = signed rectangles: +outer, −hole), and a few
cells are also worked out by hand.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from swc_raster import rates
from swc_raster.errors import CrsError, InputError
from swc_raster.legend import read_legend
from swc_raster.vector_inputs import (
    crosstab_exact,
    crosstab_rasterized,
    read_code_map,
    read_erosion_patches,
    read_landuse_polygons,
)

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
X0, Y0 = 700_000.0, 3_900_000.0  # somewhere near Jincheng in the Albers plane (m)
LEGEND = read_legend("gbt21010_8")
T = {"A": 200.0, "B": 200.0}

# Rectangles (xmin, ymin, xmax, ymax) in km, and polygons as lists of (rectangle, sign).
COUNTIES = {"A": [((0, 0, 10, 10), 1)], "B": [((10, 0, 20, 10), 1)]}
LANDUSE = [  # (survey code, legend code of gbt21010_8, signed rectangles)
    ("0103", 1, [((0, 0, 20, 5), 1), ((2, 1, 4, 3), -1)]),  # 旱地 with a hole
    ("0301", 3, [((0, 5, 8, 10), 1), ((12, 5, 20, 10), 1)]),  # 乔木林地, two parts; 8–12 km uncovered
    ("1101", 7, [((2.5, 1.5, 3.5, 2.5), 1)]),  # 河流水面, an island inside the hole
]
PATCHES = [  # (grade attribute, grade, modulus t/ha/a, signed rectangles)
    ("3", 3, 30.0, [((1, 1, 9, 9), 1), ((3, 3, 7, 7), -1)]),  # a ring
    ("轻度", 2, 3.0, [((9.5, 4, 10.5, 6), 1), ((15, 1, 19, 3), 1)]),  # two parts, one across the county line
    ("6", 6, 200.0, [((3.5, 3.5, 4.5, 4.5), 1)]),  # inside the ring's hole
    ("微度", 1, 1.0, [((12, 6, 14, 9), 1)]),  # a 微度 patch
]


def _polygon(rects):
    """Shapely polygon (m) of signed rectangles: outer parts with their holes."""
    outers = [r for r, s in rects if s > 0]
    holes = [r for r, s in rects if s < 0]
    parts = []
    for o in outers:
        inner = [h for h in holes if o[0] <= h[0] and h[2] <= o[2] and o[1] <= h[1] and h[3] <= o[3]]
        parts.append(shapely.Polygon(_ring(o), [_ring(h)[::-1] for h in inner]))
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _ring(r):
    x0, y0, x1, y1 = (X0 + 1000 * r[0], Y0 + 1000 * r[1], X0 + 1000 * r[2], Y0 + 1000 * r[3])
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _area(*polys):
    """km² of the intersection of signed-rectangle polygons: Σ Π signs × area of the rectangles' intersection."""
    total = 0.0
    for combo in itertools.product(*polys):
        x0 = max(r[0] for r, _ in combo)
        y0 = max(r[1] for r, _ in combo)
        x1 = min(r[2] for r, _ in combo)
        y1 = min(r[3] for r, _ in combo)
        total += np.prod([s for _, s in combo]) * max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return total


def _expected(uncovered_grade, grade_of_patch):
    """The full table by rectangle arithmetic: {(county, legend code, grade): km²}."""
    out = {}

    def add(key, value):
        out[key] = out.get(key, 0.0) + value

    for c, county in COUNTIES.items():
        for _, lc, lu in LANDUSE:
            add((c, lc, uncovered_grade), _area(county, lu))
            for p in PATCHES:
                both = _area(county, lu, p[3])
                add((c, lc, grade_of_patch(c, p)), both)
                add((c, lc, uncovered_grade), -both)
        add((c, 0, uncovered_grade), _area(county))
        for _, _, lu in LANDUSE:
            add((c, 0, uncovered_grade), -_area(county, lu))
        for p in PATCHES:
            add((c, 0, grade_of_patch(c, p)), _area(county, p[3]))
            add((c, 0, uncovered_grade), -_area(county, p[3]))
            for _, _, lu in LANDUSE:
                add((c, 0, grade_of_patch(c, p)), -_area(county, lu, p[3]))
                add((c, 0, uncovered_grade), _area(county, lu, p[3]))
    return out


def _write(tmp_path: Path, name: str, rows: dict, geoms: list, crs: str | None = ALBERS, layer: str = "data") -> Path:
    path = tmp_path / f"{name}.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio warns when writing a layer without CRS, as we mean to
        gpd.GeoDataFrame(rows, geometry=geoms, crs=crs).to_file(path, layer=layer)
    return path


def _counties():
    return gpd.GeoDataFrame(
        {"county_code": list(COUNTIES)}, geometry=[_polygon(r) for r in COUNTIES.values()], crs=ALBERS
    )


@pytest.fixture
def files(tmp_path):
    landuse = _write(tmp_path, "landuse", {"DLBM": [c for c, _, _ in LANDUSE]}, [_polygon(r) for *_, r in LANDUSE])
    patches = _write(
        tmp_path,
        "patches",
        {"QSQD": [p[0] for p in PATCHES], "modulus": [p[2] for p in PATCHES]},
        [_polygon(p[3]) for p in PATCHES],
    )
    return landuse, patches


def _read(files, **patch_kwargs):
    landuse_path, patches_path = files
    landuse = read_landuse_polygons(
        landuse_path,
        layer="data",
        analysis_crs=ALBERS,
        code_field="DLBM",
        code_map=read_code_map("gbt21010_8"),
        legend_codes=LEGEND.codes,
    )
    patches = read_erosion_patches(
        patches_path, layer="data", analysis_crs=ALBERS, **(patch_kwargs or {"grade_field": "QSQD"})
    )
    return landuse, patches


def _assert_table_equals(table, expected):
    for (c, lc, g), value in expected.items():
        assert table.sel(county_code=c, landcover_code=lc, grade_code=g).item() == pytest.approx(value, abs=1e-9)
    assert table.sum().item() == pytest.approx(sum(expected.values()), abs=1e-9)


@pytest.mark.parametrize("uncovered, uncovered_grade", [("slight", 1), ("gap", 7)])
def test_exact_overlay_equals_rectangle_arithmetic(files, uncovered, uncovered_grade):
    landuse, patches = _read(files)
    table = crosstab_exact(
        _counties(), patches, landuse=landuse, legend_codes=LEGEND.codes, t_by_county=T, uncovered=uncovered
    )
    _assert_table_equals(table, _expected(uncovered_grade, lambda c, p: p[1]))
    assert table.sum(["landcover_code", "grade_code"]).values.tolist() == pytest.approx([100.0, 100.0], abs=1e-9)


def test_a_few_cells_worked_out_by_hand(files):
    landuse, patches = _read(files)
    table = crosstab_exact(
        _counties(), patches, landuse=landuse, legend_codes=LEGEND.codes, t_by_county=T, uncovered="slight"
    )
    cell = lambda c, lc, g: table.sel(county_code=c, landcover_code=lc, grade_code=g).item()  # noqa: E731
    # 旱地 in the ring: (1..9)×(1..5) = 32, less the land-use hole 2×2 and the ring's hole 4×2 → 20
    assert cell("A", 1, 3) == pytest.approx(20.0, abs=1e-9)
    assert cell("A", 7, 3) == pytest.approx(1.0, abs=1e-9)  # the river island lies in the ring
    # no land use in the ring: the hole around the island (4 − 1) and (8..9)×(5..9) → 7
    assert cell("A", 0, 3) == pytest.approx(7.0, abs=1e-9)
    assert cell("B", 3, 1) == pytest.approx(40.0, abs=1e-9)  # 林地 (12..20)×(5..10) in B, none of it eroded
    assert cell("B", 3, 2) == pytest.approx(0.0, abs=1e-9)  # P2's parts in B lie in 旱地 (y<5) or land without use
    assert cell("B", 1, 2) == pytest.approx(0.5 * 1 + 8.0, abs=1e-9)  # (10..10.5)×(4..5) and (15..19)×(1..3)


@pytest.mark.parametrize("uncovered, rate_a, rate_b", [("slight", 50.0, 91.0), ("gap", 0.0, 40.0)])
def test_county_rates_from_the_overlay(files, uncovered, rate_a, rate_b):
    # A: eroded = ring 48 + P2's 1 km² + the severe island 1 = 50 of 100.  B: P2's 1 + 8 = 9 eroded;
    # patches cover 15 km² of B (with the 6 km² 微度 patch), so with "gap" the rate is (15 − 9) / 15.
    landuse, patches = _read(files)
    table = crosstab_exact(
        _counties(), patches, landuse=landuse, legend_codes=LEGEND.codes, t_by_county=T, uncovered=uncovered
    )
    out = rates.county_rates(table, {"A": "甲", "B": "乙"}, T, year=2024, region_code="R", region_name="区")
    assert out.rate_pct.tolist()[:2] == pytest.approx([rate_a, rate_b], abs=1e-9)
    assert out.land_area_km2.tolist() == pytest.approx([100.0, 100.0, 200.0], abs=1e-9)


def test_moduli_are_graded_with_each_countys_t(files):
    # 3 t/ha/a = 300 t/km²/a: 轻度 where T = 200 (A), 微度 where T = 1000 (B); so B has no erosion at all.
    landuse, patches = _read(files, modulus_field="modulus", modulus_unit="t/ha/a")
    t = {"A": 200.0, "B": 1000.0}
    table = crosstab_exact(
        _counties(), patches, landuse=landuse, legend_codes=LEGEND.codes, t_by_county=t, uncovered="slight"
    )
    grade = {"3": 3, "轻度": 2, "6": 6, "微度": 1}

    def graded(county, p):
        return 1 if (p[0] == "轻度" and county == "B") else grade[p[0]]

    _assert_table_equals(table, _expected(1, graded))
    out = rates.county_rates(table, {"A": "甲", "B": "乙"}, t, year=2024, region_code="R", region_name="区")
    assert out.rate_pct.tolist() == pytest.approx([50.0, 100.0, 75.0], abs=1e-9)


def test_rasterized_fallback_equals_the_overlay_on_grid_aligned_polygons(files):
    # Every edge lies on a 100 m cell edge, so the pixel-centre count is exact: a second method.
    landuse, patches = _read(files)
    kwargs = dict(landuse=landuse, legend_codes=LEGEND.codes, t_by_county=T, uncovered="slight")
    exact = crosstab_exact(_counties(), patches, **kwargs)
    burnt = crosstab_rasterized(_counties(), patches, resolution_m=100.0, window_size=64, **kwargs)
    np.testing.assert_allclose(burnt.values, exact.values, atol=1e-9)
    assert burnt.dims == exact.dims and (burnt.landcover_code.values == exact.landcover_code.values).all()


def test_without_land_use_all_land_is_unclassified(files):
    _, patches = _read(files)
    table = crosstab_exact(
        _counties(), patches, landuse=None, legend_codes=LEGEND.codes, t_by_county=T, uncovered="slight"
    )
    assert table.sel(landcover_code=0).sum().item() == pytest.approx(200.0, abs=1e-9)
    assert table.sel(county_code="A", landcover_code=0, grade_code=3).item() == pytest.approx(48.0, abs=1e-9)


def test_survey_codes_map_to_first_level_and_bulletin_classes():
    first, eight = read_code_map("gbt21010"), read_code_map("gbt21010_8")
    assert first["0101"] == 1 and first["1104K"] == 11 and first["05H1"] == 5 and first["09"] == 9
    assert eight["0701"] == 5 and eight["1003"] == 6 and eight["1207"] == 8 and eight["0201K"] == 2
    assert set(first.values()) == set(range(1, 13)) and set(eight.values()) == set(range(1, 9))


def test_codes_from_a_number_field_get_their_leading_zero(tmp_path):
    path = _write(tmp_path, "lu", {"DLBM": [101, 301]}, [_polygon([((0, 0, 1, 1), 1)]), _polygon([((1, 0, 2, 1), 1)])])
    lu = read_landuse_polygons(
        path,
        layer="data",
        analysis_crs=ALBERS,
        code_field="DLBM",
        code_map=read_code_map("gbt21010"),
        legend_codes=read_legend("gbt21010").codes,
    )
    assert lu.code.tolist() == [1, 3]


# --------------------------------------------------------------------------- refusals


def test_a_missing_attribute_is_refused_naming_the_attributes(files):
    with pytest.raises(InputError) as info:
        read_erosion_patches(files[1], layer="data", analysis_crs=ALBERS, grade_field="强度")
    (p,) = info.value.problems
    assert "patches.gpkg:data" in p.input and "no attribute '强度'" in p.problem and "'QSQD'" in p.problem


def test_an_unknown_grade_value_is_refused(tmp_path):
    path = _write(tmp_path, "p", {"QSQD": ["2", "7"]}, [_polygon([((0, 0, 1, 1), 1)]), _polygon([((1, 0, 2, 1), 1)])])
    with pytest.raises(InputError, match=r"value\(s\) \['7'\].*grade code table"):
        read_erosion_patches(path, layer="data", analysis_crs=ALBERS, grade_field="QSQD")
    own = read_erosion_patches(
        path, layer="data", analysis_crs=ALBERS, grade_field="QSQD", grade_codes={"2": 2, "7": 6}
    )  # a product's own codes, declared
    assert own.grade.tolist() == [2, 6]


def test_an_unknown_survey_code_is_refused(tmp_path):
    path = _write(
        tmp_path, "lu", {"DLBM": ["0101", "0199"]}, [_polygon([((0, 0, 1, 1), 1)]), _polygon([((1, 0, 2, 1), 1)])]
    )
    with pytest.raises(InputError, match=r"does not know: '0199' \(1 polygons\)"):
        read_landuse_polygons(
            path,
            layer="data",
            analysis_crs=ALBERS,
            code_field="DLBM",
            code_map=read_code_map("gbt21010_8"),
            legend_codes=LEGEND.codes,
        )


def test_a_mapping_onto_codes_the_legend_lacks_is_refused(files):
    with pytest.raises(InputError, match=r"onto \[9, 10, 11, 12\], which the legend lacks"):
        read_landuse_polygons(
            files[0],
            layer="data",
            analysis_crs=ALBERS,
            code_field="DLBM",
            code_map=read_code_map("gbt21010"),
            legend_codes=LEGEND.codes,
        )


def test_a_layer_without_crs_is_refused(tmp_path):
    path = _write(tmp_path, "p", {"QSQD": ["2"]}, [_polygon([((0, 0, 1, 1), 1)])], crs=None)
    with pytest.raises(CrsError, match="has no CRS.*"):
        read_erosion_patches(path, layer="data", analysis_crs=ALBERS, grade_field="QSQD")


def test_overlapping_patches_are_refused(tmp_path):
    path = _write(tmp_path, "p", {"QSQD": ["2", "3"]}, [_polygon([((0, 0, 2, 2), 1)]), _polygon([((1, 1, 3, 3), 1)])])
    with pytest.raises(InputError, match=r"1 pair\(s\) of polygons overlap, 1\.000000 km²"):
        read_erosion_patches(path, layer="data", analysis_crs=ALBERS, grade_field="QSQD")


def test_a_file_with_several_layers_needs_the_layer_declared(tmp_path, files):
    path = files[1]
    gpd.read_file(path, layer="data").to_file(path, layer="other")
    with pytest.raises(InputError, match="2 layers.*none is declared"):
        read_erosion_patches(path, layer=None, analysis_crs=ALBERS, grade_field="QSQD")
    with pytest.raises(InputError, match="no layer 'x'"):
        read_erosion_patches(path, layer="x", analysis_crs=ALBERS, grade_field="QSQD")


def test_a_bad_uncovered_rule_and_missing_modulus_are_refused(files, tmp_path):
    landuse, patches = _read(files)
    with pytest.raises(InputError, match="not a rule for land without a patch"):
        crosstab_exact(
            _counties(), patches, landuse=landuse, legend_codes=LEGEND.codes, t_by_county=T, uncovered="none"
        )
    path = _write(tmp_path, "m", {"A": [None]}, [_polygon([((0, 0, 1, 1), 1)])])
    with pytest.raises(InputError, match="no valid modulus"):
        read_erosion_patches(path, layer="data", analysis_crs=ALBERS, modulus_field="A", modulus_unit="t/km2/a")


def test_shapefile_input_reads_the_same(tmp_path, files):
    shp = tmp_path / "patches.shp"
    gpd.read_file(files[1], layer="data").to_file(shp, encoding="utf-8")
    patches = read_erosion_patches(shp, layer=None, analysis_crs=ALBERS, grade_field="QSQD")
    assert patches.grade.tolist() == [p[1] for p in PATCHES]


def test_filegdb_input_reads_the_same(tmp_path, files):
    import pyogrio

    if "w" not in pyogrio.list_drivers().get("OpenFileGDB", ""):
        pytest.skip("this GDAL cannot write a FileGDB to test with")
    gdb = tmp_path / "monitoring.gdb"
    gpd.read_file(files[1], layer="data").to_file(gdb, layer="patches", driver="OpenFileGDB")
    patches = read_erosion_patches(gdb, layer="patches", analysis_crs=ALBERS, grade_field="QSQD")
    assert patches.grade.tolist() == [p[1] for p in PATCHES]
    # ring 64 − 16, two parts 1×2 + 4×2, island 1, 微度 patch 2×3
    assert shapely.area(patches.geometry).sum() / 1e6 == pytest.approx(48 + 10 + 1 + 6, abs=1e-6)


def test_signs_that_the_uncovered_rule_is_wrong_are_reported(files):
    from swc_raster.vector_inputs import uncovered_rule_notes

    landuse, patches = _read(files)
    three = gpd.GeoDataFrame(
        {"county_code": ["A", "B", "C"]}, geometry=[*_counties().geometry, _polygon([((30, 0, 40, 10), 1)])], crs=ALBERS
    )
    t = {**T, "C": 200.0}
    table = crosstab_exact(
        three, patches, landuse=landuse, legend_codes=LEGEND.codes, t_by_county=t, uncovered="slight"
    )
    notes = uncovered_rule_notes(table, patches, "slight")
    assert len(notes) == 2 and "1 patch(es) are 微度" in notes[0] and "county C" in notes[1]
    assert uncovered_rule_notes(table, patches, "gap") == []
