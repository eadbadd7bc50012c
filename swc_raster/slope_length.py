"""Slope length λ and the CSLE L·S of every DEM cell, by the cumulative-slope-length method.

The method of China's soil-erosion census (CSLE, Liu Baoyuan et al. 2002; the LS-TOOL of
Zhang Hongming et al. 2013, after Hickey 2000 and Van Remortel et al. 2001/2004), step by step:

1. **Slope θ** of every valid cell by Horn's (1981) weights from the *available* neighbours
   (:func:`slope_degrees`): next to nodata and at the DEM's edge each row/column difference
   becomes one-sided, so every valid cell gets a slope and a plane has one slope everywhere.
2. **Flow directions** (:func:`flow_directions`): D8 steepest descent on the depression-filled
   DEM (priority flood, Barnes et al. 2014); a neighbour outside the DEM (edge or nodata) lies
   on the cell's tangent plane, so flow leaves the DEM where the terrain falls towards it.  Cells of
   flats drain towards lower terrain and away from higher terrain (Garbrecht & Martz 1997, as
   improved by Barnes et al. 2014), with Euclidean (1, √2) distances so that no direction is
   preferred.
3. **Cumulative slope length** (:func:`slope_lengths`): the flow length through a cell is the
   cell size along the axes and the cell diagonal on diagonal steps.  λ_in of a cell is the
   longest λ_out of the cells draining into it (0 at a divide), λ_out = λ_in + its flow length,
   both capped.  The **cutoff rule** (:class:`CutoffRule`) ends a slope where the slope angle
   drops so sharply that deposition begins, and where flow enters a channel.
4. **L per segment** (Foster & Wischmeier 1974, as in the census and LS-TOOL):
   L = (λ_out^(m+1) − λ_in^(m+1)) / ((λ_out − λ_in) · 22.13^m), m by slope class.
5. **Tiles** (:func:`ls_factor_from_dem`): directions are routed once over the whole DEM
   (≈ 5 bytes a cell); λ, L and S are computed tile by tile with a halo of ⌈cap/cell⌉ + 3 cells,
   which makes them identical to a whole-DEM run (a capped λ depends only on cells less than
   one cap upstream).

Direction codes (``uint8``): 0 E, 1 SE, 2 S, 3 SW, 4 W, 5 NW, 6 N, 7 NE (pyflwdir's D8 code is
``1 << code``), :data:`OUTLET` (a flat with no lower neighbour drains out of the DEM at its edge), :data:`PIT`
(no way down: only without depression filling), :data:`NODATA`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from heapq import heappop as heapq_pop
from heapq import heappush as heapq_push
from typing import Final, Literal

import numba
import numpy as np
from affine import Affine

__all__ = [
    "CutoffRule",
    "CENSUS_CUTOFF",
    "NO_CUTOFF",
    "slope_degrees",
    "fill_depressions",
    "flow_directions",
    "slope_lengths",
    "segment_L",
    "ls_factor_from_dem",
    "channel_cells",
    "LsResult",
    "OUTLET",
    "PIT",
    "NODATA",
    "UNIT_PLOT_LENGTH_M",
]

UNIT_PLOT_LENGTH_M: Final = 22.13
OUTLET: Final = 8
PIT: Final = 9
NODATA: Final = 255
_FLAT: Final = 10  # temporary code while flats are resolved

#: Row and column offsets of the eight directions (E, SE, S, SW, W, NW, N, NE).
_DR: Final = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
_DC: Final = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)


@dataclass(frozen=True)
class CutoffRule:
    """Where a slope length ends besides the cap (the cell downslope starts a new slope).

    A slope ends between a cell and the cell it drains to when

    - the slope angle drops below ``ratio_gentle`` × the cell's angle (cell angle below
      ``gentle_below_deg``) or ``ratio_steep`` × the cell's angle (steeper cells): deposition
      begins there (Hickey 2000; Van Remortel et al. 2001, 2004; LS-TOOL, Zhang et al. 2013);
    - the cell downslope belongs to a channel: its upstream area is at least
      ``channel_area_m2`` (``None``: channels are not mapped).

    ``ratio_* = 0`` switches the slope-decrease cutoff off (no angle is below 0).
    """

    ratio_gentle: float = 0.7
    ratio_steep: float = 0.5
    gentle_below_deg: float = math.degrees(math.atan(0.05))  # a 5 % slope
    channel_area_m2: float | None = None

    def __post_init__(self) -> None:
        for name in ("ratio_gentle", "ratio_steep"):
            v = getattr(self, name)
            if not (0.0 <= v <= 1.0):
                raise ValueError(f"cutoff {name} must lie in 0–1, got {v!r}")
        if not (0.0 <= self.gentle_below_deg < 90.0):
            raise ValueError(f"cutoff gentle_below_deg must lie in 0–90, got {self.gentle_below_deg!r}")
        if self.channel_area_m2 is not None and not (self.channel_area_m2 > 0):
            raise ValueError(f"cutoff channel_area_m2 must be positive or None, got {self.channel_area_m2!r}")


#: The census / LS-TOOL default: 0.7 below a 5 % slope, 0.5 above; no channel map.
CENSUS_CUTOFF: Final = CutoffRule()
#: Only the cap ends a slope.
NO_CUTOFF: Final = CutoffRule(ratio_gentle=0.0, ratio_steep=0.0, channel_area_m2=None)


# --------------------------------------------------------------------------- slope


@numba.njit(cache=True)
def _gradient(z: np.ndarray, r: int, c: int, res_x: float, res_y: float) -> tuple[float, float]:
    """(∂z/∂x east, ∂z/∂y south) of a valid cell by Horn's weights over the available neighbours."""
    rows, cols = z.shape
    gx = 0.0
    wx = 0.0
    gy = 0.0
    wy = 0.0
    for k in range(-1, 2):
        w = 2.0 if k == 0 else 1.0
        rr = r + k  # row r+k: the difference along x from the cells that exist
        if 0 <= rr < rows:
            zl = z[rr, c - 1] if c >= 1 else np.nan
            zm = z[rr, c]
            zr = z[rr, c + 1] if c + 1 < cols else np.nan
            if np.isfinite(zl) and np.isfinite(zr):
                gx += w * (zr - zl) / (2.0 * res_x)
                wx += w
            elif np.isfinite(zr) and np.isfinite(zm):
                gx += w * (zr - zm) / res_x
                wx += w
            elif np.isfinite(zm) and np.isfinite(zl):
                gx += w * (zm - zl) / res_x
                wx += w
        cc = c + k  # column c+k: the difference along y (south − north)
        if 0 <= cc < cols:
            zn = z[r - 1, cc] if r >= 1 else np.nan
            zm = z[r, cc]
            zs = z[r + 1, cc] if r + 1 < rows else np.nan
            if np.isfinite(zn) and np.isfinite(zs):
                gy += w * (zs - zn) / (2.0 * res_y)
                wy += w
            elif np.isfinite(zs) and np.isfinite(zm):
                gy += w * (zs - zm) / res_y
                wy += w
            elif np.isfinite(zm) and np.isfinite(zn):
                gy += w * (zm - zn) / res_y
                wy += w
    if wx > 0:
        gx /= wx
    if wy > 0:
        gy /= wy
    return gx, gy


