"""Writing a map: a 300-dpi PNG and a print-ready vector copy, both or neither.

The vector copy (PDF or SVG) keeps its text as text — titles, county names and values can
be selected, searched and copied — in a TrueType subset of the CJK font
(:func:`swc_raster.fonts.truetype_subset`), and carries its raster layers at
:data:`PRINT_PPI` pixels per inch of the printed page.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from swc_raster import fonts
from swc_raster.atomic import atomic_outputs
from swc_raster.errors import InputError
from swc_raster.maps.text import OUTLINE_GID

#: Resolution of the PNG maps (dots per inch).
DPI = 300
#: Resolution of raster layers (grades, land cover) in the vector maps, pixels per inch at
#: print size: print needs 250–300; matplotlib's default (the figure's 100 dpi) looks blocky.
PRINT_PPI = 300
VECTOR_SUFFIXES = (".pdf", ".svg")


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
    #: scale bar, title, note and labels (see ``MapLayout.boxes``), for layout checks.
    boxes: dict[str, list[tuple[float, float, float, float]]] = field(default_factory=dict)
    #: Direction of the drawn north arrow, degrees clockwise from the page's up.
    north_arrow_deg: float | None = None
    #: Raster maps: pixels read per inch of the printed map (the source's own resolution
    #: when it is coarser than :data:`PRINT_PPI`).
    raster_ppi: float | None = None


def check_outputs(out_png, out_vector, lang: str) -> tuple[Path, Path]:
    """Validate the language and the two output names (``.png``; ``.pdf`` or ``.svg``)."""
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


@contextlib.contextmanager
def truetype_text(fig, strings: list[str]):
    """Every text of ``fig`` set in the TrueType subset of the CJK font while inside.

    Same glyphs and advance widths as the OpenType file, so nothing moves; restored after.
    """
    from matplotlib.text import Text

    path = fonts.truetype_subset("".join(strings))
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    saved = [t.get_fontproperties() for t in texts]
    try:
        for t, props in zip(texts, saved):
            tt = props.copy()
            tt.set_file(path)
            t.set_fontproperties(tt)
        yield path
    finally:
        for t, props in zip(texts, saved):
            t.set_fontproperties(props)


def finish(layout, out_png: Path, out_vector: Path, result: MapOutput) -> MapOutput:
    """Check every text against the font, then write PNG + vector atomically; fill ``result``."""
    from matplotlib.text import Text

    texts = [t for t in layout.fig.findobj(Text) if t.get_text() and t.get_visible()]
    strings = [t.get_text() for t in texts]
    fonts.check_drawable(strings, "map text")
    result.texts = [t.get_text() for t in texts if t.get_gid() != OUTLINE_GID]
    result.font_files = {fonts.resolved_font_file(t.get_fontproperties()) for t in texts}
    with atomic_outputs(out_png, out_vector) as (tmp_png, tmp_vec):
        layout.fig.savefig(tmp_png, dpi=DPI, format="png", facecolor="white")
        with truetype_text(layout.fig, strings):
            layout.fig.savefig(tmp_vec, dpi=PRINT_PPI, format=out_vector.suffix.lower().lstrip("."), facecolor="white")
    result.boxes = layout.boxes()
    result.north_arrow_deg = layout.north_arrow_deg
    return result
