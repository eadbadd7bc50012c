"""Compiled per-cell loops of the zonal engine (numba).

Beyond decoding the rasters, the engine's work is per cell: grade the erosion
modulus with the county's T, pack land cover and grade into one key, count the
keys.  numpy needs several passes and temporaries for that; these loops make
one pass each, and the grading loop compiles to vector instructions.

- The grading repeats :func:`swc_raster.grading.grade_modulus` in float32: a
  float32 modulus compared with T rounded *up* to float32 gives the same answer
  as the float64 comparison (``t_float32``).  The tests compare the two on every
  threshold, on nodata and on non-finite values.
- Keys are ``code << 3 | grade``: ``code`` is the raw land-cover code (uint8
  rasters whose codes are < 32) or its legend index.
- Consecutive cells mostly have the same key (classes and grades come in
  patches); incrementing one counter again before the previous increment is
  stored stalls the loop, so four interleaved copies ("lanes") of the counts are
  kept and summed by the caller.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint8

from swc_raster.grading import GAP_GRADE, THRESHOLDS_T_KM2

#: Interleaved copies of the counts (see the module docstring).
LANES = 4
_T2, _T3, _T4, _T5 = (np.float32(v) for v in THRESHOLDS_T_KM2)
_GAP = uint8(GAP_GRADE)


def t_float32(t: float) -> np.float32:
    """The smallest float32 ≥ ``t``: for a float32 ``a``, ``a >= t`` ⇔ ``a >= t_float32(t)``."""
    t32 = np.float32(t)
    return np.nextafter(t32, np.float32(np.inf)) if float(t32) < t else t32


@njit(cache=True, nogil=True, inline="always")
def _grade(a, at_least_t, nodata):
    """SL 190 grade 1–6 of modulus ``a`` given ``at_least_t`` (a ≥ T, 0/1); 0 for nodata or non-finite ``a``.

    Comparisons summed, not branched: grades change from cell to cell, so branches would
    mispredict, and the sum lets the loops that call this vectorise.
    """
    ok = uint8((a != nodata) & (np.abs(a) < np.inf))
    return ok * (uint8(1) + uint8(at_least_t) + uint8(a >= _T2) + uint8(a >= _T3) + uint8(a >= _T4) + uint8(a >= _T5))


@njit(cache=True, nogil=True)
def grade_keys(codes, erosion, t, nodata, key):
    """``key = codes << 3 | grade`` of the modulus ``erosion`` with one T (all arrays flat, same length).

    Grades 1–6 by SL 190 (``t`` from :func:`t_float32`); 0 where ``erosion``
    equals ``nodata`` or is not finite.
    """
    for i in range(codes.size):
        a = erosion[i]
        key[i] = (codes[i] << 3) | _grade(a, a >= t, nodata)


@njit(cache=True, nogil=True)
def grade_keys_labelled(codes, erosion, labels, t_of_label, nodata, key):
    """As :func:`grade_keys`, with the T of each cell's label (``t_of_label[labels[i]]``).

    The T comparison is made against every label's T and the cell's own kept:
    a few vector compares are cheaper than one gather per cell.
    """
    n_labels = t_of_label.size
    for i in range(codes.size):
        a = erosion[i]
        lab = labels[i]
        ge_t = uint8(0)
        for j in range(1, n_labels):
            ge_t |= uint8(lab == j) & uint8(a >= t_of_label[j])
        key[i] = (codes[i] << 3) | _grade(a, ge_t, nodata)


@njit(cache=True, nogil=True)
def levels_at_least(erosion, t_sorted, nodata, level):
    """``level[i]`` = how many of the ascending thresholds ``t_sorted`` (float32, from :func:`t_float32`)
    the modulus reaches (``a >= t``); 0 where ``erosion`` equals ``nodata`` or is not finite.

    The T-sensitivity count: with every alternative T below 2 500, a cell is eroded at ``t_sorted[k]``
    exactly when its level exceeds ``k`` — the comparison :func:`grade_keys` makes with that T.
    """
    n_t = t_sorted.size
    for i in range(erosion.size):
        a = erosion[i]
        ok = uint8((a != nodata) & (np.abs(a) < np.inf))
        n = uint8(0)
        for k in range(n_t):
            n += uint8(a >= t_sorted[k])
        level[i] = ok * n


@njit(cache=True, nogil=True)
def mark_gap(key, gap):
    """Grade 7 (data gap) where ``gap``: the low three bits of the key set."""
    for i in range(key.size):
        if gap[i]:
            key[i] |= _GAP


@njit(cache=True, nogil=True)
def count_keys(key, counts):
    """``counts[lane, k] += 1`` for every key ``k`` (``counts``: LANES × number of keys)."""
    n = key.size
    m = n - n % LANES
    for i in range(0, m, LANES):
        counts[0, key[i]] += 1
        counts[1, key[i + 1]] += 1
        counts[2, key[i + 2]] += 1
        counts[3, key[i + 3]] += 1
    for i in range(m, n):
        counts[0, key[i]] += 1


@njit(cache=True, nogil=True)
def count_keys_labelled(labels, key, counts):
    """``counts[label, lane, k] += 1`` per cell (``counts``: labels × LANES × number of keys)."""
    n = key.size
    m = n - n % LANES
    for i in range(0, m, LANES):
        counts[labels[i], 0, key[i]] += 1
        counts[labels[i + 1], 1, key[i + 1]] += 1
        counts[labels[i + 2], 2, key[i + 2]] += 1
        counts[labels[i + 3], 3, key[i + 3]] += 1
    for i in range(m, n):
        counts[labels[i], 0, key[i]] += 1


@njit(cache=True, nogil=True)
def count_keys_rows(key, width, row_w, counts):
    """``counts[lane, k] += row_w[row]`` for every key ``k`` of a C-ordered tile ``width`` cells wide.

    ``row_w`` is the true area (or 1) of a cell of each row; ``counts`` float64 LANES × keys.
    Sums of ones are exact, so weights of 1 give the integer counts of :func:`count_keys`.
    """
    n_rows = key.size // width
    m = width - width % LANES
    for r in range(n_rows):
        wr = row_w[r]
        base = r * width
        for i in range(base, base + m, LANES):
            counts[0, key[i]] += wr
            counts[1, key[i + 1]] += wr
            counts[2, key[i + 2]] += wr
            counts[3, key[i + 3]] += wr
        for i in range(base + m, base + width):
            counts[0, key[i]] += wr


@njit(cache=True, nogil=True)
def count_keys_labelled_rows(labels, key, width, row_w, counts):
    """``counts[label, lane, k] += row_w[row]`` per cell (``counts`` float64: labels × LANES × keys)."""
    n_rows = key.size // width
    m = width - width % LANES
    for r in range(n_rows):
        wr = row_w[r]
        base = r * width
        for i in range(base, base + m, LANES):
            counts[labels[i], 0, key[i]] += wr
            counts[labels[i + 1], 1, key[i + 1]] += wr
            counts[labels[i + 2], 2, key[i + 2]] += wr
            counts[labels[i + 3], 3, key[i + 3]] += wr
        for i in range(base + m, base + width):
            counts[labels[i], 0, key[i]] += wr


def compile_now(wide_keys: bool = False) -> None:
    """Compile (or load from numba's cache, ≈ 0.1 s) the kernels for the key types the engine will use.

    uint8 keys always; uint16 keys too when ``wide_keys`` (legends of more than
    31 classes).  The engine calls this before forking its workers, so that they
    inherit the compiled code rather than each compiling it again.
    """
    nodata, t = np.float32(-9999.0), t_float32(200.0)
    erosion, labels = np.zeros(4, np.float32), np.ones(4, np.uint8)
    for key_dtype in (np.uint8, np.uint16) if wide_keys else (np.uint8,):
        key = np.zeros(4, key_dtype)
        codes = np.ones(4, key_dtype)
        grade_keys(codes, erosion, t, nodata, key)
        grade_keys_labelled(codes, erosion, labels, np.array([0, t], np.float32), nodata, key)
        mark_gap(key, np.zeros(4, np.bool_))
        count_keys(key, np.zeros((LANES, 16), np.int64))
        count_keys_labelled(labels, key, np.zeros((2, LANES, 16), np.int64))
        count_keys_rows(key, 2, np.ones(2), np.zeros((LANES, 16)))
        count_keys_labelled_rows(labels, key, 2, np.ones(2), np.zeros((2, LANES, 16)))
        edge = np.array([0.5]), np.array([0.0]), np.array([0.5]), np.array([2.0])
        cover, touched, cells = np.zeros((2, 2, 3)), np.zeros((2, 2), np.uint8), np.zeros(4, np.int64)
        n = accumulate_edges(*edge, np.array([1], np.int64), cover, touched, cells)
        for gap in (np.zeros(0, np.bool_), np.zeros(4, np.bool_)):
            for levels in (np.zeros(0, np.uint8), np.zeros(4, np.uint8)):
                correct_boundary_cells(
                    cover,
                    touched,
                    np.sort(cells[:n]),
                    labels,
                    codes,
                    erosion,
                    gap,
                    np.array([0, t], np.float32),
                    nodata,
                    np.zeros((2, 16)),
                    np.ones(2),
                    levels,
                    np.zeros((2, 2)),
                )
    levels_at_least(erosion, np.array([t], np.float32), nodata, np.zeros(4, np.uint8))


# --------------------------------------------------------------------------- fractional coverage of boundary cells
#
# The engine counts a mixed tile's cells by the pixel-centre rule first (fast), then corrects the
# cells that a county boundary crosses to their exact coverage.  The coverage of a cell by a
# polygon is the area of the cell to the right of the polygon's edges, signed by their direction
# (Green's theorem): each edge piece inside a cell adds its signed height, split between that cell
# and the next by where it crosses; a running sum along the row gives each cell's coverage
# (the "signed area accumulation" of font rasterizers).  Exact up to float rounding.


@njit(cache=True, nogil=True)
def _add_piece(acc, touched, cells, n_cells, lab, r, c, p, q, d, w):
    """Edge piece from x = p to x = q inside cell (r, c), signed height d; returns the new cell count."""
    if c >= w:  # on the tile's right side: covers nothing inside the tile
        return n_cells
    m = 0.5 * (p + q) - c  # where the piece crosses, 0..1 from the cell's left side
    acc[lab, r, c] += d * (1.0 - m)
    acc[lab, r, c + 1] += d * m
    if not touched[r, c]:
        touched[r, c] = 1
        cells[n_cells] = r * w + c
        n_cells += 1
    return n_cells


@njit(cache=True, nogil=True)
def accumulate_edges(u1, v1, u2, v2, labels, acc, touched, cells):
    """Add polygon edges to ``acc[label, row, col]`` (signed areas); list the cells they cross.

    Coordinates are the tile's pixel coordinates (column u, row v; all within
    ``[0, w] × [0, h]``, polygons clipped to the tile and oriented so that the
    interior is on the left going round the exterior in map coordinates).
    ``acc`` is (labels, h, w + 1) and ``touched`` (h, w), both zero on entry;
    the flat indices of the crossed cells go to ``cells`` (size ≥ h · w), and
    their number is returned.
    """
    h, w = touched.shape
    n_cells = 0
    for e in range(u1.size):
        xa, ya, xb, yb = u1[e], v1[e], u2[e], v2[e]
        if ya == yb:
            # no area (∫ x dy = 0), but inside a row it cuts the cells it crosses: list them, or they
            # would keep their pixel-centre count (on a row boundary it cuts none)
            r = int(np.floor(ya))
            if ya != r and 0 <= r < h:
                lo, hi = max(min(xa, xb), 0.0), min(max(xa, xb), float(w))
                c_hi = int(np.floor(hi))
                if hi == c_hi:
                    c_hi -= 1
                for c in range(int(np.floor(lo)), c_hi + 1):
                    n_cells = _add_piece(acc, touched, cells, n_cells, labels[e], r, c, lo, lo, 0.0, w)
            continue
        sign = 1.0
        if ya > yb:
            xa, ya, xb, yb = xb, yb, xa, ya
            sign = -1.0
        lab = labels[e]
        dxdy = (xb - xa) / (yb - ya)
        for r in range(max(int(np.floor(ya)), 0), min(int(np.ceil(yb)), h)):
            y0, y1 = max(ya, float(r)), min(yb, float(r + 1))
            if y1 <= y0:
                continue
            x0, x1 = xa + (y0 - ya) * dxdy, xa + (y1 - ya) * dxdy
            d = (y1 - y0) * sign
            # interpolation can stray by a rounding error outside [0, w]: a column −1 would wrap round
            lo, hi = max(min(x0, x1), 0.0), min(max(x0, x1), float(w))
            c_lo, c_hi = int(np.floor(lo)), int(np.floor(hi))
            if c_hi > c_lo and hi == c_hi:  # a piece ending on a cell's left side belongs to the cell before
                c_hi -= 1
            if c_lo == c_hi:
                n_cells = _add_piece(acc, touched, cells, n_cells, lab, r, c_lo, lo, hi, d, w)
                continue
            per_x = d / (hi - lo)
            for c in range(c_lo, c_hi + 1):
                p, q = max(lo, float(c)), min(hi, float(c + 1))
                n_cells = _add_piece(acc, touched, cells, n_cells, lab, r, c, p, q, per_x * (q - p), w)
    return n_cells


@njit(cache=True, nogil=True)
def _take_column(acc, run, r, c):
    for j in range(1, acc.shape[0]):
        run[j] += acc[j, r, c]
        acc[j, r, c] = 0.0


@njit(cache=True, nogil=True)
def correct_boundary_cells(
    acc,
    touched,
    cells,
    centre_labels,
    codes,
    erosion,
    gap,
    t_of_label,
    nodata,
    corrections,
    row_w,
    levels,
    level_corrections,
):
    """Turn the pixel-centre counts of the crossed cells into coverage-weighted ones.

    ``cells`` (sorted flat indices) are the cells listed by accumulate_edges.
    A cell's coverage of label j is the running sum of ``acc[j]`` along its row,
    which changes only at listed cells and the cell right of each; clipped to
    [0, 1], minus 1 if the cell's centre gave it label j, it is added to
    ``corrections[j, key]`` with the key the cell gets with label j's T.
    ``acc`` and ``touched`` are left zeroed for the next tile.  ``gap`` empty:
    no gap cells.  Each correction is weighted by its row's cell area ``row_w[row]``.
    ``levels`` (empty: none) are the cells' T-sensitivity levels (:func:`levels_at_least`, 0 on gap
    cells); the same coverage corrections go to ``level_corrections[j, level]``.
    """
    any_levels = levels.size != 0
    n_labels = acc.shape[0]
    w = touched.shape[1]
    any_gap = gap.size != 0
    run = np.zeros(n_labels)
    row, last = -1, -1  # current row, last listed column in it
    for i in cells:
        r, c = i // w, i % w
        if r != row:
            if row >= 0:
                _take_column(acc, run, row, last + 1)  # zero the last remainder of the previous row
            run[:] = 0.0
            row, last = r, -1
        elif last + 1 < c:
            _take_column(acc, run, r, last + 1)  # the remainder of the previous listed cell
        _take_column(acc, run, r, c)
        last = c
        touched[r, c] = 0
        a = erosion[i]
        centre = centre_labels[i]
        for j in range(1, n_labels):
            cover = min(max(run[j], 0.0), 1.0)
            delta = cover - (1.0 if centre == j else 0.0)
            if delta == 0.0:
                continue
            g = _GAP if any_gap and gap[i] else _grade(a, a >= t_of_label[j], nodata)
            corrections[j, (codes[i] << 3) | g] += delta * row_w[r]
            if any_levels:
                level_corrections[j, levels[i]] += delta * row_w[r]
    if row >= 0:
        _take_column(acc, run, row, last + 1)
