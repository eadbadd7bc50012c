"""The land-cover raster: an integer class raster (the data-type rule of :mod:`swc_raster.legend`),
with data over the region, every code in the legend.

Codes are counted with ``np.bincount`` (one pass over each tile, no sort): every code the
workflow can hold lies in 0–65535, so the counts fit one 65 536-bin array; only values outside
that range (negative, or > 65535 in a 32-bit raster) are counted one by one.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

import numpy as np
from rasterio.windows import Window

from swc_raster.legend import LANDCOVER_NODATA, MAX_CODE, landcover_dtype_problem
from swc_raster.validate.context import Context
from swc_raster.validate.erosion import BIG_FILL, FILL_VALUES
from swc_raster.validate.tiles import OpenRaster, TileReader, nodata_value_mask

#: More distinct values than this in a land-cover raster: it is not a class raster.
MAX_DISTINCT_CODES: Final = 1000
_BINS: Final = MAX_CODE + 1
_DIRECT: Final = (np.dtype("uint8"), np.dtype("uint16"))


def check_landcover_dtype(ctx: Context, r: OpenRaster) -> bool:
    """The data-type rule (integer rasters only); ``False`` with a problem when refused."""
    problem = landcover_dtype_problem(r.ds.dtypes[r.band - 1], r.label, r.rel)
    if problem is None:
        return True
    ctx.add_problem(problem)
    return False


def count_codes(reader: TileReader, dtype: np.dtype, nodata: float | None) -> tuple[np.ndarray, Counter[int]]:
    """Pixel count of each code over the reader's window: 0–65535 in an array, others in a Counter.

    ``nodata`` is the value that marks nodata when the reader computes no mask (``with_mask=False``).
    """
    counts = np.zeros(_BINS, dtype=np.int64)
    other: Counter[int] = Counter()
    for tile in reader:
        vals = tile.data.reshape(-1) if tile.valid is None else tile.data[tile.valid]
        if vals.size == 0:
            continue
        if dtype in _DIRECT:
            c = np.bincount(vals, minlength=0)
        else:
            inside = (vals >= 0) & (vals <= MAX_CODE)
            if not inside.all():
                if len(other) <= MAX_DISTINCT_CODES:
                    u, n = np.unique(vals[~inside], return_counts=True)
                    other.update(dict(zip(u.tolist(), n.tolist())))
                vals = vals[inside]
            c = np.bincount(vals.astype(np.intp, copy=False), minlength=0)
        counts[: c.size] += c
    if reader.with_mask is False and nodata is not None and float(nodata).is_integer():
        nd = int(nodata)
        if 0 <= nd <= MAX_CODE:
            counts[nd] = 0  # every cell of that value is nodata
        else:
            other.pop(nd, None)
    return counts, other


def present_codes(ctx: Context, r: OpenRaster, win: Window, dtype: np.dtype) -> dict[int, int] | None:
    """Pixel count of every code of an integer raster over ``win`` (nodata left out); None when a block failed."""
    by_value, nodata = nodata_value_mask(r.ds, r.band, dtype)
    reader = TileReader(ctx, r, win, with_mask=not by_value)
    counts, other = count_codes(reader, dtype, nodata)
    if reader.failed:
        return None
    present = {int(k): int(counts[k]) for k in np.flatnonzero(counts)}
    present.update(other)
    return present


def scan_landcover(ctx: Context, r: OpenRaster, win: Window, legend: set[int] | None) -> None:
    """Check the land-cover codes over ``win`` against the legend."""
    dtype = np.dtype(r.ds.dtypes[r.band - 1])
    if dtype.kind not in "ui":
        return  # refused by the data-type rule
    present = present_codes(ctx, r, win, dtype)
    if present is None:
        return
    total = int(win.width) * int(win.height)
    report_codes(ctx, r.label, r.rel, r.ds.nodatavals[r.band - 1], present, total, legend, "of the region's window")


def report_codes(
    ctx: Context,
    label: str,
    rel: object,
    nodata: float | None,
    present: dict[int, int],
    total: int,
    legend: set[int] | None,
    where: str,
) -> None:
    """The problems of the land-cover codes ``present`` (code → pixels outside nodata) among ``total`` pixels
    ``where``: no data at all, not a class raster, codes not in the legend."""
    if not present:
        ctx.add(
            label,
            f"the raster has no data over the counties: all {total} pixels {where} are nodata.",
            "check that this is the right file (or year) and that its nodata value is not a land-cover code; "
            "export it again with data for the region.",
        )
        return
    if len(present) > MAX_DISTINCT_CODES:
        ctx.add(
            label,
            f"more than {MAX_DISTINCT_CODES} distinct values: this does not look like a land-cover class raster "
            "(were `landcover` and `erosion` swapped?).",
            "point `landcover:` at the classified land-cover raster (integer codes from the legend).",
        )
        return
    if legend is not None:
        _check_codes(ctx, label, rel, nodata, present, legend)


def _check_codes(
    ctx: Context, label: str, rel: object, nodata: float | None, present: dict[int, int], legend: set[int]
) -> None:
    # Code 0 is the tables' "未分类 / unclassified" class (the aligned rasters' nodata), accepted without a row.
    known = set(legend) | {LANDCOVER_NODATA}
    bad = sorted(k for k in present if k not in known)
    if not bad:
        return
    desc = ", ".join(f"{k} ({present[k]} pixels)" for k in bad[:10])
    if len(bad) > 10:
        desc += f" … and {len(bad) - 10} more"
    out_of_range = [k for k in bad if not 0 <= k <= MAX_CODE]
    fills = [k for k in bad if k in FILL_VALUES or k in (255, 65535, 32767) or abs(k) >= BIG_FILL]
    hint = ""
    if fills and nodata is None:
        hint = f"; if {fills[0]} is a fill value, declare it nodata: `gdal_edit.py -a_nodata {fills[0]} {rel}`"
    ctx.add(
        label,
        f"land-cover code{'s' if len(bad) != 1 else ''} not in the legend: {desc}"
        + (f" (codes must be whole numbers 0–{MAX_CODE})" if out_of_range else "")
        + ".",
        f"add {'them' if len(bad) != 1 else 'it'} to the legend ({ctx.cfg.get('landcover_legend') or 'landcover_legend'}: "
        f"code,name_zh,name_en), or reclassify the raster to the legend's codes{hint}.",
    )
