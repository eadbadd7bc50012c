"""Publication maps: rate choropleth, target gap, erosion grades, land cover.

Every map is a plain function ``(inputs..., out_png, out_vector, *, year, lang="zh",
demo=False, source_note=None, ...) -> MapOutput`` whose inputs are files of the output
contract (``docs/architecture.md``):

- :func:`rate_map` — ``county_rates.csv`` + counties GeoPackage
- :func:`target_gap_map` — ``target_comparison.csv`` + counties GeoPackage
- :func:`grade_map` — ``erosion_grade.tif`` + counties GeoPackage
- :func:`landcover_map` — aligned land-cover GeoTIFF + legend CSV + counties GeoPackage

Each writes a 300 dpi PNG and a vector copy (``.pdf`` or ``.svg``, chosen by the suffix of
``out_vector``) through temporary files renamed at the end: a failure leaves no output.
Figures are drawn on matplotlib's Agg canvas without pyplot (no global figure state, no
display needed).  All text uses the CJK font of :mod:`swc_raster.fonts` and is checked
against its character map before anything is written.

Rasters are read as a decimated overview (at most ``max_size`` pixels on the long side,
``Resampling.mode``), so memory stays at a few MB whatever the raster size; GDAL reads
internal overviews when the file has them (the COG of :mod:`swc_raster.gis_outputs`).

Every county carries its name and value: inside its polygon, at a smaller font when the
polygon is small, or outside it with a leader line (:func:`_place_labels`).  Maps stay
readable with many counties (a province has ~117): label size shrinks with the number of
counties, and only above :data:`MAX_COUNTIES_ALL_LABELLED` counties may a county with no
room for its label be left out — the map's note then names every such county.  The legend
column (north arrow, legend, scale bar) is laid out so that its parts never overlap
(:meth:`_Layout.column`).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from swc_raster import fonts, grading
from swc_raster.errors import CrsError, InputError, InputFileError
from swc_raster.atomic import atomic_outputs
from swc_raster.tables import (
    DEMO_BANNER,
    format_value,
    read_county_rates,
    read_target_comparison,
    region_row,
    target_years,
    text_width,
)

DPI = 300
VECTOR_SUFFIXES = (".pdf", ".svg")
#: Fixed land-cover palette by first-level class name (GB/T 21010 style colours).
LANDCOVER_PALETTE = {
    "耕地": "#F3DE6C",
    "园地": "#E39B3C",
    "林地": "#2F7D32",
    "草地": "#A8D672",
    "建设用地": "#D33B3B",
    "交通运输用地": "#6E6E6E",
    "水域及水利设施用地": "#3F8FD2",
    "其他土地": "#CDBB99",
    "cropland": "#F3DE6C",
    "orchard": "#E39B3C",
    "forest": "#2F7D32",
    "grassland": "#A8D672",
    "built-up land": "#D33B3B",
    "transport land": "#6E6E6E",
    "water": "#3F8FD2",
    "other land": "#CDBB99",
}
#: Colours for classes the palette above does not name, chosen by code (stable across years).
FALLBACK_COLOURS = (
    "#8DD3C7",
    "#BEBADA",
    "#FB8072",
    "#80B1D3",
    "#FDB462",
    "#B3DE69",
    "#FCCDE5",
    "#BC80BD",
    "#CCEBC5",
    "#FFED6F",
    "#1B9E77",
    "#D95F02",
    "#7570B3",
    "#E7298A",
)
UNCLASSIFIED_COLOUR = "#E4E4E4"
NODATA_FILL = "#D9D9D9"


def _bold(width: float = 0.6, colour: str = "black") -> list:
    """Path effects for emphasis: the font ships one weight only, so stroke the glyph outlines."""
    import matplotlib.patheffects as pe

    return [pe.Stroke(linewidth=width, foreground=colour), pe.Normal()]



@dataclass
class MapOutput:
    """What a map function wrote and drew (for tests and logs)."""

    png: Path
    vector: Path
    texts: list[str] = field(default_factory=list)
    font_files: set[Path] = field(default_factory=set)
    labelled: list[str] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)
    #: Drawn extents in figure inches (x0, y0, x1, y1) of the maps, legend, north arrow,
    #: scale bar, title, note and labels (see ``_Layout.boxes``), for layout checks.
    boxes: dict[str, list[tuple[float, float, float, float]]] = field(default_factory=dict)


# ============================================================================ helpers


def _L(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _check_common(out_png, out_vector, lang: str) -> tuple[Path, Path]:
    if lang not in ("zh", "en"):
        raise InputError("lang", f"unknown language {lang!r}.", "use 'zh' (default) or 'en'.")
    out_png, out_vector = Path(out_png), Path(out_vector)
    if out_png.suffix.lower() != ".png":
        raise InputError(str(out_png), "the raster map output must end in .png.", "name it e.g. rate_map.png.")
    if out_vector.suffix.lower() not in VECTOR_SUFFIXES:
        raise InputError(
            str(out_vector), "the vector map output must end in .pdf or .svg.", "name it e.g. rate_map.pdf."
        )
    return out_png, out_vector


def read_counties(counties_gpkg, *, layer: str | None = None, code_field: str = "county_code"):
    """Counties GeoDataFrame (``county_code`` as string), in a projected metric CRS."""
    import geopandas as gpd

    path = Path(counties_gpkg)
    if not path.is_file():
        raise InputFileError(
            str(path),
            "the counties GeoPackage does not exist.",
            "use results/common/boundaries.gpkg written by prepare_boundaries.",
        )
    gdf = gpd.read_file(path, layer=layer)
    if code_field not in gdf.columns:
        raise InputError(
            str(path),
            f"no field {code_field!r} (fields: {', '.join(map(str, gdf.columns))}).",
            "pass code_field= naming the GB/T 2260 county code field.",
        )
    if gdf.crs is None:
        raise CrsError(str(path), "the counties layer has no CRS.", "use the boundaries in the analysis CRS.")
    if not gdf.crs.is_projected or (gdf.crs.axis_info and gdf.crs.axis_info[0].unit_name not in ("metre", "meter")):
        raise CrsError(
            str(path),
            f"the counties are in {gdf.crs.name}, not a projected CRS in metres; " "scale bars and areas need metres.",
            "use results/common/boundaries.gpkg (analysis CRS), or reproject the layer first.",
        )
    gdf = gdf.rename(columns={code_field: "county_code"})
    gdf["county_code"] = gdf["county_code"].astype(str).str.strip()
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
    return gdf


def _join(gdf, table: pd.DataFrame, counties_path, table_path):
    """Attach the county rows of ``table`` to the geometries by county_code (1:1, strict)."""
    rows = table[table["level"] == "county"]
    geo_codes, row_codes = set(gdf["county_code"]), set(rows["county_code"])
    no_geom, no_row = sorted(row_codes - geo_codes), sorted(geo_codes - row_codes)
    if no_geom or no_row:
        parts = []
        if no_geom:
            parts.append(f"codes in {Path(table_path).name} without a polygon: {', '.join(no_geom)}")
        if no_row:
            parts.append(f"polygons in {Path(counties_path).name} without a row: {', '.join(no_row)}")
        raise InputError(
            str(table_path),
            "the table and the counties do not match (" + "; ".join(parts) + ").",
            "use the counties GeoPackage and tables of the same workflow run (same boundaries).",
        )
    keep = [c for c in gdf.columns if c not in rows.columns or c in ("county_code",)]
    merged = gdf[keep].merge(rows, on="county_code", how="inner", validate="one_to_one")
    return merged


def _label_names(gdf, lang: str) -> list[str]:
    if lang == "en" and "county_name_en" in gdf.columns:
        return [
            str(e) if isinstance(e, str) and e.strip() else str(z)
            for e, z in zip(gdf["county_name_en"], gdf["county_name"])
        ]
    return [str(n) for n in gdf["county_name"]]


def _region_name(rates: pd.DataFrame) -> str:
    reg = region_row(rates)
    return "" if reg is None else str(reg["county_name"])


def _check_year(df: pd.DataFrame, year, path) -> None:
    years = {str(y) for y in df["year"].unique()}
    if years != {str(year)}:
        raise InputError(
            str(path),
            f"the table is for year(s) {sorted(years)}, the map for {year}.",
            "pass the table of the same year.",
        )


def _crs_text(crs, lang: str) -> str:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params = crs.to_dict()
    except Exception:  # pragma: no cover - exotic CRS
        params = {}
    if params.get("proj") == "aea":
        return _L(
            lang,
            f"Albers 等积圆锥投影（中央经线 {params.get('lon_0', '?')}°E，标准纬线 "
            f"{params.get('lat_1', '?')}°N/{params.get('lat_2', '?')}°N）",
            f"Albers equal-area conic (central meridian {params.get('lon_0', '?')}°E, standard parallels "
            f"{params.get('lat_1', '?')}°N/{params.get('lat_2', '?')}°N)",
        )
    return crs.name


def _default_source(lang: str, year, what_zh: str, what_en: str, crs) -> str:
    return _L(
        lang,
        f"数据来源：{year}年{what_zh}，swc-raster 模型估算（非官方统计）。投影：{_crs_text(crs, lang)}。",
        f"Source: {what_en}, {year}; swc-raster model estimates (not official statistics). "
        f"Projection: {_crs_text(crs, lang)}.",
    )


def _polygon_path(geom):
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


def _draw_polygons(ax, geoms, facecolors, *, edgecolor="#4D4D4D", linewidth=0.5, hatches=None, zorder=2):
    from matplotlib.patches import PathPatch

    for i, (geom, fc) in enumerate(zip(geoms, facecolors)):
        path = _polygon_path(geom)
        ax.add_patch(PathPatch(path, facecolor=fc, edgecolor=edgecolor, linewidth=linewidth, zorder=zorder))
        if hatches is not None and hatches[i]:
            ax.add_patch(
                PathPatch(
                    path, facecolor="none", edgecolor="#404040", linewidth=0, hatch=hatches[i], zorder=zorder + 0.1
                )
            )


def _outline_width(n: int) -> float:
    return 0.6 if n <= 20 else 0.35 if n <= 60 else 0.25


class _Layout:
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
        self._title = self._subtitle = self._banner = self._note = None
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
        return self.map_w_in * 72.0 / (self.xlim[1] - self.xlim[0])

    # -------------------------------------------------------------- bands

    def title(self, title: str, subtitle: str | None = None) -> None:
        self._title = self.fig.text(
            0.5, self.title_y, title, ha="center", va="center", fontsize=14, path_effects=_bold()
        )
        if subtitle:
            self._subtitle = self.fig.text(
                0.5, self.subtitle_y, subtitle, ha="center", va="center", fontsize=9.5, color="#333333"
            )

    def banner(self) -> None:
        if self.banner_in:
            self._banner = self.fig.text(
                0.5,
                1 - (self.banner_in / 2) / self.height,
                DEMO_BANNER,
                ha="center",
                va="center",
                fontsize=11,
                color="white",
                bbox=dict(boxstyle="round,pad=0.35", facecolor="#C62828", edgecolor="none"),
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
        """North arrow at the top of the legend column, rotated to true north at the map centre."""
        from matplotlib.patches import Polygon

        a = _north_angle(crs, float(np.mean(self.xlim)), float(np.mean(self.ylim)))
        ax = self._arrow_ax = self.fig.add_axes((0, 0, 1, 1))
        self._apply()
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ux, uy = math.sin(a), math.cos(a)
        px, py = uy, -ux
        tip, tail, notch = (0.55 * ux, 0.55 * uy - 0.2), (-0.75 * ux, -0.75 * uy - 0.2), (-0.45 * ux, -0.45 * uy - 0.2)
        half = 0.32
        left = (tail[0] - px * half, tail[1] - py * half)
        right = (tail[0] + px * half, tail[1] + py * half)
        ax.add_patch(Polygon([tip, left, notch], closed=True, facecolor="black", edgecolor="black", linewidth=0.6))
        ax.add_patch(Polygon([tip, right, notch], closed=True, facecolor="white", edgecolor="black", linewidth=0.6))
        ax.text(
            tip[0] + 0.3 * ux,
            tip[1] + 0.3 * uy,
            "N",
            ha="center",
            va="bottom",
            fontsize=9,
            rotation=-math.degrees(a),
            path_effects=_bold(),
        )

    def _scale_bar(self) -> None:
        """Alternating black/white bar in km at the foot of the legend column (same scale as the maps)."""
        from matplotlib.patches import Rectangle

        in_per_m = self.map_w_in / (self.xlim[1] - self.xlim[0])
        max_len = (self.legend_w_in - 0.55) / in_per_m
        length = _nice_length(max_len)
        km = length / 1000
        nseg = 2 if f"{km:g}".lstrip("0.").startswith("5") else 4  # 5, 50, 500 km: halves; 1, 2, 10, 20…: quarters
        self._scale_w_in = length * in_per_m
        ax = self._scale_ax = self.fig.add_axes((0, 0, 1, 1))
        self._apply()
        ax.set_xlim(0, length)
        ax.set_ylim(0, 1)
        ax.set_axis_off()
        seg = length / nseg
        for i in range(nseg):
            ax.add_patch(
                Rectangle(
                    (i * seg, 0.05),
                    seg,
                    0.22,
                    facecolor="black" if i % 2 == 0 else "white",
                    edgecolor="black",
                    linewidth=0.6,
                    clip_on=False,
                )
            )
        for pos, v in ((0, 0.0), (nseg // 2, km / 2), (nseg, km)):
            ax.text(pos * seg, 0.4, f"{v:g}", ha="center", va="bottom", fontsize=7, clip_on=False)
        ax.text(length + 0.06 * length, 0.16, "km", ha="left", va="center", fontsize=7, clip_on=False)

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
        out["labels"] = [
            inch(t.get_window_extent(renderer)) for t in self.label_texts
        ]
        out["leaders"] = [
            inch(ln.get_window_extent(renderer)) for ln in self.leader_lines
        ]
        out["figure"] = [(0.0, 0.0, self.width, self.height)]
        return out


def wrap_text(text: str, width: int) -> list[str]:
    """Wrap mixed Chinese/Latin text to ``width`` display units (CJK = 2), breaking after
    spaces or CJK punctuation when possible, else anywhere between CJK characters."""
    lines, line, last_break = [], "", -1
    for ch in text:
        line += ch
        if ch in " ，。；：、）,;" or text_width(ch) == 2:
            last_break = len(line)
        if text_width(line) > width:
            cut = last_break if 0 < last_break < len(line) else len(line) - 1
            lines.append(line[:cut].rstrip())
            line, last_break = line[cut:].lstrip(), -1
    if line.strip():
        lines.append(line.rstrip())
    closing = "。，、；：）」』,.;:)"
    for i in range(1, len(lines)):  # closing punctuation never starts a line
        while lines[i] and lines[i][0] in closing:
            lines[i - 1] += lines[i][0]
            lines[i] = lines[i][1:]
    return [ln for ln in lines if ln]


def _nice_length(target: float) -> float:
    exp = 10 ** math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * exp <= target:
            return m * exp
    return exp  # pragma: no cover


def _north_angle(crs, x: float, y: float) -> float:
    """Angle (radians, clockwise from grid up) of true north at (x, y) in ``crs``."""
    try:
        from pyproj import Transformer

        fwd = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        inv = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        lon, lat = fwd.transform(x, y)
        nx, ny = inv.transform(lon, lat + 0.1)
        return math.atan2(nx - x, ny - y)
    except Exception:  # pragma: no cover - CRS without a geographic relation
        return 0.0


def _label_fontsize(n: int) -> float:
    return 9.0 if n <= 15 else 7.0 if n <= 40 else 5.0


#: Up to this many counties every county gets its name and value on the map (shrunk, or
#: outside its polygon with a leader line); only larger regions may leave labels out.
MAX_COUNTIES_ALL_LABELLED = 60
LEADER_COLOUR = "#333333"


def _label_size(text: str, fontsize: float) -> tuple[float, float]:
    """Estimated (width, height) in points of a label (CJK ≈ 1.1 em, Latin ≈ 0.55 em, with the halo)."""
    rows = text.split("\n")
    return max(text_width(r) for r in rows) * fontsize * 0.55, len(rows) * fontsize * 1.2


def _place_labels(
    ax,
    layout: _Layout,
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
    import matplotlib.patheffects as pe
    from shapely import STRtree
    from shapely.geometry import box as shp_box
    from shapely.ops import polylabel

    ppm = layout.points_per_metre()
    geoms = list(geoms)
    n = len(geoms)
    if allow_drop is None:
        allow_drop = n > MAX_COUNTIES_ALL_LABELLED
    halo = [pe.withStroke(linewidth=2.2, foreground="white")]
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
                    (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])
                )

            cross = (orient(a, b, c) * orient(a, b, d) < 0) & (orient(c, d, a) * orient(c, d, b) < 0)
            count += int(cross.sum())
        return count

    def in_frame(b) -> bool:
        return b[0] >= frame[0] + 2 and b[1] >= frame[1] + 2 and b[2] <= frame[2] - 2 and b[3] <= frame[3] - 2

    def draw(i, text, fs, cx, cy, leader=False):
        nonlocal placed, segments
        w, h = _label_size(text, fs)
        placed = np.vstack([placed, (cx - w / 2 - 1, cy - h / 2 - 1, cx + w / 2 + 1, cy + h / 2 + 1)])
        t = ax.text(
            cx / ppm, cy / ppm, text, ha="center", va="center", fontsize=fs, zorder=6, linespacing=1.15, path_effects=halo
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
            w, h = _label_size(lines[i], fs)
            b = (x - w / 2 - 1, y - h / 2 - 1, x + w / 2 + 1, y + h / 2 + 1)
            if 2 * radius_pt >= 0.55 * w and 2 * radius_pt >= 0.7 * h and overlap(b) == 0:
                draw(i, lines[i], fs, x, y)
                done[i] = True
                break
        else:
            pending.append(i)
            w, h = _label_size(lines[i], sizes[-1])
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
            w, h = _label_size(lines[i], fs)
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
            w, h = _label_size(candidate, fontsize)
            b = (x - w / 2 - 1, y - h / 2 - 1, x + w / 2 + 1, y + h / 2 + 1)
            if 2 * radius_pt >= 0.55 * w and 2 * radius_pt >= 0.7 * h and overlap(b) == 0:
                draw(i, candidate, fontsize, x, y)
                break
    labelled = [names[i] for i in range(n) if done[i]]
    unlabelled = [names[i] for i in range(n) if not done[i]]
    return labelled, unlabelled


def _unlabelled_note(lang: str, unlabelled: list[str]) -> str | None:
    """The note naming every county whose label is not on the map."""
    if not unlabelled:
        return None
    return _L(
        lang,
        f"注：以下 {len(unlabelled)} 个县（市、区）面积小、图上无处标注，未标注名称，数值见统计表：{'、'.join(unlabelled)}。",
        f"Note: {len(unlabelled)} counties too small to label on this map (values in the tables): "
        f"{', '.join(unlabelled)}.",
    )


def _class_labels(breaks: Sequence[float], signed: bool = False) -> list[str]:
    """Legend labels "60 ~ 65" ("−10 ~ 0", "0 ~ +10" when ``signed``); lower bound inclusive."""

    def fmt(v: float) -> str:
        text = f"{abs(v):g}"
        if v < 0:
            return "-" + text  # hyphen-minus, as in the tables (the CJK font's U+2212 is full width)
        return ("+" + text) if signed and v > 0 else text

    return [f"{fmt(a)} ~ {fmt(b)}" for a, b in zip(breaks[:-1], breaks[1:])]


def nice_breaks(values: Sequence[float], max_classes: int = 7) -> np.ndarray:
    """Class breaks at round numbers covering the data: 5-pp steps unless the range needs 10/20 (wide) or 2/1 (narrow)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.array([0.0, 100.0])
    lo, hi = float(v.min()), float(v.max())

    def make(step):
        start = math.floor(lo / step) * step
        stop = math.ceil(hi / step) * step
        if stop <= start:
            stop = start + step
        return np.round(np.arange(start, stop + step / 2, step), 6)

    b = make(5.0)
    if len(b) - 1 > max_classes:
        for step in (10.0, 20.0, 25.0, 50.0):
            b = make(step)
            if len(b) - 1 <= max_classes:
                break
    elif len(b) - 1 < 3:
        for step in (2.0, 1.0, 0.5):
            cand = make(step)
            if len(cand) - 1 > max_classes:
                break
            b = cand
            if len(b) - 1 >= 3:
                break
    return b


