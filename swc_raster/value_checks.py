"""The value checks of a year's rasters, made in the counting pass on the values it reads.

The zonal engine (:mod:`swc_raster.zonal`) decodes every tile of the land-cover and erosion rasters
that meets a county; :class:`TileChecks` looks at those values as they are stored (before the
modulus is converted or nodata replaced, through the ``inspect`` hook of
:class:`swc_raster.sources.GridSource`), so the workflow decodes each raster once on the path to
its tables.  What is checked are the cells whose centre lies in a county (the pixel-centre rule of
the grade raster): values outside every county cannot change a result, and every such cell belongs
to exactly one county, hence to one batch, whatever the split.  So :class:`ValueFindings` of the
batches add up exactly (:meth:`ValueFindings.merge`) to what one job over the whole region finds.

Erosion modulus: cells checked, with data, NaN, infinite, negative (and their minimum), undeclared
fill-like values by value (only when the raster declares no nodata), and a sample for the unit
plausibility check (:func:`swc_raster.units.unit_doubt`): the :data:`SAMPLE_SIZE` cells (valid,
finite, ≥ 0) with the smallest hash of their global lattice index — the same cells whatever the
tiles, workers or batches.  Land cover: cells checked and the count of each code outside nodata.
The counts are of the analysis grid's cells (the source's pixels when the raster is on the grid).

:func:`judge` turns merged findings into the problems and warnings of the input checks, with the
messages of :mod:`swc_raster.validate.erosion` and :mod:`swc_raster.validate.landcover`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from numba import njit
from rasterio.windows import Window

from swc_raster.atomic import atomic_path

#: Cells kept for the unit plausibility check (as the stand-alone validation's sample).
SAMPLE_SIZE: Final = 250_000
#: Codes 0…MAX_CODE are counted in one array; others (negative, larger) one by one.
_HIST: Final = 65536
#: Slots for undeclared fill-like values: the usual ones, then large values (|v| ≥ 1e30) as met.
_FILL_SLOTS: Final = 16
_OFFSET: Final = 1 << 40  # global indices are made positive before hashing
# erosion statistics, by position in the kernels' ``stats`` array
_CHECKED, _VALID, _NAN, _INF, _NEG, _MIN_NEG, _N_FILLS, _OTHER_FILLS = range(8)


@njit(cache=True, nogil=True, inline="always")
def _mix(z):
    """splitmix64's finaliser: a well-spread 64-bit hash of ``z`` (uint64)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def _erosion_special(v, nodata, nodata_kind, fills, fill_counts, big_fill, stats):
    """A value outside the fast range of :func:`_erosion_tile`: nodata, NaN, fill-like, infinite or negative.

    Returns True when the value is a valid modulus (a negative one is counted here).
    """
    if nodata_kind == 1 and v == nodata:
        return False
    if v != v:
        if nodata_kind != 2:
            stats[_NAN] += 1
        return False
    if nodata_kind == 0:
        n_slots = int(stats[_N_FILLS])
        for k in range(n_slots):
            if fills[k] == v:
                fill_counts[k] += 1
                return False
        if big_fill and abs(v) >= 1e30 and abs(v) != np.inf:
            if n_slots < fills.size:
                fills[n_slots] = v
                fill_counts[n_slots] = 1
                stats[_N_FILLS] = n_slots + 1
            else:
                stats[_OTHER_FILLS] += 1
            return False
    if abs(v) == np.inf:
        stats[_INF] += 1
        return False
    if v < 0:
        stats[_NEG] += 1
        if v < stats[_MIN_NEG]:
            stats[_MIN_NEG] = v
    return True


