"""Land cover of one year on the output grid: water and roads, classes allocated to fixed shares,
vegetation cover, terraces, and the year's changes (sprawl, planting, recovery, the setback)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from swc_raster import csle
from swc_raster.demo.constants import (
    BASE_YEAR,
    BUILT,
    CROP,
    FOREST,
    FOREST_SHARE_OF_REST,
    FVC_LEVELS,
    GRASS,
    ORCHARD,
    OTHER,
    SHARES_PCT,
    SPRAWL_PCT_PER_YEAR,
    STREAM_AREA_M2,
    TRANSPORT,
    WATER,
)
from swc_raster.demo.fields import polyline_xy
from swc_raster.demo.geography import RESERVOIRS, RIVERS, ROADS, SETBACK_YEAR, SETTLEMENTS
from swc_raster.demo.grids import Grid, lonlat_to_xy, noise_field, resample


def burn(shapes: list, grid: Grid) -> np.ndarray:
    from rasterio.features import rasterize

    if not shapes:
        return np.zeros(grid.shape, dtype=bool)
    return rasterize(
        [(s, 1) for s in shapes], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8"
    ).astype(bool)


def water_and_roads(
    grid: Grid, village_xy: np.ndarray, streams: Sequence[tuple[np.ndarray, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Rivers, reservoirs and roads burnt onto ``grid``: centrelines (1-cell paths) plus their width.

    Main roads are hand-drawn; rural roads join every settlement and village
    road end to its two nearest neighbours.
    """
    from scipy.spatial import cKDTree
    from shapely.affinity import scale
    from shapely.geometry import LineString, Point

    water_shapes: list = []
    for _name, half_width, _valley, vertices in RIVERS:
        line = LineString(polyline_xy(vertices)[:, :2])
        water_shapes += [line, line.buffer(half_width)]
    # Streams are one cell wide; on coarse grids keep only the larger ones so the
    # water share does not grow with the cell size.
    min_km2 = STREAM_AREA_M2 / 1e6 * max(1.0, grid.res / 30.0) ** 2
    water_shapes += [LineString(line) for line, area in streams if area >= min_km2]
    for lon, lat, ax, ay in RESERVOIRS:
        ((x, y),) = lonlat_to_xy(np.array([[lon, lat]]))
        water_shapes.append(scale(Point(x, y).buffer(1.0), ax, ay))
    road_shapes: list = []
    for vertices in ROADS:
        line = LineString(polyline_xy(vertices))
        road_shapes += [line, line.buffer(20.0)]
    ends = np.vstack([lonlat_to_xy(np.array([(s[0], s[1]) for s in SETTLEMENTS])), np.asarray(village_xy, float)])
    _, nearest = cKDTree(ends).query(ends, k=3)
    pairs = {tuple(sorted((int(i), int(j)))) for i, row in enumerate(nearest) for j in row[1:]}
    for i, j in sorted(pairs):
        line = LineString([ends[i], ends[j]])
        road_shapes += [line, line.buffer(8.0)]
    return burn(water_shapes, grid), burn(road_shapes, grid)


def top_share(
    score: np.ndarray, free: np.ndarray, region_sub: np.ndarray, sub: tuple[slice, slice], share_pct: float
) -> float:
    """Score threshold so that the free pixels at or above it make ``share_pct`` % of the region.

    Estimated on a regular subsample (``sub``) of the grid, so it is cheap and
    does not depend on the output resolution beyond sampling noise.
    """
    s = score[sub]
    cand = s[free[sub] & region_sub]
    n = int(round(region_sub.sum() * share_pct / 100.0))
    if n <= 0 or cand.size == 0:
        return float("inf")
    if n >= cand.size:
        return float("-inf")
    return float(np.partition(cand, cand.size - n)[cand.size - n])


def gentleness(slope: np.ndarray, scale_deg: float) -> np.ndarray:
    return np.exp(-((slope / np.float32(scale_deg)) ** 2))


@dataclass
class YearState:
    """One year's land cover and the per-pixel state the erosion needs."""

    lc: np.ndarray  # uint8 codes
    fvc: np.ndarray  # fraction 0–1
    e: np.ndarray  # engineering factor
    dense_urban: np.ndarray  # bool, masked in the erosion raster


