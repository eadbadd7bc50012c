"""County labels: every county its name and value, inside its polygon or beside it with a leader.

Labels are real text in the PDFs (a white halo drawn under them as an outline, see
:func:`swc_raster.maps.text.outlined_text`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from swc_raster.maps.text import outlined_text, pick
from swc_raster.tables import text_width


def label_fontsize(n: int) -> float:
    """County label size (pt) for a map of ``n`` counties."""
    return 9.0 if n <= 15 else 7.0 if n <= 40 else 5.0


#: Up to this many counties every county gets its name and value on the map (shrunk, or
#: outside its polygon with a leader line); only larger regions may leave labels out.
MAX_COUNTIES_ALL_LABELLED = 60
LEADER_COLOUR = "#333333"


def label_size(text: str, fontsize: float) -> tuple[float, float]:
    """Estimated (width, height) in points of a label (CJK ≈ 1.1 em, Latin ≈ 0.55 em, with the halo)."""
    rows = text.split("\n")
    return max(text_width(r) for r in rows) * fontsize * 0.55, len(rows) * fontsize * 1.2


def place_labels(
    ax,
    layout,
    geoms,
    lines: Sequence[str],
    names: Sequence[str],
    *,
    fontsize: float,
    min_lines: Sequence[str | Sequence[str]] | None = None,
    allow_drop: bool | None = None,
) -> tuple[list[str], list[str]]:
    """Give every polygon its full label ``lines[i]`` (name and value), never over another label.

    Polygons are labelled largest first, in three passes:

    1. inside the polygon, at its pole of inaccessibility, at ``fontsize`` or — if it does
       not fit — at a smaller font (≥ 6 pt; maps with many counties already use 5 pt);
    2. outside the polygon, at the nearest free spot inside the map frame that covers no
       other label and no other small polygon, joined to the polygon by a leader line;
    3. if there is no free spot: with ``allow_drop`` false (default for up to
       :data:`MAX_COUNTIES_ALL_LABELLED` counties) the leader label goes where it overlaps
       least; otherwise the county is left out — only the shorter labels of
       ``min_lines[i]`` (e.g. the value, or a ✓/× mark) are tried inside the polygon — and
       reported as unlabelled so that the map's note can name it.

    Returns (labelled names, unlabelled names), each in input order; a county counts as
    labelled only when its full label is on the map.
    """
    from shapely import STRtree
    from shapely.geometry import box as shp_box
    from shapely.ops import polylabel

    ppm = layout.points_per_metre()
    geoms = list(geoms)
    n = len(geoms)
    if allow_drop is None:
        allow_drop = n > MAX_COUNTIES_ALL_LABELLED
    shorter = [[m] if isinstance(m, str) or m is None else list(m) for m in (min_lines or [None] * n)]
    sizes = [fontsize] + ([max(6.0, fontsize - 2.0)] if fontsize > 6.0 else [])
    frame = (layout.xlim[0] * ppm, layout.ylim[0] * ppm, layout.xlim[1] * ppm, layout.ylim[1] * ppm)

    anchors = []
    for geom in geoms:
        main = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        point = polylabel(main, tolerance=max(math.sqrt(main.area) / 200, 1.0))
        radius = min([main.exterior.distance(point)] + [h.distance(point) for h in main.interiors])
        anchors.append((point.x * ppm, point.y * ppm, radius * ppm, geom.area))
    placed = np.empty((0, 4))

    def overlap(b) -> float:
        if not len(placed):
            return 0.0
        w = np.clip(np.minimum(b[2], placed[:, 2]) - np.maximum(b[0], placed[:, 0]), 0, None)
        h = np.clip(np.minimum(b[3], placed[:, 3]) - np.maximum(b[1], placed[:, 1]), 0, None)
        return float((w * h).sum())

    segments = np.empty((0, 4))  # leader lines drawn so far, (x0, y0, x1, y1) in points

    def leader_end(i, cx, cy, w, h) -> tuple[float, float]:
        x, y = anchors[i][:2]
        return min(max(x, cx - w / 2), cx + w / 2), min(max(y, cy - h / 2), cy + h / 2)

    def crossings(seg) -> int:
        """How many placed labels and leader lines the leader ``seg`` crosses."""
        x0, y0, x1, y1 = seg
        count = 0
        if len(placed):
            # Liang–Barsky clipping of the segment against every placed box at once.
            dx, dy = x1 - x0, y1 - y0
            t0, t1 = np.zeros(len(placed)), np.ones(len(placed))
            ok = np.ones(len(placed), dtype=bool)
            for p, q in (
                (-dx, x0 - placed[:, 0]),
                (dx, placed[:, 2] - x0),
                (-dy, y0 - placed[:, 1]),
                (dy, placed[:, 3] - y0),
            ):
                if p == 0:
                    ok &= q >= 0
                    continue
                r = q / p
                if p < 0:
                    t0 = np.maximum(t0, r)
                else:
                    t1 = np.minimum(t1, r)
            count += int((ok & (t0 < t1)).sum())
        if len(segments):
            a, b = np.array([x0, y0]), np.array([x1, y1])
            c, d = segments[:, :2], segments[:, 2:]

            def orient(p, q, r):
                return np.sign(
                    (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1])
                    - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])
                )

            cross = (orient(a, b, c) * orient(a, b, d) < 0) & (orient(c, d, a) * orient(c, d, b) < 0)
            count += int(cross.sum())
        return count

    def in_frame(b) -> bool:
        return b[0] >= frame[0] + 2 and b[1] >= frame[1] + 2 and b[2] <= frame[2] - 2 and b[3] <= frame[3] - 2

    def draw(i, text, fs, cx, cy, leader=False):
        nonlocal placed, segments
        w, h = label_size(text, fs)
        placed = np.vstack([placed, (cx - w / 2 - 1, cy - h / 2 - 1, cx + w / 2 + 1, cy + h / 2 + 1)])
        t, _ = outlined_text(
            ax,
            cx / ppm,
            cy / ppm,
            text,
            outline_width=2.2,
            outline_colour="white",
            ha="center",
            va="center",
            fontsize=fs,
            zorder=6,
            linespacing=1.15,
        )
        layout.label_texts.append(t)
        if leader:
            x, y = anchors[i][:2]
            ex, ey = leader_end(i, cx, cy, w, h)
            segments = np.vstack([segments, (x, y, ex, ey)])
            line = ax.plot([x / ppm, ex / ppm], [y / ppm, ey / ppm], color=LEADER_COLOUR, linewidth=0.5, zorder=5.5)[0]
            layout.leader_lines.append(line)
            ax.plot([x / ppm], [y / ppm], "o", color=LEADER_COLOUR, markersize=1.6, zorder=5.6)

    order = sorted(range(n), key=lambda k: -anchors[k][3])
    done: dict[int, bool] = {}
    pending: list[int] = []
    too_small: list[int] = []  # polygons that cannot hold their label: leader labels keep off them
    # 1. inside the polygon (the label may spill over the edge a little: the halo keeps it readable).
    for i in order:
        x, y, radius_pt, _ = anchors[i]
        for fs in sizes:
            w, h = label_size(lines[i], fs)
            b = (x - w / 2 - 1, y - h / 2 - 1, x + w / 2 + 1, y + h / 2 + 1)
            if 2 * radius_pt >= 0.55 * w and 2 * radius_pt >= 0.7 * h and overlap(b) == 0:
                draw(i, lines[i], fs, x, y)
                done[i] = True
                break
        else:
            pending.append(i)
            w, h = label_size(lines[i], sizes[-1])
            if not (2 * radius_pt >= 0.55 * w and 2 * radius_pt >= 0.7 * h):
                too_small.append(i)

    # 2. outside, with a leader line, clear of labels and of the other polygons that need one.
    small_geoms = [geoms[i] for i in too_small]
    small = STRtree([shp_box(*(np.asarray(g.bounds) * ppm)) for g in small_geoms]) if small_geoms else None
    # Short leaders only where labels may be left out (many counties): long ones would criss-cross.
    reach = (0.08 if allow_drop else 0.45) * max(frame[2] - frame[0], frame[3] - frame[1])
    angles = [math.radians(a) for a in (30, 150, -30, -150, 0, 180, 60, 120, -60, -120, 90, -90)]
    for i in pending:
        x, y, radius_pt, _ = anchors[i]
        best = None  # (badness, (font size, centre x, centre y)) of the least bad spot, for step 3
        chosen = None
        for fs in sizes:
            w, h = label_size(lines[i], fs)
            d = max(radius_pt, 2.0) + 4.0
            while d <= reach and chosen is None:
                for a in angles:
                    cx = x + math.cos(a) * (d + w / 2)
                    cy = y + math.sin(a) * (d + h / 2)
                    b = (cx - w / 2 - 1, cy - h / 2 - 1, cx + w / 2 + 1, cy + h / 2 + 1)
                    if not in_frame(b):
                        continue
                    hits = small.query(shp_box(*b)) if small is not None else []
                    bm = shp_box(*(np.asarray(b) / ppm))
                    if any(small_geoms[k].intersects(bm) for k in hits):
                        continue
                    o = overlap(b) + 100.0 * crossings((x, y, *leader_end(i, cx, cy, w, h)))
                    if o == 0:
                        chosen = (fs, cx, cy)
                        break
                    if best is None or o < best[0]:
                        best = (o, (fs, cx, cy))
                d += max(0.6 * h, 3.0)
            if chosen is not None:
                break
        if chosen is None and not allow_drop:
            if best is None:  # no room at all outside: on the polygon itself, at the smaller font
                draw(i, lines[i], sizes[-1], x, y)
                done[i] = True
                continue
            chosen = best[1]
        if chosen is not None:
            draw(i, lines[i], *chosen, leader=True)
            done[i] = True
            continue
        # 3. left out: the shortest labels that fit inside the polygon, if any.
        done[i] = False
        for candidate in shorter[i]:
            if not candidate:
                continue
            w, h = label_size(candidate, fontsize)
            b = (x - w / 2 - 1, y - h / 2 - 1, x + w / 2 + 1, y + h / 2 + 1)
            if 2 * radius_pt >= 0.55 * w and 2 * radius_pt >= 0.7 * h and overlap(b) == 0:
                draw(i, candidate, fontsize, x, y)
                break
    labelled = [names[i] for i in range(n) if done[i]]
    unlabelled = [names[i] for i in range(n) if not done[i]]
    return labelled, unlabelled


def unlabelled_note(lang: str, unlabelled: list[str]) -> str | None:
    """The note naming every county whose label is not on the map."""
    if not unlabelled:
        return None
    return pick(
        lang,
        f"注：以下 {len(unlabelled)} 个县（市、区）面积小、图上无处标注，未标注名称，数值见统计表：{'、'.join(unlabelled)}。",
        f"Note: {len(unlabelled)} counties too small to label on this map (values in the tables): "
        f"{', '.join(unlabelled)}.",
    )
