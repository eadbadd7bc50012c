"""The north arrow, pointing at true north.

On a conic projection the meridians converge: away from the central meridian, true north
is turned from the grid's "up" by the grid (meridian) convergence γ.  In the default
analysis CRS (Albers, central meridian 105°E, standard parallels 25°N/47°N) γ ≈ n·Δλ with
the cone constant n = (sin 25° + sin 47°)/2 ≈ 0.58 (Snyder 1987, *Map Projections — A Working
Manual*, USGS PP 1395, eq. 14-6 and p. 101), about 4.5° at Jincheng (112.8°E): an arrow drawn
straight up would be off by that much.  :func:`north_angle` measures the
direction of the meridian through the map centre in the map's CRS, so it holds for any
projection.
"""

from __future__ import annotations

import math


def north_angle(crs, x: float, y: float) -> float:
    """Angle (radians, clockwise from grid up) of true north at (x, y) in ``crs``.

    Found by stepping 0.01° north along the meridian through the point and projecting
    back (to second order in the step the grid direction of the meridian).  0 when the CRS
    has no geographic relation (e.g. an engineering CRS).
    """
    from pyproj import CRS, Transformer

    crs = CRS.from_user_input(crs)
    geographic = crs.geodetic_crs
    if geographic is None:  # pragma: no cover - engineering CRS
        return 0.0
    to_geo = Transformer.from_crs(crs, geographic, always_xy=True)
    to_grid = Transformer.from_crs(geographic, crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    nx, ny = to_grid.transform(lon, lat + 0.01)
    return math.atan2(nx - x, ny - y)


def draw_north_arrow(ax, angle: float) -> list:
    """Draw a half-filled north arrow and its "N" on ``ax`` (limits −1…1, equal aspect),
    turned ``angle`` radians clockwise from the axes' up.  Returns the two arrow halves."""
    from matplotlib.patches import Polygon

    from swc_raster.maps.text import bold_text

    ux, uy = math.sin(angle), math.cos(angle)
    px, py = uy, -ux
    tip, tail, notch = (0.55 * ux, 0.55 * uy - 0.2), (-0.75 * ux, -0.75 * uy - 0.2), (-0.45 * ux, -0.45 * uy - 0.2)
    half = 0.32
    left = (tail[0] - px * half, tail[1] - py * half)
    right = (tail[0] + px * half, tail[1] + py * half)
    halves = [
        ax.add_patch(Polygon([tip, left, notch], closed=True, facecolor="black", edgecolor="black", linewidth=0.6)),
        ax.add_patch(Polygon([tip, right, notch], closed=True, facecolor="white", edgecolor="black", linewidth=0.6)),
    ]
    bold_text(
        ax,
        tip[0] + 0.3 * ux,
        tip[1] + 0.3 * uy,
        "N",
        ha="center",
        va="bottom",
        fontsize=9,
        rotation=-math.degrees(angle),
    )
    return halves


def arrow_angle(halves) -> float:
    """Direction of a drawn arrow (degrees clockwise from up), from its tip and notch vertices."""
    tip, _, notch = halves[0].get_xy()[:3]
    return math.degrees(math.atan2(tip[0] - notch[0], tip[1] - notch[1]))