@numba.njit(cache=True)
def _horn_available(z: np.ndarray, res_x: float, res_y: float, out: np.ndarray) -> None:
    rows, cols = z.shape
    for r in range(rows):
        for c in range(cols):
            if not np.isfinite(z[r, c]):
                out[r, c] = np.nan
                continue
            gx, gy = _gradient(z, r, c, res_x, res_y)
            out[r, c] = np.degrees(np.arctan(np.sqrt(gx * gx + gy * gy)))


def slope_degrees(dem: np.ndarray, res_x: float, res_y: float) -> np.ndarray:
    """Slope θ, degrees (``float32``), of every valid cell: Horn's weights over the available neighbours.

    Horn (1981) averages three central differences per axis with weights 1, 2, 1.  Where a
    neighbour is missing (NaN, or outside the array) the difference of that row (column) is
    taken one-sided from the cells that exist, and rows without any pair drop out of the
    weighted mean — so a plane has the same slope at its edges and next to holes, and every
    valid cell gets a slope (an isolated cell: 0).  NaN cells stay NaN.
    """
    z = np.asarray(dem, dtype=np.float32)
    if z.ndim != 2 or min(z.shape) < 1:
        raise ValueError(f"dem must be a 2-D array, got shape {z.shape}")
    if not (res_x > 0 and res_y > 0):
        raise ValueError(f"cell sizes must be positive, got {res_x}, {res_y}")
    out = np.empty(z.shape, dtype=np.float32)
    _horn_available(np.ascontiguousarray(z), float(res_x), float(res_y), out)
    return out


