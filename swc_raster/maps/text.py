"""Words on the maps: language choice, wrapping, source notes, and outlined text that stays text.

matplotlib draws text with path effects (a halo, a stroke that thickens the one weight the
CJK font has) as outlines, which a PDF reader cannot select, search or copy.
:func:`outlined_text` draws the stroke as a separate outline *under* an ordinary text
artist instead: the page looks the same and the PDF keeps real text.
"""

from __future__ import annotations

import contextlib
import warnings

from swc_raster import fonts
from swc_raster.tables import text_width

#: ``gid`` of the outline drawn under an outlined text (left out of a map's text list).
OUTLINE_GID = "swc-outline"


def pick(lang: str, zh: str, en: str) -> str:
    """``zh`` or ``en`` by the map language."""
    return zh if lang == "zh" else en


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


def crs_text(crs, lang: str) -> str:
    """Short description of the map projection (Albers parameters spelled out)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # to_dict warns that a PROJ string loses information
        params = crs.to_dict()
    if params.get("proj") == "aea":
        lon0, lat1, lat2 = params.get("lon_0", "?"), params.get("lat_1", "?"), params.get("lat_2", "?")
        return pick(
            lang,
            f"Albers 等积圆锥投影（中央经线 {lon0}°E，标准纬线 {lat1}°N/{lat2}°N）",
            f"Albers equal-area conic (central meridian {lon0}°E, standard parallels {lat1}°N/{lat2}°N)",
        )
    return crs.name


def default_source_note(lang: str, year, what_zh: str, what_en: str, crs) -> str:
    """Default note under a map: data source, "model estimates", projection."""
    return pick(
        lang,
        f"数据来源：{year}年{what_zh}，swc-raster 模型估算（非官方统计）。投影：{crs_text(crs, lang)}。",
        f"Source: {what_en}, {year}; swc-raster model estimates (not official statistics). "
        f"Projection: {crs_text(crs, lang)}.",
    )


def outlined_text(parent, x: float, y: float, text: str, *, outline_width: float, outline_colour: str, **kwargs):
    """Text on ``parent`` (a Figure or an Axes) over a stroked outline of itself.

    The outline (``gid`` :data:`OUTLINE_GID`) is drawn as a path; the text on top is an
    ordinary text artist, so a PDF keeps it as text.  A white outline is a halo that keeps
    labels readable over colours; a thin outline in the text's colour stands in for bold.
    Returns ``(text, outline)``; whoever moves the text moves the outline too.
    """
    import matplotlib.patheffects as pe

    stroke = [pe.Stroke(linewidth=outline_width, foreground=outline_colour)]
    outline = parent.text(x, y, text, path_effects=stroke, gid=OUTLINE_GID, **kwargs)
    return parent.text(x, y, text, **kwargs), outline


def bold_text(parent, x: float, y: float, text: str, **kwargs):
    """Text thickened by a 0.6-pt outline in its own colour (the font ships one weight only)."""
    return outlined_text(parent, x, y, text, outline_width=0.6, outline_colour=kwargs.get("color", "black"), **kwargs)


@contextlib.contextmanager
def cjk_fonts():
    """matplotlib settings for drawing with the CJK font (every text of a map)."""
    import matplotlib

    family = fonts.use_cjk_font(set_default=False)
    with matplotlib.rc_context(fonts.rc_params(family)):
        yield
