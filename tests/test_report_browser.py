"""The report's interactive county map (水土保持一张图), opened in a real headless browser.

Chromium from Debian's packages (``.ci/apt-packages``), driven by Playwright over the system
browser (Playwright downloads nothing). One browser for the whole module. Expected values
come from the CSVs and the rasters themselves, formatted here with plain ``format`` specs.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _publish_fixtures import COUNTIES, make_inputs
from _tools import need_tool

from swc_raster import grading
from swc_raster.errors import InputError

YEAR = 2023
EARLIER = (2021, 2022)
#: Rate lost per year before 2023, per county (pp): the earlier years' tables are made from 2023's.
DECLINE = {"140502": 1.25, "140525": 0.8, "140581": 2.6, "140500": 1.1}


def _earlier_year(rates: pd.DataFrame, comp: pd.DataFrame, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A plausible earlier year: lower rates (more erosion, in grade 2), the same targets."""
    rates, comp = rates.copy(), comp.copy()
    k = YEAR - year
    for df in (rates, comp):
        df["year"] = year
    for i, code in enumerate(rates["county_code"]):
        assessed = rates.at[i, "land_area_km2"] - rates.at[i, "gap_area_km2"]
        extra = assessed * DECLINE[code] * k / 100
        rates.loc[i, "erosion_area_km2"] += extra
        rates.loc[i, "area_grade2_km2"] += extra
        rates.loc[i, "area_grade1_km2"] -= extra
        rates.loc[i, "rate_pct"] = 100 * (assessed - rates.at[i, "erosion_area_km2"]) / assessed
    comp["rate_pct"] = rates["rate_pct"].to_numpy()
    for y in (2025, 2035):
        comp[f"gap_{y}_pp"] = comp["rate_pct"] - comp[f"target_{y}_pct"]
        comp[f"met_{y}"] = comp[f"gap_{y}_pp"] >= 0
    return rates, comp


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    from swc_raster import progress
    from swc_raster.report import write_report

    folder = tmp_path_factory.mktemp("onemap")
    inputs = make_inputs(folder / "inputs")
    rates = pd.read_csv(inputs.county_rates_csv, dtype={"county_code": str})
    comp = pd.read_csv(inputs.target_comparison_csv, dtype={"county_code": str})
    years = {
        YEAR: {"rates": inputs.county_rates_csv, "comparison": inputs.target_comparison_csv, "grade": inputs.grade_tif}
    }
    tables = {YEAR: rates}
    for y in EARLIER:
        r, c = _earlier_year(rates, comp, y)
        years[y] = {"rates": folder / f"county_rates_{y}.csv", "comparison": folder / f"target_comparison_{y}.csv"}
        r.to_csv(years[y]["rates"], index=False)
        c.to_csv(years[y]["comparison"], index=False)
        tables[y] = r
    long = progress.rates_by_year([tables[y] for y in sorted(tables)])
    prog = progress.progress(
        long, pd.read_csv(Path(__file__).parents[1] / "config" / "targets.csv", dtype={"county_code": str})
    )
    prog_csv = folder / "progress.csv"
    prog.to_csv(prog_csv, index=False)
    one_map = {"counties": inputs.counties_gpkg, "years": years, "progress": prog_csv}
    common = dict(
        year=YEAR,
        county_rates_csv=inputs.county_rates_csv,
        target_comparison_csv=inputs.target_comparison_csv,
        erosion_by_landcover_csv=inputs.erosion_by_landcover_csv,
        map_pngs={},
        method={"resolution_m": inputs.res},
        demo=True,
        one_map=one_map,
    )
    reports = {lang: write_report(folder / f"report_{lang}.html", lang=lang, **common) for lang in ("zh", "en")}
    return {"inputs": inputs, "years": years, "progress": prog_csv, "reports": reports, "folder": folder}


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        message = "needs the Python package playwright (test extra)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI installs it, so this is a broken CI set-up")
        pytest.skip(message)
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    chromium = need_tool("chromium", "chromium-browser")
    sync_playwright = _playwright()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium)
        yield b
        b.close()


class Page:
    """A report opened in a fresh page that records every request and blocks all but the file itself."""

    def __init__(self, browser, report: Path):
        self.url = report.resolve().as_uri()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 1000})
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", lambda route: route.continue_() if route.request.url == self.url else route.abort())
        self.page.goto(self.url)
        self.page.wait_for_selector("#onemap[data-ready]")

    def info(self) -> dict[str, str]:
        """The selected county's panel: {data-field: shown text}."""
        return self.page.eval_on_selector_all(
            "#onemap-info tr[data-field]",
            "rows => Object.fromEntries(rows.map(r => [r.dataset.field, r.querySelector('td').textContent]))",
        )

    def click_county(self, code: str) -> None:
        self.page.locator(f'#onemap-svg path.county[data-code="{code}"]').dispatch_event("click")

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def zh(browser, made):
    page = Page(browser, made["reports"]["zh"])
    yield page
    page.close()


