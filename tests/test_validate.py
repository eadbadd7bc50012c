"""Input validation (swc_raster.validate): a matrix of bad inputs, each reported with a fix."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import yaml
from _factories import (
    BOUNDARIES,
    COUNTY_A,
    COUNTY_B,
    EROSION,
    LANDCOVER,
    LEGEND,
    LEGEND_CSV,
    RES,
    TARGETS,
    Scenario,
    erosion_values,
    from_origin,
    landcover_values,
    make_scenario,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.windows import Window
from shapely.geometry import Polygon, box

from swc_raster import errors
from swc_raster.cellarea import pixel_area_km2
from swc_raster.errors import FileProblem, InputFilesFailed, InputWarning, ValidationFailed
from swc_raster.validate import check_data, check_header, validate

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Case:
    """One bad (or tolerated) input: how to make it, and what validation must say."""

    mutate: Callable[[Scenario], None]
    expect: str  # "error", "warn" or "ok"
    fragment: str | None = None  # must appear in the error message / a warning
    input: str | None = None  # must appear in a failing Problem's input


def _set(**kw):
    def f(s: Scenario) -> None:
        s.year.update(kw)

    return f


def _del(key):
    def f(s: Scenario) -> None:
        del s.year[key]

    return f


def _truncate(s: Scenario) -> None:
    p = s.write_erosion(erosion_values())
    data = p.read_bytes()
    p.write_bytes(data[: len(data) * 2 // 3])


def _corrupt(s: Scenario) -> None:
    s.path(EROSION).write_bytes(b"II*\x00" + bytes(range(256)) * 8)


def _erosion_with(rows: slice, cols: slice, value: float, nodata: float | None = -9999.0):
    def f(s: Scenario) -> None:
        v = erosion_values()
        v[rows, cols] = value
        s.write_erosion(v, nodata=nodata)

    return f


def _duplicate_year(s: Scenario) -> None:
    s.cfg["years"].append(dict(s.year))


def _lc_code_42(s: Scenario) -> None:
    v = landcover_values()
    v[10:12, 10:12] = 42
    s.write_landcover(v)


def _bowtie(s: Scenario) -> None:
    code, name, _ = COUNTY_B
    bow = Polygon([(112.55, 35.51), (112.59, 35.59), (112.59, 35.51), (112.55, 35.59)])
    s.write_boundaries([COUNTY_A, (code, name, bow)])


def _overlap(s: Scenario) -> None:
    code, name, _ = COUNTY_B
    s.write_boundaries([COUNTY_A, (code, name, box(112.53, 35.51, 112.59, 35.59))])


def _duplicate_codes(s: Scenario) -> None:
    s.write_boundaries([COUNTY_A, (COUNTY_A[0], COUNTY_B[1], COUNTY_B[2])])


def _partial_cover(s: Scenario) -> None:
    # erosion raster ends at lon 112.57: county B (112.55–112.59) half covered
    s.write_erosion(erosion_values()[:, :70])


def _disjoint(s: Scenario) -> None:
    s.write_erosion(transform=from_origin(100.0, 20.0, RES, RES))


def _all_nodata(s: Scenario) -> None:
    s.write_erosion(np.full((100, 100), -9999.0, dtype="float32"))


def _two_bands(s: Scenario) -> None:
    v = erosion_values()
    s.write_erosion(np.stack([v, v]))


def _t_pixel_values(s: Scenario) -> None:
    # t/(pixel·a) = t/(km²·a) × pixel area (≈ 0.0100 km² for 0.001° at 35.5° N)
    with rasterio.open(s.base / EROSION) as ds:
        area = pixel_area_km2(ds)
        v = ds.read(1)
    out = np.where(v == -9999.0, v, v * area).astype("float32")
    s.write_erosion(out)


def _set_validation(**kw):
    def f(s: Scenario) -> None:
        s.cfg["validation"].update(kw)

    return f


def _chain(*fs):
    def f(s: Scenario) -> None:
        for g in fs:
            g(s)

    return f


def _no_georef(s: Scenario) -> None:
    s.write_erosion(transform=rasterio.Affine.identity())


CASES = {
    # --- files ---
    "missing erosion file": Case(lambda s: s.remove(EROSION), "error", "file not found", "years[2023].erosion"),
    "missing landcover file": Case(lambda s: s.remove(LANDCOVER), "error", "file not found", "years[2023].landcover"),
    "missing boundaries file": Case(lambda s: s.remove(BOUNDARIES), "error", "file not found", "boundaries"),
    "missing legend file": Case(lambda s: s.remove(LEGEND_CSV), "error", "file not found", "landcover_legend"),
    "corrupt geotiff": Case(_corrupt, "error", "cannot be opened as a raster", "years[2023].erosion"),
    "truncated geotiff": Case(_truncate, "error", "truncated", "years[2023].erosion"),
    "empty raster (0 bytes)": Case(lambda s: s.path(EROSION).write_bytes(b""), "error", "empty (0 bytes)"),
    # --- CRS / georeferencing ---
    "raster without crs": Case(lambda s: s.write_erosion(crs=None), "error", "has no CRS", "years[2023].erosion"),
    "vector without crs": Case(lambda s: s.write_boundaries(crs=None), "error", "boundary layer has no CRS"),
    "raster without geotransform": Case(_no_georef, "error", "no georeferencing"),
    # --- units ---
    "undeclared unit": Case(_del("erosion_unit"), "error", "unit is not declared"),
    "unknown unit": Case(_set(erosion_unit="t/acre/a"), "error", "unknown erosion unit 't/acre/a'"),
    "t/ha values declared t/km2": Case(
        lambda s: s.write_erosion(np.where(erosion_values() > 0, erosion_values() / 100, -9999.0).astype("float32")),
        "error",
        "probably in a larger unit",
        "years[2023].erosion",
    ),
    "t/ha values declared t/km2, unit_check warn": Case(
        _chain(
            _set_validation(unit_check="warn"),
            lambda s: s.write_erosion(
                np.where(erosion_values() > 0, erosion_values() / 100, -9999.0).astype("float32")
            ),
        ),
        "warn",
        "probably in a larger unit",
    ),
    "t/km2 values declared t/ha": Case(_set(erosion_unit="t/ha/a"), "error", "probably in a smaller unit"),
    "t/km2 values declared t/pixel": Case(_set(erosion_unit="t/pixel/a"), "error", "probably in a smaller unit"),
    "t/pixel values declared t/pixel (ok)": Case(_chain(_t_pixel_values, _set(erosion_unit="t/pixel/a")), "ok"),
    "t/pixel values declared t/km2": Case(_t_pixel_values, "error", "probably in a larger unit"),
    # --- values ---
    "negative values": Case(_erosion_with(slice(20, 25), slice(20, 25), -5.0), "error", "negative erosion modulus"),
    "nan values": Case(_erosion_with(slice(20, 22), slice(20, 22), np.nan), "error", "4 NaN value"),
    "inf values": Case(_erosion_with(slice(20, 21), slice(20, 23), np.inf), "error", "3 infinite value"),
    "undetected -9999 fill": Case(
        _erosion_with(slice(40, 50), slice(40, 50), -9999.0, nodata=None), "error", "fill-like values: -9999"
    ),
    "undetected 3.4e38 fill": Case(
        _erosion_with(slice(40, 50), slice(40, 50), 3.4028235e38, nodata=None),
        "error",
        "gdal_edit.py -a_nodata 3.403e+38",
    ),
    "all-nodata raster": Case(_all_nodata, "error", "no data over the counties"),
    "two-band raster": Case(_two_bands, "error", "has 2 bands"),
    # --- land cover ---
    "erosion raster given as land cover": Case(
        lambda s: s.write_landcover(erosion_values(), nodata=-9999.0),
        "error",
        "does not look like a land-cover class raster",
    ),
    "landcover code not in legend": Case(_lc_code_42, "error", "not in the legend: 42 (4 pixels)"),
    "float land cover with NaN": Case(
        lambda s: s.write_landcover(np.where(landcover_values() == 3, np.nan, 1.0).astype("float32"), nodata=None),
        "error",
        "data type float32; land-cover class codes must be whole numbers",
        "years[2023].landcover",
    ),
    "float land cover of whole-number codes (align would refuse it)": Case(
        lambda s: s.write_landcover(landcover_values().astype("float32")),
        "error",
        "gdal_translate -ot UInt16",
        "years[2023].landcover",
    ),
    "legend with code 0 (the aligned rasters' nodata)": Case(
        lambda s: s.write_legend([(0, "未分类", "Unclassified")] + LEGEND),
        "error",
        "code '0' is not a whole number from 1 to 65535",
        "landcover_legend",
    ),
    "legend not utf-8": Case(
        lambda s: s.path(LEGEND_CSV).write_bytes("code,name_zh,name_en\n1,耕地,Cropland\n".encode("gbk")),
        "error",
        "not UTF-8",
        "landcover_legend",
    ),
    "land cover code above 65535 in a 32-bit raster": Case(
        lambda s: s.write_landcover(np.where(landcover_values() == 8, 70000, landcover_values().astype("int32"))),
        "error",
        "(codes must be whole numbers 0–65535)",
    ),
    "int16 land cover with a negative nodata (ok)": Case(
        lambda s: s.write_landcover(
            np.where(landcover_values() == 255, -1, landcover_values()).astype("int16"), nodata=-1
        ),
        "ok",
    ),
    "duplicate legend code": Case(
        lambda s: s.write_legend(LEGEND + [(3, "林地", "Forest")]), "error", "duplicate land-cover code 3"
    ),
    # --- boundaries ---
    "invalid geometry (repaired, warned)": Case(_bowtie, "warn", "invalid geometry"),
    "duplicate county codes": Case(_duplicate_codes, "error", "duplicate county codes: 140502"),
    "overlapping counties": Case(_overlap, "error", "counties overlap"),
    "overlap within raised tolerance (ok)": Case(_chain(_overlap, _set_validation(overlap_tolerance_pct=60)), "ok"),
    "missing boundary layer": Case(
        lambda s: s.cfg["boundaries"].update(layer="county"), "error", "layer 'county' not found"
    ),
    "code field holding names": Case(
        lambda s: s.cfg["boundaries"].update(code_field="county_name"),
        "error",
        "the code field 'county_name' holds names or text, not GB/T 2260 county codes (found '城区', '泽州县')",
        "boundaries.code_field (boundaries/counties.gpkg)",
    ),
    "missing code field": Case(lambda s: s.cfg["boundaries"].update(code_field="code"), "error", "field 'code'"),
    # --- targets ---
    "target county missing from boundaries": Case(
        lambda s: s.write_targets([COUNTY_A[:2], COUNTY_B[:2], ("140581", "高平市"), ("140500", "全市")]),
        "error",
        "target counties not in the boundaries: 高平市 (140581)",
    ),
    "boundary county missing from targets": Case(
        lambda s: s.write_targets([COUNTY_A[:2], ("140500", "全市")]),
        "error",
        "boundary counties missing from the targets table: 泽州县 (140525)",
    ),
    "whitespace in names tolerated (ok)": Case(
        lambda s: s.write_targets([("140502", "城 区"), (" 140525 ", "泽州县\u3000"), ("140500", "全市")]), "ok"
    ),
    "county name differs": Case(
        lambda s: s.write_targets([("140502", "高平市"), COUNTY_B[:2], ("140500", "全市")]), "error", "names differ"
    ),
    "target not a percentage": Case(
        lambda s: s.path(TARGETS).write_text(
            s.path(TARGETS).read_text(encoding="utf-8").replace("80.25", "180.25", 1), encoding="utf-8"
        ),
        "error",
        "target_2035='180.25'",
    ),
    "missing region row": Case(
        lambda s: s.write_targets([COUNTY_A[:2], COUNTY_B[:2]]), "error", "no row for the region (140500"
    ),
    "targets not utf-8": Case(lambda s: s.write_targets(encoding="gbk"), "error", "not UTF-8"),
    # --- years / config ---
    "duplicate year labels": Case(_duplicate_year, "error", "year 2023 is configured 2 times"),
    "year missing erosion": Case(_del("erosion"), "error", "year 2023 has no erosion-modulus raster"),
    "year missing landcover": Case(_del("landcover"), "error", "year 2023 has no land-cover raster"),
    "bad unit_check setting": Case(_set_validation(unit_check="maybe"), "error", "is not one of error, warn"),
    # --- coverage ---
    "raster disjoint from boundaries": Case(_disjoint, "error", "does not overlap the county boundaries"),
    "raster covers part of a county": Case(_partial_cover, "error", "泽州县 (140525) 50.0 %"),
    "coverage threshold lowered (ok)": Case(_chain(_partial_cover, _set_validation(min_coverage_pct=40)), "ok"),
}


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return make_scenario(tmp_path)


def test_base_scenario_is_valid(scenario: Scenario) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate(scenario.cfg, scenario.base) == []
        assert check_header(scenario.cfg, scenario.base) == []
        assert check_data(scenario.cfg, scenario.base, 2023) == []


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_matrix(scenario: Scenario, case: Case) -> None:
    case.mutate(scenario)
    if case.expect == "error":
        with pytest.raises(ValidationFailed) as info:
            validate(scenario.cfg, scenario.base)
        msg = str(info.value)
        assert case.fragment in msg
        hit = [p for p in info.value.problems if case.fragment in str(p)]
        assert hit, msg
        assert len(set(info.value.problems)) == len(info.value.problems), msg  # each problem once
        for p in hit:
            assert p.fix.strip(), p  # every problem says how to fix it
            if case.input:
                assert case.input in p.input
    else:
        warns = validate(scenario.cfg, scenario.base)
        if case.expect == "warn":
            assert any(case.fragment in w for w in warns), warns
        else:
            assert warns == []


def test_matrix_is_big_enough() -> None:
    assert sum(c.expect != "ok" for c in CASES.values()) >= 25


# --------------------------------------------------------------------------- behaviour


def test_several_problems_reported_together(scenario: Scenario) -> None:
    scenario.write_targets([COUNTY_A[:2], COUNTY_B[:2]])  # no region row (header)
    scenario.write_landcover(crs=None)  # no CRS (header)
    _erosion_with(slice(20, 25), slice(20, 25), -5.0)(scenario)  # negative (data)
    scenario.remove(LEGEND_CSV)  # missing file
    with pytest.raises(ValidationFailed) as info:
        validate(scenario.cfg, scenario.base)
    exc = info.value
    assert not isinstance(exc, OSError)  # not only file problems
    msg = str(exc)
    for frag in ("no row for the region", "has no CRS", "negative erosion modulus", "file not found"):
        assert frag in msg
    assert msg.startswith(f"{len(exc.problems)} problems found in the inputs")
    assert len(exc.problems) == len(set(exc.problems)) >= 4  # each once


def test_validation_failed_is_value_error_and_missing_files_are_oserror(scenario: Scenario) -> None:
    assert issubclass(ValidationFailed, ValueError)
    scenario.remove(EROSION)
    scenario.remove(LANDCOVER)
    with pytest.raises(OSError) as info:
        validate(scenario.cfg, scenario.base)
    exc = info.value
    assert isinstance(exc, InputFilesFailed) and isinstance(exc, ValidationFailed) and isinstance(exc, ValueError)
    assert len(exc.problems) == 2 and all(isinstance(p, FileProblem) for p in exc.problems)
    assert str(scenario.base / EROSION) in str(exc)
    # a FileProblem is still a Problem
    assert isinstance(exc.problems[0], errors.Problem)


def test_header_does_not_read_values(scenario: Scenario) -> None:
    _erosion_with(slice(20, 25), slice(20, 25), -5.0)(scenario)
    assert check_header(scenario.cfg, scenario.base) == []
    problems = check_data(scenario.cfg, scenario.base, 2023)
    assert len(problems) == 1 and "negative" in problems[0].problem
    assert problems[0].input == f"years[2023].erosion ({EROSION})"


def test_check_data_warns(scenario: Scenario) -> None:
    _bowtie(scenario)
    with pytest.warns(InputWarning, match="invalid geometry"):
        assert check_data(scenario.cfg, scenario.base, "2023") == []


def test_check_data_unknown_year(scenario: Scenario) -> None:
    problems = check_data(scenario.cfg, scenario.base, 1999)
    assert any("year 1999 is not in the config" in p.problem for p in problems)


def test_validate_selected_years_only(scenario: Scenario) -> None:
    scenario.cfg["years"].append(
        {"year": 2024, "landcover": "data/2024/lc.tif", "erosion": "data/2024/er.tif", "erosion_unit": "t/km2/a"}
    )
    assert validate(scenario.cfg, scenario.base, years=[2023]) == []
    with pytest.raises(InputFilesFailed, match="data/2024/er.tif"):
        validate(scenario.cfg, scenario.base)


def test_truncated_file_reported_once(scenario: Scenario) -> None:
    _truncate(scenario)
    with pytest.raises(ValidationFailed) as info:
        validate(scenario.cfg, scenario.base)
    assert [p.input for p in info.value.problems] == [f"years[2023].erosion ({EROSION})"]
    assert isinstance(info.value, OSError)


def test_generated_paths_skip_existence(scenario: Scenario) -> None:
    scenario.remove(EROSION)
    assert len(check_header(scenario.cfg, scenario.base)) == 1
    assert check_header(scenario.cfg, scenario.base, generated={EROSION}) == []
    assert check_header(scenario.cfg, scenario.base, generated=[scenario.base / EROSION]) == []


def test_real_demo_config_header() -> None:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    rasters = {y[k] for y in cfg["years"] for k in ("landcover", "erosion") if k in y}
    # years computed by the CSLE branch: their factor rasters are demo files too
    rasters |= {v for y in cfg["years"] for v in (y.get("csle") or {}).values() if str(v).endswith(".tif")}
    # the polygon year's layers are made by the demo_polygons rule
    rasters |= {y[k]["path"] for y in cfg["years"] for k in ("erosion_patches", "landuse_polygons") if k in y}
    missing = [r for r in rasters if not (REPO / r).exists()]
    assert check_header(cfg, REPO, generated=rasters) == []
    problems = check_header(cfg, REPO)
    # only the not-yet-generated demo rasters may be reported
    assert len(problems) == len(missing)
    for p in problems:
        assert isinstance(p, FileProblem) and "resources/demo/" in p.input and "file not found" in p.problem


def test_problem_messages_name_file_and_fix(scenario: Scenario) -> None:
    scenario.write_erosion(crs=None)
    (p,) = check_header(scenario.cfg, scenario.base)
    assert p.input == f"years[2023].erosion ({EROSION})"
    assert f"gdal_edit.py -a_srs EPSG:4547 {EROSION}" in p.fix
    assert str(p).startswith(f"[years[2023].erosion ({EROSION})] the raster has no CRS")


# --------------------------------------------------------------------------- pixel areas


def _geod_cell_area_km2(crs: pyproj.CRS, corners_xy: list[tuple[float, float]]) -> float:
    geod = crs.get_geod()
    if crs.is_geographic:
        lon, lat = zip(*corners_xy)
    else:
        tr = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        lon, lat = tr.transform(*zip(*corners_xy))
    area, _ = geod.polygon_area_perimeter(lon, lat)
    return abs(area) / 1e6


def _one_cell_raster(tmp_path: Path, crs: str, transform, shape=(3, 4)) -> Path:
    p = tmp_path / "cell.tif"
    with rasterio.open(
        p, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype="uint8", crs=crs, transform=transform
    ) as ds:
        ds.write(np.zeros((1, *shape), dtype="uint8"))
    return p


def _cell_corners(ds, row: int, col: int, n: int = 1) -> list[tuple[float, float]]:
    return [ds.xy(r, c, offset="ul") for r, c in ((row, col), (row, col + 1), (row + 1, col + 1), (row + 1, col))]


@settings(max_examples=25, deadline=None)
@given(lat=st.floats(-80, 80), res=st.floats(1e-4, 0.05))
def test_pixel_area_geographic_matches_geod(tmp_path_factory, lat: float, res: float) -> None:
    tmp = tmp_path_factory.mktemp("geo")
    p = _one_cell_raster(tmp, "EPSG:4490", from_origin(112.0, lat + res, res, res))
    with rasterio.open(p) as ds:
        areas = pixel_area_km2(ds)
        assert areas.shape == (3, 4)
        crs = pyproj.CRS("EPSG:4490")
        for row in (0, 2):
            expect = _geod_cell_area_km2(crs, _cell_corners(ds, row, 1))
            assert areas[row, 1] == pytest.approx(expect, rel=1e-5)
        assert np.all(areas[:, 0] == areas[:, 3])  # depends on latitude only


@pytest.mark.parametrize(
    "crs, x0, y0, res",
    [
        ("EPSG:4547", 600_000.0, 3_950_000.0, 30.0),  # CGCS2000 GK CM 114E, 1.1° off the central meridian
        ("EPSG:32649", 300_000.0, 3_930_000.0, 1000.0),  # UTM 49N, far west in the zone, 1 km cells
        ("EPSG:3857", 12_520_000.0, 4_240_000.0, 100.0),  # Web Mercator: areal scale ≈ 1.5
    ],
)
def test_pixel_area_projected_matches_geod(tmp_path: Path, crs: str, x0: float, y0: float, res: float) -> None:
    p = _one_cell_raster(tmp_path, crs, from_origin(x0, y0, res, res))
    with rasterio.open(p) as ds:
        areas = pixel_area_km2(ds, Window(1, 1, 2, 2))
        assert areas.shape == (2, 2)
        expect = _geod_cell_area_km2(pyproj.CRS(crs), _cell_corners(ds, 1, 1))
        assert areas[0, 0] == pytest.approx(expect, rel=1e-6)
        if crs == "EPSG:3857":
            assert res * res / 1e6 / areas[0, 0] > 1.4  # the correction matters


def test_pixel_area_rotated_geographic_grid(tmp_path: Path) -> None:
    res, th = 0.002, math.radians(20)
    t = rasterio.Affine(res * math.cos(th), res * math.sin(th), 112.0, res * math.sin(th), -res * math.cos(th), 36.0)
    p = _one_cell_raster(tmp_path, "EPSG:4326", t)
    with rasterio.open(p) as ds:
        areas = pixel_area_km2(ds)
        expect = _geod_cell_area_km2(pyproj.CRS("EPSG:4326"), _cell_corners(ds, 2, 3))
        assert areas[2, 3] == pytest.approx(expect, rel=1e-5)


def test_broken_config_reports_instead_of_crashing(tmp_path: Path) -> None:
    problems = check_header({}, tmp_path)
    assert {p.input for p in problems} >= {"config: region.code", "config: years", "config: targets"}
    bad = {"years": [1, {"year": 2023}], "boundaries": "x", "validation": {"min_coverage_pct": "a"}}
    text = "\n".join(map(str, check_header(bad, tmp_path)))
    for frag in ("not a mapping", "has no land-cover raster", "unit is not declared", "not a percentage"):
        assert frag in text
    with pytest.raises(ValidationFailed):
        validate(bad, tmp_path)


def test_pixel_area_equal_area_is_res_squared(tmp_path: Path) -> None:
    aea = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    p = _one_cell_raster(tmp_path, aea, from_origin(700_000.0, 4_000_000.0, 30.0, 30.0))
    with rasterio.open(p) as ds:
        assert np.allclose(pixel_area_km2(ds), 0.0009, rtol=1e-9)


def test_pixel_area_needs_crs(tmp_path: Path) -> None:
    p = tmp_path / "nocrs.tif"
    with rasterio.open(
        p, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8", transform=from_origin(0, 2, 1, 1)
    ) as ds:
        ds.write(np.zeros((1, 2, 2), dtype="uint8"))
    with rasterio.open(p) as ds, pytest.raises(ValueError, match="no CRS"):
        pixel_area_km2(ds)


# --------------------------------------------------------------------------- issue 11: one rule per fact


def test_code_field_with_names_blames_the_boundaries_not_the_targets(scenario: Scenario) -> None:
    scenario.cfg["boundaries"]["code_field"] = "county_name"
    problems = check_header(scenario.cfg, scenario.base)
    (p,) = problems  # one problem: the targets table is right and is not blamed
    assert p.input == f"boundaries.code_field ({BOUNDARIES})"
    assert "'county_code'" in p.fix  # the field that does hold the codes is named


def test_code_field_with_some_bad_codes(scenario: Scenario) -> None:
    scenario.write_boundaries([("1405", COUNTY_A[1], COUNTY_A[2]), COUNTY_B])
    text = "\n".join(map(str, check_header(scenario.cfg, scenario.base)))
    assert "has 1 value that is not a six-digit GB/T 2260 county code (found '1405')" in text


def test_code_zero_legend_is_refused_by_data_check_too(scenario: Scenario) -> None:
    """check_data (the stage's own check) refuses what the computing stages would refuse."""
    scenario.write_legend([(0, "未分类", "Unclassified")] + LEGEND)
    reduced = {k: scenario.cfg[k] for k in ("years", "boundaries", "landcover_legend")}
    problems = check_data(reduced, scenario.base, 2023)
    assert [p.input for p in problems] == [f"landcover_legend ({LEGEND_CSV})"]


def test_float_land_cover_refused_with_the_same_rule_as_alignment(scenario: Scenario) -> None:
    from swc_raster.legend import landcover_dtype_problem

    scenario.write_landcover(landcover_values().astype("float32"))
    label = f"years[2023].landcover ({LANDCOVER})"
    assert check_header(scenario.cfg, scenario.base) == [landcover_dtype_problem("float32", label, LANDCOVER)]
    assert check_data(scenario.cfg, scenario.base, 2023) == [landcover_dtype_problem("float32", label, LANDCOVER)]


def test_reduced_config_of_one_year_validates(scenario: Scenario) -> None:
    """The stage layer passes only the keys the rule declares; everything else takes the schema's defaults."""
    reduced = {
        "years": [dict(scenario.year)],
        "boundaries": dict(scenario.cfg["boundaries"]),
        "landcover_legend": scenario.cfg["landcover_legend"],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_data(reduced, scenario.base, 2023) == []


def test_landcover_code_counts_match_numpy_unique(scenario: Scenario) -> None:
    """The bincount tally of the land-cover scan gives np.unique's counts (legend check reports them)."""
    rng = np.random.default_rng(5)
    v = np.ones((100, 100), dtype="uint16")
    inner = rng.integers(1, 12, size=(60, 60)).astype("uint16")  # inside both counties (rows/cols 10–90)
    inner[:7, :9] = 255  # nodata
    v[20:80, 20:80] = inner
    scenario.write_landcover(v)
    (p,) = check_data(scenario.cfg, scenario.base, 2023)
    codes, counts = np.unique(inner[inner != 255], return_counts=True)
    expect = ", ".join(f"{c} ({n} pixels)" for c, n in zip(codes, counts) if c > 8)
    assert f"not in the legend: {expect}." in p.problem


# --------------------------------------------------------------------------- issue 11: unit mislabels


def _low_erosion_t_km2() -> np.ndarray:
    """Terrain-like low-erosion field on the scenario grid: 80 % below 200 t/km², log-normal tail to 20 000."""
    from scipy.special import ndtri

    from swc_raster.terrain import spectral_field, to_uniform

    u = np.clip(to_uniform(spectral_field((100, 100), 11, corr_length_px=15)).astype("float64"), 1e-6, 1 - 1e-6)
    return np.minimum(40.0 * np.exp(np.log(5.0) / ndtri(0.8) * ndtri(u)), 20_000.0)


@pytest.mark.parametrize(
    "stored_as, declared, likely",
    [(1.0, "t/ha/a", "t/km2/a"), (0.01, "t/km2/a", "t/ha/a")],
    ids=["t/km2 values declared t/ha", "t/ha values declared t/km2"],
)
def test_unit_mislabel_of_a_low_erosion_raster_is_refused(
    scenario: Scenario, stored_as: float, declared: str, likely: str
) -> None:
    t = _low_erosion_t_km2()
    assert 0.75 < np.mean(t < 200) < 0.85
    scenario.write_erosion((t * stored_as).astype("float32"))
    scenario.year["erosion_unit"] = declared
    (p,) = check_data(scenario.cfg, scenario.base, 2023)
    assert p.input == f"years[2023].erosion ({EROSION})"
    assert "probably in a" in p.problem and f"read as {likely}" in p.problem
    assert f"`years[2023].erosion_unit` to {likely}" in p.fix


@pytest.mark.parametrize("unit", ["t/km2/a", "t/ha/a", "kg/m2/a", "t/pixel/a"])
def test_every_real_unit_of_a_low_erosion_raster_is_accepted(scenario: Scenario, unit: str) -> None:
    t = _low_erosion_t_km2()
    scenario.write_erosion(t.astype("float32"))
    if unit == "t/pixel/a":
        with rasterio.open(scenario.base / EROSION) as ds:
            stored = t * pixel_area_km2(ds)
    else:
        stored = t / {"t/km2/a": 1.0, "t/ha/a": 100.0, "kg/m2/a": 1000.0}[unit]
    scenario.write_erosion(stored.astype("float32"))
    scenario.year["erosion_unit"] = unit
    assert check_data(scenario.cfg, scenario.base, 2023) == []


# --------------------------------------------------------------------------- footprint


def test_footprint_of_a_lonlat_raster_and_coverage_by_hand(scenario: Scenario) -> None:
    from swc_raster.footprint import coverage_pct, raster_footprint

    with rasterio.open(scenario.base / EROSION) as ds:
        fp = raster_footprint(ds, "EPSG:4326")
    assert (
        fp.equals_exact(box(112.50, 35.50, 112.60, 35.60).normalize(), 1e-9)
        or fp.symmetric_difference(box(112.50, 35.50, 112.60, 35.60)).area < 1e-12
    )
    # a county half inside the footprint (lon 112.55–112.65): 50 % in lon/lat, and in an equal-area CRS
    county = box(112.55, 35.52, 112.65, 35.58)
    assert coverage_pct(county, fp) == pytest.approx(50.0)
    aea = pyproj.CRS("+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=GRS80 +units=m")
    tr = pyproj.Transformer.from_crs("EPSG:4326", aea, always_xy=True)
    with rasterio.open(scenario.base / EROSION) as ds:
        fp_ea = raster_footprint(ds, aea)
    county_ea = Polygon([tr.transform(x, y) for x, y in county.exterior.coords])
    assert coverage_pct(county_ea, fp_ea) == pytest.approx(50.0, abs=0.05)  # meridians are near-straight here
    assert coverage_pct(county_ea, None) == 0.0
