"""Map PDFs as a reader and a printer see them: real text, print-resolution rasters, true north.

Each map is drawn from the publishing fixtures (the six Jincheng counties) and its PDF is
read back with poppler (``pdftotext``, ``pdffonts``, ``pdfimages``), independently of
matplotlib; expected strings come from the input tables and GeoPackage, the north arrow's
expected angle from PROJ's grid convergence and from the analytic formula of the cone.
"""

from __future__ import annotations

import math
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _publish_fixtures import ALBERS, BOUNDARIES, YEAR, make_inputs

from swc_raster import fonts, grading
from tests._tools import need_tool

MAP_KINDS = ("rate", "gap", "grade", "landcover")
#: Words every title of its map holds (the map names a printed bulletin uses).
TITLE_WORDS = {
    "rate": "水土保持率",
    "gap": "水土保持率与目标差距",
    "grade": "土壤侵蚀强度分级图",
    "landcover": "土地利用现状图",
}


@pytest.fixture(scope="module")
def jincheng(tmp_path_factory):
    codes = tuple(gpd.read_file(BOUNDARIES, layer="counties")["county_code"])
    return make_inputs(tmp_path_factory.mktemp("jincheng"), codes=codes)


def _draw(kind, inputs, out, *, lang="zh", counties=None):
    from swc_raster import maps

    counties = counties or inputs.counties_gpkg
    png, pdf = out / f"{kind}_{lang}.png", out / f"{kind}_{lang}.pdf"
    kw = {"year": YEAR, "lang": lang, "demo": True}
    region = {"region_name": "晋城市" if lang == "zh" else "Jincheng"}
    if kind == "rate":
        return maps.rate_map(inputs.county_rates_csv, counties, png, pdf, **kw)
    if kind == "gap":
        return maps.target_gap_map(inputs.target_comparison_csv, counties, png, pdf, **kw)
    if kind == "grade":
        return maps.grade_map(inputs.grade_tif, counties, png, pdf, **kw, **region)
    return maps.landcover_map(inputs.landcover_tif, inputs.legend_csv, counties, png, pdf, **kw, **region)


@pytest.fixture(scope="module")
def drawn(jincheng, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    return {kind: _draw(kind, jincheng, out) for kind in MAP_KINDS}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=True)


def _pdf_text(pdf) -> str:
    """The PDF's text as pdftotext extracts it, whitespace removed (CJK has no spaces to keep)."""
    need_tool("pdftotext")
    return "".join(_run("pdftotext", str(pdf), "-").stdout.split())


def _county_names() -> list[str]:
    return list(gpd.read_file(BOUNDARIES, layer="counties")["county_name"])


@pytest.mark.parametrize("kind", MAP_KINDS)
def test_map_pdf_text_is_extractable_title_and_every_county_name(drawn, kind):
    text = _pdf_text(drawn[kind].vector)
    title = f"晋城市{'各县（市、区）' if kind in ('rate', 'gap') else ''}{TITLE_WORDS[kind]}"
    assert title in text and f"（{YEAR}年）" in text
    assert text.count(title) == 1, "the bold outline under the title must not be a second copy of the text"
    for name in _county_names():
        assert name in text, f"{name} is not text in the {kind} map PDF"
    assert "演示数据" in text


def test_rate_and_gap_values_are_text_in_the_pdfs(drawn, jincheng):
    rates = pd.read_csv(jincheng.county_rates_csv, dtype={"county_code": str})
    text = _pdf_text(drawn["rate"].vector)
    for _, r in rates.iterrows():  # counties and the region row
        assert f"{r['rate_pct']:.2f}%" in text
    comp = pd.read_csv(jincheng.target_comparison_csv, dtype={"county_code": str})
    text = _pdf_text(drawn["gap"].vector)
    for _, r in comp[comp["level"] == "county"].iterrows():
        for y in (2025, 2035):
            mark = "✓" if r[f"met_{y}"] else "×"
            assert f"{r['county_name']}{r[f'gap_{y}_pp']:+.2f}{mark}" in text


def test_legends_are_text_in_the_raster_map_pdfs(drawn, jincheng):
    grade_text = _pdf_text(drawn["grade"].vector)
    for g in range(1, 7):
        assert grading.GRADE_NAMES_ZH[g] in grade_text
    landcover_text = _pdf_text(drawn["landcover"].vector)
    for name in pd.read_csv(jincheng.legend_csv)["name_zh"]:
        assert name in landcover_text


def test_english_map_pdf_has_english_county_names(jincheng, tmp_path):
    result = _draw("grade", jincheng, tmp_path, lang="en")
    text = _pdf_text(result.vector)
    for name in gpd.read_file(jincheng.counties_gpkg)["county_name_en"]:
        assert name in text
    assert "Soilerosionintensitygrades,Jincheng,2023" in text


@pytest.mark.parametrize("kind", MAP_KINDS)
def test_map_pdf_fonts_are_embedded_truetype_with_unicode_maps(drawn, kind):
    need_tool("pdffonts")
    done = _run("pdffonts", str(drawn[kind].vector))
    rows = done.stdout.splitlines()[2:]
    assert rows, "no font: the text was drawn as outlines"
    for row in rows:
        # name, type (may hold spaces), encoding, emb, sub, uni, object id
        fields = row.split()
        assert " ".join(fields[1:-6]) == "CID TrueType", row
        assert fields[-5:-2] == ["yes", "yes", "yes"], row  # embedded, subset, ToUnicode
    assert "Mismatch" not in done.stderr  # poppler's warning for CFF data under a TrueType font


