"""Publishing: fonts, maps, workbook, GIS outputs and the HTML report, read back and
compared with the input tables (fixtures in ``_publish_fixtures.py``)."""

from __future__ import annotations

import math
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _publish_fixtures import COUNTIES, make_inputs, make_many_counties

from swc_raster import fonts, grading
from swc_raster.errors import InputError, InputFileError
from swc_raster.tables import format_value

YEAR = 2023
REPO_TARGETS = Path(__file__).resolve().parents[1] / "config" / "targets.csv"


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("publish_inputs"))


def _rates(inputs) -> pd.DataFrame:
    return pd.read_csv(inputs.county_rates_csv, dtype={"county_code": str})


def _comparison(inputs) -> pd.DataFrame:
    return pd.read_csv(inputs.target_comparison_csv, dtype={"county_code": str})


def _png_dpi(path: Path) -> float:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i = data.index(b"pHYs")
    ppm_x, _ppm_y, unit = struct.unpack(">IIB", data[i + 4 : i + 13])
    assert unit == 1  # metres
    return ppm_x * 0.0254


def _no_outputs(folder: Path, *names: str) -> None:
    for name in names:
        assert not (folder / name).exists(), f"{name} was left behind"
    leftovers = [p.name for p in folder.iterdir() if ".tmp" in p.name or ".partial" in p.name]
    assert not leftovers, f"temporary files left behind: {leftovers}"


