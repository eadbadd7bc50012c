"""The by-process table (water, wind, total erosion) in the workbook, the report and the GeoPackage.

Inputs are written by hand: two counties (城区, 泽州县) and the region, with water, wind and
total rows whose numbers are chosen here (total = water + wind − overlap; the grades of the
total add up to its erosion area), plus a water-only variant.  Expected values are read back
from those CSVs with pandas, never from the code under test.
"""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from swc_raster import csv_files, gis_outputs, tables
from swc_raster.errors import InputError
from swc_raster.report import write_report
from tests._publish_fixtures import ALBERS
from tests.test_deliverables import _pdf_pages, need_system_module, print_to_pdf
from tests.test_publish import _HTMLTables

YEAR = 2023
COUNTIES = {"140502": "城区", "140525": "泽州县"}
REGION = ("140500", "晋城市")
PROCESS_NAMES = {
    "water": ("水力侵蚀", "water erosion"),
    "wind": ("风力侵蚀", "wind erosion"),
    "total": ("合计（水力、风力重叠只计一次）", "total (water and wind, overlap counted once)"),
}
#: (level, code): {process: (land, assessed, erosion, share %, grades 2–6, overlap)} — hand-chosen, consistent.
WIND_YEAR = {
    ("county", "140502"): {
        "water": (150.0, 150.0, 40.0, 26.666667, (20.0, 10.0, 5.0, 3.0, 2.0), None),
        "wind": (150.0, 150.0, 15.0, 10.0, (10.0, 4.0, 1.0, 0.0, 0.0), None),
        "total": (150.0, 150.0, 50.0, 33.333333, (27.0, 12.0, 6.0, 3.0, 2.0), 5.0),
    },
    ("county", "140525"): {
        "water": (2000.0, 2000.0, 700.0, 35.0, (300.0, 200.0, 100.0, 60.0, 40.0), None),
        "wind": (2000.0, 1980.0, 99.0, 5.0, (60.0, 30.0, 9.0, 0.0, 0.0), None),  # 20 km² outside the wind layer
        "total": (2000.0, 2000.0, 750.0, 37.5, (330.0, 225.0, 105.0, 60.0, 30.0), 49.0),
    },
    ("region", "140500"): {
        "water": (2150.0, 2150.0, 740.0, 34.418605, (320.0, 210.0, 105.0, 63.0, 42.0), None),
        "wind": (2150.0, 2130.0, 114.0, 5.352113, (70.0, 34.0, 10.0, 0.0, 0.0), None),
        "total": (2150.0, 2150.0, 800.0, 37.209302, (357.0, 237.0, 111.0, 63.0, 32.0), 54.0),
    },
}
#: The same counties with water erosion only: total = water, overlap 0.
WATER_YEAR = {key: {"water": procs["water"], "total": (*procs["water"][:5], 0.0)} for key, procs in WIND_YEAR.items()}
LIMITS = [
    {
        "zh": "侵蚀强度分级图输入：各县容许土壤流失量 T 不影响结果；无 T 敏感性分析；无侵蚀模数统计",
        "en": "Intensity-grade input: the counties' T does not change the result; no T sensitivity; "
        "no erosion-modulus statistics",
    }
]
METHOD = {
    "resolution_m": 30,
    "erosion_forms": {"water": "grades", "wind": "modulus"},
    "input_limits": LIMITS,
}


def _name(code: str) -> str:
    return COUNTIES.get(code, REGION[1])


