"""The year-independent landscape: DEM with a drainage network, terrain descriptors, settlements,
class noise and the counties' management parameters, all on the 90 m landscape grid."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from swc_raster import terrain
from swc_raster.demo.constants import EROSION_CRS, LANDCOVER_CRS, N_VILLAGE_ROADS, STREAM_AREA_M2
from swc_raster.demo.factors import erodibility_field, erosivity_field
from swc_raster.demo.geography import (
    COUNTY_PARAMS,
    ELEV_ANCHORS,
    MODIS_IGBP,
    MODIS_ORIGIN,
    MOUNTAIN_ANCHORS,
    RIVERS,
    SETBACK_SITES,
    SETTLEMENTS,
)
from swc_raster.demo.grids import (
    Grid,
    blur,
    coarser,
    lonlat_to_xy,
    noise_field,
    resample,
    rng_stream,
    transformer,
)


def kernel_interp(grid: Grid, anchors: Sequence[tuple[float, float, float]], sigma_m: float) -> np.ndarray:
    """Gaussian-kernel weighted mean of anchor values at every cell (smooth trend surface)."""
    pts = lonlat_to_xy(np.array([(a[0], a[1]) for a in anchors]))
    vals = np.array([a[2] for a in anchors], dtype=np.float64)
    xs, ys = grid.centres()
    num = np.full(grid.shape, 1e-9 * vals.mean())
    den = np.full(grid.shape, 1e-9)
    for (px, py), v in zip(pts, vals, strict=True):
        w = np.exp(-(((xs[None, :] - px) ** 2 + (ys[:, None] - py) ** 2) / (2 * sigma_m**2)))
        num += w * v
        den += w
    return (num / den).astype(np.float32)


def modis_priors(grid: Grid) -> dict[str, np.ndarray]:
    """Smoothed shares of MODIS class groups, sampled at the grid's cells (0–1)."""
    from scipy.ndimage import gaussian_filter, map_coordinates

    igbp = np.array([[int(v) for v in line.split()] for line in MODIS_IGBP.strip().splitlines()])
    groups = {
        "crop": np.isin(igbp, (12, 14)),
        "forest": np.isin(igbp, (1, 2, 3, 4, 5)),
        "grass": np.isin(igbp, (6, 7, 8, 9, 10)),
        "urban": igbp == 13,
    }
    lon0, lat0, step = MODIS_ORIGIN
    xs, ys = grid.centres()
    tr = transformer(EROSION_CRS, LANDCOVER_CRS)
    xx, yy = np.meshgrid(xs, ys)
    lon, lat = tr.transform(xx.ravel(), yy.ravel())
    del xx, yy
    col = (np.asarray(lon) - lon0) / step - 0.5
    row = (lat0 - np.asarray(lat)) / step - 0.5
    out = {}
    for name, ind in groups.items():
        smooth = gaussian_filter(ind.astype(np.float64), sigma=0.8, mode="nearest")
        out[name] = map_coordinates(smooth, [row, col], order=1, mode="nearest").reshape(grid.shape).astype(np.float32)
    return out


def polyline_xy(vertices: Sequence[Sequence[float]]) -> np.ndarray:
    v = np.asarray(vertices, dtype=np.float64)
    xy = lonlat_to_xy(v[:, :2])
    return np.column_stack([xy, v[:, 2:]]) if v.shape[1] > 2 else xy


