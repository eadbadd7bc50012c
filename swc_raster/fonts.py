"""The CJK font used by every map and chart: Noto Sans CJK SC from the ``mplfonts`` package.

Maps carry Chinese county names, titles and legends.  matplotlib's default font
(DejaVu Sans) has no Chinese glyphs and draws empty boxes ("tofu") with only a
warning, so swc-raster registers one known font file — shipped inside the PyPI
package ``mplfonts``, no network and no system fonts involved — and checks text
against that font's character map *before* drawing.  A county name with a rare
character the font lacks (e.g. a CJK Extension B ideograph) raises an
:class:`~swc_raster.errors.InputError` instead of silently printing a box.

The font file is OpenType with CFF (cubic) outlines.  matplotlib embeds PDF text as
Type 42 (TrueType) fonts and would write the CFF data under a TrueType font dictionary,
which PDF readers may reject; its Type 3 path cannot encode CJK glyphs at all.  So PDFs
get :func:`truetype_subset`: the characters a figure uses, converted to TrueType
(quadratic) outlines with fontTools — same glyph design and advance widths, text that
stays text (selectable, searchable, extractable with ``pdftotext``).
"""

from __future__ import annotations

import functools
import importlib.util
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from swc_raster.errors import InputError, InputFileError

#: The font file inside ``mplfonts/fonts`` (SIL Open Font License).
FONT_FILE = "NotoSansCJKsc-Regular.otf"
#: Family name the file registers under in matplotlib's font manager.
FONT_FAMILY = "Noto Sans CJK SC"


@functools.cache
def cjk_font_path() -> Path:
    """Absolute path of the CJK font file shipped by the ``mplfonts`` package.

    The package is located without importing it (``importlib.util.find_spec``).
    Raises :class:`InputFileError` when ``mplfonts`` is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise InputFileError(
            "map font",
            "the Python package 'mplfonts' (which ships the CJK font used on maps) is not installed.",
            "install it into the environment: `pip install mplfonts` (or `conda install -c conda-forge mplfonts`).",
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / "fonts" / FONT_FILE
        if path.is_file():
            return path.resolve()
    raise InputFileError(
        "map font",
        f"the 'mplfonts' package has no fonts/{FONT_FILE}.",
        "reinstall it: `pip install --force-reinstall mplfonts`.",
    )


@functools.cache
def _register() -> str:
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    # Resolve the family name exactly as matplotlib records it for this file.
    for entry in font_manager.fontManager.ttflist:
        if Path(entry.fname).resolve() == path:
            return entry.name
    return FONT_FAMILY  # pragma: no cover - addfont always records the file


def use_cjk_font(set_default: bool = True) -> str:
    """Register the CJK font with matplotlib's font manager and return its family name.

    With ``set_default`` (the default) ``rcParams['font.family']`` is set to that family
    alone (no fallback to other fonts, so every glyph drawn comes from this file), and
    PDF/PS text is embedded as TrueType/OpenType (Type 42) subsets.  Idempotent.
    """
    family = _register()
    if set_default:
        import matplotlib

        matplotlib.rcParams.update(rc_params(family))
    return family


def rc_params(family: str | None = None) -> dict:
    """matplotlib rcParams for drawing with the CJK font (use with ``plt.rc_context``)."""
    family = family or _register()
    return {
        "font.family": [family],
        "font.sans-serif": [family],
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "axes.unicode_minus": False,  # hyphen-minus as in the tables (the font's U+2212 is full width)
        "mathtext.default": "regular",
        "hatch.linewidth": 0.6,
    }


def resolved_font_file(fontproperties=None) -> Path:
    """Font file matplotlib resolves for ``fontproperties`` (default: current rcParams)."""
    from matplotlib import font_manager

    props = fontproperties or font_manager.FontProperties()
    return Path(font_manager.findfont(props, fallback_to_default=False)).resolve()


@functools.cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(cjk_font_path()), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _needs_glyph(ch: str) -> bool:
    # Line breaks, tabs and other control/format characters are layout, not glyphs.
    return unicodedata.category(ch)[0] != "C"


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` the map font cannot draw (empty set when all are drawable)."""
    cmap = _cmap()
    return {ch for ch in str(text) if _needs_glyph(ch) and ord(ch) not in cmap}


