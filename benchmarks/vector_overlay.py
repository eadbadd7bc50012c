"""Exact polygon overlay vs the rasterized fallback on a real-size vector case (issue 15, decision 0007).

Synthetic survey land use and erosion patches over the six real Jincheng counties
(/work/shared/data/jincheng_counties.gpkg, 9 417 km²):

- land use: a Voronoi tessellation of the city (``--landuse`` cells, ~0.5 km² each at 20 000),
  one class of the 8 bulletin classes per cell; every 4th interior cell holds an island of
  another class in a hole (a polygon with a hole plus the island polygon);
- erosion patches: half the cells of a second tessellation (``--patches`` cells), shrunk by
  30 m so that none touch, graded 2–6; every 3rd with a hole (non-eroded land inside), every
  10th pair joined into one multipart patch.

Both tables are made from the same in-memory layers (reading, reprojection and the overlap
check are timed apart). Reported: wall time of each method, the largest difference of a
county's rate (pp), of a county's land area and of any table cell (km²), against the exact one.

    .venv/bin/python benchmarks/vector_overlay.py --resolutions 30 10
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity

from swc_raster import rates
from swc_raster.legend import read_legend
from swc_raster.vector_inputs import (
    ErosionPatches,
    LandUsePolygons,
    _refuse_overlaps,
    crosstab_exact,
    crosstab_rasterized,
)

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
COUNTIES = "/work/shared/data/jincheng_counties.gpkg"


def tessellate(region: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` Voronoi cells of random points, clipped to ``region``."""
    xmin, ymin, xmax, ymax = region.bounds
    points = shapely.points(rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=region.envelope))
    cells = shapely.intersection(cells, region)
    cells = shapely.get_parts(cells)  # a cell the outline cuts in two becomes two polygons
    return cells[shapely.area(cells) > 1.0]


def landuse_layer(city: shapely.Geometry, n: int, rng: np.random.Generator) -> LandUsePolygons:
    cells = tessellate(city, n, rng)
    codes = rng.integers(1, 9, len(cells))
    interior = shapely.contains_properly(city, cells) & (np.arange(len(cells)) % 4 == 0)
    islands = np.array([affinity.scale(c, 0.4, 0.4, origin="centroid") for c in cells[interior]])
    rings = shapely.difference(cells[interior], islands)
    geoms = np.concatenate([cells[~interior], rings, islands])
    island_codes = codes[interior] % 8 + 1  # another class than the ring around it
    return LandUsePolygons(geoms, np.concatenate([codes[~interior], codes[interior], island_codes]), "synthetic")


def patch_layer(city: shapely.Geometry, n: int, rng: np.random.Generator) -> ErosionPatches:
    cells = tessellate(city, n, rng)
    cells = cells[rng.random(len(cells)) < 0.5]
    cells = shapely.buffer(cells, -30.0)
    cells = shapely.get_parts(cells[~shapely.is_empty(cells)])
    cells = cells[shapely.area(cells) > 1000.0]
    holed = np.arange(len(cells)) % 3 == 0
    cells[holed] = shapely.difference(
        cells[holed], [affinity.scale(c, 0.3, 0.3, origin="centroid") for c in cells[holed]]
    )
    pairs = np.arange(0, len(cells) - 1, 20)  # every 10th pair of patches becomes one multipart patch
    merged = [shapely.MultiPolygon([cells[i], cells[i + 1]]) for i in pairs]
    single = np.setdiff1d(np.arange(len(cells)), np.r_[pairs, pairs + 1])
    geoms = np.concatenate([cells[single], np.array(merged, dtype=object)])
    grades = rng.choice([2, 3, 4, 5, 6], len(geoms), p=[0.5, 0.25, 0.12, 0.08, 0.05]).astype("uint8")
    return ErosionPatches(geoms, grades, None, "synthetic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landuse", type=int, default=20_000, help="land-use Voronoi cells")
    parser.add_argument("--patches", type=int, default=8_000, help="patch Voronoi cells (half become patches)")
    parser.add_argument("--resolutions", type=float, nargs="+", default=[30.0, 10.0])
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    counties = gpd.read_file(COUNTIES, layer="counties").to_crs(ALBERS)
    counties = gpd.GeoDataFrame(
        {"county_code": counties["district"].astype(str)}, geometry=counties.geometry.values, crs=counties.crs
    )
    city = shapely.union_all(counties.geometry.values)
    landuse = landuse_layer(city, args.landuse, rng)
    patches = patch_layer(city, args.patches, rng)
    n_holes = int(
        (shapely.get_num_interior_rings(shapely.get_parts(np.r_[landuse.geometry, patches.geometry])) > 0).sum()
    )
    n_multi = int((shapely.get_type_id(patches.geometry) == 6).sum())
    print(
        f"{len(counties)} counties, {city.area / 1e6:.1f} km²; {len(landuse.geometry)} land-use polygons, "
        f"{len(patches.geometry)} patches ({n_multi} multipart), {n_holes} polygons with holes; "
        f"eroded {shapely.area(patches.geometry).sum() / 1e6:.1f} km²"
    )

    t0 = time.perf_counter()
    _refuse_overlaps(landuse.geometry, "landuse")
    _refuse_overlaps(patches.geometry, "patches")
    print(f"overlap checks of both layers: {time.perf_counter() - t0:.2f} s")

    legend = read_legend("gbt21010_8").codes
    t_by = dict.fromkeys(counties["county_code"], 200.0)
    kwargs = dict(landuse=landuse, legend_codes=legend, t_by_county=t_by, uncovered="slight")
    t0 = time.perf_counter()
    exact = crosstab_exact(counties, patches, **kwargs)
    t_exact = time.perf_counter() - t0
    names = {c: c for c in counties["county_code"]}
    rate_exact = rates.county_rates(exact, names, t_by, year=0, region_code="city", region_name="city")
    polygon_km2 = shapely.area(counties.geometry.values) / 1e6
    land_err = np.abs(exact.sum(["landcover_code", "grade_code"]).values - polygon_km2).max()
    print(f"\nexact overlay: {t_exact:.2f} s; its land areas differ from the polygon areas by ≤ {land_err:.2e} km²")
    print(
        "| method | time (s) | × exact | max county rate diff (pp) | max county land diff (km²) "
        "| max cell diff (km²) | max county eroded-area diff (%) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(f"| exact overlay | {t_exact:.1f} | 1.0 | 0 | 0 | 0 | 0 |")
    for res in args.resolutions:
        t0 = time.perf_counter()
        burnt = crosstab_rasterized(counties, patches, resolution_m=res, **kwargs)
        t_burnt = time.perf_counter() - t0
        rate_burnt = rates.county_rates(burnt, names, t_by, year=0, region_code="city", region_name="city")
        d_rate = np.abs(rate_burnt.rate_pct.to_numpy() - rate_exact.rate_pct.to_numpy()).max()
        d_land = np.abs(rate_burnt.land_area_km2.to_numpy() - rate_exact.land_area_km2.to_numpy())[:-1].max()
        d_cell = np.abs(burnt.values - exact.values).max()
        d_eroded = np.abs(rate_burnt.erosion_area_km2 - rate_exact.erosion_area_km2) / rate_exact.erosion_area_km2
        print(
            f"| rasterized {res:g} m | {t_burnt:.1f} | {t_burnt / t_exact:.1f} | {d_rate:.4f} | {d_land:.3f} "
            f"| {d_cell:.3f} | {100 * d_eroded.max():.3f} |"
        )


if __name__ == "__main__":
    main()