def densify(xyz: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` m along a polyline, extra columns interpolated linearly."""
    pieces = []
    for a, b in zip(xyz[:-1], xyz[1:], strict=True):
        n = max(2, int(math.ceil(math.hypot(b[0] - a[0], b[1] - a[1]) / step)) + 1)
        t = np.linspace(0.0, 1.0, n)[:, None]
        pieces.append(a[None, :] * (1 - t) + b[None, :] * t)
    return np.vstack(pieces)


def rivers_on(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance to the nearest river centreline (m), its bed elevation (m) and valley half-width (m)."""
    from scipy.ndimage import distance_transform_edt

    bed = np.full(grid.shape, np.inf, dtype=np.float32)
    width = np.zeros(grid.shape, dtype=np.float32)
    inv = ~grid.transform
    for _name, _half_width, valley, vertices in RIVERS:
        pts = densify(polyline_xy(vertices), grid.res / 3)
        cols, rows = inv * (pts[:, 0], pts[:, 1])
        rows = np.floor(rows).astype(int)
        cols = np.floor(cols).astype(int)
        ok = (rows >= 0) & (rows < grid.height) & (cols >= 0) & (cols < grid.width)
        r, c, z = rows[ok], cols[ok], pts[ok, 2].astype(np.float32)
        lower = z < bed[r, c]
        bed[r[lower], c[lower]] = z[lower]
        width[r[lower], c[lower]] = valley
    is_river = np.isfinite(bed)
    dist, (ri, ci) = distance_transform_edt(~is_river, return_indices=True)
    return (dist * grid.res).astype(np.float32), bed[ri, ci], width[ri, ci]


def carve_rivers(z: np.ndarray, grid: Grid) -> np.ndarray:
    """Lower the terrain towards the main rivers' bed profiles: valley floors widening downstream."""
    dist, bed, valley = rivers_on(grid)
    v = 1.0 - np.exp(-((dist / valley) ** 2))
    return np.where(z > bed, bed + (z - bed) * v, z).astype(np.float32)


def synthetic_dem(
    base: Grid, macro: Grid, seed: int, mount: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, float]]]:
    """A terrain-like DEM (m) with a dendritic drainage network, on the base grid.

    Returns the DEM and the stream lines — (xy vertex array in m, upstream
    area in km²) — of the channel segments draining at least
    :data:`STREAM_AREA_M2`.

    1. On a coarse grid (3 base cells), a smooth surface — the regional trend,
       gentle noise, the main rivers' valleys — is routed with D8 (pyflwdir);
       cells draining ≥ 1 km² are channels, with the bed elevation of the
       depression-filled surface.
    2. The channel segments are drawn onto the base grid, slightly meandered
       by a smooth displacement field.
    3. Every cell rises above its nearest channel with an exponential
       hillslope profile ``H (1 − exp(−d / 450 m))`` whose relief ``H`` grows
       with mountainousness (25 m in the basin to ≈ 475 m in the mountains),
       plus a little noise; the main rivers get their valley floors.
    """
    import pyflwdir
    from pyflwdir.dem import fill_depressions
    from scipy.ndimage import distance_transform_edt

    coarse = coarser(base, 3)
    trend_c = resample(kernel_interp(macro, ELEV_ANCHORS, 9000.0), macro, coarse)
    mount_c = np.clip(resample(kernel_interp(macro, MOUNTAIN_ANCHORS, 9000.0), macro, coarse), 0.0, 1.0)
    zc = (
        trend_c
        + (10.0 + 40.0 * mount_c) * noise_field(coarse, seed, 1, beta=3.3, corr_m=15000.0)
        + (15.0 + 60.0 * mount_c) * noise_field(coarse, seed, 2, beta=2.5, corr_m=2000.0)
    )
    zc = carve_rivers(zc, coarse)
    filled, d8 = fill_depressions(zc.astype(np.float32), nodata=-9999.0, outlets="edge")
    flw = pyflwdir.from_array(d8, ftype="d8", check_ftype=False, transform=coarse.transform, latlon=False)
    area_km2 = flw.upstream_area(unit="km2")
    channel = (area_km2 >= 1.0).ravel()
    idx = np.flatnonzero(channel)
    ds = flw.idxs_ds[idx]
    keep = channel[ds] & (ds != idx)
    idx, ds = idx[keep], ds[keep]
    seg_area_km2 = area_km2.ravel()[idx]
    del flw, d8, zc, area_km2

    # Channel segments → points every ~1/8 segment, meandered, burnt onto the base grid.
    xs, ys = coarse.centres()
    r0, c0 = np.divmod(idx, coarse.width)
    r1, c1 = np.divmod(ds, coarse.width)
    zf = filled.ravel()
    t = np.linspace(0.0, 1.0, 8, endpoint=False)[None, :]
    px = (xs[c0][:, None] * (1 - t) + xs[c1][:, None] * t).ravel()
    py = (ys[r0][:, None] * (1 - t) + ys[r1][:, None] * t).ravel()
    pz = (zf[idx][:, None] * (1 - t) + zf[ds][:, None] * t).ravel().astype(np.float32)
    del filled, zf
    inv = ~base.transform
    cols, rows = inv * (px, py)
    ri = np.clip(rows.astype(np.intp), 0, base.height - 1)
    ci = np.clip(cols.astype(np.intp), 0, base.width - 1)
    px += 110.0 * noise_field(base, seed, 40, beta=3.0, corr_m=1500.0)[ri, ci]
    py += 110.0 * noise_field(base, seed, 41, beta=3.0, corr_m=1500.0)[ri, ci]
    # Stream lines: each large segment's 8 points and the first point of the segment below it.
    seg_of_cell = np.full(coarse.width * coarse.height, -1, dtype=np.intp)
    seg_of_cell[idx] = np.arange(idx.size)
    wx, wy = px.reshape(-1, 8), py.reshape(-1, 8)
    streams = []
    for k in np.flatnonzero(seg_area_km2 >= STREAM_AREA_M2 / 1e6):
        nxt = seg_of_cell[ds[k]]
        end = (wx[nxt, 0], wy[nxt, 0]) if nxt >= 0 else (xs[c1[k]], ys[r1[k]])
        streams.append((np.vstack([np.column_stack([wx[k], wy[k]]), end]), float(seg_area_km2[k])))
    del wx, wy, seg_of_cell
    cols, rows = inv * (px, py)
    ri, ci = np.floor(rows).astype(np.intp), np.floor(cols).astype(np.intp)
    ok = (ri >= 0) & (ri < base.height) & (ci >= 0) & (ci < base.width)
    bed = np.full(base.shape, np.inf, dtype=np.float32)
    np.minimum.at(bed, (ri[ok], ci[ok]), pz[ok])
    dist, (ii, jj) = distance_transform_edt(~np.isfinite(bed), return_indices=True)
    dist = (dist * base.res).astype(np.float32)
    z_bed = bed[ii, jj]
    del bed, ii, jj

    relief = 25.0 + 450.0 * mount**1.3
    z = z_bed + relief * (1.0 - np.exp(-dist / 450.0))
    z += 0.12 * relief * noise_field(base, seed, 42, beta=2.8, corr_m=1200.0) * (1.0 - np.exp(-dist / 150.0))
    return carve_rivers(z.astype(np.float32), base), streams


def landscape(base: Grid, macro: Grid, region, seed: int) -> dict[str, np.ndarray]:
    """All year-independent smooth fields on the base grid (float32)."""
    from rasterio.features import rasterize
    from scipy.ndimage import gaussian_filter

    f: dict[str, np.ndarray] = {}
    mount = np.clip(resample(kernel_interp(macro, MOUNTAIN_ANCHORS, 9000.0), macro, base), 0.0, 1.0)
    z, streams = synthetic_dem(base, macro, seed, mount)
    f["streams"] = streams
    f["dem"] = z
    f["mount"] = mount.astype(np.float32)

    # Terrain descriptors used by the land-cover scores.
    f["rel"] = (z - blur(z, base, 1500.0)).astype(np.float32)
    gy, gx = np.gradient(z.astype(np.float64), base.res)
    # gy is d z / d row (south-positive); northness of the facing direction:
    # a slope facing north has z rising to the south (gy > 0).
    grad = np.hypot(gx, gy)
    north = np.where(grad > 0, gy / np.maximum(grad, 1e-9), 0.0)
    f["north"] = (north * np.clip(np.degrees(np.arctan(grad)) / 15.0, 0, 1)).astype(np.float32)
    del gx, gy, grad, north

    f["R"] = erosivity_field(base, z, seed)
    f["K"] = erodibility_field(base, mount, seed)
    del z
    xs, ys = base.centres()

    # Settlements: the city, county seats and towns as kernels; villages and
    # mines as noise patches on gentle, low-lying land.
    pts = lonlat_to_xy(np.array([(s[0], s[1]) for s in SETTLEMENTS]))
    kern = np.zeros(base.shape, dtype=np.float32)
    for (px, py), (_, _, size, radius) in zip(pts, SETTLEMENTS, strict=True):
        d2 = ((xs[None, :] - px) ** 2 + (ys[:, None] - py) ** 2) / radius**2
        np.maximum(kern, (size * np.exp(-d2)).astype(np.float32), out=kern)
    f["near_town"] = blur(kern, base, 2500.0)
    # Irregular town outlines: the kernels modulated by smooth noise.
    f["kernel"] = kern * np.exp(0.45 * noise_field(base, seed, 7, beta=2.6, corr_m=1500.0))
    f["villages"] = terrain.to_uniform(noise_field(base, seed, 5, beta=2.6, corr_m=500.0))
    # Village road ends: cells drawn with the village propensity as weight.
    w = (f["villages"] ** 8 * (1.0 - 0.5 * mount) * (f["rel"] < 30.0)).ravel().astype(np.float64)
    pick = rng_stream(seed, 50).choice(w.size, size=N_VILLAGE_ROADS, replace=False, p=w / w.sum())
    f["village_xy"] = np.column_stack([xs[pick % base.width], ys[pick // base.width]])
    del w, pick
    mines = terrain.to_uniform(noise_field(base, seed, 6, beta=2.4, corr_m=700.0))
    f["mines_score"] = np.where(mines > 0.992, 0.45 + 0.1 * mines, 0.0) * (1.0 - 0.3 * mount)
    del mines

    # Class noise (standardised) and year-change scores (uniform 0–1).
    f["n_crop"] = noise_field(base, seed, 10, beta=3.0, corr_m=2500.0)
    f["n_forest"] = noise_field(base, seed, 11, beta=3.0, corr_m=3000.0)
    f["n_orchard"] = noise_field(base, seed, 12, beta=2.6, corr_m=900.0)
    f["n_other"] = noise_field(base, seed, 13, beta=2.6, corr_m=600.0)
    f["n_veg"] = noise_field(base, seed, 14, beta=2.8, corr_m=1500.0)
    f["n_pond"] = noise_field(base, seed, 15, beta=2.4, corr_m=300.0)
    f["u_terrace"] = terrain.to_uniform(noise_field(base, seed, 20, beta=2.6, corr_m=800.0))
    f["u_afforest"] = terrain.to_uniform(noise_field(base, seed, 21, beta=2.6, corr_m=1200.0))
    f["u_gain"] = terrain.to_uniform(noise_field(base, seed, 22, beta=3.0, corr_m=5000.0))
    # Where the setback disturbance may fall: patches within its sites.
    zone = np.zeros(base.shape, dtype=bool)
    for (px, py), (_, _, radius) in zip(
        lonlat_to_xy(np.array([(s[0], s[1]) for s in SETBACK_SITES])), SETBACK_SITES, strict=True
    ):
        zone |= ((xs[None, :] - px) ** 2 + (ys[:, None] - py) ** 2) < radius**2
    f["disturb"] = np.where(zone, terrain.to_uniform(noise_field(base, seed, 23, beta=2.6, corr_m=500.0)), 0.0)
    del zone
    f["u_restore"] = terrain.to_uniform(noise_field(base, seed, 24, beta=2.6, corr_m=600.0))

    f.update({f"modis_{k}": resample(v, macro, base) for k, v in modis_priors(macro).items()})

    # County management parameters, blended smoothly across county borders
    # (on a 450 m grid, over ≈ 1 km).
    codes = [str(c) for c in region["county_code"]]
    mid = coarser(base, 5)
    ids = rasterize(
        [(geom, i + 1) for i, geom in enumerate(region.geometry)],
        out_shape=mid.shape,
        transform=mid.transform,
        fill=0,
        dtype="int16",
    )
    names = ("fvc", "gain", "terrace", "terrace_gain", "afforest")
    default = COUNTY_PARAMS["default"]
    sigma = 1000.0 / mid.res
    den = np.full(mid.shape, 1e-6, dtype=np.float64)
    nums = {n: np.full(mid.shape, 1e-6 * default[n], dtype=np.float64) for n in names}
    for i, code in enumerate(codes, start=1):
        w = gaussian_filter((ids == i).astype(np.float64), sigma=sigma, mode="constant")
        den += w
        params = COUNTY_PARAMS.get(code, default)
        for n in names:
            nums[n] += w * params[n]
    for n in names:
        f[f"p_{n}"] = resample((nums[n] / den).astype(np.float32), mid, base)
    return f
