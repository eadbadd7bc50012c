"""What an erosion raster says about itself: which process (water or wind) and which unit.

Monitoring products label their bands (band description, GDAL unit type, metadata tags) and their
files; a wind-erosion raster put in the water-erosion slot (or the reverse), or a raster whose own
unit contradicts the declared one, is refused before any value is read.  Only explicit labels
count: a raster that says nothing passes.
"""

from __future__ import annotations

from typing import Final

from swc_raster import units
from swc_raster.errors import UnitError
from swc_raster.validate.context import Context, Year
from swc_raster.validate.tiles import OpenRaster

#: Words that name a process in a raster's labels (lower case).
PROCESS_WORDS: Final = {
    "wind": ("wind", "风蚀", "风力", "aeolian"),
    "water": ("water erosion", "water_erosion", "水蚀", "水力", "rusle", "usle", "csle", "sdr"),
}
#: The slot each config key fills.
SLOT_PROCESS: Final = {"erosion": "water", "wind_erosion": "wind"}


def labels_of(r: OpenRaster) -> str:
    """The raster's own words: file name, band description, unit type and metadata tags (lower case)."""
    ds, band = r.ds, r.band
    parts = [str(r.rel).replace("\\", "/").rsplit("/", 1)[-1]]
    parts.append(ds.descriptions[band - 1] or "")
    parts.append(ds.units[band - 1] or "")
    for tags in (ds.tags(), ds.tags(band)):
        parts.extend(f"{k}={v}" for k, v in tags.items())
    return " ".join(parts).lower()


def check_process_labels(ctx: Context, y: Year, r: OpenRaster, key: str) -> None:
    """A raster whose labels name the other process only (e.g. "wind" in the water slot) is refused."""
    slot = SLOT_PROCESS.get(key)
    if slot is None:
        return
    other = "wind" if slot == "water" else "water"
    text = labels_of(r)
    says_other = [w for w in PROCESS_WORDS[other] if w in text]
    if not says_other or any(w in text for w in PROCESS_WORDS[slot]):
        return
    other_key = "wind_erosion" if other == "wind" else "erosion"
    ctx.add(
        r.label,
        f"is given as {slot} erosion (`{key}:`), but the raster labels itself as {other} erosion "
        f"(its name, band description or metadata says {says_other[0]!r}).",
        f"put it under `{other_key}:` for years[{y.label}] (with its own unit or grade table) and give the "
        f"{slot}-erosion raster as `{key}:`; if the label is wrong, fix it (`gdal_edit.py -unsetmd {r.rel}`).",
    )


def check_unit_label(ctx: Context, y: Year, r: OpenRaster, key: str) -> None:
    """A GDAL unit type that names an erosion unit other than the declared one is refused."""
    declared = y.entry.get(f"{key}_unit")
    label = (r.ds.units[r.band - 1] or "").strip()
    if declared is None or not label:
        return
    try:
        own = units.normalise_unit(label)
        declared = units.normalise_unit(declared)
    except UnitError:
        return  # an unknown unit label (or an unknown declaration, reported elsewhere)
    if own != declared:
        ctx.add(
            r.label,
            f"the raster's own unit is {label!r} ({own}), but `{key}_unit:` declares {declared}.",
            f"set `{key}_unit: {own}` for years[{y.label}] if the raster's label is right; otherwise fix the "
            f'label (`gdal_edit.py -units "{declared}" {r.rel}`, GDAL ≥ 3.5 `-units`).',
        )