def by_process_frame(spec: dict) -> pd.DataFrame:
    rows = []
    for (level, code), procs in spec.items():
        for process, (land, assessed, erosion, share, grades, overlap) in procs.items():
            rows.append(
                {
                    "year": YEAR,
                    "level": level,
                    "county_code": code,
                    "county_name": _name(code),
                    "process": process,
                    "process_name_zh": PROCESS_NAMES[process][0],
                    "process_name_en": PROCESS_NAMES[process][1],
                    "land_area_km2": land,
                    "assessed_area_km2": assessed,
                    "erosion_area_km2": erosion,
                    "erosion_share_pct": share,
                    **{f"area_grade{g}_km2": a for g, a in zip(range(2, 7), grades)},
                    "overlap_area_km2": overlap if overlap is not None else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def rates_frame(spec: dict) -> pd.DataFrame:
    """county_rates.csv for the same counties: erosion, grades and rate from the hand-made total rows."""
    rows = []
    for (level, code), procs in spec.items():
        land, _assessed, erosion, _share, grades, _overlap = procs["total"]
        rows.append(
            {
                "year": YEAR,
                "level": level,
                "county_code": code,
                "county_name": _name(code),
                "t_allowable_t_km2": 200.0,
                "land_area_km2": land,
                "erosion_area_km2": erosion,
                "rate_pct": 100.0 * (land - erosion) / land,
                "area_grade1_km2": land - erosion,
                **{f"area_grade{g}_km2": a for g, a in zip(range(2, 7), grades)},
                "nodata_area_km2": 0.0,
                "gap_area_km2": 0.0,
            }
        )
    return pd.DataFrame(rows)


def comparison_frame(rates: pd.DataFrame) -> pd.DataFrame:
    targets = {"140502": (76.86, 88.51), "140525": (64.83, 80.79), "140500": (67.61, 81.5)}
    out = rates[["year", "level", "county_code", "county_name", "rate_pct"]].copy()
    for i, y in enumerate((2025, 2035)):
        out[f"target_{y}_pct"] = [targets[c][i] for c in out["county_code"]]
        out[f"gap_{y}_pp"] = out["rate_pct"] - out[f"target_{y}_pct"]
        out[f"met_{y}"] = out[f"gap_{y}_pp"] >= 0
    return out


def landcover_frame(rates: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in rates[rates["level"] == "county"].iterrows():
        for grade, area in ((1, r["land_area_km2"] - r["erosion_area_km2"]), (2, r["erosion_area_km2"])):
            rows.append(
                {
                    "year": YEAR,
                    "county_code": r["county_code"],
                    "county_name": r["county_name"],
                    "landcover_code": 1,
                    "landcover_name_zh": "耕地",
                    "landcover_name_en": "cropland",
                    "grade_code": grade,
                    "grade_name_zh": "微度" if grade == 1 else "轻度",
                    "grade_name_en": "slight" if grade == 1 else "light",
                    "area_km2": area,
                }
            )
    return pd.DataFrame(rows)


def write_inputs(folder: Path, spec: dict, demo: bool = True) -> dict[str, Path]:
    """The year's CSVs (as the workflow writes them: write_csv, BOM, demo column) and county polygons."""
    folder.mkdir(parents=True, exist_ok=True)
    rates = rates_frame(spec)
    paths = {
        "process": csv_files.write_csv(by_process_frame(spec), folder / "erosion_by_process.csv", demo=demo),
        "rates": csv_files.write_csv(rates, folder / "county_rates.csv", demo=demo),
        "comparison": csv_files.write_csv(comparison_frame(rates), folder / "target_comparison.csv", demo=demo),
        "landcover": csv_files.write_csv(landcover_frame(rates), folder / "erosion_by_landcover.csv", demo=demo),
    }
    counties = gpd.GeoDataFrame(
        {
            "county_code": list(COUNTIES),
            "county_name": list(COUNTIES.values()),
            "county_name_en": ["Chengqu", "Zezhou"],
        },
        geometry=[box(600_000, 3_950_000, 612_000, 3_962_000), box(612_000, 3_930_000, 660_000, 3_975_000)],
        crs=ALBERS,
    )
    paths["counties"] = folder / "counties_in.gpkg"
    counties.to_file(paths["counties"], layer="counties", driver="GPKG")
    return paths


def read_published(path: Path) -> pd.DataFrame:
    """A published CSV read as any user's pandas would (BOM dropped, codes as text)."""
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"county_code": str})


@pytest.fixture(scope="module")
def wind_inputs(tmp_path_factory):
    return write_inputs(tmp_path_factory.mktemp("wind"), WIND_YEAR)


@pytest.fixture(scope="module")
def water_inputs(tmp_path_factory):
    return write_inputs(tmp_path_factory.mktemp("water"), WATER_YEAR)


def _workbook(paths: dict, out: Path, **kw) -> Path:
    return tables.write_workbook(
        paths["rates"], paths["comparison"], paths["landcover"], out, process_csv=paths["process"], **kw
    )


# ----------------------------------------------------------------------------- reading


def test_reader_orders_processes_and_refuses_unknown_values(wind_inputs, tmp_path):
    df = tables.read_erosion_by_process(wind_inputs["process"])
    assert df["process"].tolist() == ["water", "wind", "total"] * 3
    assert df["county_code"].tolist()[-1] == "140500" and tables.has_wind(df)
    bad = read_published(wind_inputs["process"])
    bad.loc[1, "process"] = "gravity"
    csv_files.write_csv(bad, tmp_path / "bad.csv", demo=False)
    with pytest.raises(InputError, match="gravity"):
        tables.read_erosion_by_process(tmp_path / "bad.csv")
    no_total = read_published(wind_inputs["process"])
    csv_files.write_csv(no_total[no_total["process"] != "total"], tmp_path / "no_total.csv", demo=False)
    with pytest.raises(InputError, match="lack a 'water' or 'total' row"):
        tables.read_erosion_by_process(tmp_path / "no_total.csv")


def test_a_total_that_differs_from_the_rates_is_refused(wind_inputs, water_inputs, tmp_path):
    # the water-only year's rates (lower erosion) with the wind year's by-process table: another run
    mixed = {**water_inputs, "process": wind_inputs["process"]}
    with pytest.raises(InputError, match="differs from county_rates.csv"):
        _workbook(mixed, tmp_path / "x.xlsx")
    with pytest.raises(InputError, match="differs from county_rates.csv"):
        gis_outputs.write_counties_gpkg(
            mixed["counties"], mixed["rates"], mixed["comparison"], tmp_path / "x.gpkg", process_csv=mixed["process"]
        )


# ----------------------------------------------------------------------------- workbook


def _sheet(ws) -> tuple[list[str], list[list]]:
    headers = [c.value for c in ws[2]]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3) if row[0].value and row[2].value]
    return headers, rows


