"""Intensity-grade rasters and wind erosion beside water erosion (issue 15), against planted truth.

The truth is computed here, independently of the engine: each cell's grade from the planted
arrays with numpy (water by SL 190 with the county's T, wind by the SL 190 wind table, a graded
raster by its declared code table), each cell weighted by the share of it inside the county
(shapely intersection areas), summed per county.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from swc_raster.erosion_layers import STAND_IN, ErosionLayer, grade_table, wind_grades
from swc_raster.errors import ConfigError
from swc_raster.grading import grade_modulus
from swc_raster.grid import AnalysisGrid
from swc_raster.rates import rate_pct
from swc_raster.zonal import crosstab_with_sensitivity, write_grade_raster

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=GRS80 +units=m"
H, W, RES = 60, 80, 100.0
T_OF = {"A": 200.0, "B": 1000.0}
WIND_T = (200.0, 2500.0, 5000.0, 8000.0, 15000.0)


def _write(path, array, transform, nodata):
    profile = dict(
        driver="GTiff", width=array.shape[1], height=array.shape[0], count=1, dtype=str(array.dtype),
        crs=ALBERS, transform=transform, nodata=nodata, tiled=True, blockxsize=16, blockysize=16,
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return str(path)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forms")
    grid = AnalysisGrid.covering((0, 0, W * RES, H * RES), ALBERS, RES)
    # two counties sharing a slanted edge (boundary cells count by coverage), one with a hole
    a = shapely.Polygon([(150, 120), (4420, 150), (3610, 5870), (130, 5905)])
    a = a.difference(shapely.box(1000, 1000, 1750, 1830))
    b = shapely.Polygon([(4420, 150), (7880, 110), (7900, 5890), (3610, 5870)])
    counties = gpd.GeoDataFrame({"zone": [1, 2], "county_code": ["A", "B"]}, geometry=[a, b], crs=ALBERS)
    rng = np.random.default_rng(7)
    landcover = rng.choice(np.array([1, 2, 3], dtype="uint8"), (H, W))
    lc_path = _write(tmp / "lc.tif", landcover, grid.transform, 0)
    return tmp, grid, counties, landcover, lc_path


def _coverage(grid, poly):
    rows, cols = np.indices(grid.shape)
    t = grid.transform
    cells = shapely.box(t.c + cols * t.a, t.f + (rows + 1) * t.e, t.c + (cols + 1) * t.a, t.f + rows * t.e)
    return shapely.area(shapely.intersection(cells, poly)) / (t.a * -t.e)


def _truth_by_grade(grid, counties, grade_of_county):
    """County → area (km²) of each code 0–7 of ``grade_of_county[code]`` (a cell array per county)."""
    out = {}
    for code, poly in zip(counties.county_code, counties.geometry):
        cov = _coverage(grid, poly) * RES * RES / 1e6
        out[code] = np.bincount(grade_of_county[code].ravel(), weights=cov.ravel(), minlength=8)
    return out


def _count(world, layers, **kwargs):
    tmp, grid, counties, _, lc_path = world
    t_by_zone = np.array([0.0, T_OF["A"], T_OF["B"]])
    return crosstab_with_sensitivity(
        lc_path,
        "unused",
        counties,
        [1, 2, 3],
        grid,
        t_by_zone,
        erosion_layers=[layer.params() for layer in layers],
        workers=1,
        window_size=64,
        erosion_unit="t/km2/a",
        **kwargs,
    )


# --------------------------------------------------------------------------- graded rasters

GRADE_BLOCK = {
    "slight": [11],
    "light": [12],
    "moderate": [13],
    "intense": [14],
    "very_intense": [15],
    "severe": [16, 17],
    "nodata": [99],
}


def test_grade_table_reads_names_and_defaults():
    pairs, nodata = grade_table({"light": [20, 21], "nodata": [0]}, "where")
    assert dict(pairs) == {1: 1, 20: 2, 21: 2, 3: 3, 4: 4, 5: 5, 6: 6}
    assert nodata == (0,)
    with pytest.raises(ConfigError, match="code 3 is given for both"):
        grade_table({"light": [3]}, "where")
    with pytest.raises(ConfigError, match="code 0"):
        grade_table({"slight": [0], "light": [2]}, "where")


def test_stand_ins_grade_back_to_their_grade_with_any_t():
    for t in (1.0, 200.0, 500.0, 1000.0, 2499.0):
        got = grade_modulus(STAND_IN[1:].astype("float64"), t)
        assert got.tolist() == [1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def graded(world):
    tmp, grid, *_ = world
    rng = np.random.default_rng(3)
    codes = rng.choice(np.array([11, 12, 13, 14, 15, 16, 17, 99, 255], dtype="uint8"), (H, W))
    path = _write(tmp / "grades.tif", codes, grid.transform, 255)
    pairs, nodata = grade_table(GRADE_BLOCK, "test")
    return codes, ErosionLayer("water", path, grade_codes=pairs, nodata_codes=nodata)


def test_graded_raster_counts_its_declared_grades_whatever_t(world, graded):
    _, grid, counties, *_ = world
    codes, layer = graded
    table, _ = _count(world, [layer])
    grade_of_code = np.zeros(256, dtype=np.int64)
    for code, g in {11: 1, 12: 2, 13: 3, 14: 4, 15: 5, 16: 6, 17: 6}.items():
        grade_of_code[code] = g  # 99 (declared nodata) and 255 (the raster's nodata) stay 0
    truth = _truth_by_grade(grid, counties, {c: grade_of_code[codes] for c in ("A", "B")})
    got = table.sum("landcover_code")
    for code in ("A", "B"):
        np.testing.assert_allclose(got.sel(county_code=code).values, truth[code], rtol=0, atol=1e-9)
        land, eroded = truth[code].sum(), truth[code][2:7].sum()
        assert (
            abs(
                rate_pct(land, float(got.sel(county_code=code, grade_code=[2, 3, 4, 5, 6]).sum()))
                - rate_pct(land, eroded)
            )
            < 1e-9
        )


def test_graded_raster_on_a_coarser_grid_is_resampled_by_code(world, graded):
    """A graded raster at 200 m on the 100 m grid: each cell takes the code under its centre (never averaged)."""
    tmp, grid, counties, *_ = world
    rng = np.random.default_rng(5)
    coarse = rng.choice(np.array([11, 12, 13, 16], dtype="uint8"), (H // 2, W // 2))
    t = grid.transform
    path = _write(tmp / "grades200.tif", coarse, Affine(200.0, 0, t.c, 0, -200.0, t.f), 255)
    layer = ErosionLayer("water", path, grade_codes=graded[1].grade_codes, nodata_codes=graded[1].nodata_codes)
    table, _ = _count(world, [layer])
    fine = np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)
    grade_of_code = np.zeros(256, dtype=np.int64)
    grade_of_code[[11, 12, 13, 16]] = [1, 2, 3, 6]
    truth = _truth_by_grade(grid, counties, {c: grade_of_code[fine] for c in ("A", "B")})
    for code in ("A", "B"):
        np.testing.assert_allclose(table.sum("landcover_code").sel(county_code=code).values, truth[code], atol=1e-9)


# --------------------------------------------------------------------------- wind beside water


@pytest.fixture(scope="module")
def water_wind(world):
    """Water erosion in the west (x < 4 km), wind erosion in the north (y > 3 km): overlapping in the
    north-west, separate elsewhere; values straddle T and the grade thresholds; nodata in both."""
    tmp, grid, *_ = world
    rng = np.random.default_rng(11)
    water = rng.choice(np.array([50, 199, 200, 600, 999, 1000, 3000, 6000, 20000], dtype="float32"), (H, W))
    water[:, W // 2 :] = rng.choice(np.array([10, 150, 199], dtype="float32"), (H, W - W // 2))
    wind = rng.choice(np.array([100, 199.9, 200, 2600, 9000, 16000], dtype="float32"), (H, W))
    wind[H // 2 :, :] = rng.choice(np.array([0, 50, 199], dtype="float32"), (H - H // 2, W))
    water[rng.random((H, W)) < 0.05] = -1.0
    wind[rng.random((H, W)) < 0.05] = -1.0
    water_path = _write(tmp / "water.tif", water, grid.transform, -1.0)
    wind_path = _write(tmp / "wind.tif", wind / 100.0, grid.transform, -0.01)  # delivered in t/ha/a
    layers = [
        ErosionLayer("water", water_path, unit="t/km2/a"),
        ErosionLayer("wind", wind_path, unit="t/ha/a", thresholds_t_km2=WIND_T),
    ]
    return water, wind, layers


def _water_grade(water, t):
    a = water.astype("float64")
    a[water == -1.0] = np.nan
    return grade_modulus(a, t).astype(np.int64)


def _wind_grade(wind):
    g = np.ones(wind.shape, dtype=np.int64)
    for bound in WIND_T:
        g += wind >= bound
    g[wind == -1.0] = 0
    return g


def test_wind_grades_by_the_sl190_wind_table():
    a = np.array([0, 199.99, 200, 2499, 2500, 7999, 8000, 15000, -9999, np.nan], dtype="float32")
    assert wind_grades(a, WIND_T).tolist() == [1, 1, 2, 2, 3, 4, 5, 6, 0, 0]


def test_water_and_wind_total_is_the_more_severe_grade_per_cell(world, water_wind):
    _, grid, counties, *_ = world
    water, wind, layers = water_wind
    table, _ = _count(world, layers)
    per = {}
    for code in ("A", "B"):
        gw, gi = _water_grade(water, T_OF[code]), _wind_grade(wind)
        per[code] = np.maximum(gw, gi)  # nodata (0) below everything; a cell with data in one layer takes it
    truth = _truth_by_grade(grid, counties, per)
    got = table.sum("landcover_code")
    for code in ("A", "B"):
        np.testing.assert_allclose(got.sel(county_code=code).values, truth[code], atol=1e-9)
    # the planted case really has both overlapping and separate eroded land
    gw, gi = _water_grade(water, 200.0), _wind_grade(wind)
    assert ((gw >= 2) & (gi >= 2)).sum() > 100
    assert ((gw >= 2) & (gi < 2)).sum() > 100
    assert ((gw < 2) & (gi >= 2)).sum() > 100


def test_by_process_count_is_the_joint_of_wind_and_water_grades(world, water_wind):
    _, grid, counties, *_ = world
    water, wind, layers = water_wind
    joint, _ = _count(world, layers, landcover_is_wind_grade=True)
    # dims: county × wind grade (as "land cover": 0 no data, 1–6) × water grade
    assert joint.landcover_code.values.tolist() == [0, 1, 2, 3, 4, 5, 6]
    for code, poly in zip(counties.county_code, counties.geometry):
        cov = _coverage(grid, poly) * RES * RES / 1e6
        gw, gi = _water_grade(water, T_OF[code]), _wind_grade(wind)
        truth = np.zeros((7, 8))
        np.add.at(truth, (gi, gw), cov)
        np.testing.assert_allclose(joint.sel(county_code=code).values, truth, atol=1e-9)


def test_t_sensitivity_with_wind_counts_wind_erosion_at_every_t(world, water_wind):
    _, grid, counties, *_ = world
    water, wind, layers = water_wind
    _, eroded = _count(world, layers, t_sensitivity=[500.0, 1000.0])
    for code, poly in zip(counties.county_code, counties.geometry):
        cov = _coverage(grid, poly) * RES * RES / 1e6
        for t in (500.0, 1000.0):
            mask = (_water_grade(water, t) >= 2) | (_wind_grade(wind) >= 2)
            assert float(eroded.sel(county_code=code, t_km2=t)) == pytest.approx(float(cov[mask].sum()), abs=1e-9)


def test_grade_raster_with_wind_matches_the_table_grades(world, water_wind):
    tmp, grid, counties, *_ = world
    water, wind, layers = water_wind
    out = tmp / "grade.tif"
    write_grade_raster(
        "unused", "unused", counties, np.array([0.0, 200.0, 1000.0]), grid, out, 64,
        erosion_layers=[layer.params() for layer in layers], footprint=shapely.box(0, 0, W * RES, H * RES),
    )  # fmt: skip
    with rasterio.open(out) as src:
        g = src.read(1)
    rows, cols = np.indices(grid.shape)
    t = grid.transform
    in_a = shapely.contains_xy(counties.geometry[0], t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e)
    expected = np.maximum(_water_grade(water, 200.0), _wind_grade(wind))
    assert (g[in_a] == expected[in_a]).all()


# --------------------------------------------------------------------------- checks: mislabelled forms


@pytest.fixture
def scenario(tmp_path):
    from tests._factories import make_scenario

    return make_scenario(tmp_path)


def _refused(s, fragment, input_key=None):
    from swc_raster.errors import ValidationFailed
    from swc_raster.validate import validate

    with pytest.raises(ValidationFailed) as info:
        validate(s.cfg, s.base)
    hit = [p for p in info.value.problems if fragment in str(p)]
    assert hit, str(info.value)
    for p in hit:
        assert p.fix.strip()
        if input_key:
            assert input_key in p.input
    return hit


def _grades(s, rel="data/2023/grades.tif", dtype="uint8", codes=(1, 2, 3, 4, 5, 6), nodata=255):
    from tests._factories import SIZE

    rng = np.random.default_rng(1)
    data = rng.choice(np.array(codes), (SIZE, SIZE)).astype(dtype)
    s.write_raster(rel, data, nodata=nodata)
    return rel


def test_a_graded_raster_with_its_table_passes(scenario):
    from swc_raster.validate import validate

    scenario.year["erosion"] = _grades(scenario, codes=(11, 12, 13, 99))
    del scenario.year["erosion_unit"]
    scenario.year["erosion_grades"] = {"slight": [11], "light": [12], "moderate": [13], "nodata": [99]}
    assert validate(scenario.cfg, scenario.base) == []


def test_codes_not_in_the_grade_table_are_refused_with_counts(scenario):
    scenario.year["erosion"] = _grades(scenario, codes=(1, 2, 3, 8))
    del scenario.year["erosion_unit"]
    scenario.year["erosion_grades"] = {}
    (p,) = _refused(scenario, "not in the grade table", "erosion")
    assert "8 (" in p.problem and "pixels" in p.problem


def test_a_modulus_declared_as_grades_is_refused(scenario):
    del scenario.year["erosion_unit"]
    scenario.year["erosion_grades"] = {}
    (p,) = _refused(scenario, "probably the erosion modulus", "erosion")
    assert "erosion_unit" in p.fix


def test_an_integer_modulus_declared_as_grades_is_refused_as_a_modulus(scenario):
    from tests._factories import SIZE

    values = np.random.default_rng(2).lognormal(np.log(400), 1.0, (SIZE, SIZE)).astype("uint16")
    scenario.write_raster("data/2023/int_modulus.tif", values, nodata=65535)
    scenario.year["erosion"] = "data/2023/int_modulus.tif"
    del scenario.year["erosion_unit"]
    scenario.year["erosion_grades"] = {}
    (p,) = _refused(scenario, "look like an erosion modulus", "erosion")
    assert "erosion_unit" in p.fix


def test_grades_declared_as_a_modulus_are_refused(scenario):
    scenario.year["erosion"] = _grades(scenario, dtype="float32", codes=(1.0, 2.0, 3.0, 5.0), nodata=-9999.0)
    (p,) = _refused(scenario, "intensity-grade raster", "erosion")
    assert "erosion_grades" in p.fix


def test_a_modulus_rounded_to_whole_t_ha_is_not_taken_for_grades():
    from swc_raster.erosion_layers import graded_look

    rng = np.random.default_rng(3)
    t_ha = np.round(rng.lognormal(np.log(1.5), 1.0, 10_000)).clip(0, 9)  # gentle region, whole t/ha/a
    assert (t_ha == 0).mean() > 0.05
    assert graded_look(t_ha) is None
    assert graded_look(rng.choice([1.0, 2.0, 3.0, 6.0], 10_000)) is not None


def _wind(s, data=None, rel="data/2023/wind.tif", **kw):
    from tests._factories import erosion_values

    kw.setdefault("nodata", -9999.0)
    s.write_raster(rel, erosion_values(5) if data is None else data, **kw)
    s.year["wind_erosion"] = rel
    s.year["wind_erosion_unit"] = "t/km2/a"


def _label(path, description=None, units=None, tags=None):
    with rasterio.open(path, "r+") as ds:
        if description is not None:
            ds.set_band_description(1, description)
        if units is not None:
            ds.set_band_unit(1, units)
        if tags:
            ds.update_tags(**tags)


def test_a_wind_layer_passes_and_its_partial_cover_is_a_warning(scenario):
    from swc_raster.validate import validate
    from tests._factories import SIZE, erosion_values

    _wind(scenario)
    assert validate(scenario.cfg, scenario.base) == []
    # a wind layer over the western half only: a warning naming the county, not an error
    from tests._factories import TRANSFORM

    _wind(scenario, erosion_values(5)[:, : SIZE // 3], transform=TRANSFORM)
    warnings = validate(scenario.cfg, scenario.base)
    assert any("covers only part" in w and "wind-erosion data" in w for w in warnings), warnings


def test_a_wind_layer_in_the_water_slot_is_refused_by_its_labels(scenario):
    _label(scenario.base / "data/2023/erosion.tif", description="wind erosion modulus 风蚀模数")
    (p,) = _refused(scenario, "labels itself as wind erosion", "erosion")
    assert "wind_erosion" in p.fix


def test_a_water_layer_in_the_wind_slot_is_refused_by_its_labels(scenario):
    _wind(scenario, rel="data/2023/layer2.tif")
    _label(scenario.base / "data/2023/layer2.tif", tags={"PRODUCT": "RUSLE soil loss, 水力侵蚀模数"})
    _refused(scenario, "labels itself as water erosion", "wind_erosion")


def test_a_raster_whose_unit_tag_contradicts_the_declared_unit_is_refused(scenario):
    _label(scenario.base / "data/2023/erosion.tif", units="t/ha/yr")
    (p,) = _refused(scenario, "own unit is 't/ha/yr'", "erosion")
    assert "erosion_unit: t/ha/a" in p.fix


def test_wind_config_mistakes_are_refused_when_parsed():
    from swc_raster.config import year_inputs

    base = {"year": 2023, "landcover": "lc.tif", "erosion": "w.tif", "erosion_unit": "t/km2/a"}
    with pytest.raises(ConfigError, match="neither a unit nor a grade table"):
        year_inputs({"years": [{**base, "wind_erosion": "wind.tif"}]})
    with pytest.raises(ConfigError, match="same file"):
        year_inputs({"years": [{**base, "wind_erosion": "w.tif", "wind_erosion_unit": "t/km2/a"}]})
    with pytest.raises(ConfigError, match="both `erosion_unit:`"):
        year_inputs({"years": [{**base, "erosion_grades": {}}]})
    with pytest.raises(ConfigError, match="no `wind_erosion:`"):
        year_inputs({"years": [{**base, "wind_erosion_unit": "t/km2/a"}]})
