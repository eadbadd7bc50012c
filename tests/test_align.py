"""Alignment: any CRS, grid and unit onto the analysis grid, checked by independent means."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import calculate_default_transform, reproject
from rasterio.windows import Window

from swc_raster import stages
from swc_raster.align import align_erosion, align_landcover
from swc_raster.cellarea import pixel_area_km2
from swc_raster.errors import CoverageError, InputError
from swc_raster.grid import AnalysisGrid
from tests._rasters import ALBERS, counties, erosion_raster, landcover_raster, write

CODES = ["140502", "140581"]
CRS_4326 = rasterio.crs.CRS.from_epsg(4326).to_wkt()
CRS_4547 = rasterio.crs.CRS.from_epsg(4547).to_wkt()


ANALYSIS_CRS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
BOUNDARY_FIELDS = {"layer": "counties", "code_field": "county_code", "name_field": "county_name", "name_en_field": None}


def _rates(tmp, name, erosion, unit, landcover, grid="equal_area"):
    """County rates through the library's stages, called with plain values as a notebook would (no config).

    ``grid``: ``equal_area`` (Albers 30 m) or ``source`` (the erosion raster's own grid).
    """
    d = tmp / name
    d.mkdir()
    counties(CODES).to_file(d / "b.gpkg", layer="counties")
    stages.prepare_boundaries(d / "b.gpkg", **BOUNDARY_FIELDS, analysis_crs=ANALYSIS_CRS, out_gpkg=d / "all.gpkg")
    stages.prepare_batch(
        d / "all.gpkg",
        codes=CODES,
        analysis_crs=ANALYSIS_CRS,
        resolution_m=30,
        analysis_grid=grid,
        grid_source=erosion,
        out_gpkg=d / "c.gpkg",
        out_grid=d / "grid.json",
    )
    t = {code: 200.0 for code in CODES}
    stages.crosstab(
        landcover,
        erosion,
        counties_gpkg=d / "c.gpkg",
        grid_json=d / "grid.json",
        legend_codes=list(range(1, 9)),
        t_by_county=t,
        erosion_unit=unit,
        out_crosstab=d / "ct.nc",
        workers=1,
    )
    rates = stages.county_rates(
        d / "ct.nc",
        year=2023,
        counties_gpkg=d / "all.gpkg",
        t_by_county=t,
        region_code="140500",
        region_name="两县",
        demo=False,
        out_csv=d / "rates.csv",
    )
    return rates.set_index("county_code").rate_pct


@pytest.mark.parametrize("grid", ["equal_area", "source"])
def test_same_field_in_t_ha_lonlat_and_t_km2_albers_gives_the_same_rates(tmp_path, grid):
    area = counties(CODES)
    albers = erosion_raster(tmp_path / "albers_t_km2.tif", area, crs=ALBERS, res=30.0, seed=5)
    # The same physical field delivered as a lon/lat product in t/ha at ~1 arc-second.
    with rasterio.open(albers) as src:
        transform, w, h = calculate_default_transform(
            src.crs, "EPSG:4326", src.width, src.height, *src.bounds, resolution=1 / 3600
        )
        lonlat = np.full((h, w), -9999.0, dtype="float32")
        reproject(
            rasterio.band(src, 1),
            lonlat,
            dst_transform=transform,
            dst_crs="EPSG:4326",
            resampling=Resampling.nearest,
            src_nodata=-9999.0,
            dst_nodata=-9999.0,
        )
    lonlat[lonlat != -9999.0] /= 100.0  # t/km² → t/ha
    write(tmp_path / "lonlat_t_ha.tif", lonlat, "EPSG:4326", transform, -9999.0)
    lc = landcover_raster(tmp_path / "lc.tif", area)
    a = _rates(tmp_path, "a", albers, "t/km2/a", lc, grid)
    # with grid = source, this one is counted on its own lon/lat grid, each row's cells with their true area
    b = _rates(tmp_path, "b", tmp_path / "lonlat_t_ha.tif", "t/ha/a", lc, grid)
    assert a.between(20, 95).all()
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), atol=0.2)


def test_t_per_pixel_in_lonlat_is_divided_by_each_pixels_geodesic_area(tmp_path):
    # Uniform 300 t/km² expressed per pixel: value = 300 × true cell area, which shrinks northwards.
    res = 1 / 120
    transform = from_origin(112.0, 36.0, res, res)
    geod = Geod(ellps="WGS84")
    rows = []
    for r in range(60):
        top, bottom = 36.0 - r * res, 36.0 - (r + 1) * res
        rows.append(
            abs(geod.polygon_area_perimeter([112, 112 + res, 112 + res, 112], [top, top, bottom, bottom])[0]) / 1e6
        )
    per_pixel = (300.0 * np.repeat(np.array(rows)[:, None], 80, axis=1)).astype("float32")
    src = write(tmp_path / "tpx.tif", per_pixel, "EPSG:4326", transform, -9999.0)
    with rasterio.open(src) as ds:
        np.testing.assert_allclose(pixel_area_km2(ds, Window(0, 0, 80, 60))[:, 0], rows, rtol=1e-9)
    x, y = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True).transform([112.1, 112.55], [35.55, 35.95])
    grid = AnalysisGrid.covering((x[0], y[0], x[1], y[1]), ALBERS, 250)
    align_erosion(src, "t/pixel/a", grid, tmp_path / "out.tif")
    with rasterio.open(tmp_path / "out.tif") as out:
        values = out.read(1)
    np.testing.assert_allclose(values[values != -9999], 300.0, rtol=1e-4)
    # Read on its own lon/lat grid (analysis.grid: source), each row is divided by its exact cell area,
    # and resampled by nearest neighbour onto a GK grid, each by its source pixel's.
    from swc_raster.sources import GridSource

    own = AnalysisGrid.on_lattice((112.0, 36.0 - 60 * res, 112.0 + 80 * res, 36.0), CRS_4326, 112.0, 36.0, res, snap=1)
    values = GridSource(src, own, kind="erosion", unit="t/pixel/a").read(Window(0, 0, own.width, own.height))
    assert (values != -9999).sum() == 80 * 60  # (a column past the raster when 80 · res rounds up: no data)
    np.testing.assert_allclose(values[values != -9999], 300.0, rtol=1e-9)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True).transform([112.1, 112.55], [35.55, 35.95])
    gk = AnalysisGrid.on_lattice((x[0], y[0], x[1], y[1]), CRS_4547, 0.0, 0.0, 90.0, snap=1)
    values = GridSource(src, gk, kind="erosion", unit="t/pixel/a").read(Window(0, 0, gk.width, gk.height))
    np.testing.assert_allclose(values[values != -9999], 300.0, rtol=1e-4)


def test_projected_pixel_area_matches_the_geodesic_area_of_the_cell(tmp_path):
    # A 30 m Gauss-Krüger cell ~150 km off the central meridian: areal scale ≈ 1.0006.
    x0, y0 = 365_000.0, 3_950_000.0
    src = write(tmp_path / "gk.tif", np.ones((4, 4), "float32"), "EPSG:4547", from_origin(x0, y0, 30, 30), None)
    lon, lat = Transformer.from_crs("EPSG:4547", "EPSG:4326", always_xy=True).transform(
        [x0, x0 + 30, x0 + 30, x0], [y0, y0, y0 - 30, y0 - 30]
    )
    geodesic = abs(Geod(ellps="GRS80").polygon_area_perimeter(lon, lat)[0]) / 1e6
    with rasterio.open(src) as ds:
        got = pixel_area_km2(ds, Window(0, 0, 1, 1))[0, 0]
    assert got == pytest.approx(geodesic, rel=1e-5)
    assert abs(got / 0.0009 - 1) > 1e-4  # the correction is real, not a no-op


def test_a_sliver_county_stops_prepare_batch_before_any_raster_work(tmp_path):
    area = counties(CODES).to_crs(ALBERS)
    x0, y0, _, _ = area.total_bounds
    xs = np.floor(x0 / 30) * 30 + 30 * 10 + 20  # between two columns of cell centres (…+15, …+45)
    sliver = gpd.GeoDataFrame(
        {"county_code": ["999999"], "county_name": ["细县"]},
        geometry=[shapely.box(xs, y0 + 100, xs + 5, y0 + 5000)],
        crs=ALBERS,
    ).to_crs("EPSG:4326")
    both = gpd.GeoDataFrame(
        pd.concat([counties(CODES)[["county_code", "county_name", "geometry"]], sliver]), crs="EPSG:4326"
    )
    both.to_file(tmp_path / "b.gpkg", layer="counties")
    stages.prepare_boundaries(
        tmp_path / "b.gpkg", **BOUNDARY_FIELDS, analysis_crs=ANALYSIS_CRS, out_gpkg=tmp_path / "all.gpkg"
    )
    with pytest.raises(CoverageError, match="999999 细县.*no cell centre.*resolution_m"):
        stages.prepare_batch(
            tmp_path / "all.gpkg",
            codes=[*CODES, "999999"],
            analysis_crs=ANALYSIS_CRS,
            resolution_m=30,
            out_gpkg=tmp_path / "c.gpkg",
            out_grid=tmp_path / "g.json",
            out_zones=tmp_path / "z.tif",
        )
    assert not any((tmp_path / n).exists() for n in ("c.gpkg", "g.json", "z.tif"))


def test_float_land_cover_is_refused_not_truncated(tmp_path):
    area = counties(CODES)
    lc = landcover_raster(tmp_path / "lc.tif", area)
    with rasterio.open(lc) as src:
        write(tmp_path / "lc_float.tif", src.read(1).astype("float32"), src.crs, src.transform, 0.0)
    grid = AnalysisGrid.covering(tuple(area.to_crs(ALBERS).total_bounds), ALBERS, 500)
    with pytest.raises(InputError, match="float32.*gdal_translate -ot UInt16"):
        align_landcover(tmp_path / "lc_float.tif", grid, tmp_path / "out.tif")
    assert not (tmp_path / "out.tif").exists()
