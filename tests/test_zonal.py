"""The zonal engine against a naive per-cell reference, and areas of analytic shapes."""

import math

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from swc_raster.grading import THRESHOLDS_T_KM2, grade_modulus
from swc_raster.grid import AnalysisGrid
from swc_raster.kernels import t_float32
from swc_raster.zonal import crosstab, window_for_memory, write_grade_raster

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=GRS80 +units=m"
T_CHOICES = [200.0, 500.0, 1000.0, 333.3]  # 333.3 is not a float32: its comparisons must still be exact
#: Land-cover codes and legends: small raw codes, GB/T 21010-like codes ≥ 32, a legend of more than 31 classes.
LEGENDS = {"small": [1, 2, 3], "large codes": [11, 12, 21, 101, 1203], "many classes": list(range(1, 41))}


def _write(path, array, grid, nodata):
    with rasterio.open(path, "w", **grid.profile(str(array.dtype), nodata, block=16)) as dst:
        dst.write(array, 1)


def _modulus(rng, shape):
    """Erosion moduli with every edge case: the thresholds themselves and their float32 neighbours, nodata, NaN, ±inf."""
    special = [*T_CHOICES, *THRESHOLDS_T_KM2]
    edges = np.array([np.nextafter(np.float32(v), d) for v in special for d in (-np.inf, np.inf)] + special, "float32")
    a = rng.lognormal(np.log(600), 1.6, shape).astype("float32")
    pick = rng.random(shape)
    a[pick < 0.25] = rng.choice(edges, int((pick < 0.25).sum()))
    a[(pick > 0.25) & (pick < 0.29)] = -9999.0
    a[(pick > 0.29) & (pick < 0.30)] = np.nan
    a[(pick > 0.30) & (pick < 0.31)] = np.inf
    return a


def _coverage(grid, poly):
    """Fraction of each cell inside ``poly``, from shapely's intersection areas (an independent computation)."""
    rows, cols = np.indices(grid.shape)
    t = grid.transform
    cells = shapely.box(t.c + cols * t.a, t.f + (rows + 1) * t.e, t.c + (cols + 1) * t.a, t.f + rows * t.e)
    return shapely.area(shapely.intersection(cells, poly)) / (t.a * -t.e)


def _naive(lc, erosion, polygons, t_values, grid, legend, footprint=None):
    """Per-cell reference: each cell weighted by the share of it inside the county, graded by numpy with its T.

    Data gap: cells whose centre lies outside ``footprint`` (the erosion raster's cells are whole cells).
    """
    rows, cols = np.indices(grid.shape)
    t = grid.transform
    xs, ys = t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e
    a = erosion.astype("float64")
    a[a == -9999.0] = np.nan
    covered = np.ones(grid.shape, bool) if footprint is None else shapely.contains_xy(footprint, xs, ys)
    index = np.array([legend.index(v) + 1 if v in legend else 0 for v in lc.ravel()]).reshape(lc.shape)
    out = np.zeros((len(polygons), len(legend) + 1, 8))
    for z, (poly, t_z) in enumerate(zip(polygons, t_values)):
        grade = np.where(covered, grade_modulus(a, t_z), 7)
        np.add.at(out[z], (index, grade), _coverage(grid, poly))
    return out