ZH_HEADERS = [
    "行政区划代码",
    "县（市、区）",
    "侵蚀类型",
    "土地面积 (km²)",
    "参评面积 (km²)",
    "水土流失面积 (km²)",
    "水土流失面积占比 (%)",
    "轻度 (km²)",
    "中度 (km²)",
    "强烈 (km²)",
    "极强烈 (km²)",
    "剧烈 (km²)",
    "水力风力重叠面积 (km²)",
]
VALUE_COLUMNS = [
    "land_area_km2",
    "assessed_area_km2",
    "erosion_area_km2",
    "erosion_share_pct",
    *[f"area_grade{g}_km2" for g in range(2, 7)],
]


@pytest.mark.parametrize("variant", ["wind", "water"])
def test_workbook_process_sheet_equals_the_csv(wind_inputs, water_inputs, tmp_path, variant):
    from openpyxl import load_workbook

    paths = wind_inputs if variant == "wind" else water_inputs
    wb = load_workbook(_workbook(paths, tmp_path / "t.xlsx", demo=True, method=METHOD))
    assert wb.sheetnames[:3] == ["水土保持率与目标对比", "各县水土流失面积按强度分级", "按侵蚀类型"]
    ws = wb["按侵蚀类型"]
    assert "演示数据" in ws["A1"].value and "按侵蚀类型" in ws["A1"].value
    headers, rows = _sheet(ws)
    assert headers == ZH_HEADERS
    csv = read_published(paths["process"])
    assert len(rows) == len(csv) == (9 if variant == "wind" else 6)
    for got, (_, want) in zip(rows, csv.iterrows()):
        assert got[:3] == [want["county_code"], want["county_name"], want["process_name_zh"]]
        assert got[3:12] == [want[c] for c in VALUE_COLUMNS]
        overlap = got[12]
        assert overlap == (want["overlap_area_km2"] if want["process"] == "total" else None)
    region = [r for r in ws.iter_rows(min_row=3) if r[0].value == "140500"]
    assert region and all(c.font.bold for c in region[0])
    note = ws.cell(row=len(rows) + 4, column=1).value
    if variant == "water":
        assert "本年只有水力侵蚀数据（无风力侵蚀图层）" in note
    else:
        assert "合计 = 水力 + 风力 − 重叠" in note


