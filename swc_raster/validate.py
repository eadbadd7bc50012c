"""Full input validation: find *every* problem with the inputs before computing.

Two stages (see ``docs/architecture.md``):

* :func:`check_header` — cheap checks that only open file headers and read small
  tables; run when the workflow is parsed.  Files that a workflow rule will
  create are listed in ``generated`` and skipped.
* :func:`check_data` — checks that read raster values (tile by tile, bounded
  memory) and boundary geometries, for one year.

:func:`validate` runs both and raises :class:`~swc_raster.errors.ValidationFailed`
listing all problems together (:class:`~swc_raster.errors.InputFilesFailed`, which is
also an ``OSError``, when every problem is a missing/unreadable file); otherwise it
returns the warnings (e.g. "invalid geometry, will be repaired").

Each problem says which input (config key and file), what is wrong and how to
fix it, in words a monitoring engineer can act on.

This module reads the plain config dict (as loaded from ``config.yaml``) and uses
only :mod:`swc_raster.errors`, :mod:`swc_raster.units` and, for years computed by the
CSLE branch (a ``csle:`` block instead of ``erosion:``), the unit and table helpers of
:mod:`swc_raster.csle_raster` from the package.  Settings read (all optional; defaults as in the schema):
``analysis.crs`` (the equal-area CRS used for areas), ``validation.min_coverage_pct``
(99), ``validation.unit_check`` (``error``) and ``validation.overlap_tolerance_pct`` (0.1).
"""

from __future__ import annotations

import csv
import math
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyogrio
import pyproj
import rasterio
import rasterio.warp
import shapely
from rasterio.enums import MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window

from swc_raster import units
from swc_raster.names import normalise_code, normalise_name
from swc_raster.cellarea import apply_affine, cell_areas_km2, pixel_area_km2
from swc_raster.errors import (
    FileProblem,
    InputError,
    InputFilesFailed,
    InputWarning,
    Problem,
    UnitError,
    ValidationFailed,
)

__all__ = [
    "DEFAULT_EQUAL_AREA_CRS",
    "DEFAULT_OVERLAP_TOLERANCE_PCT",
    "DEFAULT_MIN_COVERAGE_PCT",
    "check_data",
    "check_header",
    "pixel_area_km2",
    "validate",
]

#: Equal-area CRS used for areas when the config has no ``analysis.crs``.
DEFAULT_EQUAL_AREA_CRS: Final = (
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
)
DEFAULT_MIN_COVERAGE_PCT: Final = 99.0
#: Largest overlap between two counties, in % of the smaller county's area.
DEFAULT_OVERLAP_TOLERANCE_PCT: Final = 0.1
UNIT_CHECK_MODES: Final = ("error", "warn")

#: Tiles read at a time are at most about this many pixels (bounded memory).
_TILE_PIXELS: Final = 4 * 1024 * 1024
_TILE_SIDE: Final = 1024
#: At most about this many erosion values are kept for the unit plausibility median.
_MAX_SAMPLE: Final = 1_000_000
#: More distinct values than this in a land-cover raster: it is not a class raster.
_MAX_DISTINCT_CODES: Final = 1000
#: Values that are almost always fill values when they appear without a nodata tag.
_FILL_VALUES: Final = (-9999.0, -99999.0, -999999.0, -999.0, -32768.0, -32767.0)
_BIG_FILL: Final = 1e30  # |v| ≥ this: ±3.4e38 (float32 max) and friends
#: Points per footprint edge when projecting a raster's outline (densified).
_EDGE_POINTS: Final = 64

_GDALINFO_FIX: Final = (
    "check it with `gdalinfo -checksum {path}`; re-download or re-export the file "
    "(a truncated or corrupt GeoTIFF cannot be read)."
)


# --------------------------------------------------------------------------- public API


def check_header(
    cfg: Mapping[str, Any],
    base_dir: str | os.PathLike[str],
    generated: Iterable[str | os.PathLike[str]] | None = None,
) -> list[Problem]:
    """Cheap checks (file headers and small tables only) of every configured input.

    Checks that every configured file exists and opens (boundaries, targets,
    legend, each year's land cover and erosion); raster and vector CRS present;
    rasters georeferenced and single-band (else the problem says how to extract one);
    erosion unit declared and known; year labels unique and each year has both
    rasters; boundary county codes unique; the targets table's counties match the
    boundaries' (codes as strings, names compared after normalising whitespace)
    and it has the region row.  A year with a ``csle:`` block (the CSLE branch computes
    its erosion) instead gets its block checked: DEM on a projected metric grid, units of
    the DEM, R, K and cover declared and SI, constants plausible, one vegetation input,
    factor rasters open, the factor table readable with a row for every legend code.

    ``generated`` lists paths (as in the config, or absolute) that a workflow rule
    will create: their existence and header checks are skipped.
    Returns the problems found (empty list: all good).
    """
    ctx = _Ctx(cfg, base_dir, generated)
    _header(ctx, None)
    return _dedupe(ctx.problems)


def check_data(cfg: Mapping[str, Any], base_dir: str | os.PathLike[str], year: Any) -> list[Problem]:
    """Checks that read data, for one year (windowed reads, bounded memory).

    Boundaries: geometries valid (invalid ones are reported as repaired — an
    :class:`~swc_raster.errors.InputWarning`), no overlaps between counties beyond
    ``validation.overlap_tolerance_pct`` of the smaller county.  Each of the year's
    rasters: opens and every block over the region reads (corrupt / truncated
    files), right band count, covers each county (≥ ``validation.min_coverage_pct``
    of its area inside the raster footprint) and is not disjoint from the
    boundaries, not empty / all-nodata over the region.  Erosion: values finite
    and non-negative, nodata declared (undeclared fill values such as -9999 or
    3.4e38 are detected), unit plausible for the values (``validation.unit_check``
    ``error`` → problem, ``warn`` → warning).  Land cover: every code is in the legend.
    CSLE factor rasters: cover each county, have data, and values plausible for their
    declared unit (K not in US units, cover fraction vs percent, NDVI −1…1, DEM in metres).

    Warnings are issued with :func:`warnings.warn` (category ``InputWarning``);
    :func:`validate` returns them instead.
    """
    ctx = _Ctx(cfg, base_dir)
    counties = _boundaries_data(ctx)
    _year_data(ctx, year, counties)
    for w in _dedupe(ctx.warnings):
        warnings.warn(w, InputWarning, stacklevel=2)
    return _dedupe(ctx.problems)


def validate(
    cfg: Mapping[str, Any],
    base_dir: str | os.PathLike[str],
    years: Iterable[Any] | None = None,
) -> list[str]:
    """Run :func:`check_header` and :func:`check_data` (for ``years``, default all).

    Raises :class:`~swc_raster.errors.ValidationFailed` listing every problem
    (:class:`~swc_raster.errors.InputFilesFailed`, also an ``OSError``, when all
    of them are missing or unreadable files).  Returns the warnings (strings).
    Header checks of per-year files are limited to the selected years, so a
    year's inputs can be validated before other years' inputs exist.
    """
    ctx = _Ctx(cfg, base_dir)
    selected = None if years is None else [str(y) for y in years]
    _header(ctx, selected)
    header_problems = list(ctx.problems)
    file_inputs = {p.input for p in header_problems if isinstance(p, FileProblem)}

    dctx = _Ctx(cfg, base_dir)
    counties = _boundaries_data(dctx)
    if selected is None:
        selected = [y.label for y in _years(dctx, report=False)]
    for label in selected:
        _year_data(dctx, label, counties)
    data_problems = [p for p in dctx.problems if not (isinstance(p, FileProblem) and p.input in file_inputs)]

    problems = _dedupe(header_problems + data_problems)
    if problems:
        if all(isinstance(p, FileProblem) for p in problems):
            raise InputFilesFailed(problems)
        raise ValidationFailed(problems)
    return _dedupe(ctx.warnings + dctx.warnings)


# --------------------------------------------------------------------------- context


