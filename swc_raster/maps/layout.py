"""The page of a map: map frames, title, legend column (north arrow, legend, scale bar), note.

:class:`MapLayout` keeps its geometry in inches and places every part so that nothing
overlaps or is cut off, however long the legend or the note.
"""

from __future__ import annotations

import math

import numpy as np

from swc_raster.maps.north import arrow_angle, draw_north_arrow, north_angle
from swc_raster.maps.scalebar import draw_scale_bar, nice_length
from swc_raster.maps.text import bold_text, wrap_text
from swc_raster.tables import DEMO_BANNER


def legend_patch(colour, label, hatch=None):
    """A legend entry: a box of ``colour`` (optionally hatched) and its label."""
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, edgecolor="#4D4D4D", linewidth=0.5, hatch=hatch, label=label)


class MapLayout:
    """Figure with ``n_panels`` equal map axes, a legend column, title and note bands.

    Geometry is kept in inches and turned into figure fractions by :meth:`_apply`, which
    runs again whenever a band has to grow (a legend taller than the column, a note of more
    than three lines): every artist the layout placed is moved with it, so the order of the
    calls does not matter and nothing is cut off or drawn over.

    The legend column (:meth:`column`) holds, top to bottom, the north arrow, the legend and
    the scale bar, each in its own slot: when the legend is taller than the space between
    the arrow and the scale bar its font shrinks to 7 pt, and if that is not enough the map
    band grows (the maps stay at their scale, centred in taller frames).
    """

    MARGIN = 0.2
    PANEL_GAP = 0.25
    COLUMN_GAP = 0.15
    ARROW_IN = 0.75  #: north-arrow slot at the top of the legend column
    SCALE_IN = 0.45  #: scale-bar slot (bar + its labels) at the foot of the legend column
    LEGEND_GAP_IN = 0.15  #: clear space between the legend and the scale bar
    NOTE_TOP_IN = 0.18  #: from the map frame down to the first note line
    NOTE_LINE_IN = 7 * 1.4 / 72  #: 7 pt text, line spacing 1.4
    MIN_NOTE_IN = 0.6

    def __init__(
        self, bounds, *, n_panels: int = 1, demo: bool = False, legend_in: float = 1.9, panel_titles: bool = False
    ):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        minx, miny, maxx, maxy = bounds
        dx, dy = maxx - minx, maxy - miny
        pad = 0.04 * max(dx, dy)
        self.xlim = (minx - pad, maxx + pad)
        self.ylim = (miny - pad, maxy + pad)
        aspect = (self.ylim[1] - self.ylim[0]) / (self.xlim[1] - self.xlim[0])
        map_w = 6.0 if n_panels == 1 else 4.1
        map_h = map_w * aspect
        max_h = 7.2 if n_panels == 1 else 6.0
        if map_h > max_h:
            map_h, map_w = max_h, max_h / aspect
        self.n_panels = n_panels
        self.map_w_in, self.map_h_in = map_w, map_h
        self.band_in = map_h  # height of the map frames and the legend column (may grow)
        self.banner_in = 0.42 if demo else 0.0
        self.title_in = 0.75
        self.panel_in = 0.35 if panel_titles else 0.0
        self.note_in = self.MIN_NOTE_IN
        self.legend_w_in = legend_in
        self.fig = Figure(figsize=(8, 6))
        FigureCanvasAgg(self.fig)
        self.axes = []
        for _ in range(n_panels):
            ax = self.fig.add_axes((0, 0, 1, 1))
            ax.set_xlim(*self.xlim)
            ax.set_ylim(*self.ylim)
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_linewidth(0.8)
            self.axes.append(ax)
        self._title = self._title_outline = self._subtitle = self._banner = self._note = None
        self.north_arrow_deg: float | None = None  #: the drawn arrow's direction, clockwise from up
        self._legend = self._arrow_ax = self._scale_ax = None
        self._scale_w_in, self._arrow_size = 0.0, 0.55
        self.label_texts: list = []  # county labels and leader lines, drawn by _place_labels
        self.leader_lines: list = []
        self._apply()

    # -------------------------------------------------------------- geometry

    def _apply(self) -> None:
        """(Re)compute the figure size and put every placed artist where it belongs."""
        n = self.n_panels
        maps_w = n * self.map_w_in + (n - 1) * self.PANEL_GAP
        width = self.MARGIN + maps_w + self.COLUMN_GAP + self.legend_w_in + self.MARGIN
        height = self.note_in + self.band_in + self.panel_in + self.title_in + self.banner_in
        self.width, self.height = width, height
        self.fig.set_size_inches(width, height)
        # A band taller than the map (see column) shows more ground above and below: same scale.
        half_y = max(self.ylim[1] - self.ylim[0], (self.xlim[1] - self.xlim[0]) * self.band_in / self.map_w_in) / 2
        mid_y = (self.ylim[0] + self.ylim[1]) / 2
        for i, ax in enumerate(self.axes):
            left = self.MARGIN + i * (self.map_w_in + self.PANEL_GAP)
            ax.set_position((left / width, self.note_in / height, self.map_w_in / width, self.band_in / height))
            ax.set_ylim(mid_y - half_y, mid_y + half_y)
        self.map_bottom = self.note_in / height
        self.map_top = (self.note_in + self.band_in) / height
        self.legend_x = (self.MARGIN + maps_w + self.COLUMN_GAP) / width
        top_of_maps = self.note_in + self.band_in + self.panel_in
        self.title_y = (top_of_maps + self.title_in * 0.62) / height
        self.subtitle_y = (top_of_maps + self.title_in * 0.2) / height
        if self._title is not None:
            self._title.set_position((0.5, self.title_y))
            self._title_outline.set_position((0.5, self.title_y))
        if self._subtitle is not None:
            self._subtitle.set_position((0.5, self.subtitle_y))
        if self._banner is not None:
            self._banner.set_position((0.5, 1 - (self.banner_in / 2) / height))
        if self._note is not None:
            self._note.set_position((self.MARGIN / width, (self.note_in - self.NOTE_TOP_IN) / height))
        if self._legend is not None:
            self._legend.set_bbox_to_anchor(
                (self.legend_x, self.map_top - self.ARROW_IN / height), transform=self.fig.transFigure
            )
        if self._arrow_ax is not None:
            size = self._arrow_size
            self._arrow_ax.set_position((self.legend_x, self.map_top - size / height, size / width, size / height))
        if self._scale_ax is not None:
            self._scale_ax.set_position(
                (self.legend_x, self.map_bottom, self._scale_w_in / width, self.SCALE_IN / height)
            )

    def points_per_metre(self) -> float:
        """Map scale: points on the page per metre on the ground."""
        return self.map_w_in * 72.0 / (self.xlim[1] - self.xlim[0])

    def pixels_for(self, bounds, ppi: float) -> int:
        """Pixels on the long side that a raster covering ``bounds`` (minx, miny, maxx, maxy,
        metres) needs to show ``ppi`` pixels per inch at the map's print size."""
        minx, miny, maxx, maxy = bounds
        return max(1, math.ceil(max(maxx - minx, maxy - miny) * self.points_per_metre() / 72.0 * ppi))

    # -------------------------------------------------------------- bands

    def title(self, title: str, subtitle: str | None = None) -> None:
        """Title (bold) and optional subtitle above the maps."""
        self._title, self._title_outline = bold_text(
            self.fig, 0.5, self.title_y, title, ha="center", va="center", fontsize=14
        )
        if subtitle:
            self._subtitle = self.fig.text(
                0.5, self.subtitle_y, subtitle, ha="center", va="center", fontsize=9.5, color="#333333"
            )

    def banner(self) -> None:
        """The red "demo data" banner at the top (only for a layout made with ``demo=True``)."""
        if self.banner_in:
            self._banner = self.fig.text(
                0.5,
                1 - (self.banner_in / 2) / self.height,
                DEMO_BANNER,
                ha="center",
                va="center",
                fontsize=11,
                color="white",
                bbox={"boxstyle": "round,pad=0.35", "facecolor": "#C62828", "edgecolor": "none"},
            )

    def note(self, text: str, extra: str | None = None) -> None:
        """Source note (and ``extra``, e.g. the unlabelled counties) under the maps, wrapped
        to the figure width; the band grows so that every line is shown."""
        # 7 pt text: a CJK character is ~7 pt wide, a Latin one ~3.8 pt (text_width counts 2 and 1).
        units = int((self.width - 2 * self.MARGIN) * 72 / 3.7)
        lines = wrap_text(text, units)
        if extra:
            lines += wrap_text(extra, units)
        self.note_in = max(self.MIN_NOTE_IN, self.NOTE_TOP_IN + len(lines) * self.NOTE_LINE_IN + 0.12)
        self._note = self.fig.text(
            0, 0, "\n".join(lines), ha="left", va="top", fontsize=7, color="#444444", linespacing=1.4
        )
        self._apply()

    # -------------------------------------------------------------- legend column

    def column(self, crs, handles, title: str, *, fontsize: float = 8.0):
        """North arrow, legend and scale bar in the column right of the maps, never overlapping."""
        renderer = self.fig.canvas.get_renderer()
        ax = self.axes[-1]
        sizes = [fontsize] + ([7.0] if fontsize > 7.0 else [])
        for fs in sizes:
            self._legend = ax.legend(
                handles=handles,
                title=title,
                loc="upper left",
                frameon=False,
                fontsize=fs,
                title_fontsize=fs + 1,
                handlelength=1.8,
                handleheight=1.1,
                borderaxespad=0,
                alignment="left",
                bbox_to_anchor=(self.legend_x, self.map_top - self.ARROW_IN / self.height),
                bbox_transform=self.fig.transFigure,
            )
            bbox = self._legend.get_window_extent(renderer)
            leg_w, leg_h = bbox.width / self.fig.dpi, bbox.height / self.fig.dpi
            if leg_h <= self.band_in - self.ARROW_IN - self.LEGEND_GAP_IN - self.SCALE_IN:
                break
        self.band_in = max(self.band_in, self.ARROW_IN + leg_h + self.LEGEND_GAP_IN + self.SCALE_IN)
        self.legend_w_in = max(self.legend_w_in, leg_w + 0.05)
        self._apply()
        self._north_arrow(crs)
        self._scale_bar()
        return self._legend

    def _north_arrow(self, crs) -> None:
        """North arrow at the top of the legend column, turned to true north at the map centre."""
        angle = north_angle(crs, float(np.mean(self.xlim)), float(np.mean(self.ylim)))
        ax = self._arrow_ax = self.fig.add_axes((0, 0, 1, 1))
        self._apply()
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        self.north_arrow_deg = arrow_angle(draw_north_arrow(ax, angle))

    def _scale_bar(self) -> None:
        """Scale bar in km at the foot of the legend column (same scale as the maps)."""
        in_per_m = self.map_w_in / (self.xlim[1] - self.xlim[0])
        length = nice_length((self.legend_w_in - 0.55) / in_per_m)
        self._scale_w_in = length * in_per_m
        self._scale_ax = self.fig.add_axes((0, 0, 1, 1))
        self._apply()
        draw_scale_bar(self._scale_ax, length)

    # -------------------------------------------------------------- checks

    def boxes(self) -> dict[str, list[tuple[float, float, float, float]]]:
        """Drawn extents in figure inches ``(x0, y0, x1, y1)`` of the layout's parts, for checks."""
        renderer = self.fig.canvas.get_renderer()
        dpi = self.fig.dpi

        def inch(bb):
            return (bb.x0 / dpi, bb.y0 / dpi, bb.x1 / dpi, bb.y1 / dpi)

        out: dict[str, list] = {"maps": [inch(ax.get_window_extent(renderer)) for ax in self.axes]}
        for key, artist in (
            ("legend", self._legend),
            ("title", self._title),
            ("subtitle", self._subtitle),
            ("banner", self._banner),
            ("note", self._note),
        ):
            if artist is not None:
                out[key] = [inch(artist.get_window_extent(renderer))]
        for key, ax in (("north_arrow", self._arrow_ax), ("scale_bar", self._scale_ax)):
            if ax is not None:
                out[key] = [inch(ax.get_tightbbox(renderer))]
        out["labels"] = [inch(t.get_window_extent(renderer)) for t in self.label_texts]
        out["leaders"] = [inch(ln.get_window_extent(renderer)) for ln in self.leader_lines]
        out["figure"] = [(0.0, 0.0, self.width, self.height)]
        return out