@njit(cache=True, nogil=True)
def _erosion_tile(
    raw,
    width,
    labels,
    gap,
    row_area,
    fast_below,
    nodata,
    nodata_kind,
    fills,
    fill_counts,
    big_fill,
    g_row,
    g_col,
    tau,
    keys,
    values,
    areas,
    n_cand,
    stats,
):
    """One tile of erosion values as stored; returns the new number of sample candidates.

    ``labels`` (empty: every cell) and ``gap`` (empty: none) select the cells checked: centre in a
    county, inside the raster's footprint.  Values in ``0 ≤ v < fast_below`` (no nodata or fill-like
    value lies there) are valid without more tests; the others go to :func:`_erosion_special`
    (``nodata_kind`` 0: none declared, fill-like values are looked for; 1: a value; 2: NaN).
    Candidates for the sample (valid, finite, ≥ 0) whose hash is at most ``tau`` are appended to
    ``keys``/``values``/``areas`` from ``n_cand``.
    """
    n = raw.size
    height = n // width
    off = np.uint64(_OFFSET)
    salt = np.uint64(0x632BE59BD9B4E019)
    col_hash = np.empty(width, np.uint64)
    for j in range(width):
        col_hash[j] = _mix(np.uint64(g_col + j + _OFFSET) + salt)
    checked = 0
    valid = 0
    for i in range(height):
        row_hash = _mix(np.uint64(g_row + i + _OFFSET) + off)
        base = i * width
        every = labels.size == 0 and gap.size == 0
        for j in range(width):
            c = base + j
            if not every and ((labels.size and labels[c] == 0) or (gap.size and gap[c])):
                continue
            checked += 1
            v = np.float64(raw[c])
            if not (0.0 <= v < fast_below):
                if _erosion_special(v, nodata, nodata_kind, fills, fill_counts, big_fill, stats):
                    valid += 1
                    if v < 0:
                        continue
                else:
                    continue
            else:
                valid += 1
            h = row_hash ^ col_hash[j]
            if h <= tau:
                keys[n_cand] = h
                values[n_cand] = v
                areas[n_cand] = row_area[i]
                n_cand += 1
    stats[_CHECKED] += checked
    stats[_VALID] += valid
    return n_cand


@njit(cache=True, nogil=True)
def _landcover_tile(raw, labels, nodata, has_nodata, hist, stats):
    """One tile of land-cover codes as stored: ``hist[lane, code] += 1`` for codes outside nodata below
    ``hist.shape[1]`` (four lanes, so that runs of one code do not wait on one counter).

    ``stats``: cells checked, cells with data, cells with a code outside ``0…hist.shape[1] − 1``.
    """
    checked = 0
    valid = 0
    other = 0
    top = hist.shape[1]
    for c in range(raw.size):
        if labels.size and labels[c] == 0:
            continue
        checked += 1
        v = raw[c]
        if has_nodata and np.float64(v) == nodata:
            continue
        valid += 1
        if 0 <= v < top:
            hist[c & 3, int(v)] += 1
        else:
            other += 1
    stats[0] += checked
    stats[1] += valid
    stats[2] += other


def compile_now(landcover_dtype: Any, erosion_dtype: Any) -> None:
    """Compile (or load from numba's cache) the kernels for these raster types, before the engine forks its workers."""
    e, lab, gap = np.zeros(4, erosion_dtype), np.ones(4, np.uint8), np.zeros(4, np.bool_)
    for labels, g in ((lab[:0], gap[:0]), (lab, gap[:0]), (lab, gap), (lab[:0], gap)):
        _erosion_tile(
            e, 2, labels, g, np.ones(2), 1e30, 0.0, 0, np.zeros(_FILL_SLOTS), np.zeros(_FILL_SLOTS, np.int64), True,
            0, 0, np.uint64(0), np.zeros(4, np.uint64), np.zeros(4), np.zeros(4), 0, np.zeros(8),
        )  # fmt: skip
        _landcover_tile(
            np.zeros(4, landcover_dtype), labels, 0.0, True, np.zeros((4, 256), np.int64), np.zeros(3, np.int64)
        )


