"""Writers of the demo's raster inputs: one year's land cover and erosion modulus, and the CSLE factor
rasters (DEM, R, K, cover, E) of a year that the workflow's CSLE branch computes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from affine import Affine

from swc_raster.atomic import atomic_outputs
from swc_raster.csv_files import DEMO_TAG, DEMO_TAG_KEY
from swc_raster.demo.constants import (
    BUILT,
    CROP,
    DEFAULT_SEED,
    EROSION_CRS,
    EROSION_NODATA,
    EROSION_UNIT,
    FOREST,
    GRASS,
    LANDCOVER_BUFFER_DEG,
    LANDCOVER_CRS,
    LANDCOVER_NODATA,
    ORCHARD,
    OTHER,
    T_ALLOWABLE,
    TRANSPORT,
    WATER,
    YEAR_RANGE,
)
from swc_raster.demo.erosion import generate

#: CSLE input rasters written by :func:`write_demo_factors`: file name, unit, description.
DEMO_FACTOR_FILES: Final = {
    "dem": ("dem.tif", "m", "elevation, m (synthetic demo DEM)"),
    "R": ("R.tif", "MJ·mm/(ha·h·a)", "rainfall erosivity R, MJ·mm/(ha·h·a) (synthetic demo)"),
    "K": ("K.tif", "t·ha·h/(ha·MJ·mm)", "soil erodibility K, t·ha·h/(ha·MJ·mm) (synthetic demo)"),
    "fvc": ("fvc.tif", "fraction", "fractional vegetation cover, 0-1 (synthetic demo)"),
    "E": ("E.tif", "1", "engineering factor E of the mapped measures, 1 = none (synthetic demo)"),
}


def check_year_and_resolution(year: int, resolution_m: float) -> tuple[int, float]:
    """``year`` and ``resolution_m`` as int and float, or a ValueError saying the allowed range."""
    year = int(year)
    if not (YEAR_RANGE[0] <= year <= YEAR_RANGE[1]):
        raise ValueError(f"year {year} is outside {YEAR_RANGE[0]}–{YEAR_RANGE[1]}; the demo is designed for 2020–2024")
    if not (10.0 <= float(resolution_m) <= 1000.0):
        raise ValueError(f"resolution_m must be between 10 and 1000 m, got {resolution_m}")
    return year, float(resolution_m)


LANDCOVER_COLOURS: Final = {
    0: (0, 0, 0, 0),
    CROP: (255, 235, 150, 255),
    ORCHARD: (200, 150, 230, 255),
    FOREST: (30, 120, 40, 255),
    GRASS: (160, 210, 90, 255),
    BUILT: (220, 50, 40, 255),
    TRANSPORT: (120, 120, 120, 255),
    WATER: (60, 130, 220, 255),
    OTHER: (200, 190, 170, 255),
}


def gtiff_profile(dtype: str, crs: str, transform: Affine, width: int, height: int, nodata: float) -> dict:
    """Tiled DEFLATE GeoTIFF profile of one band."""
    return {
        "driver": "GTiff",
        "dtype": dtype,
        "count": 1,
        "crs": crs,
        "transform": transform,
        "width": width,
        "height": height,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 3 if dtype.startswith("float") else 1,
        "num_threads": "all_cpus",
        "bigtiff": "if_safer",
    }


def common_tags(year: int, seed: int, resolution_m: float) -> dict[str, str]:
    """Tags of every demo file: the demo marker, year, seed, resolution, generator."""
    return {
        DEMO_TAG_KEY: DEMO_TAG,
        "SWC_YEAR": str(year),
        "SWC_SEED": str(seed),
        "SWC_RESOLUTION_M": f"{resolution_m:g}",
        "SWC_GENERATOR": "swc_raster.demo.write_demo_year",
    }


def landcover_grid(region_4326_bounds: Sequence[float], resolution_m: float) -> tuple[Affine, int, int, float]:
    """The lon/lat land-cover grid: ``round(resolution_m / 30)`` arc-seconds over the region + a margin."""
    arcsec = max(1, int(round(resolution_m / 30.0)))
    step = arcsec / 3600.0
    minx, miny, maxx, maxy = region_4326_bounds
    minx = math.floor((minx - LANDCOVER_BUFFER_DEG) / step) * step
    maxx = math.ceil((maxx + LANDCOVER_BUFFER_DEG) / step) * step
    miny = math.floor((miny - LANDCOVER_BUFFER_DEG) / step) * step
    maxy = math.ceil((maxy + LANDCOVER_BUFFER_DEG) / step) * step
    width = int(round((maxx - minx) / step))
    height = int(round((maxy - miny) / step))
    return Affine(step, 0.0, minx, 0.0, -step, maxy), width, height, step


def write_demo_year(
    boundaries_path: str,
    year: int,
    landcover_path: str,
    erosion_path: str,
    *,
    layer: str = "counties",
    resolution_m: float = 30.0,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Generate one year of the synthetic demo data and write both GeoTIFFs.

    Parameters
    ----------
    boundaries_path : str
        Vector file with the counties (fields ``county_code``, ``county_name``);
        the landscape is designed for Jincheng's six units but any region in
        the CGCS2000 CM 114E zone works.
    year : int
        Year label, 2015–2035.  2021–2024 is the designed series (vegetation
        recovering, terraces and planting, a mining/construction setback in
        泽州 from 2023); other years extrapolate the trends.
    landcover_path, erosion_path : str
        Output GeoTIFF paths (parent folders are created).
    layer : str, default "counties"
        Layer of ``boundaries_path``.
    resolution_m : float, default 30
        Erosion cell size, m.  The land cover is written at
        ``round(resolution_m / 30)`` arc-seconds (1″ for 30 m).  Coarser
        values (90, 150) are much faster and give the same landscape.
    seed : int, default 20230049
        Seed of every random field; same seed → identical rasters.

    Returns
    -------
    dict
        Paths, CRSs, shapes, the land-cover shares of the region (%) and a
        quick per-county rate estimate (% of land with A < 200 t/(km²·a),
        erosion nodata counted as non-eroded, on the erosion grid).
    """
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    year, resolution_m = check_year_and_resolution(year, resolution_m)

    counties, _region, target, state, erosion, summary = generate(boundaries_path, layer, year, resolution_m, seed)

    tags = common_tags(year, seed, resolution_m)
    lc_transform, lc_width, lc_height, _ = landcover_grid(counties.to_crs(LANDCOVER_CRS).total_bounds, resolution_m)
    lc_out = np.zeros((lc_height, lc_width), dtype=np.uint8)
    reproject(
        state.lc,
        lc_out,
        src_transform=target.transform,
        src_crs=EROSION_CRS,
        src_nodata=LANDCOVER_NODATA,
        dst_transform=lc_transform,
        dst_crs=LANDCOVER_CRS,
        dst_nodata=LANDCOVER_NODATA,
        resampling=Resampling.nearest,
        num_threads=2,
    )
    del state

    # Both files appear together, and only complete (a killed run leaves neither).
    with atomic_outputs(erosion_path, landcover_path) as (erosion_tmp, landcover_tmp):
        profile = gtiff_profile("float32", EROSION_CRS, target.transform, target.width, target.height, EROSION_NODATA)
        with rasterio.open(erosion_tmp, "w", **profile) as dst:
            dst.write(erosion, 1)
            dst.update_tags(**tags, SWC_UNIT=EROSION_UNIT, SWC_T_ALLOWABLE_HINT="200 t/km2/a (北方土石山区)")
            dst.update_tags(1, UNIT=EROSION_UNIT, QUANTITY="soil erosion modulus (CSLE)")
            dst.set_band_description(1, f"erosion modulus, {EROSION_UNIT} (synthetic demo)")
            dst.units = (EROSION_UNIT,)
        del erosion
        profile = gtiff_profile("uint8", LANDCOVER_CRS, lc_transform, lc_width, lc_height, LANDCOVER_NODATA)
        with rasterio.open(landcover_tmp, "w", **profile) as dst:
            dst.write(lc_out, 1)
            dst.write_colormap(1, LANDCOVER_COLOURS)
            dst.update_tags(**tags, SWC_LEGEND="config/landcover_legend.csv (1 耕地 … 8 其他土地), 0 nodata")
            dst.set_band_description(1, "land cover, legend codes 1-8 (synthetic demo)")

    return {
        "year": year,
        "seed": seed,
        "resolution_m": resolution_m,
        "landcover_path": str(landcover_path),
        "erosion_path": str(erosion_path),
        "landcover_crs": LANDCOVER_CRS,
        "erosion_crs": EROSION_CRS,
        "erosion_unit": EROSION_UNIT,
        "landcover_shape": (lc_height, lc_width),
        "erosion_shape": target.shape,
        **summary,
        "t_allowable_t_km2": T_ALLOWABLE,
    }