def symmetric_breaks(values: Sequence[float], max_half: int = 4) -> np.ndarray:
    """Breaks centred on 0 (…, −s, 0, +s, …) covering max |value| with ≤ ``max_half`` classes per side."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    m = float(np.abs(v).max()) if v.size else 1.0
    m = max(m, 1e-9)
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0):
        k = math.ceil(m / step)
        if m == k * step:
            k += 1  # the maximum must fall inside the outermost class
        if k <= max_half:
            return np.arange(-k, k + 1) * step
    return np.arange(-max_half, max_half + 1) * math.ceil(m / max_half)  # pragma: no cover


def classify(values: Sequence[float], breaks: Sequence[float]) -> np.ndarray:
    """Class index of each value: [b_i, b_{i+1}), last class closed; −1 for NaN."""
    v = np.asarray(values, dtype=float)
    idx = np.digitize(v, breaks[1:-1], right=False)
    idx = np.clip(idx, 0, len(breaks) - 2)
    idx[~np.isfinite(v)] = -1
    return idx


def _ramp(cmap_name: str, n: int, lo: float = 0.15, hi: float = 0.9) -> list:
    from matplotlib import colormaps

    cmap = colormaps[cmap_name]
    return [cmap(x) for x in np.linspace(lo, hi, n)]


def _finish(layout: _Layout, out_png: Path, out_vector: Path, result: MapOutput) -> MapOutput:
    """Check every text against the font, then write PNG + vector atomically."""
    from matplotlib.text import Text

    texts = [t for t in layout.fig.findobj(Text) if t.get_text() and t.get_visible()]
    strings = [t.get_text() for t in texts]
    fonts.check_drawable(strings, "map text")
    result.texts = strings
    result.font_files = {fonts.resolved_font_file(t.get_fontproperties()) for t in texts}
    with atomic_outputs(out_png, out_vector) as (tmp_png, tmp_vec):
        layout.fig.savefig(tmp_png, dpi=DPI, format="png", facecolor="white")
        layout.fig.savefig(tmp_vec, format=out_vector.suffix.lower().lstrip("."), facecolor="white")
    result.boxes = layout.boxes()
    return result


@contextlib.contextmanager
def _cjk():
    import matplotlib

    family = fonts.use_cjk_font(set_default=False)
    with matplotlib.rc_context(fonts.rc_params(family)):
        yield


def _patch(colour, label, hatch=None):
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, edgecolor="#4D4D4D", linewidth=0.5, hatch=hatch, label=label)


# ============================================================================ rate map


def rate_map(
    county_rates_csv: str | os.PathLike,
    counties_gpkg: str | os.PathLike,
    out_png: str | os.PathLike,
    out_vector: str | os.PathLike,
    *,
    year,
    lang: str = "zh",
    demo: bool = False,
    source_note: str | None = None,
    layer: str | None = None,
    code_field: str = "county_code",
    title: str | None = None,
) -> MapOutput:
    """County choropleth of ``rate_pct`` in round 5-pp classes, labelled with name and value."""
    out_png, out_vector = _check_common(out_png, out_vector, lang)
    rates = read_county_rates(county_rates_csv)
    _check_year(rates, year, county_rates_csv)
    gdf = _join(
        read_counties(counties_gpkg, layer=layer, code_field=code_field), rates, counties_gpkg, county_rates_csv
    )
    fonts.check_drawable(gdf["county_name"], f"county_name in {Path(county_rates_csv).name}")
    names = _label_names(gdf, lang)
    fonts.check_drawable(names, f"county names in {Path(counties_gpkg).name}")
    region = _region_name(rates)
    reg = region_row(rates)

    breaks = nice_breaks(gdf["rate_pct"])
    classes = classify(gdf["rate_pct"], breaks)
    colours = _ramp("YlGn", len(breaks) - 1)
    facecolors = [colours[c] if c >= 0 else NODATA_FILL for c in classes]
    with _cjk():
        layout = _Layout(gdf.total_bounds, demo=demo)
        ax = layout.axes[0]
        n = len(gdf)
        _draw_polygons(
            ax,
            gdf.geometry,
            facecolors,
            linewidth=_outline_width(n),
            hatches=[None if c >= 0 else "xx" for c in classes],
        )
        fs = _label_fontsize(n)
        values = [format_value(v, "pct") + "%" for v in gdf["rate_pct"]]
        labelled, unlabelled = _place_labels(
            ax,
            layout,
            gdf.geometry,
            [f"{nm}\n{v}" for nm, v in zip(names, values)],
            names,
            fontsize=fs,
            min_lines=values,
        )
        handles = [_patch(colours[i], lab) for i, lab in reversed(list(enumerate(_class_labels(breaks))))]
        if (classes < 0).any():
            handles.append(_patch(NODATA_FILL, _L(lang, "无数据", "no data"), hatch="xx"))
        layout.column(gdf.crs, handles, _L(lang, "水土保持率 (%)", "Conservation rate (%)"))
        region_text = ""
        if reg is not None:
            region_text = _L(
                lang,
                f"{region}水土保持率 {format_value(reg['rate_pct'], 'pct')}%（按面积加权）",
                f"{region}: {format_value(reg['rate_pct'], 'pct')}% (area-weighted)",
            )
        layout.title(
            title
            or _L(
                lang,
                f"{region}各县（市、区）水土保持率（{year}年）",
                f"Soil and water conservation rate by county, {region}, {year}",
            ),
            region_text,
        )
        layout.banner()
        layout.note(
            source_note
            or _default_source(lang, year, "土地利用与土壤侵蚀栅格", "land cover and soil erosion rasters", gdf.crs),
            _unlabelled_note(lang, unlabelled),
        )
        return _finish(
            layout, out_png, out_vector, MapOutput(out_png, out_vector, labelled=labelled, unlabelled=unlabelled)
        )


# ============================================================================ target gap


def target_gap_map(
    target_comparison_csv: str | os.PathLike,
    counties_gpkg: str | os.PathLike,
    out_png: str | os.PathLike,
    out_vector: str | os.PathLike,
    *,
    year,
    lang: str = "zh",
    demo: bool = False,
    source_note: str | None = None,
    layer: str | None = None,
    code_field: str = "county_code",
    title: str | None = None,
) -> MapOutput:
    """One panel per target year (2025, 2035): gap = rate − target in pp, diverging colours
    centred on 0 (red below target, blue above), counties that miss the target hatched and
    marked ×, counties that meet it marked ✓."""
    out_png, out_vector = _check_common(out_png, out_vector, lang)
    comp = read_target_comparison(target_comparison_csv)
    _check_year(comp, year, target_comparison_csv)
    years = target_years(comp)
    gdf = _join(
        read_counties(counties_gpkg, layer=layer, code_field=code_field), comp, counties_gpkg, target_comparison_csv
    )
    fonts.check_drawable(gdf["county_name"], f"county_name in {Path(target_comparison_csv).name}")
    names = _label_names(gdf, lang)
    fonts.check_drawable(names, f"county names in {Path(counties_gpkg).name}")
    region = _region_name(comp)
    reg = region_row(comp)

    breaks = symmetric_breaks(np.concatenate([gdf[f"gap_{y}_pp"].to_numpy(dtype=float) for y in years]))
    k = (len(breaks) - 1) // 2
    neg = _ramp("RdBu", k, 0.06, 0.40)
    pos = _ramp("RdBu", k, 0.60, 0.94)
    colours = neg + pos
    with _cjk():
        layout = _Layout(gdf.total_bounds, n_panels=len(years), demo=demo, panel_titles=True, legend_in=2.1)
        n = len(gdf)
        fs = _label_fontsize(n) - (1 if n <= 40 else 0.5)
        unlabelled_all: set[str] = set()  # a county missing its label in any panel
        for ax, y in zip(layout.axes, years):
            gaps = gdf[f"gap_{y}_pp"].to_numpy(dtype=float)
            met = [m is True or m == 1 for m in gdf[f"met_{y}"]]
            cls = classify(gaps, breaks)
            facecolors = [colours[c] if c >= 0 else NODATA_FILL for c in cls]
            _draw_polygons(
                ax, gdf.geometry, facecolors, linewidth=_outline_width(n), hatches=[None if m else "////" for m in met]
            )
            marks = ["✓" if m else "×" for m in met]
            full = [f"{nm}\n{format_value(g, 'gap')} {mk}" for nm, g, mk in zip(names, gaps, marks)]
            _, unlabelled = _place_labels(
                ax,
                layout,
                gdf.geometry,
                full,
                names,
                fontsize=fs,
                min_lines=[(f"{format_value(g, 'gap')} {mk}", mk) for g, mk in zip(gaps, marks)],
            )
            unlabelled_all.update(unlabelled)
            n_met = sum(met)
            sub = _L(
                lang,
                f"对照{y}年目标：{n} 个县中 {n_met} 个达标",
                f"Against the {y} target: {n_met} of {n} counties met",
            )
            if reg is not None:
                rg = reg[f"gap_{y}_pp"]
                sub += _L(
                    lang,
                    f"\n{region} {format_value(rg, 'gap')} 百分点（{'达标' if rg >= 0 else '未达标'}）",
                    f"\n{region}: {format_value(rg, 'gap')} pp ({'met' if rg >= 0 else 'not met'})",
                )
            ax.set_title(sub, fontsize=9, pad=4)
        handles = [_patch(colours[i], lab) for i, lab in reversed(list(enumerate(_class_labels(breaks, signed=True))))]
        handles.append(_patch("white", _L(lang, "✓ 达标（差距 ≥ 0）", "✓ met (gap ≥ 0)")))
        handles.append(_patch("white", _L(lang, "× 未达标（斜线）", "× not met (hatched)"), hatch="////"))
        layout.column(
            gdf.crs,
            handles,
            _L(lang, "与目标差距（百分点）\n= 水土保持率 − 目标", "Gap to target (pp)\n= rate − target"),
        )
        layout.title(
            title
            or _L(
                lang,
                f"{region}各县（市、区）水土保持率与目标差距（{year}年）",
                f"Conservation rate against targets, {region}, {year}",
            )
        )
        layout.banner()
        layout.note(
            source_note
            or _default_source(lang, year, "水土保持率与规划目标", "conservation rates and plan targets", gdf.crs),
            _unlabelled_note(lang, [nm for nm in names if nm in unlabelled_all]),
        )
        return _finish(
            layout,
            out_png,
            out_vector,
            MapOutput(
                out_png,
                out_vector,
                labelled=[nm for nm in names if nm not in unlabelled_all],
                unlabelled=[nm for nm in names if nm in unlabelled_all],
            ),
        )


# ============================================================================ rasters


def read_overview(path, max_size: int = 2000):
    """Read band 1 decimated to at most ``max_size`` pixels on the long side (mode resampling).

    Returns ``(array, transform, crs, nodata)``.  Memory: the output array only (plus
    GDAL's block cache), e.g. 2000 × 1300 × 1 byte ≈ 2.6 MB for any input size.
    """
    import rasterio
    from rasterio.enums import Resampling

    path = Path(path)
    if not path.is_file():
        raise InputFileError(str(path), "the raster does not exist.", "run the workflow step that writes it.")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise CrsError(
                str(path), "the raster has no CRS.", "use the raster on the analysis grid (results/{year}/...)."
            )
        factor = max(1.0, max(src.width, src.height) / max_size)
        shape = (max(1, round(src.height / factor)), max(1, round(src.width / factor)))
        resampling = Resampling.nearest if factor == 1.0 else Resampling.mode
        array = src.read(1, out_shape=shape, resampling=resampling)
        transform = src.transform * src.transform.scale(src.width / shape[1], src.height / shape[0])
        return array, transform, src.crs, src.nodata


def _counties_for_raster(counties_gpkg, raster_crs, layer, code_field, raster_path):
    gdf = read_counties(counties_gpkg, layer=layer, code_field=code_field)
    from pyproj import CRS

    rcrs = CRS.from_user_input(raster_crs)
    if not rcrs.is_projected:
        raise CrsError(
            str(raster_path),
            f"the raster is in {rcrs.name}, not a projected CRS in metres.",
            "use the raster aligned to the analysis grid (results/{year}/...).",
        )
    if not gdf.crs.equals(rcrs):
        gdf = gdf.to_crs(rcrs)
    return gdf


def _image_extent(array, transform):
    h, w = array.shape
    left, top = transform.c, transform.f
    right, bottom = left + transform.a * w, top + transform.e * h
    return (left, right, bottom, top)


def _hex_rgba(colour) -> tuple[int, int, int, int]:
    from matplotlib.colors import to_rgba

    return tuple(int(round(c * 255)) for c in to_rgba(colour))


def grade_map(
    grade_tif: str | os.PathLike,
    counties_gpkg: str | os.PathLike,
    out_png: str | os.PathLike,
    out_vector: str | os.PathLike,
    *,
    year,
    lang: str = "zh",
    demo: bool = False,
    source_note: str | None = None,
    layer: str | None = None,
    code_field: str = "county_code",
    title: str | None = None,
    region_name: str = "",
    max_size: int = 2000,
) -> MapOutput:
    """SL 190 erosion grades in their conventional colours, county outlines and names.

    The raster is read as a mode-resampled overview of at most ``max_size`` pixels on its
    long side (see :func:`read_overview`); no-data grades 0 and 7 show in greys and are
    listed in the legend when they appear on the map.
    """
    out_png, out_vector = _check_common(out_png, out_vector, lang)
    array, transform, crs, _nodata = read_overview(grade_tif, max_size)
    unknown = sorted(set(np.unique(array).tolist()) - set(grading.ALL_CODES) - {grading.OUTSIDE})
    if unknown:
        raise InputError(
            str(grade_tif),
            f"grade codes {unknown} are not SL 190 grade codes (0–7, 255).",
            "pass erosion_grade.tif written by the grade step.",
        )
    gdf = _counties_for_raster(counties_gpkg, crs, layer, code_field, grade_tif)
    names = _label_names(gdf, lang) if "county_name" in gdf.columns else list(gdf["county_code"])
    fonts.check_drawable(names, f"county names in {Path(counties_gpkg).name}")
    lut = np.zeros((256, 4), dtype="uint8")
    for code, rgb in grading.GRADE_COLOURS.items():
        lut[code] = (*rgb, 255)
    rgba = lut[array]
    present = set(np.unique(array).tolist())
    gnames = grading.GRADE_NAMES_ZH if lang == "zh" else grading.GRADE_NAMES_EN
    ranges = {1: "< T", 2: "T – 2 500", 3: "2 500 – 5 000", 4: "5 000 – 8 000", 5: "8 000 – 15 000", 6: "≥ 15 000"}
    with _cjk():
        layout = _Layout(gdf.total_bounds, demo=demo, legend_in=2.2)
        ax = layout.axes[0]
        ax.imshow(rgba, extent=_image_extent(array, transform), interpolation="nearest", zorder=1)
        n = len(gdf)
        _draw_polygons(ax, gdf.geometry, ["none"] * n, edgecolor="#1A1A1A", linewidth=_outline_width(n) + 0.2, zorder=3)
        labelled, unlabelled = _place_labels(ax, layout, gdf.geometry, names, names, fontsize=_label_fontsize(n))
        handles = [_patch(np.array(grading.GRADE_COLOURS[g]) / 255, f"{gnames[g]}  {ranges[g]}") for g in range(1, 7)]
        for g in (grading.NODATA_GRADE, grading.GAP_GRADE):
            if g in present:
                handles.append(_patch(np.array(grading.GRADE_COLOURS[g]) / 255, gnames[g]))
        layout.column(
            gdf.crs,
            handles,
            _L(
                lang,
                "土壤侵蚀强度（SL 190-2007）\n侵蚀模数 t/(km²·a)",
                "Erosion intensity (SL 190-2007)\nmodulus t/(km²·a)",
            ),
        )
        layout.title(
            title
            or _L(
                lang,
                f"{region_name}土壤侵蚀强度分级图（{year}年）",
                f"Soil erosion intensity grades, {region_name + ', ' if region_name else ''}{year}",
            ),
            _L(lang, "微度不计入水土流失；水土流失 = 轻度至剧烈", "Slight is not erosion; erosion = light to severe"),
        )
        layout.banner()
        layout.note(
            source_note
            or _default_source(
                lang,
                year,
                "土壤侵蚀模数栅格（按 SL 190-2007 分级）",
                "soil erosion modulus raster graded by SL 190-2007",
                gdf.crs,
            ),
            _unlabelled_note(lang, unlabelled),
        )
        return _finish(
            layout, out_png, out_vector, MapOutput(out_png, out_vector, labelled=labelled, unlabelled=unlabelled)
        )


def read_legend(legend_csv) -> pd.DataFrame:
    """Land-cover legend ``code,name_zh,name_en`` (optional ``colour`` column, hex)."""
    path = Path(legend_csv)
    if not path.is_file():
        raise InputFileError(str(path), "the land-cover legend does not exist.", "set landcover_legend in the config.")
    legend = pd.read_csv(path, dtype={"name_zh": str, "name_en": str}, encoding="utf-8")
    missing = [c for c in ("code", "name_zh", "name_en") if c not in legend.columns]
    if missing:
        raise InputError(
            str(path),
            f"the legend lacks column(s) {', '.join(missing)}.",
            "use the header code,name_zh,name_en (see config/landcover_legend.csv).",
        )
    if legend["code"].duplicated().any():
        dup = sorted(legend.loc[legend["code"].duplicated(), "code"].astype(int).tolist())
        raise InputError(str(path), f"the legend lists code(s) {dup} more than once.", "keep one row per code.")
    legend["code"] = legend["code"].astype(int)
    return legend


def raster_codes(path) -> set[int]:
    """Every value present in band 1 (nodata excluded), scanned block by block (memory: one block)."""
    import rasterio

    codes: set[int] = set()
    with rasterio.open(path) as src:
        for _, window in src.block_windows(1):
            block = src.read(1, window=window)
            if block.dtype == np.uint8:
                values = np.nonzero(np.bincount(block.ravel(), minlength=256))[0]
            else:
                values = np.unique(block[np.isfinite(block)] if block.dtype.kind == "f" else block)
            codes.update(int(v) for v in values)
        if src.nodata is not None and np.isfinite(src.nodata):
            codes.discard(int(src.nodata))
    return codes


def landcover_colours(legend: pd.DataFrame) -> dict[int, str]:
    """Fixed colour per legend code: the ``colour`` column, else the class-name palette, else by code."""
    out = {}
    for _, r in legend.iterrows():
        colour = r.get("colour") if "colour" in legend.columns else None
        if not isinstance(colour, str) or not colour.strip():
            colour = (
                LANDCOVER_PALETTE.get(str(r["name_zh"]).strip())
                or LANDCOVER_PALETTE.get(str(r["name_en"]).strip().lower())
                or FALLBACK_COLOURS[int(r["code"]) % len(FALLBACK_COLOURS)]
            )
        out[int(r["code"])] = colour
    return out


def landcover_map(
    landcover_tif: str | os.PathLike,
    legend_csv: str | os.PathLike,
    counties_gpkg: str | os.PathLike,
    out_png: str | os.PathLike,
    out_vector: str | os.PathLike,
    *,
    year,
    lang: str = "zh",
    demo: bool = False,
    source_note: str | None = None,
    layer: str | None = None,
    code_field: str = "county_code",
    title: str | None = None,
    region_name: str = "",
    max_size: int = 2000,
) -> MapOutput:
    """Land-cover classes with the legend's names and a fixed palette, inside the counties.

    Every code in the raster (full-resolution block scan) must be in the legend, else
    :class:`InputError`.  Code 0 and raster nodata inside the region show as 未分类.
    """
    from rasterio.features import geometry_mask

    out_png, out_vector = _check_common(out_png, out_vector, lang)
    legend = read_legend(legend_csv)
    present = raster_codes(landcover_tif)
    missing = sorted(present - set(legend["code"]) - {0})
    if missing:
        raise InputError(
            str(legend_csv),
            f"land-cover code(s) {missing} occur in {Path(landcover_tif).name} but are not in the legend.",
            "add a row code,name_zh,name_en for each to the legend CSV (config: landcover_legend), "
            "or reclassify the land-cover raster to the legend's codes.",
        )
    name_col = "name_zh" if lang == "zh" else "name_en"
    fonts.check_drawable(legend[name_col].astype(str), f"{name_col} in {Path(legend_csv).name}")
    array, transform, crs, nodata = read_overview(landcover_tif, max_size)
    gdf = _counties_for_raster(counties_gpkg, crs, layer, code_field, landcover_tif)
    names = _label_names(gdf, lang) if "county_name" in gdf.columns else list(gdf["county_code"])
    fonts.check_drawable(names, f"county names in {Path(counties_gpkg).name}")
    inside = geometry_mask(list(gdf.geometry), out_shape=array.shape, transform=transform, invert=True)
    colours = landcover_colours(legend)
    rgba = np.zeros(array.shape + (4,), dtype="uint8")
    unclassified = inside & ((array == 0) | ((array == nodata) if nodata is not None else False))
    shown = []
    for code in legend["code"]:
        sel = inside & (array == code) & ~unclassified
        if sel.any() or code in present:
            rgba[sel] = _hex_rgba(colours[code])
            shown.append(code)
    rgba[unclassified] = _hex_rgba(UNCLASSIFIED_COLOUR)
    by_code = legend.set_index("code")
    with _cjk():
        layout = _Layout(gdf.total_bounds, demo=demo, legend_in=2.1)
        ax = layout.axes[0]
        ax.imshow(rgba, extent=_image_extent(array, transform), interpolation="nearest", zorder=1)
        n = len(gdf)
        _draw_polygons(ax, gdf.geometry, ["none"] * n, edgecolor="#1A1A1A", linewidth=_outline_width(n) + 0.2, zorder=3)
        labelled, unlabelled = _place_labels(ax, layout, gdf.geometry, names, names, fontsize=_label_fontsize(n))
        handles = [_patch(colours[c], str(by_code.loc[c, name_col])) for c in shown]
        if unclassified.any():
            handles.append(_patch(UNCLASSIFIED_COLOUR, _L(lang, "未分类 / 无数据", "unclassified / no data")))
        layout.column(gdf.crs, handles, _L(lang, "土地利用类型", "Land use"))
        layout.title(
            title
            or _L(
                lang,
                f"{region_name}土地利用现状图（{year}年）",
                f"Land use, {region_name + ', ' if region_name else ''}{year}",
            )
        )
        layout.banner()
        layout.note(
            source_note
            or _default_source(
                lang, year, "土地利用栅格（对齐至分析格网）", "land-cover raster aligned to the analysis grid", gdf.crs
            ),
            _unlabelled_note(lang, unlabelled),
        )
        return _finish(
            layout, out_png, out_vector, MapOutput(out_png, out_vector, labelled=labelled, unlabelled=unlabelled)
        )