class _HTMLTables(HTMLParser):
    """Collect tables by id (rows of cell texts), every src/href, and tag names."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.refs: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.ids: set[str] = set()
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("src", "href"):
            if key in a:
                self.refs.append((tag, key, a[key]))
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id", f"anon{len(self.tables)}"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


# ----------------------------------------------------------------------------- fonts


def test_cjk_font_is_the_mplfonts_file_and_resolves():
    path = fonts.cjk_font_path()
    assert path.is_file() and path.name == fonts.FONT_FILE and "mplfonts" in path.parts
    family = fonts.use_cjk_font(set_default=False)
    assert family == fonts.FONT_FAMILY
    from matplotlib.font_manager import FontProperties

    assert fonts.resolved_font_file(FontProperties(family=family)) == path


def test_font_covers_every_chinese_text_used(inputs):
    legend = pd.read_csv(inputs.legend_csv)
    texts = [
        *_rates(inputs)["county_name"],
        *grading.GRADE_NAMES_ZH.values(),
        *legend["name_zh"],
        "水土保持率与目标差距（百分点）达标未达标✓×≥ t/(km²·a) 演示数据 — 土壤侵蚀强度分级图 数据来源：",
    ]
    assert fonts.missing_glyphs("".join(texts)) == set()


def test_missing_glyph_is_reported_with_the_fix():
    rare = "\U00020000"  # CJK Extension B, not in Noto Sans CJK SC
    assert fonts.missing_glyphs(f"城区{rare}\n") == {rare}
    with pytest.raises(InputError) as err:
        fonts.check_drawable(["城区", f"{rare}县"], "county_name in boundaries.gpkg")
    msg = str(err.value)
    assert f"{rare}县" in msg and "U+20000" in msg and "county_name in boundaries.gpkg" in msg and "Fix:" in msg


# ----------------------------------------------------------------------------- maps


@pytest.fixture(scope="module")
def drawn(inputs, tmp_path_factory):
    from swc_raster import maps

    out = tmp_path_factory.mktemp("maps")
    kw = dict(year=YEAR, demo=True)
    return out, {
        "rate": maps.rate_map(inputs.county_rates_csv, inputs.counties_gpkg, out / "rate.png", out / "rate.pdf", **kw),
        "target_gap": maps.target_gap_map(
            inputs.target_comparison_csv, inputs.counties_gpkg, out / "gap.png", out / "gap.svg", **kw
        ),
        "grade": maps.grade_map(inputs.grade_tif, inputs.counties_gpkg, out / "grade.png", out / "grade.pdf", **kw),
        "landcover": maps.landcover_map(
            inputs.landcover_tif,
            inputs.legend_csv,
            inputs.counties_gpkg,
            out / "landcover.png",
            out / "landcover.pdf",
            **kw,
        ),
    }


def test_maps_are_written_at_300_dpi_with_vector_copies(drawn):
    _, results = drawn
    for result in results.values():
        assert result.png.is_file() and abs(_png_dpi(result.png) - 300) < 1
        head = result.vector.read_bytes()[:200]
        assert head.startswith(b"%PDF") if result.vector.suffix == ".pdf" else b"<svg" in head or b"<?xml" in head


def test_maps_use_only_the_cjk_font_and_every_glyph_exists(drawn):
    _, results = drawn
    for result in results.values():
        assert result.font_files == {fonts.cjk_font_path()}
        assert fonts.missing_glyphs("".join(result.texts)) == set()
        assert any("演示数据 DEMO DATA" in t for t in result.texts)


def test_rate_map_labels_match_the_table(inputs, drawn):
    _, results = drawn
    rate = results["rate"]
    rates = _rates(inputs)
    counties = rates[rates["level"] == "county"]
    assert sorted(rate.labelled) == sorted(counties["county_name"]) and not rate.unlabelled
    joined = "\n".join(rate.texts)
    for _, r in counties.iterrows():
        assert f"{r['county_name']}\n{format_value(r['rate_pct'], 'pct')}%" in joined
    region = rates[rates["level"] == "region"].iloc[0]
    assert f"{format_value(region['rate_pct'], 'pct')}%" in joined
    assert f"{YEAR}年" in joined


def test_gap_map_marks_met_and_missed_targets(inputs, drawn):
    _, results = drawn
    joined = "\n".join(results["target_gap"].texts)
    comp = _comparison(inputs)
    for y in (2025, 2035):
        for _, r in comp[comp["level"] == "county"].iterrows():
            mark = "✓" if r[f"met_{y}"] else "×"
            assert f"{r['county_name']}\n{format_value(r[f'gap_{y}_pp'], 'gap')} {mark}" in joined
        n_met = int(comp[(comp["level"] == "county")][f"met_{y}"].sum())
        assert f"对照{y}年目标：{len(COUNTIES)} 个县中 {n_met} 个达标" in joined


def test_grade_and_landcover_legends(drawn, inputs):
    _, results = drawn
    grade_text = "\n".join(results["grade"].texts)
    for g in range(1, 7):
        assert grading.GRADE_NAMES_ZH[g] in grade_text
    lc_text = "\n".join(results["landcover"].texts)
    for name in pd.read_csv(inputs.legend_csv)["name_zh"]:
        assert name in lc_text


def test_landcover_class_missing_from_legend_raises(inputs, tmp_path):
    from swc_raster import maps

    legend = pd.read_csv(inputs.legend_csv)
    short = tmp_path / "legend.csv"
    legend[legend["code"] != 8].to_csv(short, index=False)
    with pytest.raises(InputError, match=r"\[8\].*not in the legend"):
        maps.landcover_map(
            inputs.landcover_tif, short, inputs.counties_gpkg, tmp_path / "lc.png", tmp_path / "lc.pdf", year=YEAR
        )
    _no_outputs(tmp_path, "lc.png", "lc.pdf")


def test_county_name_the_font_cannot_draw_raises(tmp_path):
    from swc_raster import maps

    rare = "\U00020000"
    bad = make_inputs(tmp_path / "in", name_override={"140502": f"{rare}区"})
    with pytest.raises(InputError) as err:
        maps.rate_map(bad.county_rates_csv, bad.counties_gpkg, tmp_path / "r.png", tmp_path / "r.pdf", year=YEAR)
    assert f"{rare}区" in str(err.value) and "U+20000" in str(err.value)
    _no_outputs(tmp_path, "r.png", "r.pdf")


def test_a_failing_map_leaves_no_file(inputs, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from swc_raster import maps

    real = Figure.savefig
    calls = []

    def flaky(self, fname, *args, **kwargs):
        calls.append(fname)
        real(self, fname, *args, **kwargs)  # the PNG is fully written …
        if len(calls) == 2:
            raise OSError("disk full")  # … and the PDF fails

    monkeypatch.setattr(Figure, "savefig", flaky)
    with pytest.raises(OSError, match="disk full"):
        maps.rate_map(
            inputs.county_rates_csv, inputs.counties_gpkg, tmp_path / "rate.png", tmp_path / "rate.pdf", year=YEAR
        )
    assert len(calls) == 2
    _no_outputs(tmp_path, "rate.png", "rate.pdf")


def test_table_and_counties_must_match(inputs, tmp_path):
    from swc_raster import maps

    rates = _rates(inputs)
    rates.loc[0, "county_code"] = "149999"
    csv = tmp_path / "county_rates.csv"
    rates.to_csv(csv, index=False)
    with pytest.raises(InputError, match="149999"):
        maps.rate_map(csv, inputs.counties_gpkg, tmp_path / "r.png", tmp_path / "r.pdf", year=YEAR)


def test_raster_is_read_as_a_small_overview(inputs):
    from swc_raster.maps import read_overview

    array, transform, _, _ = read_overview(inputs.grade_tif, max_size=40)
    assert max(array.shape) <= 40
    assert set(np.unique(array)) <= set(grading.ALL_CODES) | {grading.OUTSIDE}  # mode keeps real codes
    import rasterio

    with rasterio.open(inputs.grade_tif) as src:
        assert math.isclose(transform.c, src.transform.c) and math.isclose(transform.f, src.transform.f)
        assert math.isclose(transform.a * array.shape[1], src.transform.a * src.width)


def test_class_breaks_are_round():
    from swc_raster.maps import classify, nice_breaks, symmetric_breaks

    assert list(nice_breaks([62.45, 69.99, 81.25])) == [60, 65, 70, 75, 80, 85]
    assert list(nice_breaks([30.0, 95.0])) == [30, 40, 50, 60, 70, 80, 90, 100]
    b = symmetric_breaks([-18.3, 4.4, 8.2])
    assert b[len(b) // 2] == 0 and b[0] == -b[-1] and b[0] < -18.3
    assert list(classify([60.0, 64.99, 65.0, 85.0, float("nan")], nice_breaks([60, 85]))) == [0, 0, 1, 4, -1]


def _overlap(a, b, tol: float = 0.0) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


def _assert_clean_layout(result) -> None:
    """Nothing drawn over anything else: legend column, labels, note, all inside the figure."""
    boxes = result.boxes
    fig = boxes["figure"][0]
    for key, items in boxes.items():
        for b in items:
            assert b[0] >= -0.01 and b[1] >= -0.01 and b[2] <= fig[2] + 0.01 and b[3] <= fig[3] + 0.01, (key, b)
    column = {k: boxes[k][0] for k in ("legend", "north_arrow", "scale_bar")}
    for a, b in ((a, b) for i, a in enumerate(column) for b in list(column)[i + 1 :]):
        assert not _overlap(column[a], column[b]), f"{a} overlaps {b} in {result.png.name}"
    for key, box in column.items():
        for frame in boxes["maps"]:
            assert not _overlap(box, frame), f"{key} overlaps a map frame in {result.png.name}"
    for frame in boxes["maps"]:
        assert not _overlap(boxes["note"][0], frame) and not _overlap(boxes["title"][0], frame)
    labels = boxes["labels"]
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not _overlap(a, b, tol=0.005), f"two labels overlap in {result.png.name}"


@pytest.fixture(scope="module")
def jincheng(tmp_path_factory):
    """All six Jincheng counties (城区 is small and lies inside 泽州县), as in the demo."""
    import geopandas as gpd
    from _publish_fixtures import BOUNDARIES

    codes = tuple(gpd.read_file(BOUNDARIES, layer="counties")["county_code"])
    return make_inputs(tmp_path_factory.mktemp("jincheng"), codes=codes)


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    return make_many_counties(tmp_path_factory.mktemp("province"), n=117)


def test_map_layout_never_overlaps(drawn):
    _, results = drawn
    for result in results.values():
        _assert_clean_layout(result)


def test_small_county_gets_name_and_value_on_both_maps(jincheng, tmp_path):
    """城区 is small: it must still carry its name and value (smaller font or a leader line)."""
    from swc_raster import maps

    rate = maps.rate_map(
        jincheng.county_rates_csv, jincheng.counties_gpkg, tmp_path / "r.png", tmp_path / "r.pdf", year=YEAR, demo=True
    )
    gap = maps.target_gap_map(
        jincheng.target_comparison_csv,
        jincheng.counties_gpkg,
        tmp_path / "g.png",
        tmp_path / "g.pdf",
        year=YEAR,
        demo=True,
    )
    rates, comp = _rates(jincheng), _comparison(jincheng)
    counties = rates[rates["level"] == "county"]
    assert len(counties) == 6
    for result in (rate, gap):
        assert sorted(result.labelled) == sorted(counties["county_name"]) and not result.unlabelled
        assert not any("未标注" in t for t in result.texts)
        _assert_clean_layout(result)
    chengqu = counties[counties["county_code"] == "140502"].iloc[0]
    assert f"城区\n{format_value(chengqu['rate_pct'], 'pct')}%" in rate.texts
    c = comp[comp["county_code"] == "140502"].iloc[0]
    for y in (2025, 2035):
        mark = "✓" if c[f"met_{y}"] else "×"
        assert f"城区\n{format_value(c[f'gap_{y}_pp'], 'gap')} {mark}" in gap.texts
    # The gap map's ten legend entries fit between the north arrow and the scale bar.
    legend, scale = gap.boxes["legend"][0], gap.boxes["scale_bar"][0]
    assert legend[1] > scale[3]


def test_every_county_is_labelled_up_to_sixty(tmp_path):
    """40 counties, many small: all labelled, some with leader lines, none overlapping."""
    from swc_raster import maps

    many = make_many_counties(tmp_path / "forty", n=40)
    rate = maps.rate_map(many.county_rates_csv, many.counties_gpkg, tmp_path / "p.png", tmp_path / "p.pdf", year=YEAR)
    gap = maps.target_gap_map(
        many.target_comparison_csv, many.counties_gpkg, tmp_path / "g.png", tmp_path / "g.pdf", year=YEAR
    )
    for result in (rate, gap):
        assert len(result.labelled) == 40 and not result.unlabelled
        _assert_clean_layout(result)
    # The gap map's panels are narrower: its smallest counties need leader lines.
    assert gap.boxes["leaders"], "expected leader lines for the smallest counties"


def test_maps_stay_readable_with_a_province_of_counties(province, tmp_path):
    from swc_raster import maps

    many = province
    result = maps.rate_map(many.county_rates_csv, many.counties_gpkg, tmp_path / "p.png", tmp_path / "p.pdf", year=YEAR)
    assert len(result.labelled) + len(result.unlabelled) == 117
    assert len(result.labelled) >= 100
    _assert_clean_layout(result)
    gap = maps.target_gap_map(
        many.target_comparison_csv, many.counties_gpkg, tmp_path / "g.png", tmp_path / "g.pdf", year=YEAR, demo=True
    )
    assert len(gap.labelled) + len(gap.unlabelled) == 117 and len(gap.labelled) >= 80
    _assert_clean_layout(gap)
    # Counties left without a label are named in the map's note.
    for r in (result, gap):
        note = "".join(t for t in r.texts if "未标注" in t).replace("\n", "")
        assert bool(note) == bool(r.unlabelled)
        for name in r.unlabelled:
            assert name in note


# ----------------------------------------------------------------------------- workbook


@pytest.fixture(scope="module")
def workbook(inputs, tmp_path_factory):
    from openpyxl import load_workbook

    from swc_raster.tables import write_workbook

    out = tmp_path_factory.mktemp("xlsx") / "bulletin.xlsx"
    write_workbook(
        inputs.county_rates_csv,
        inputs.target_comparison_csv,
        inputs.erosion_by_landcover_csv,
        out,
        demo=True,
        method={
            "analysis_crs": "Albers (CGCS2000 ellipsoid)",
            "resolution_m": 500,
            "allowable_loss_t_km2": {"140502 城区": 200.0},
            "inputs": {"boundaries": str(inputs.counties_gpkg)},
        },
    )
    return load_workbook(out)


def _sheet_rows(ws):
    headers = [c.value for c in ws[2]]
    rows = [[c for c in row] for row in ws.iter_rows(min_row=3) if row[0].value is not None and row[1].value]
    return headers, rows


def test_workbook_sheets_headers_and_formats(workbook):
    assert workbook.sheetnames[:3] == ["水土保持率与目标对比", "各县水土流失面积按强度分级", "按土地利用类型"]
    assert "说明" in workbook.sheetnames
    ws = workbook["水土保持率与目标对比"]
    headers, rows = _sheet_rows(ws)
    assert headers[:5] == [
        "行政区划代码",
        "县（市、区）",
        "土地面积 (km²)",
        "水土流失面积 (km²)",
        f"{YEAR}年水土保持率 (%)",
    ]
    assert "2025年目标 (%)" in headers and "与2035年目标差距 (百分点)" in headers
    assert ws.freeze_panes == "C3"
    assert "演示数据" in ws["A1"].value
    assert rows[0][2].number_format == "#,##0.00" and rows[0][4].number_format == "#,##0.00"
    region = rows[-1]
    assert region[1].value == "晋城市" and region[0].font.bold and not rows[0][0].font.bold
    assert ws.column_dimensions["B"].width >= 8


def test_workbook_values_equal_the_tables(workbook, inputs):
    rates = _rates(inputs).set_index("county_code")
    comp = _comparison(inputs).set_index("county_code")
    headers, rows = _sheet_rows(workbook["水土保持率与目标对比"])
    col = {h: i for i, h in enumerate(headers)}
    assert [r[0].value for r in rows] == list(comp.index)
    for r in rows:
        code = r[0].value
        assert r[1].value == comp.loc[code, "county_name"]
        assert r[col[f"{YEAR}年水土保持率 (%)"]].value == pytest.approx(comp.loc[code, "rate_pct"])
        assert r[col["土地面积 (km²)"]].value == pytest.approx(rates.loc[code, "land_area_km2"])
        for y in (2025, 2035):
            assert r[col[f"{y}年目标 (%)"]].value == pytest.approx(comp.loc[code, f"target_{y}_pct"])
            assert r[col[f"与{y}年目标差距 (百分点)"]].value == pytest.approx(comp.loc[code, f"gap_{y}_pp"])
            assert r[col[f"{y}年是否达标"]].value == ("达标" if comp.loc[code, f"met_{y}"] else "未达标")

    headers, rows = _sheet_rows(workbook["各县水土流失面积按强度分级"])
    col = {h: i for i, h in enumerate(headers)}
    for r in rows:
        code = r[0].value
        for g in range(1, 7):
            assert r[col[f"{grading.GRADE_NAMES_ZH[g]} (km²)"]].value == pytest.approx(
                rates.loc[code, f"area_grade{g}_km2"]
            )
        assert r[col["水土流失面积合计 (km²)"]].value == pytest.approx(rates.loc[code, "erosion_area_km2"])

    # Erosion by land use adds up to each county's erosion area.
    headers, rows = _sheet_rows(workbook["按土地利用类型"])
    assert "耕地 (km²)" in headers and "林地 (km²)" in headers
    for r in rows:
        total = r[-1].value
        assert total == pytest.approx(rates.loc[r[0].value, "erosion_area_km2"])
        assert sum(c.value for c in r[2:-1]) == pytest.approx(total)


def test_workbook_notes_record_t_and_demo(workbook):
    notes = "\n".join(f"{a.value} {b.value}" for a, b in workbook["说明"].iter_rows(min_row=2, max_col=2))
    assert "140581 高平市: 1,000" in notes and "140502 城区: 200" in notes
    assert "DEMO DATA" in notes and "SHA-256" in notes and "分析格网分辨率 (m) (resolution_m) 500" in notes
    assert "分析坐标系 (analysis_crs)" in notes and "140502 城区: 200" in notes and "200.0" not in notes


def test_workbook_notes_checksum_every_input(workbook, inputs):
    from swc_raster.tables import file_sha256

    notes = {a.value: b.value for a, b in workbook["说明"].iter_rows(min_row=2, max_col=2)}
    row = notes["输入数据 行政区界 (boundaries)"]
    assert str(inputs.counties_gpkg) in row and file_sha256(inputs.counties_gpkg) in row


def test_workbook_in_english(inputs, tmp_path):
    from openpyxl import load_workbook

    from swc_raster.tables import write_workbook

    out = write_workbook(
        inputs.county_rates_csv,
        inputs.target_comparison_csv,
        inputs.erosion_by_landcover_csv,
        tmp_path / "en.xlsx",
        lang="en",
    )
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Rates vs targets"
    headers = [c.value for c in wb["Rates vs targets"][2]]
    assert "Land area (km²)" in headers and "2025 target met" in headers
    assert "DEMO" not in (wb["Rates vs targets"]["A1"].value or "")
    _no_outputs(tmp_path)


# ----------------------------------------------------------------------------- GIS outputs


def test_counties_geopackage_carries_every_attribute(inputs, tmp_path):
    import geopandas as gpd
    import pyogrio

    from swc_raster.gis_outputs import write_counties_gpkg

    out = write_counties_gpkg(
        inputs.counties_gpkg, inputs.county_rates_csv, inputs.target_comparison_csv, tmp_path / "counties.gpkg"
    )
    # The QGIS styles travel in the GeoPackage's layer_styles table (tests/test_deliverables.py reads them).
    assert {name for name, _ in pyogrio.list_layers(out)} == {"counties", "region", "layer_styles"}
    gdf = gpd.read_file(out, layer="counties").set_index("county_code")
    rates = _rates(inputs).set_index("county_code")
    comp = _comparison(inputs).set_index("county_code")
    for code in COUNTIES:
        assert gdf.loc[code, "county_name"] == rates.loc[code, "county_name"]  # Chinese intact (UTF-8)
        for column in rates.columns:
            if column in ("level", "county_name", "year"):
                continue
            expected = rates.loc[code, column]
            assert gdf.loc[code, column] == pytest.approx(expected, nan_ok=True), column
        for y in (2025, 2035):
            assert gdf.loc[code, f"gap_{y}_pp"] == pytest.approx(comp.loc[code, f"gap_{y}_pp"])
            assert gdf.loc[code, f"met_{y}"] == int(comp.loc[code, f"met_{y}"])
    assert set(gdf["county_name_en"]) == {"Chengqu", "Zezhou", "Gaoping"}
    assert gdf.crs.equals(gpd.read_file(inputs.counties_gpkg).crs)
    region = gpd.read_file(out, layer="region")
    assert region.loc[0, "county_name"] == "晋城市"
    assert region.loc[0, "rate_pct"] == pytest.approx(rates.loc["140500", "rate_pct"])


def test_grade_cog_has_overviews_and_colour_table(inputs, tmp_path):
    import rasterio

    from swc_raster.gis_outputs import write_grade_cog

    out = write_grade_cog(inputs.grade_tif, tmp_path / "erosion_grade_cog.tif", blocksize=64)
    with rasterio.open(out) as cog, rasterio.open(inputs.grade_tif) as src:
        assert cog.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert cog.overviews(1), "no internal overviews"
        assert cog.block_shapes[0] == (64, 64) and cog.nodata == grading.OUTSIDE
        cmap = cog.colormap(1)
        for code, rgb in grading.GRADE_COLOURS.items():
            assert cmap[code][:3] == rgb
        assert np.array_equal(cog.read(1), src.read(1))
        assert cog.crs == src.crs and cog.transform == src.transform
        overview = cog.read(1, out_shape=(cog.height // cog.overviews(1)[0], cog.width // cog.overviews(1)[0]))
        assert set(np.unique(overview)) <= set(grading.ALL_CODES) | {grading.OUTSIDE}
        assert "微度" in cog.tags()["GRADE_1"]
    _no_outputs(tmp_path)


# ----------------------------------------------------------------------------- report


@pytest.fixture(scope="module")
def report(inputs, drawn, tmp_path_factory):
    from swc_raster.report import write_report

    folder = tmp_path_factory.mktemp("report")
    _, maps_out = drawn
    by_year = folder / "rates_by_year.csv"
    pd.DataFrame(
        {
            "year": [2021, 2022, 2023],
            "county_code": ["140500"] * 3,
            "county_name": ["晋城市"] * 3,
            "rate_pct": [63.1234, 64.5, 65.689057],
        }
    ).to_csv(by_year, index=False)
    method = {
        "crs": "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=GRS80 +units=m",
        "resolution_m": 500,
        "allowable_loss": {"default_t_km2": 200, "by_county": {"140581": 1000}},
        "erosion_unit": "t/km2/a",
        "inputs": {
            "erosion_grade": str(inputs.grade_tif),
            "landcover": str(inputs.landcover_tif),
            "boundaries": str(inputs.counties_gpkg),
        },
    }
    out = write_report(
        folder / "report.html",
        year=YEAR,
        county_rates_csv=inputs.county_rates_csv,
        target_comparison_csv=inputs.target_comparison_csv,
        erosion_by_landcover_csv=inputs.erosion_by_landcover_csv,
        map_pngs={k: r.png for k, r in maps_out.items()},
        method=method,
        demo=True,
        multi_year={"rates_by_year": by_year, "charts": {"历年水土保持率图": maps_out["rate"].png}},
    )
    text = out.read_text(encoding="utf-8")
    parser = _HTMLTables()
    parser.feed(text)
    return text, parser, method


def test_report_is_self_contained(report):
    text, parser, _ = report
    assert parser.refs, "no images embedded"
    for _tag, key, value in parser.refs:
        if key == "src":
            assert value.startswith("data:image/png;base64,"), value[:60]
        else:
            assert value.startswith("#"), value
    assert "link" not in parser.tags and "script" not in parser.tags
    assert "http://" not in text and "https://" not in text
    assert sum(1 for tag, key, _ in parser.refs if tag == "img") == 5  # 4 maps + 1 chart


def test_report_tables_match_the_csvs(report, inputs):
    _, parser, _ = report
    rates = _rates(inputs)
    table = parser.tables["county-table"]
    header, body = table[0], table[1:]
    assert header[:2] == ["行政区划代码", "县（市、区）"] and "水土保持率 (%)" in header
    col = header.index("水土保持率 (%)")
    assert [row[0] for row in body] == list(rates["county_code"])
    for row, (_, r) in zip(body, rates.iterrows()):
        assert row[1] == r["county_name"]
        assert row[col] == format_value(r["rate_pct"], "pct")
        assert row[header.index("土地面积 (km²)")] == format_value(r["land_area_km2"], "area")
    comp = _comparison(inputs)
    table = parser.tables["target-table"]
    header, body = table[0], table[1:]
    for row, (_, r) in zip(body, comp.iterrows()):
        for y in (2025, 2035):
            assert row[header.index(f"与{y}年目标差距 (百分点)")] == format_value(r[f"gap_{y}_pp"], "gap")
            assert row[header.index(f"{y}年是否达标")] == ("达标" if r[f"met_{y}"] else "未达标")
    assert {"grade-table", "landuse-table", "t-table", "multi-1"} <= set(parser.tables)


def test_report_summary_method_and_banner(report, inputs):
    text, parser, method = report
    comp = _comparison(inputs)
    n_met = int(comp[comp["level"] == "county"]["met_2025"].sum())
    assert f"对照2025年目标：3 个县（市、区）中 {n_met} 个达标" in text
    assert "demo-banner" in parser.ids and "演示数据 DEMO DATA" in text
    from swc_raster.tables import file_sha256

    for path in method["inputs"].values():
        assert file_sha256(path) in text
    assert file_sha256(inputs.county_rates_csv) in text
    for key in ("crs", "resolution_m", "allowable_loss", "erosion_unit", "default_t_km2", "by_county"):
        assert key in text
    assert method["crs"] in text
    for software in ("swc-raster", "python", "rasterio", "GDAL", "numpy", "geopandas", "snakemake"):
        assert f"<dt>{software}</dt>" in text
    t_rows = {row[0]: row[2] for row in parser.tables["t-table"][1:]}
    assert t_rows == {"140502": "200", "140525": "200", "140581": "1,000"}
    # rates by year: one row per county, one column per year, then the change
    assert parser.tables["multi-1"][0] == [
        "行政区划代码",
        "县（市、区）",
        "2021年",
        "2022年",
        "2023年",
        "2021–2023年变化 (百分点)",
    ]
    assert parser.tables["multi-1"][1] == ["140500", "晋城市", "63.12", "64.50", "65.69", "+2.57"]


def test_report_in_english_and_missing_map(inputs, drawn, tmp_path):
    from swc_raster.report import write_report

    _, maps_out = drawn
    common = dict(
        year=YEAR,
        county_rates_csv=inputs.county_rates_csv,
        target_comparison_csv=inputs.target_comparison_csv,
        erosion_by_landcover_csv=inputs.erosion_by_landcover_csv,
        method={"resolution_m": 500},
    )
    out = write_report(tmp_path / "en.html", map_pngs={"rate": maps_out["rate"].png}, lang="en", **common)
    parser = _HTMLTables()
    parser.feed(out.read_text(encoding="utf-8"))
    assert "Conservation rate (%)" in parser.tables["county-table"][0]
    assert "demo-banner" not in parser.ids
    with pytest.raises(InputFileError):
        write_report(tmp_path / "bad.html", map_pngs={"rate": tmp_path / "missing.png"}, **common)
    _no_outputs(tmp_path, "bad.html")


def test_report_embeds_the_cjk_font_subset(report):
    """Chinese must show on a machine without CJK fonts: the maps' font is embedded, subset."""
    import base64
    import html
    import io
    import re

    from fontTools.ttLib import TTFont

    text, _, _ = report
    m = re.search(r'@font-face\{font-family:"swc-cjk";[^}]*url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)', text)
    assert m, "no embedded font"
    font = TTFont(io.BytesIO(base64.b64decode(m.group(1))))
    cmap = set(font.getBestCmap())
    body = html.unescape(re.sub(r"data:[a-z/+-]+;base64,[A-Za-z0-9+/=]+", "", text))
    needed = {ch for ch in body if ord(ch) > 127 and not fonts.missing_glyphs(ch)}
    assert needed and {ord(ch) for ch in needed} <= cmap
    assert '"swc-cjk"' in text.split("body{font-family:", 1)[1].split(";", 1)[0]
    assert len(m.group(1)) < 1_000_000  # a subset, not the 16 MB font


