"""Deliverables open right: CSVs in Excel, the workbook on paper, rasters and the GeoPackage in QGIS.

Expected values come from elsewhere than the code under test: hand-written numbers and
files, GDAL's own tools (``gdalinfo``, GDAL's COG validator from the Debian GDAL Python
bindings), LibreOffice + poppler for printing, and QGIS 3.22 itself for styles.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from swc_raster import csv_files, gis_outputs, grading, tables, transitions
from swc_raster.errors import InputError
from tests._publish_fixtures import ALBERS, make_inputs
from tests._tools import need_tool

REPO = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"


def need_system_module(module: str) -> str:
    """Debian's python3 with ``module`` (python3-gdal, python3-qgis); skip locally, fail in CI without it."""
    probe = (
        subprocess.run([SYSTEM_PYTHON, "-c", f"import {module}"], capture_output=True)
        if Path(SYSTEM_PYTHON).exists()
        else None
    )
    if probe is not None and probe.returncode == 0:
        return SYSTEM_PYTHON
    message = f"needs {module} in {SYSTEM_PYTHON} (Debian packages: see .ci/apt-packages)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("publish"))


# ----------------------------------------------------------------------------- CSV


def test_csv_has_bom_rounded_numbers_and_demo_column(tmp_path):
    df = pd.DataFrame(
        {
            "county_code": ["140502", "140500"],
            "county_name": ["城区", "晋城市"],
            "t_allowable_t_km2": [200.0, float("nan")],
            "land_area_km2": [148.00000049, 3171.2500000000005],
            "rate_pct": [76.62570899999999, 67.64],
            "gap_2025_pp": [-0.23429099999999892, -1e-12],
            "trend_pp_per_year": [0.8833333333333333, 1.0],
            "cells": [3, 4],
            "met_2025": [False, True],
        }
    )
    out = csv_files.write_csv(df, tmp_path / "t.csv", demo=True)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    # hand-rounded: km² and % and pp to 6 decimals, T to 2; -1e-12 rounds to 0.0, not -0.0
    assert text.splitlines() == [
        "county_code,county_name,t_allowable_t_km2,land_area_km2,rate_pct,gap_2025_pp,trend_pp_per_year,cells,"
        "met_2025,data_status",
        "140502,城区,200.0,148.0,76.625709,-0.234291,0.883333,3,False,演示数据 demo data",
        "140500,晋城市,,3171.25,67.64,0.0,1.0,4,True,演示数据 demo data",
    ]
    # Excel on Chinese Windows picks UTF-8 from the BOM; GBK would have garbled the names
    assert "城区" not in raw[3:].decode("gbk", errors="replace")
    back = csv_files.read_csv(out)
    assert list(back.columns)[0] == "county_code" and back["county_code"].tolist() == ["140502", "140500"]
    assert csv_files.is_demo(back)