def base_scores(land: Mapping[str, np.ndarray], year: int) -> dict[str, np.ndarray]:
    """Combine the landscape fields into the per-class scores (base grid).

    Only the parts that depend on the output grid (slope, fine texture) are
    added after sampling, so each score is sampled once.
    """
    dy = year - BASE_YEAR
    mount, rel, near = land["mount"], land["rel"], land["near_town"]
    sc: dict[str, np.ndarray] = {}
    sc["dem"] = land["dem"]
    sc["pond"] = np.where(rel < -5.0, land["n_pond"], -3.0)
    sc["kernel"] = np.maximum(land["kernel"], land["mines_score"])
    sc["villages"] = land["villages"] ** 8 * (1.0 - 0.5 * mount) * np.where(rel < 30.0, 1.0, 0.6)
    sc["other"] = 0.35 * land["n_other"] + 0.25 * near
    sc["orchard"] = 0.8 * near + 0.5 * land["n_orchard"] - 0.4 * mount
    sc["crop"] = (
        0.45 * land["modis_crop"] - 0.35 * mount + 0.004 * np.clip(-rel, -40, 40) + 0.3 * land["n_crop"] + 0.3 * near
    )
    sc["forest"] = (
        0.6 * mount
        + 0.35 * (land["modis_forest"] - land["modis_grass"])
        + 0.35 * land["north"]
        + 0.25 * np.clip((land["dem"] - 900.0) / 600.0, -1, 1.5)
        + 0.4 * land["n_forest"]
        - 0.5 * near
    )
    sc["veg"] = 0.10 * land["n_veg"] + 0.065 * land["north"] + land["p_fvc"]
    sc["u_terrace"] = land["u_terrace"]
    sc["p_terrace"] = np.clip(land["p_terrace"] + land["p_terrace_gain"] * dy, 0.0, 0.95)
    sc["afforest"] = land["u_afforest"] - land["p_afforest"] * max(dy, 0)
    sc["gain"] = land["p_gain"] * (0.4 + 1.2 * land["u_gain"])
    sc["disturb"] = land["disturb"]
    sc["restore"] = land["u_restore"]
    sc["R"] = land["R"]
    sc["K"] = land["K"]
    out = {k: np.asarray(v, dtype=np.float32) for k, v in sc.items()}
    out["village_xy"] = land["village_xy"]
    out["streams"] = land["streams"]
    return out


