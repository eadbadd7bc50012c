"""Factors of the Chinese Soil Loss Equation (CSLE, Liu Baoyuan et al. 2002).

    A = R · K · L · S · B · E · T

==========  ==========================================  ===============================
symbol      meaning                                     unit
==========  ==========================================  ===============================
A           soil loss (erosion modulus)                 t/(ha·a)  (×100 → t/(km²·a))
R           rainfall erosivity                          MJ·mm/(ha·h·a)
K           soil erodibility                            t·ha·h/(ha·MJ·mm)
L, S        slope length and steepness factors          dimensionless
B           biological (vegetation) measures factor     dimensionless, 0–1
E           engineering measures factor (terraces …)    dimensionless, 0–1
T           tillage measures factor (cropland only)     dimensionless, 0–1
==========  ==========================================  ===============================

The choices (slope formulas, the B–cover relations, the measure tables) and
their sources are recorded in ``docs/decisions/0002-csle-factors.md``.
Everything here is vectorised numpy; angles are in degrees, lengths in metres.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import numpy as np
from affine import Affine

from swc_raster import units

__all__ = [
    "slope_degrees",
    "slope_length_factor",
    "slope_steepness_factor",
    "ls_factor",
    "slope_length_from_dem",
    "upstream_area_from_dem",
    "d8_steepest_descent",
    "fractional_vegetation_cover",
    "biological_factor_B",
    "tillage_factor_T",
    "engineering_factor_E",
    "soil_loss",
    "t_ha_to_t_km2",
    "LANDUSE_KIND",
    "FIXED_B",
    "ENGINEERING_E",
    "TILLAGE_T_CROPLAND",
    "UNIT_PLOT_LENGTH_M",
    "DEFAULT_LAMBDA_CAP_M",
]

#: Length of the standard unit plot, m (L = 1 at λ = 22.13 m).
UNIT_PLOT_LENGTH_M: Final = 22.13
#: Default cap on the slope length λ, m.
DEFAULT_LAMBDA_CAP_M: Final = 300.0

#: Land-use kind of each legend code (``config/landcover_legend.csv``).
LANDUSE_KIND: Final[Mapping[int, str]] = {
    1: "cropland",
    2: "orchard",
    3: "forest",
    4: "grassland",
    5: "built_up",
    6: "transport",
    7: "water",
    8: "other",
}

#: B of the kinds whose B does not come from vegetation cover.
#: Cropland: B = 1 by the CSLE rule (the crop is in the tillage factor T).
#: Built-up, transport, water: 0 (sealed or submerged surfaces lose no soil
#: by sheet/rill erosion; monitoring products usually mask them).
#: Other land (bare land, spoil, quarries): 1 (no protective cover).
FIXED_B: Final[Mapping[str, float]] = {
    "cropland": 1.0,
    "built_up": 0.0,
    "transport": 0.0,
    "water": 0.0,
    "other": 1.0,
}

#: Which cover–B relation each vegetated kind uses (see :func:`biological_factor_B`).
#: Orchards use the herbaceous relation: their ground is mostly open between
#: the trees, so the canopy protects less than a forest's.
_RELATION_OF_KIND: Final[Mapping[str, str]] = {
    "forest": "forest",
    "orchard": "grassland",
    "grassland": "grassland",
}

#: Engineering-measure factor E by measure (CSLE monitoring tables; see decision 0002).
ENGINEERING_E: Final[Mapping[str, float]] = {
    "none": 1.0,
    "level_terrace": 0.084,  # 水平梯田
    "slope_terrace": 0.414,  # 坡式梯田
    "alternate_terrace": 0.347,  # 隔坡梯田
    "fish_scale_pit": 0.249,  # 鱼鳞坑
    "level_bench": 0.151,  # 水平阶
    "level_ditch": 0.335,  # 水平沟
}

#: Default tillage factor T of cropland: mean annual cover-management value of
#: the single-cropping rotation systems of China (Guo Qiankun et al. 2015).
TILLAGE_T_CROPLAND: Final = 0.37


def _float(a: np.ndarray | float) -> np.ndarray:
    """float32 arrays stay float32 (large rasters), everything else becomes float64."""
    a = np.asarray(a)
    return a if a.dtype == np.float32 else a.astype(np.float64)


# --------------------------------------------------------------------------- slope


def slope_degrees(dem: np.ndarray, res_x: float, res_y: float) -> np.ndarray:
    """Slope angle θ of a DEM on a metric grid, in degrees, by Horn's (1981) method.

    Horn's weighted 3×3 finite differences (the method of GDAL ``gdaldem``
    and ArcGIS):

        ∂z/∂x = ((c + 2f + i) − (a + 2d + g)) / (8 · res_x)
        ∂z/∂y = ((g + 2h + i) − (a + 2b + c)) / (8 · res_y)
        θ = atan(√((∂z/∂x)² + (∂z/∂y)²))

    for the window ``a b c / d e f / g h i``.  Where a neighbour is missing
    (NaN, or beyond the DEM's edge) the difference of its row or column is
    taken one-sided from the cells that exist
    (:func:`swc_raster.slope_length.slope_degrees`), so a plane has the same
    slope everywhere, edges and holes included, and every valid cell has a
    slope.  NaN cells stay NaN.

    Parameters
    ----------
    dem : numpy.ndarray
        Elevation, m (2-D, at least 2×2).
    res_x, res_y : float
        Cell width and height, m (positive).

    Returns
    -------
    numpy.ndarray
        Slope, degrees (``float32``), same shape as ``dem``.
    """
    from swc_raster import slope_length

    z = np.asarray(dem, dtype=np.float32)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"dem must be 2-D and at least 2x2, got shape {z.shape}")
    return slope_length.slope_degrees(z, res_x, res_y)


def slope_length_factor(
    lambda_m: np.ndarray | float, slope_deg: np.ndarray | float, cap_m: float = DEFAULT_LAMBDA_CAP_M
) -> np.ndarray:
    """Slope length factor L = (λ / 22.13)^m of the CSLE.

    The exponent depends on the slope angle θ: m = 0.2 (θ ≤ 1°), 0.3
    (1° < θ ≤ 3°), 0.4 (3° < θ ≤ 5°), 0.5 (θ > 5°).  λ is capped at
    ``cap_m`` before use.

    Parameters
    ----------
    lambda_m : array_like
        Slope length λ, m (horizontal projection), ≥ 0.
    slope_deg : array_like
        Slope angle θ, degrees.
    cap_m : float, default 300
        Upper limit on λ, m.

    Returns
    -------
    numpy.ndarray
        L, dimensionless (``float32`` if both inputs are ``float32``, else ``float64``).
    """
    lam = _float(lambda_m)
    theta = _float(slope_deg)
    dtype = np.result_type(lam, theta)
    lam = np.minimum(lam, dtype.type(cap_m))
    m = np.full(theta.shape, 0.5, dtype=dtype)
    m[theta <= 5.0] = 0.4
    m[theta <= 3.0] = 0.3
    m[theta <= 1.0] = 0.2
    m[np.isnan(theta)] = np.nan
    return np.asarray((lam / dtype.type(UNIT_PLOT_LENGTH_M)) ** m)


def slope_steepness_factor(slope_deg: np.ndarray | float, method: Literal["csle", "rusle"] = "csle") -> np.ndarray:
    """Slope steepness factor S.

    ``method="csle"`` (McCool et al. 1987 below 10°, Liu et al. 1994 above):

        S = 10.8 sinθ + 0.03     θ < 5°
        S = 16.8 sinθ − 0.50     5° ≤ θ < 10°
        S = 21.91 sinθ − 0.96    θ ≥ 10°

    ``method="rusle"`` (McCool et al. 1987, as in RUSLE and InVEST SDR):

        S = 10.8 sinθ + 0.03     tanθ < 0.09 (9 %)
        S = 16.8 sinθ − 0.50     otherwise

    The two agree below 10°; above, RUSLE's S is lower (7.9 against 10.0 at 30°).

    Parameters
    ----------
    slope_deg : array_like
        Slope angle θ, degrees.
    method : {"csle", "rusle"}
        Which formula set.

    Returns
    -------
    numpy.ndarray
        S, dimensionless (``float32`` for ``float32`` input, else ``float64``).
    """
    if method not in ("csle", "rusle"):
        raise ValueError(f"method must be 'csle' or 'rusle', got {method!r}")
    theta = _float(slope_deg)
    f = theta.dtype.type
    s = np.sin(np.radians(theta))
    # Coefficients (a, b) of S = a·sinθ + b by branch.
    a = np.full(theta.shape, f(16.8), dtype=theta.dtype)
    b = np.full(theta.shape, f(-0.50), dtype=theta.dtype)
    if method == "csle":
        gentle = theta < 5.0
        steep = theta >= 10.0
        a[steep], b[steep] = f(21.91), f(-0.96)
    else:
        gentle = np.tan(np.radians(theta)) < 0.09
    a[gentle], b[gentle] = f(10.8), f(0.03)
    out = np.asarray(a * s + b)
    return np.where(np.isnan(theta), np.nan, out).astype(theta.dtype, copy=False)


def ls_factor(
    lambda_m: np.ndarray | float,
    slope_deg: np.ndarray | float,
    cap_m: float = DEFAULT_LAMBDA_CAP_M,
    method: Literal["csle", "rusle"] = "csle",
) -> np.ndarray:
    """Combined topographic factor L·S (dimensionless); see the two factor functions."""
    return slope_length_factor(lambda_m, slope_deg, cap_m) * slope_steepness_factor(slope_deg, method)


#: pyflwdir's D8 codes of the eight neighbours, by (row offset, column offset).
_D8_CODES: Final = {
    (-1, -1): 32,
    (-1, 0): 64,
    (-1, 1): 128,
    (0, -1): 16,
    (0, 1): 1,
    (1, -1): 8,
    (1, 0): 4,
    (1, 1): 2,
}


def d8_steepest_descent(
    dem: np.ndarray, res_x: float, res_y: float, nodata: float | None = None, *, fill: bool = True
) -> np.ndarray:
    """D8 flow directions (pyflwdir/ESRI codes) by steepest descent on the depression-filled DEM.

    Depressions are filled with ``pyflwdir.dem.fill_depressions`` (priority
    flood, Wang & Liu 2006; cells on the grid's edge are outlets).  Each cell
    then drains to the neighbour with the largest drop per distance
    (diagonals at √(res_x² + res_y²)).  Cells without a strictly lower
    neighbour (flats left by the filling, outlets) keep the priority-flood
    direction, which routes flats towards their outlet; this cannot create
    loops because every steepest-descent step goes strictly downhill.  Edge
    cells without a lower neighbour are outlets (they drain out of the grid).

    With ``fill=False`` the (costly, O(N log N)) filling is skipped and every
    cell without a lower neighbour is a pit where flow paths end: use it for
    DEMs that are (nearly) depression-free, or where short paths do not
    matter (λ capped at a few hundred metres).

    Returns
    -------
    numpy.ndarray
        ``uint8`` codes: 1 E, 2 SE, 4 S, 8 SW, 16 W, 32 NW, 64 N, 128 NE,
        0 outlet/pit, 247 nodata.
    """
    from pyflwdir.dem import fill_depressions  # numba-compiled; imported lazily

    z = np.array(dem, dtype=np.float32)
    invalid = ~np.isfinite(z)
    if nodata is not None:
        invalid |= z == np.float32(nodata)
    if fill:
        missing = np.float32(-9999.0)
        z[invalid] = missing
        filled, d8 = fill_depressions(z, nodata=float(missing), outlets="edge")
        del z
        filled = np.asarray(filled, dtype=np.float32)
    else:
        filled, d8 = z, np.zeros(z.shape, dtype=np.uint8)
    rows, cols = filled.shape
    padded = np.full((rows + 2, cols + 2), np.inf, dtype=np.float32)
    padded[1:-1, 1:-1] = np.where(invalid, np.inf, filled)
    best = np.zeros((rows, cols), dtype=np.float32)
    code = np.zeros((rows, cols), dtype=np.uint8)
    for (dr, dc), value in _D8_CODES.items():
        dist = np.float32(np.hypot(dr * res_y, dc * res_x))
        drop = filled - padded[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]
        drop /= dist
        better = drop > best
        best[better] = drop[better]
        code[better] = value
        del drop, better
    del padded, filled
    out = np.where(best > 0, code, np.asarray(d8, dtype=np.uint8))
    # Edge cells with no lower neighbour drain out of the grid (outlets).
    edge = np.zeros((rows, cols), dtype=bool)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    out[edge & (best <= 0)] = 0
    out[invalid] = 247
    return out


def slope_length_from_dem(
    dem: np.ndarray,
    transform: Affine,
    cap_m: float | None = DEFAULT_LAMBDA_CAP_M,
    nodata: float | None = None,
    *,
    fill: bool = True,
) -> np.ndarray:
    """Slope length λ from a DEM on a metric grid, by D8 flow accumulation (pyflwdir).

    This is the unit-contributing-area λ of the demo generator, for the whole-slope
    L of :func:`slope_length_factor`.  The CSLE branch uses the census method
    instead (cumulative λ, L per segment): :mod:`swc_raster.slope_length`.

    Method ("unit contributing area", Moore & Burch 1986; Desmet & Govers
    1996 with the contour width taken as the cell width):

    1. D8 flow directions by steepest descent on the depression-filled DEM
       (:func:`d8_steepest_descent`; cells on the grid's edge drain out);
    2. upstream contributing area ``A`` of every cell, in m², *including the
       cell itself*, by accumulating the cell areas downstream
       (``pyflwdir.FlwdirRaster.accuflux``);
    3. ``λ = A / w`` with ``w`` the cell width (√(res_x·res_y)), capped at
       ``cap_m``.

    On a planar slope draining along a grid axis this is exactly the flow
    path length from the divide to the cell's downslope edge: the n-th cell
    below the divide gets λ = n·res.  On divergent slopes λ is shorter than
    the longest flow path, on convergent ones longer — the usual behaviour
    of the contributing-area approach; the cap keeps valley bottoms from
    getting kilometre-long λ.

    Parameters
    ----------
    dem : numpy.ndarray
        Elevation, m.  NaN (or ``nodata``) cells are excluded.
    transform : affine.Affine
        North-up georeferencing in metres (a projected CRS).
    cap_m : float or None, default 300
        Upper limit on λ, m; ``None`` for no cap.
    nodata : float, optional
        DEM value meaning "no data" (in addition to NaN).
    fill : bool, default True
        Fill depressions before routing (see :func:`d8_steepest_descent`);
        ``False`` only for DEMs known to be depression-free.

    Returns
    -------
    numpy.ndarray
        λ, m (``float32``); NaN on nodata cells.
    """
    if transform.b != 0 or transform.d != 0:
        raise ValueError("slope_length_from_dem needs a north-up grid without rotation")
    area = upstream_area_from_dem(dem, transform, nodata=nodata, fill=fill)
    lam = area / np.float32(np.sqrt(abs(transform.a) * abs(transform.e)))
    del area
    if cap_m is not None:
        np.minimum(lam, np.float32(cap_m), out=lam)
    return lam


def upstream_area_from_dem(
    dem: np.ndarray,
    transform: Affine,
    nodata: float | None = None,
    *,
    fill: bool = True,
) -> np.ndarray:
    """Upstream contributing area of every cell (itself included), m², by D8 routing.

    Flow directions from :func:`d8_steepest_descent`, accumulation with
    ``pyflwdir.FlwdirRaster.accuflux``.  The grid must be north-up and metric.

    Returns
    -------
    numpy.ndarray
        Area, m² (``float32``); NaN on nodata cells.
    """
    import pyflwdir  # numba-compiled; imported lazily

    if transform.b != 0 or transform.d != 0:
        raise ValueError("upstream_area_from_dem needs a north-up grid without rotation")
    res_x, res_y = abs(transform.a), abs(transform.e)
    z = np.asarray(dem, dtype=np.float32)
    invalid = ~np.isfinite(z)
    if nodata is not None:
        invalid |= z == np.float32(nodata)
    d8 = d8_steepest_descent(z, res_x, res_y, nodata=nodata, fill=fill)
    flw = pyflwdir.from_array(d8, ftype="d8", check_ftype=False, transform=transform, latlon=False)
    del d8
    cell_area = np.full(z.shape, res_x * res_y, dtype=np.float32)
    cell_area[invalid] = 0.0
    area = np.asarray(flw.accuflux(cell_area, nodata=-9999.0), dtype=np.float32)
    area[invalid] = np.nan
    return area


# --------------------------------------------------------------------------- vegetation


def fractional_vegetation_cover(
    ndvi: np.ndarray | float, ndvi_soil: np.ndarray | float, ndvi_veg: np.ndarray | float
) -> np.ndarray:
    """Fractional vegetation cover by the pixel dichotomy model, clipped to 0–1.

        FVC = (NDVI − NDVI_soil) / (NDVI_veg − NDVI_soil)

    ``ndvi_soil`` and ``ndvi_veg`` are the NDVI of bare soil and of full
    cover (often the 5 % and 95 % quantiles of the image); scalars or arrays.

    Returns
    -------
    numpy.ndarray
        FVC, fraction 0–1 (``float32`` for ``float32`` NDVI, else ``float64``);
        NaN where NDVI is NaN.
    """
    ndvi = _float(ndvi)
    lo = np.asarray(ndvi_soil, dtype=ndvi.dtype)
    hi = np.asarray(ndvi_veg, dtype=ndvi.dtype)
    if np.any(hi <= lo):
        raise ValueError("ndvi_veg must be greater than ndvi_soil")
    return np.clip((ndvi - lo) / (hi - lo), 0.0, 1.0)


def _b_forest_jiang(c: np.ndarray) -> np.ndarray:
    # Jiang Zhongshan et al. 1996, woodland: B = exp(-0.0085 (c - 5)^1.5), c in %.
    return np.exp(-0.0085 * np.maximum(c - 5.0, 0.0) ** 1.5)


def _b_grass_jiang(c: np.ndarray) -> np.ndarray:
    # Jiang Zhongshan et al. 1996, grassland: B = exp(-0.0418 (c - 5)), c in %.
    return np.exp(-0.0418 * np.maximum(c - 5.0, 0.0))


def _b_cai(c: np.ndarray) -> np.ndarray:
    # Cai Chongfa et al. 2000: 1 at c = 0; 0.6508 - 0.3436 lg c for 0 < c < 78.3 %; 0 above.
    with np.errstate(divide="ignore"):
        b = 0.6508 - 0.3436 * np.log10(c)
    return np.clip(np.where(c <= 0.0, 1.0, np.where(c >= 78.3, 0.0, b)), 0.0, 1.0)


def biological_factor_B(
    fvc: np.ndarray | float,
    landuse: np.ndarray | int,
    *,
    method: Literal["jiang1996", "cai2000"] = "jiang1996",
    kinds: Mapping[int, str] = LANDUSE_KIND,
    fixed_b: Mapping[str, float] = FIXED_B,
) -> np.ndarray:
    """Biological-measures factor B from vegetation cover and land use.

    Rules:

    - cropland: B = 1 (the crop and its tillage are in :func:`tillage_factor_T`);
    - built-up, transport, water: B = 0; other land (bare): B = 1
      (``fixed_b``, overridable);
    - forest, grassland, orchard: B from the fractional vegetation cover
      ``c`` (in %):

      ``method="jiang1996"`` (Jiang Zhongshan et al. 1996, default), by kind
        forest:     B = exp(−0.0085 · (c − 5)^1.5)
        grassland:  B = exp(−0.0418 · (c − 5))     (also used for orchards)
        and B = 1 for c ≤ 5 %;
      ``method="cai2000"`` (Cai Chongfa et al. 2000), one relation for all:
        B = 1 (c = 0), 0.6508 − 0.3436·lg c (0 < c < 78.3 %), 0 (c ≥ 78.3 %).

    Parameters
    ----------
    fvc : array_like
        Fractional vegetation cover, 0–1 (not %).
    landuse : array_like of int
        Land-use codes; ``kinds`` maps each code to a kind name.
    method : {"jiang1996", "cai2000"}
        Cover–B relation for vegetated kinds.
    kinds : mapping of int to str
        Land-use code → kind (defaults to the project legend,
        :data:`LANDUSE_KIND`).
    fixed_b : mapping of str to float
        B of the non-vegetated kinds (defaults to :data:`FIXED_B`).

    Returns
    -------
    numpy.ndarray
        B, dimensionless 0–1 (``float32``); NaN for codes not in ``kinds``
        (e.g. nodata) and where a vegetated pixel has no FVC.
    """
    if method not in ("jiang1996", "cai2000"):
        raise ValueError(f"method must be 'jiang1996' or 'cai2000', got {method!r}")
    lu = np.asarray(landuse)
    c = np.clip(_float(fvc), 0.0, 1.0) * 100.0
    c, lu = np.broadcast_arrays(c, lu)
    out = np.full(lu.shape, np.nan, dtype=np.float32)
    for code, kind in kinds.items():
        sel = lu == code
        if not np.any(sel):
            continue
        if kind in fixed_b:
            out[sel] = fixed_b[kind]
        elif kind in _RELATION_OF_KIND:
            cs = c[sel]
            if method == "cai2000":
                out[sel] = _b_cai(cs)
            elif _RELATION_OF_KIND[kind] == "forest":
                out[sel] = _b_forest_jiang(cs)
            else:
                out[sel] = _b_grass_jiang(cs)
        else:
            raise ValueError(f"land-use kind {kind!r} (code {code}) has neither a fixed B nor a cover relation")
    return out


def tillage_factor_T(
    landuse: np.ndarray | int,
    t_cropland: np.ndarray | float = TILLAGE_T_CROPLAND,
    *,
    kinds: Mapping[int, str] = LANDUSE_KIND,
) -> np.ndarray:
    """Tillage-measures factor T: ``t_cropland`` on cropland, 1 on every other land use.

    Returns
    -------
    numpy.ndarray
        T, dimensionless 0–1 (``float32``).
    """
    lu = np.asarray(landuse)
    crop_codes = [code for code, kind in kinds.items() if kind == "cropland"]
    is_crop = np.isin(lu, crop_codes)
    t = np.broadcast_to(np.asarray(t_cropland, dtype=np.float32), lu.shape)
    return np.where(is_crop, t, np.float32(1.0)).astype(np.float32)


def engineering_factor_E(measure: np.ndarray | str, table: Mapping[str, float] = ENGINEERING_E) -> np.ndarray:
    """Engineering-measures factor E from measure names (see :data:`ENGINEERING_E`).

    ``measure`` is a name or an array of names (``"none"`` → 1).

    Returns
    -------
    numpy.ndarray
        E, dimensionless 0–1 (``float32``).
    """
    m = np.asarray(measure)
    unknown = set(np.unique(m).tolist()) - set(table)
    if unknown:
        raise ValueError(f"unknown engineering measure(s) {sorted(unknown)}; known: {sorted(table)}")
    out = np.empty(m.shape, dtype=np.float32)
    for name, value in table.items():
        out[m == name] = value
    return out


# --------------------------------------------------------------------------- soil loss


def soil_loss(
    R: np.ndarray | float,
    K: np.ndarray | float,
    LS: np.ndarray | float,
    B: np.ndarray | float,
    E: np.ndarray | float = 1.0,
    T: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Soil loss A = R·K·L·S·B·E·T of the CSLE, in t/(ha·a).

    Parameters
    ----------
    R : array_like
        Rainfall erosivity, MJ·mm/(ha·h·a).
    K : array_like
        Soil erodibility, t·ha·h/(ha·MJ·mm).
    LS : array_like
        Topographic factor L·S (dimensionless), e.g. from :func:`ls_factor`.
    B, E, T : array_like
        Biological, engineering and tillage factors (dimensionless, 0–1).

    Returns
    -------
    numpy.ndarray
        A, t/(ha·a), broadcast shape of the inputs (``float32`` when every
        array input is ``float32``, else ``float64``).
        Use :func:`t_ha_to_t_km2` for t/(km²·a).
    """
    raw = [np.asarray(v) for v in (R, K, LS, B, E, T)]
    arrays_in = [a for a in raw if a.ndim > 0]
    all32 = bool(arrays_in) and all(a.dtype == np.float32 for a in arrays_in)
    dtype = np.float32 if all32 else np.float64
    arrays = [a.astype(dtype, copy=False) for a in raw]
    for name, a in zip(["R", "K", "LS", "B", "E", "T"], arrays, strict=True):
        if np.any(a < 0):
            raise ValueError(f"factor {name} has negative values")
    out = np.multiply(arrays[0], arrays[1])  # a new array: the inputs are never modified
    for a in arrays[2:]:
        if out.shape == np.broadcast_shapes(out.shape, a.shape):
            out *= a
        else:
            out = out * a
    return out


def t_ha_to_t_km2(a_t_ha: np.ndarray | float) -> np.ndarray:
    """Convert a soil loss from t/(ha·a) to t/(km²·a) (×100, 1 ha = 0.01 km²); keeps ``float32``."""
    a = _float(a_t_ha)
    return a * a.dtype.type(units.TO_T_KM2[units.T_HA])