def test_report_multi_year_section_in_chinese(inputs, drawn, tmp_path):
    from swc_raster import progress
    from swc_raster.report import write_report

    _, maps_out = drawn
    base = _rates(inputs)
    years = []
    for year in (2021, 2022, YEAR):
        t = base.copy()
        t["year"] = year
        t["rate_pct"] = t["rate_pct"] - (YEAR - year) * (0.5 + 0.1 * np.arange(len(t)))
        years.append(t)
    long = progress.rates_by_year(years)
    by_year, prog = tmp_path / "rates_by_year.csv", tmp_path / "progress.csv"
    long.to_csv(by_year, index=False)
    table = progress.progress(long, pd.read_csv(REPO_TARGETS, dtype={"county_code": str}))
    table.to_csv(prog, index=False)
    out = write_report(
        tmp_path / "report.html",
        year=YEAR,
        county_rates_csv=inputs.county_rates_csv,
        target_comparison_csv=inputs.target_comparison_csv,
        erosion_by_landcover_csv=inputs.erosion_by_landcover_csv,
        map_pngs={"rate": maps_out["rate"].png},
        method={"resolution_m": 500},
        multi_year={"rates_by_year": by_year, "progress": prog, "charts": {"图表": maps_out["rate"].png}},
    )
    parser = _HTMLTables()
    parser.feed(out.read_text(encoding="utf-8"))
    pivot = parser.tables["multi-1"]
    assert pivot[0][2:] == ["2021年", "2022年", f"{YEAR}年", f"2021–{YEAR}年变化 (百分点)"]
    assert [r[0] for r in pivot[1:]] == list(base["county_code"])  # counties, then the region
    for row, (_, r) in zip(pivot[1:], long[long["year"] == YEAR].iterrows()):
        assert row[4] == format_value(r["rate_pct"], "pct")
    prog_table = parser.tables["multi-2"]
    header, body = prog_table[0], prog_table[1:]
    assert not any("_" in h for h in header), header  # no raw column names
    assert "趋势 (百分点/年)" in header and "2025年目标进展" in header and "2035年目标进展" in header
    assert [row[0] for row in body] == list(table["county_code"])
    for row, (_, r) in zip(body, table.iterrows()):
        assert row[header.index(f"{YEAR}年水土保持率 (%)")] == format_value(r["latest_rate_pct"], "pct")
        assert row[header.index("趋势 (百分点/年)")] == format_value(r["trend_pp_per_year"], "gap")
        for y in (2025, 2035):
            assert row[header.index(f"{y}年目标进展")] == progress.STATUS_NAMES_ZH[r[f"status_{y}"]]
            assert row[header.index(f"按趋势预计{y}年 (%)")] == format_value(r[f"projected_{y}_pct"], "pct")
    text = out.read_text(encoding="utf-8")
    assert "图 1" in text and "图 2" in text  # maps, then the chart, numbered