def _setup(tmp_path, seed, shape, n_polys, legend=(1, 2, 3), lc_dtype="uint8"):
    rng = np.random.default_rng(seed)
    h, w = shape
    grid = AnalysisGrid.covering((0, 0, w * 100.0, h * 100.0), ALBERS, 100.0)
    codes = np.array([0, *legend, max(legend) + 1])  # 0 = no data, the last is not in the legend
    lc = rng.choice(codes, shape).astype(lc_dtype)
    erosion = _modulus(rng, shape)
    # counties: Voronoi cells of random points (neighbours share edges exactly), cut by a random
    # heptagon (the region's outline, partly off the grid), one of them with a hole
    box = shapely.box(-1000, -1000, w * 100 + 1000, h * 100 + 1000)
    seeds = shapely.multipoints(np.c_[rng.uniform(0, w * 100, n_polys), rng.uniform(0, h * 100, n_polys)])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)) if n_polys > 1 else np.array([box])
    cx, cy, r = rng.uniform(0, w * 100), rng.uniform(0, h * 100), rng.uniform(0.3, 0.8) * max(h, w) * 100
    angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
    region = shapely.Polygon(np.c_[cx + r * np.cos(angles), cy + r * np.sin(angles)])
    polys = [
        p for p in shapely.intersection(cells, region) if p.area > 0 and p.geom_type in ("Polygon", "MultiPolygon")
    ]
    if polys and rng.random() < 0.5:
        polys[0] = polys[0].difference(polys[0].centroid.buffer(rng.uniform(50, 400)))
    t_values = rng.choice(T_CHOICES, len(polys))
    counties = gpd.GeoDataFrame(
        {"zone": np.arange(1, len(polys) + 1), "county_code": [f"C{i}" for i in range(len(polys))]},
        geometry=polys,
        crs=ALBERS,
    )
    _write(tmp_path / "lc.tif", lc, grid, 0)
    _write(tmp_path / "ero.tif", erosion, grid, -9999.0)
    return grid, lc, erosion, counties, t_values


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    h=st.integers(20, 90),
    w=st.integers(20, 90),
    n=st.integers(1, 4),
    window=st.sampled_from([64, 128]),
    legend=st.sampled_from(sorted(LEGENDS)),
    lc_dtype=st.sampled_from(["uint8", "uint16"]),
    with_gap=st.booleans(),
)
def test_engine_equals_naive_reference(tmp_path_factory, seed, h, w, n, window, legend, lc_dtype, with_gap):
    tmp = tmp_path_factory.mktemp("z")
    legend = LEGENDS[legend]
    if lc_dtype == "uint8" and max(legend) > 254:
        legend = [c for c in legend if c < 255]
    grid, lc, erosion, counties, t_values = _setup(tmp, seed, (h, w), n, legend, lc_dtype)
    assume(len(counties) > 0)  # a degenerate random outline can miss every Voronoi cell
    # an erosion raster that stops short of the grid's top and right (edges off the cell centres)
    footprint = shapely.box(-500, -500, w * 100 * 0.7 + 13, h * 100 * 0.8 + 29) if with_gap else None
    got = crosstab(
        tmp / "lc.tif",
        tmp / "ero.tif",
        counties,
        legend,
        grid,
        np.r_[0, t_values],
        footprint=footprint,
        window_size=window,
        workers=1,
    )
    expected = _naive(lc, erosion, list(counties.geometry), t_values, grid, legend, footprint) * grid.cell_area_km2
    np.testing.assert_allclose(got.values, expected, rtol=1e-9, atol=1e-12)


def test_table_agrees_with_the_grade_raster_cell_for_cell(tmp_path):
    """The engine grades in its own loop; the grade raster is written by numpy: both must count the same cells.

    Counties on cell lines, so that coverage and pixel-centre rules give the same cells.
    """
    grid, *_ = _setup(tmp_path, 11, (120, 150), 4)
    t_values = np.array(T_CHOICES)
    boxes = [
        shapely.box(0, 0, 6000, 7000),
        shapely.box(6000, 0, 15000, 7000),
        shapely.box(0, 7000, 9000, 12000),
        shapely.box(9000, 7000, 15000, 12000).difference(shapely.box(11000, 8000, 13000, 10000)),
    ]
    counties = gpd.GeoDataFrame({"zone": [1, 2, 3, 4], "county_code": ["A", "B", "C", "D"]}, geometry=boxes, crs=ALBERS)
    # the erosion raster as delivered covers only the lower left of the grid: the rest is data gap
    with rasterio.open(tmp_path / "ero.tif") as src:
        part = src.read(1)[40:, :100]
        profile = src.profile | {
            "width": 100,
            "height": 80,
            "transform": src.transform * src.transform.translation(0, 40),
        }
    with rasterio.open(tmp_path / "source.tif", "w", **profile) as dst:
        dst.write(part, 1)
    t_by_zone = np.r_[0, t_values]
    write_grade_raster(
        tmp_path / "ero.tif", tmp_path / "source.tif", counties, t_by_zone, grid, tmp_path / "grade.tif", window_size=64
    )
    with rasterio.open(tmp_path / "source.tif") as src:
        from swc_raster.footprint import raster_footprint

        cover = raster_footprint(src, grid.crs_wkt)
    table = crosstab(
        tmp_path / "lc.tif",
        tmp_path / "ero.tif",
        counties,
        [1, 2, 3],
        grid,
        t_by_zone,
        footprint=cover,
        window_size=64,
        workers=2,
    )
    with rasterio.open(tmp_path / "grade.tif") as src:
        grade = src.read(1)
    zones = _naive_zones(grid, counties)
    for z, code in zip(counties.zone, counties.county_code):
        expected = np.bincount(grade[zones == z], minlength=8)[:8]
        got = table.sel(county_code=code).sum("landcover_code").values / grid.cell_area_km2
        np.testing.assert_allclose(got, expected)
    assert float(table.sel(grade_code=7).sum()) > 0  # the gap was exercised


