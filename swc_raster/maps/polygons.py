"""County polygons on a map: filled or outlined, holes kept, optionally hatched."""

from __future__ import annotations

import numpy as np


def polygon_path(geom):
    """matplotlib Path of a (multi)polygon with consistently oriented rings (holes stay holes)."""
    from matplotlib.path import Path as MPath
    from shapely.geometry.polygon import orient

    verts, codes = [], []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        poly = orient(poly, 1.0)
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            verts.append(xy)
            codes.append([MPath.MOVETO] + [MPath.LINETO] * (len(xy) - 2) + [MPath.CLOSEPOLY])
    return MPath(np.concatenate(verts), np.concatenate(codes))


def draw_polygons(ax, geoms, facecolors, *, edgecolor="#4D4D4D", linewidth=0.5, hatches=None, zorder=2) -> None:
    """Add each polygon with its face colour (``"none"`` for outlines only) and optional hatch."""
    from matplotlib.patches import PathPatch

    for i, (geom, fc) in enumerate(zip(geoms, facecolors)):
        path = polygon_path(geom)
        ax.add_patch(PathPatch(path, facecolor=fc, edgecolor=edgecolor, linewidth=linewidth, zorder=zorder))
        if hatches is not None and hatches[i]:
            ax.add_patch(
                PathPatch(
                    path, facecolor="none", edgecolor="#404040", linewidth=0, hatch=hatches[i], zorder=zorder + 0.1
                )
            )


def outline_width(n: int) -> float:
    """County outline width (pt) for a map of ``n`` counties: thinner when there are many."""
    return 0.6 if n <= 20 else 0.35 if n <= 60 else 0.25
