"""Intensity-grade rasters (侵蚀强度分级图): integer codes, every code in the declared grade table.

A floating-point raster, or codes far outside the table, is a modulus declared as grades; the
reverse (a graded raster declared with a unit) is caught by
:func:`swc_raster.erosion_layers.graded_look` on the modulus sample of :mod:`swc_raster.validate.erosion`.
"""

from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from swc_raster.erosion_layers import GRADE_KEYS, grade_table
from swc_raster.errors import ConfigError
from swc_raster.validate.context import Context, Year
from swc_raster.validate.landcover import present_codes
from swc_raster.validate.tiles import OpenRaster


def grades_key(key: str) -> str:
    """The config key of the grade table of raster ``key`` (``erosion`` → ``erosion_grades``)."""
    return f"{key}_grades"


def unit_key(key: str) -> str:
    return f"{key}_unit"


def is_graded(y: Year, key: str) -> bool:
    return y.entry.get(grades_key(key)) is not None


def scan_grades(ctx: Context, y: Year, r: OpenRaster, win: Window, key: str) -> None:
    """Check a graded raster's codes over ``win`` against its declared table."""
    table_key = grades_key(key)
    where = y.input(table_key)
    try:
        pairs, nodata = grade_table(y.entry.get(table_key), where)
    except ConfigError as exc:
        ctx.problems.extend(exc.problems)
        return
    dtype = np.dtype(r.ds.dtypes[r.band - 1])
    if dtype.kind not in "ui":
        ctx.add(
            r.label,
            f"declared as intensity grades (`{table_key}:`), but it holds {dtype} values: grade rasters hold "
            "integer codes, so this is probably the erosion modulus.",
            f"if it is the modulus, replace `{table_key}:` with `{unit_key(key)}:` (its unit, e.g. t/km2/a); "
            f"if it is a grade raster, convert it to integers: `gdal_translate -ot Byte {r.rel} grades.tif`.",
        )
        return
    present = present_codes(ctx, r, win, dtype)
    if present is None:
        return
    known = {c for c, _ in pairs} | set(nodata) | {0}
    bad = sorted(k for k in present if k not in known)
    if bad and (len(present) > 20 or max(bad) > 1000):
        ctx.add(
            r.label,
            f"declared as intensity grades (`{table_key}:`), but it holds {len(present)} distinct values "
            f"({_codes(present)}): these look like an erosion modulus, not grade codes.",
            f"if the raster holds the modulus, replace `{table_key}:` with `{unit_key(key)}:` (its unit, e.g. "
            f"t/km2/a); if it holds grades, list each code under its grade in `{table_key}:`.",
        )
        return
    if not any(k in dict(pairs) for k in present):
        ctx.add(
            r.label,
            f"the raster has no graded cell over the counties (codes found: {_codes(present)}).",
            f"check that this is the right file and that `{table_key}:` lists its codes.",
        )
        return
    if bad:
        ctx.add(
            r.label,
            f"code{'s' if len(bad) != 1 else ''} not in the grade table (`{table_key}:`): "
            f"{_codes({k: present[k] for k in bad})}.",
            f"list each code under its grade ({', '.join(GRADE_KEYS)}) or under `nodata:` in `{table_key}:`.",
        )


def _codes(counts: dict[int, int]) -> str:
    items = sorted(counts.items())
    text = ", ".join(f"{k} ({n} pixels)" for k, n in items[:10])
    return text + (f" … and {len(items) - 10} more" if len(items) > 10 else "")
