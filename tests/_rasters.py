"""Test inputs: spatially correlated rasters over real counties, in the CRSs real products use.

Independent of swc_raster.demo on purpose: tests must not share the code they check.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.transform import from_origin
from scipy.ndimage import gaussian_filter

ROOT = Path(__file__).resolve().parent.parent
ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
GK114 = "EPSG:4547"


def counties(codes: list[str] | None = None) -> gpd.GeoDataFrame:
    g = gpd.read_file(ROOT / "boundaries/jincheng_counties.gpkg", layer="counties")
    return g if codes is None else g[g.county_code.isin(codes)].reset_index(drop=True)


#: The two counties of the workflow tests: 城区 and 高平市 (the region row: 140500 两县).
TWO_COUNTIES = ["140502", "140581"]


def write_two_counties(folder: Path) -> gpd.GeoDataFrame:
    """城区 and 高平市 as ``counties.gpkg`` (layer ``counties``) and their targets (plan values, with a
    region row 140500 两县) as ``targets.csv`` in ``folder``; returns the counties."""
    import pandas as pd

    area = counties(TWO_COUNTIES)
    area.to_file(folder / "counties.gpkg", layer="counties")
    pd.DataFrame(
        {
            "county_code": TWO_COUNTIES + ["140500"],
            "county_name": ["城区", "高平市", "两县"],
            "target_2025": [76.86, 61.75, 64.0],
            "target_2035": [88.51, 90.98, 90.5],
        }
    ).to_csv(folder / "targets.csv", index=False)
    return area


def smooth_field(shape: tuple[int, int], sigma: float, seed: int) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian random field with correlation length ~ sigma cells."""
    z = gaussian_filter(np.random.default_rng(seed).standard_normal(shape), sigma, mode="wrap")
    return (z - z.mean()) / z.std()


def write(path: Path, array: np.ndarray, crs: str | None, transform, nodata) -> Path:
    profile = {
        "driver": "GTiff",
        "width": array.shape[1],
        "height": array.shape[0],
        "count": 1,
        "dtype": str(array.dtype),
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


def erosion_raster(
    path: Path,
    area: gpd.GeoDataFrame,
    *,
    crs: str = GK114,
    res: float = 30.0,
    median_t_km2: float = 250.0,
    seed: int = 1,
    scale: float = 1.0,
    margin_m: float = 2000.0,
    nodata_share: float = 0.02,
) -> Path:
    """Log-normal, spatially correlated erosion modulus (t/km²/a × ``scale``) covering ``area``; -9999 nodata blobs."""
    xmin, ymin, xmax, ymax = area.to_crs(crs).total_bounds
    if "4326" in crs:
        margin = margin_m / 90_000.0
    else:
        margin = margin_m
    xmin, ymin, xmax, ymax = xmin - margin, ymin - margin, xmax + margin, ymax + margin
    w, h = int(np.ceil((xmax - xmin) / res)), int(np.ceil((ymax - ymin) / res))
    z = smooth_field((h, w), 8, seed)
    a = (median_t_km2 * np.exp(1.3 * z) * scale).astype("float32")
    holes = smooth_field((h, w), 12, seed + 1) > np.quantile(smooth_field((h, w), 12, seed + 1), 1 - nodata_share)
    a[holes] = -9999.0
    return write(path, a, crs, from_origin(xmin, ymax, res, res), -9999.0)


def landcover_raster(path: Path, area: gpd.GeoDataFrame, *, res_deg: float = 1 / 1200, seed: int = 2) -> Path:
    """Land-cover codes 1–8 in EPSG:4326, patchy like real products."""
    xmin, ymin, xmax, ymax = area.to_crs("EPSG:4326").total_bounds + np.array([-0.03, -0.03, 0.03, 0.03])
    w, h = int(np.ceil((xmax - xmin) / res_deg)), int(np.ceil((ymax - ymin) / res_deg))
    z = smooth_field((h, w), 4, seed)
    codes = np.digitize(z, np.quantile(z, [0.3, 0.35, 0.6, 0.8, 0.9, 0.93, 0.96])).astype("uint8") + 1
    return write(path, codes, "EPSG:4326", from_origin(xmin, ymax, res_deg, res_deg), 0)
