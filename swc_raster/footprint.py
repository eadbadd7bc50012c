"""Where a raster has cells, as a polygon in another CRS, and how much of a county it covers.

One rule for every stage: validation (does each raster cover each county?), alignment and the
zonal engine (land outside the erosion raster is a data gap), and the CSLE branch (the factor
rasters' common footprint).

* :func:`raster_footprint` — the outline of a raster's cells (edges densified, so that a
  straight edge in the raster's CRS stays curved where it is curved in the target CRS),
  from the raster's own geotransform (rotated grids included).
* :func:`coverage_pct` — the share of a polygon's area inside a footprint, both in one
  equal-area CRS, so that the share is a share of true area.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pyproj
import shapely
from affine import Affine

__all__ = ["EDGE_POINTS", "coverage_pct", "outline_footprint", "raster_footprint"]

#: Points per raster edge when the outline is projected: 64 keeps a 3°-wide lon/lat edge
#: within a few metres of its true curve in Albers or Gauss-Krüger.
EDGE_POINTS: Final = 64


def outline_footprint(
    transform: Affine,
    width: int,
    height: int,
    src_crs: Any,
    dst_crs: Any,
    edge_points: int = EDGE_POINTS,
) -> shapely.Polygon | shapely.MultiPolygon | None:
    """The outline of a ``height`` × ``width`` grid (``transform``, ``src_crs``) as a polygon in ``dst_crs``.

    Each edge is sampled at ``edge_points`` points of the cells' outer boundary, projected with
    PROJ; points that do not project (outside the target CRS's domain) are dropped. Returns a
    valid polygon, or ``None`` when fewer than three points project.
    """
    n = max(2, int(edge_points))
    s = np.arange(n, dtype="float64") / n
    w, h = float(width), float(height)
    cols = np.concatenate([s * w, np.full(n, w), (1 - s) * w, np.zeros(n)])
    rows = np.concatenate([np.zeros(n), s * h, np.full(n, h), (1 - s) * h])
    a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f
    xs, ys = a * cols + b * rows + c, d * cols + e * rows + f
    src, dst = pyproj.CRS.from_user_input(_wkt(src_crs)), pyproj.CRS.from_user_input(_wkt(dst_crs))
    if src == dst:
        xx, yy = xs, ys
    else:
        tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
        with np.errstate(all="ignore"):
            xx, yy = tr.transform(xs, ys, errcheck=False)
        xx, yy = np.asarray(xx, dtype="float64"), np.asarray(yy, dtype="float64")
    ok = np.isfinite(xx) & np.isfinite(yy)
    if ok.sum() < 3:
        return None
    poly = shapely.Polygon(np.column_stack([xx[ok], yy[ok]]))
    return poly if poly.is_valid else _polygonal(shapely.make_valid(poly))


def raster_footprint(ds: Any, dst_crs: Any, edge_points: int = EDGE_POINTS) -> shapely.Polygon | None:
    """The footprint of an open raster (``rasterio`` dataset) in ``dst_crs``; see :func:`outline_footprint`.

    Raises ``ValueError`` when the raster has no CRS.
    """
    if ds.crs is None:
        raise ValueError(f"{getattr(ds, 'name', 'raster')} has no CRS: its footprint cannot be placed on the map.")
    return outline_footprint(ds.transform, ds.width, ds.height, ds.crs, dst_crs, edge_points)


def coverage_pct(polygon: Any, footprint: Any) -> float:
    """Percentage of ``polygon``'s area inside ``footprint`` (both in the same equal-area CRS).

    ``footprint`` ``None`` (nothing projects) covers nothing. An empty polygon is fully covered
    (there is no land to miss).
    """
    area = float(shapely.area(polygon))
    if area <= 0:
        return 100.0
    if footprint is None or footprint.is_empty:
        return 0.0
    return 100.0 * float(shapely.area(shapely.intersection(polygon, footprint))) / area


def _wkt(crs: Any) -> Any:
    return crs.to_wkt() if hasattr(crs, "to_wkt") else crs


def _polygonal(g: Any) -> Any:
    """The polygon parts of a repaired geometry (make_valid may add lines along a pinched edge)."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None
