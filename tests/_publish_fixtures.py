"""Small, deterministic inputs for the publishing tests (maps, workbook, GIS outputs, report).

``make_inputs`` takes real Jincheng counties from ``boundaries/jincheng_counties.gpkg``,
projects them to the Albers analysis CRS, and builds on a coarse 500 m grid:

- ``erosion_grade.tif`` (uint8 grade codes, 255 outside the region, a few 0 "no erosion
  data" pixels along a river-like line and 7 "data gap" pixels along the east edge),
- ``landcover.tif`` (legend codes 1–8, 0 = unclassified/nodata),
- the three contract CSVs computed *from those rasters* (so maps and tables agree):
  ``county_rates.csv``, ``target_comparison.csv`` (targets from ``config/targets.csv``),
  ``erosion_by_landcover.csv``.

``make_many_counties`` builds a synthetic province of ~117 Voronoi "counties" to check
that maps stay readable with many small polygons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from rasterio.features import rasterize
from rasterio.transform import from_origin
from scipy import ndimage
from shapely import voronoi_polygons
from shapely.geometry import MultiPoint, box

from swc_raster import grading
from swc_raster.rates import RATE_COLUMNS

REPO = Path(__file__).resolve().parents[1]
ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
LEGEND_CSV = REPO / "config" / "landcover_legend.csv"
TARGETS_CSV = REPO / "config" / "targets.csv"
BOUNDARIES = REPO / "boundaries" / "jincheng_counties.gpkg"
#: 城区, 泽州县, 高平市 — adjacent; 城区 is a small county enclosed by 泽州县.
COUNTIES = ("140502", "140525", "140581")
#: Share of each county's land that is eroded (grades 2–6), chosen so that targets are
#: met for some counties and years and missed for others.
ERODED_SHARE = {"140502": 0.20, "140525": 0.38, "140581": 0.30}
REGION = {"code": "140500", "name": "晋城市"}
YEAR = 2023


@dataclass
class PublishInputs:
    folder: Path
    counties_gpkg: Path
    grade_tif: Path
    landcover_tif: Path
    legend_csv: Path
    county_rates_csv: Path
    target_comparison_csv: Path
    erosion_by_landcover_csv: Path
    year: int
    res: float


def smooth_field(shape: tuple[int, int], seed: int, sigma: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=shape), sigma)


def _grid(bounds, res):
    minx, miny, maxx, maxy = bounds
    x0, y1 = np.floor(minx / res) * res, np.ceil(maxy / res) * res
    width = int(np.ceil((maxx - x0) / res))
    height = int(np.ceil((y1 - miny) / res))
    return from_origin(x0, y1, res, res), width, height


def _write_tif(path: Path, array: np.ndarray, transform, crs, nodata) -> None:
    profile = dict(
        driver="GTiff",
        width=array.shape[1],
        height=array.shape[0],
        count=1,
        dtype=array.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)


def write_counties(
    folder: Path, codes=COUNTIES, name_override: dict[str, str] | None = None
) -> tuple[Path, gpd.GeoDataFrame]:
    gdf = gpd.read_file(BOUNDARIES, layer="counties")
    gdf = gdf[gdf["county_code"].isin(codes)].to_crs(ALBERS)
    gdf = gdf.set_index("county_code").loc[list(codes)].reset_index()
    if name_override:
        gdf["county_name"] = [name_override.get(c, n) for c, n in zip(gdf["county_code"], gdf["county_name"])]
    path = folder / "boundaries.gpkg"
    gdf[["county_code", "county_name", "county_name_en", "geometry"]].to_file(path, layer="counties", driver="GPKG")
    return path, gdf


def make_rasters(gdf: gpd.GeoDataFrame, res: float, seed: int = 7):
    """Grade and land-cover arrays on a ``res`` grid over the counties; zone ids 1..n."""
    transform, width, height = _grid(gdf.total_bounds, res)
    zones = rasterize(
        ((g, i + 1) for i, g in enumerate(gdf.geometry)),
        out_shape=(height, width),
        transform=transform,
        fill=0,
        dtype="uint8",
    )
    field = smooth_field((height, width), seed)
    grade = np.full((height, width), grading.OUTSIDE, dtype="uint8")
    proportions = np.array([0.45, 0.25, 0.15, 0.10, 0.05])  # within eroded land, grades 2..6
    for i, code in enumerate(gdf["county_code"]):
        inside = zones == i + 1
        vals = field[inside]
        share = ERODED_SHARE.get(code, 0.3)
        qs = np.quantile(vals, 1 - share * np.concatenate([[1.0], 1 - np.cumsum(proportions)[:-1]]))
        g = np.ones(vals.shape, dtype="uint8")
        for k, q in enumerate(qs):
            g[vals >= q] = 2 + k
        grade[inside] = g
    rows, cols = np.indices((height, width))
    region = zones > 0
    river = np.abs(rows - (0.55 * height + 0.15 * cols)) < 0.6
    grade[region & river] = grading.NODATA_GRADE
    grade[region & (cols >= width - 3)] = grading.GAP_GRADE
    lc_field = smooth_field((height, width), seed + 1, sigma=2.0)
    edges = np.quantile(lc_field[region], [0.30, 0.36, 0.62, 0.80, 0.90, 0.94, 0.97])
    landcover = (np.digitize(lc_field, edges) + 1).astype("uint8")  # 1..8
    landcover[region & river] = 7  # the river is water
    landcover[region & (rows < 2)] = 0  # unclassified strip
    landcover[~region] = 0
    return transform, zones, grade, landcover


def rates_from_rasters(gdf, zones, grade, landcover, res, year=YEAR, t_by_code=None):
    """county_rates, target_comparison and erosion_by_landcover DataFrames (the contract)."""
    cell_km2 = res * res / 1e6
    legend = pd.read_csv(LEGEND_CSV)
    lc_zh = {0: "未分类", **dict(zip(legend["code"], legend["name_zh"]))}
    lc_en = {0: "unclassified", **dict(zip(legend["code"], legend["name_en"]))}
    rate_rows, lc_rows = [], []
    t_by_code = t_by_code or {}
    for i, (code, name) in enumerate(zip(gdf["county_code"], gdf["county_name"])):
        inside = zones == i + 1
        counts = np.bincount(grade[inside], minlength=8)[:8] * cell_km2
        land = counts.sum()
        gap = counts[grading.GAP_GRADE]
        erosion = counts[2:7].sum()
        rate_rows.append(
            {
                "year": year,
                "level": "county",
                "county_code": code,
                "county_name": name,
                "t_allowable_t_km2": float(t_by_code.get(code, 200)),
                "land_area_km2": land,
                "erosion_area_km2": erosion,
                "rate_pct": 100 * (land - gap - erosion) / (land - gap),
                **{f"area_grade{g}_km2": counts[g] for g in range(1, 7)},
                "nodata_area_km2": counts[0],
                "gap_area_km2": gap,
            }
        )
        combo = landcover[inside].astype(int) * 16 + grade[inside]
        for key, n in zip(*np.unique(combo, return_counts=True)):
            lc, g = divmod(int(key), 16)
            lc_rows.append(
                {
                    "year": year,
                    "county_code": code,
                    "county_name": name,
                    "landcover_code": lc,
                    "landcover_name_zh": lc_zh[lc],
                    "landcover_name_en": lc_en[lc],
                    "grade_code": g,
                    "grade_name_zh": grading.GRADE_NAMES_ZH[g],
                    "grade_name_en": grading.GRADE_NAMES_EN[g],
                    "area_km2": n * cell_km2,
                }
            )
    rates = pd.DataFrame(rate_rows)
    sums = rates.drop(columns=["year", "level", "county_code", "county_name", "rate_pct", "t_allowable_t_km2"]).sum()
    ts = set(rates["t_allowable_t_km2"])
    region = {
        "year": year,
        "level": "region",
        "county_code": REGION["code"],
        "county_name": REGION["name"],
        "t_allowable_t_km2": ts.pop() if len(ts) == 1 else np.nan,
        **sums.to_dict(),
    }
    region["rate_pct"] = (
        100
        * (sums["land_area_km2"] - sums["gap_area_km2"] - sums["erosion_area_km2"])
        / (sums["land_area_km2"] - sums["gap_area_km2"])
    )
    rates = pd.concat([rates, pd.DataFrame([region])], ignore_index=True)[RATE_COLUMNS]
    targets = pd.read_csv(TARGETS_CSV, dtype={"county_code": str}).set_index("county_code")
    comp = rates[["year", "level", "county_code", "county_name", "rate_pct"]].copy()
    for y in (2025, 2035):
        col = f"target_{y}"
        # Counties outside the plan table (synthetic province) get varied made-up targets.
        county_t = [
            targets.loc[c, col] if c in targets.index else 60.0 + int(c) % 17 + (8.0 if y == 2035 else 0.0)
            for c in rates["county_code"][:-1]
        ]
        land = rates["land_area_km2"][:-1].to_numpy()
        region_t = float(np.round(np.sum(np.array(county_t) * land) / land.sum(), 2))
        comp[f"target_{y}_pct"] = county_t + [region_t]
        comp[f"gap_{y}_pp"] = comp["rate_pct"] - comp[f"target_{y}_pct"]
        comp[f"met_{y}"] = comp[f"gap_{y}_pp"] >= 0
    return rates, comp, pd.DataFrame(lc_rows)


def make_inputs(folder: Path, codes=COUNTIES, res: float = 500.0, name_override=None) -> PublishInputs:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    gpkg, gdf = write_counties(folder, codes, name_override)
    transform, zones, grade, landcover = make_rasters(gdf, res)
    grade_tif, lc_tif = folder / "erosion_grade.tif", folder / "landcover.tif"
    _write_tif(grade_tif, grade, transform, ALBERS, grading.OUTSIDE)
    _write_tif(lc_tif, landcover, transform, ALBERS, 0)
    rates, comp, ebl = rates_from_rasters(gdf, zones, grade, landcover, res, t_by_code={"140581": 1000})
    paths = {name: folder / f"{name}.csv" for name in ("county_rates", "target_comparison", "erosion_by_landcover")}
    rates.to_csv(paths["county_rates"], index=False)
    comp.to_csv(paths["target_comparison"], index=False)
    ebl.to_csv(paths["erosion_by_landcover"], index=False)
    return PublishInputs(
        folder,
        gpkg,
        grade_tif,
        lc_tif,
        LEGEND_CSV,
        paths["county_rates"],
        paths["target_comparison"],
        paths["erosion_by_landcover"],
        YEAR,
        res,
    )


_NAME_CHARS = "安平阳城泉川宁远和兴丰山河东西南北华德清源昌隆永定长乐新襄临汾榆沁晋壶武灵寿"


def make_many_counties(folder: Path, n: int = 117, res: float = 1000.0, seed: int = 3) -> PublishInputs:
    """A synthetic 'province' of ``n`` Voronoi counties (~500 × 650 km) with rasters and CSVs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    x0, y0 = 400_000.0, 3_750_000.0
    frame = box(x0, y0, x0 + 500_000, y0 + 650_000)
    # Denser points in the south-east give many small counties next to large ones.
    pts = np.column_stack([x0 + 500_000 * rng.random(n) ** 0.6, y0 + 650_000 * rng.random(n) ** 1.4])
    cells = voronoi_polygons(MultiPoint(pts), extend_to=frame)
    geoms = [c.intersection(frame) for c in cells.geoms]
    names, used = [], set()
    while len(names) < n:
        nm = "".join(rng.choice(list(_NAME_CHARS), 2)) + rng.choice(["县", "市", "区"])
        if nm not in used:
            used.add(nm)
            names.append(nm)
    gdf = gpd.GeoDataFrame(
        {
            "county_code": [f"14{i:04d}" for i in range(n)],
            "county_name": names,
            "county_name_en": [f"County {i}" for i in range(n)],
        },
        geometry=geoms,
        crs=ALBERS,
    )
    gpkg = folder / "boundaries.gpkg"
    gdf.to_file(gpkg, layer="counties", driver="GPKG")
    shares = dict(zip(gdf["county_code"], rng.uniform(0.08, 0.5, n)))
    ERODED_SHARE.update(shares)
    try:
        transform, zones, grade, landcover = make_rasters(gdf, res, seed=seed)
    finally:
        for code in shares:
            ERODED_SHARE.pop(code, None)
    grade_tif, lc_tif = folder / "erosion_grade.tif", folder / "landcover.tif"
    _write_tif(grade_tif, grade, transform, ALBERS, grading.OUTSIDE)
    _write_tif(lc_tif, landcover, transform, ALBERS, 0)
    rates, comp, ebl = rates_from_rasters(gdf, zones, grade, landcover, res)
    rates.loc[rates["level"] == "region", ["county_code", "county_name"]] = ["140000", "山西省"]
    comp.loc[comp["level"] == "region", ["county_code", "county_name"]] = ["140000", "山西省"]
    paths = {name: folder / f"{name}.csv" for name in ("county_rates", "target_comparison", "erosion_by_landcover")}
    rates.to_csv(paths["county_rates"], index=False)
    comp.to_csv(paths["target_comparison"], index=False)
    ebl.to_csv(paths["erosion_by_landcover"], index=False)
    return PublishInputs(
        folder,
        gpkg,
        grade_tif,
        lc_tif,
        LEGEND_CSV,
        paths["county_rates"],
        paths["target_comparison"],
        paths["erosion_by_landcover"],
        YEAR,
        res,
    )
