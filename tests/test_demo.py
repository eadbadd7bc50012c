"""The synthetic demo data (swc_raster.demo) and its random fields (swc_raster.terrain).

The demo is generated at a coarse resolution (150 m) to keep the tests fast;
the landscape is the same at every resolution.  Rates are counted here
independently of the generator: the erosion raster is warped onto an
equal-area Albers grid and counted per county polygon.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.warp import reproject

from swc_raster import demo, terrain, units

ROOT = Path(__file__).resolve().parents[1]
BOUNDARIES = ROOT / "boundaries" / "jincheng_counties.gpkg"
TARGETS = ROOT / "config" / "targets.csv"
ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
YEARS = (2021, 2022, 2023, 2024)
RES = 150.0


# --------------------------------------------------------------------------- terrain: random fields


def test_spectral_field_is_deterministic_and_standardised():
    a = terrain.spectral_field((120, 90), 7, beta=3.0, corr_length_px=20)
    b = terrain.spectral_field((120, 90), 7, beta=3.0, corr_length_px=20)
    c = terrain.spectral_field((120, 90), 8, beta=3.0, corr_length_px=20)
    assert a.shape == (120, 90) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert abs(float(a.mean())) < 1e-4
    assert float(a.std()) == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("shape", [(64, 64), (51, 77), (1, 40)])
def test_spectral_field_any_shape(shape):
    assert terrain.spectral_field(shape, 1).shape == shape


def test_spectral_field_smoothness_follows_beta():
    smooth = terrain.spectral_field((256, 256), 3, beta=3.5, corr_length_px=40)
    white = terrain.spectral_field((256, 256), 3, beta=0.0)
    assert terrain.lag_autocorrelation(smooth, 1) > 0.9
    assert abs(terrain.lag_autocorrelation(white, 1)) < 0.05
    # correlation decays with distance
    assert terrain.lag_autocorrelation(smooth, 10) < terrain.lag_autocorrelation(smooth, 1)


def test_rescale_and_uniform_scores():
    f = terrain.spectral_field((100, 100), 5, beta=2.5)
    r = terrain.rescale(f, 600.0, 2000.0)
    assert float(r.min()) == pytest.approx(600.0)
    assert float(r.max()) == pytest.approx(2000.0)
    u = terrain.to_uniform(f)
    assert u.min() > 0 and u.max() < 1
    # roughly uniform: the share below p is about p
    for p in (0.1, 0.5, 0.9):
        assert float((u < p).mean()) == pytest.approx(p, abs=0.06)
    with pytest.raises(ValueError):
        terrain.rescale(f, 2.0, 1.0)


def test_bilinear_resample_is_exact_on_a_plane():
    # z = 2x + 3y sampled from a 90 m grid onto a 30 m grid inside it
    src_t = Affine(90.0, 0, 1000.0, 0, -90.0, 5000.0)
    xs = 1000.0 + (np.arange(20) + 0.5) * 90.0
    ys = 5000.0 - (np.arange(15) + 0.5) * 90.0
    src = 2 * xs[None, :] + 3 * ys[:, None]
    dst_t = Affine(30.0, 0, 1090.0, 0, -30.0, 4910.0)
    out = terrain.bilinear_resample(src, src_t, dst_t, (30, 40))
    dx = 1090.0 + (np.arange(40) + 0.5) * 30.0
    dy = 4910.0 - (np.arange(30) + 0.5) * 30.0
    np.testing.assert_allclose(out, 2 * dx[None, :] + 3 * dy[:, None], rtol=1e-6)
    # same grid: identity
    np.testing.assert_allclose(terrain.bilinear_resample(src, src_t, src_t, src.shape), src, rtol=1e-6)


# --------------------------------------------------------------------------- the demo years


@pytest.fixture(scope="module")
def demo_years(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    summaries = {}
    for year in YEARS:
        summaries[year] = demo.write_demo_year(
            str(BOUNDARIES), year, str(out / str(year) / "landcover.tif"), str(out / str(year) / "erosion.tif"),
            resolution_m=RES,
        )
    return out, summaries


@pytest.fixture(scope="module")
def counties_albers():
    return gpd.read_file(BOUNDARIES, layer="counties").to_crs(ALBERS)


def albers_rates(erosion_path: Path, counties: gpd.GeoDataFrame, res: float = RES) -> dict[str, float]:
    """Rate per county, counted on an equal-area grid: share of land with A < 200 t/km²/a.

    Erosion nodata counts as non-eroded land; land outside the raster is a gap
    and must not exist here.
    """
    minx, miny, maxx, maxy = counties.total_bounds
    minx, maxy = np.floor(minx / res) * res, np.ceil(maxy / res) * res
    width, height = int(np.ceil((maxx - minx) / res)), int(np.ceil((maxy - miny) / res))
    transform = Affine(res, 0, minx, 0, -res, maxy)
    zones = rasterize(
        [(g, i + 1) for i, g in enumerate(counties.geometry)], out_shape=(height, width), transform=transform
    )
    warped = np.full((height, width), np.nan, dtype="float32")
    with rasterio.open(erosion_path) as src:
        values = src.read(1)
        nodata = src.nodata
        # a source nodata that never occurs, so −9999 is carried over as a value
        reproject(
            values, warped, src_transform=src.transform, src_crs=src.crs, dst_transform=transform, dst_crs=ALBERS,
            resampling=Resampling.nearest, src_nodata=-1e30, dst_nodata=np.nan,
        )
    rates = {}
    for i, code in enumerate(counties["county_code"], start=1):
        inside = zones == i
        assert not np.isnan(warped[inside]).any(), f"{code}: land outside the erosion raster"
        a = warped[inside]
        eroded = (a >= 200.0) & (a != nodata)
        rates[code] = 100.0 * (1.0 - eroded.sum() / inside.sum())
    return rates


def test_same_seed_same_rasters_other_seed_differs(demo_years, tmp_path):
    out, _ = demo_years
    demo.write_demo_year(str(BOUNDARIES), 2022, str(tmp_path / "lc.tif"), str(tmp_path / "er.tif"), resolution_m=RES)
    for name, again in (("landcover.tif", tmp_path / "lc.tif"), ("erosion.tif", tmp_path / "er.tif")):
        with rasterio.open(out / "2022" / name) as a, rasterio.open(again) as b:
            assert a.transform == b.transform and a.crs == b.crs
            np.testing.assert_array_equal(a.read(1), b.read(1))
    demo.write_demo_year(
        str(BOUNDARIES), 2022, str(tmp_path / "lc2.tif"), str(tmp_path / "er2.tif"), resolution_m=300.0, seed=1
    )
    demo.write_demo_year(str(BOUNDARIES), 2022, str(tmp_path / "lc3.tif"), str(tmp_path / "er3.tif"), resolution_m=300.0)
    with rasterio.open(tmp_path / "er2.tif") as a, rasterio.open(tmp_path / "er3.tif") as b:
        assert not np.array_equal(a.read(1), b.read(1))


def test_crs_units_nodata_and_format(demo_years):
    out, summaries = demo_years
    with rasterio.open(out / "2021" / "landcover.tif") as lc:
        assert lc.crs.to_epsg() == 4326
        assert lc.dtypes[0] == "uint8" and lc.nodata == 0
        assert lc.res[0] == pytest.approx(5 / 3600) and lc.res[1] == pytest.approx(5 / 3600)  # 150 m → 5″
        assert lc.profile["tiled"] and lc.compression.name == "deflate"
        assert lc.tags()[demo.DEMO_TAG_KEY] == demo.DEMO_TAG
        codes = np.unique(lc.read(1))
        assert set(codes.tolist()) <= set(range(0, 9))
        assert set(range(1, 9)) <= set(codes.tolist())  # all eight legend classes occur
    with rasterio.open(out / "2021" / "erosion.tif") as er:
        assert er.crs.to_epsg() == 4547
        assert er.dtypes[0] == "float32" and er.nodata == -9999.0
        assert er.res == (RES, RES)
        assert er.profile["tiled"] and er.compression.name == "deflate"
        assert er.tags()[demo.DEMO_TAG_KEY] == demo.DEMO_TAG
        assert er.tags()["SWC_UNIT"] == "t/km2/a" and er.units[0] == "t/km2/a"
        a = er.read(1)
    assert summaries[2021]["erosion_crs"] == "EPSG:4547"
    valid = a[a != -9999.0]
    assert valid.min() >= 0
    # declared unit passes the plausibility check; moduli span the SL 190 grades
    assert units.check_plausible(valid, "t/km2/a", "demo erosion") is None
    assert float(valid.max()) > 15_000  # some 剧烈 on bare steep land
    nodata_share = float((a == -9999.0).mean())
    assert 0.002 < nodata_share < 0.05  # a little: water and the densest built-up land


def test_rasters_cover_every_county_with_margin(demo_years, counties_albers):
    out, _ = demo_years
    counties = gpd.read_file(BOUNDARIES, layer="counties")
    with rasterio.open(out / "2021" / "landcover.tif") as lc:
        b = lc.bounds
        cx0, cy0, cx1, cy1 = counties.total_bounds
        assert b.left < cx0 - 0.02 and b.right > cx1 + 0.02 and b.bottom < cy0 - 0.02 and b.top > cy1 + 0.02
        inside = rasterize([(g, 1) for g in counties.geometry], out_shape=lc.shape, transform=lc.transform)
        assert not np.any(lc.read(1)[inside == 1] == 0)  # no land-cover nodata inside the region
    # erosion: albers_rates asserts there is no gap inside any county
    albers_rates(out / "2021" / "erosion.tif", counties_albers)


def test_class_proportions_are_realistic(demo_years):
    out, _ = demo_years
    counties = gpd.read_file(BOUNDARIES, layer="counties")
    with rasterio.open(out / "2021" / "landcover.tif") as lc:
        inside = rasterize([(g, 1) for g in counties.geometry], out_shape=lc.shape, transform=lc.transform) == 1
        codes = lc.read(1)[inside]
    share = {c: 100.0 * float((codes == c).mean()) for c in range(1, 9)}
    bounds = {
        1: (25, 35),  # cropland
        2: (0.5, 5),  # orchard
        3: (20, 45),  # forest
        4: (12, 35),  # grassland
        5: (3, 12),  # built-up
        6: (0.1, 6),  # transport (wider at coarse cells)
        7: (0.2, 4),  # water
        8: (0.5, 6),  # other
    }
    for code, (lo, hi) in bounds.items():
        assert lo <= share[code] <= hi, f"class {code}: {share[code]:.2f} % not in [{lo}, {hi}]"
    # built-up clusters around the city centre (城区 is mostly built-up)
    with rasterio.open(out / "2021" / "landcover.tif") as lc:
        row, col = lc.index(112.85, 35.49)
        centre = lc.read(1)[row - 10 : row + 11, col - 10 : col + 11]  # ≈ 4 km × 4 km
        assert float((centre == 5).mean()) > 0.6


def test_rates_plausible_and_different(demo_years, counties_albers):
    out, summaries = demo_years
    for year in YEARS:
        rates = albers_rates(out / str(year) / "erosion.tif", counties_albers)
        assert all(55.0 <= r <= 90.0 for r in rates.values()), (year, rates)
        assert max(rates.values()) - min(rates.values()) > 8.0  # counties differ
        # the generator's own estimate (on its grid) agrees with the independent count
        for code, r in rates.items():
            assert summaries[year]["rate_estimate_pct"][code] == pytest.approx(r, abs=0.6)


def test_multi_year_story(demo_years, counties_albers):
    out, _ = demo_years
    rates = {y: albers_rates(out / str(y) / "erosion.tif", counties_albers) for y in YEARS}
    codes = list(rates[2021])
    gains = {c: (rates[2024][c] - rates[2021][c]) / 3.0 for c in codes}
    # most counties improve, by roughly 0.3–2.5 pp a year, unevenly
    assert sum(g > 0 for g in gains.values()) >= 5
    assert all(-0.5 < g < 2.5 for g in gains.values()), gains
    assert max(gains.values()) - min(gains.values()) > 0.8
    # one local setback in 2023
    assert any(rates[2023][c] < rates[2022][c] for c in codes)
    # at least one county is too slow for its 2035 target
    with open(TARGETS, encoding="utf-8") as fh:
        targets = {row["county_code"]: float(row["target_2035"]) for row in csv.DictReader(fh)}
    too_slow = [c for c in codes if rates[2024][c] + gains[c] * (2035 - 2024) < targets[c]]
    assert too_slow, gains


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        demo.write_demo_year(str(BOUNDARIES), 1990, str(tmp_path / "a.tif"), str(tmp_path / "b.tif"))
    with pytest.raises(ValueError):
        demo.write_demo_year(str(BOUNDARIES), 2021, str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), resolution_m=1)
