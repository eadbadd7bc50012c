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
from swc_raster import vector_inputs as vi

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
            str(BOUNDARIES),
            year,
            str(out / str(year) / "landcover.tif"),
            str(out / str(year) / "erosion.tif"),
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
            values,
            warped,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=transform,
            dst_crs=ALBERS,
            resampling=Resampling.nearest,
            src_nodata=-1e30,
            dst_nodata=np.nan,
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
    demo.write_demo_year(
        str(BOUNDARIES), 2022, str(tmp_path / "lc3.tif"), str(tmp_path / "er3.tif"), resolution_m=300.0
    )
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
        1: (20, 30),  # cropland (Jincheng survey ≈ 22–25 %)
        2: (0.5, 5),  # orchard
        3: (35, 55),  # forest (with shrubland)
        4: (5, 20),  # grassland
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
    """County rates in a realistic spread (Shanxi: 63–66 %), the city's near the province's."""
    out, summaries = demo_years
    for year in YEARS:
        rates = albers_rates(out / str(year) / "erosion.tif", counties_albers)
        assert all(48.0 <= r <= 80.0 for r in rates.values()), (year, rates)
        assert max(rates.values()) - min(rates.values()) > 12.0  # counties differ
        land = counties_albers.geometry.area.to_numpy()
        city = float(np.sum(land * np.array(list(rates.values()))) / land.sum())  # area-weighted
        assert 58.0 <= city <= 70.0, (year, city)
        # the generator's own estimate (on its grid) agrees with the independent count
        for code, r in rates.items():
            assert summaries[year]["rate_estimate_pct"][code] == pytest.approx(r, abs=0.6)


def test_grade_mix_is_mostly_light_to_moderate_with_intense_on_steep_bare_land(demo_years):
    """Like the region's bulletins: most eroded land 轻度–中度, some 强烈 and above, mostly on bare steep land."""
    out, _ = demo_years
    with rasterio.open(out / "2022" / "erosion.tif") as er, rasterio.open(out / "2022" / "landcover.tif") as lc:
        a = er.read(1)
        codes = np.zeros(a.shape, dtype="uint8")
        reproject(
            lc.read(1),
            codes,
            src_transform=lc.transform,
            src_crs=lc.crs,
            dst_transform=er.transform,
            dst_crs=er.crs,
            resampling=Resampling.nearest,
        )
    counties = gpd.read_file(BOUNDARIES, layer="counties").to_crs("EPSG:4547")
    inside = rasterize([(g, 1) for g in counties.geometry], out_shape=a.shape, transform=er.transform) == 1
    eroded = inside & (a >= 200)
    light_moderate = eroded & (a < 5000)
    intense = eroded & (a >= 5000)
    assert float(light_moderate.sum() / eroded.sum()) > 0.8
    assert 0.01 < float(intense.sum() / eroded.sum()) < 0.2
    # bare "other" land (B = 1) holds a far larger share of the intense land than of the region
    assert float((intense & (codes == 8)).sum() / intense.sum()) > 5 * float(
        (inside & (codes == 8)).sum() / inside.sum()
    )


def test_factor_rasters_r_and_k_in_the_published_range(tmp_path):
    """R in Shanxi's published range, above the province's mean in the south-east; K an SI value of soils."""
    out = demo.write_demo_factors(str(BOUNDARIES), 2024, str(tmp_path), resolution_m=300.0)
    counties = gpd.read_file(BOUNDARIES, layer="counties").to_crs("EPSG:4547")
    with rasterio.open(out["paths"]["R"]) as r_src, rasterio.open(out["paths"]["K"]) as k_src:
        inside = rasterize([(g, 1) for g in counties.geometry], out_shape=r_src.shape, transform=r_src.transform) == 1
        r, k = r_src.read(1)[inside], k_src.read(1)[inside]
        assert r_src.tags()["SWC_UNIT"] == "MJ·mm/(ha·h·a)" and k_src.tags()["SWC_UNIT"] == "t·ha·h/(ha·MJ·mm)"
    # Shanxi 2000–2016: 663–2 810 MJ·mm/(ha·h·a), mean 1 629, highest in the south-east (中国水土保持科学 2020 18(1))
    assert r.min() >= 663.0 and r.max() <= 2810.0
    assert np.median(r) > 1629.0
    # SI K of mineral soils lies within about 0.001–0.07 (a US-unit K would be 7.59× larger)
    assert k.min() >= 0.001 and k.max() <= 0.07
    # erodibility lower on the stony mountain soils (陵川, 沁水 west) than in the loess basin (高平)
    basin = counties.county_code == "140581"
    with rasterio.open(out["paths"]["K"]) as k_src:
        kk = k_src.read(1)
        gaoping = (
            rasterize([(g, 1) for g in counties[basin].geometry], out_shape=kk.shape, transform=k_src.transform) == 1
        )
        lingchuan = (
            rasterize(
                [(g, 1) for g in counties[counties.county_code == "140524"].geometry],
                out_shape=kk.shape,
                transform=k_src.transform,
            )
            == 1
        )
    assert kk[gaoping].mean() > kk[lingchuan].mean()