def _row(csv: Path, code: str) -> pd.Series:
    df = pd.read_csv(csv, dtype={"county_code": str})
    return df[df["county_code"] == code].iloc[0]


def _expected(made, year: int, code: str) -> dict[str, str]:
    """The panel values the report must show, from the year's two CSVs."""
    files = made["years"][year]
    r, c = _row(files["rates"], code), _row(files["comparison"], code)
    out = {
        k: f"{r[k]:,.2f}" for k in ("rate_pct", "land_area_km2", "erosion_area_km2", "nodata_area_km2", "gap_area_km2")
    }
    out |= {f"area_grade{g}_km2": f"{r[f'area_grade{g}_km2']:,.2f}" for g in range(1, 7)}
    t = r["t_allowable_t_km2"]
    out["t_allowable_t_km2"] = "—" if pd.isna(t) else f"{t:,.0f}"  # the region's T is empty when counties differ
    for y in (2025, 2035):
        out[f"target_{y}_pct"] = f"{c[f'target_{y}_pct']:,.2f}"
        out[f"gap_{y}_pp"] = f"{c[f'gap_{y}_pp']:+,.2f}"
        out[f"met_{y}"] = "达标" if c[f"met_{y}"] else "未达标"
    if year - 1 in made["years"]:
        before = _row(made["years"][year - 1]["rates"], code)
        out["rate_change_pp"] = f"{r['rate_pct'] - before['rate_pct']:+,.2f}"
    else:
        out["rate_change_pp"] = "—"
    return out


# ----------------------------------------------------------------------------- tests


def test_every_county_is_an_svg_path_where_its_polygon_is(zh, made):
    import geopandas as gpd

    gdf = gpd.read_file(made["inputs"].counties_gpkg).set_index("county_code")
    drawn = zh.page.eval_on_selector_all(
        "#onemap-svg path.county",
        "ps => ps.map(p => { const b = p.getBBox(); return [p.dataset.code, b.x, b.y, b.width, b.height]; })",
    )
    assert sorted(d[0] for d in drawn) == sorted(COUNTIES)
    svg = zh.page.locator("#onemap-svg")
    minx, miny, maxx, maxy = map(float, svg.get_attribute("data-crs-bounds").split())
    _, _, width, height = map(float, svg.get_attribute("viewBox").split())
    per_m = width / (maxx - minx)
    assert height / (maxy - miny) == pytest.approx(per_m, rel=1e-3)
    extent = max(gdf.total_bounds[2:] - gdf.total_bounds[:2])
    for code, x, y, w, h in drawn:
        b = gdf.geometry[code].bounds  # metres; the SVG's y axis points down
        shown = (minx + x / per_m, maxy - (y + h) / per_m, minx + (x + w) / per_m, maxy - y / per_m)
        assert shown == pytest.approx(b, abs=extent / 1000), code
    assert not zh.errors


def test_clicking_a_county_shows_exactly_its_csv_numbers(zh, made):
    for code in COUNTIES:
        zh.click_county(code)
        assert zh.page.locator("#onemap-info").get_attribute("data-code") == code
        assert zh.info() == _expected(made, YEAR, code)
        assert zh.page.locator(f'#onemap-svg path.county.sel[data-code="{code}"]').count() == 1
    name = _row(made["years"][YEAR]["rates"], COUNTIES[-1])["county_name"]
    assert zh.page.locator("#onemap-info h3").text_content() == f"{name} · {YEAR}"


def test_the_region_is_shown_first_and_selectable(zh, made):
    assert zh.page.locator("#onemap-info").get_attribute("data-code") == "140500"
    assert zh.info() == _expected(made, YEAR, "140500")


def test_switching_the_year_shows_that_years_numbers(zh, made):
    code = "140581"
    zh.click_county(code)
    shown = {}
    for year in (2021, 2022, YEAR):
        zh.page.select_option("#onemap-year", str(year))
        assert zh.page.locator("#onemap-info").get_attribute("data-year") == str(year)
        shown[year] = zh.info()
        assert shown[year] == _expected(made, year, code)
    assert shown[2021]["rate_pct"] != shown[YEAR]["rate_pct"]