def test_workbook_process_sheet_in_english(wind_inputs, tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(_workbook(wind_inputs, tmp_path / "t.xlsx", lang="en", method=METHOD))
    headers, rows = _sheet(wb["By process"])
    assert headers[2:7] == [
        "Process",
        "Land area (km²)",
        "Assessed area (km²)",
        "Erosion area (km²)",
        "Erosion share (%)",
    ]
    assert headers[-1] == "Water–wind overlap (km²)"
    assert [r[2] for r in rows[:3]] == [PROCESS_NAMES[p][1] for p in ("water", "wind", "total")]


def test_workbook_notes_open_with_the_input_limits(wind_inputs, tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(_workbook(wind_inputs, tmp_path / "t.xlsx", demo=True, method=METHOD))
    ws = wb["说明"]
    # row 2: the demo note; row 3: the limits, in red, before year, region and method
    assert "DEMO DATA" in ws["B2"].value
    assert ws["A3"].value == "注意：本年输入数据无法给出的结果" and ws["B3"].value == LIMITS[0]["zh"]
    assert ws["B3"].font.color.rgb.endswith("C00000") and ws["B3"].font.bold
    notes = {a.value: b.value for a, b in ws.iter_rows(min_row=2, max_col=2)}
    assert (
        notes["侵蚀数据形式 (erosion_forms)"] == "水力侵蚀：侵蚀强度分级图 (grades)；风力侵蚀：侵蚀模数栅格 (modulus)"
    )
    assert not any("input_limits" in str(k) for k in notes)  # shown once, at the top, not again as a raw record
    sources = " ".join(str(v) for k, v in notes.items() if str(k).startswith("源文件"))
    assert "erosion_by_process.csv" in sources


def test_workbook_without_limits_has_no_notice(wind_inputs, tmp_path):
    from openpyxl import load_workbook

    method = {**METHOD, "input_limits": []}
    wb = load_workbook(_workbook(wind_inputs, tmp_path / "t.xlsx", demo=False, method=method))
    assert "注意：本年输入数据无法给出的结果" not in [c.value for c in wb["说明"]["A"]]


def test_printed_process_sheet_is_one_page_wide(wind_inputs, tmp_path):
    """LibreOffice prints the new sheet on A4 with the region's total row whole (first and last cell)."""
    xlsx = _workbook(wind_inputs, tmp_path / "swc_tables.xlsx", demo=True, method=METHOD)
    pages = _pdf_pages(print_to_pdf(xlsx, tmp_path))
    process_pages = [t for _, t in pages if "按侵蚀类型" in t]
    assert process_pages, "no printed page carries the by-process title"
    csv = read_published(wind_inputs["process"]).set_index(["county_code", "process"])
    last = f"{csv.loc[('140500', 'total'), 'overlap_area_km2']:,.2f}"  # 54.00, the table's last column
    hits = [t for t in process_pages if re.search(rf"^\s*140500\b.*合计.*\s{re.escape(last)}\s*$", t, re.M)]
    assert hits, "the region's total row is not whole on one printed page"
    for header in ("侵蚀类型", "参评面积", "重叠面积"):
        assert any(header in t for t in process_pages)
    for (w, h), _ in pages:
        assert sorted((round(w, 1), round(h, 1))) == sorted((595.3, 841.9))


# ----------------------------------------------------------------------------- report


def _report(paths: dict, out: Path, method: dict, **kw) -> tuple[str, _HTMLTables]:
    write_report(
        out,
        year=YEAR,
        county_rates_csv=paths["rates"],
        target_comparison_csv=paths["comparison"],
        erosion_by_landcover_csv=paths["landcover"],
        map_pngs={},
        method=method,
        erosion_by_process_csv=paths["process"],
        **kw,
    )
    text = out.read_text(encoding="utf-8")
    parser = _HTMLTables()
    parser.feed(text)
    return text, parser


@pytest.mark.parametrize("variant", ["wind", "water"])
def test_report_process_table_shows_the_csv(wind_inputs, water_inputs, tmp_path, variant):
    paths = wind_inputs if variant == "wind" else water_inputs
    text, parser = _report(paths, tmp_path / "r.html", METHOD, demo=True)
    table = parser.tables["process-table"]
    assert table[0] == ZH_HEADERS
    csv = read_published(paths["process"])
    assert len(table) - 1 == len(csv)
    for got, (_, want) in zip(table[1:], csv.iterrows()):
        assert got[:3] == [want["county_code"], want["county_name"], want["process_name_zh"]]
        # printed with 2 decimals and thousands separators, as the other tables: 1,980.00
        assert got[3:12] == [f"{want[c]:,.2f}" for c in VALUE_COLUMNS]
        assert got[12] == (f"{want['overlap_area_km2']:,.2f}" if want["process"] == "total" else "—")
    # the section follows the grade table, and the region rows are bold
    assert text.index('id="grade-table"') < text.index('id="process-table"')
    assert re.search(r'<tr class="region"><td class="c">140500</td><td>晋城市</td><td>水力侵蚀</td>', text)
    summary = text[text.index('<ul id="summary-list">') :].split("</ul>")[0]
    # the region's rows of the hand-made table: 800 = 740 + 114 − 54
    split = "晋城市水土流失面积 800.00 km²：水力侵蚀 740.00 km²，风力侵蚀 114.00 km²，两者重叠 54.00 km² 只计一次"
    if variant == "water":
        assert "本年只有水力侵蚀数据（无风力侵蚀图层）" in text and "本年仅水力侵蚀" in text
        assert "风力侵蚀 " not in summary
    else:
        assert split in text[text.index('id="process-lead"') :] and split in summary
    assert "erosion_by_process.csv" in text  # listed with its checksum among the files used


def test_report_shows_input_limits_in_a_notice_above_the_contents(wind_inputs, tmp_path):
    text, parser = _report(wind_inputs, tmp_path / "r.html", METHOD, demo=True)
    assert "input-limits" in parser.ids
    box = text[text.index('id="input-limits"') : text.index("<nav>")]
    assert "注意：本年输入数据无法给出的结果" in box and LIMITS[0]["zh"] in box
    assert text.index('id="input-limits"') < text.index("<nav>") < text.index('id="summary"')
    assert "水力侵蚀：侵蚀强度分级图 (grades)；风力侵蚀：侵蚀模数栅格 (modulus)" in text
    assert "{'zh'" not in text  # the record is shown as sentences, never as a raw dict
    english, _ = _report(wind_inputs, tmp_path / "en.html", METHOD, lang="en")
    english = html.unescape(english)  # the apostrophes are escaped in the page
    assert LIMITS[0]["en"] in english and "Note: results this year's inputs cannot give" in english


def test_report_without_limits_has_no_notice(water_inputs, tmp_path):
    text, parser = _report(water_inputs, tmp_path / "r.html", {"resolution_m": 30, "input_limits": []})
    assert "input-limits" not in parser.ids


# ----------------------------------------------------------------------------- GeoPackage


def _gpkg(paths: dict, out: Path, **kw) -> Path:
    return gis_outputs.write_counties_gpkg(
        paths["counties"], paths["rates"], paths["comparison"], out, process_csv=paths["process"], **kw
    )


def test_geopackage_process_fields_equal_the_csv(wind_inputs, tmp_path):
    out = _gpkg(wind_inputs, tmp_path / "counties.gpkg", demo=True)
    csv = read_published(wind_inputs["process"]).set_index(["county_code", "process"])
    for layer in ("counties", "region"):
        gdf = gpd.read_file(out, layer=layer)
        for _, row in gdf.iterrows():
            code = row["county_code"]
            for process in ("water", "wind", "total"):
                assert row[f"{process}_erosion_km2"] == csv.loc[(code, process), "erosion_area_km2"]
            assert row["overlap_erosion_km2"] == csv.loc[(code, "total"), "overlap_area_km2"]
            for process in ("water", "wind"):
                for g in range(2, 7):
                    assert row[f"{process}_grade{g}_km2"] == csv.loc[(code, process), f"area_grade{g}_km2"]
        assert gdf["data_status"].tolist() == ["演示数据 demo data"] * len(gdf)  # still the last column
        assert gdf.columns[-2:].tolist() == ["data_status", "geometry"]
    assert sorted(gpd.read_file(out, layer="counties")["county_code"]) == sorted(COUNTIES)


def test_geopackage_wind_fields_are_null_without_a_wind_layer(water_inputs, tmp_path):
    out = _gpkg(water_inputs, tmp_path / "counties.gpkg")
    with sqlite3.connect(out) as con:
        rows = con.execute(
            "SELECT county_code, water_erosion_km2, wind_erosion_km2, wind_grade2_km2, wind_grade6_km2, "
            "total_erosion_km2 FROM counties ORDER BY county_code"
        ).fetchall()
    csv = read_published(water_inputs["process"]).set_index(["county_code", "process"])
    for code, water, wind, wind2, wind6, total in rows:
        assert (wind, wind2, wind6) == (None, None, None)
        assert water == csv.loc[(code, "water"), "erosion_area_km2"] == total


def test_geopackage_without_process_table_has_no_process_fields(wind_inputs, tmp_path):
    out = gis_outputs.write_counties_gpkg(
        wind_inputs["counties"], wind_inputs["rates"], wind_inputs["comparison"], tmp_path / "c.gpkg"
    )
    assert not set(gis_outputs.PROCESS_FIELDS) & set(gpd.read_file(out, layer="counties").columns)


def test_qgis_shows_the_fields_by_their_display_names(wind_inputs, tmp_path):
    """Real QGIS (python3-qgis, offscreen) reads the aliases from the default style and keeps the rate style."""
    python = need_system_module("qgis.core")
    gpkg = _gpkg(wind_inputs, tmp_path / "counties.gpkg", demo=True)
    script = tmp_path / "probe.py"
    script.write_text(QGIS_ALIAS_PROBE, encoding="utf-8")
    run = subprocess.run(
        [python, str(script), str(gpkg)],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    counties = got["counties"]
    assert counties["renderer"] == "graduatedSymbol" and counties["attr"] == "rate_pct"
    aliases = counties["aliases"]
    assert aliases["wind_erosion_km2"] == "风力侵蚀面积 (km²)"
    assert aliases["overlap_erosion_km2"] == "水力风力重叠面积 (km²)"
    assert aliases["water_grade3_km2"] == "水力侵蚀中度 (km²)"
    assert aliases["rate_pct"] == "水土保持率 (%)"
    assert got["region"]["aliases"]["total_erosion_km2"] == "水土流失面积合计 (km²)"
    assert got["region"]["renderer"] == "singleSymbol"


QGIS_ALIAS_PROBE = r"""
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in ("counties", "region"):
    lyr = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
    r = lyr.renderer()
    info = {"renderer": r.type(), "aliases": {f.name(): lyr.attributeAlias(i) for i, f in enumerate(lyr.fields())}}
    if r.type() == "graduatedSymbol":
        info["attr"] = r.classAttribute()
    out[name] = info
print(json.dumps(out, ensure_ascii=False), flush=True)
os._exit(0)  # QGIS 3.22 may crash in exitQgis() while tearing down layers; the answer is printed
"""