def test_multi_year_story(demo_years, counties_albers):
    """Uneven improvement 2021 → 2024, a setback in 泽州县 in 2023, counties off track for 2035."""
    out, _ = demo_years
    rates = {y: albers_rates(out / str(y) / "erosion.tif", counties_albers) for y in YEARS}
    codes = list(rates[2021])
    gains = {c: (rates[2024][c] - rates[2021][c]) / 3.0 for c in codes}
    # most counties improve, by up to ≈ 2 pp a year, unevenly
    assert sum(g > 0 for g in gains.values()) >= 4
    assert all(-1.0 < g < 2.5 for g in gains.values()), gains
    assert max(gains.values()) - min(gains.values()) > 0.6
    # the mining setback: 泽州县 falls in 2023 while the others do not
    assert rates[2023]["140525"] < rates[2022]["140525"]
    assert all(rates[2023][c] >= rates[2022][c] - 0.3 for c in codes if c != "140525")
    # at least one county is too slow for its 2035 target
    with open(TARGETS, encoding="utf-8") as fh:
        targets = {row["county_code"]: float(row["target_2035"]) for row in csv.DictReader(fh)}
    too_slow = [c for c in codes if rates[2024][c] + gains[c] * (2035 - 2024) < targets[c]]
    assert too_slow, gains


# --------------------------------------------------------------------------- a year delivered as polygons

POLY_YEAR = 2020
POLY_RES = 240.0  # coarse for speed; the workflow's demo uses 120 m


@pytest.fixture(scope="module")
def polygon_year(tmp_path_factory):
    out = tmp_path_factory.mktemp("polygons")
    summary = demo.write_demo_polygons(str(BOUNDARIES), POLY_YEAR, str(out / "a"), resolution_m=POLY_RES)
    return out, summary


def test_polygon_year_is_deterministic(polygon_year, tmp_path):
    out, _ = polygon_year
    demo.write_demo_polygons(str(BOUNDARIES), POLY_YEAR, str(tmp_path), resolution_m=POLY_RES)
    for name, layer, _ in demo.DEMO_POLYGON_FILES.values():
        a = gpd.read_file(out / "a" / name, layer=layer)
        b = gpd.read_file(tmp_path / name, layer=layer)
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
        assert list(a.geometry.to_wkb()) == list(b.geometry.to_wkb())


def test_polygon_year_patches_have_holes_and_multipart_and_valid_codes(polygon_year):
    out, summary = polygon_year
    name, layer, field = demo.DEMO_POLYGON_FILES["erosion_patches"]
    patches = gpd.read_file(out / "a" / name, layer=layer)
    assert patches.crs.to_epsg() == 4547
    assert set(patches[field]) <= {"轻度", "中度", "强烈", "极强烈", "剧烈"}
    assert (patches.geom_type == "MultiPolygon").sum() > 10
    holes = [any(len(p.interiors) for p in getattr(g, "geoms", [g])) for g in patches.geometry]
    assert sum(holes) > 10
    assert patches.is_valid.all()
    name, layer, field = demo.DEMO_POLYGON_FILES["landuse_polygons"]
    landuse = gpd.read_file(out / "a" / name, layer=layer)
    codes = set(landuse[field])
    assert all(len(c) == 4 and c.isdigit() for c in codes)
    # GB/T 21010 second-level codes that map onto all 8 demo classes
    mapped = {vi.read_code_map("gbt21010_8")[c] for c in codes}
    assert mapped == set(range(1, 9))
    assert {"0103", "0301", "0404", "0702", "1101"} <= codes


def test_polygon_year_rates_equal_the_raster_truth_of_its_grid(polygon_year, tmp_path):
    """Exact overlay of the patches and parcels vs the same year's erosion raster on the grid they were drawn from.

    What differs: cells cut by county boundaries (the raster count takes each cell whole, by its centre,
    the overlay clips exactly) and the GK cells' small area distortion; the land-use minimum mapping
    unit moves land between classes but not between eroded and not eroded.
    """
    out, _ = polygon_year
    er_path = tmp_path / "erosion.tif"
    demo.write_demo_year(str(BOUNDARIES), POLY_YEAR, str(tmp_path / "lc.tif"), str(er_path), resolution_m=POLY_RES)
    counties_gk = gpd.read_file(BOUNDARIES, layer="counties").to_crs("EPSG:4547")
    with rasterio.open(er_path) as src:
        a = src.read(1)
        zones = rasterize(
            [(g, i + 1) for i, g in enumerate(counties_gk.geometry)], out_shape=a.shape, transform=src.transform
        )
    truth = {}
    for i, code in enumerate(counties_gk.county_code, start=1):
        inside = zones == i
        truth[code] = 100.0 * (1.0 - float(((a >= 200.0) & inside).sum()) / float(inside.sum()))
    counties = gpd.read_file(BOUNDARIES, layer="counties").to_crs(ALBERS)
    patches = vi.read_erosion_patches(
        out / "a" / "erosion_patches.gpkg", layer="patches", analysis_crs=ALBERS, grade_field="QSQD"
    )
    landuse = vi.read_landuse_polygons(
        out / "a" / "landuse.gpkg",
        layer="DLTB",
        analysis_crs=ALBERS,
        code_field="DLBM",
        code_map=vi.read_code_map("gbt21010_8"),
        legend_codes=list(range(1, 9)),
    )
    table = vi.crosstab_exact(
        counties,
        patches,
        landuse=landuse,
        legend_codes=list(range(1, 9)),
        t_by_county={c: 200.0 for c in counties.county_code},
        uncovered="slight",
    )
    land = table.sum(dim=["landcover_code", "grade_code"])
    eroded = table.sel(grade_code=[2, 3, 4, 5, 6]).sum(dim=["landcover_code", "grade_code"])
    for code in counties.county_code:
        rate = 100.0 * (1.0 - float(eroded.sel(county_code=code)) / float(land.sel(county_code=code)))
        assert rate == pytest.approx(truth[code], abs=0.3), (code, rate, truth[code])


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        demo.write_demo_year(str(BOUNDARIES), 1990, str(tmp_path / "a.tif"), str(tmp_path / "b.tif"))
    with pytest.raises(ValueError):
        demo.write_demo_year(str(BOUNDARIES), 2021, str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), resolution_m=1)
