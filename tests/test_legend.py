"""The one land-cover legend reader (swc_raster.legend) and the land-cover data-type rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swc_raster.errors import InputError, InputFileError, ValidationFailed
from swc_raster.legend import (
    MAX_CODE,
    PRODUCT_LEGENDS,
    aligned_landcover_dtype,
    check_landcover_dtype,
    is_product_legend,
    landcover_dtype_problem,
    legend_path,
    legend_problems,
    read_legend,
    read_legend_table,
)

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / "legend.csv"
    p.write_bytes(text.encode(encoding))
    return p


def test_the_demo_legend_reads():
    legend = read_legend(REPO / "config" / "landcover_legend.csv")
    assert legend.codes == sorted(set(legend.codes)) and min(legend.codes) >= 1
    assert legend.names("zh")[1] == "耕地"


def test_bom_colour_and_spaces(tmp_path):
    p = _write(tmp_path, "\ufeffcode,name_zh,name_en,colour\n 3 ,林地, Forest ,#38A800\n7.0,水域,Water,\n")
    legend = read_legend(p)
    assert legend.codes == [3, 7]
    assert [c.colour for c in legend.classes] == ["#38A800", None]
    assert legend.names("en") == {3: "Forest", 7: "Water"}


@pytest.mark.parametrize(
    "row, fragment",
    [
        ("0,未分类,Unclassified", "code '0' is not a whole number from 1 to 65535"),
        ("65536,x,y", "code '65536' is not a whole number"),
        ("2.5,x,y", "code '2.5' is not a whole number"),
        ("-1,x,y", "code '-1'"),
        ("abc,x,y", "code 'abc'"),
        ("1,耕地,Cropland", "duplicate land-cover code 1 (first on line 2)"),
        ("4,,Grassland", "code 4 has no name_zh"),
        ("4,草地,Grassland,red", "colour 'red' is not #RRGGBB"),
    ],
)
def test_each_bad_row_is_named(tmp_path, row, fragment):
    header = "code,name_zh,name_en" + (",colour" if row.count(",") == 3 else "")
    first = "1,耕地,Cropland" + ("," if row.count(",") == 3 else "")
    p = _write(tmp_path, f"{header}\n{first}\n{row}\n")
    with pytest.raises(ValidationFailed) as info:
        read_legend(p, "landcover_legend (x.csv)")
    (problem,) = info.value.problems
    assert fragment in problem.problem and problem.input == "landcover_legend (x.csv)" and problem.fix


def test_every_problem_at_once(tmp_path):
    p = _write(tmp_path, "code,name_zh,name_en\n0,a,b\n2,c,d\n2,e,f\n")
    with pytest.raises(ValidationFailed) as info:
        read_legend(p)
    assert len(info.value.problems) == 2  # code 0 and the duplicate 2


def test_missing_columns_and_empty_table():
    assert "lacks column(s) name_en" in legend_problems(pd.DataFrame({"code": ["1"], "name_zh": ["a"]}), "L")[0].problem
    empty = pd.DataFrame({"code": [], "name_zh": [], "name_en": []})
    assert legend_problems(empty, "L")[0].problem == "the legend has no rows."


def test_gbk_file_is_refused_with_the_fix(tmp_path):
    p = _write(tmp_path, "code,name_zh,name_en\n1,耕地,Cropland\n", encoding="gbk")
    with pytest.raises(InputError, match="not UTF-8.*iconv -f GBK"):
        read_legend(p)


def test_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(InputFileError) as info:
        read_legend(tmp_path / "none.csv")
    assert isinstance(info.value, OSError)


# --------------------------------------------------------------------------- the land-cover data-type rule


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int8", "int16", "int32", "uint32"])
def test_integer_land_cover_is_accepted(dtype):
    assert landcover_dtype_problem(dtype, "lc") is None
    check_landcover_dtype(np.dtype(dtype), "lc")  # does not raise


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_float_land_cover_is_refused_with_the_conversion(dtype):
    p = landcover_dtype_problem(dtype, "years[2023].landcover (lc.tif)", "data/lc.tif")
    assert p is not None and p.input == "years[2023].landcover (lc.tif)"
    assert f"data type {dtype}" in p.problem
    assert "gdal_translate -ot UInt16 lc.tif lc_uint16.tif" in p.fix
    with pytest.raises(InputError, match=f"{dtype}.*gdal_translate -ot UInt16"):
        check_landcover_dtype(dtype, "lc")


def test_aligned_dtype_holds_every_legend_code():
    assert aligned_landcover_dtype("uint8") == "uint8" and aligned_landcover_dtype("int8") == "uint8"
    for dtype in ("uint16", "int16", "int32", "uint32"):
        assert np.iinfo(aligned_landcover_dtype(dtype)).max == MAX_CODE


# --------------------------------------------------------------------------- land-cover products by name
#
# Each product's codes and names typed here from its documentation (docs/decisions/0007-landcover-legends.md),
# independently of the shipped CSVs: a typo in either one fails the test.

TYPED_PRODUCTS = {
    "gbt21010": (
        list(range(1, 13)),
        {
            1: ("耕地", "Cultivated land"),
            3: ("林地", "Woodland"),
            8: ("公共管理与公共服务用地", "Public administration and public service land"),
            11: ("水域及水利设施用地", "Water and water conservancy facilities land"),
            12: ("其他土地", "Other land"),
        },
    ),
    "gbt21010_8": (
        list(range(1, 9)),
        {
            1: ("耕地", "Cropland"),
            5: ("建设用地", "Built-up land"),
            7: ("水域及水利设施用地", "Water"),
            8: ("其他土地", "Other land"),
        },
    ),
    "clcd": (
        list(range(1, 10)),
        {
            1: ("耕地", "Cropland"),
            3: ("灌木", "Shrub"),
            6: ("冰雪", "Snow/Ice"),
            8: ("不透水面", "Impervious"),
            9: ("湿地", "Wetland"),
        },
    ),
    "globeland30": (
        [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
        {
            10: ("耕地", "Cultivated land"),
            40: ("灌木地", "Shrubland"),
            70: ("苔原", "Tundra"),
            80: ("人造地表", "Artificial surfaces"),
            100: ("冰川和永久积雪", "Permanent snow and ice"),
        },
    ),
    "esa_worldcover": (
        [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100],
        {
            10: (None, "Tree cover"),
            40: (None, "Cropland"),
            50: (None, "Built-up"),
            60: (None, "Bare / sparse vegetation"),
            95: (None, "Mangroves"),
            100: (None, "Moss and lichen"),
        },
    ),
    "modis_igbp": (
        list(range(1, 18)),
        {
            1: (None, "Evergreen Needleleaf Forests"),
            8: (None, "Woody Savannas"),
            12: ("农田", "Croplands"),
            13: (None, "Urban and Built-up Lands"),
            14: (None, "Cropland/Natural Vegetation Mosaics"),
            17: ("水体", "Water Bodies"),
        },
    ),
}
#: The colours each product's documentation gives for a few classes (#RRGGBB).
TYPED_COLOURS = {
    "esa_worldcover": {10: "#006400", 40: "#F096FF", 50: "#FA0000", 80: "#0064C8"},
    "modis_igbp": {1: "#05450A", 12: "#C24F44", 13: "#A5A5A5", 17: "#1C0DFF"},
    "clcd": {1: "#FAE39C", 2: "#446F33", 8: "#E24290"},
}


def test_the_named_products_are_exactly_the_typed_ones():
    assert set(PRODUCT_LEGENDS) == set(TYPED_PRODUCTS)


@pytest.mark.parametrize("name", sorted(TYPED_PRODUCTS))
def test_every_shipped_legend_passes_the_legend_checks_with_a_colour_per_class(name):
    table = read_legend_table(legend_path(name), name)
    assert legend_problems(table, name) == []
    legend = read_legend(name)
    assert all(c.colour for c in legend.classes)
    assert len({c.colour.upper() for c in legend.classes}) == len(legend.classes)  # classes distinguishable on maps
    assert all(c.name_zh != c.name_en for c in legend.classes)


@pytest.mark.parametrize("name", sorted(TYPED_PRODUCTS))
def test_each_product_has_its_documented_codes_and_names(name):
    codes, names = TYPED_PRODUCTS[name]
    legend = read_legend(name)
    assert legend.codes == codes
    zh, en = legend.names("zh"), legend.names("en")
    for code, (name_zh, name_en) in names.items():
        assert en[code] == name_en
        if name_zh is not None:
            assert zh[code] == name_zh
    for code, colour in TYPED_COLOURS.get(name, {}).items():
        assert next(c.colour for c in legend.classes if c.code == code).upper() == colour


def test_the_bulletin_classes_are_the_demo_legend():
    demo = read_legend(REPO / "config" / "landcover_legend.csv").to_frame()
    named = read_legend("gbt21010_8").to_frame()
    pd.testing.assert_frame_equal(named[["code", "name_zh", "name_en"]], demo[["code", "name_zh", "name_en"]])


def test_names_are_case_insensitive_and_paths_still_work(tmp_path):
    assert is_product_legend("CLCD") and is_product_legend(" modis_igbp ")
    assert read_legend("CLCD").codes == read_legend("clcd").codes
    assert not is_product_legend("config/landcover_legend.csv") and not is_product_legend(None)
    own = _write(tmp_path, "code,name_zh,name_en\n5,耕地,Cropland\n")
    assert not is_product_legend(str(own))
    assert read_legend(str(own)).codes == [5]


def test_a_misspelt_product_name_is_refused_with_the_known_names():
    with pytest.raises(InputError) as info:
        read_legend("globeland")
    (problem,) = info.value.problems
    assert "neither a land-cover product" in problem.problem
    assert "globeland30" in problem.fix and "esa_worldcover" in problem.fix


def test_a_missing_csv_path_is_still_a_missing_file(tmp_path):
    with pytest.raises(InputFileError):
        read_legend(tmp_path / "legend.csv")


MODIS = Path(__file__).resolve().parents[2] / "shared" / "data"  # shared/ lies beside the checkout


@pytest.mark.skipif(not (MODIS / "modis_mcd12c1_2019_igbp_jincheng.tif").exists(), reason="shared data not here")
def test_the_real_modis_raster_holds_only_codes_the_igbp_legend_knows():
    import rasterio

    known = set(read_legend("modis_igbp").codes)
    with rasterio.open(MODIS / "modis_mcd12c1_2019_igbp_jincheng.tif") as src:
        values = src.read(1, masked=True)
    present = set(np.unique(values.compressed()).tolist())
    assert present and present <= known


@pytest.mark.skipif(not (MODIS / "modis_mcd12c1_2019_igbp_shanxi.tif").exists(), reason="shared data not here")
def test_the_shanxi_modis_raster_differs_from_the_legend_only_by_mcd12c1_water_0():
    # MCD12C1 (the 0.05° climate-modelling grid) codes water as 0, where MCD12Q1 uses 17; 0 is the
    # workflow's land-cover nodata, so such cells count as unclassified land (decision 0007).
    import rasterio

    known = set(read_legend("modis_igbp").codes)
    with rasterio.open(MODIS / "modis_mcd12c1_2019_igbp_shanxi.tif") as src:
        values = src.read(1, masked=True)
    assert set(np.unique(values.compressed()).tolist()) - known == {0}