def _legend(page) -> list[tuple[float, float, str]]:
    """The shown legend as (low, high, colour) classes, parsed from its labels "60 ~ 65"."""
    items = page.eval_on_selector_all(
        "#onemap-legend span",
        "ss => ss.map(s => [s.textContent, getComputedStyle(s.querySelector('i')).backgroundColor])",
    )
    out = []
    for label, css in items:
        low, high = (float(v) for v in label.split("~"))
        r, g, b = (int(v) for v in css[css.index("(") + 1 : -1].split(",")[:3])
        out.append((low, high, f"#{r:02X}{g:02X}{b:02X}"))
    return out


def test_county_colours_follow_the_legend_in_every_year(zh, made):
    fills = {}
    for year in sorted(made["years"]):
        zh.page.select_option("#onemap-year", str(year))
        legend = _legend(zh.page)
        for code in COUNTIES:
            rate = _row(made["years"][year]["rates"], code)["rate_pct"]
            colour = [c for low, high, c in legend if low <= rate < high or (rate == high == legend[0][1])]
            fill = zh.page.locator(f'path.county[data-code="{code}"]').get_attribute("fill")
            assert [fill] == colour, (year, code, rate, legend)
            fills[year, code] = fill
    # 高平市 loses 5.2 pp over two years, more than a class is wide: it must change colour.
    width = legend[0][1] - legend[0][0]
    assert width <= 5.2 and fills[2021, "140581"] != fills[YEAR, "140581"]


def test_trend_comes_from_progress_csv(zh, made):
    zh.click_county("140525")
    r = _row(made["progress"], "140525")
    rows = zh.page.eval_on_selector_all(
        "#onemap-info table:last-of-type tr", "rs => rs.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
    )
    shown = dict(rows)
    assert shown["趋势 (百分点/年)"] == f"{r['trend_pp_per_year']:+,.2f}"
    assert shown["2025年目标进展"] in {"已达标", "按趋势可达标", "按趋势难达标", "未达标"}


def test_hover_names_the_county_and_its_rate(zh, made):
    code = "140502"
    r = _row(made["years"][YEAR]["rates"], code)
    zh.page.locator(f'path.county[data-code="{code}"]').hover()
    tip = zh.page.locator("#onemap-tip")
    assert tip.is_visible()
    assert tip.text_content() == f"{r['county_name']}  {r['rate_pct']:,.2f}%"


def test_zoom_and_pan_change_the_view_and_reset_restores_it(zh):
    svg = zh.page.locator("#onemap-svg")
    home = [float(v) for v in svg.get_attribute("viewBox").split()]
    zh.page.click('.om-zoom button[data-zoom="1.5"]')
    zoomed = [float(v) for v in svg.get_attribute("viewBox").split()]
    assert zoomed[2] == pytest.approx(home[2] / 1.5)
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    zh.page.mouse.move(cx, cy)
    zh.page.mouse.down()
    zh.page.mouse.move(cx + 100, cy + 40, steps=5)
    zh.page.mouse.up()
    panned = [float(v) for v in svg.get_attribute("viewBox").split()]
    assert panned[0] < zoomed[0] and panned[1] < zoomed[1] and panned[2:] == zoomed[2:]
    zh.page.mouse.move(cx, cy)
    zh.page.mouse.wheel(0, -300)
    assert float(svg.get_attribute("viewBox").split()[2]) < panned[2]
    zh.page.click('.om-zoom button[data-zoom="0"]')
    assert [float(v) for v in svg.get_attribute("viewBox").split()] == home


def test_grade_layer_is_the_raster_in_the_grade_colours(zh, made):
    import rasterio
    from PIL import Image

    image = zh.page.locator(f'#onemap-svg image.grade[data-year="{YEAR}"]')
    assert image.get_attribute("visibility") == "hidden"
    zh.page.check("#onemap-grade")
    assert image.get_attribute("visibility") == "visible"
    assert zh.page.locator('#onemap-svg path.county[fill-opacity="0"]').count() == len(COUNTIES)
    assert zh.page.locator("#onemap-svg image.grade").count() == 1  # only 2023 was given a raster
    href = image.get_attribute("href")
    assert href.startswith("data:image/png;base64,")
    png = Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).convert("RGBA")
    rgba = np.asarray(png)
    left, bottom, right, top = map(float, image.get_attribute("data-bounds").split())
    h, w = rgba.shape[:2]
    with rasterio.open(made["inputs"].grade_tif) as src:
        grades = src.read(1)
        rows, cols = np.mgrid[0:h, 0:w]
        xs, ys = left + (cols + 0.5) * (right - left) / w, top - (rows + 0.5) * (top - bottom) / h
        r, c = rasterio.transform.rowcol(src.transform, xs.ravel(), ys.ravel())
    truth = grades[np.asarray(r), np.asarray(c)].reshape(h, w)
    expected = np.zeros((h, w, 4), dtype=np.uint8)
    for code, rgb in grading.GRADE_COLOURS.items():
        expected[truth == code] = (*rgb, 255)
    inside = truth != grading.OUTSIDE
    assert (rgba[~inside, 3] == 0).all()  # outside the region: transparent
    agree = (rgba[inside] == expected[inside]).all(axis=1).mean()
    assert agree == 1.0  # the fixture raster is small enough to be embedded at full resolution