def write_demo_factors(
    boundaries_path: str,
    year: int,
    out_dir: str,
    *,
    layer: str = "counties",
    resolution_m: float = 30.0,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Write the demo's own CSLE input rasters of one year, for the workflow's CSLE branch.

    The same landscape as :func:`write_demo_year` with the same arguments (same
    seed, year and resolution → the same terrain, land cover and cover): the
    DEM the demo's census L·S comes from, the rainfall erosivity R,
    the soil erodibility K, the year's fractional vegetation cover and its map
    of engineering measures (E), so that A computed from them by
    ``swc_raster.csle_raster`` can be compared with the demo's own erosion
    raster.  The land cover to use with them is the one :func:`write_demo_year`
    writes for the year.

    Files in ``out_dir`` (:data:`DEMO_FACTOR_FILES`), all float32 on CGCS2000 /
    3-degree Gauss-Krüger CM 114E (EPSG:4547) at ``resolution_m``, tiled DEFLATE,
    tagged as synthetic demo data:

    - ``dem.tif`` — elevation, m (≈ 240–2 000 m; depression-free at the 90 m
      landscape scale, small pits from the bilinear sampling remain);
    - ``R.tif`` — MJ·mm/(ha·h·a), ≈ 1 800–2 700 (:data:`swc_raster.demo.factors.R_RANGE`);
    - ``K.tif`` — t·ha·h/(ha·MJ·mm), ≈ 0.006–0.016 (:data:`swc_raster.demo.factors.K_RANGE`);
    - ``fvc.tif`` — fraction 0–1 (0 on water);
    - ``E.tif`` — engineering factor of the mapped measures: level (0.084) and
      slope (0.414) terraces on sloping cropland, fish-scale pits (0.249) on new
      plantations and restored land, 1 elsewhere.

    What the demo's erosion raster has and these do not: the nodata mask over
    water and the densest built-up core (the branch gives A = 0 there, B = 0),
    and the unfilled DEM (the branch fills depressions by default).

    Returns
    -------
    dict
        Paths, CRS, shape, value ranges.
    """
    import rasterio

    year, resolution_m = check_year_and_resolution(year, resolution_m)
    factors: dict[str, np.ndarray] = {}
    _counties, _region, target, state, erosion, _summary = generate(
        boundaries_path, layer, year, resolution_m, seed, factors=factors
    )
    del state, erosion
    out = {key: str(Path(out_dir) / name) for key, (name, _, _) in DEMO_FACTOR_FILES.items()}
    tags = {**common_tags(year, seed, resolution_m), "SWC_GENERATOR": "swc_raster.demo.write_demo_factors"}
    ranges = {}
    with atomic_outputs(*out.values()) as temps:
        for (key, (_, unit, description)), tmp in zip(DEMO_FACTOR_FILES.items(), temps, strict=True):
            a = factors.pop(key).astype(np.float32, copy=False)
            ranges[key] = (round(float(np.nanmin(a)), 6), round(float(np.nanmax(a)), 6))
            profile = gtiff_profile(
                "float32", EROSION_CRS, target.transform, target.width, target.height, EROSION_NODATA
            )
            with rasterio.open(tmp, "w", **profile) as dst:
                dst.write(a, 1)
                dst.update_tags(**tags, SWC_UNIT=unit)
                dst.update_tags(1, UNIT=unit, QUANTITY=key)
                dst.set_band_description(1, description)
                dst.units = (unit,)
            del a
    return {
        "year": year,
        "seed": seed,
        "resolution_m": resolution_m,
        "paths": out,
        "crs": EROSION_CRS,
        "shape": target.shape,
        "ranges": ranges,
    }
