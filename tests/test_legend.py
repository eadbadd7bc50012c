"""The one land-cover legend reader (swc_raster.legend) and the land-cover data-type rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swc_raster.errors import InputError, InputFileError, ValidationFailed
from swc_raster.legend import (
    MAX_CODE,
    aligned_landcover_dtype,
    check_landcover_dtype,
    landcover_dtype_problem,
    legend_problems,
    read_legend,
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