def test_the_page_makes_no_network_request(browser, made):
    for lang in ("zh", "en"):
        page = Page(browser, made["reports"][lang])
        page.click_county("140525")
        page.page.select_option("#onemap-year", "2021")
        page.page.check("#onemap-grade")
        page.page.select_option("#onemap-theme", index=1)
        page.page.wait_for_timeout(200)
        assert page.requests == [page.url], page.requests
        assert not page.errors
        csp = page.page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        assert "default-src 'none'" in csp
        page.close()


def test_english_report_uses_english_names_and_labels(browser, made):
    import geopandas as gpd

    page = Page(browser, made["reports"]["en"])
    en = gpd.read_file(made["inputs"].counties_gpkg).set_index("county_code")["county_name_en"]
    page.click_county("140581")
    assert page.page.locator("#onemap-info h3").text_content() == f"{en['140581']} · {YEAR}"
    info = page.info()
    assert info["met_2025"] in {"met", "not met"}
    labels = page.page.eval_on_selector_all("#onemap-info th", "ths => ths.map(t => t.textContent)")
    assert "Conservation rate (%)" in labels and "slight" in labels
    assert page.page.locator("#onemap-year option").all_text_contents() == ["2021", "2022", "2023"]
    page.close()


def test_screenshots_zh_and_en(browser, made):
    """Screenshots of the map in both languages (looked at by hand; see docs/images/report_one_map.png)."""
    for lang in ("zh", "en"):
        page = Page(browser, made["reports"][lang])
        page.click_county("140525")
        out = made["folder"] / f"one_map_{lang}.png"
        page.page.locator("#onemap").screenshot(path=str(out))
        assert out.stat().st_size > 10_000
        page.close()


# ----------------------------------------------------------------------------- without a browser


def test_report_year_must_be_among_the_map_years(made, tmp_path):
    from swc_raster.report_map import one_map_html

    years = {y: f for y, f in made["years"].items() if y != YEAR}
    with pytest.raises(InputError, match="not among the map's years"):
        one_map_html({"counties": made["inputs"].counties_gpkg, "years": years}, year=YEAR)


def test_a_table_that_does_not_match_the_counties_is_refused(made, tmp_path):
    from swc_raster.report_map import one_map_html

    rates = pd.read_csv(made["years"][YEAR]["rates"], dtype={"county_code": str})
    rates.loc[0, "county_code"] = "149999"
    bad = tmp_path / "county_rates.csv"
    rates.to_csv(bad, index=False)
    years = {YEAR: {"rates": bad, "comparison": made["years"][YEAR]["comparison"]}}
    with pytest.raises(InputError, match="149999"):
        one_map_html({"counties": made["inputs"].counties_gpkg, "years": years}, year=YEAR)


def test_a_raster_over_budget_is_shrunk_and_left_out_when_it_cannot_fit(made):
    from swc_raster.report_map import one_map_html

    one_map = {"counties": made["inputs"].counties_gpkg, "years": {YEAR: made["years"][YEAR]}}
    fits = one_map_html(one_map, year=YEAR)
    assert fits.count("<image ") == 1
    assert one_map_html(one_map, year=YEAR, raster_budget_bytes=100).count("<image ") == 0


def test_without_one_map_the_report_has_no_script(made, tmp_path):
    from swc_raster.report import write_report

    inputs = made["inputs"]
    out = write_report(
        tmp_path / "plain.html",
        year=YEAR,
        county_rates_csv=inputs.county_rates_csv,
        target_comparison_csv=inputs.target_comparison_csv,
        erosion_by_landcover_csv=inputs.erosion_by_landcover_csv,
        map_pngs={},
        method={},
    )
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text and "script-src 'none'" in text
