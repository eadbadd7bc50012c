"""A demo year delivered as polygons: erosion patches (图斑) and survey land use (三调-like).

Monitoring teams also receive a year as vectors: the dynamic monitoring's erosion patches with an
intensity grade, and the land survey's parcels with GB/T 21010 codes. The demo makes such a year
from its own landscape: the year is generated on a coarse grid (:data:`POLYGON_RES_M`), each cell
graded by SL 190 with T = 200 t/(km²·a) (water and the densest built-up land, nodata in the
raster products, are not eroded), regions smaller than :data:`MIN_PATCH_CELLS` cells merged into
their largest neighbour (a minimum mapping unit, as survey layers have), and both grids turned
into polygons in CGCS2000 / 3-degree Gauss-Krüger CM 114E (EPSG:4547):

- **erosion patches** (``erosion_patches.gpkg``, layer ``patches``): the eroded land only (grades
  2–6; land without a patch is 微度, ``uncovered: slight``), one feature per county, grade and
  5 km tile — so features are multipart and many have holes (islands of 微度 land) — with the grade
  as its Chinese name in ``QSQD`` (侵蚀强度) and its code in ``QSQD_DM``;
- **survey land use** (``landuse.gpkg``, layer ``DLTB``): one polygon per land-cover region with a
  GB/T 21010 second-level code in ``DLBM`` (地类编码) and its name in ``DLMC``; each of the demo's
  8 classes is split between the codes a survey would use there (cropland 0103 旱地 / 0102 水浇地,
  forest 0301 乔木林地 / 0305 灌木林地, built-up 0702 / 0701 / 0602 …), chosen per polygon from a
  seeded stream, so ``code_map: gbt21010_8`` maps them back to the 8 classes.

The two layers are exact renderings of the coarse grids, so the year's rates by exact overlay
differ from that grid's raster truth only by the merged small regions (measured in
``tests/test_demo.py`` and decision record 0003).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np

from swc_raster.atomic import atomic_outputs
from swc_raster.csv_files import DEMO_TAG, DEMO_TAG_KEY
from swc_raster.demo.constants import (
    BUILT,
    CROP,
    DEFAULT_SEED,
    EROSION_CRS,
    EROSION_NODATA,
    FOREST,
    GRASS,
    ORCHARD,
    OTHER,
    T_ALLOWABLE,
    TRANSPORT,
    WATER,
)
from swc_raster.demo.erosion import generate
from swc_raster.demo.grids import rng_stream
from swc_raster.demo.rasters import check_year_and_resolution
from swc_raster.grading import GRADE_NAMES_ZH, grade_modulus

#: Files of a polygon year: key → (file name, layer, attribute the config names).
DEMO_POLYGON_FILES: Final = {
    "erosion_patches": ("erosion_patches.gpkg", "patches", "QSQD"),
    "landuse_polygons": ("landuse.gpkg", "DLTB", "DLBM"),
}
#: Cell size of the grid the polygons are drawn from, m (coarse enough to keep the layers small).
POLYGON_RES_M: Final = 120.0
#: Land-use regions smaller than this many cells join their largest neighbour (120 m: 5.8 ha).
MIN_PATCH_CELLS: Final = 4
#: Side of the tiles that group a county's patches of one grade into one multipart feature, m.
PATCH_TILE_M: Final = 5000.0
#: Survey codes of each legend class, with the share of polygons that get each (GB/T 21010-2017).
SURVEY_CODES: Final[Mapping[int, tuple[tuple[str, str, float], ...]]] = {
    CROP: (("0103", "旱地", 0.85), ("0102", "水浇地", 0.15)),
    ORCHARD: (("0201", "果园", 1.0),),
    FOREST: (("0301", "乔木林地", 0.7), ("0305", "灌木林地", 0.3)),
    GRASS: (("0404", "其他草地", 1.0),),
    BUILT: (("0702", "农村宅基地", 0.6), ("0701", "城镇住宅用地", 0.3), ("0602", "采矿用地", 0.1)),
    TRANSPORT: (("1006", "农村道路", 0.6), ("1003", "公路用地", 0.4)),
    WATER: (("1101", "河流水面", 0.6), ("1103", "水库水面", 0.2), ("1104", "坑塘水面", 0.2)),
    OTHER: (("1206", "裸土地", 0.5), ("1207", "裸岩石砾地", 0.5)),
}
#: Random stream of the survey-code choice (distinct from the landscape's streams).
_CODE_STREAM: Final = 60


def write_demo_polygons(
    boundaries_path: str,
    year: int,
    out_dir: str,
    *,
    layer: str = "counties",
    resolution_m: float = POLYGON_RES_M,
    min_cells: int = MIN_PATCH_CELLS,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Write one demo year as erosion patches and survey land-use polygons (GeoPackages in ``out_dir``).

    Parameters
    ----------
    boundaries_path : str
        The counties (``county_code``, ``county_name``), as for :func:`write_demo_year`.
    year : int
        Year label, 2015–2035 (the landscape of that year, as the raster years).
    out_dir : str
        Folder of the two files of :data:`DEMO_POLYGON_FILES` (created).
    resolution_m : float, default 120
        Cell size the polygons are drawn from, m.
    min_cells : int, default 4
        Minimum mapping unit in cells; smaller regions join their largest neighbour.
    seed : int
        Seed of the landscape and of the survey-code choice; same arguments → identical layers.

    Returns
    -------
    dict
        Paths, feature counts, how many patch features are multipart or have holes, and the
        rate per county of the grid the polygons were drawn from (% of land with A < T).
    """
    import geopandas as gpd
    from rasterio.features import rasterize, sieve

    year, resolution_m = check_year_and_resolution(year, resolution_m)
    _counties, region, target, state, erosion, summary = generate(boundaries_path, layer, year, resolution_m, seed)
    lc = state.lc
    del state
    # Not eroded where the raster products have nodata (water, dense built-up): no patch there.
    grade = grade_modulus(np.where(erosion == EROSION_NODATA, 0.0, erosion), T_ALLOWABLE)
    del erosion
    lc = sieve(lc, size=min_cells, connectivity=4)
    county_ids = rasterize(
        [(geom, i + 1) for i, geom in enumerate(region.geometry)],
        out_shape=target.shape,
        transform=target.transform,
        fill=0,
        dtype="int16",
    )
    near_region = _dilate(county_ids > 0, 2)

    patches = _patches(grade, county_ids, target.transform, region)
    landuse = _landuse(lc, near_region, target.transform, seed)
    paths = {key: str(Path(out_dir) / name) for key, (name, _, _) in DEMO_POLYGON_FILES.items()}
    metadata = {
        DEMO_TAG_KEY: DEMO_TAG,
        "SWC_YEAR": str(year),
        "SWC_SEED": str(seed),
        "SWC_RESOLUTION_M": f"{resolution_m:g}",
        "SWC_GENERATOR": "swc_raster.demo.write_demo_polygons",
    }
    with atomic_outputs(paths["erosion_patches"], paths["landuse_polygons"]) as (patches_tmp, landuse_tmp):
        for frame, tmp, key in ((patches, patches_tmp, "erosion_patches"), (landuse, landuse_tmp, "landuse_polygons")):
            gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=EROSION_CRS)
            gdf.to_file(tmp, layer=DEMO_POLYGON_FILES[key][1], driver="GPKG", metadata=metadata)
    geoms = patches["geometry"]
    return {
        "year": year,
        "seed": seed,
        "resolution_m": resolution_m,
        "paths": paths,
        "crs": EROSION_CRS,
        "patch_features": len(geoms),
        "multipart_features": sum(g.geom_type == "MultiPolygon" for g in geoms),
        "features_with_holes": sum(any(len(p.interiors) for p in getattr(g, "geoms", [g])) for g in geoms),
        "landuse_features": len(landuse["geometry"]),
        "rate_estimate_pct": summary["rate_estimate_pct"],
    }