def _naive_zones(grid, counties):
    rows, cols = np.indices(grid.shape)
    t = grid.transform
    xs, ys = t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e
    zones = np.zeros(grid.shape, int)
    for z, poly in zip(counties.zone, counties.geometry):
        zones[shapely.contains_xy(poly, xs, ys)] = z
    return zones


def test_float32_t_gives_the_float64_comparison():
    for t in [200.0, 333.3, 1e-3, 2499.999]:
        t32 = t_float32(t)
        near = np.array([np.nextafter(t32, -np.inf), t32, np.nextafter(t32, np.inf), np.float32(t)], "float32")
        np.testing.assert_array_equal(near >= t32, near.astype("float64") >= t)


def test_window_size_and_worker_count_do_not_change_the_result(tmp_path):
    grid, _, _, counties, t_values = _setup(tmp_path, 7, (300, 260), 4)
    runs = [
        crosstab(
            tmp_path / "lc.tif",
            tmp_path / "ero.tif",
            counties,
            [1, 2, 3],
            grid,
            np.r_[0, t_values],
            window_size=ws,
            workers=wk,
        ).values
        for ws, wk in [(64, 1), (128, 2), (4096, 1)]
    ]
    for r in runs[1:]:  # the same cells and coverages; only the order of the float sums differs
        np.testing.assert_allclose(r, runs[0], rtol=1e-12, atol=1e-12)
    assert all(max(win.width, win.height) <= 64 for win in grid.windows(64))