def check_drawable(names: Iterable[str] | str, what: str) -> None:
    """Raise :class:`InputError` naming every text of ``names`` the map font cannot draw.

    ``what`` says where the texts come from (e.g. ``"county_name in county_rates.csv"``)
    so the message can tell the user which input to fix.
    """
    if isinstance(names, str):
        names = [names]
    bad: list[str] = []
    for name in names:
        if name is None:
            continue
        missing = missing_glyphs(str(name))
        if missing:
            chars = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in sorted(missing))
            bad.append(f"{str(name)!r} has {chars}")
    if bad:
        raise InputError(
            what,
            f"the map font {FONT_FAMILY} ({FONT_FILE}, package mplfonts) cannot draw: " + "; ".join(bad) + ".",
            f"write these names with characters the font covers (a common variant or pinyin) in {what}; "
            "rare ideographs outside the font would print as empty boxes on the maps.",
        )


def _font_chars(text: str) -> str:
    return "".join(sorted({ch for ch in str(text) if _needs_glyph(ch) and ord(ch) in _cmap()}))


@functools.lru_cache(maxsize=4)
def _subset_woff(chars: str) -> bytes:
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"  # zlib-compressed; WOFF2 would need the brotli package
    options.layout_features = ["*"]
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    font = TTFont(str(cjk_font_path()))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    return buffer.getvalue()


def subset_font_woff(text: str) -> bytes:
    """The CJK font subset to the characters of ``text`` it covers, as WOFF bytes.

    For documents that must show Chinese on any machine (the HTML report embeds it as a
    ``data:`` URI), with the same glyphs as the maps.  A report's few hundred distinct
    characters give ~100–300 kB instead of the font's 16 MB.
    """
    return _subset_woff(_font_chars(text))


#: Largest deviation of the quadratic TrueType outlines from the font's cubic ones, in
#: font units (1000 per em): 1 unit is 0.01 pt on 10-pt text, far below what print shows.
TRUETYPE_MAX_ERROR = 1.0
#: Characters every TrueType subset carries besides the text's own (printable ASCII).
_BASIC_LATIN = "".join(chr(c) for c in range(0x20, 0x7F))


@functools.cache
def _truetype_dir() -> tempfile.TemporaryDirectory:
    """Per-process folder of the TrueType subsets, made on first use, removed when the process ends."""
    return tempfile.TemporaryDirectory(prefix="swc-raster-fonts-")


def truetype_subset(text: str) -> Path:
    """The CJK font, subset to the characters of ``text`` (and printable ASCII), as a
    TrueType-flavoured font file.

    For PDFs with real text (matplotlib's ``pdf.fonttype`` 42 embeds TrueType only): the
    CFF outlines are converted to quadratic splines (fontTools ``cu2qu``, error ≤
    :data:`TRUETYPE_MAX_ERROR` font units); glyph metrics, ``cmap`` and names are the
    original font's, so text set with this file has the same layout.  The file lives in a
    per-process temporary folder; the same character set returns the same file.  A few
    hundred characters take about half a second, almost all of it reading the 16 MB font.
    """
    return _truetype_subset("".join(sorted(set(_font_chars(text)) | set(_BASIC_LATIN))))


@functools.lru_cache(maxsize=32)
def _truetype_subset(chars: str) -> Path:
    import hashlib

    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    options = subset.Options()
    options.layout_features = ["*"]
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.desubroutinize = True
    font = TTFont(str(cjk_font_path()))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        # CFF contours run counter-clockwise, TrueType ones clockwise.
        glyph_set[name].draw(Cu2QuPen(pen, TRUETYPE_MAX_ERROR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for tag in ("CFF ", "VORG"):  # VORG belongs to CFF fonts only
        if tag in font:
            del font[tag]
    maxp = font["maxp"] = newTable("maxp")  # version 1.0 (TrueType); counts are recomputed on save
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    post = font["post"]
    post.formatType = 2.0  # glyph names kept, so text extraction can fall back on them
    post.extraNames, post.mapping, post.glyphOrder = [], {}, order
    font.sfntVersion = "\x00\x01\x00\x00"
    digest = hashlib.sha1(chars.encode("utf-8")).hexdigest()[:16]
    path = Path(_truetype_dir().name) / f"{Path(FONT_FILE).stem}-{digest}.ttf"
    font.save(str(path))
    return path
