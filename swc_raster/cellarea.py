"""True ground area of raster cells, in any CRS.

Used to convert t/(pixel·a) erosion rasters and to check them: a lon/lat cell's
area changes with latitude, and a projected cell's ground area differs from its
map area by the projection's areal scale factor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyproj
import rasterio
from rasterio.windows import Window


def pixel_area_km2(dataset: rasterio.io.DatasetReader, window: Window | None = None) -> np.ndarray:
    """True ground area, in km², of each pixel of ``window`` (default: whole raster).

    * Geographic CRS (lon/lat): exact area of the ellipsoidal cell between two
      meridians and two parallels,
      ``A = b²·Δλ/2 · [q(φ₂) − q(φ₁)]`` with ``q(φ) = sinφ/(1 − e²sin²φ) + artanh(e·sinφ)/e``
      (authalic-latitude formula; the cell area depends on latitude only).
      Rotated / sheared grids use the local scale at the cell centre.
    * Projected CRS: the map area of a cell (|det| of the geotransform, in m²)
      divided by the projection's areal scale factor at the cell centre
      (``pyproj.Proj.get_factors(...).areal_scale``); exact to well below 1e-6
      for cells up to a few km.

    Returns a float64 array broadcastable to, and viewed as, shape
    ``(window.height, window.width)`` (read-only when it is a broadcast view).
    Raises ``ValueError`` for a raster without a CRS.
    """
    if window is None:
        window = Window(0, 0, dataset.width, dataset.height)
    r0, c0 = int(window.row_off), int(window.col_off)
    h, w = int(window.height), int(window.width)
    rows = np.arange(r0, r0 + h, dtype="float64")[:, None]
    cols = np.arange(c0, c0 + w, dtype="float64")[None, :]
    return np.broadcast_to(cell_areas_km2(dataset, rows, cols), (h, w))


def cell_areas_km2(ds: Any, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Ground area (km²) of the cells at integer pixel indices ``rows``, ``cols`` (broadcastable)."""
    crs = pyproj.CRS.from_wkt(ds.crs.to_wkt()) if ds.crs else None
    if crs is None:
        raise ValueError("the raster has no CRS: pixel areas are unknown")
    t = ds.transform
    rows = np.asarray(rows, dtype="float64")
    cols = np.asarray(cols, dtype="float64")
    if crs.is_geographic:
        a, e2 = _ellipsoid(crs)
        b2 = a * a * (1.0 - e2)
        to_rad = crs.axis_info[0].unit_conversion_factor or math.pi / 180.0
        if t.b == 0 and t.d == 0:
            phi1 = (t.f + rows * t.e) * to_rad
            phi2 = (t.f + (rows + 1.0) * t.e) * to_rad
            dlon = abs(t.a) * to_rad
            area = 0.5 * b2 * dlon * np.abs(_q(phi2, e2) - _q(phi1, e2))
            return np.broadcast_to(area, np.broadcast_shapes(rows.shape, cols.shape)) / 1e6
        # rotated / sheared grid: local scale at the cell centre
        _, y = apply_affine(t, cols + 0.5, rows + 0.5)
        phi = np.asarray(y, dtype="float64") * to_rad
        det = abs(t.a * t.e - t.b * t.d) * to_rad * to_rad
        area = _mn(phi, a, e2) * np.cos(phi) * det
        return np.broadcast_to(area, np.broadcast_shapes(rows.shape, cols.shape)) / 1e6
    return ProjectedAreas(crs).km2(t, rows, cols)


class ProjectedAreas:
    """Ground areas of cells of a projected CRS, with the transformer and projection made once.

    Map area of a cell (|det| of the geotransform) divided by the projection's areal scale
    factor at the cell centre (``pyproj.Proj.get_factors``).
    """

    def __init__(self, crs: pyproj.CRS):
        self.crs = crs
        self.to_m = crs.axis_info[0].unit_conversion_factor or 1.0
        self.to_geo = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        self.proj = pyproj.Proj(crs)
        self.radius = _spherical_radius(self.proj.definition_string())

    def km2(self, t: Any, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Area (km²) of the cells at pixel indices ``rows``, ``cols`` (broadcastable) of a raster with transform ``t``."""
        map_area = abs(t.a * t.e - t.b * t.d) * self.to_m * self.to_m
        x, y = apply_affine(t, np.asarray(cols, dtype="float64") + 0.5, np.asarray(rows, dtype="float64") + 0.5)
        x, y = np.broadcast_arrays(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))
        lon, lat = self.to_geo.transform(x, y)
        factors = self.proj.get_factors(np.asarray(lon), np.asarray(lat))
        scale = np.asarray(factors.areal_scale, dtype="float64").reshape(x.shape)
        area = map_area / scale
        if self.radius is not None:
            # Spherical formulas applied to ellipsoidal coordinates (EPSG:3857 Pseudo-Mercator):
            # get_factors is relative to the sphere; rescale to the datum ellipsoid's area element.
            a, e2 = _ellipsoid(self.crs)
            phi = np.radians(np.asarray(lat, dtype="float64")).reshape(x.shape)
            area = area * _mn(phi, a, e2) / (self.radius * self.radius)
        return area / 1e6


def _spherical_radius(definition: str) -> float | None:
    """Sphere radius when a PROJ definition projects on a sphere (``R=`` or ``a=b``), else ``None``."""
    kv = dict(tok.split("=", 1) for tok in definition.split() if "=" in tok)
    try:
        if "R" in kv:
            return float(kv["R"])
        if "a" in kv and "b" in kv and float(kv["a"]) == float(kv["b"]):
            return float(kv["a"])
    except ValueError:
        return None
    return None


def _ellipsoid(crs: pyproj.CRS) -> tuple[float, float]:
    """Semi-major axis (m) and first eccentricity squared of the CRS's ellipsoid."""
    ell = crs.ellipsoid
    inv_f = ell.inverse_flattening
    f = 0.0 if not inv_f or math.isinf(inv_f) else 1.0 / inv_f
    return ell.semi_major_metre, f * (2.0 - f)


def _mn(phi: np.ndarray, a: float, e2: float) -> np.ndarray:
    """Product of the meridional and prime-vertical radii of curvature, M·N, at latitude ``phi`` (rad)."""
    w2 = 1.0 - e2 * np.sin(phi) ** 2
    return a * a * (1.0 - e2) / (w2 * w2)


def apply_affine(t: Any, cols: Any, rows: Any) -> tuple[Any, Any]:
    """Affine ``t`` applied to pixel coordinates (col, row) → (x, y); works on arrays."""
    return t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f


def _q(phi: np.ndarray, e2: float) -> np.ndarray:
    """Authalic-latitude helper q(φ) (Snyder 1987, eq. 3-12) without the (1 − e²) factor."""
    s = np.sin(phi)
    if e2 == 0.0:
        return 2.0 * s
    e = math.sqrt(e2)
    return s / (1.0 - e2 * s * s) + np.arctanh(e * s) / e