def test_reads_are_bounded_by_the_tile_and_no_cell_is_read_twice(tmp_path, monkeypatch):
    """Memory is bounded by the unit read (≤ one tile, ≤ the window), and each raster is read once, not per county."""
    from swc_raster import zonal

    grid, _, _, counties, t_values = _setup(tmp_path, 3, (300, 260), 4)
    reads: dict[str, list] = {}
    real_open = rasterio.open

    class Spy:
        def __init__(self, path, *args, **kwargs):
            self._ds, self._name = real_open(path, *args, **kwargs), str(path)

        def __getattr__(self, name):
            return getattr(self._ds, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._ds.close()

        def read(self, *args, window=None, **kwargs):
            reads.setdefault(self._name, []).append(window)
            return self._ds.read(*args, window=window, **kwargs)

    monkeypatch.setattr(zonal.rasterio, "open", Spy)
    crosstab(
        tmp_path / "lc.tif",
        tmp_path / "ero.tif",
        counties,
        [1, 2, 3],
        grid,
        np.r_[0, t_values],
        window_size=64,
        workers=1,
    )
    assert set(reads) == {str(tmp_path / "lc.tif"), str(tmp_path / "ero.tif")}
    for windows in reads.values():
        assert all(w.width <= 64 and w.height <= 64 for w in windows)
        seen = np.zeros(grid.shape, int)
        for w in windows:
            seen[w.row_off : w.row_off + w.height, w.col_off : w.col_off + w.width] += 1
        assert seen.max() == 1


def test_area_of_a_grid_aligned_rectangle_is_exact(tmp_path):
    grid, *_ = _setup(tmp_path, 1, (100, 100), 1)
    rect = gpd.GeoDataFrame(
        {"zone": [1], "county_code": ["R"]}, geometry=[shapely.box(1000, 2000, 4000, 4000)], crs=ALBERS
    )
    got = crosstab(
        tmp_path / "lc.tif", tmp_path / "ero.tif", rect, [1, 2, 3], grid, [0, 200], window_size=64, workers=1
    )
    assert float(got.sum()) == pytest.approx(3.0 * 2.0)  # 3 km × 2 km


def test_area_of_a_disc_is_close_to_pi_r_squared(tmp_path):
    grid, *_ = _setup(tmp_path, 1, (100, 100), 1)
    disc = gpd.GeoDataFrame(
        {"zone": [1], "county_code": ["D"]}, geometry=[shapely.Point(5000, 5000).buffer(3000, 256)], crs=ALBERS
    )
    got = float(
        crosstab(tmp_path / "lc.tif", tmp_path / "ero.tif", disc, [1], grid, [0, 200], window_size=64, workers=1).sum()
    )
    assert got == pytest.approx(disc.geometry.area.iloc[0] / 1e6, rel=1e-9)  # boundary cells weighted by their coverage
    assert got == pytest.approx(math.pi * 9.0, rel=1e-4)  # the 256-segment polygon's own deficit, 3e-5


def test_a_grade_raster_in_place_of_the_modulus_is_refused(tmp_path):
    grid, *_ = _setup(tmp_path, 1, (40, 40), 1)
    _write(tmp_path / "grade.tif", np.ones((40, 40), "uint8"), grid, 255)
    disc = gpd.GeoDataFrame(
        {"zone": [1], "county_code": ["D"]}, geometry=[shapely.Point(2000, 2000).buffer(900)], crs=ALBERS
    )
    with pytest.raises(ValueError, match="grade.tif: expected the aligned erosion modulus"):
        crosstab(tmp_path / "lc.tif", tmp_path / "grade.tif", disc, [1], grid, [0, 200], window_size=64, workers=1)


def test_memory_budget_sets_the_window_and_rejects_impossible_budgets():
    assert window_for_memory(1000, 2) == 2048
    assert window_for_memory(24000, 2) == 4096
    with pytest.raises(ValueError, match="mem_mb"):
        window_for_memory(200, 2)


# --------------------------------------------------------------------------- counting on a source's own grid (issue 12)


def _source_grid(path, counties, snap=512):
    with rasterio.open(path) as src:
        t, crs = src.transform, src.crs.to_wkt()
    return AnalysisGrid.on_lattice(tuple(counties.to_crs(crs).total_bounds), crs, t.c, t.f, t.a, snap=snap)


@pytest.mark.parametrize("crs", ["EPSG:4547", "EPSG:32649", "EPSG:4326"])
def test_land_areas_on_a_source_grid_match_geodesic_polygon_areas(tmp_path, crs):
    """Counting on the erosion raster's own grid (conformal GK/UTM, or lon/lat), each row's cells weighted by
    their true area: every county's land is its polygon's geodesic area (pyproj.Geod, independent of the engine)."""
    from pyproj import Geod

    from tests._rasters import counties as real_counties
    from tests._rasters import erosion_raster, landcover_raster

    area = real_counties(["140502", "140581"])
    res = 1 / 1200 if crs == "EPSG:4326" else 90.0
    erosion_raster(tmp_path / "ero.tif", area, crs=crs, res=res)
    landcover_raster(tmp_path / "lc.tif", area)
    grid = _source_grid(tmp_path / "ero.tif", area)
    zones = area.to_crs(grid.crs_wkt).assign(zone=[1, 2])
    table = crosstab(
        tmp_path / "lc.tif",
        tmp_path / "ero.tif",
        zones,
        list(range(1, 9)),
        grid,
        [0, 200, 1000],
        window_size=256,
        workers=1,
        erosion_unit="t/km2/a",
    )
    geod = Geod(ellps="GRS80")
    expected = [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in area.to_crs("EPSG:4326").geometry]
    got = table.sum(("landcover_code", "grade_code")).values
    np.testing.assert_allclose(got, expected, rtol=2e-4)  # the 0.1 % the issue asks, with room to spare


def test_batches_read_exactly_the_cells_a_single_job_reads(tmp_path):
    """Nearest-neighbour resampling through the coarse lattice: a batch's tiles are cut elsewhere, but each
    global cell gets the same source cell as in one job over the whole region."""
    from swc_raster.sources import GridSource
    from tests._rasters import counties as real_counties
    from tests._rasters import erosion_raster, landcover_raster

    area = real_counties(["140502", "140581"])
    erosion_raster(tmp_path / "ero.tif", area, res=30.0)
    landcover_raster(tmp_path / "lc.tif", area)
    whole = _source_grid(tmp_path / "ero.tif", area, snap=1)
    part = _source_grid(tmp_path / "ero.tif", area.iloc[[1]], snap=1)
    one, two = (
        GridSource(tmp_path / "lc.tif", whole, kind="landcover"),
        GridSource(tmp_path / "lc.tif", part, kind="landcover"),
    )
    assert one.mode == two.mode == "nearest"
    a = one.read(rasterio.windows.Window(0, 0, whole.width, whole.height))
    b = two.read(rasterio.windows.Window(0, 0, part.width, part.height))
    (r0, c0), (r1, c1) = whole.global_offset, part.global_offset
    np.testing.assert_array_equal(b, a[r1 - r0 : r1 - r0 + part.height, c1 - c0 : c1 - c0 + part.width])


def test_nearest_through_the_lattice_takes_the_source_cell_under_each_exact_centre(tmp_path):
    """Each cell's source cell from the interpolated lattice equals the one under its centre transformed
    exactly by PROJ, except within 1e-3 cell of a source cell's edge (a tie either way is nearest)."""
    from pyproj import Transformer

    from swc_raster.sources import GridSource
    from tests._rasters import counties as real_counties
    from tests._rasters import erosion_raster, landcover_raster

    area = real_counties(["140502"])
    erosion_raster(tmp_path / "ero.tif", area, res=30.0)
    landcover_raster(tmp_path / "lc.tif", area)
    grid = _source_grid(tmp_path / "ero.tif", area, snap=1)
    got = GridSource(tmp_path / "lc.tif", grid, kind="landcover").read(
        rasterio.windows.Window(0, 0, grid.width, grid.height)
    )
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    x, y = grid.x0 + (cols + 0.5) * grid.res, grid.y0 - (rows + 0.5) * grid.res
    with rasterio.open(tmp_path / "lc.tif") as src:
        lon, lat = Transformer.from_crs(grid.crs_wkt, src.crs.to_wkt(), always_xy=True).transform(x, y)
        u, v = ~src.transform * (lon, lat)
        lc = src.read(1)
    expected = lc[np.floor(v).astype(int), np.floor(u).astype(int)]
    near_edge = (np.abs(u - np.round(u)) < 1e-3) | (np.abs(v - np.round(v)) < 1e-3)
    assert (got[~near_edge] == expected[~near_edge]).all()
    assert near_edge.mean() < 0.01


def test_a_raster_on_the_grid_lattice_is_read_cell_for_cell_at_the_right_place(tmp_path):
    """Direct reads on a grid cut from the raster's lattice (offset rows and columns, part outside): each
    grid cell gets the raster cell under its centre (rasterio's index of the centre coordinates)."""
    from swc_raster.sources import GridSource

    t = rasterio.transform.from_origin(500_000.0, 4_000_000.0, 30.0, 30.0)
    values = np.arange(40 * 50, dtype="float32").reshape(40, 50)
    with rasterio.open(
        tmp_path / "ero.tif",
        "w",
        driver="GTiff",
        width=50,
        height=40,
        count=1,
        dtype="float32",
        crs="EPSG:4547",
        transform=t,
        nodata=-9999.0,
    ) as dst:
        dst.write(values, 1)
    crs = rasterio.crs.CRS.from_epsg(4547).to_wkt()
    # 7 rows down, 11 columns right of the raster's corner, running 20 cells past its right and bottom sides
    grid = AnalysisGrid.on_lattice(
        (500_000.0 + 11 * 30 + 1, 4_000_000.0 - 60 * 30 + 1, 500_000.0 + 70 * 30 - 1, 4_000_000.0 - 7 * 30 - 1),
        crs,
        500_000.0,
        4_000_000.0,
        30.0,
        snap=1,
    )
    reader = GridSource(tmp_path / "ero.tif", grid, kind="erosion", unit="t/km2/a")
    assert reader.mode == "direct" and (grid.height, grid.width) == (53, 59)
    got = reader.read(rasterio.windows.Window(0, 0, grid.width, grid.height))
    with rasterio.open(tmp_path / "ero.tif") as src:
        for r, c in [(0, 0), (5, 3), (32, 38), (33, 38), (32, 39), (52, 58)]:
            x, y = grid.x0 + (c + 0.5) * grid.res, grid.y0 - (r + 0.5) * grid.res
            row, col = src.index(x, y)
            inside = 0 <= row < src.height and 0 <= col < src.width
            assert got[r, c] == (values[row, col] if inside else -9999.0), (r, c)


def test_on_a_source_grid_batches_count_what_one_job_counts(tmp_path):
    """Each county counted in its own batch (its own piece of the lattice) gets the areas of one job over both:
    the same cells, read the same way (land cover resampled through the global lattice), the same true areas."""
    from tests._rasters import counties as real_counties
    from tests._rasters import erosion_raster, landcover_raster

    area = real_counties(["140502", "140581"])
    erosion_raster(tmp_path / "ero.tif", area, res=90.0)
    landcover_raster(tmp_path / "lc.tif", area)
    legend = list(range(1, 9))

    def count(part):
        grid = _source_grid(tmp_path / "ero.tif", part)
        zones = part.to_crs(grid.crs_wkt).reset_index(drop=True).assign(zone=lambda d: np.arange(1, len(d) + 1))
        return crosstab(
            tmp_path / "lc.tif",
            tmp_path / "ero.tif",
            zones,
            legend,
            grid,
            [0, *([300.0] * len(zones))],
            window_size=256,
            workers=1,
            erosion_unit="t/km2/a",
        )

    whole = count(area)
    for i in range(len(area)):
        alone = count(area.iloc[[i]])
        np.testing.assert_allclose(alone.values[0], whole.values[i], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_axis_parallel_edges_inside_a_row_count_by_coverage(tmp_path, seed):
    """Counties with horizontal and vertical edges off the cell lines (boxes, a box-shaped hole): each
    county's area is its polygon's area.  A horizontal edge inside a row has no signed area, but the
    cells it crosses are partly covered and must be corrected (they once kept their pixel-centre count)."""
    rng = np.random.default_rng(seed)
    grid = AnalysisGrid.covering((0, 0, 6400.0, 6400.0), ALBERS, 100.0)
    x = np.sort(rng.uniform(150, 6250, 3))
    y = np.sort(rng.uniform(150, 6250, 2))
    outer = [shapely.box(x[0], y[0], x[1], y[1]), shapely.box(x[1], y[0], x[2], y[1])]
    hole = shapely.box(x[0] + 0.3 * (x[1] - x[0]), y[0] + 0.37 * (y[1] - y[0]), x[0] + 0.61 * (x[1] - x[0]), y[1] - 55)
    polys = [outer[0].difference(hole), outer[1]]
    counties = gpd.GeoDataFrame({"zone": [1, 2], "county_code": ["1", "2"]}, geometry=polys, crs=ALBERS)
    _write(tmp_path / "lc.tif", np.ones(grid.shape, "uint8"), grid, 0)
    _write(tmp_path / "ero.tif", np.full(grid.shape, 100.0, "float32"), grid, -9999.0)
    table = crosstab(tmp_path / "lc.tif", tmp_path / "ero.tif", counties, [1], grid, [0.0, 200.0, 200.0], workers=1)
    got = table.sum(["landcover_code", "grade_code"]).values
    np.testing.assert_allclose(got, [p.area / 1e6 for p in polys], rtol=0, atol=1e-9)