# --------------------------------------------------------------------------- depressions


@numba.njit(cache=True)
def _priority_flood(z: np.ndarray, state: np.ndarray) -> None:
    """Fill depressions of ``z`` in place (Barnes et al. 2014, Priority-Flood with a pit queue).

    Seeds: valid cells on the array's edge or next to NaN.  ``state`` (uint8, zeros) marks closed cells.
    """
    rows, cols = z.shape
    n = rows * cols
    flat = z.ravel()
    st = state.ravel()
    heap = [(np.float32(0.0), np.int64(0))]
    heap.pop()
    for i in range(n):
        if not np.isfinite(flat[i]):
            st[i] = 1
    for i in range(n):
        if st[i]:
            continue
        r = i // cols
        c = i - r * cols
        seed = r == 0 or c == 0 or r == rows - 1 or c == cols - 1
        if not seed:
            for k in range(8):
                if not np.isfinite(flat[(r + _DR[k]) * cols + c + _DC[k]]):
                    seed = True
                    break
        if seed:
            st[i] = 1
            heapq_push(heap, (flat[i], np.int64(i)))
    pit = [np.int64(0)]
    pit.pop()
    while len(heap) > 0 or len(pit) > 0:
        if len(pit) > 0:
            i = pit.pop()
        else:
            i = heapq_pop(heap)[1]
        zi = flat[i]
        r = i // cols
        c = i - r * cols
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if rr < 0 or cc < 0 or rr >= rows or cc >= cols:
                continue
            j = rr * cols + cc
            if st[j]:
                continue
            st[j] = 1
            if flat[j] <= zi:
                flat[j] = zi
                pit.append(j)
            else:
                heapq_push(heap, (flat[j], j))


