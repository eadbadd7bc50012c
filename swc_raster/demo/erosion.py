"""One demo year from the landscape: terrain (census L·S), land cover, and the CSLE erosion modulus."""

from __future__ import annotations

import numpy as np

from swc_raster import csle, slope_length
from swc_raster.demo.constants import (
    BASE_RES_M,
    EROSION_CRS,
    EROSION_NODATA,
    MACRO_RES_M,
    T_ALLOWABLE,
    WATER,
)
from swc_raster.demo.fields import landscape
from swc_raster.demo.grids import grid_over, landscape_extent, resample
from swc_raster.demo.landcover import YearState, base_scores, land_cover


def read_region(boundaries_path: str, layer: str):
    """The counties of ``boundaries_path`` with string ``county_code`` and ``county_name`` fields."""
    import geopandas as gpd

    counties = gpd.read_file(boundaries_path, layer=layer)
    if counties.crs is None:
        raise ValueError(f"{boundaries_path}: the boundaries have no CRS")
    if "county_code" not in counties.columns:
        counties["county_code"] = [str(i) for i in range(len(counties))]
    if "county_name" not in counties.columns:
        counties["county_name"] = counties["county_code"]
    counties["county_code"] = counties["county_code"].astype(str)
    return counties


def erosion_modulus(r: np.ndarray, k: np.ndarray, ls: np.ndarray, state: YearState) -> np.ndarray:
    """CSLE erosion modulus A = R·K·L·S·B·E·T, t/(km²·a), float32, nodata over water and the densest built-up land.

    ``r``, ``k``, ``ls``: R, K and L·S on the output grid; B from the year's cover, E its measures, T on cropland.
    """
    # A synthetic NDVI turned back into cover by the pixel dichotomy model, as a monitoring team would.
    ndvi_soil, ndvi_veg = np.float32(0.05), np.float32(0.85)
    ndvi = ndvi_soil + (ndvi_veg - ndvi_soil) * state.fvc
    ndvi[state.lc == WATER] = -0.1
    fvc = csle.fractional_vegetation_cover(ndvi, ndvi_soil, ndvi_veg)
    del ndvi
    b = csle.biological_factor_B(fvc, state.lc)
    del fvc
    t = csle.tillage_factor_T(state.lc)
    a = csle.t_ha_to_t_km2(csle.soil_loss(r, k, ls, b, state.e, t))
    del b, t
    # Whole t/(km²·a), as monitoring products are delivered; compresses 2× better.
    a = np.rint(a).astype(np.float32, copy=False)
    a[(state.lc == WATER) | state.dense_urban] = np.float32(EROSION_NODATA)
    return a


def generate(
    boundaries_path: str,
    layer: str,
    year: int,
    resolution_m: float,
    seed: int,
    factors: dict[str, np.ndarray] | None = None,
):
    """Everything but the writing: (counties, region, target grid, land-cover state, erosion, summary).

    ``factors``: when a dict is given, the CSLE input rasters on the target grid
    are stored in it: ``dem`` (m), ``R``, ``K`` (sampled separately from the
    landscape grid), ``fvc`` (the cover the erosion used, 0 on water) and
    ``E`` (the engineering measures the erosion used).
    """
    from rasterio.features import rasterize

    counties = read_region(boundaries_path, layer)
    region = counties.to_crs(EROSION_CRS)
    extent = landscape_extent(region.total_bounds)
    macro = grid_over(extent, MACRO_RES_M)
    base = grid_over(extent, BASE_RES_M)
    target = grid_over(extent, resolution_m)

    scores = base_scores(landscape(base, macro, region, seed), year)

    # Terrain on the output grid: L·S by the census method (segment L, √2 diagonal flow lengths,
    # cutoff), as the CSLE branch computes it (decision 0002), from the sampled DEM without filling
    # (depression-free already: filled on the base grid), so the demo's erosion years and its CSLE
    # year agree.
    dem = resample(scores["dem"], base, target)
    terrain_ls = slope_length.ls_factor_from_dem(
        dem, target.transform, cap_m=csle.DEFAULT_LAMBDA_CAP_M, fill=False, keep=("ls", "slope_deg")
    )
    ls, slope = terrain_ls.ls, terrain_ls.slope_deg
    del terrain_ls
    r = resample(scores["R"], base, target)
    k = resample(scores["K"], base, target)
    if factors is not None:
        factors["dem"] = dem
        factors["R"] = r
        factors["K"] = k
    del dem

    county_ids = rasterize(
        [(geom, i + 1) for i, geom in enumerate(region.geometry)],
        out_shape=target.shape,
        transform=target.transform,
        fill=0,
        dtype="int16",
    )
    in_region = county_ids > 0
    state = land_cover(scores, base, target, slope, in_region, year, seed)
    del slope
    if factors is not None:
        factors["fvc"] = np.where(state.lc == WATER, np.float32(0.0), state.fvc).astype(np.float32)
        factors["E"] = state.e.copy()
    erosion = erosion_modulus(r, k, ls, state)
    del ls, scores, r, k

    # Summary (on the erosion grid; GK cells are equal-area to ~0.1 % here).
    n_c = len(region) + 1
    ids = county_ids.ravel()
    counts = np.bincount(ids, minlength=n_c)
    eroded = np.bincount(ids, weights=(erosion.ravel() >= T_ALLOWABLE), minlength=n_c)
    rates = {
        code: round(100.0 * (1.0 - float(eroded[i + 1]) / float(counts[i + 1])), 2) if counts[i + 1] else None
        for i, code in enumerate(region["county_code"])
    }
    lc_counts = np.bincount(state.lc[in_region], minlength=9)
    n_region = max(1, int(in_region.sum()))
    shares = {int(c): round(100.0 * float(lc_counts[c]) / n_region, 2) for c in range(1, 9)}
    summary = {"landcover_share_pct": shares, "rate_estimate_pct": rates}
    return counties, region, target, state, erosion, summary