class _Ctx:
    """Config access and the problems/warnings found so far."""

    def __init__(
        self,
        cfg: Mapping[str, Any],
        base_dir: str | os.PathLike[str],
        generated: Iterable[str | os.PathLike[str]] | None = None,
    ) -> None:
        self.cfg: Mapping[str, Any] = cfg if isinstance(cfg, Mapping) else {}
        self.base = Path(base_dir)
        self.generated = {self.key(g) for g in (generated or ())}
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def path(self, p: str | os.PathLike[str]) -> Path:
        q = Path(p).expanduser()
        return q if q.is_absolute() else self.base / q

    def key(self, p: str | os.PathLike[str]) -> str:
        return os.path.normpath(os.path.abspath(self.path(p)))

    def is_generated(self, p: str | os.PathLike[str]) -> bool:
        return self.key(p) in self.generated

    def add(self, input: str, problem: str, fix: str, kind: type[Problem] = Problem) -> None:
        self.problems.append(kind(input, problem, fix))

    def section(self, name: str) -> Mapping[str, Any]:
        v = self.cfg.get(name)
        return v if isinstance(v, Mapping) else {}

    def equal_area_crs(self) -> pyproj.CRS:
        text = self.section("analysis").get("crs") or DEFAULT_EQUAL_AREA_CRS
        try:
            return pyproj.CRS.from_user_input(text)
        except pyproj.exceptions.CRSError:
            return pyproj.CRS.from_user_input(DEFAULT_EQUAL_AREA_CRS)

    def min_coverage(self) -> float:
        v = self.section("validation").get("min_coverage_pct", DEFAULT_MIN_COVERAGE_PCT)
        return float(v) if _is_number(v) else DEFAULT_MIN_COVERAGE_PCT

    def overlap_tolerance(self) -> float:
        v = self.section("validation").get("overlap_tolerance_pct", DEFAULT_OVERLAP_TOLERANCE_PCT)
        return float(v) if _is_number(v) else DEFAULT_OVERLAP_TOLERANCE_PCT

    def unit_check(self) -> str:
        v = str(self.section("validation").get("unit_check", "error")).strip().lower()
        return v if v in UNIT_CHECK_MODES else "error"


@dataclass(frozen=True)
class _Year:
    index: int
    label: str
    entry: Mapping[str, Any]

    def input(self, key: str, path: Any = None) -> str:
        return f"years[{self.label}].{key}" + (f" ({path})" if path not in (None, "") else "")


@dataclass
class _County:
    code: str
    name: str
    geom: Any  # repaired shapely geometry in the boundaries' CRS
    geom_ea: Any  # the same in the equal-area CRS (None without a CRS)


@dataclass
class _Counties:
    label: str
    crs: pyproj.CRS | None
    items: list[_County]


# --------------------------------------------------------------------------- small helpers