@pytest.mark.parametrize("kind", ["grade", "landcover"])
def test_raster_layers_in_the_pdf_are_at_least_250_ppi(drawn, kind):
    need_tool("pdfimages")
    rows = _run("pdfimages", "-list", str(drawn[kind].vector)).stdout.splitlines()[2:]
    images = [r.split() for r in rows]
    assert images, "no raster image in the PDF"
    for fields in images:
        x_ppi, y_ppi = float(fields[12]), float(fields[13])
        assert x_ppi >= 250 and y_ppi >= 250, fields


def test_a_fine_raster_is_read_at_print_resolution(jincheng, tmp_path):
    """A 25 m grade raster (finer than print) is read at ~300 ppi of the printed map, not coarser."""
    import rasterio

    from swc_raster import maps

    with rasterio.open(jincheng.grade_tif) as src:
        coarse, profile = src.read(1), src.profile
    k = int(src.res[0] // 25)
    fine = np.repeat(np.repeat(coarse, k, axis=0), k, axis=1)
    profile.update(width=fine.shape[1], height=fine.shape[0], transform=src.transform * src.transform.scale(1 / k))
    path = tmp_path / "grade_25m.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(fine, 1)
    result = maps.grade_map(path, jincheng.counties_gpkg, tmp_path / "g.png", tmp_path / "g.pdf", year=YEAR)
    assert 290 <= result.raster_ppi <= 320
    # The 500 m source itself is coarser than print: read at its own resolution, no more.
    coarse_map = maps.grade_map(
        jincheng.grade_tif, jincheng.counties_gpkg, tmp_path / "c.png", tmp_path / "c.pdf", year=YEAR
    )
    # Print scale from the drawn frame: its width in inches spans the counties' width plus 4 % pads.
    x0, _, x1, _ = coarse_map.boxes["maps"][0]
    minx, miny, maxx, maxy = gpd.read_file(jincheng.counties_gpkg).total_bounds
    inch_per_m = (x1 - x0) / (maxx - minx + 0.08 * max(maxx - minx, maxy - miny))
    native_ppi = coarse.shape[1] / (coarse.shape[1] * src.res[0] * inch_per_m)
    assert native_ppi < 100
    assert coarse_map.raster_ppi == pytest.approx(native_ppi, rel=0.01)


def _map_centre_lonlat(counties_gpkg):
    from pyproj import Transformer

    gdf = gpd.read_file(counties_gpkg)
    minx, miny, maxx, maxy = gdf.total_bounds  # the map frame pads the bounds evenly: same centre
    to_geo = Transformer.from_crs(gdf.crs, gdf.crs.geodetic_crs, always_xy=True)
    return to_geo.transform((minx + maxx) / 2, (miny + maxy) / 2)


def test_north_arrow_turns_by_the_grid_convergence(drawn, jincheng):
    from pyproj import Proj

    lon, lat = _map_centre_lonlat(jincheng.counties_gpkg)
    convergence = Proj(ALBERS).get_factors(lon, lat).meridian_convergence
    # Albers on the sphere: γ = n (λ − λ0), n = (sin φ1 + sin φ2) / 2 (Snyder 1987, eq. 14-6).
    cone = (math.sin(math.radians(25)) + math.sin(math.radians(47))) / 2
    assert convergence == pytest.approx(cone * (lon - 105.0), abs=0.01)
    assert 4.0 < convergence < 5.0  # Jincheng lies ~7.8° east of the central meridian
    for kind in MAP_KINDS:
        # East of the central meridian true north leans west: counter-clockwise on the page.
        assert drawn[kind].north_arrow_deg == pytest.approx(-convergence, abs=0.02)


def test_north_arrow_is_upright_on_the_central_meridian(jincheng, tmp_path):
    lon, _ = _map_centre_lonlat(jincheng.counties_gpkg)
    centred = ALBERS.replace("+lon_0=105", f"+lon_0={lon:.6f}")
    path = tmp_path / "counties_centred.gpkg"
    gpd.read_file(jincheng.counties_gpkg).to_crs(centred).to_file(path, layer="counties", driver="GPKG")
    result = _draw("rate", jincheng, tmp_path, counties=path)
    assert result.north_arrow_deg == pytest.approx(0.0, abs=0.02)


def test_truetype_subset_has_the_fonts_glyph_metrics():
    """The PDF font: TrueType outlines, and per character the OpenType font's advance and box."""
    from fontTools.ttLib import TTFont

    chars = "晋城市泽州县高平市✓×≥%"
    tt = TTFont(fonts.truetype_subset(chars))
    assert tt.sfntVersion == "\x00\x01\x00\x00" and "glyf" in tt and "CFF " not in tt
    otf = TTFont(fonts.cjk_font_path())
    otf_glyphs, tt_glyphs = otf.getGlyphSet(), tt.getGlyphSet()
    from fontTools.pens.boundsPen import BoundsPen

    for ch in chars:
        a, b = otf.getBestCmap()[ord(ch)], tt.getBestCmap()[ord(ch)]
        assert otf["hmtx"][a][0] == tt["hmtx"][b][0], ch
        pa, pb = BoundsPen(otf_glyphs), BoundsPen(tt_glyphs)
        otf_glyphs[a].draw(pa)
        tt_glyphs[b].draw(pb)
        assert np.allclose(pa.bounds, pb.bounds, atol=2.0), ch  # within 2/1000 em