def fill_depressions(dem: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Depression-filled DEM (``float32``; NaN = nodata): every cell raised to its spill level.

    Cells on the array's edge and next to nodata are outlets.  ``overwrite=True`` fills a
    ``float32`` C-contiguous input in place (no copy: 4 bytes a cell less for large DEMs).
    """
    z = np.asarray(dem)
    if not (overwrite and z.dtype == np.float32 and z.flags.c_contiguous and z.flags.writeable):
        z = np.array(dem, dtype=np.float32, order="C")
    state = np.zeros(z.shape, dtype=np.uint8)
    _priority_flood(z, state)
    return z


# --------------------------------------------------------------------------- directions


@numba.njit(cache=True)
def _steepest(z: np.ndarray, dist: np.ndarray, res_x: float, res_y: float, out: np.ndarray) -> None:
    rows, cols = z.shape
    for r in range(rows):
        for c in range(cols):
            zc = z[r, c]
            if not np.isfinite(zc):
                out[r, c] = NODATA
                continue
            best = 0.0
            bk = -1
            gx = np.nan
            gy = np.nan
            for k in range(8):
                rr = r + _DR[k]
                cc = c + _DC[k]
                if 0 <= rr < rows and 0 <= cc < cols and np.isfinite(z[rr, cc]):
                    zn = z[rr, cc]
                else:
                    if not np.isfinite(gx):  # outside the DEM: the cell's tangent plane, extrapolated
                        gx, gy = _gradient(z, r, c, res_x, res_y)
                    zn = zc + gx * _DC[k] * res_x + gy * _DR[k] * res_y
                drop = (zc - zn) / dist[k]
                if drop > best:
                    best = drop
                    bk = k
            out[r, c] = bk if bk >= 0 else _FLAT


@numba.njit(cache=True)
def _dijkstra_in_flats(
    z: np.ndarray, out: np.ndarray, d: np.ndarray, flats: np.ndarray, dist: np.ndarray, towards_lower: bool
) -> None:
    """Distances within flats: from the cells next to lower terrain (``towards_lower``) or next to higher terrain.

    ``flats`` are the sorted flat-cell indices; ``d`` (same length) receives the distances (inf: unreachable).
    """
    rows, cols = z.shape
    flat = z.ravel()
    heap = [(np.float64(0.0), np.int64(0))]
    heap.pop()
    for p in range(flats.size):
        i = flats[p]
        r = i // cols
        c = i - r * cols
        zi = flat[i]
        best = np.inf
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if not (0 <= rr < rows and 0 <= cc < cols):
                continue
            zn = flat[rr * cols + cc]
            if not np.isfinite(zn):
                continue
            if towards_lower:
                # a low edge: a non-flat neighbour at the same height that drains to a lower cell of the DEM
                # (not one leaving the DEM by its tangent plane, which a riser next to the flat can tilt)
                if zn == zi and dist[k] < best and not _is_flat(flats, rr * cols + cc) and _drains_inside(out, rr, cc):
                    best = dist[k]
            elif zn > zi:
                best = 0.0
        d[p] = best
        if best < np.inf:
            heapq_push(heap, (np.float64(d[p]), np.int64(p)))
    _relax(flats, d, heap, dist, rows, cols)
    if towards_lower:
        # flats without a lower neighbour anywhere drain out of the DEM at their cells on its edge
        for p in range(flats.size):
            if d[p] < np.inf:
                continue
            i = flats[p]
            r = i // cols
            c = i - r * cols
            for k in range(8):
                rr = r + _DR[k]
                cc = c + _DC[k]
                if not (0 <= rr < rows and 0 <= cc < cols) or not np.isfinite(flat[rr * cols + cc]):
                    d[p] = 0.0
                    heapq_push(heap, (0.0, np.int64(p)))
                    break
        _relax(flats, d, heap, dist, rows, cols)


@numba.njit(cache=True)
def _relax(flats: np.ndarray, d: np.ndarray, heap: list, dist: np.ndarray, rows: int, cols: int) -> None:
    """Dijkstra's loop over the flat cells (8 neighbours at their Euclidean step lengths)."""
    while len(heap) > 0:
        dp, p = heapq_pop(heap)
        if dp > d[p]:
            continue
        i = flats[p]
        r = i // cols
        c = i - r * cols
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if not (0 <= rr < rows and 0 <= cc < cols):
                continue
            q = np.searchsorted(flats, rr * cols + cc)
            if q < flats.size and flats[q] == rr * cols + cc:
                nd = np.float32(dp + dist[k])  # stored as float32: the heap holds the stored value
                if nd < d[q]:
                    d[q] = nd
                    heapq_push(heap, (np.float64(nd), np.int64(q)))


@numba.njit(cache=True)
def _drains_inside(out: np.ndarray, r: int, c: int) -> bool:
    k = out[r, c]
    if k >= 8:
        return False
    rr = r + _DR[k]
    cc = c + _DC[k]
    return 0 <= rr < out.shape[0] and 0 <= cc < out.shape[1] and out[rr, cc] != NODATA


@numba.njit(cache=True)
def _is_flat(flats: np.ndarray, i: np.int64) -> bool:
    q = np.searchsorted(flats, i)
    return q < flats.size and flats[q] == i


@numba.njit(cache=True)
def _drain_flats(
    z: np.ndarray, out: np.ndarray, flats: np.ndarray, d_low: np.ndarray, d_high: np.ndarray, dist: np.ndarray
) -> None:
    """Direction of each flat cell: to a low edge if next to one, else down g = 2·d_low − d_high."""
    rows, cols = z.shape
    flat = z.ravel()
    o = out.ravel()
    for p in range(flats.size):
        i = flats[p]
        if not np.isfinite(d_low[p]):
            o[i] = PIT
            continue
        if d_low[p] == 0.0:  # on the DEM's edge, in a flat with no lower neighbour: flow leaves
            o[i] = OUTLET
            continue
        r = i // cols
        c = i - r * cols
        zi = flat[i]
        hp = d_high[p] if np.isfinite(d_high[p]) else 0.0
        g = 2.0 * d_low[p] - hp
        bk = -1
        best = 0.0
        edge_dist = np.inf
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if not (0 <= rr < rows and 0 <= cc < cols):
                continue
            j = rr * cols + cc
            if flat[j] != zi:
                continue
            q = np.searchsorted(flats, j)
            if q < flats.size and flats[q] == j:
                if edge_dist < np.inf:
                    continue
                hq = d_high[q] if np.isfinite(d_high[q]) else 0.0
                drop = (g - (2.0 * d_low[q] - hq)) / dist[k]
                if drop > best:
                    best = drop
                    bk = k
            elif dist[k] < edge_dist and _drains_inside(out, rr, cc):  # a low edge: leave by the shortest step
                edge_dist = dist[k]
                bk = k
        o[i] = bk if bk >= 0 else PIT


def flow_directions(
    dem: np.ndarray, res_x: float, res_y: float, *, fill: bool = True, overwrite: bool = False
) -> np.ndarray:
    """D8 directions (``uint8`` codes, see the module docstring) of a DEM on a metric grid.

    Steepest descent (drop / distance, diagonals at √(res_x² + res_y²)) on the depression-filled
    DEM; neighbours outside the DEM lie on the cell's tangent plane (its Horn gradient).  Flats
    drain towards lower terrain and away from higher terrain (:func:`_drain_flats`).  With
    ``fill=False`` closed depressions are kept and their bottoms are :data:`PIT` cells.
    ``overwrite=True`` lets a float32 DEM be filled in place (memory: 4 bytes a cell less).
    Memory: the filled DEM (4 B/cell), the codes (1 B/cell) and 16 B per flat cell.
    """
    z = np.asarray(dem)
    if z.ndim != 2:
        raise ValueError(f"dem must be 2-D, got shape {z.shape}")
    if fill:
        z = fill_depressions(z, overwrite=overwrite)
    else:
        z = np.ascontiguousarray(z, dtype=np.float32)
    dist = _distances(res_x, res_y)
    out = np.empty(z.shape, dtype=np.uint8)
    _steepest(z, dist, float(res_x), float(res_y), out)
    flats = np.flatnonzero(out == _FLAT)
    if flats.size:
        d_low = np.empty(flats.size, dtype=np.float32)  # float32: metres to ~0.1 m, steps ≥ one cell
        d_high = np.empty(flats.size, dtype=np.float32)
        _dijkstra_in_flats(z, out, d_low, flats, dist, True)
        _dijkstra_in_flats(z, out, d_high, flats, dist, False)
        _drain_flats(z, out, flats, d_low, d_high, dist)
    return out


def _distances(res_x: float, res_y: float) -> np.ndarray:
    diag = math.hypot(res_x, res_y)
    return np.array([res_x, diag, res_y, diag, res_x, diag, res_y, diag], dtype=np.float64)


# --------------------------------------------------------------------------- channels


@numba.njit(cache=True, inline="always")
def _downstream(d: np.ndarray, i: int, rows: int, cols: int) -> int:
    """Flat index of the cell that flat cell ``i`` drains into, or −1 (an outlet, off the grid, or into nodata)."""
    k = d[i]
    if k >= 8:
        return -1
    r = i // cols + _DR[k]
    c = i % cols + _DC[k]
    if not (0 <= r < rows and 0 <= c < cols):
        return -1
    j = r * cols + c
    return -1 if d[j] == NODATA else j


@numba.njit(cache=True)
def _in_degrees(d: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """How many cells drain into each cell (flat ``d``, nodata cells drain nowhere)."""
    indeg = np.zeros(rows * cols, dtype=np.uint8)
    for i in range(rows * cols):
        if d[i] != NODATA:
            j = _downstream(d, i, rows, cols)
            if j >= 0:
                indeg[j] += 1
    return indeg


@numba.njit(cache=True)
def _upstream_cells(dirs: np.ndarray) -> np.ndarray:
    """Number of cells draining through each cell (itself included), by walking down from the sources."""
    rows, cols = dirs.shape
    n = rows * cols
    d = dirs.ravel()
    count = np.zeros(n, dtype=np.uint32)
    indeg = _in_degrees(d, rows, cols)
    for s in range(n):
        if d[s] == NODATA or indeg[s] != 0 or count[s] != 0:
            continue
        i = s
        while True:
            count[i] += 1
            j = _downstream(d, i, rows, cols)
            if j < 0:
                break
            count[j] += count[i]
            indeg[j] -= 1
            if indeg[j] != 0:
                break
            i = j
    return count.reshape(rows, cols)


def channel_cells(dirs: np.ndarray, res_x: float, res_y: float, channel_area_m2: float) -> np.ndarray:
    """Cells whose upstream area (themselves included) is at least ``channel_area_m2`` (bool)."""
    count = _upstream_cells(np.ascontiguousarray(dirs))
    return count >= np.uint32(math.ceil(channel_area_m2 / (res_x * res_y)))


# --------------------------------------------------------------------------- slope length


@numba.njit(cache=True)
def _walk_lengths(
    dirs: np.ndarray,
    slope: np.ndarray,
    channel: np.ndarray,
    use_channel: bool,
    dist: np.ndarray,
    cap: float,
    ratio_gentle: float,
    ratio_steep: float,
    gentle_deg: float,
    lam_in: np.ndarray,
    lam_out: np.ndarray,
    length: np.ndarray,
) -> None:
    rows, cols = dirs.shape
    n = rows * cols
    d = dirs.ravel()
    sl = slope.ravel()
    ch = channel.ravel()
    li = lam_in.ravel()
    lo = lam_out.ravel()
    ln = length.ravel()
    indeg = _in_degrees(d, rows, cols)
    axis = min(dist[0], dist[2])
    for i in range(n):
        k = d[i]
        li[i] = 0.0
        lo[i] = np.nan
        if k == NODATA:
            li[i] = np.nan
            ln[i] = np.nan
            continue
        ln[i] = dist[k] if k < 8 else axis
    for s in range(n):
        if d[s] == NODATA or indeg[s] != 0:
            continue
        i = s
        while True:
            out = li[i] + ln[i]
            if out > cap:
                out = cap
            lo[i] = out
            indeg[i] = 255  # done
            j = _downstream(d, i, rows, cols)
            if j < 0:
                break
            ratio = ratio_gentle if sl[i] < gentle_deg else ratio_steep
            cut = sl[j] < sl[i] * ratio or (use_channel and ch[j])
            if not cut and out > li[j]:
                li[j] = out
            indeg[j] -= 1
            if indeg[j] != 0:
                break
            i = j


def slope_lengths(
    dirs: np.ndarray,
    slope_deg: np.ndarray,
    res_x: float,
    res_y: float,
    cap_m: float | None = 300.0,
    cutoff: CutoffRule = CENSUS_CUTOFF,
    channel: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(λ_in, λ_out, flow length) of every cell, m (``float64``; NaN on nodata).

    λ_out = min(cap, λ_in + flow length); λ_in = the largest λ_out of the cells draining into
    the cell across no cutoff (0 at a divide or below a cutoff).  ``channel``: the channel cells
    (needed when ``cutoff.channel_area_m2`` is set; see :func:`channel_cells`).
    """
    cap = math.inf if cap_m is None else float(cap_m)
    if not cap > 0:
        raise ValueError(f"cap_m must be positive or None, got {cap_m!r}")
    use_channel = cutoff.channel_area_m2 is not None
    if use_channel and channel is None:
        raise ValueError("the cutoff rule maps channels: pass channel= (see channel_cells)")
    ch = np.ascontiguousarray(channel, dtype=np.bool_) if use_channel else np.zeros((1, 1), dtype=np.bool_)
    shape = dirs.shape
    lam_in, lam_out, length = (np.empty(shape, dtype=np.float64) for _ in range(3))
    _walk_lengths(
        np.ascontiguousarray(dirs),
        np.ascontiguousarray(slope_deg, dtype=np.float32),
        ch,
        use_channel,
        _distances(res_x, res_y),
        cap,
        cutoff.ratio_gentle,
        cutoff.ratio_steep,
        cutoff.gentle_below_deg,
        lam_in,
        lam_out,
        length,
    )
    return lam_in, lam_out, length


def segment_L(lam_in: np.ndarray, length: np.ndarray, slope_deg: np.ndarray, cap_m: float | None = 300.0) -> np.ndarray:
    """L of each cell's slope segment, dimensionless (``float64``).

    L = (λ_out^(m+1) − λ_in^(m+1)) / ((λ_out − λ_in) · 22.13^m) with λ_out = λ_in + flow length,
    m = 0.2 (θ ≤ 1°), 0.3 (≤ 3°), 0.4 (≤ 5°), 0.5 (> 5°).  A cell whose segment would reach
    beyond the cap is given the last segment of a slope of the cap's length
    (λ_in = cap − flow length): no slope is longer than the cap.
    """
    theta = np.asarray(slope_deg, dtype=np.float64)
    m = np.full(theta.shape, 0.5)
    m[theta <= 5.0] = 0.4
    m[theta <= 3.0] = 0.3
    m[theta <= 1.0] = 0.2
    a = np.asarray(lam_in, dtype=np.float64)
    w = np.asarray(length, dtype=np.float64)
    if cap_m is not None:
        a = np.clip(a, 0.0, np.maximum(float(cap_m) - w, 0.0))
    b = a + w
    with np.errstate(invalid="ignore"):
        return (b ** (m + 1) - a ** (m + 1)) / (w * UNIT_PLOT_LENGTH_M**m)


# --------------------------------------------------------------------------- the whole LS, by tiles

#: ``read(row0, col0, row1, col1)`` → float32 elevations (NaN = nodata) of that window.
DemReader = Callable[[int, int, int, int], np.ndarray]


@dataclass
class LsResult:
    """L·S, λ_out (m) and slope (degrees) of every cell (``float32``, NaN on nodata)."""

    ls: np.ndarray
    lambda_m: np.ndarray
    slope_deg: np.ndarray
    tiles: int
    halo_cells: int


def ls_factor_from_dem(
    dem: np.ndarray | DemReader,
    transform: Affine,
    shape: tuple[int, int] | None = None,
    *,
    cap_m: float = 300.0,
    cutoff: CutoffRule = CENSUS_CUTOFF,
    s_method: Literal["csle", "rusle"] = "csle",
    fill: bool = True,
    tile_cells: int | None = None,
    keep: tuple[str, ...] = ("ls", "lambda_m", "slope_deg"),
) -> LsResult:
    """CSLE L·S of every valid cell of a DEM on a north-up metric grid (see the module docstring).

    Parameters
    ----------
    dem : numpy.ndarray or callable
        Elevations, m (NaN = nodata), or a reader ``read(r0, c0, r1, c1)`` of windows (then give
        ``shape``): the DEM is read whole once for routing and again window by window.
    transform : affine.Affine
        North-up georeferencing in metres.
    cap_m : float
        Cap on λ, m.
    cutoff : CutoffRule
        Where slopes end besides the cap (default: the census rule).
    s_method : {"csle", "rusle"}
        S formulas (:func:`swc_raster.csle.slope_steepness_factor`).
    fill : bool
        Fill depressions before routing.
    tile_cells : int, optional
        Side of the square tiles of the λ/LS pass (``None``: one tile).  The result does not
        depend on it.
    keep : tuple of str
        Which arrays to return whole (``"ls"``, ``"lambda_m"``, ``"slope_deg"``); the others are ``None``
        (4 bytes a cell each).

    Memory: routing 5 B/cell (+16 B per flat cell), then 1 B/cell of directions, 4 B/cell per
    kept output and the arrays of one tile with its halo.
    """
    from swc_raster.csle import slope_steepness_factor

    if transform.b != 0 or transform.d != 0:
        raise ValueError("ls_factor_from_dem needs a north-up grid without rotation")
    if not (cap_m and cap_m > 0 and math.isfinite(cap_m)):
        raise ValueError(f"cap_m must be a positive length, got {cap_m!r}")
    res_x, res_y = abs(transform.a), abs(transform.e)
    if callable(dem):
        if shape is None:
            raise ValueError("give shape= with a DEM reader")
        read = dem
        rows, cols = shape
    else:
        arr = np.asarray(dem)
        rows, cols = arr.shape

        def read(r0: int, c0: int, r1: int, c1: int) -> np.ndarray:
            return np.array(arr[r0:r1, c0:c1], dtype=np.float32)

    whole = read(0, 0, rows, cols)
    dirs = flow_directions(whole, res_x, res_y, fill=fill, overwrite=True)
    del whole
    channel = None
    if cutoff.channel_area_m2 is not None:
        channel = channel_cells(dirs, res_x, res_y, cutoff.channel_area_m2)
    out = {
        k: (np.full((rows, cols), np.nan, dtype=np.float32) if k in keep else None)
        for k in ("ls", "lambda_m", "slope_deg")
    }
    halo = int(math.ceil(cap_m / min(res_x, res_y))) + 3
    step = tile_cells or max(rows, cols)
    n_tiles = 0
    for r0 in range(0, rows, step):
        for c0 in range(0, cols, step):
            r1, c1 = min(r0 + step, rows), min(c0 + step, cols)
            wr0, wc0 = max(r0 - halo, 0), max(c0 - halo, 0)
            wr1, wc1 = min(r1 + halo, rows), min(c1 + halo, cols)
            z = read(wr0, wc0, wr1, wc1)
            slope = slope_degrees(z, res_x, res_y)
            del z
            d = dirs[wr0:wr1, wc0:wc1]
            chw = channel[wr0:wr1, wc0:wc1] if channel is not None else None
            lam_in, lam_out, length = slope_lengths(d, slope, res_x, res_y, cap_m, cutoff, chw)
            core = (slice(r0 - wr0, r1 - wr0), slice(c0 - wc0, c1 - wc0))
            s = slope[core]
            L = segment_L(lam_in[core], length[core], s, cap_m)
            if out["ls"] is not None:
                out["ls"][r0:r1, c0:c1] = L * slope_steepness_factor(s.astype(np.float64), s_method)
            if out["lambda_m"] is not None:
                out["lambda_m"][r0:r1, c0:c1] = lam_out[core]
            if out["slope_deg"] is not None:
                out["slope_deg"][r0:r1, c0:c1] = s
            n_tiles += 1
    return LsResult(out["ls"], out["lambda_m"], out["slope_deg"], n_tiles, halo)