def _dedupe(items: Iterable[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for it in items:
        k = (type(it).__name__, it) if isinstance(it, Problem) else it
        if k not in seen:
            seen.add(k)
            out.append(it)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _fmt_list(items: Iterable[str], limit: int = 12) -> str:
    items = list(items)
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" … and {more} more" if more > 0 else "")


def _fmt_num(v: float) -> str:
    if v == 0 or (1e-3 <= abs(v) < 1e7):
        return f"{v:.6g}"
    return f"{v:.4g}"


def _crs_of(crs_like: Any) -> pyproj.CRS | None:
    if crs_like is None:
        return None
    try:
        wkt = crs_like.to_wkt() if hasattr(crs_like, "to_wkt") else crs_like
        return pyproj.CRS.from_user_input(wkt)
    except (pyproj.exceptions.CRSError, TypeError, ValueError):
        return None


def _check_file(ctx: _Ctx, label: str, rel: Any) -> Path | None:
    """Existence/size checks shared by every file input; ``None`` when unusable or generated."""
    path = ctx.path(str(rel))
    if ctx.is_generated(str(rel)):
        return None
    if not path.exists():
        ctx.add(
            label,
            f"file not found (looked for {os.path.abspath(path)}).",
            "check the path in the config (relative paths are relative to "
            f"{ctx.base}); create or copy the file there, or if a workflow rule produces it, run that rule first.",
            FileProblem,
        )
        return None
    if path.is_dir():
        if path.suffix.lower() in {".gdb", ".zarr"}:  # directory-based formats
            return path
        ctx.add(label, f"{path} is a directory, not a file.", "point the config at the file itself.", FileProblem)
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        ctx.add(
            label,
            f"the file cannot be read ({exc.strerror or exc}).",
            f"check the file's permissions (`ls -l {path}`) and that the disk is mounted.",
            FileProblem,
        )
        return None
    if size == 0:
        ctx.add(
            label,
            "the file is empty (0 bytes) — an interrupted download or copy?",
            "download or export the file again.",
            FileProblem,
        )
        return None
    return path


# --------------------------------------------------------------------------- years / units


def _years(ctx: _Ctx, report: bool) -> list[_Year]:
    years = ctx.cfg.get("years")
    if not isinstance(years, list) or not years:
        if report:
            ctx.add(
                "config: years",
                "no years are configured (`years:` is missing or empty).",
                "add a `years:` list with, for each year, `year`, `landcover`, `erosion` and `erosion_unit`.",
            )
        return []
    out = []
    for i, entry in enumerate(years):
        if not isinstance(entry, Mapping):
            if report:
                ctx.add(
                    f"config: years[#{i + 1}]",
                    f"entry #{i + 1} of `years:` is not a mapping ({entry!r}).",
                    "write each year as `- {year: 2023, landcover: …, erosion: …, erosion_unit: t/km2/a}`.",
                )
            continue
        y = entry.get("year")
        label = f"#{i + 1}" if y is None or str(y).strip() == "" else str(y).strip()
        if report and label.startswith("#"):
            ctx.add(
                f"config: years[{label}]",
                f"entry #{i + 1} of `years:` has no `year:` label.",
                "add `year: <label>` (e.g. `year: 2023`) to the entry.",
            )
        out.append(_Year(i, label, entry))
    return out


def _find_year(ctx: _Ctx, year: Any) -> _Year | None:
    label = str(year).strip()
    for y in _years(ctx, report=False):
        if y.label == label:
            return y
    known = [y.label for y in _years(ctx, report=False)]
    ctx.add(
        f"config: years[{label}]",
        f"year {label} is not in the config (configured: {_fmt_list(known) or 'none'}).",
        f"add a `years:` entry for {label} or validate one of the configured years.",
    )
    return None


def _erosion_unit(ctx: _Ctx, y: _Year) -> str | None:
    rel = y.entry.get("erosion")
    try:
        return units.normalise_unit(y.entry.get("erosion_unit"), y.input("erosion", rel))
    except UnitError as exc:
        for p in exc.problems:
            ctx.add(p.input, p.problem, p.fix)
        return None


# --------------------------------------------------------------------------- rasters


@dataclass
class _Raster:
    ds: Any  # open rasterio dataset
    band: int
    crs: pyproj.CRS | None
    georeferenced: bool
    usable: bool  # values can be checked (single band)


def _open_raster(ctx: _Ctx, y: _Year, key: str, what: str | None = None) -> _Raster | None:
    """Open one configured raster and run the header checks; caller closes ``.ds``.

    ``what`` names the band's content in messages (default: from ``key``).
    """
    rel = y.entry.get(key)
    if rel is None or str(rel).strip() == "":
        return None  # reported by the config checks
    label = y.input(key, rel)
    path = _check_file(ctx, label, rel)
    if path is None:
        return None
    fix_open = _GDALINFO_FIX.format(path=rel)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            ds = rasterio.open(path)
    except RasterioError as exc:
        ctx.add(label, f"cannot be opened as a raster: {_gdal_msg(exc)}.", fix_open, FileProblem)
        return None
    if ds.width <= 0 or ds.height <= 0 or ds.count <= 0:
        ctx.add(
            label,
            f"the raster is empty ({ds.width}×{ds.height} pixels, {ds.count} bands).",
            "export the raster again with data.",
            FileProblem,
        )
        ds.close()
        return None
    usable = True
    if ds.count != 1:
        usable = False
        what = what or ("land-cover codes" if key == "landcover" else "erosion modulus")
        ctx.add(
            label,
            f"the raster has {ds.count} bands; swc-raster reads a single band with the {what}.",
            f"extract the band that holds the {what} (see `gdalinfo {rel}`): "
            f"`gdal_translate -b <n> {rel} {Path(str(rel)).stem}_band<n>.tif`, and point `{key}:` at it.",
        )
    crs = _crs_of(ds.crs)
    if crs is None:
        ctx.add(
            label,
            "the raster has no CRS (coordinate reference system).",
            f"assign the CRS the data was produced in, e.g. `gdal_edit.py -a_srs EPSG:4547 {rel}` "
            "(CGCS2000 / 3-degree Gauss-Kruger CM 114E), or re-export the raster with a CRS.",
        )
    georef = not ds.transform.is_identity
    if not georef:
        if ds.gcps[0]:
            ctx.add(
                label,
                "the raster is georeferenced only by ground control points (no geotransform).",
                f"warp it to a regular grid first: `gdalwarp -t_srs EPSG:4547 {rel} {Path(str(rel)).stem}_warped.tif`.",
            )
        else:
            ctx.add(
                label,
                "the raster has no georeferencing (no geotransform: pixel positions are unknown).",
                f"re-export it with georeferencing, or set the corner coordinates: "
                f"`gdal_edit.py -a_ullr <ulx> <uly> <lrx> <lry> {rel}`.",
            )
    return _Raster(ds, 1, crs, georef, usable)


def _gdal_msg(exc: BaseException) -> str:
    """The most specific message of a (chained) GDAL / rasterio error."""
    msg = str(exc).strip()
    cause = exc.__cause__ or exc.__context__
    if cause is not None and ("previous exception" in msg or not msg):
        msg = _gdal_msg(cause)
    return msg.rstrip(".") or type(exc).__name__


def _footprint(r: _Raster, dst: pyproj.CRS) -> Any:
    """The raster's outline (densified edges) in ``dst``, as a valid shapely polygon (or None)."""
    ds = r.ds
    n = _EDGE_POINTS
    s = np.arange(n, dtype="float64") / n
    w, h = float(ds.width), float(ds.height)
    cols = np.concatenate([s * w, np.full(n, w), (1 - s) * w, np.zeros(n)])
    rows = np.concatenate([np.zeros(n), s * h, np.full(n, h), (1 - s) * h])
    xs, ys = apply_affine(ds.transform, cols, rows)
    tr = pyproj.Transformer.from_crs(r.crs, dst, always_xy=True)
    with np.errstate(all="ignore"):
        xx, yy = tr.transform(np.asarray(xs), np.asarray(ys), errcheck=False)
    xx, yy = np.asarray(xx), np.asarray(yy)
    ok = np.isfinite(xx) & np.isfinite(yy)
    if ok.sum() < 3:
        return None
    poly = shapely.Polygon(np.column_stack([xx[ok], yy[ok]]))
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
    return poly


def _region_window(r: _Raster, counties: _Counties | None) -> Window:
    """Pixel window of the raster over the counties' bounding box (whole raster if unknown)."""
    ds = r.ds
    full = Window(0, 0, ds.width, ds.height)
    if counties is None or counties.crs is None or r.crs is None or not r.georeferenced or not counties.items:
        return full
    bounds = shapely.GeometryCollection([c.geom for c in counties.items]).bounds
    try:
        left, bottom, right, top = rasterio.warp.transform_bounds(
            counties.crs.to_wkt(), r.crs.to_wkt(), *bounds, densify_pts=21
        )
    except Exception:  # noqa: BLE001 — unprojectable: check the whole raster
        return full
    if not all(math.isfinite(v) for v in (left, bottom, right, top)):
        return full
    inv = ~ds.transform
    cs, rs = [], []
    for x in (left, right):
        for yv in (bottom, top):
            c, rr = apply_affine(inv, x, yv)
            cs.append(c)
            rs.append(rr)
    c0, c1 = max(0, math.floor(min(cs))), min(ds.width, math.ceil(max(cs)))
    r0, r1 = max(0, math.floor(min(rs))), min(ds.height, math.ceil(max(rs)))
    if c1 <= c0 or r1 <= r0:
        return Window(0, 0, 0, 0)
    return Window(c0, r0, c1 - c0, r1 - r0)


def _tiles(ds: Any, band: int, win: Window) -> Iterator[Window]:
    bh, bw = ds.block_shapes[band - 1]
    th = max(1, _TILE_SIDE // max(bh, 1)) * bh
    tw = max(1, _TILE_SIDE // max(bw, 1)) * bw
    tw = min(tw, int(win.width))
    if th * tw > _TILE_PIXELS:
        th = max(bh, (_TILE_PIXELS // max(tw, 1)) // max(bh, 1) * bh)
    r_end = int(win.row_off + win.height)
    c_end = int(win.col_off + win.width)
    for r in range(int(win.row_off), r_end, th):
        for c in range(int(win.col_off), c_end, tw):
            yield Window(c, r, min(tw, c_end - c), min(th, r_end - r))


def _valid_mask(ds: Any, band: int, data: np.ndarray, window: Window) -> np.ndarray:
    flags = ds.mask_flag_enums[band - 1]
    if MaskFlags.all_valid in flags:
        return np.ones(data.shape, dtype=bool)
    if MaskFlags.nodata in flags:
        nd = ds.nodatavals[band - 1]
        if nd is None:
            return np.ones(data.shape, dtype=bool)
        if np.issubdtype(data.dtype, np.floating):
            if math.isnan(nd):
                return ~np.isnan(data)
            return data != np.asarray(nd).astype(data.dtype)
        info = np.iinfo(data.dtype)
        if not (info.min <= nd <= info.max) or nd != int(nd):
            return np.ones(data.shape, dtype=bool)
        return data != int(nd)
    return ds.read_masks(band, window=window) > 0


def _nodata_declared(ds: Any, band: int) -> bool:
    return MaskFlags.all_valid not in ds.mask_flag_enums[band - 1]


def _fill_like(v: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Values that look like an undeclared fill value (v: float64, finite or not)."""
    with np.errstate(invalid="ignore"):
        m = np.abs(v) >= _BIG_FILL
    m &= np.isfinite(v)
    m |= np.isin(v, _FILL_VALUES)
    if np.issubdtype(dtype, np.integer) and np.dtype(dtype).itemsize >= 2:
        info = np.iinfo(dtype)
        m |= v == float(info.max)
        if info.min < 0:
            m |= v == float(info.min)
    return m


def _read_failed(ctx: _Ctx, label: str, rel: Any, win: Window, exc: BaseException) -> None:
    ctx.add(
        label,
        f"reading the pixel block at row {int(win.row_off)}, column {int(win.col_off)} failed "
        f"({_gdal_msg(exc)}): the file is corrupt or truncated.",
        _GDALINFO_FIX.format(path=rel),
        FileProblem,
    )


def _scan_erosion(ctx: _Ctx, y: _Year, r: _Raster, win: Window, unit: str | None) -> None:
    ds, band = r.ds, r.band
    rel = y.entry.get("erosion")
    label = y.input("erosion", rel)
    declared = _nodata_declared(ds, band)
    total = int(win.width) * int(win.height)
    step = max(1, math.ceil(total / _MAX_SAMPLE))
    n_valid = n_nan = n_inf = n_neg = 0
    min_neg = 0.0
    fills: Counter[float] = Counter()
    samples: list[np.ndarray] = []
    can_convert = unit is not None and (unit != units.T_PIXEL or (r.crs is not None and r.georeferenced))
    for tile in _tiles(ds, band, win):
        try:
            data = ds.read(band, window=tile)
            valid = _valid_mask(ds, band, data, tile)
        except RasterioError as exc:
            _read_failed(ctx, label, rel, tile, exc)
            return
        v = data.astype("float64", copy=False)
        if not declared:
            fill = valid & _fill_like(v, data.dtype)
            if fill.any():
                vals, counts = np.unique(v[fill], return_counts=True)
                fills.update(dict(zip(vals.tolist(), counts.tolist())))
                valid &= ~fill
        nan = valid & np.isnan(v)
        inf = valid & np.isinf(v)
        n_nan += int(nan.sum())
        n_inf += int(inf.sum())
        good = valid & np.isfinite(v)
        n_valid += int(good.sum())
        neg = good & (v < 0)
        if neg.any():
            n_neg += int(neg.sum())
            min_neg = min(min_neg, float(v[neg].min()))
        if can_convert:
            rr, cc = np.nonzero(good & (v > 0))
            if rr.size:
                rr, cc = rr[::step], cc[::step]
                vals = v[rr, cc]
                area = None
                if unit == units.T_PIXEL:
                    area = cell_areas_km2(ds, rr + tile.row_off, cc + tile.col_off)
                samples.append(units.to_t_km2(vals, unit, area))

    nodata_fix = f"declare it as nodata: `gdal_edit.py -a_nodata {{v}} {rel}` (or re-export with a nodata value)."
    if fills:
        first = min(fills, key=lambda k: -fills[k])
        desc = ", ".join(f"{_fmt_num(k)} ({n} pixels)" for k, n in sorted(fills.items(), key=lambda kv: -kv[1])[:5])
        ctx.add(
            label,
            f"no nodata value is declared, but the raster contains fill-like values: {desc}; "
            "they would be read as real erosion moduli.",
            "if these are fill values, declare the fill value as nodata: "
            f"`gdal_edit.py -a_nodata {_fmt_num(first)} {rel}` (or re-export with a nodata value).",
        )
    if n_nan or n_inf:
        parts = [f"{n_nan} NaN" if n_nan else "", f"{n_inf} infinite" if n_inf else ""]
        nodata = ds.nodatavals[band - 1]
        ctx.add(
            label,
            f"{' and '.join(p for p in parts if p)} value{'s' if n_nan + n_inf != 1 else ''} "
            f"outside the declared nodata ({'none declared' if nodata is None else _fmt_num(nodata)}); "
            "erosion moduli must be finite numbers.",
            (f"if NaN marks missing data, declare it: `gdal_edit.py -a_nodata nan {rel}`; otherwise " if n_nan else "")
            + "recompute the raster (NaN and infinite values come from a division by zero, an overflow or missing inputs).",
        )
    if n_neg:
        ctx.add(
            label,
            f"{n_neg} pixel{'s' if n_neg != 1 else ''} with negative erosion modulus (minimum {_fmt_num(min_neg)}); "
            "a soil-loss rate cannot be negative.",
            f"recompute the raster (a negative factor?), or if {_fmt_num(min_neg)} marks missing data, "
            + nodata_fix.format(v=_fmt_num(min_neg)),
        )
    if n_valid == 0 and not n_nan and not n_inf and not fills:
        ctx.add(
            label,
            f"the raster has no data over the counties: all {total} pixels of the region's window are nodata.",
            "check that this is the right file (or year) and that its nodata value is not a real value; "
            "export it again with data for the region.",
        )
        return
    if samples and unit is not None:
        sample = np.concatenate(samples)
        msg = units.check_plausible(sample, unit, "the erosion raster")
        if msg:
            msg = msg.removeprefix("the erosion raster: ")
            fix = (
                f"check the raster's unit (its metadata or the producing software: InVEST SDR `usle.tif` is "
                f"t/pixel/yr up to 3.14, t/ha/yr from 3.15) and set `years[{y.label}].erosion_unit` to it; "
                "if the values really are this low/high, set `validation.unit_check: warn`."
            )
            if ctx.unit_check() == "warn":
                ctx.warnings.append(f"[{label}] {msg} (validation.unit_check: warn) Check: {fix}")
            else:
                ctx.add(label, msg, fix)


def _scan_landcover(ctx: _Ctx, y: _Year, r: _Raster, win: Window, legend: set[int] | None) -> None:
    ds, band = r.ds, r.band
    rel = y.entry.get("landcover")
    label = y.input("landcover", rel)
    total = int(win.width) * int(win.height)
    counts: Counter[float] = Counter()
    too_many = False
    n_valid = 0
    for tile in _tiles(ds, band, win):
        try:
            data = ds.read(band, window=tile)
            valid = _valid_mask(ds, band, data, tile)
        except RasterioError as exc:
            _read_failed(ctx, label, rel, tile, exc)
            return
        vals = data[valid]
        n_valid += int(vals.size)
        if too_many or vals.size == 0:
            continue
        u, n = np.unique(vals, return_counts=True)
        counts.update(dict(zip(u.astype("float64").tolist(), n.tolist())))
        if len(counts) > _MAX_DISTINCT_CODES:
            too_many = True
    if n_valid == 0:
        ctx.add(
            label,
            f"the raster has no data over the counties: all {total} pixels of the region's window are nodata.",
            "check that this is the right file (or year) and that its nodata value is not a land-cover code; "
            "export it again with data for the region.",
        )
        return
    if too_many:
        ctx.add(
            label,
            f"more than {_MAX_DISTINCT_CODES} distinct values: this does not look like a land-cover class raster "
            "(were `landcover` and `erosion` swapped?).",
            "point `landcover:` at the classified land-cover raster (integer codes from the legend).",
        )
        return
    if legend is None:
        return
    # Code 0 is the tables' "未分类 / unclassified" class, accepted without a legend row.
    known = set(legend) | {0}
    bad = sorted((k for k in counts if not (math.isfinite(k) and k.is_integer() and int(k) in known)), key=_sort_key)
    if bad:
        desc = ", ".join(f"{_fmt_num(k)} ({counts[k]} pixels)" for k in bad[:10])
        if len(bad) > 10:
            desc += f" … and {len(bad) - 10} more"
        legend_rel = ctx.cfg.get("landcover_legend")
        fills = [k for k in bad if k in _FILL_VALUES or k in (255.0, 65535.0, 32767.0) or abs(k) >= _BIG_FILL]
        hint = (
            f"; if {_fmt_num(fills[0])} is a fill value, declare it nodata: `gdal_edit.py -a_nodata {_fmt_num(fills[0])} {rel}`"
            if fills and ds.nodatavals[band - 1] is None
            else ""
        )
        ctx.add(
            label,
            f"land-cover code{'s' if len(bad) != 1 else ''} not in the legend: {desc}.",
            f"add {'them' if len(bad) != 1 else 'it'} to the legend ({legend_rel}: code,name_zh,name_en), "
            f"or reclassify the raster to the legend's codes{hint}.",
        )


def _sort_key(v: float) -> tuple[int, float]:
    return (1, 0.0) if math.isnan(v) else (0, v)


def _check_coverage(
    ctx: _Ctx, y: _Year, key: str, r: _Raster, counties: _Counties, consequence: str | None = None
) -> bool:
    """Coverage of each county by the raster footprint; ``False`` when disjoint.

    ``consequence`` says what happens to the uncovered land (default: from ``key``).
    """
    if r.crs is None or counties.crs is None or not r.georeferenced or not counties.items:
        return True
    rel = y.entry.get(key)
    label = y.input(key, rel)
    ea = ctx.equal_area_crs()
    try:
        fp = _footprint(r, ea)
    except pyproj.exceptions.ProjError:
        fp = None
    shares = []
    for c in counties.items:
        if c.geom_ea is None or c.geom_ea.is_empty or c.geom_ea.area <= 0:
            continue
        inter = 0.0 if fp is None else shapely.intersection(c.geom_ea, fp).area
        shares.append((c, 100.0 * inter / c.geom_ea.area))
    if not shares:
        return True
    if all(s <= 0 for _, s in shares):
        rb = _lonlat_bounds(r.crs, r.ds.bounds)
        cb = _lonlat_bounds(counties.crs, shapely.GeometryCollection([c.geom for c in counties.items]).bounds)
        ctx.add(
            label,
            f"the raster does not overlap the county boundaries at all (raster lon/lat bounds {rb}, "
            f"boundaries {cb}).",
            "use the raster of this region; if it is the right file, its CRS is probably wrong "
            f"(check with `gdalinfo {rel}` and fix with `gdal_edit.py -a_srs EPSG:<code> {rel}`), "
            "or x and y are swapped.",
        )
        return False
    need = ctx.min_coverage()
    low = [(c, s) for c, s in shares if s < need]
    if low:
        desc = ", ".join(f"{c.name} ({c.code}) {s:.1f} %" for c, s in low)
        gap = "data gap" if key == "erosion" else "unclassified (未分类)"
        consequence = consequence or f"the rest would be reported as {gap}"
        ctx.add(
            label,
            f"the raster does not cover enough of {'these counties' if len(low) > 1 else 'this county'}: {desc} "
            f"of the county area is inside the raster (minimum {need:g} %, validation.min_coverage_pct); "
            f"{consequence}.",
            "use a raster covering the whole region (mosaic adjacent tiles, e.g. `gdalbuildvrt mosaic.vrt a.tif b.tif`), "
            "or lower `validation.min_coverage_pct` if the gap is intended.",
        )
    return True


def _lonlat_bounds(crs: pyproj.CRS, bounds: Iterable[float]) -> str:
    try:
        b = rasterio.warp.transform_bounds(crs.to_wkt(), "EPSG:4326", *bounds, densify_pts=21)
        return "(" + ", ".join(f"{v:.3f}" for v in b) + ")"
    except Exception:  # noqa: BLE001
        return "(" + ", ".join(f"{v:.6g}" for v in bounds) + ") in the raster's CRS"


# --------------------------------------------------------------------------- tables


def _read_csv(ctx: _Ctx, label: str, rel: Any, required: tuple[str, ...]) -> list[dict[str, str]] | None:
    path = _check_file(ctx, label, rel)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = [f.strip() for f in (reader.fieldnames or [])]
            rows = [
                {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()}
                for row in reader
            ]
    except UnicodeDecodeError:
        ctx.add(
            label,
            "the file is not UTF-8 text (Excel often saves CSV as GBK).",
            f'save it as "CSV UTF-8" in Excel, or convert it: `iconv -f GBK -t UTF-8 {rel} > fixed.csv`.',
        )
        return None
    except (OSError, csv.Error) as exc:
        ctx.add(
            label,
            f"the file cannot be read as CSV ({exc}).",
            "export it again as comma-separated UTF-8 text.",
            FileProblem,
        )
        return None
    missing = [c for c in required if c not in fields]
    if missing:
        ctx.add(
            label,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (found: {', '.join(fields) or 'none'}).",
            f"the first line must be the header `{','.join(required)}`"
            + (",target_<year>…" if "county_code" in required else "")
            + " (comma-separated).",
        )
        return None
    return rows


def _read_legend(ctx: _Ctx) -> set[int] | None:
    rel = ctx.cfg.get("landcover_legend")
    if not rel:
        ctx.add(
            "config: landcover_legend",
            "no land-cover legend is configured.",
            "add `landcover_legend: config/landcover_legend.csv` (columns code,name_zh,name_en).",
        )
        return None
    label = f"landcover_legend ({rel})"
    rows = _read_csv(ctx, label, rel, ("code", "name_zh", "name_en"))
    if rows is None:
        return None
    codes: list[int] = []
    bad = []
    for i, row in enumerate(rows, start=2):
        s = row.get("code", "")
        try:
            f = float(s)
            if not f.is_integer():
                raise ValueError
            codes.append(int(f))
        except ValueError:
            bad.append(f"line {i}: {s!r}")
    if bad:
        ctx.add(
            label,
            f"land-cover codes must be integers: {_fmt_list(bad)}.",
            "write each code as a whole number (e.g. `3`).",
        )
    if not rows:
        ctx.add(label, "the legend has no rows.", "list every land-cover code of the rasters: code,name_zh,name_en.")
    dup = sorted(k for k, n in Counter(codes).items() if n > 1)
    if dup:
        ctx.add(
            label,
            f"duplicate land-cover code{'s' if len(dup) > 1 else ''} {_fmt_list(map(str, dup))}.",
            "keep one row per code.",
        )
    return set(codes)


def _read_targets(ctx: _Ctx) -> tuple[str, list[dict[str, str]]] | None:
    rel = ctx.cfg.get("targets")
    if not rel:
        ctx.add(
            "config: targets",
            "no targets table is configured.",
            "add `targets: config/targets.csv` (columns county_code,county_name,target_<year>…).",
        )
        return None
    label = f"targets ({rel})"
    rows = _read_csv(ctx, label, rel, ("county_code", "county_name"))
    return None if rows is None else (label, rows)


# --------------------------------------------------------------------------- boundaries


def _boundary_settings(ctx: _Ctx) -> tuple[str, Any, str, str, str] | None:
    b = ctx.section("boundaries")
    rel = b.get("path")
    if not rel:
        ctx.add(
            "config: boundaries.path",
            "no boundary file is configured.",
            "add `boundaries: {path: boundaries/<file>.gpkg, layer: <layer>, code_field: county_code, name_field: county_name}`.",
        )
        return None
    label = f"boundaries ({rel})"
    return (
        label,
        rel,
        b.get("layer"),
        str(b.get("code_field") or "county_code"),
        str(b.get("name_field") or "county_name"),
    )


def _open_boundaries(ctx: _Ctx) -> tuple[str, Any, Path, Any, dict[str, Any], str, str] | None:
    """Exists, layer, fields, CRS (header-level checks shared by both stages)."""
    s = _boundary_settings(ctx)
    if s is None:
        return None
    label, rel, layer, code_f, name_f = s
    path = _check_file(ctx, label, rel)
    if path is None:
        return None
    try:
        layers = [str(x[0]) for x in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 — pyogrio raises several DataSource errors
        ctx.add(
            label,
            f"cannot be opened as a vector file: {_gdal_msg(exc)}.",
            f"check it with `ogrinfo {rel}`; export the boundaries again (GeoPackage recommended).",
            FileProblem,
        )
        return None
    if layer is not None and str(layer) not in layers:
        ctx.add(
            label,
            f"layer {layer!r} not found (layers in the file: {_fmt_list(layers) or 'none'}).",
            "set `boundaries.layer:` to one of the file's layers.",
        )
        return None
    if layer is None and len(layers) > 1:
        ctx.add(
            label,
            f"the file has {len(layers)} layers ({_fmt_list(layers)}) and `boundaries.layer` is not set.",
            "set `boundaries.layer:` to the layer with the county polygons.",
        )
        return None
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:  # noqa: BLE001
        ctx.add(
            label, f"cannot read layer {layer!r}: {_gdal_msg(exc)}.", f"check it with `ogrinfo {rel}`.", FileProblem
        )
        return None
    fields = [str(f) for f in info.get("fields", [])]
    ok = True
    for key, f in (("code_field", code_f), ("name_field", name_f)):
        if f not in fields:
            ok = False
            ctx.add(
                label,
                f"the field {f!r} (boundaries.{key}) is not in the layer (fields: {_fmt_list(fields) or 'none'}).",
                f"set `boundaries.{key}:` to the field holding the county {'GB/T 2260 code' if key == 'code_field' else 'name'}.",
            )
    if not info.get("crs"):
        ctx.add(
            label,
            "the boundary layer has no CRS (coordinate reference system).",
            f"assign the CRS the boundaries were drawn in, e.g. `ogr2ogr -a_srs EPSG:4490 fixed.gpkg {rel}` "
            "(CGCS2000 lon/lat), or re-export them with a CRS.",
        )
    if info.get("features", 0) == 0:
        ctx.add(label, "the boundary layer has no features.", "export the county polygons again.")
        ok = False
    return (label, rel, path, layer, info, code_f, name_f) if ok else None


def _boundary_codes(ctx: _Ctx) -> tuple[str, list[tuple[str, str]]] | None:
    opened = _open_boundaries(ctx)
    if opened is None:
        return None
    label, rel, path, layer, info, code_f, name_f = opened
    try:
        df = pyogrio.read_dataframe(path, layer=layer, columns=[code_f, name_f], read_geometry=False)
    except Exception as exc:  # noqa: BLE001
        ctx.add(
            label, f"cannot read the attribute table: {_gdal_msg(exc)}.", f"check it with `ogrinfo {rel}`.", FileProblem
        )
        return None
    items = [(normalise_code(c), "" if n is None else str(n)) for c, n in zip(df[code_f].tolist(), df[name_f].tolist())]
    _check_codes(ctx, label, code_f, items)
    return label, items


def _check_codes(ctx: _Ctx, label: str, code_f: str, items: list[tuple[str, str]]) -> None:
    empty = [n or "?" for c, n in items if c == ""]
    if empty:
        ctx.add(
            label,
            f"{len(empty)} feature{'s have' if len(empty) > 1 else ' has'} no county code ({_fmt_list(empty)}).",
            f"fill `{code_f}` with the GB/T 2260 code of every county.",
        )
    dup = sorted(c for c, n in Counter(c for c, _ in items if c).items() if n > 1)
    if dup:
        names = {c: sorted({n for cc, n in items if cc == c}) for c in dup}
        ctx.add(
            label,
            "duplicate county codes: " + "; ".join(f"{c} ({', '.join(names[c])})" for c in dup) + ".",
            f"give every county its own GB/T 2260 code in `{code_f}`, or dissolve multi-part counties into one "
            f'feature (`ogr2ogr -dialect sqlite -sql "SELECT ST_Union(geom), {code_f} … GROUP BY {code_f}"`).',
        )


def _boundaries_data(ctx: _Ctx) -> _Counties | None:
    """Read the geometries, check validity and overlaps; the counties for coverage checks."""
    opened = _open_boundaries(ctx)
    if opened is None:
        return None
    label, rel, path, layer, info, code_f, name_f = opened
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, columns=[code_f, name_f])
    except Exception as exc:  # noqa: BLE001
        ctx.add(label, f"cannot read the features: {_gdal_msg(exc)}.", f"check it with `ogrinfo {rel}`.", FileProblem)
        return None
    crs = _crs_of(gdf.crs)
    ea = ctx.equal_area_crs()
    to_ea = None if crs is None else pyproj.Transformer.from_crs(crs, ea, always_xy=True)
    items: list[_County] = []
    for code, name, geom in zip(gdf[code_f].tolist(), gdf[name_f].tolist(), gdf.geometry.values):
        code_s, name_s = normalise_code(code), "" if name is None else str(name)
        who = f"county {name_s} ({code_s or 'no code'})"
        if geom is None or geom.is_empty:
            ctx.add(label, f"{who} has no geometry.", "draw or re-export the county's polygon.")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            ctx.add(label, f"{who} is a {geom.geom_type}, not a polygon.", "use a polygon layer of county boundaries.")
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            fixed = _polygonal(shapely.make_valid(geom))
            area = ""
            if to_ea is not None:
                area = f"{_project(fixed, to_ea).area / 1e6:.3f}"
            ctx.warnings.append(
                f"[{label}] {who} has an invalid geometry ({reason}); it was repaired with make_valid"
                + (f" (repaired area {area} km²; check it)" if area else "")
                + f". To fix the source: `ogr2ogr -makevalid fixed.gpkg {rel}` or QGIS ▸ Fix geometries."
            )
            geom = fixed
            if geom.is_empty:
                ctx.add(label, f"{who}: the repaired geometry is empty.", "redraw the county's polygon.")
                continue
        geom_ea = None
        if to_ea is not None:
            geom_ea = _project(geom, to_ea)
            if not geom_ea.is_valid:
                geom_ea = _polygonal(shapely.make_valid(geom_ea))
        items.append(_County(code_s, name_s, geom, geom_ea))
    _check_overlaps(ctx, label, items, use_ea=crs is not None)
    return _Counties(label, crs, items)


def _project(geom: Any, tr: pyproj.Transformer) -> Any:
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _polygonal(g: Any) -> Any:
    """Keep only the polygon parts of a (repaired) geometry."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _check_overlaps(ctx: _Ctx, label: str, items: list[_County], use_ea: bool) -> None:
    if len(items) < 2:
        return
    geoms = np.array([(c.geom_ea if use_ea else c.geom) for c in items], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    areas = shapely.area(geoms)
    tol = ctx.overlap_tolerance()
    bad = []
    for i, j, a in zip(left.tolist(), right.tolist(), inter.tolist()):
        smaller = min(areas[i], areas[j])
        if smaller > 0 and 100.0 * a / smaller > tol:
            ci, cj = items[i], items[j]
            size = f"{a / 1e6:.3f} km², " if use_ea else ""
            bad.append(
                f"{ci.name} ({ci.code}) and {cj.name} ({cj.code}) by {size}{100.0 * a / smaller:.2f} % of the smaller"
            )
    if bad:
        ctx.add(
            label,
            f"counties overlap (more than {tol:g} % of the smaller county's area): {'; '.join(bad)}; "
            "the overlap would be counted twice in the region total.",
            "clean the boundary layer so that counties only touch (e.g. QGIS ▸ Topology Checker, or "
            "`v.clean`/snapping), or raise `validation.overlap_tolerance_pct` if the overlap is known and harmless.",
        )


# --------------------------------------------------------------------------- stages


def _header(ctx: _Ctx, selected: list[str] | None) -> None:
    region = ctx.section("region")
    region_code = normalise_code(region.get("code"))
    if not region_code:
        ctx.add(
            "config: region.code",
            "the region's code is not set.",
            'add `region: {code: "140500", name: 晋城市}` (the GB/T 2260 code of the whole region, quoted).',
        )
    _validation_settings(ctx)

    boundary = _boundary_codes(ctx)
    _read_legend(ctx)
    targets = _read_targets(ctx)
    if targets is not None:
        _check_targets(ctx, targets[0], targets[1], boundary, region_code)

    years = _years(ctx, report=True)
    counts = Counter(y.label for y in years if not y.label.startswith("#"))
    dup = sorted(k for k, n in counts.items() if n > 1)
    for k in dup:
        ctx.add(
            f"config: years[{k}]",
            f"year {k} is configured {counts[k]} times; year labels must be unique (results go to results/{k}/).",
            "keep one entry per year; for a second version of a year use a distinct label (e.g. `2023b`).",
        )
    if selected is not None:
        known = {y.label for y in years}
        for s in selected:
            if s not in known:
                _find_year(ctx, s)
    for y in years:
        if selected is not None and y.label not in selected:
            continue
        _year_header(ctx, y)


def _validation_settings(ctx: _Ctx) -> None:
    v = ctx.section("validation")
    if "min_coverage_pct" in v and not (_is_number(v["min_coverage_pct"]) and 0 <= v["min_coverage_pct"] <= 100):
        ctx.add(
            "config: validation.min_coverage_pct",
            f"`min_coverage_pct: {v['min_coverage_pct']!r}` is not a percentage.",
            "set it to a number between 0 and 100 (default 99).",
        )
    if "overlap_tolerance_pct" in v and not (
        _is_number(v["overlap_tolerance_pct"]) and v["overlap_tolerance_pct"] >= 0
    ):
        ctx.add(
            "config: validation.overlap_tolerance_pct",
            f"`overlap_tolerance_pct: {v['overlap_tolerance_pct']!r}` is not a non-negative percentage.",
            "set it to a small number such as 0.1 (the default).",
        )
    if "unit_check" in v and str(v["unit_check"]).strip().lower() not in UNIT_CHECK_MODES:
        ctx.add(
            "config: validation.unit_check",
            f"`unit_check: {v['unit_check']!r}` is not one of {', '.join(UNIT_CHECK_MODES)}.",
            "use `error` (stop on an implausible unit, the default) or `warn`.",
        )
    a = ctx.section("analysis").get("crs")
    if a:
        try:
            pyproj.CRS.from_user_input(a)
        except pyproj.exceptions.CRSError as exc:
            ctx.add(
                "config: analysis.crs",
                f"the analysis CRS cannot be parsed ({exc}).",
                "use an EPSG code or a PROJ string.",
            )


def _check_targets(
    ctx: _Ctx,
    label: str,
    rows: list[dict[str, str]],
    boundary: tuple[str, list[tuple[str, str]]] | None,
    region_code: str,
) -> None:
    tcodes = [(normalise_code(r.get("county_code")), r.get("county_name", "")) for r in rows]
    dup = sorted(c for c, n in Counter(c for c, _ in tcodes if c).items() if n > 1)
    if dup:
        ctx.add(label, f"duplicate county codes: {_fmt_list(dup)}.", "keep one row per county.")
    if any(c == "" for c, _ in tcodes):
        ctx.add(label, "a row has an empty county_code.", "fill in the GB/T 2260 code of every row.")
    if region_code and region_code not in {c for c, _ in tcodes}:
        ctx.add(
            label,
            f"no row for the region ({region_code}, region.code in the config).",
            f"add a row `{region_code},{ctx.section('region').get('name') or '全市'},<target>,…` with the region's targets.",
        )
    target_cols = [k for k in (rows[0].keys() if rows else []) if re.fullmatch(r"target_\d{4}", k)]
    bad = []
    for i, r in enumerate(rows, start=2):
        for k in target_cols:
            s = r.get(k, "")
            if s == "":
                continue
            try:
                v = float(s)
                if not (0.0 <= v <= 100.0):
                    raise ValueError
            except ValueError:
                bad.append(f"line {i} {k}={s!r}")
    if bad:
        ctx.add(
            label,
            f"targets must be percentages between 0 and 100: {_fmt_list(bad)}.",
            "write targets as numbers like 67.61 (no % sign).",
        )
    if boundary is None:
        return
    _, bitems = boundary
    bnames = {c: n for c, n in bitems if c}
    tnames = {c: n for c, n in tcodes if c and c != region_code}
    missing = [c for c in tnames if c not in bnames]
    if missing:
        ctx.add(
            label,
            "target counties not in the boundaries: " + _fmt_list(f"{tnames[c]} ({c})" for c in missing) + ".",
            "correct the county_code in the targets table (GB/T 2260, as in the boundaries' code field), "
            "or add the county to the boundaries.",
        )
    extra = [c for c in bnames if c not in tnames]
    if extra:
        ctx.add(
            label,
            "boundary counties missing from the targets table: " + _fmt_list(f"{bnames[c]} ({c})" for c in extra) + ".",
            "add a row for each of them (targets may be left empty), or remove them from the boundaries.",
        )
    differ = [
        f"{c}: {tnames[c]!r} vs {bnames[c]!r}"
        for c in tnames
        if c in bnames and normalise_name(tnames[c]) != normalise_name(bnames[c]) and tnames[c] and bnames[c]
    ]
    if differ:
        ctx.add(
            label,
            "county names differ between the targets table and the boundaries for the same code: "
            + _fmt_list(differ)
            + " — is a code attached to the wrong county?",
            "check the codes; if they are right, use the boundaries' names in the targets table.",
        )


def _year_header(ctx: _Ctx, y: _Year) -> None:
    if _is_csle(y):
        _csle_header(ctx, y)
        return
    for key, what in (("landcover", "land-cover raster"), ("erosion", "erosion-modulus raster")):
        v = y.entry.get(key)
        if v is None or str(v).strip() == "":
            ctx.add(
                y.input(key),
                f"year {y.label} has no {what} (`{key}:` is missing).",
                f"add `{key}: <path to the {what}>` to the year's entry"
                + (" (with `erosion_unit:`), or a `csle:` block to compute it (config/README.md)" if key == "erosion" else "")
                + ", or remove the year.",
            )
    lc, er = y.entry.get("landcover"), y.entry.get("erosion")
    if lc and er and ctx.key(str(lc)) == ctx.key(str(er)):
        ctx.add(
            y.input("erosion", er),
            "the same file is configured as land cover and as erosion.",
            "point `landcover:` and `erosion:` at their own rasters.",
        )
    _erosion_unit(ctx, y)
    for key in ("landcover", "erosion"):
        r = _open_raster(ctx, y, key)
        if r is not None:
            r.ds.close()


def _year_data(ctx: _Ctx, year: Any, counties: _Counties | None) -> None:
    y = _find_year(ctx, year)
    if y is None:
        return
    legend = _read_legend(ctx)
    csle_year = _is_csle(y)
    unit = None if csle_year else _erosion_unit(ctx, y)
    for key in ("landcover",) if csle_year else ("landcover", "erosion"):
        r = _open_raster(ctx, y, key)
        if r is None:
            continue
        try:
            if counties is not None and not _check_coverage(ctx, y, key, r, counties):
                continue  # disjoint: value checks over nothing would only add noise
            if not r.usable:
                continue
            win = _region_window(r, counties)
            if win.width <= 0 or win.height <= 0:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                if key == "erosion":
                    _scan_erosion(ctx, y, r, win, unit)
                else:
                    _scan_landcover(ctx, y, r, win, legend)
        finally:
            r.ds.close()
    if csle_year:
        _csle_data(ctx, y, counties)


# --------------------------------------------------------------------------- CSLE years (issue 7)
#
# A year with a `csle:` block instead of `erosion:` gets its erosion modulus from
# swc_raster.csle_raster.  Header checks: the block's keys, declared units (SI only),
# the DEM on a metric projected grid, the factor table (every legend code present).
# Data checks: each factor raster covers the counties and has plausible values for
# its declared unit (K in US units, FVC in percent declared as fraction, scaled NDVI,
# DEM heights not in metres).

#: Raster keys of a `csle:` block and what their band holds.
_CSLE_WHAT: Final = {
    "dem": "elevations (DEM)",
    "r": "rainfall erosivity R",
    "k": "soil erodibility K",
    "fvc": "fractional vegetation cover",
    "ndvi": "NDVI",
    "e": "engineering factor E",
}
_CSLE_DEFAULT_TABLE: Final = "config/csle_factors.csv"


def _is_csle(y: _Year) -> bool:
    return y.entry.get("csle") is not None


def _csle_view(y: _Year) -> _Year:
    """The year with the `csle:` keys flattened (``csle.dem`` …), so that labels read ``years[Y].csle.dem (path)``."""
    c = y.entry.get("csle")
    c = c if isinstance(c, Mapping) else {}
    return _Year(y.index, y.label, {f"csle.{k}": v for k, v in c.items()})


def _csle_raster_keys(c: Mapping[str, Any]) -> list[str]:
    """Keys of the block holding raster paths (R and K may be constants)."""
    out = []
    for key in _CSLE_WHAT:
        v = c.get(key)
        if v is None or (isinstance(v, str) and v.strip() == "") or _is_number(v) or isinstance(v, bool):
            continue
        out.append(key)
    return out


def _unit_problem(ctx: _Ctx, label: str, msg: str, fix: str) -> None:
    """A value/unit mismatch: a problem, or a warning with `validation.unit_check: warn`."""
    if ctx.unit_check() == "warn":
        ctx.warnings.append(f"[{label}] {msg} (validation.unit_check: warn) Check: {fix}")
    else:
        ctx.add(label, msg, fix)


def _csle_header(ctx: _Ctx, y: _Year) -> None:
    from swc_raster import csle_raster as cr

    c = y.entry.get("csle")
    if not isinstance(c, Mapping):
        ctx.add(
            y.input("csle"),
            f"`csle:` must be a mapping of the CSLE inputs, got {c!r}.",
            "write it as `csle: {dem: …, r: …, r_unit: …, k: …, k_unit: …, fvc: …}` (config/README.md).",
        )
        return
    # Exactly one of `erosion` and `csle`.  The workflow itself fills in the branch's
    # output as the year's erosion (swc_raster.config.resolve_csle_erosion): that is not a conflict.
    from swc_raster.config import CSLE_EROSION, CSLE_EROSION_UNIT

    er, eu = y.entry.get("erosion"), y.entry.get("erosion_unit")
    if (er not in (None, "") and str(er) != CSLE_EROSION.format(year=y.label)) or (
        eu not in (None, "") and str(eu) != CSLE_EROSION_UNIT and er in (None, "")
    ):
        ctx.add(
            y.input("csle"),
            f"year {y.label} has both a finished erosion raster (`erosion:`/`erosion_unit:`) and a `csle:` block.",
            "keep exactly one: `erosion:` with `erosion_unit:` to use a finished raster, or `csle:` to compute it.",
        )
    v = y.entry.get("landcover")
    if v is None or str(v).strip() == "":
        ctx.add(
            y.input("landcover"),
            f"year {y.label} has no land-cover raster (`landcover:` is missing); the CSLE branch needs it for B, E and T.",
            "add `landcover: <path to the land-cover raster>` to the year's entry.",
        )
    else:
        r = _open_raster(ctx, y, "landcover")
        if r is not None:
            r.ds.close()
    cv = _csle_view(y)

    # Units (declared, known, SI).
    units_ok: dict[str, str | None] = {}
    for key, fn, default in (
        ("dem_unit", cr.normalise_dem_unit, cr.DEM_UNIT),
        ("r_unit", cr.normalise_r_unit, None),
        ("k_unit", cr.normalise_k_unit, None),
        ("fvc_unit", cr.normalise_fvc_unit, "fraction"),
    ):
        try:
            units_ok[key] = fn(c.get(key, default), y.input(f"csle.{key}", c.get(key)))
        except UnitError as exc:
            units_ok[key] = None
            for p in exc.problems:
                ctx.add(p.input, p.problem, p.fix)

    # Required inputs and constants.
    if c.get("dem") in (None, ""):
        ctx.add(y.input("csle.dem"), "the CSLE block has no DEM (`dem:` is missing).",
                "add `dem: <path to a DEM in metres on a projected metric grid>`.")
    for key, unit_key, name, check in (
        ("r", "r_unit", "R", cr.r_values_problem),
        ("k", "k_unit", "K", cr.k_values_problem),
    ):
        v = c.get(key)
        label = y.input(f"csle.{key}", v)
        if v is None or (isinstance(v, str) and v.strip() == "") or isinstance(v, bool):
            ctx.add(label, f"the CSLE block has no {name} (`{key}:` is missing).",
                    f"set `{key}:` to a raster path or a constant in SI units.")
        elif _is_number(v):
            if v < 0:
                ctx.add(label, f"{name} = {v} is negative; a CSLE factor cannot be negative.", f"give {name} ≥ 0.")
            elif units_ok[unit_key] is not None:
                msg = check(float(v), f"{name} = {v}")
                if msg:
                    _unit_problem(ctx, label, msg, f"give {name} in {units_ok[unit_key]} (SI) or correct `{unit_key}`.")
    has_fvc = c.get("fvc") not in (None, "")
    has_ndvi = c.get("ndvi") not in (None, "")
    if has_fvc == has_ndvi:
        ctx.add(
            y.input("csle"),
            "give exactly one vegetation input: `fvc:` (fractional vegetation cover) or `ndvi:` "
            + ("(both are set)." if has_fvc else "(neither is set)."),
            "set `fvc:` to a cover raster, or `ndvi:` with the pixel-dichotomy values `ndvi_soil:` and `ndvi_veg:`.",
        )
    if has_ndvi:
        lo, hi = c.get("ndvi_soil", 0.05), c.get("ndvi_veg", 0.85)
        if not (_is_number(lo) and _is_number(hi) and -1.0 <= lo < hi <= 1.0):
            ctx.add(
                y.input("csle.ndvi_soil"),
                f"ndvi_soil = {lo!r} and ndvi_veg = {hi!r} must be NDVI values with −1 ≤ ndvi_soil < ndvi_veg ≤ 1.",
                "use the NDVI of bare soil and of full cover, e.g. the 5 % and 95 % quantiles (0.05 and 0.85).",
            )
    cap = c.get("lambda_cap_m", 300)
    if not (_is_number(cap) and cap > 0):
        ctx.add(y.input("csle.lambda_cap_m"), f"`lambda_cap_m: {cap!r}` is not a positive length in metres.",
                "use e.g. 300 (the default).")
    for key, allowed in (("s_method", ("csle", "rusle")), ("b_method", ("jiang1996", "cai2000"))):
        if key in c and c[key] not in allowed:
            ctx.add(y.input(f"csle.{key}"), f"`{key}: {c[key]!r}` is not one of {', '.join(allowed)}.",
                    f"use one of {', '.join(allowed)}.")

    # Raster headers; the DEM must be on a metric projected grid.
    for key in _csle_raster_keys(c):
        r = _open_raster(ctx, cv, f"csle.{key}", what=_CSLE_WHAT[key])
        if r is None:
            continue
        try:
            if key == "dem" and _georeferenced(r):
                bad = cr.dem_crs_problem(r.ds.crs, c.get("dem"), f"years[{y.label}].csle.dem")
                if bad:
                    ctx.add(cv.input("csle.dem", c.get("dem")), *bad)
                elif r.ds.transform.b != 0 or r.ds.transform.d != 0:
                    ctx.add(cv.input("csle.dem", c.get("dem")), "the DEM grid is rotated; slopes need a north-up grid.",
                            f"warp it to a north-up grid: `gdalwarp {c.get('dem')} dem_northup.tif`.")
        finally:
            r.ds.close()

    # The factor table: readable, every legend code present.
    rel = c.get("factor_table", _CSLE_DEFAULT_TABLE)
    label = y.input("csle.factor_table", rel)
    path = _check_file(ctx, label, rel)
    if path is None:
        return
    try:
        table = cr.read_factor_table(path, label)
    except InputError as exc:
        for p in exc.problems:
            ctx.add(label, p.problem, p.fix, FileProblem if isinstance(exc, OSError) else Problem)
        return
    legend = _read_legend(ctx)
    if legend:
        missing = sorted(legend - table.codes)
        if missing:
            ctx.add(
                label,
                f"land-use code{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} of the legend "
                f"({ctx.cfg.get('landcover_legend')}) {'are' if len(missing) > 1 else 'is'} missing from the "
                "CSLE factor table, so B, E and T are unknown there.",
                "add a row `code,kind,E,T` for each (kind: " + ", ".join(cr.KINDS) + "; E = T = 1 without measures).",
            )


def _georeferenced(r: _Raster) -> bool:
    return r.crs is not None and r.georeferenced


def _scan_values(ctx: _Ctx, label: str, rel: Any, r: _Raster, win: Window) -> dict[str, Any] | None:
    """Valid-value count, min, max and a subsample (≤ ~1 M values) over ``win``; ``None`` on a read error."""
    ds, band = r.ds, r.band
    total = int(win.width) * int(win.height)
    step = max(1, math.ceil(total / _MAX_SAMPLE))
    n_valid = n_bad = 0
    vmin, vmax = math.inf, -math.inf
    samples: list[np.ndarray] = []
    for tile in _tiles(ds, band, win):
        try:
            data = ds.read(band, window=tile)
            valid = _valid_mask(ds, band, data, tile)
        except RasterioError as exc:
            _read_failed(ctx, label, rel, tile, exc)
            return None
        v = data.astype("float64", copy=False)[valid]
        good = np.isfinite(v)
        n_bad += int((~good).sum())
        v = v[good]
        if v.size == 0:
            continue
        n_valid += int(v.size)
        vmin, vmax = min(vmin, float(v.min())), max(vmax, float(v.max()))
        samples.append(v[::step])
    sample = np.concatenate(samples) if samples else np.empty(0)
    return {"n": n_valid, "n_bad": n_bad, "min": vmin, "max": vmax, "sample": sample, "total": total}


def _csle_data(ctx: _Ctx, y: _Year, counties: _Counties | None) -> None:
    c = y.entry.get("csle")
    if not isinstance(c, Mapping):
        return
    cv = _csle_view(y)
    for key in _csle_raster_keys(c):
        rel = c.get(key)
        label = cv.input(f"csle.{key}", rel)
        r = _open_raster(ctx, cv, f"csle.{key}", what=_CSLE_WHAT[key])
        if r is None:
            continue
        try:
            consequence = "A cannot be computed where a factor is missing (that land would be a data gap)"
            # E of mapped measures may cover part of the region: the factor table applies elsewhere
            if key != "e" and counties is not None and not _check_coverage(
                ctx, cv, f"csle.{key}", r, counties, consequence
            ):
                continue
            if not r.usable:
                continue
            win = _region_window(r, counties)
            if win.width <= 0 or win.height <= 0:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                stats = _scan_values(ctx, label, rel, r, win)
            if stats is not None:
                _csle_values(ctx, key, label, rel, c, stats)
        finally:
            r.ds.close()


def _csle_values(ctx: _Ctx, key: str, label: str, rel: Any, c: Mapping[str, Any], st: Mapping[str, Any]) -> None:
    from swc_raster import csle_raster as cr

    what = _CSLE_WHAT[key]
    if st["n"] == 0:
        ctx.add(
            label,
            f"the raster has no {what} over the counties: all {st['total']} pixels of the region's window are nodata"
            + (" or not finite." if st["n_bad"] else "."),
            "check that this is the right file and that its nodata value is not a real value.",
        )
        return
    if st["n_bad"]:
        ctx.add(
            label,
            f"{st['n_bad']} NaN or infinite value{'s' if st['n_bad'] != 1 else ''} outside the declared nodata.",
            f"declare NaN as nodata (`gdal_edit.py -a_nodata nan {rel}`) or recompute the raster.",
        )
    vmin, vmax = st["min"], st["max"]
    median = float(np.median(st["sample"])) if st["sample"].size else float("nan")
    if key == "dem":
        lo, hi = cr.DEM_PLAUSIBLE_M
        if vmin < lo or vmax > hi:
            ctx.add(
                label,
                f"DEM heights range {_fmt_num(vmin)} … {_fmt_num(vmax)}, outside {lo:g} … {hi:g} m: not metres "
                "(decimetres? centimetres?) or an undeclared fill value.",
                f"give heights in metres (`dem_unit: m`) and declare the fill value as nodata "
                f"(`gdal_edit.py -a_nodata <value> {rel}`).",
            )
        return
    if vmin < 0 and key in ("r", "k", "fvc", "e"):
        ctx.add(
            label,
            f"negative values (minimum {_fmt_num(vmin)}); {what} cannot be negative.",
            f"recompute the raster, or if {_fmt_num(vmin)} marks missing data declare it: "
            f"`gdal_edit.py -a_nodata {_fmt_num(vmin)} {rel}`.",
        )
        return
    if key in ("r", "k"):
        unit_key = f"{key}_unit"
        try:
            unit = (cr.normalise_r_unit if key == "r" else cr.normalise_k_unit)(c.get(unit_key))
        except UnitError:
            return  # reported by the header checks
        msg = (cr.r_values_problem if key == "r" else cr.k_values_problem)(median, "the raster")
        if msg:
            conv = (f"if it is in US customary units, convert it (K_SI = {cr.K_US_TO_SI} × K_US)" if key == "k"
                    else f"if it is in US customary units, convert it (R_SI = {cr.R_US_TO_SI} × R_US)")
            _unit_problem(ctx, label, msg.removeprefix("the raster: "),
                          f"{conv}; `{unit_key}` must describe the values ({unit}); if they really are this "
                          "low/high, set `validation.unit_check: warn`.")
    elif key == "fvc":
        try:
            unit = cr.normalise_fvc_unit(c.get("fvc_unit", "fraction"))
        except UnitError:
            return
        if unit == "fraction" and vmax > 1.0 + 1e-3:
            _unit_problem(ctx, label,
                          f"vegetation cover is declared as a fraction (0–1) but reaches {_fmt_num(vmax)} "
                          f"(median {_fmt_num(median)}): it looks like percent.",
                          "set `fvc_unit: percent` (or divide the raster by 100).")
        elif unit == "percent" and vmax <= 1.0:
            _unit_problem(ctx, label,
                          f"vegetation cover is declared in percent (0–100) but never exceeds {_fmt_num(vmax)}: "
                          "it looks like a fraction (0–1).",
                          "set `fvc_unit: fraction`.")
        elif vmax > 100.0 + 1e-3:
            ctx.add(label, f"vegetation cover reaches {_fmt_num(vmax)} %, above 100 %.",
                    "check the raster (a scaled integer product? an undeclared fill value?).")
    elif key == "e" and vmax > 1.0 + 1e-6:
        ctx.add(label, f"E reaches {_fmt_num(vmax)}; the engineering factor lies in 0–1 (1 = no measures).",
                f"recompute the raster, or declare its fill value as nodata (`gdal_edit.py -a_nodata <value> {rel}`).")
    elif key == "ndvi":
        if vmin < -1.0 - 1e-3 or vmax > 1.0 + 1e-3:
            _unit_problem(ctx, label,
                          f"NDVI ranges {_fmt_num(vmin)} … {_fmt_num(vmax)}, outside −1 … 1: a scaled product "
                          "(MODIS NDVI is stored ×10 000) or an undeclared fill value?",
                          f"rescale it (`gdal_calc.py -A {rel} --calc=\"A*0.0001\" --outfile=ndvi.tif`) and declare "
                          "the fill value as nodata.")