def _with_cell_vertices(polygon, cell: float):
    """``polygon`` with a vertex at every cell corner along its edges.

    Neighbouring regions then share every vertex, so they still meet exactly after a reprojection
    (a long straight edge and its neighbour's many vertices would otherwise bend apart into slivers).
    """
    import shapely

    return shapely.segmentize(polygon, cell * 1.0001)


def _dilate(mask: np.ndarray, cells: int) -> np.ndarray:
    from scipy.ndimage import binary_dilation

    return binary_dilation(mask, iterations=cells)


def _patches(grade: np.ndarray, county_ids: np.ndarray, transform, region) -> dict[str, list]:
    """Eroded regions (grades 2–6) as features: one per county, grade and tile (multipart, with holes)."""
    from rasterio.features import shapes
    from shapely.geometry import shape
    from shapely.ops import unary_union

    eroded = (grade >= 2) & (county_ids > 0)
    # Each region is cut by county so every feature lies in one county, as the county-wise deliveries do.
    key = np.where(eroded, county_ids.astype(np.int32) * 10 + grade.astype(np.int32), 0).astype(np.int32)
    groups: dict[tuple[int, int, int, int], list] = {}
    for geom, value in shapes(key, mask=eroded, connectivity=4, transform=transform):
        poly = _with_cell_vertices(shape(geom), transform.a)
        c = poly.representative_point()
        tile = (int(c.x // PATCH_TILE_M), int(c.y // PATCH_TILE_M))
        groups.setdefault((int(value) // 10, int(value) % 10, *tile), []).append(poly)
    codes = list(region["county_code"])
    rows: dict[str, list] = {"county_code": [], "QSQD": [], "QSQD_DM": [], "geometry": []}
    for (county, g, _tx, _ty), polys in sorted(groups.items()):
        rows["county_code"].append(str(codes[county - 1]))
        rows["QSQD"].append(GRADE_NAMES_ZH[g])
        rows["QSQD_DM"].append(g)
        rows["geometry"].append(unary_union(polys) if len(polys) > 1 else polys[0])
    return rows


def _landuse(lc: np.ndarray, near_region: np.ndarray, transform, seed: int) -> dict[str, list]:
    """Land-cover regions near the region as survey parcels with a GB/T 21010 code each."""
    from rasterio.features import shapes
    from shapely.geometry import shape

    rows: dict[str, list] = {"DLBM": [], "DLMC": [], "geometry": []}
    valid = (lc > 0) & near_region
    for geom, value in shapes(lc, mask=valid, connectivity=4, transform=transform):
        rows["geometry"].append(_with_cell_vertices(shape(geom), transform.a))
        rows["DLBM"].append(int(value))
    # One seeded draw per parcel, in the (deterministic) order shapes() returns them.
    u = rng_stream(seed, _CODE_STREAM).random(len(rows["DLBM"]))
    for i, legend_code in enumerate(rows["DLBM"]):
        choices = SURVEY_CODES[legend_code]
        cumulative = np.cumsum([share for _, _, share in choices])
        code, name, _ = choices[min(int(np.searchsorted(cumulative, u[i], side="right")), len(choices) - 1)]
        rows["DLBM"][i] = code
        rows["DLMC"].append(name)
    return rows