def bottom_k(keys: np.ndarray, values: np.ndarray, areas: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """The ``k`` entries with the smallest (key, value, area), in no particular order (linear time).

    The same entries whatever order they came in: ties of the ``k``-th key are broken by value, then area.
    """
    if keys.size <= k:
        return keys, values, areas
    kth = np.partition(keys, k - 1)[k - 1]
    below = np.flatnonzero(keys < kth)
    tie = np.flatnonzero(keys == kth)
    if tie.size > k - below.size:
        tie = tie[np.lexsort((areas[tie], values[tie]))[: k - below.size]]
    sel = np.concatenate([below, tie])
    return keys[sel], values[sel], areas[sel]


def in_order(keys: np.ndarray, values: np.ndarray, areas: np.ndarray) -> tuple[np.ndarray, ...]:
    """The entries sorted by (key, value, area): one order for one set of entries."""
    order = np.lexsort((areas, values, keys))
    return keys[order], values[order], areas[order]


@dataclass
class ValueFindings:
    """What the value checks found in the cells read (counts add up over tiles, workers and batches)."""

    erosion_checked: int = 0
    erosion_valid: int = 0
    erosion_nan: int = 0
    erosion_inf: int = 0
    erosion_negative: int = 0
    erosion_min_negative: float = 0.0
    fills: dict[float, int] = field(default_factory=dict)  # undeclared fill-like value → cells
    sample_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    sample_values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # as stored, valid, finite, ≥ 0
    sample_areas: np.ndarray = field(default_factory=lambda: np.zeros(0))  # each one's cell area, km²
    landcover_checked: int = 0
    codes: dict[int, int] = field(default_factory=dict)  # land-cover code (outside nodata) → cells
    erosion_nodata: float | None = None  # the rasters' declared nodata values (the same in every batch)
    landcover_nodata: float | None = None

    def merge(self, other: ValueFindings) -> ValueFindings:
        """The findings of both (disjoint) sets of cells, as a new object."""
        out = ValueFindings()
        out.update(self)
        out.update(other)
        return out

    def update(self, other: ValueFindings) -> None:
        """Add the findings of another (disjoint) set of cells to these."""
        self.erosion_checked += other.erosion_checked
        self.erosion_valid += other.erosion_valid
        self.erosion_nan += other.erosion_nan
        self.erosion_inf += other.erosion_inf
        self.erosion_negative += other.erosion_negative
        self.erosion_min_negative = min(self.erosion_min_negative, other.erosion_min_negative)
        for v, n in other.fills.items():
            self.fills[v] = self.fills.get(v, 0) + n
        for c, n in other.codes.items():
            self.codes[c] = self.codes.get(c, 0) + n
        self.landcover_checked += other.landcover_checked
        if self.erosion_nodata is None:
            self.erosion_nodata = other.erosion_nodata
        if self.landcover_nodata is None:
            self.landcover_nodata = other.landcover_nodata
        self.sample_keys, self.sample_values, self.sample_areas = bottom_k(
            np.concatenate([self.sample_keys, other.sample_keys]),
            np.concatenate([self.sample_values, other.sample_values]),
            np.concatenate([self.sample_areas, other.sample_areas]),
            SAMPLE_SIZE,
        )

    def sample(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The unit sample (hash keys, values as stored, cell areas in km²), sorted by key."""
        return in_order(self.sample_keys, self.sample_values, self.sample_areas)

    def counts(self) -> dict[str, Any]:
        """Everything but the sample, as plain JSON values."""
        return {
            "erosion": {
                "cells_checked": self.erosion_checked,
                "cells_with_data": self.erosion_valid,
                "nan": self.erosion_nan,
                "infinite": self.erosion_inf,
                "negative": self.erosion_negative,
                "min_negative": self.erosion_min_negative,
                "undeclared_fill_values": [[v, n] for v, n in sorted(self.fills.items())],
                "unit_sample_size": int(self.sample_keys.size),
            },
            "landcover": {
                "cells_checked": self.landcover_checked,
                "codes": [[c, n] for c, n in sorted(self.codes.items())],
            },
            "nodata": {"erosion": _json_number(self.erosion_nodata), "landcover": _json_number(self.landcover_nodata)},
        }

    def save(self, path: str | Path) -> None:
        """Write the findings (counts as JSON text, the sample as arrays) to one ``.npz`` file, atomically."""
        keys, values, areas = self.sample()
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                counts=np.array(json.dumps(self.counts())),
                sample_keys=keys,
                sample_values=values,
                sample_areas=areas,
            )

    @classmethod
    def load(cls, path: str | Path) -> ValueFindings:
        with np.load(path) as z:
            c = json.loads(str(z["counts"]))
            keys, values, areas = z["sample_keys"], z["sample_values"], z["sample_areas"]
        e, lc = c["erosion"], c["landcover"]
        return cls(
            e["cells_checked"],
            e["cells_with_data"],
            e["nan"],
            e["infinite"],
            e["negative"],
            e["min_negative"],
            {float(v): int(n) for v, n in e["undeclared_fill_values"]},
            keys,
            values,
            areas,
            lc["cells_checked"],
            {int(k): int(n) for k, n in lc["codes"]},
            _from_json_number(c["nodata"]["erosion"]),
            _from_json_number(c["nodata"]["landcover"]),
        )


def _json_number(v: float | None) -> float | str | None:
    return "nan" if v is not None and np.isnan(v) else v


def _from_json_number(v: float | str | None) -> float | None:
    return None if v is None else float(v)


def _fill_candidates(dtype: np.dtype) -> tuple[list[float], bool]:
    """The fill-like values a raster of ``dtype`` can hold (as ``validate.erosion.fill_like``), and whether
    large values (|v| ≥ 1e30) count too."""
    from swc_raster.validate.erosion import FILL_VALUES

    if dtype.kind == "f":
        return [float(v) for v in FILL_VALUES], True
    info = np.iinfo(dtype)
    out = [float(v) for v in FILL_VALUES if info.min <= v <= info.max]
    if dtype.itemsize >= 2:
        out += [float(info.max)] + ([float(info.min)] if info.min < 0 else [])
    return out, False


class TileChecks:
    """One worker's value checks: fed tile by tile by the engine, emptied by :meth:`take`.

    ``landcover`` and ``erosion`` are the engine's two :class:`~swc_raster.sources.GridSource`;
    :meth:`attach` sets their ``inspect`` hooks, :meth:`start_tile` says which cells of the next
    tile are checked (before the tile is read).
    """

    def __init__(
        self, landcover: Any, erosion: Any, global_offset: tuple[int, int], sample_size: int | None = None
    ) -> None:
        self.k = int(SAMPLE_SIZE if sample_size is None else sample_size)
        self.g_row, self.g_col = global_offset
        self.lc_nodata = landcover.src_nodata
        self.ero_nodata = erosion.src_nodata
        self.ero_dtype = np.dtype(erosion.src.dtypes[0])
        self.nodata_kind = 0 if self.ero_nodata is None else (2 if np.isnan(self.ero_nodata) else 1)
        cands, self.big_fill = _fill_candidates(self.ero_dtype)
        self.fills = np.zeros(_FILL_SLOTS)
        self.fills[: len(cands)] = cands
        self.n_base_fills = len(cands)
        # t/pixel: a sample value needs its source pixel's area; on the grid's lattice that is the cell's
        self.pixel_area = None
        if erosion.kind == "erosion" and getattr(erosion, "per_pixel", False) and erosion.mode != "direct":
            from swc_raster.cellarea import cell_areas_km2

            src = erosion.src
            self.pixel_area = float(
                np.asarray(cell_areas_km2(src, np.array([src.height // 2]), np.array([src.width // 2]))).ravel()[0]
            )
        self.capacity = 2 * self.k + 512 * 512
        self.keys = np.zeros(self.capacity, np.uint64)
        self.values = np.zeros(self.capacity)
        self.areas = np.zeros(self.capacity)
        self.lc_top = 256 if np.dtype(landcover.src.dtypes[0]) == np.uint8 else _HIST
        self.hist = np.zeros((4, self.lc_top), np.int64)
        special = [float(self.ero_nodata)] if self.nodata_kind == 1 else []
        special += [float(v) for v in self.fills[: self.n_base_fills]] if self.nodata_kind == 0 else []
        self.fast_below = min([1e30, *[v for v in special if v >= 0]])  # values in [0, this) need no test
        # Only cells whose hash is below tau can still be in the sample: k cells with smaller hashes have been
        # seen (in this call of take() or before it, so they are in findings already returned).
        self.tau = np.uint64(0xFFFFFFFFFFFFFFFF)
        self._reset()
        self._tile: tuple | None = None

    def attach(self, landcover: Any, erosion: Any) -> None:
        landcover.inspect = self.landcover
        erosion.inspect = self.erosion

    def _reset(self) -> None:
        self.stats = np.zeros(8)
        self.stats[_N_FILLS] = self.n_base_fills
        self.fill_counts = np.zeros(_FILL_SLOTS, np.int64)
        self.fills[self.n_base_fills :] = 0
        self.n_cand = 0
        self.hist[:] = 0
        self.lc_stats = np.zeros(3, np.int64)
        self.other_codes: dict[int, int] = {}

    def start_tile(
        self, tile: Window, labels: np.ndarray | None, gap: np.ndarray | None, row_area_km2: np.ndarray
    ) -> None:
        """The next tile: ``labels`` (pixel-centre county labels, 0 outside; None: all in one county),
        ``gap`` (cells outside the erosion raster's footprint, or None) and each row's cell area (km²)."""
        empty_u8, empty_b = np.zeros(0, np.uint8), np.zeros(0, np.bool_)
        lab = empty_u8 if labels is None else np.ascontiguousarray(labels).reshape(-1)
        g = empty_b if gap is None else np.ascontiguousarray(gap).reshape(-1)
        area = np.full(int(tile.height), self.pixel_area) if self.pixel_area is not None else row_area_km2
        self._tile = (tile, lab, g, np.ascontiguousarray(area, dtype="float64"))

    def landcover(self, raw: np.ndarray) -> None:
        """The tile's land-cover codes as stored (the ``inspect`` hook of the land-cover source)."""
        tile, lab, _, _ = self._tile
        flat = np.ascontiguousarray(raw).reshape(-1)
        has = self.lc_nodata is not None
        before = int(self.lc_stats[2])
        _landcover_tile(flat, lab, float(self.lc_nodata) if has else 0.0, has, self.hist, self.lc_stats)
        if self.lc_stats[2] > before:  # codes outside 0–65535 (rare): counted one by one
            sel = (flat < 0) | (flat >= self.lc_top)
            if lab.size:
                sel &= lab != 0
            if has:
                sel &= flat != self.lc_nodata
            u, n = np.unique(flat[sel], return_counts=True)
            for code, count in zip(u.tolist(), n.tolist()):
                self.other_codes[int(code)] = self.other_codes.get(int(code), 0) + int(count)

    def erosion(self, raw: np.ndarray) -> None:
        """The tile's erosion values as stored (the ``inspect`` hook of the erosion source)."""
        tile, lab, gap, area = self._tile
        self.n_cand = _erosion_tile(
            np.ascontiguousarray(raw).reshape(-1),
            int(tile.width),
            lab,
            gap,
            area,
            self.fast_below,
            0.0 if self.nodata_kind != 1 else float(self.ero_nodata),
            self.nodata_kind,
            self.fills,
            self.fill_counts,
            self.big_fill,
            self.g_row + int(tile.row_off),
            self.g_col + int(tile.col_off),
            self.tau,
            self.keys,
            self.values,
            self.areas,
            self.n_cand,
            self.stats,
        )
        if self.n_cand > 2 * self.k:
            self._prune()

    def _prune(self) -> None:
        keys, values, areas = bottom_k(
            self.keys[: self.n_cand], self.values[: self.n_cand], self.areas[: self.n_cand], self.k
        )
        self.n_cand = keys.size
        self.keys[: self.n_cand], self.values[: self.n_cand], self.areas[: self.n_cand] = keys, values, areas
        self.tau = min(self.tau, np.uint64(keys.max()))

    def take(self) -> ValueFindings:
        """The findings since the last call (then reset)."""
        s = self.stats
        n_slots = int(s[_N_FILLS])
        fills = {float(self.fills[i]): int(self.fill_counts[i]) for i in range(n_slots) if self.fill_counts[i]}
        if s[_OTHER_FILLS]:  # more distinct large values than slots: counted under the largest float
            fills[float(np.finfo(self.ero_dtype).max)] = fills.get(float(np.finfo(self.ero_dtype).max), 0) + int(
                s[_OTHER_FILLS]
            )
        by_code = self.hist.sum(axis=0)
        codes = {int(c): int(by_code[c]) for c in np.flatnonzero(by_code)}
        codes.update(self.other_codes)
        keys, values, areas = bottom_k(
            self.keys[: self.n_cand].copy(), self.values[: self.n_cand].copy(), self.areas[: self.n_cand].copy(), self.k
        )
        if keys.size == self.k:
            self.tau = min(self.tau, np.uint64(keys.max()))
        found = ValueFindings(
            int(s[_CHECKED]),
            int(s[_VALID]),
            int(s[_NAN]),
            int(s[_INF]),
            int(s[_NEG]),
            float(s[_MIN_NEG]),
            fills,
            keys,
            values,
            areas,
            int(self.lc_stats[0]),
            codes,
            None if self.ero_nodata is None else float(self.ero_nodata),
            None if self.lc_nodata is None else float(self.lc_nodata),
        )
        self._reset()
        return found


def judge(
    found: ValueFindings,
    *,
    year: Any,
    landcover: str,
    erosion: str,
    erosion_unit: str,
    legend_codes: list[int] | None,
    unit_check: str = "error",
) -> tuple[list, list[str]]:
    """The problems and warnings of merged findings, as the input checks word them.

    ``landcover``/``erosion`` are the rasters' paths as configured (the messages name them as
    ``years[<year>].landcover (<path>)``).
    """
    from swc_raster.validate.context import Context, Year
    from swc_raster.validate.erosion import ErosionScan, report_erosion_values
    from swc_raster.validate.landcover import report_codes

    ctx = Context({"validation": {"unit_check": unit_check}}, Path.cwd())
    y = Year(0, str(year), {"erosion": erosion, "landcover": landcover, "erosion_unit": erosion_unit})
    from swc_raster.units import normalise_unit

    unit = normalise_unit(erosion_unit, y.input("erosion_unit"))
    where = "with their centre in a county"
    report_codes(
        ctx,
        y.input("landcover", landcover),
        landcover,
        found.landcover_nodata,
        found.codes,
        found.landcover_checked,
        None if legend_codes is None else set(legend_codes),
        where,
    )
    scan = ErosionScan(
        found.erosion_valid,
        found.erosion_nan,
        found.erosion_inf,
        found.erosion_negative,
        found.erosion_min_negative,
        dict(found.fills),
    )
    report_erosion_values(
        ctx,
        y,
        y.input("erosion", erosion),
        erosion,
        found.erosion_nodata,
        scan,
        found.erosion_checked,
        where,
        unit,
        found.sample_values,
        found.sample_areas,
    )
    return ctx.problems, ctx.warnings