def test_csv_without_demo_has_no_marker_and_refuses_unknown_precision(tmp_path):
    df = pd.DataFrame(
        {"county_code": ["1"], "area_km2": [1.0], "latest_year": [float("nan")], "mean_LS": [2.123456789]}
    )
    with pytest.raises(ValueError, match=r"mean_LS.*decimals="):
        csv_files.write_csv(df, tmp_path / "x.csv", demo=False)
    assert not (tmp_path / "x.csv").exists()
    out = csv_files.write_csv(df, tmp_path / "x.csv", demo=False, decimals={"mean_LS": 3})
    assert out.read_text(encoding="utf-8-sig").splitlines() == [
        "county_code,area_km2,latest_year,mean_LS",
        "1,1.0,,2.123",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_gap_recomputes_exactly_from_published_rate_and_target(tmp_path):
    rate, target = 64.596709, 64.83  # a 6-decimal rate (county_rates) and a 2-decimal target
    df = pd.DataFrame({"rate_pct": [rate], "target_2025_pct": [target], "gap_2025_pp": [rate - target]})
    back = csv_files.read_csv(csv_files.write_csv(df, tmp_path / "c.csv", demo=False))
    assert repr(rate - target) != "-0.233291"  # the float noise the issue saw
    assert back.loc[0, "gap_2025_pp"] == round(back.loc[0, "rate_pct"] - back.loc[0, "target_2025_pct"], 6)
    assert (tmp_path / "c.csv").read_text(encoding="utf-8-sig").splitlines()[1] == "64.596709,64.83,-0.233291"


def test_no_library_reader_keeps_the_bom_in_a_column_name(tmp_path):
    """Published CSVs start with a BOM.  ``open(..., encoding="utf-8")`` + ``csv`` keeps it in the first
    column name ("\ufeffcounty_code"); pandas drops it with either encoding (checked here), so the
    grep looks for ``open`` readers of CSVs that are not utf-8-sig."""
    bom_csv = tmp_path / "b.csv"
    bom_csv.write_bytes("county_code,x\n1,2\n".encode("utf-8-sig"))
    assert list(pd.read_csv(bom_csv, encoding="utf-8").columns) == ["county_code", "x"]
    offenders = []
    for path in sorted((REPO / "swc_raster").glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            if (
                re.search(r"\bopen\(", line)
                and re.search(r'encoding="utf-8"', line)
                and ("csv" in line or any("csv.reader" in x or "DictReader" in x for x in lines[n : n + 3]))
            ):
                offenders.append(f"{path.name}:{n}")
    assert offenders == []


def test_tables_reader_reads_bom_csv(inputs, tmp_path):
    rates = pd.read_csv(inputs.county_rates_csv, dtype={"county_code": str})
    out = csv_files.write_csv(rates, tmp_path / "county_rates.csv", demo=True)
    got = tables.read_county_rates(out)
    assert got["county_code"].tolist() == rates["county_code"].tolist()
    assert got["county_name"].tolist() == rates["county_name"].tolist()


# ----------------------------------------------------------------------------- workbook


def test_workbook_page_setup_is_a4_one_page_wide_with_repeated_headers(inputs, tmp_path):
    from openpyxl import load_workbook

    out = tables.write_workbook(
        inputs.county_rates_csv,
        inputs.target_comparison_csv,
        inputs.erosion_by_landcover_csv,
        tmp_path / "swc_tables.xlsx",
        demo=True,
    )
    wb = load_workbook(out)
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.paperSize == 9, ws.title  # 9 = A4 in the OOXML paper-size list
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ps.fitToWidth, ps.fitToHeight) == (1, 0)
        assert ws.print_title_rows in ("$1:$2", "$1:$1", "1:2", "1:1")
        assert "演示数据" in ws.oddHeader.center.text
        px = sum(7 * (ws.column_dimensions[c].width or 8.43) + 5 for c in _used_columns(ws))
        assert ps.orientation == ("landscape" if px > (8.27 - 1.0) * 96 else "portrait"), ws.title
    assert wb.worksheets[1].page_setup.orientation == "landscape"  # the 13-column grade table is wide


def _used_columns(ws):
    from openpyxl.utils import get_column_letter

    return [get_column_letter(j) for j in range(1, ws.max_column + 1)]


def _fonts_conf(tmp_path: Path) -> Path:
    """A fontconfig file adding the maps' Noto Sans CJK (from mplfonts) so LibreOffice has a CJK font."""
    from swc_raster.fonts import cjk_font_path

    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{cjk_font_path().parent}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return conf


def print_to_pdf(xlsx: Path, tmp_path: Path) -> Path:
    soffice = need_tool("soffice", "libreoffice")
    env = {**os.environ, "FONTCONFIG_FILE": str(_fonts_conf(tmp_path))}
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return tmp_path / (xlsx.stem + ".pdf")


def _pdf_pages(pdf: Path) -> list[tuple[tuple[float, float], str]]:
    need_tool("pdfinfo")
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True)
    sizes = [tuple(map(float, m)) for m in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info.stdout)]
    texts = []
    for i in range(1, len(sizes) + 1):
        texts.append(
            subprocess.run(
                ["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    return list(zip(sizes, texts))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_printed_workbook_is_a4_and_each_table_fits_the_page_width(inputs, tmp_path, lang):
    out = tables.write_workbook(
        inputs.county_rates_csv,
        inputs.target_comparison_csv,
        inputs.erosion_by_landcover_csv,
        tmp_path / "swc_tables.xlsx",
        lang=lang,
        demo=True,
    )
    pages = _pdf_pages(print_to_pdf(out, tmp_path))
    a4 = sorted((595.3, 841.9))
    for (w, h), _text in pages:
        assert sorted((round(w, 1), round(h, 1))) == a4
    rates = pd.read_csv(inputs.county_rates_csv, dtype={"county_code": str})
    comp = pd.read_csv(inputs.target_comparison_csv, dtype={"county_code": str})
    met = bool(comp.iloc[-1]["met_2035"])
    met_text = {"zh": "达标" if met else "未达标", "en": "met" if met else "not met"}[lang]
    # the region row of each wide table as printed: its first cell (the code) and its last cell, by hand
    rows = [
        ("140500", met_text),  # rates vs targets: last column is "met 2035"
        ("140500", f"{rates.iloc[-1]['gap_area_km2']:,.2f}"),  # area by grade: last column is the gap area
    ]
    for first, last in rows:
        hits = [t for _, t in pages if re.search(rf"^\s*{first}\b.*\s{re.escape(last)}\s*$", t, re.M)]
        assert hits, f"no printed page holds both the first ({first}) and last ({last!r}) cell of the region row"
    for _, text in pages:  # every page carries the demo banner in its header
        assert "DEMO DATA" in text


def test_printed_page_png_renders(inputs, tmp_path):
    """A page image for people to look at (kept in the test's tmp folder); poppler renders it."""
    need_tool("pdftoppm")
    out = tables.write_workbook(
        inputs.county_rates_csv,
        inputs.target_comparison_csv,
        inputs.erosion_by_landcover_csv,
        tmp_path / "swc_tables.xlsx",
        demo=True,
    )
    pdf = print_to_pdf(out, tmp_path)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image

    with Image.open(png) as im:
        assert im.width > im.height  # landscape
        assert np.asarray(im.convert("L")).min() < 100  # ink on the page


# ----------------------------------------------------------------------------- rasters


def _write(path: Path, array: np.ndarray, *, origin=(500_000.0, 4_000_000.0), res=30.0, nodata=255, crs=ALBERS):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=array.shape[1],
        height=array.shape[0],
        count=1,
        dtype=array.dtype,
        crs=crs,
        transform=from_origin(*origin, res, res),
        nodata=nodata,
    ) as dst:
        dst.write(array, 1)
    return path


def validate_cog(path: Path) -> None:
    """GDAL's own COG validator (osgeo_utils.samples.validate_cloud_optimized_geotiff, full check)."""
    python = need_system_module("osgeo_utils.samples.validate_cloud_optimized_geotiff")
    run = subprocess.run(
        [python, "-m", "osgeo_utils.samples.validate_cloud_optimized_geotiff", "--full-check=yes", str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "is a valid cloud optimized GeoTIFF" in run.stdout, run.stdout + run.stderr


def gdal_band_info(path: Path) -> dict:
    """Category names, RAT and colour table as GDAL (Debian's Python bindings) reads them."""
    python = need_system_module("osgeo.gdal")
    code = (
        "import json,sys; from osgeo import gdal; gdal.UseExceptions(); ds=gdal.Open(sys.argv[1]); "
        "b=ds.GetRasterBand(1); ct=b.GetColorTable(); rat=b.GetDefaultRAT(); "
        "cols=[rat.GetNameOfCol(i) for i in range(rat.GetColumnCount())] if rat else []; "
        "print(json.dumps({'categories': b.GetCategoryNames(), "
        "'colours': [list(ct.GetColorEntry(i)) for i in range(ct.GetCount())] if ct else None, "
        "'rat': [dict(zip(cols, [rat.GetValueAsString(r, c) for c in range(len(cols))])) "
        "for r in range(rat.GetRowCount())] if rat else None, 'overviews': b.GetOverviewCount(), "
        "'metadata': ds.GetMetadata(), 'crs': ds.GetSpatialRef().GetName()}, ensure_ascii=False))"
    )
    run = subprocess.run([python, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def test_grade_cog_from_two_batches_is_a_valid_cog_with_categories(tmp_path):
    rng = np.random.default_rng(1)
    west = rng.integers(0, 8, (300, 200)).astype("uint8")
    east = rng.integers(0, 8, (300, 180)).astype("uint8")
    west[:, -20:] = 255  # the west batch's empty border overlaps the east batch's data
    a = _write(tmp_path / "a.tif", west)
    b = _write(tmp_path / "b.tif", east, origin=(500_000.0 + 180 * 30, 4_000_000.0))
    out = gis_outputs.write_grade_cog([a, b], tmp_path / "out" / "erosion_grade.tif", blocksize=128, demo=True)
    expected = np.full((300, 360), 255, "uint8")
    expected[:, :200] = west
    expected[:, 180:] = np.where(east != 255, east, expected[:, 180:])  # nodata never covers data
    with rasterio.open(out) as cog:
        np.testing.assert_array_equal(cog.read(1), expected)
        assert cog.transform == from_origin(500_000.0, 4_000_000.0, 30, 30)
        assert cog.nodata == 255 and cog.overviews(1)
        assert cog.tags()["SWC_DEMO"] == "synthetic demo data, not real measurements"
        assert cog.tags()["GRADE_2"] == "轻度 / light"
        assert all(str(tmp_path) not in v for v in cog.tags().values())  # no machine paths
    validate_cog(out)
    info = gdal_band_info(out)
    assert info["categories"][:8] == ["无侵蚀数据", "微度", "轻度", "中度", "强烈", "极强烈", "剧烈", "数据缺失"]
    assert [r["name_en"] for r in info["rat"]] == [
        "no erosion data",
        "slight",
        "light",
        "moderate",
        "intense",
        "very intense",
        "severe",
        "data gap",
    ]
    assert info["colours"][3][:3] == [255, 170, 0] and info["colours"][255][3] == 0  # 中度 orange; nodata clear
    assert info["crs"] == "Albers Equal Area 105E 25N/47N (GRS 1980)"
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "erosion_grade.qml",
        "erosion_grade.tif",
        "erosion_grade.tif.aux.xml",
    ]


def test_named_crs_changes_only_the_name():
    from pyproj import CRS, Transformer

    named = gis_outputs.named_crs(ALBERS)
    assert named.name == "Albers Equal Area 105E 25N/47N (GRS 1980)"
    rio_albers = rasterio.crs.CRS.from_string(ALBERS)
    assert CRS(ALBERS).name == "unknown" and named.equals(CRS(ALBERS))
    assert rasterio.crs.CRS.from_wkt(named.to_wkt()) == rio_albers
    x, y = Transformer.from_crs("EPSG:4490", named, always_xy=True).transform(112.85, 35.5)
    x0, y0 = Transformer.from_crs("EPSG:4490", CRS(ALBERS), always_xy=True).transform(112.85, 35.5)
    assert (x, y) == (x0, y0)
    assert gis_outputs.named_crs("EPSG:4547").name == CRS("EPSG:4547").name  # named CRSs stay as they are


def test_mosaic_refuses_misaligned_batches(tmp_path):
    a = _write(tmp_path / "a.tif", np.ones((4, 4), "uint8"))
    b = _write(tmp_path / "b.tif", np.ones((4, 4), "uint8"), origin=(500_000.0 + 45.0, 4_000_000.0))
    with pytest.raises(InputError, match="line up"):
        gis_outputs.write_grade_cog([a, b], tmp_path / "g.tif")
    assert not (tmp_path / "g.tif").exists()


def test_landcover_cog_has_legend_names_colours_and_overviews(inputs, tmp_path):
    from swc_raster.maps import read_legend

    legend = pd.read_csv(REPO / "config" / "landcover_legend.csv")  # hand-checked: 1 耕地 … 8 其他土地
    out = gis_outputs.write_landcover_cog(
        inputs.landcover_tif,
        tmp_path / "landcover.tif",
        read_legend(inputs.legend_csv),
        lang="en",
        demo=True,
        blocksize=128,
    )
    with rasterio.open(out) as cog, rasterio.open(inputs.landcover_tif) as src:
        np.testing.assert_array_equal(cog.read(1), src.read(1))
        assert cog.overviews(1)
        assert cog.tags()["LANDCOVER_3"] == "林地 / Forest"
    validate_cog(out)
    info = gdal_band_info(out)
    assert info["categories"][1:9] == legend["name_en"].tolist()
    assert {r["name_zh"] for r in info["rat"]} >= set(legend["name_zh"])
    assert info["colours"][3][:3] == [0x2F, 0x7D, 0x32]  # 林地 in the maps' palette (#2F7D32)
    bad = tmp_path / "bad_lc.tif"
    _write(bad, np.array([[1, 9]], "uint8"), nodata=0)
    with pytest.raises(InputError, match=r"\[9\]"):
        gis_outputs.write_landcover_cog(bad, tmp_path / "lc2.tif", read_legend(inputs.legend_csv))


def test_change_map_is_a_cog_without_paths_and_published_with_categories(tmp_path):
    f = _write(tmp_path / "2021.tif", np.array([[1, 2, 3], [255, 0, 6]], "uint8"))
    t = _write(tmp_path / "2024.tif", np.array([[2, 2, 1], [255, 1, 6]], "uint8"))
    batch = transitions.change_map(f, t, tmp_path / "b" / "change.tif", year_from=2021, year_to=2024, demo=True)
    with rasterio.open(batch) as ds:
        # by hand: 1→2 worsened (3), 2→2 unchanged (2), 3→1 improved (1); outside both 255; 0→1 unknown 0
        np.testing.assert_array_equal(ds.read(1), [[3, 2, 1], [255, 0, 2]])
        assert (ds.tags()["SWC_YEAR_FROM"], ds.tags()["SWC_YEAR_TO"]) == ("2021", "2024")
        assert not any(str(tmp_path) in v or ".tif" in v for v in ds.tags().values())
        assert ds.tags()["SWC_DEMO"]
    validate_cog(batch)
    out = gis_outputs.write_change_cog(
        [batch], tmp_path / "change_2021_2024.tif", year_from=2021, year_to=2024, lang="en", demo=True
    )
    validate_cog(out)
    info = gdal_band_info(out)
    assert info["categories"][:4] == ["unknown", "improved", "unchanged", "worsened"]
    assert info["metadata"]["SWC_DEMO"] and info["metadata"]["CHANGE_1"] == "好转 / improved"


# ----------------------------------------------------------------------------- GeoPackage


def test_geopackage_has_demo_marker_named_crs_and_qgis_styles(inputs, tmp_path):
    import geopandas as gpd

    out = gis_outputs.write_counties_gpkg(
        inputs.counties_gpkg,
        inputs.county_rates_csv,
        inputs.target_comparison_csv,
        tmp_path / "counties.gpkg",
        demo=True,
    )
    gdf = gpd.read_file(out, layer="counties")
    assert set(gdf["data_status"]) == {"演示数据 demo data"}
    assert gpd.read_file(out, layer="region")["data_status"].tolist() == ["演示数据 demo data"]
    assert gdf.crs.name == "Albers Equal Area 105E 25N/47N (GRS 1980)"
    with sqlite3.connect(out) as con:
        styles = con.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles"
        ).fetchall()
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
        desc = dict(con.execute("SELECT table_name, description FROM gpkg_contents"))
    assert contents == {"counties": "features", "region": "features", "layer_styles": "attributes"}
    assert "演示数据" in desc["counties"]
    by_layer = {s[0]: s for s in styles}
    assert by_layer["counties"][1:3] == ("geom", 1) and 'attr="rate_pct"' in by_layer["counties"][3]


def test_qgis_opens_every_layer_styled(inputs, tmp_path):
    """Real QGIS (python3-qgis, offscreen): renderer type, class labels and colours, CRS name."""
    python = need_system_module("qgis.core")
    from swc_raster.maps import read_legend

    grade = gis_outputs.write_grade_cog(inputs.grade_tif, tmp_path / "erosion_grade.tif", blocksize=128)
    lc = gis_outputs.write_landcover_cog(
        inputs.landcover_tif, tmp_path / "landcover.tif", read_legend(inputs.legend_csv)
    )
    gpkg = gis_outputs.write_counties_gpkg(
        inputs.counties_gpkg, inputs.county_rates_csv, inputs.target_comparison_csv, tmp_path / "counties.gpkg"
    )
    script = tmp_path / "qgis_probe.py"
    script.write_text(QGIS_PROBE, encoding="utf-8")
    run = subprocess.run(
        [python, str(script), str(grade), str(lc), str(gpkg)],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    g = got[str(grade)]
    assert g["renderer"] == "paletted"
    assert [c[1] for c in g["classes"]] == [grading.GRADE_NAMES_ZH[c] for c in grading.ALL_CODES]  # 8, not 256
    assert g["classes"][2][2] == "#ffff73"  # 轻度 (255, 255, 115)
    assert g["crs"] == "Albers Equal Area 105E 25N/47N (GRS 1980)"
    legend = pd.read_csv(REPO / "config" / "landcover_legend.csv")
    assert [c[1] for c in got[str(lc)]["classes"]] == legend["name_zh"].tolist()
    counties = got[f"{gpkg}|counties"]
    rates = pd.read_csv(inputs.county_rates_csv)["rate_pct"][:-1]
    assert counties["renderer"] == "graduatedSymbol" and counties["attr"] == "rate_pct" and counties["labels"]
    lows = [r[0] for r in counties["ranges"]]
    assert lows[0] <= rates.min() and counties["ranges"][-1][1] >= rates.max()
    assert all(b - a == 5 for a, b in zip(lows, lows[1:]))  # the rate map's 5-pp classes for this range
    assert got[f"{gpkg}|region"]["renderer"] == "singleSymbol"


QGIS_PROBE = r"""
import json, os, sys
from qgis.core import QgsApplication, QgsRasterLayer, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for path in sys.argv[1:]:
    if path.endswith(".tif"):
        lyr = QgsRasterLayer(path, "r")
        r = lyr.renderer()
        out[path] = {"renderer": r.type(), "crs": lyr.crs().description(),
                     "classes": [[c.value, c.label, c.color.name()] for c in r.classes()] if r.type() == "paletted" else []}
    else:
        for name in ("counties", "region"):
            lyr = QgsVectorLayer(path + "|layername=" + name, name, "ogr")
            r = lyr.renderer()
            info = {"renderer": r.type(), "labels": lyr.labelsEnabled()}
            if r.type() == "graduatedSymbol":
                info["attr"] = r.classAttribute()
                info["ranges"] = [[x.lowerValue(), x.upperValue(), x.label()] for x in r.ranges()]
            out[path + "|" + name] = info
print(json.dumps(out, ensure_ascii=False), flush=True)
os._exit(0)  # QGIS 3.22 may crash in exitQgis() while tearing down layers; the answer is printed
"""