def land_cover(
    scores: Mapping[str, np.ndarray],
    base: Grid,
    target: Grid,
    slope: np.ndarray,
    region: np.ndarray,
    year: int,
    seed: int,
) -> YearState:
    """Base-year land cover on the target grid, then the year's changes."""

    def S(name: str) -> np.ndarray:
        return resample(scores[name], base, target)

    step = max(1, int(round(math.sqrt(region.size / 1.5e6))))
    sub = (slice(step // 2, None, step), slice(step // 2, None, step))
    region_sub = region[sub]
    fine = noise_field(target, seed, 30, beta=2.0, corr_m=120.0)  # field-scale texture
    gentle = gentleness(slope, 10.0)

    lc = np.zeros(target.shape, dtype=np.uint8)
    water, roads = water_and_roads(target, scores["village_xy"], scores["streams"])
    # Ponds and small reservoirs in flat valley bottoms.
    water |= (S("pond") + 0.3 * fine > 2.2) & (slope < 4.0)
    lc[water] = WATER
    lc[roads & ~water] = TRANSPORT
    del water, roads

    # Built-up: kernels of the city, seats and towns, and mines; villages on gentle land.
    kernel = S("kernel")
    urban = S("villages")
    urban *= 0.62 * (0.5 + 0.5 * gentle)
    np.maximum(urban, kernel, out=urban)
    urban += 0.04 * fine
    free = lc == 0
    lc[free & (urban >= top_share(urban, free, region_sub, sub, SHARES_PCT[0][1]))] = BUILT
    dense_urban = (lc == BUILT) & (kernel > 0.62)
    del kernel

    # Other land: cliffs and bare rock on the steepest slopes, yards and spoil near settlements.
    other = S("other")
    other += np.clip((slope - 28.0) / 14.0, 0.0, 1.0) + 0.1 * fine
    free = lc == 0
    lc[free & (other >= top_share(other, free, region_sub, sub, SHARES_PCT[1][1]))] = OTHER
    del other

    # Orchards: gentle to moderate slopes near villages.
    orchard = S("orchard")
    orchard += np.exp(-(((slope - 8.0) / 7.0) ** 2)) + 0.15 * fine
    free = lc == 0
    lc[free & (orchard >= top_share(orchard, free, region_sub, sub, SHARES_PCT[2][1]))] = ORCHARD
    del orchard

    # Cropland: gentle land, valley floors and plateau tops, where MODIS sees cropland.
    crop = S("crop")
    crop += 4.0 * gentleness(slope, 5.0) + 0.12 * fine
    free = lc == 0
    lc[free & (crop >= top_share(crop, free, region_sub, sub, SHARES_PCT[3][1]))] = CROP
    del crop

    # Forest or grassland for the rest: forest higher, steeper, north-facing, far from villages.
    forest = S("forest")
    forest += 0.25 * np.clip(slope / 30.0, 0, 1) + 0.12 * fine
    free = lc == 0
    rest_pct = 100.0 * float((free[sub] & region_sub).sum()) / max(1, int(region_sub.sum()))
    lc[free & (forest >= top_share(forest, free, region_sub, sub, FOREST_SHARE_OF_REST * rest_pct))] = FOREST
    lc[lc == 0] = GRASS
    del forest, free

    # Vegetation cover of the base year, fraction.
    veg = S("veg")
    veg += 0.035 * fine
    fvc = np.full(target.shape, 0.08, dtype=np.float32)
    for code, level in FVC_LEVELS.items():
        sel = lc == code
        fvc[sel] = level + (veg[sel] if code in (FOREST, GRASS, ORCHARD) else 0.05 * fine[sel])
    del veg

    # Engineering measures: terraces on sloping cropland (more on steeper land).
    dy = year - BASE_YEAR
    u_ter = S("u_terrace")
    p_ter = S("p_terrace")
    p_ter *= np.sqrt(np.clip((slope - 0.5) / 4.0, 0.0, 1.0))
    terraced = (lc == CROP) & (u_ter < p_ter)
    e = np.ones(target.shape, dtype=np.float32)
    level = u_ter < 0.9 * p_ter
    e[terraced & level] = csle.ENGINEERING_E["level_terrace"]
    e[terraced & ~level] = csle.ENGINEERING_E["slope_terrace"]
    del u_ter, p_ter, level

    # ---- the year's changes -------------------------------------------------
    if dy > 0:
        # Urban growth onto the best-placed open land.
        not_fixed = (lc != WATER) & (lc != TRANSPORT)
        thr = top_share(urban, not_fixed, region_sub, sub, SHARES_PCT[0][1] + SPRAWL_PCT_PER_YEAR * dy)
        grow = not_fixed & (urban >= thr) & np.isin(lc, (CROP, ORCHARD, GRASS, OTHER))
        lc[grow] = BUILT
        fvc[grow] = 0.10
        e[grow] = 1.0
        del grow, not_fixed
        # Afforestation (Grain for Green, barren-hill planting) with fish-scale pits.
        eligible = ((lc == CROP) & (slope > 15.0) & ~terraced) | ((lc == GRASS) & (slope > 10.0))
        planted = eligible & (S("afforest") < 0.0)
        lc[planted] = FOREST
        fvc[planted] = np.maximum(fvc[planted] - 0.1, 0.30)
        e[planted] = csle.ENGINEERING_E["fish_scale_pit"]
        del eligible, planted
    del urban, terraced

    # Vegetation recovery: each year closes a share of the gap to full cover.
    vegetated = np.isin(lc, (FOREST, GRASS, ORCHARD))
    gain = S("gain")[vegetated]
    fvc[vegetated] = 1.0 - (1.0 - fvc[vegetated]) * (1.0 - gain) ** dy
    del gain, vegetated

    # The setback: mining / construction disturbance from SETBACK_YEAR, partly restored later.
    if year >= SETBACK_YEAR:
        hit = (S("disturb") > 0.25) & np.isin(lc, (FOREST, GRASS, ORCHARD))
        restored = hit & (S("restore") < 0.3 * (year - SETBACK_YEAR))
        lc[hit] = OTHER
        fvc[hit] = 0.05
        e[hit] = 1.0
        lc[restored] = GRASS
        fvc[restored] = 0.30
        e[restored] = csle.ENGINEERING_E["fish_scale_pit"]
        del hit, restored

    np.clip(fvc, 0.0, 0.97, out=fvc)
    return YearState(lc=lc, fvc=fvc, e=e, dense_urban=dense_urban)
