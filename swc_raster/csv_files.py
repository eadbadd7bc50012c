"""The one writer (and reader) of every CSV swc-raster publishes.

Monitoring offices open the CSVs in Excel on Chinese Windows, which reads a CSV without a
byte-order mark as GBK and garbles county names; they also read the numbers as printed, so
``-0.23429099999999892`` (float noise of ``rate − target``) must not appear.
:func:`write_csv` therefore writes

- **UTF-8 with a BOM** (``utf-8-sig``): Excel, LibreOffice, pandas and QGIS all read it;
- **numbers rounded by column kind**, the kind read from the column name's unit suffix
  (the naming rule of ``docs/architecture.md``):

  ===================  ==================  ========  ==========================================
  suffix               unit                decimals  why this many
  ===================  ==================  ========  ==========================================
  ``_t_km2``           t/(km²·a) (T, A)    2         T is a set value (200, 500, 1000); A is a
                       ``_t_km2_a``                  model estimate good to far less than 0.01
  ``_km2``             km²                 6         1 m²: below one cell of any grid ≥ 1 m, so
                                                     rounding never hides a cell
  ``_pct``             %                   6         one 10 m cell of a 10 000 km² county is
                                                     10⁻⁶ %: rounding never hides a cell
  ``_pp``              percentage points   6         rate (6 dp) − target (2 dp) is exact at
                                                     6 dp: gap = rate − target re-computes exactly
  ``_pp_per_year``     pp per year         6         same resolution as the rates it is fitted to
  ===================  ==================  ========  ==========================================

  Integers, text and booleans are written as they are, and so are float columns of whole
  numbers (a year or a count that is NaN somewhere).  Any other float column with none of
  these suffixes is refused (``ValueError``) unless ``decimals`` names it: a new column must
  state its precision rather than leak float noise.  ``-0.0`` is written ``0.0``.  Rounding is
  half-to-even on the binary value (``numpy.round``); a published value differs from the
  computed one by at most half a unit of its last decimal.
- **a demo marker** when ``demo``: the column ``data_status`` = ``演示数据 demo data`` on
  every row, appended last (columns are added, never renamed or moved), so a demo number
  cannot travel without it, even as one row pasted elsewhere;
- **atomically** (:func:`swc_raster.atomic.atomic_path`): a failure leaves the previous
  file or none, never half a table.

Read these files with :func:`read_csv` (or ``encoding="utf-8-sig"``), which drops the BOM.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from swc_raster.atomic import atomic_path

#: File encoding of every published CSV: UTF-8 with a byte-order mark (Excel on Chinese Windows).
CSV_ENCODING: Final = "utf-8-sig"
#: Name and value of the demo-marker column.
DATA_STATUS_COLUMN: Final = "data_status"
DEMO_STATUS: Final = "演示数据 demo data"
#: Tag key and value that mark a published raster (GeoTIFF metadata) as demo data; the demo generator
#: tags its input rasters with the same pair.
DEMO_TAG_KEY: Final = "SWC_DEMO"
DEMO_TAG: Final = "synthetic demo data, not real measurements"

#: (name pattern, unit, decimals), most specific first: ``t_allowable_t_km2`` is t/km², not km².
DECIMALS_BY_SUFFIX: Final[tuple[tuple[str, str, int], ...]] = (
    (r"_t_km2(_a)?$", "t/(km²·a)", 2),
    (r"_km2$", "km²", 6),
    (r"_pp_per_year$", "pp/yr", 6),
    (r"_pp$", "pp", 6),
    (r"_pct$", "%", 6),
)


def decimals_for(column: str) -> int | None:
    """Decimals of a float column named ``column`` by its unit suffix (see the module table); None if none."""
    for pattern, _unit, decimals in DECIMALS_BY_SUFFIX:
        if re.search(pattern, column):
            return decimals
    return None


def rounded(df: pd.DataFrame, decimals: Mapping[str, int] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with every float column rounded to its kind's decimals (``decimals`` overrides).

    Raises ``ValueError`` naming a float column whose precision is unknown.
    """
    decimals = dict(decimals or {})
    out = df.copy()
    unknown = []
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        n = decimals.get(col, decimals_for(str(col)))
        if n is None:
            values = out[col].to_numpy(dtype="float64")
            if np.all(np.isnan(values) | (values == np.round(values))):
                continue  # whole numbers with gaps (a year, a count, NaN for none): nothing to round
            unknown.append(str(col))
            continue
        # + 0.0 turns -0.0 (a tiny negative rounded away) into 0.0
        out[col] = np.round(out[col].to_numpy(dtype="float64"), n) + 0.0
    if unknown:
        raise ValueError(
            f"float column(s) {unknown} have no unit suffix (_km2, _pct, _pp, _pp_per_year, _t_km2), so their "
            "published precision is unknown: rename them with their unit, or pass decimals={column: n} to write_csv."
        )
    return out


def with_demo_marker(df: pd.DataFrame, demo: bool) -> pd.DataFrame:
    """``df`` with the ``data_status`` column set to the demo marker when ``demo`` (else unchanged)."""
    if not demo:
        return df
    out = df.copy()
    if DATA_STATUS_COLUMN in out.columns:
        out = out.drop(columns=DATA_STATUS_COLUMN)  # re-added last, with the marker on every row
    out[DATA_STATUS_COLUMN] = DEMO_STATUS
    return out


def write_csv(
    df: pd.DataFrame,
    path: str | os.PathLike,
    *,
    demo: bool,
    decimals: Mapping[str, int] | None = None,
) -> Path:
    """Write a published table: UTF-8 with BOM, numbers rounded by unit, demo column, atomic.

    Parameters
    ----------
    df : DataFrame
        The table; the index is not written.
    path : path
        Output CSV.
    demo : bool
        The run uses demo (synthetic) data: add ``data_status`` = ``演示数据 demo data``.
    decimals : mapping, optional
        Decimals of float columns without a unit suffix (or to override a suffix's).

    Returns
    -------
    Path
        ``path``.
    """
    table = with_demo_marker(rounded(df, decimals), demo)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding=CSV_ENCODING, lineterminator="\n")
    return Path(path)


def read_csv(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv` (or any UTF-8 CSV, BOM or not); ``county_code`` stays text."""
    dtype = kwargs.pop("dtype", None)
    if dtype is None or isinstance(dtype, Mapping):
        dtype = {"county_code": str, **dict(dtype or {})}
    return pd.read_csv(path, encoding=CSV_ENCODING, dtype=dtype, **kwargs)


def is_demo(df: pd.DataFrame) -> bool:
    """True when a table carries the demo marker on any row."""
    return DATA_STATUS_COLUMN in df.columns and bool((df[DATA_STATUS_COLUMN] == DEMO_STATUS).any())
